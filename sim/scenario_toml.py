"""Render a resolved scenario back to TOML (for ``twin check`` and calibrated scenarios)."""

from __future__ import annotations

from typing import Any

import tomlkit

from sim.scenario import Scenario


def _plain(value: Any) -> Any:
    """Tuples to lists, drop None (TOML has no null)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def scenario_to_toml(scenario: Scenario) -> str:
    return tomlkit.dumps(_plain(scenario.model_dump(mode="python")))
