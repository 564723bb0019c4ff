"""Charts of a results folder: the evidence a planner shows management, as PNG and SVG.

Charts read only the results folder (manifest, replications, summary, comparison and the order
and time-series datasets), never the model, so any finished or interrupted experiment can be
drawn again later, on any machine. A chart in a slide deck is read by its title, so every title
states the finding in words with its interval (``finding``); the caption says what is drawn,
in which units, with which intervals.

A partial folder (an interrupted experiment: ``complete`` false, no ``summary.csv``) is still
drawn: summaries and comparisons are then computed from the replications finished so far, and
titles say the results are partial. A chart whose data the folder lacks (no time series, one
scenario only) is skipped with a logged reason; a folder that is not a results folder, or a
file that cannot be read, raises ``ResultsReadError`` naming it.

Figures are built on ``matplotlib.figure.Figure`` without pyplot: no global figure registry
and no backend switch, so drawing is headless and does not disturb a caller's own plotting.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from sim.comparison import paired_comparisons
from sim.kpis import KPI_NAMES
from sim.statistics import summarize

log = logging.getLogger(__name__)

# The results-folder contract (README "Running experiments"); names kept here so that charts
# depend on the files on disk, not on the writer's code.
MANIFEST = "manifest.json"
REPLICATIONS = "replications.parquet"
SUMMARY = "summary.csv"
COMPARISON = "comparison.csv"
ORDERS = "orders.parquet"  # a dataset folder: one part per replication
TIMESERIES = "timeseries.parquet"  # a dataset folder: one part per replication

# Okabe-Ito: distinguishable with the common colour-vision deficiencies (as calibration/charts),
# yellow last because it is faint on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
GREY = "#6E6E6E"
LINESTYLES = ("-", "--", "-.", ":")  # lines differ by more than colour (greyscale prints)
DPI = 110
CURRENCY = "EUR"  # scenario files state money in EUR; the manifest carries no currency
SUMMARY_CONFIDENCE = 0.95  # summary.csv intervals (README: 95 % t)
TITLE_CHARS_PER_INCH = 10.5  # bold 10 pt title characters per inch of figure, for wrapping
MAX_LINES = 6  # scenarios drawn as lines on one axes before they become unreadable
MAX_BANDS = 4  # scenarios drawn as bands over time
MAX_SKUS = 3
BAND = (0.05, 0.95)  # quantiles across replications of the time-series bands
ECDF_POINTS = 2000  # steps an ECDF is drawn with at most

KEY_KPIS = (
    "lead_time_mean_days",
    "on_time_rate",
    "satisfaction_rate",
    "first_time_right_rate",
    "crew_utilization",
    "profit",
)
SERVICE_KPIS = ("on_time_rate", "satisfaction_rate")
MONEY_KPIS = ("revenue", "cost", "profit")

KPI_LABELS: dict[str, str] = {
    "orders_created": "orders created",
    "orders_completed": "orders completed",
    "wip_end": "WIP at the end",
    "lead_time_mean_days": "mean lead time",
    "lead_time_p50_days": "median lead time",
    "lead_time_p90_days": "90th-percentile lead time",
    "on_time_rate": "on-time rate",
    "promised_days_mean": "mean promised time",
    "lateness_mean_days": "mean lateness",
    "first_time_right_rate": "first-time-right rate",
    "visits_per_order": "visits per order",
    "material_wait_mean_days": "mean material wait",
    "stockout_share": "stock-out share",
    "crew_utilization": "crew utilisation",
    "inventory_value_mean": "mean inventory value",
    "satisfaction_rate": "satisfaction rate",
    "revenue": "revenue",
    "cost": "cost",
    "profit": "profit",
    # daily series, averaged over the measurement window (charts only)
    "backlog_mean": "mean backlog",
    "wip_mean": "mean WIP",
}

STYLE: dict[str, Any] = {
    "text.parse_math": False,  # scenario and SKU names are user text: "$" stays a dollar sign
    "svg.fonttype": "none",  # SVG text stays text: searchable, accessible, small
    "svg.hashsalt": "delivery-twin",  # stable SVG ids: same folder, same file
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "legend.frameon": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}


class ResultsReadError(Exception):
    """A folder that is not a results folder, or a results file that cannot be read."""


@dataclass(frozen=True)
class Chart:
    """One chart written as PNG and SVG."""

    name: str  # file stem, e.g. "kpi_comparison_lead_time_mean_days"
    title: str  # the finding, in words
    png: Path
    svg: Path
    caption: str  # one sentence: what is shown, units, intervals


# --- units and findings ---------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """How a KPI's numbers read: the factor from stored to shown values and the unit words."""

    scale: float
    level: str  # after a level: "days", "%", "EUR"
    diff: str  # after a difference: "days", "percentage points", "EUR"


_FRACTION = Unit(100.0, "%", "percentage points")


def kpi_label(kpi: str) -> str:
    return KPI_LABELS.get(kpi, kpi.replace("_", " "))


def kpi_unit(kpi: str) -> Unit:
    """Units from the KPI name (units live in the names: ``_days``, ``_rate``...)."""
    if kpi.endswith(("_rate", "_share")) or kpi == "crew_utilization":
        return _FRACTION
    if kpi.endswith("_days") or "_days_" in kpi:  # lead_time_p90_days, promised_days_mean
        return Unit(1.0, "days", "days")
    if kpi in MONEY_KPIS or kpi.startswith("inventory_value"):
        return Unit(1.0, CURRENCY, CURRENCY)
    if kpi.startswith("orders_") or kpi in ("wip_end", "backlog_mean", "wip_mean"):
        return Unit(1.0, "orders", "orders")
    if kpi == "visits_per_order":
        return Unit(1.0, "visits", "visits")
    return Unit(1.0, "", "")


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _float(value: Any) -> float:
    return float(value) if _finite(value) else math.nan


def _truthy(value: Any) -> bool:
    """``significant`` as read back from CSV: bool, numpy bool or the strings True/False."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    try:
        return bool(value) and not pd.isna(value)
    except (TypeError, ValueError):
        return False


def _decimals(values: Sequence[float]) -> int:
    """Shared precision for the numbers of one sentence: none from 1000 up, one decimal from 1,
    two significant digits below (so an interval's ends read alike)."""
    m = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    if m >= 1000:
        return 0
    if m >= 1 or m == 0:
        return 1
    return min(6, 1 - math.floor(math.log10(m)))


def _numbers(values: Sequence[float], unit: Unit, word: str) -> tuple[list[str], str]:
    """Values in display units with a shared precision, and their unit word (millions of
    money read as "million EUR" rather than seven digits)."""
    shown = [v * unit.scale for v in values]
    if word == CURRENCY and max((abs(v) for v in shown if math.isfinite(v)), default=0) >= 1e6:
        shown = [v / 1e6 for v in shown]
        word = f"million {CURRENCY}"
        decimals = max(2, _decimals(shown))
    else:
        decimals = _decimals(shown)
    texts = [f"{v:,.{decimals}f}" for v in shown]
    return [t[1:] if t.startswith("-") and not t.strip("-0.,") else t for t in texts], word


def _with_unit(number: str, word: str) -> str:
    if word == "%":
        return f"{number}%"
    return f"{number} {word}".strip()


def _level(confidence: Any) -> str:
    c = _float(confidence)
    c = SUMMARY_CONFIDENCE if not math.isfinite(c) else c
    return f"{round(c * 100, 1):g}%"


def finding(row: Mapping[str, Any] | pd.Series) -> str:
    """The sentence a chart title states, from a comparison row or a summary row.

    A comparison row (``comparison.csv``: scenario, baseline, kpi, mean_diff, ci_low, ci_high,
    confidence, significant) reads "kit-check cuts mean lead time by 8.9 days vs baseline (95% CI
    8.4-9.4)" when its interval excludes zero and "No clear difference in on-time rate between
    kit-check and baseline (95% CI -2.0 to 3.0 percentage points)" when not. A summary row
    (scenario, kpi, mean, ci_low, ci_high) reads "baseline: mean lead time 14.1 days (95% CI
    13.2-15.0)". Rates are shown in percent (differences in percentage points), money in EUR.
    """
    if "mean_diff" in row:
        return _difference_finding(row)
    if "mean" in row:
        return _level_finding(row)
    raise ValueError(
        "finding() needs a comparison row (mean_diff, ci_low, ci_high...) or a summary row "
        f"(mean, ci_low, ci_high...); got keys {sorted(map(str, row.keys()))}"
    )


def _level_finding(row: Mapping[str, Any] | pd.Series) -> str:
    kpi = str(row["kpi"])
    unit, label = kpi_unit(kpi), kpi_label(kpi)
    scenario = row.get("scenario")
    prefix = f"{scenario}: " if scenario is not None and str(scenario) else ""
    mean, lo, hi = (_float(row.get(k)) for k in ("mean", "ci_low", "ci_high"))
    if not math.isfinite(mean):
        return f"{prefix}{label} not measured (no values)"
    (m, low, high), word = _numbers([mean, lo, hi], unit, unit.level)
    value = _with_unit(m, word)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{prefix}{label} {value} (no interval: fewer than 2 replications)"
    span = _span(low, high, lo, hi) + ("%" if word == "%" else "")
    return f"{prefix}{label} {value} ({_level(row.get('confidence'))} CI {span})"


def _difference_finding(row: Mapping[str, Any] | pd.Series) -> str:
    kpi = str(row["kpi"])
    unit, label = kpi_unit(kpi), kpi_label(kpi)
    scenario, baseline = row["scenario"], row.get("baseline", "the baseline")
    diff, lo, hi = (_float(row.get(k)) for k in ("mean_diff", "ci_low", "ci_high"))
    level = _level(row.get("confidence", row.get("family_confidence")))
    if not math.isfinite(diff):
        return f"{label}: no difference measurable between {scenario} and {baseline}"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        (d,), word = _numbers([diff], unit, unit.diff)
        return (
            f"{scenario} vs {baseline}: {label} differs by {_with_unit(d, word)} "
            "(no interval: fewer than 2 replications)"
        )
    significant = _truthy(row["significant"]) if "significant" in row else lo > 0 or hi < 0
    if significant and diff != 0:
        a, b = (lo, hi) if diff > 0 else (-hi, -lo)  # magnitudes: "cuts by 8.9 (8.4-9.4)"
        (size, low, high), word = _numbers([abs(diff), a, b], unit, unit.diff)
        verb = "raises" if diff > 0 else "cuts"
        return (
            f"{scenario} {verb} {label} by {_with_unit(size, word)} vs {baseline} "
            f"({level} CI {_span(low, high, a, b)})"
        )
    if diff == lo == hi == 0:
        return f"No difference in {label} between {scenario} and {baseline} in any replication"
    return f"No clear difference in {label} between {scenario} and {baseline} {_ci_clause(row)}"


def _ci_clause(row: Mapping[str, Any] | pd.Series) -> str:
    """The interval of a difference with its unit: "(95% CI -1.4 to 0.4 percentage points)"."""
    unit = kpi_unit(str(row["kpi"]))
    lo, hi = _float(row.get("ci_low")), _float(row.get("ci_high"))
    (low, high), word = _numbers([lo, hi], unit, unit.diff)
    level = _level(row.get("confidence", row.get("family_confidence")))
    return f"({level} CI {low} to {_with_unit(high, word)})"


def _span(low: str, high: str, lo: float, hi: float) -> str:
    return f"{low}-{high}" if lo >= 0 and hi >= 0 else f"{low} to {high}"


# --- reading a results folder ---------------------------------------------------------------
@dataclass(frozen=True)
class ResultsData:
    """A results folder as the charts need it; in a partial folder the summary and the
    comparison are computed from the replications finished so far."""

    folder: Path
    manifest: dict[str, Any]
    replications: pd.DataFrame
    summary: pd.DataFrame  # scenario, kpi, mean, ci_low, ci_high, half_width, n
    comparison: pd.DataFrame  # comparison.csv columns; empty with one scenario
    orders: pd.DataFrame | None
    timeseries: pd.DataFrame | None
    scenarios: tuple[str, ...]  # baseline first, then in manifest order
    baseline: str
    complete: bool
    crn: bool  # replication r of every scenario shares its random streams: paired comparisons
    warmup_days: dict[str, float]
    duration_days: dict[str, float]

    def resolved(self, scenario: str) -> dict[str, Any]:
        """The resolved scenario the manifest recorded (empty if it did not)."""
        for entry in _entries(self.manifest):
            if entry.get("name") == scenario:
                resolved = entry.get("resolved")
                return resolved if isinstance(resolved, dict) else {}
        return {}

    def replication_counts(self) -> dict[str, int]:
        counts = self.replications.groupby("scenario").size()
        return {s: int(counts.get(s, 0)) for s in self.scenarios}


def read_results(results_dir: Path) -> ResultsData:
    """Read a results folder; ``ResultsReadError`` names what is missing or unreadable."""
    folder = Path(results_dir)
    if not folder.is_dir():
        raise ResultsReadError(f"{folder}: no such results folder")
    missing = [name for name in (MANIFEST, REPLICATIONS) if not (folder / name).exists()]
    if missing:
        hint = ""
        if MANIFEST not in missing and (folder / "replications.log.jsonl").exists():
            hint = " (the experiment may still be starting; its first rows are only logged)"
        raise ResultsReadError(
            f"{folder} is not a results folder: {' and '.join(missing)} missing{hint}"
        )
    manifest = _read_manifest(folder / MANIFEST)
    replications = _read_replications(folder / REPLICATIONS)
    complete = manifest.get("complete") is True
    identity = manifest.get("identity") if isinstance(manifest.get("identity"), dict) else {}
    crn = identity.get("crn", True) is not False
    kpis = [
        k
        for k in KPI_NAMES
        if k in replications.columns and pd.api.types.is_numeric_dtype(replications[k])
    ]
    comparison_file = _read_csv(folder / COMPARISON, ("scenario", "baseline", "kpi", "mean_diff"))
    manifest_names = [str(e["name"]) for e in _entries(manifest) if "name" in e]
    present = list(pd.unique(replications["scenario"]))
    names = [n for n in manifest_names if n in present] + [
        n for n in present if n not in manifest_names
    ]
    baseline = _baseline(manifest, comparison_file, names)
    scenarios = (baseline, *[n for n in names if n != baseline])

    summary_file = _read_csv(folder / SUMMARY, ("scenario", "kpi", "mean", "ci_low", "ci_high"))
    if summary_file is not None and complete:
        summary = summary_file
    else:
        if summary_file is not None:
            log.info("%s: experiment not complete, ignoring its summary.csv", folder)
        summary = summarize(replications, kpis, SUMMARY_CONFIDENCE)

    comparison = pd.DataFrame()
    if len(scenarios) > 1:
        if comparison_file is not None and complete:
            comparison = comparison_file
        else:
            try:
                comparison = paired_comparisons(
                    replications, kpis, baseline, SUMMARY_CONFIDENCE, crn=crn
                )
            except ValueError as exc:
                raise ResultsReadError(f"{folder / REPLICATIONS}: {exc}") from None

    orders = _read_dataset(
        folder / ORDERS, ("scenario", "replication", "completed_at", "lead_time_days")
    )
    timeseries = _read_dataset(folder / TIMESERIES, None)
    warmup, duration = _windows(manifest, replications, scenarios)
    return ResultsData(
        folder=folder,
        manifest=manifest,
        replications=replications,
        summary=summary,
        comparison=comparison,
        orders=orders,
        timeseries=timeseries,
        scenarios=scenarios,
        baseline=baseline,
        complete=complete,
        crn=crn,
        warmup_days=warmup,
        duration_days=duration,
    )


def _entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's scenario entries (name, hash, warm-up, resolved scenario)."""
    entries = manifest.get("scenarios")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsReadError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ResultsReadError(f"{path}: not a results manifest (a JSON object was expected)")
    return manifest


def _read_replications(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ResultsReadError(f"{path}: not a readable parquet file ({exc})") from None
    lacking = [c for c in ("scenario", "replication") if c not in frame.columns]
    if lacking:
        raise ResultsReadError(f"{path}: lacks column(s) {', '.join(lacking)}")
    if frame.empty:
        raise ResultsReadError(f"{path}: no replications recorded yet")
    return frame.assign(scenario=frame["scenario"].astype(str))


def _read_csv(path: Path, required: Sequence[str]) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        # names are user text: "01", "NA" or "None" must stay the strings they are
        text = {c: str for c in ("scenario", "baseline", "kpi", "method")}
        frame = pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ResultsReadError(f"{path}: not a readable CSV file ({exc})") from None
    lacking = [c for c in required if c not in frame.columns]
    if lacking:
        raise ResultsReadError(f"{path}: lacks column(s) {', '.join(lacking)}")
    return frame.assign(scenario=frame["scenario"].astype(str))


def _read_dataset(path: Path, columns: Sequence[str] | None) -> pd.DataFrame | None:
    """A parquet dataset folder (one part per replication); None when absent or empty."""
    if not path.exists():
        return None
    try:
        dataset = pads.dataset(path, format="parquet")
        wanted = None if columns is None else [c for c in columns if c in dataset.schema.names]
        frame = dataset.to_table(columns=wanted).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ResultsReadError(_dataset_error(path, exc)) from None
    if frame.empty:
        return None
    if "scenario" in frame.columns:
        frame["scenario"] = frame["scenario"].astype(str)
    return frame


def _dataset_error(path: Path, exc: Exception) -> str:
    """Name the part that cannot be read, not only its dataset folder."""
    if path.is_dir():
        for part in sorted(path.iterdir()):
            if part.name.startswith((".", "_")):
                continue  # a writer's temporary file: readers skip it
            try:
                pq.read_metadata(part)
            except (OSError, ValueError, pa.ArrowException) as part_exc:
                return f"{part}: not a readable parquet file ({part_exc})"
    return f"{path}: not a readable parquet dataset ({exc})"


def _baseline(manifest: dict[str, Any], comparison: pd.DataFrame | None, names: list[str]) -> str:
    """The comparison's baseline; the manifest's if it records one; else the first scenario."""
    candidates: list[Any] = []
    if comparison is not None and not comparison.empty:
        candidates.append(str(comparison["baseline"].iloc[0]))
    candidates.append(manifest.get("baseline"))
    for candidate in candidates:
        if candidate in names:
            return str(candidate)
    return names[0]


def _windows(
    manifest: dict[str, Any], replications: pd.DataFrame, scenarios: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Warm-up and run length per scenario: the warm-up the KPIs were measured after."""
    entries = {e.get("name"): e for e in _entries(manifest)}
    report = manifest.get("warmup")
    chosen = report.get("days") if isinstance(report, dict) else None
    warmup: dict[str, float] = {}
    duration: dict[str, float] = {}
    for name in scenarios:
        entry = entries.get(name, {})
        rows = replications.loc[replications["scenario"] == name]
        if "warmup_days" in rows and rows["warmup_days"].notna().any():
            days = float(rows["warmup_days"].dropna().iloc[0])
        elif isinstance(chosen, dict) and _finite(chosen.get(name)):
            days = float(chosen[name])
        elif _finite(chosen):
            days = float(chosen)
        else:
            days = _float(entry.get("warmup_days"))
        warmup[name] = days if math.isfinite(days) else 0.0
        run = (entry.get("resolved") or {}).get("run") or {}
        duration[name] = _float(entry.get("duration_days", run.get("duration_days")))
    return warmup, duration


# --- drawing --------------------------------------------------------------------------------
class _Skip(Exception):
    """A chart the folder has no data for; the reason is logged and the other charts go on."""

    def __init__(self, reason: str, expected: bool = False) -> None:
        super().__init__(reason)
        self.expected = expected  # e.g. one scenario: no comparison (logged at INFO)


@dataclass(frozen=True)
class _Drawn:
    name: str
    title: str
    caption: str
    figure: Figure


def draw_charts(results_dir: Path, out_dir: Path | None = None) -> list[Chart]:
    """Draw every chart the results folder has data for into ``out_dir`` (default
    ``results_dir/charts``); each PNG and SVG appears under its final name only once written."""
    data = read_results(Path(results_dir))
    out = Path(out_dir) if out_dir is not None else Path(results_dir) / "charts"
    out.mkdir(parents=True, exist_ok=True)
    charts: list[Chart] = []
    with mpl.rc_context(STYLE):
        for name, draw in _plan():
            try:
                drawn = draw(data)
            except _Skip as skip:
                level = logging.INFO if skip.expected else logging.WARNING
                log.log(level, "chart %s skipped: %s", name, skip)
                continue
            charts.append(_write(drawn, data, out))
    log.info("%d chart(s) written to %s", len(charts), out)
    return charts


def _plan() -> list[tuple[str, Callable[[ResultsData], _Drawn]]]:
    def kpi_chart(kpi: str) -> Callable[[ResultsData], _Drawn]:
        return lambda data: _kpi_comparison(data, kpi)

    return [
        *[(f"kpi_comparison_{kpi}", kpi_chart(kpi)) for kpi in KEY_KPIS],
        ("forest_vs_baseline", _forest),
        ("lead_time_ecdf", _lead_time_ecdf),
        ("service_rates", _service_rates),
        ("backlog_wip_over_time", _backlog_wip),
        ("crew_utilization", _crew),
        ("stock_vs_reorder_point", _stock),
        ("cost_revenue_profit", _money),
    ]


def _write(drawn: _Drawn, data: ResultsData, out: Path) -> Chart:
    title, caption = drawn.title, drawn.caption
    if not data.complete:
        title += " (partial results)"
        caption = caption.rstrip(".") + "; partial results: the experiment had not finished."
    width = int(drawn.figure.get_figwidth() * TITLE_CHARS_PER_INCH)
    drawn.figure.suptitle(
        textwrap.fill(title, width), x=0.01, ha="left", fontsize=10, fontweight="bold"
    )
    png, svg = out / f"{drawn.name}.png", out / f"{drawn.name}.svg"
    temporary: list[Path] = []
    try:
        for final, fmt, metadata in ((png, "png", None), (svg, "svg", {"Date": None})):
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", dir=out)
            os.close(fd)
            temporary.append(Path(tmp))
            drawn.figure.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
        for tmp, final in zip(temporary, (png, svg), strict=True):
            os.replace(tmp, final)
    finally:
        for tmp in temporary:
            tmp.unlink(missing_ok=True)
    return Chart(name=drawn.name, title=title, png=png, svg=svg, caption=caption)


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False)
    return figure, axes


def _colors(data: ResultsData) -> dict[str, str]:
    """One colour per scenario across all charts, in scenario order (baseline first)."""
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(data.scenarios)}


def _n_text(data: ResultsData) -> str:
    counts = [n for n in data.replication_counts().values() if n]
    lo, hi = min(counts), max(counts)
    if lo == hi:
        return f"{lo} replication{'s' if lo != 1 else ''}"
    return f"{lo}-{hi} replications per scenario"


def _warmup_text(data: ResultsData) -> str:
    days = sorted(set(data.warmup_days.values()))
    if len(days) == 1:
        return f"after a {days[0]:g}-day warm-up"
    return "after each scenario's warm-up"


def _summary_rows(data: ResultsData, kpi: str) -> pd.DataFrame:
    """Summary rows of one KPI indexed by scenario, in scenario order; no rows: skip."""
    rows = data.summary.loc[data.summary["kpi"] == kpi].drop_duplicates("scenario")
    rows = rows.set_index("scenario").reindex(list(data.scenarios))
    rows = rows.loc[rows["mean"].notna()]
    if rows.empty:
        raise _Skip(f"no values of {kpi} in the results")
    return rows


def _comparison_rows(data: ResultsData, kpis: Sequence[str]) -> pd.DataFrame:
    return _usable(data.comparison, kpis)


def _usable(comparison: pd.DataFrame, kpis: Sequence[str]) -> pd.DataFrame:
    """Comparison rows of ``kpis`` with a measured difference."""
    if comparison.empty:
        return comparison
    return comparison.loc[comparison["kpi"].isin(list(kpis)) & comparison["mean_diff"].notna()]


def _headline(data: ResultsData, kpis: Sequence[str]) -> str:
    """The finding of a chart about ``kpis``: the most notable clear difference from the
    baseline, else that there is none; with one scenario, the baseline's level."""
    return _headline_of(data.comparison, data.summary, data.baseline, kpis)


def _headline_of(
    comparison: pd.DataFrame, summary: pd.DataFrame, baseline: str, kpis: Sequence[str]
) -> str:
    rows = _usable(comparison, kpis)
    if not rows.empty:
        significant = rows.loc[rows["significant"].map(_truthy)]
        others = rows["scenario"].nunique()
        if not significant.empty:
            relative = significant["relative_diff"].abs() if "relative_diff" in rows else None
            if relative is None:
                best = significant.iloc[0]
            else:
                # a change from a zero baseline has no relative size: count it as large
                notability = relative.where(relative.notna(), np.inf)
                best = significant.loc[notability.idxmax()]
            text = finding(best)
            if len(kpis) == 1 and others > 1:
                text += f"; {len(significant)} of {others} scenarios differ clearly"
            return text
        if len(rows) == 1:
            return finding(rows.iloc[0])
        labels = [kpi_label(k) for k in kpis if k in set(rows["kpi"])]
        if others == 1 and len(rows) <= 3:
            clauses = [
                f"{kpi_label(str(row['kpi']))} {_ci_clause(row)}" for _, row in rows.iterrows()
            ]
            scenario = rows["scenario"].iloc[0]
            return f"No clear difference between {scenario} and {baseline} in {_join(clauses)}"
        scenarios = f" for any of {others} scenarios" if others > 1 else ""
        return f"No clear difference from {baseline} in {_join(labels)}{scenarios}"
    levels = summary.loc[(summary["scenario"] == baseline) & summary["kpi"].isin(list(kpis))]
    if levels.empty:
        return f"{baseline}: {_join([kpi_label(k) for k in kpis])} not measured"
    order = {k: i for i, k in enumerate(kpis)}
    return finding(levels.assign(_o=levels["kpi"].map(order)).sort_values("_o").iloc[0])


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


def _interval_text() -> str:
    return f"{_level(SUMMARY_CONFIDENCE)} t-interval"


def _axis_word(word: str) -> str:
    return word if word else "value"


def _unit_words(word: str) -> str:
    return "percent" if word == "%" else _axis_word(word)


def _kpi_comparison(data: ResultsData, kpi: str) -> _Drawn:
    rows = _summary_rows(data, kpi)
    unit, label = kpi_unit(kpi), kpi_label(kpi)
    colors = _colors(data)
    figure, axes = _figure(6.4, 1.5 + 0.42 * len(rows))
    ax: Axes = axes[0, 0]
    _dot_whiskers(ax, rows, unit, colors)
    if len(rows) > 1 and data.baseline in rows.index:
        ax.axvline(rows.loc[data.baseline, "mean"] * unit.scale, color=GREY, ls=":", lw=1)
    ax.set_xlabel(f"{label} ({_axis_word(unit.level)})")
    return _Drawn(
        name=f"kpi_comparison_{kpi}",
        title=_headline(data, [kpi]),
        caption=(
            f"{label[0].upper()}{label[1:]} per scenario in {_unit_words(unit.level)}, mean "
            f"over {_n_text(data)} {_warmup_text(data)} with {_interval_text()} whiskers"
            + ("; the dotted line marks the baseline." if len(rows) > 1 else ".")
        ),
        figure=figure,
    )


def _dot_whiskers(ax: Axes, rows: pd.DataFrame, unit: Unit, colors: dict[str, str]) -> None:
    """Means as dots with CI whiskers, one row per scenario (long names fit on the y axis)."""
    for i, (scenario, row) in enumerate(rows.iterrows()):
        mean, lo, hi = (_float(row.get(k)) * unit.scale for k in ("mean", "ci_low", "ci_high"))
        has_ci = math.isfinite(lo) and math.isfinite(hi)
        xerr = [[mean - lo], [hi - mean]] if has_ci else None
        color = colors.get(str(scenario), PALETTE[0])
        ax.errorbar(mean, i, xerr=xerr, fmt="o", color=color, ms=7, lw=2, capsize=4)
        (text,), word = _numbers([mean / unit.scale], unit, unit.level)
        ax.annotate(
            _with_unit(text, word),
            (hi if has_ci else mean, i),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(rows)), [str(s) for s in rows.index])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first scenario (the baseline) on top
    ax.margins(x=0.2)
    ax.grid(axis="x", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)


def _forest(data: ResultsData) -> _Drawn:
    if len(data.scenarios) < 2:
        raise _Skip("one scenario only: nothing to compare with a baseline", expected=True)
    rows = _comparison_rows(data, KEY_KPIS)
    if rows.empty:
        raise _Skip("no comparison of the key KPIs against the baseline")
    kpis = [k for k in KEY_KPIS if k in set(rows["kpi"])]
    others = [s for s in data.scenarios if s in set(rows["scenario"])]
    colors = _colors(data)
    ncols = 2 if len(kpis) > 1 else 1
    nrows = math.ceil(len(kpis) / ncols)
    figure, axes = _figure(
        9.0 if ncols == 2 else 6.0, 0.6 + nrows * (1.0 + 0.38 * len(others)), nrows, ncols
    )
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        unit = kpi_unit(kpi)
        sub = rows.loc[rows["kpi"] == kpi].drop_duplicates("scenario").set_index("scenario")
        sub = sub.reindex(others)
        for i, (scenario, row) in enumerate(sub.iterrows()):
            diff, lo, hi = (
                _float(row.get(k)) * unit.scale for k in ("mean_diff", "ci_low", "ci_high")
            )
            if not math.isfinite(diff):
                continue
            color = colors[str(scenario)]
            clear = _truthy(row.get("significant"))
            xerr = [[diff - lo], [hi - diff]] if math.isfinite(lo) and math.isfinite(hi) else None
            ax.errorbar(
                diff,
                i,
                xerr=xerr,
                fmt="o",
                color=color,
                ms=7,
                lw=2,
                capsize=4,
                mfc=color if clear else "white",
                mew=1.5,
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(others)), others)
        ax.set_ylim(len(others) - 0.5, -0.5)
        ax.set_title(kpi_label(kpi))
        ax.set_xlabel(f"difference ({_axis_word(unit.diff)})")
        if unit.diff == CURRENCY:
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.margins(x=0.15)
        ax.grid(axis="x", color="#E5E5E5", lw=0.6)
        ax.set_axisbelow(True)
    for ax in list(axes.flat)[len(kpis) :]:
        ax.set_visible(False)
    method = str(rows["method"].iloc[0]) if "method" in rows else "paired-t"
    level = _level(rows["confidence"].iloc[0]) if "confidence" in rows else "95%"
    family = _level(rows["family_confidence"].iloc[0]) if "family_confidence" in rows else "95%"
    adjusted = (
        f"{level} intervals, Bonferroni-adjusted to hold jointly at {family}"
        if len(others) > 1
        else f"{level} intervals"
    )
    return _Drawn(
        name="forest_vs_baseline",
        title=_headline(data, kpis),
        caption=(
            f"Mean difference of each scenario from {data.baseline} ({method}, {_n_text(data)}) "
            f"with {adjusted}, rates in percentage points and money in {CURRENCY}; filled dots "
            "mark intervals that exclude zero."
        ),
        figure=figure,
    )


def _completed_lead_times(data: ResultsData) -> dict[str, np.ndarray]:
    """Lead times of orders completed in each scenario's measurement window (as the KPIs)."""
    orders = data.orders
    if orders is None:
        raise _Skip(f"{ORDERS} absent (the experiment ran with --no-orders, or before it)")
    needed = {"scenario", "completed_at", "lead_time_days"}
    if not needed <= set(orders.columns):
        raise _Skip(f"{ORDERS} lacks column(s) {sorted(needed - set(orders.columns))}")
    found: dict[str, np.ndarray] = {}
    for scenario in data.scenarios:
        rows = orders.loc[(orders["scenario"] == scenario) & orders["completed_at"].notna()]
        start = data.warmup_days[scenario] * 24.0
        end = data.duration_days[scenario] * 24.0
        keep = rows["completed_at"] >= start
        if math.isfinite(end):
            keep &= rows["completed_at"] < end
        values = rows.loc[keep, "lead_time_days"].to_numpy(dtype=float)
        values = np.sort(values[np.isfinite(values)])
        if values.size:
            found[scenario] = values
    if not found:
        raise _Skip("no order was completed after the warm-up")
    return found


def _lead_time_ecdf(data: ResultsData) -> _Drawn:
    lead_times = _completed_lead_times(data)
    shown = list(lead_times)[:MAX_LINES]
    colors = _colors(data)
    figure, axes = _figure(6.8, 3.9)
    ax: Axes = axes[0, 0]
    for i, scenario in enumerate(shown):
        values = lead_times[scenario]
        share = np.arange(1, values.size + 1) / values.size
        if values.size > ECDF_POINTS:  # the same curve, without 100k steps in the SVG
            share = np.linspace(0.0, 1.0, ECDF_POINTS + 1)
            values = np.quantile(values, share, method="inverted_cdf")
        style = LINESTYLES[i % len(LINESTYLES)]
        label = f"{scenario} (n={values.size:,})"
        ax.step(values, share, where="post", color=colors[scenario], lw=1.8, ls=style, label=label)
    for q in (0.5, 0.9):
        ax.axhline(q, color=GREY, lw=0.6, ls=":")
    right = max(float(np.quantile(lead_times[s], 0.99)) for s in shown)
    ax.set_xlim(0, right * 1.05 if right > 0 else 1)
    ax.set_ylim(0, 1.01)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("lead time, order created to installed (days)")
    ax.set_ylabel("orders completed within (%)")
    ax.legend(loc="lower right")
    dropped = len(lead_times) - len(shown)
    return _Drawn(
        name="lead_time_ecdf",
        title=_lead_time_finding(data, lead_times),
        caption=(
            "Share of orders completed within a given lead time (days), pooled over "
            f"{_n_text(data)}, orders completed {_warmup_text(data)} only; dotted lines at 50% "
            "and 90%, axis cut at the 99th percentile"
            + (f", {dropped} more scenario(s) not drawn." if dropped else ".")
        ),
        figure=figure,
    )


def _lead_time_finding(data: ResultsData, lead_times: dict[str, np.ndarray]) -> str:
    def q(scenario: str, p: float) -> float:
        return float(np.quantile(lead_times[scenario], p))

    base = data.baseline if data.baseline in lead_times else next(iter(lead_times))
    others = [s for s in lead_times if s != base]
    if not others:
        return (
            f"{base}: half of orders are installed within {q(base, 0.5):.1f} days, "
            f"90% within {q(base, 0.9):.1f} days"
        )
    other = max(others, key=lambda s: abs(q(s, 0.5) - q(base, 0.5)))
    return (
        f"Median lead time {q(other, 0.5):.1f} days in {other} vs {q(base, 0.5):.1f} in {base}; "
        f"90% of orders within {q(other, 0.9):.1f} vs {q(base, 0.9):.1f} days"
    )


def _grouped_bars(
    ax: Axes, data: ResultsData, kpis: Sequence[str], scale: float, label_bars: bool
) -> list[str]:
    """Bars per KPI group, one per scenario, with CI whiskers; returns the KPIs drawn."""
    colors = _colors(data)
    drawn = [k for k in kpis if (data.summary["kpi"] == k).any()]
    width = 0.8 / len(data.scenarios)
    for j, scenario in enumerate(data.scenarios):
        rows = data.summary.loc[data.summary["scenario"] == scenario].drop_duplicates("kpi")
        rows = rows.set_index("kpi").reindex(drawn)
        mean = rows["mean"].to_numpy(dtype=float) * scale
        lo = rows["ci_low"].to_numpy(dtype=float) * scale
        hi = rows["ci_high"].to_numpy(dtype=float) * scale
        err = np.vstack([mean - lo, hi - mean])
        err = np.where(np.isfinite(err), err, 0.0)
        x = np.arange(len(drawn)) + (j - (len(data.scenarios) - 1) / 2) * width
        bars = ax.bar(
            x,
            mean,
            width * 0.92,
            color=colors[scenario],
            label=scenario,
            yerr=err,
            capsize=3,
            error_kw={"lw": 1.2, "ecolor": "#333333"},
        )
        if label_bars:
            ax.bar_label(bars, labels=[_short(v) for v in mean], padding=2, fontsize=7.5)
    ax.set_xticks(np.arange(len(drawn)), [kpi_label(k) for k in drawn])
    ax.axhline(0, color="black", lw=0.8)
    ax.grid(axis="y", color="#E5E5E5", lw=0.6)
    ax.set_axisbelow(True)
    if len(data.scenarios) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return drawn


def _short(value: float) -> str:
    if not math.isfinite(value):
        return ""
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def _service_rates(data: ResultsData) -> _Drawn:
    kpis = [k for k in SERVICE_KPIS if (data.summary["kpi"] == k).any()]
    if not kpis:
        raise _Skip("no on-time or satisfaction rate in the results")
    figure, axes = _figure(6.8, 3.8)
    ax: Axes = axes[0, 0]
    drawn = _grouped_bars(ax, data, kpis, 100.0, label_bars=len(data.scenarios) <= 4)
    ax.set_ylabel("share of orders (%)")
    top = np.nanmax(data.summary.loc[data.summary["kpi"].isin(drawn), "ci_high"]) * 100
    ax.set_ylim(0, max(100.0, float(top) * 1.08 if math.isfinite(top) else 100.0))
    return _Drawn(
        name="service_rates",
        title=_headline(data, drawn),
        caption=(
            "On-time rate (orders installed by their promise date; open orders past it count "
            "late) and satisfaction rate (completed orders with a satisfied customer) per "
            f"scenario in percent, means over {_n_text(data)} {_warmup_text(data)} with "
            f"{_interval_text()} whiskers."
        ),
        figure=figure,
    )


def _timeseries(data: ResultsData, columns: Sequence[str]) -> pd.DataFrame:
    ts = data.timeseries
    if ts is None:
        raise _Skip(f"{TIMESERIES} absent (results written before daily series were kept)")
    needed = {"day", "scenario", *columns}
    if not needed <= set(ts.columns):
        raise _Skip(f"{TIMESERIES} lacks column(s) {sorted(needed - set(ts.columns))}")
    return ts


def _band(frame: pd.DataFrame, column: str, x: str = "day") -> pd.DataFrame:
    """Per day: mean and the 5-95% range across replications."""
    grouped = frame.groupby(x)[column]
    return pd.DataFrame(
        {
            "mean": grouped.mean(),
            "low": grouped.quantile(BAND[0]),
            "high": grouped.quantile(BAND[1]),
        }
    ).sort_index()


def _mark_warmup(ax: Axes, days: float) -> None:
    if days > 0:
        ax.axvspan(0, days, color="#000000", alpha=0.07, lw=0)
        ax.annotate(
            "warm-up",
            (days, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3, -3),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=7.5,
            color=GREY,
        )


def _banded_scenarios(data: ResultsData, ts: pd.DataFrame) -> list[str]:
    present = set(ts["scenario"])
    return [s for s in data.scenarios if s in present][:MAX_BANDS]


def _backlog_wip(data: ResultsData) -> _Drawn:
    ts = _timeseries(data, ("backlog", "wip"))
    shown = _banded_scenarios(data, ts)
    if not shown:
        raise _Skip(f"{TIMESERIES} holds none of the scenarios")
    colors = _colors(data)
    figure, axes = _figure(7.6, 5.4, nrows=2)
    labels = {"backlog": "open orders (backlog)", "wip": "handed-off open orders (WIP)"}
    for ax, column in zip(axes[:, 0], ("backlog", "wip"), strict=True):
        for i, scenario in enumerate(shown):
            band = _band(ts.loc[ts["scenario"] == scenario], column)
            color = colors[scenario]
            ax.fill_between(band.index, band["low"], band["high"], color=color, alpha=0.18, lw=0)
            ax.plot(
                band.index,
                band["mean"],
                color=color,
                lw=1.5,
                ls=LINESTYLES[i % len(LINESTYLES)],
                label=scenario,
            )
        _mark_warmup(ax, max(data.warmup_days[s] for s in shown))
        ax.set_ylabel(f"{labels[column]}\n(orders)")
        ax.set_ylim(bottom=0)
    axes[-1, 0].set_xlabel(_day_axis(data))
    if len(shown) > 1:
        _figure_legend(figure, axes[0, 0])
    dropped = len(data.scenarios) - len(shown)
    return _Drawn(
        name="backlog_wip_over_time",
        title=_series_headline(data, ts, {"backlog_mean": "backlog", "wip_mean": "wip"}),
        caption=(
            "Open orders (backlog) and handed-off open orders (WIP) at each midnight, mean over "
            f"{_n_text(data)} with the 5-95% range across replications shaded; the grey area is "
            "the warm-up, excluded from the KPIs and from the means in the title"
            + (f"; {dropped} more scenario(s) not drawn." if dropped else ".")
        ),
        figure=figure,
    )


def _figure_legend(figure: Figure, ax: Axes, ncols: int = 4) -> None:
    """One legend under the plots: inside, it would hide data on some runs."""
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), ncols))


def _series_headline(data: ResultsData, ts: pd.DataFrame, measures: dict[str, str]) -> str:
    """The finding on daily series: each replication's mean after warm-up is one observation,
    compared with the baseline replication by replication like a KPI."""
    if "replication" not in ts.columns:
        return "Backlog and WIP over time"
    after = ts.loc[ts["day"] >= ts["scenario"].map(data.warmup_days).fillna(0.0)]
    per_rep = (
        after.groupby(["scenario", "replication"])[list(measures.values())]
        .mean()
        .set_axis(list(measures), axis=1)
        .reset_index()
    )
    summary = summarize(per_rep, list(measures), SUMMARY_CONFIDENCE)
    comparison = pd.DataFrame()
    present = [s for s in data.scenarios if s in set(per_rep["scenario"])]
    if len(present) > 1 and data.baseline in present:
        comparison = paired_comparisons(
            per_rep, list(measures), data.baseline, SUMMARY_CONFIDENCE, crn=data.crn
        )
    return _headline_of(comparison, summary, data.baseline, list(measures))


def _day_axis(data: ResultsData) -> str:
    start = (data.resolved(data.baseline).get("run") or {}).get("start_date")
    return f"day since the start ({start})" if start else "day since the start"


def _crew(data: ResultsData) -> _Drawn:
    rows = _summary_rows(data, "crew_utilization")
    colors = _colors(data)
    weekly: pd.DataFrame | None = None
    try:
        ts = _timeseries(data, ("crew_busy_hours", "replication"))
        weekly = _weekly_busy(ts)
    except _Skip as skip:
        log.info("crew chart without busy hours over time: %s", skip)
    ncols = 2 if weekly is not None else 1
    figure, axes = _figure(10.0 if ncols == 2 else 6.4, 1.9 + 0.42 * len(rows), 1, ncols)
    ax: Axes = axes[0, 0]
    for i, (scenario, row) in enumerate(rows.iterrows()):
        mean, lo, hi = (_float(row.get(k)) * 100 for k in ("mean", "ci_low", "ci_high"))
        err = [[mean - lo], [hi - mean]] if math.isfinite(lo) and math.isfinite(hi) else None
        ax.barh(
            i,
            mean,
            0.6,
            color=colors[str(scenario)],
            xerr=err,
            capsize=4,
            error_kw={"lw": 1.2, "ecolor": "#333333"},
        )
        ax.annotate(
            f"{mean:.1f}%",
            (hi if err else mean, i),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(rows)), [str(s) for s in rows.index])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.axvline(100, color=GREY, ls=":", lw=1)
    ax.set_xlim(0, max(110.0, float(np.nanmax(rows["ci_high"].to_numpy(dtype=float))) * 110))
    ax.set_xlabel("crew utilisation: busy share of shift hours (%)")
    ax.set_title("utilisation after warm-up")
    extra = ""
    if weekly is not None:
        right: Axes = axes[0, 1]
        shown = [s for s in data.scenarios if s in set(weekly["scenario"])][:MAX_BANDS]
        for i, scenario in enumerate(shown):
            band = _band(weekly.loc[weekly["scenario"] == scenario], "busy", x="week_start")
            color = colors[scenario]
            right.fill_between(band.index, band["low"], band["high"], color=color, alpha=0.18, lw=0)
            right.plot(
                band.index,
                band["mean"],
                color=color,
                lw=1.5,
                ls=LINESTYLES[i % len(LINESTYLES)],
                label=scenario,
            )
        _mark_warmup(right, max(data.warmup_days[s] for s in shown))
        right.set_ylim(bottom=0)
        right.set_xlabel(_day_axis(data))
        right.set_ylabel("crew-hours busy per week")
        right.set_title("busy hours over time (all crews)")
        if len(shown) > 1:
            _figure_legend(figure, right)
        extra = (
            ", and right, busy crew-hours per full week (mean with the 5-95% range across "
            "replications; grey: warm-up)"
        )
    return _Drawn(
        name="crew_utilization",
        title=_headline(data, ["crew_utilization"]),
        caption=(
            "Left, crew utilisation (busy hours over shift hours, percent) per scenario over "
            f"{_n_text(data)} {_warmup_text(data)} with {_interval_text()} whiskers{extra}."
        ),
        figure=figure,
    )


def _weekly_busy(ts: pd.DataFrame) -> pd.DataFrame:
    """Busy crew-hours per replication and full week (a part-week would read as a dip)."""
    frame = ts.assign(week_start=(ts["day"] // 7) * 7)
    weekly = frame.groupby(["scenario", "replication", "week_start"]).agg(
        busy=("crew_busy_hours", "sum"), days=("day", "size")
    )
    return weekly.loc[weekly["days"] == 7].reset_index()


def _stock(data: ResultsData) -> _Drawn:
    scenario = data.baseline
    skus = [
        s
        for s in (data.resolved(scenario).get("supply") or {}).get("skus") or []
        if isinstance(s, dict) and _finite(s.get("reorder_point"))
    ]
    if not skus:
        raise _Skip(f"the manifest records no SKU reorder points for {scenario}")
    ts = _timeseries(data, ())
    ts = ts.loc[ts["scenario"] == scenario]
    skus = [s for s in skus if f"stock_{s.get('name')}" in ts.columns]
    if ts.empty or not skus:
        raise _Skip(f"{TIMESERIES} holds no stock series of {scenario}")
    warmup = data.warmup_days[scenario]
    measured = ts.loc[ts["day"] >= warmup]
    out_share = {
        str(s["name"]): float((measured[f"stock_{s['name']}"] <= 0).mean())
        if len(measured)
        else 0.0
        for s in skus
    }
    # the SKUs most at risk first; ties keep the scenario's order
    chosen = sorted(skus, key=lambda s: -out_share[str(s["name"])])[:MAX_SKUS]
    figure, axes = _figure(7.6, 1.2 + 2.0 * len(chosen), nrows=len(chosen))
    for ax, sku in zip(axes[:, 0], chosen, strict=True):
        name = str(sku["name"])
        band = _band(ts, f"stock_{name}")
        ax.fill_between(band.index, band["low"], band["high"], color=PALETTE[0], alpha=0.18, lw=0)
        ax.plot(
            band.index, band["mean"], color=PALETTE[0], lw=1.5, label="on hand (mean, 5-95% range)"
        )
        if f"position_{name}" in ts.columns:
            position = ts.groupby("day")[f"position_{name}"].mean().sort_index()
            ax.plot(
                position.index,
                position,
                color=PALETTE[5],
                lw=1.2,
                ls="--",
                label="inventory position (mean)",
            )
        ax.axhline(
            float(sku["reorder_point"]), color=PALETTE[3], lw=1.4, ls=":", label="reorder point"
        )
        if _finite(sku.get("order_up_to")):
            ax.axhline(
                float(sku["order_up_to"]),
                color=PALETTE[2],
                lw=1.0,
                ls="-.",
                label="order-up-to level",
            )
        _mark_warmup(ax, warmup)
        ax.set_ylim(bottom=0)
        policy = sku.get("policy")
        ax.set_title(f"{name} ({policy} policy)" if policy else name)
        ax.set_ylabel("units")
    _figure_legend(figure, axes[0, 0], ncols=2)
    axes[-1, 0].set_xlabel(_day_axis(data))
    worst = str(chosen[0]["name"])
    if out_share[worst] > 0:
        title = (
            f"{scenario}: {worst} is out of stock on {out_share[worst] * 100:.0f}% of days "
            "after warm-up"
        )
    else:
        title = f"{scenario}: no SKU ran out of stock at midnight after warm-up"
    dropped = len(skus) - len(chosen)
    return _Drawn(
        name="stock_vs_reorder_point",
        title=title,
        caption=(
            f"Units on hand at each midnight in {scenario} (mean over {_n_text(data)} with the "
            "5-95% range shaded) and the mean inventory position against the reorder point"
            + (
                f"; the {len(chosen)} SKUs out of stock most often of {len(skus)}."
                if dropped
                else "."
            )
        ),
        figure=figure,
    )


def _money(data: ResultsData) -> _Drawn:
    kpis = [k for k in MONEY_KPIS if (data.summary["kpi"] == k).any()]
    if not kpis:
        raise _Skip("no revenue, cost or profit in the results")
    values = data.summary.loc[data.summary["kpi"].isin(kpis), ["mean", "ci_high"]].abs()
    millions = float(np.nanmax(values.to_numpy(dtype=float))) >= 1e6
    scale = 1e-6 if millions else 1.0
    figure, axes = _figure(7.4, 3.9)
    ax: Axes = axes[0, 0]
    _grouped_bars(ax, data, kpis, scale, label_bars=len(data.scenarios) <= 4)
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{v:,.1f}" if millions else f"{v:,.0f}")
    )
    windows = {data.duration_days[s] - data.warmup_days[s] for s in data.scenarios}
    window = next(iter(windows)) if len(windows) == 1 else math.nan
    span = f"{window:g}-day measurement window" if math.isfinite(window) else "measurement window"
    ax.set_ylabel(f"{'million ' if millions else ''}{CURRENCY} over the {span}")
    return _Drawn(
        name="cost_revenue_profit",
        title=_headline(data, ["profit"] if "profit" in kpis else kpis),
        caption=(
            f"Revenue, cost and profit per scenario in {'million ' if millions else ''}"
            f"{CURRENCY} over the {span} ({_warmup_text(data)}), means over {_n_text(data)} with "
            f"{_interval_text()} whiskers."
        ),
        figure=figure,
    )
