"""Charts of a results folder: every file written and valid, titles that state the numbers of
comparison.csv, findings in words and units, user text shown literally, partial and broken
folders."""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import small_scenario

from sim.charts import (
    KEY_KPIS,
    KPI_LABELS,
    Chart,
    ResultsReadError,
    draw_charts,
    finding,
    kpi_unit,
    read_results,
)
from sim.experiment import ExperimentConfig, run_experiment
from sim.kpis import KPI_NAMES
from sim.results import ResultStore
from sim.scenario import Scenario

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIME_SERIES_CHARTS = {"backlog_wip_over_time", "stock_vs_reorder_point"}
ALL_CHARTS = {
    *(f"kpi_comparison_{kpi}" for kpi in KEY_KPIS),
    "forest_vs_baseline",
    "lead_time_ecdf",
    "service_rates",
    "crew_utilization",
    "cost_revenue_profit",
    *TIME_SERIES_CHARTS,
}


def run_into(folder: Path, *scenarios: Scenario, replications: int) -> Path:
    config = ExperimentConfig(scenarios=scenarios, replications=replications)
    run_experiment(config, store=ResultStore(folder, config.scenarios, config.identity()))
    return folder


def short(**overrides: Any) -> Scenario:
    """Six weeks: enough orders for every chart, quick to run."""
    return small_scenario(run__duration_days=42, run__warmup_days=7, **overrides)


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()  # also proves the SVG is well-formed XML
    return ["".join(e.itertext()) for e in root.iter() if e.tag.endswith("}text")]


def copy_folder(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("charts"))
    return target


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = small_scenario(name="base")
    kit = small_scenario(name="kit-check", dispatch__kit_check=True)
    return run_into(tmp_path_factory.mktemp("charts") / "results", base, kit, replications=3)


@pytest.fixture(scope="module")
def charts(results_dir: Path) -> dict[str, Chart]:
    return {chart.name: chart for chart in draw_charts(results_dir)}


# --- files ----------------------------------------------------------------------------------
def test_every_chart_is_written_as_png_and_svg(results_dir: Path, charts: dict[str, Chart]):
    assert set(charts) == ALL_CHARTS
    out = results_dir / "charts"
    for chart in charts.values():
        assert chart.png == out / f"{chart.name}.png"
        assert chart.svg == out / f"{chart.name}.svg"
        png = chart.png.read_bytes()
        assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000, chart.name
        assert ET.parse(chart.svg).getroot().tag.endswith("svg")
        assert chart.title.strip(), chart.name
        assert chart.caption.endswith(".") and ". " not in chart.caption, chart.caption
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert not leftovers, "temporary files left behind"


def test_svg_titles_are_text_and_carry_the_finding(charts: dict[str, Chart]):
    chart = charts["kpi_comparison_lead_time_mean_days"]
    rendered = " ".join(svg_texts(chart.svg))
    assert " ".join(chart.title.split()[:4]) in rendered


# --- titles state the comparison ------------------------------------------------------------
def shown(value: float, largest: float) -> str:
    """A number as the titles print it, for values between 1 and 1000 or more."""
    return f"{value:,.0f}" if largest >= 1000 else f"{value:,.1f}"


def test_kpi_titles_state_the_comparison_numbers(results_dir: Path, charts: dict[str, Chart]):
    comparison = pd.read_csv(results_dir / "comparison.csv")
    for kpi in KEY_KPIS:
        row = comparison.loc[comparison["kpi"] == kpi].iloc[0]
        title = charts[f"kpi_comparison_{kpi}"].title
        assert title == finding(row)
        scale = kpi_unit(kpi).scale
        diff, lo, hi = (row[k] * scale for k in ("mean_diff", "ci_low", "ci_high"))
        largest = max(abs(diff), abs(lo), abs(hi))
        if row["significant"]:
            assert ("cuts" if diff < 0 else "raises") in title
            if largest >= 1:
                assert f"by {shown(abs(diff), largest)} " in title
        elif diff == lo == hi == 0:
            assert title.startswith("No difference in ")
        else:
            assert title.startswith("No clear difference in ")
            if largest >= 1:
                assert f"CI {shown(lo, largest)} to {shown(hi, largest)}" in title


def test_summary_titles_pick_a_clear_difference(results_dir: Path, charts: dict[str, Chart]):
    comparison = pd.read_csv(results_dir / "comparison.csv")
    key = comparison.loc[comparison["kpi"].isin(KEY_KPIS)]
    clear = {finding(row) for _, row in key.loc[key["significant"]].iterrows()}
    forest = charts["forest_vs_baseline"].title
    assert forest in clear if clear else forest.startswith("No clear difference")
    profit = comparison.loc[comparison["kpi"] == "profit"].iloc[0]
    assert charts["cost_revenue_profit"].title == finding(profit)
    utilisation = comparison.loc[comparison["kpi"] == "crew_utilization"].iloc[0]
    assert charts["crew_utilization"].title == finding(utilisation)


# --- finding() ------------------------------------------------------------------------------
def difference(kpi: str, diff: float, lo: float, hi: float, **extra: Any) -> dict[str, Any]:
    row = {
        "scenario": "kit-check",
        "baseline": "baseline",
        "kpi": kpi,
        "mean_diff": diff,
        "ci_low": lo,
        "ci_high": hi,
        "confidence": 0.95,
        "significant": lo > 0 or hi < 0,
    }
    return {**row, **extra}


def test_finding_significant_difference() -> None:
    row = difference("lead_time_mean_days", -8.9, -9.4, -8.4, scenario="Kit check")
    assert finding(row) == "Kit check cuts mean lead time by 8.9 days vs baseline (95% CI 8.4-9.4)"
    row = difference("first_time_right_rate", 0.081, 0.030, 0.132)
    assert finding(row) == (
        "kit-check raises first-time-right rate by 8.1 percentage points vs baseline "
        "(95% CI 3.0-13.2)"
    )


def test_finding_no_clear_difference() -> None:
    row = difference("on_time_rate", 0.005, -0.02, 0.03)
    assert finding(row) == (
        "No clear difference in on-time rate between kit-check and baseline "
        "(95% CI -2.0 to 3.0 percentage points)"
    )
    assert finding(difference("on_time_rate", 0.0, 0.0, 0.0)).startswith("No difference in")


def test_finding_single_scenario_level() -> None:
    row = {
        "scenario": "Baseline",
        "kpi": "lead_time_mean_days",
        "mean": 14.1,
        "ci_low": 13.2,
        "ci_high": 15.0,
        "n": 10,
    }
    assert finding(row) == "Baseline: mean lead time 14.1 days (95% CI 13.2-15.0)"
    rate = {
        "scenario": "baseline",
        "kpi": "on_time_rate",
        "mean": 0.023,
        "ci_low": 0.008,
        "ci_high": 0.038,
    }
    assert finding(rate) == "baseline: on-time rate 2.3% (95% CI 0.8-3.8%)"


def test_finding_units_of_money_and_counts() -> None:
    profit = difference("profit", 19_324.4, 5_012.0, 33_636.9)
    assert finding(profit) == (
        "kit-check raises profit by 19,324 EUR vs baseline (95% CI 5,012-33,637)"
    )
    revenue = {
        "scenario": "baseline",
        "kpi": "revenue",
        "mean": 7_437_626.0,
        "ci_low": 7_177_190.0,
        "ci_high": 7_698_062.0,
    }
    assert finding(revenue) == "baseline: revenue 7.44 million EUR (95% CI 7.18-7.70)"
    wip = difference("wip_end", -12.0, -20.0, -4.0)
    assert (
        finding(wip) == "kit-check cuts WIP at the end by 12.0 orders vs baseline (95% CI 4.0-20.0)"
    )


def test_finding_states_the_interval_level_and_its_absence() -> None:
    bonferroni = difference("crew_utilization", -0.022, -0.037, -0.008, confidence=0.975)
    assert "by 2.2 percentage points" in finding(bonferroni)
    assert "(97.5% CI 0.8-3.7)" in finding(bonferroni)
    one_pair = difference("lead_time_mean_days", 1.5, math.nan, math.nan)
    assert "no interval" in finding(one_pair)
    one_rep = {
        "scenario": "b",
        "kpi": "profit",
        "mean": 10.0,
        "ci_low": math.nan,
        "ci_high": math.nan,
    }
    assert "no interval" in finding(one_rep)


def test_finding_reads_rows_as_stored() -> None:
    row = difference("lead_time_mean_days", -8.9, -9.4, -8.4)
    assert finding(pd.Series(row)) == finding(row)
    assert finding({**row, "significant": "True"}) == finding(row)  # a CSV read as text
    with pytest.raises(ValueError, match="comparison row"):
        finding({"kpi": "profit"})


def test_every_kpi_has_a_label_and_a_unit() -> None:
    for kpi in KPI_NAMES:
        assert kpi in KPI_LABELS
        assert kpi_unit(kpi).level, kpi
    assert kpi_unit("on_time_rate").diff == "percentage points"
    assert kpi_unit("lead_time_p90_days").level == "days"
    assert kpi_unit("cost").level == "EUR"


# --- user text, one scenario ----------------------------------------------------------------
def test_names_with_dollars_and_markup_are_shown_literally(tmp_path: Path) -> None:
    names = ("Base $x$ <b>", "<b>kit</b> $5 & more")
    folder = run_into(
        tmp_path / "odd",
        short(name=names[0]),
        short(name=names[1], dispatch__kit_check=True),
        replications=2,
    )
    charts = {chart.name: chart for chart in draw_charts(folder)}
    assert set(charts) == ALL_CHARTS
    for path in (folder / "charts").iterdir():
        assert re.fullmatch(r"[a-z0-9_]+\.(png|svg)", path.name), path.name
    texts = svg_texts(charts["kpi_comparison_lead_time_mean_days"].svg)
    assert names[0] in texts and names[1] in texts  # not mathtext, not markup
    assert all(names[0] in chart.title for chart in charts.values() if " vs " in chart.title)


def test_single_scenario_states_levels(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = run_into(tmp_path / "one", short(name="solo"), replications=2)
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="sim.charts"):
        charts = {chart.name: chart for chart in draw_charts(folder, out)}
    assert set(charts) == ALL_CHARTS - {"forest_vs_baseline"}
    assert "one scenario only" in caplog.text
    assert all(chart.png.parent == out for chart in charts.values())
    summary = pd.read_csv(folder / "summary.csv")
    row = summary.loc[summary["kpi"] == "lead_time_mean_days"].iloc[0]
    title = charts["kpi_comparison_lead_time_mean_days"].title
    assert title == finding(row)
    assert title.startswith(f"solo: mean lead time {row['mean']:.1f} days (95% CI ")


# --- broken and partial folders -------------------------------------------------------------
def test_a_folder_that_is_not_a_results_folder(tmp_path: Path) -> None:
    with pytest.raises(ResultsReadError, match="no such results folder"):
        draw_charts(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ResultsReadError, match=r"manifest\.json and replications\.parquet"):
        draw_charts(empty)
    (empty / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ResultsReadError, match=r"replications\.parquet missing"):
        draw_charts(empty)


@pytest.mark.parametrize(
    "damaged",
    [
        "manifest.json",
        "replications.parquet",
        "summary.csv",
        "orders.parquet",
        "timeseries.parquet",
    ],
)
def test_a_corrupt_file_is_named(results_dir: Path, tmp_path: Path, damaged: str) -> None:
    folder = copy_folder(results_dir, tmp_path)
    target = folder / damaged
    if target.is_dir():  # a dataset: break one replication's part
        target = sorted(target.iterdir())[-1]
    target.write_bytes(b"\x00\x01 not what it claims {")
    with pytest.raises(ResultsReadError, match=re.escape(target.name)):
        read_results(folder)


def test_a_partial_folder_still_draws(
    results_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = copy_folder(results_dir, tmp_path)
    (folder / "summary.csv").unlink()
    (folder / "comparison.csv").unlink()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (folder / "manifest.json").write_text(
        json.dumps({**manifest, "complete": False, "ended_at": None}), encoding="utf-8"
    )
    reps = pd.read_parquet(folder / "replications.parquet")
    unfinished = (reps["scenario"] == "kit-check") & (reps["replication"] == 2)
    reps.loc[~unfinished].to_parquet(folder / "replications.parquet", index=False)
    shutil.rmtree(folder / "timeseries.parquet")  # as written before time series were kept

    data = read_results(folder)
    complete = pd.read_csv(results_dir / "summary.csv").set_index(["scenario", "kpi"])
    base = data.summary.loc[data.summary["scenario"] == "base"].set_index(["scenario", "kpi"])
    pd.testing.assert_series_equal(base["mean"], complete.loc[base.index, "mean"])
    assert set(data.comparison["n_pairs"]) == {2}

    with caplog.at_level(logging.WARNING, logger="sim.charts"):
        charts = draw_charts(folder)
    assert {c.name for c in charts} == ALL_CHARTS - TIME_SERIES_CHARTS
    assert "timeseries.parquet absent" in caplog.text
    assert all(c.title.endswith("(partial results)") for c in charts)
    assert all("partial results" in c.caption for c in charts)
