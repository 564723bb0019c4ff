"""Render a resolved scenario back to TOML (for ``twin check`` and calibrated scenarios)."""

from __future__ import annotations

import tomlkit

from sim.scenario import Scenario, plain_data


def scenario_to_toml(scenario: Scenario) -> str:
    return tomlkit.dumps(plain_data(scenario.model_dump(mode="python"), drop_none=True))
