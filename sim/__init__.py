"""Delivery Twin: a discrete-event digital twin of an order-to-installation business.

The public entry points are :func:`simulate` (a pure function of scenario and seed) and
:func:`load_scenario` (TOML files with ``extends`` overlays, validated into frozen objects).
"""

from sim.model import RunResult, simulate
from sim.scenario import Scenario
from sim.scenario_files import ScenarioError, load_scenario

__all__ = ["RunResult", "Scenario", "ScenarioError", "load_scenario", "simulate"]
__version__ = "0.1.0"
