"""The experiment layer: CRN, warm-up, precision rounds, comparisons, selection, executors."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import small_scenario

from sim.executors import ProcessExecutor, SerialExecutor
from sim.experiment import (
    ExperimentConfig,
    ExperimentError,
    Precision,
    Selection,
    run_experiment,
    scenario_seed,
)
from sim.kpis import KPI_NAMES
from sim.results import ResultStore
from sim.sweep import apply_overrides


def two_scenarios():
    return (
        small_scenario(name="base"),
        small_scenario(name="kit", dispatch__kit_check=True, supply__reserve_at="handoff"),
    )


def test_replications_table_and_summary() -> None:
    config = ExperimentConfig(scenarios=two_scenarios(), replications=4, base_seed=3)
    result = run_experiment(config)
    table = result.replications
    assert list(table["scenario"]) == ["base"] * 4 + ["kit"] * 4
    assert list(table["replication"]) == [0, 1, 2, 3] * 2
    assert set(KPI_NAMES) <= set(table.columns)
    assert (table["seed"] == 3).all()  # CRN: one base seed for every scenario
    row = result.summary.set_index(["scenario", "kpi"]).loc[("kit", "lead_time_mean_days")]
    assert row["n"] == 4
    assert row["mean"] == pytest.approx(
        table.loc[table["scenario"] == "kit", "lead_time_mean_days"].mean()
    )
    assert set(result.comparison["scenario"]) == {"kit"}
    assert (result.comparison["method"] == "paired-t").all()


def test_independent_streams_use_other_seeds_and_welch() -> None:
    config = ExperimentConfig(scenarios=two_scenarios(), replications=3, base_seed=3, crn=False)
    result = run_experiment(config)
    seeds = result.replications.groupby("scenario")["seed"].first()
    assert seeds["base"] != seeds["kit"]
    assert seeds["base"] == scenario_seed(3, "base", crn=False)
    assert (result.comparison["method"] == "welch").all()


@pytest.mark.slow
def test_crn_narrows_the_interval_of_a_difference(baseline, capsys) -> None:
    """Baseline vs a kit-check overlay: the paired difference under CRN varies less than the
    difference of independent runs; prints the variance-reduction ratio."""
    short = apply_overrides(baseline, {"run.duration_days": 200.0}, "baseline")
    policy = apply_overrides(
        short, {"dispatch.kit_check": True, "supply.reserve_at": "handoff"}, "kit-check"
    )
    kpi = "lead_time_mean_days"
    crn = run_experiment(ExperimentConfig((short, policy), replications=20, base_seed=8))
    independent = run_experiment(
        ExperimentConfig((short, policy), replications=20, base_seed=8, crn=False)
    )
    paired = crn.comparison.set_index("kpi").loc[kpi]
    welch = independent.comparison.set_index("kpi").loc[kpi]
    ratio = (welch["half_width"] / paired["half_width"]) ** 2
    with capsys.disabled():
        print(
            f"\nCRN on {kpi}: correlation {paired['correlation']:.2f}, half-width "
            f"{paired['half_width']:.3f} vs {welch['half_width']:.3f} independent, "
            f"variance-reduction ratio {ratio:.2f} (in-sample {paired['variance_reduction']:.2f})"
        )
    assert paired["correlation"] > 0.3
    assert paired["half_width"] < welch["half_width"]
    assert paired["variance_reduction"] > 1.5


def test_fixed_warmup_changes_the_window() -> None:
    scenarios = (small_scenario(name="base"),)
    default = run_experiment(ExperimentConfig(scenarios, replications=2))
    later = run_experiment(ExperimentConfig(scenarios, replications=2, warmup=40.0))
    assert (default.replications["warmup_days"] == 14).all()
    assert (later.replications["warmup_days"] == 40).all()
    assert (later.replications["orders_created"] < default.replications["orders_created"]).all()


def test_auto_warmup_is_detected_and_reported(tmp_path) -> None:
    scenarios = two_scenarios()
    store = ResultStore(tmp_path, scenarios, {"id": 1})
    result = run_experiment(ExperimentConfig(scenarios, replications=3, warmup="auto"), store=store)
    report = result.warmup_report
    assert report["method"] == "mser-5"
    assert report["days"] % 5 == 0 and 0 <= report["days"] <= 35
    assert (result.replications["warmup_days"] == report["days"]).all()
    import json

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["warmup"]["method"] == "mser-5"
    assert manifest["warmup"]["days"] == report["days"]


def test_precision_rounds_add_replications_until_the_target() -> None:
    scenarios = (small_scenario(name="base"),)
    target = Precision(relative=0.04, kpis=("lead_time_mean_days",), max_replications=60)
    result = run_experiment(ExperimentConfig(scenarios, replications=3, precision=target))
    status = result.precision_report.set_index("kpi").loc["lead_time_mean_days"]
    n = len(result.replications)
    assert n > 3
    assert status["met"] or n == 60
    if status["met"]:
        assert status["half_width"] <= 0.04 * abs(status["mean"])


def test_precision_budget_stops_the_rounds() -> None:
    scenarios = (small_scenario(name="base"),)
    target = Precision(relative=1e-6, kpis=("lead_time_mean_days",), max_replications=6)
    result = run_experiment(ExperimentConfig(scenarios, replications=3, precision=target))
    assert len(result.replications) == 6
    assert not result.precision_report["met"].all()


def test_kim_nelson_selects_the_clear_winner() -> None:
    scenarios = (
        small_scenario(name="few-crews"),
        small_scenario(
            name="more-crews",
            dispatch__crews=[
                {"name": "e", "home_region": "east", "count": 3},
                {"name": "w", "home_region": "west", "count": 3},
            ],
        ),
    )
    selection = Selection(kpi="lead_time_mean_days", maximize=False, delta=0.5, n0=10)
    result = run_experiment(ExperimentConfig(scenarios, replications=2, selection=selection))
    assert result.selection is not None
    assert result.selection.best == "more-crews"
    assert min(result.selection.replications.values()) >= 10


def test_serial_and_process_executors_give_identical_tables() -> None:
    config = ExperimentConfig(scenarios=two_scenarios(), replications=4, base_seed=21)
    serial = run_experiment(config, SerialExecutor()).replications
    pool = ProcessExecutor(workers=2)
    try:
        parallel = run_experiment(config, pool).replications
    finally:
        pool.close()
    pd.testing.assert_frame_equal(serial, parallel)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_tables() -> None:
    pytest.importorskip("distributed")
    from sim.executors import DaskExecutor

    config = ExperimentConfig(scenarios=two_scenarios(), replications=3, base_seed=21)
    serial = run_experiment(config, SerialExecutor()).replications
    dask = DaskExecutor("local", workers=2)
    try:
        assert dask.workers == 2
        clustered = run_experiment(config, dask).replications
    finally:
        dask.close()
    pd.testing.assert_frame_equal(serial, clustered)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"baseline": "nope"}, "baseline 'nope' is not among"),
        ({"precision": Precision(0.05, ("lead_time",))}, "unknown KPI name(s) 'lead_time'"),
        ({"warmup": 500.0}, "does not fit scenario"),
        ({"replications": 1}, "at least 2 replications"),
    ],
)
def test_bad_configurations_are_refused(kwargs, fragment) -> None:
    with pytest.raises(ExperimentError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        run_experiment(ExperimentConfig(two_scenarios(), **kwargs))


def test_duplicate_scenario_names_are_refused() -> None:
    twice = (small_scenario(name="same"), small_scenario(name="same"))
    with pytest.raises(ExperimentError, match="duplicated: same"):
        run_experiment(ExperimentConfig(twice))


def test_crn_correlations_are_reported() -> None:
    result = run_experiment(ExperimentConfig(two_scenarios(), replications=5))
    corr = result.correlations
    assert {"kpi", "correlation"} <= set(corr.columns)
    created = corr[corr["kpi"] == "orders_created"]
    assert len(created) == 1
    # Shared arrival streams: only referrals (which follow satisfaction) differ.
    assert created["correlation"].iloc[0] > 0.9
