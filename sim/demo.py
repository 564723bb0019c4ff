"""``twin demo``: the whole product on the bundled sample, in about a minute.

From the bundled two-year sample history it calibrates a baseline, applies every policy overlay
in ``scenarios/policies/`` (each alone, and the full delivery programme) to it, compares them
all with the calibrated baseline under common random numbers, runs a one-at-a-time
sensitivity of the programme's assumptions, and writes the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from calibration.calibrate import calibrate
from calibration.report import write_calibration_report
from calibration.sample import HISTORY_DIR
from calibration.scenario_writer import write_scenario
from sim.executors import Executor
from sim.experiment import ExperimentConfig, ExperimentResult, Progress, run_experiment
from sim.report import ReportOutcome, write_report
from sim.results import ResultStore
from sim.scenario import Scenario
from sim.scenario_files import apply_overlay, load_scenario
from sim.sensitivity import run_sensitivity

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
#: the policies of the case, each alone, then the programme that combines them
DEMO_POLICIES = (
    "committee",
    "platform",
    "voice_of_customer",
    "shared_kpi",
    "lean_approvals",
    "forecast_capacity",
    "delivery_programme",
)


@dataclass
class DemoOutcome:
    calibrated: Path
    calibration_report: Path
    experiment: ExperimentResult
    report: ReportOutcome


def demo_scenarios(calibrated: Scenario, policies_dir: Path) -> list[Scenario]:
    scenarios = [calibrated]
    for stem in DEMO_POLICIES:
        path = policies_dir / f"{stem}.toml"
        if not path.exists():
            log.warning("policy overlay %s not found; left out of the demo", path)
            continue
        scenarios.append(apply_overlay(calibrated, path))
    return scenarios


def run_demo(
    out: Path,
    replications: int = 10,
    executor: Executor | None = None,
    progress: Progress | None = None,
    seed: int = 2026,
    sensitivity_replications: int = 4,
) -> DemoOutcome:
    template = load_scenario(SCENARIOS / "baseline.toml")
    calibration = calibrate(
        HISTORY_DIR, template=template, name="calibrated-baseline",
        template_label="scenarios/baseline.toml",
    )  # fmt: skip
    calibrated_path = out / "calibrated.toml"
    write_scenario(calibration, calibrated_path, "the bundled sample history")
    calibration_report = write_calibration_report(
        calibration, out / "calibration", "the bundled sample history"
    )
    scenarios = demo_scenarios(calibration.scenario, SCENARIOS / "policies")
    config = ExperimentConfig(tuple(scenarios), replications=replications, base_seed=seed)
    store = ResultStore(out, scenarios, config.identity())
    store.extra["demo"] = {"calibrated_from": "calibration/sample/history"}
    result = run_experiment(config, executor, store, progress)
    bundle_path = SCENARIOS / "policies" / "delivery_programme.toml"
    bundle = next((s for s in scenarios if s.name == "delivery-programme"), None)
    if bundle is not None and sensitivity_replications > 0:
        sensitivity = run_sensitivity(
            bundle, bundle_path, sensitivity_replications, executor, progress, seed
        )
        store.write_frame("sensitivity.csv", sensitivity.table)
    report = write_report(out)
    return DemoOutcome(calibrated_path, calibration_report, result, report)
