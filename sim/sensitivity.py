"""Which assumptions matter: one-at-a-time sensitivity of a policy bundle.

Every numeric parameter that the policy overlays themselves set (not the baseline they extend)
is an assumption. Each is moved to 50 % and 150 % of its value, one at a time, and the bundle is
re-run under common random numbers; the spread of a KPI across the two runs ranks the
assumptions (a tornado chart). Variants the schema rejects (e.g. a probability above 1) are
recorded as skipped, never silently dropped.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.executors import Executor
from sim.experiment import ExperimentConfig, Progress, run_experiment
from sim.scenario import Scenario
from sim.scenario_files import ScenarioError, resolve_file
from sim.sweep import SweepError, apply_overrides

log = logging.getLogger(__name__)
#: where and when a meeting happens is not an effect size
NOT_ASSUMPTIONS = ("meeting_hour", "planning_hour", "start_day")
SENSITIVITY_KPIS = ("on_time_rate", "lead_time_mean_days")
FACTORS = (0.5, 1.5)


@dataclass
class SensitivityResult:
    table: pd.DataFrame  # parameter, value, low_value, high_value, kpi, bundle, low, high, swing
    skipped: list[str]


def assumed_parameters(overlay: Path) -> dict[str, float]:
    """Numeric keys set by the overlay's own files (not by the root scenario it extends)."""
    resolved = resolve_file(overlay)
    roots = {f for f in resolved.origins.values() if f not in resolved.ancestors}
    found: dict[str, float] = {}
    for key, origin in resolved.origins.items():
        if origin in roots or key[-1] in NOT_ASSUMPTIONS:
            continue
        value: Any = resolved.data
        for part in key:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value != 0:
            found[".".join(key)] = value
    return found


def _scaled(value: float, factor: float) -> float:
    scaled = value * factor
    return math.floor(scaled + 0.5) if isinstance(value, int) else scaled


def run_sensitivity(
    bundle: Scenario,
    overlay: Path,
    replications: int = 5,
    executor: Executor | None = None,
    progress: Progress | None = None,
    seed: int = 2027,
) -> SensitivityResult:
    params = assumed_parameters(overlay)
    variants: list[Scenario] = [bundle]
    meta: dict[str, tuple[str, float, float]] = {}
    skipped: list[str] = []
    for path, value in params.items():
        for factor in FACTORS:
            new = _scaled(value, factor)
            name = f"{path}x{factor:g}"
            try:
                variants.append(apply_overrides(bundle, {path: new}, name))
            except (SweepError, ScenarioError) as exc:
                skipped.append(f"{path} = {new:g} ({factor:.0%}): {exc}")
                continue
            meta[name] = (path, factor, new)
    config = ExperimentConfig(tuple(variants), replications=replications, base_seed=seed,
                              keep_orders=False)  # fmt: skip
    result = run_experiment(config, executor, None, progress)
    means = result.replications.groupby("scenario")[list(SENSITIVITY_KPIS)].mean()
    rows = []
    for path, value in params.items():
        for kpi in SENSITIVITY_KPIS:
            row: dict[str, Any] = {"parameter": path, "value": value, "kpi": kpi,
                                   "bundle": float(means.loc[bundle.name, kpi])}  # fmt: skip
            for factor, label in zip(FACTORS, ("low", "high"), strict=True):
                name = f"{path}x{factor:g}"
                row[f"{label}_value"] = meta[name][2] if name in meta else math.nan
                row[label] = float(means.loc[name, kpi]) if name in meta else math.nan
            row["swing"] = abs(row["high"] - row["low"]) if not math.isnan(
                row["high"] - row["low"]) else math.nan  # fmt: skip
            rows.append(row)
    table = pd.DataFrame(rows).sort_values(["kpi", "swing"], ascending=[True, False])
    for line in skipped:
        log.warning("sensitivity variant skipped: %s", line)
    return SensitivityResult(table.reset_index(drop=True), skipped)
