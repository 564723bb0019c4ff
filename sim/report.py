"""The management report: one self-contained HTML page per results folder.

It reads the results folder only (never the model): an executive summary first (which scenario
is best on which KPI, by how much, how sure), the charts, what each scenario changes against the
baseline, and a methods section in the spirit of the STRESS-DES checklist. Every piece of
user-supplied text (scenario names, descriptions, keys) is escaped.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.charts import Chart, ResultsReadError, draw_charts
from sim.results import atomic_write_text
from sim.statistics import summarize
from sim.streams import STREAM_IDS

log = logging.getLogger(__name__)

#: KPIs in the executive summary, with the direction that is better
HEADLINE_KPIS: dict[str, str] = {
    "lead_time_mean_days": "lower",
    "on_time_rate": "higher",
    "satisfaction_rate": "higher",
    "first_time_right_rate": "higher",
    "profit": "higher",
    "cost": "lower",
}
UNITS = {"_days": "days", "_rate": "share", "profit": "EUR", "cost": "EUR", "revenue": "EUR"}

STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;max-width:1050px;margin:2em auto;
color:#1d1d1d;padding:0 1em;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em} h2{border-bottom:2px solid #0072B2;padding-bottom:.15em;
margin-top:1.8em} table{border-collapse:collapse;margin:.6em 0;font-size:.93em}
td,th{border:1px solid #c8c8c8;padding:.25em .6em;text-align:right;vertical-align:top}
td:first-child,th:first-child{text-align:left} th{background:#f2f5f8}
.partial{background:#fff3cd;border:1px solid #e0b100;padding:.6em 1em;margin:1em 0}
figure{margin:1.2em 0} figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em} .meta{color:#555} .sig{color:#00683a;font-weight:600}
.nosig{color:#8a4b00} code{background:#f4f4f4;padding:0 .2em}
"""


class ReportError(Exception):
    """A folder that cannot be reported on (not a results folder, missing or corrupt files)."""


@dataclass(frozen=True)
class ReportOutcome:
    path: Path
    partial: bool
    charts: int


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _unit(kpi: str) -> str:
    return next((u for suffix, u in UNITS.items() if kpi.endswith(suffix)), "")


def _fmt(value: float, kpi: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    unit = _unit(kpi)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "EUR":
        return f"{value:,.0f} EUR"
    if unit == "days":
        return f"{value:.1f} days"
    return f"{value:,.3g}"


def _fmt_diff(value: float, kpi: str) -> str:
    if _unit(kpi) == "share":
        return f"{value * 100:+.1f} points"
    if _unit(kpi) == "EUR":
        return f"{value:+,.0f} EUR"
    if _unit(kpi) == "days":
        return f"{value:+.1f} days"
    return f"{value:+,.3g}"


def _read(results_dir: Path) -> dict[str, Any]:
    if not results_dir.is_dir():
        raise ReportError(f"{results_dir} is not a folder")
    manifest_path = results_dir / "manifest.json"
    reps_path = results_dir / "replications.parquet"
    missing = [p.name for p in (manifest_path, reps_path) if not p.exists()]
    if missing:
        raise ReportError(
            f"{results_dir} is not a results folder: missing {', '.join(missing)} "
            "(made by twin run / compare / sweep)"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        scenarios = manifest["scenarios"]
    except (json.JSONDecodeError, KeyError, OSError) as exc:
        raise ReportError(f"{manifest_path} is corrupt: {exc}") from None
    try:
        reps = pd.read_parquet(reps_path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ReportError(f"{reps_path} is corrupt: {exc}") from None
    comparison = pd.DataFrame()
    comparison_path = results_dir / "comparison.csv"
    if comparison_path.exists():
        try:
            comparison = pd.read_csv(comparison_path)
        except (pd.errors.ParserError, OSError, UnicodeDecodeError) as exc:
            raise ReportError(f"{comparison_path} is corrupt: {exc}") from None
    return {"manifest": manifest, "scenarios": scenarios, "reps": reps, "comparison": comparison}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, inner in enumerate(value):
            label = inner.get("name", inner.get("sku", i))
            out.update(_flatten(inner, f"{prefix}[{label}]"))
        return out
    return {prefix: value}


def changes_against(baseline: dict[str, Any], other: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, baseline value, scenario value) for every key that differs, names excluded."""
    a, b = _flatten(baseline), _flatten(other)
    keys = sorted((set(a) | set(b)) - {"name", "description"})
    return [(k, a.get(k, "—"), b.get(k, "—")) for k in keys if a.get(k) != b.get(k)]


def _summary_sentences(data: dict[str, Any], baseline: str) -> list[str]:
    reps, comparison = data["reps"], data["comparison"]
    sentences = []
    names = list(dict.fromkeys(reps["scenario"]))
    means = reps.groupby("scenario", sort=False).mean(numeric_only=True)
    for kpi, better in HEADLINE_KPIS.items():
        if kpi not in means:
            continue
        column = means[kpi].dropna()
        if column.empty:
            continue
        best = column.idxmin() if better == "lower" else column.idxmax()
        if len(names) == 1 or comparison.empty:
            sentences.append(f"<b>{esc(kpi)}</b>: {esc(best)} {esc(_fmt(column[best], kpi))}.")
            continue
        if best == baseline:
            sentences.append(
                f"<b>{esc(kpi)}</b>: no scenario beats the baseline <i>{esc(baseline)}</i> "
                f"({esc(_fmt(column[best], kpi))})."
            )
            continue
        row = comparison[(comparison["scenario"] == best) & (comparison["kpi"] == kpi)]
        if row.empty:
            continue
        r = row.iloc[0]
        sure = (
            f'<span class="sig">clear at {r["family_confidence"]:.0%} family confidence</span>'
            if bool(r["significant"])
            else f'<span class="nosig">not distinguishable from the baseline at '
            f"{r['family_confidence']:.0%}</span>"
        )
        sentences.append(
            f"<b>{esc(kpi)}</b>: best is <i>{esc(best)}</i> with {esc(_fmt(column[best], kpi))}, "
            f"{esc(_fmt_diff(r['mean_diff'], kpi))} against <i>{esc(baseline)}</i> "
            f"(95% CI {esc(_fmt_diff(r['ci_low'], kpi))} to {esc(_fmt_diff(r['ci_high'], kpi))}); "
            f"{sure}."
        )
    return sentences


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _summary_table(reps: pd.DataFrame) -> str:
    kpis = [k for k in HEADLINE_KPIS if k in reps] + [
        k for k in ("crew_utilization", "stockout_share", "visits_per_order") if k in reps
    ]
    summary = summarize(reps, kpis)
    rows = []
    for _, r in summary.iterrows():
        half = "" if math.isnan(r["half_width"]) else f" ± {_fmt(r['half_width'], r['kpi'])}"
        rows.append({"scenario": r["scenario"], "KPI": r["kpi"],
                     "mean ± 95% CI half-width": _fmt(r["mean"], r["kpi"]) + half,
                     "replications": int(r["n"])})  # fmt: skip
    return _table(pd.DataFrame(rows))


def _figure(chart: Chart) -> str:
    data = base64.b64encode(chart.png.read_bytes()).decode("ascii")
    return (
        f'<figure id="chart-{esc(chart.name)}"><img alt="{esc(chart.title)}" '
        f'src="data:image/png;base64,{data}"><figcaption><b>{esc(chart.title)}</b>. '
        f"{esc(chart.caption)}</figcaption></figure>"
    )


def tornado_png(table: pd.DataFrame, kpi: str) -> bytes:
    """A tornado chart of one KPI: each assumption at 50 % and 150 %, widest swing on top."""
    import io

    from matplotlib.figure import Figure

    rows = table[(table["kpi"] == kpi) & table["swing"].notna()].sort_values("swing")
    fig = Figure(figsize=(7.5, 0.42 * len(rows) + 1.6), dpi=110)
    ax = fig.add_subplot()
    bundle = float(rows["bundle"].iloc[0]) if len(rows) else 0.0
    y = range(len(rows))
    ax.barh(list(y), rows["low"] - bundle, left=bundle, color="#56B4E9", label="parameter at 50 %")
    ax.barh(
        list(y), rows["high"] - bundle, left=bundle, color="#E69F00", label="parameter at 150 %"
    )
    ax.axvline(bundle, color="#333333", lw=1)
    ax.set_yticks(list(y), [str(p) for p in rows["parameter"]], fontsize=8)
    label = kpi.replace("_", " ")
    ax.set_xlabel(f"{label} ({_unit(kpi) or 'value'}); line = bundle as assumed")
    top = rows.iloc[-1]["parameter"] if len(rows) else "none"
    ax.set_title(f"{label.capitalize()} is most sensitive to\n{top}", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _sensitivity(results_dir: Path) -> str:
    path = results_dir / "sensitivity.csv"
    if not path.exists():
        return ""
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path} is corrupt: {exc}") from None
    parts = ['<h2 id="sensitivity">Which assumptions matter</h2>',
             "<p>Each assumed policy parameter of the bundle at 50 % and 150 % of its value, one "
             "at a time, under common random numbers; bars show the KPI's mean over the "
             "replications against the bundle as assumed.</p>"]  # fmt: skip
    for kpi in dict.fromkeys(table["kpi"]):
        data = base64.b64encode(tornado_png(table, kpi)).decode("ascii")
        parts.append(f'<figure id="tornado-{esc(kpi)}"><img alt="tornado {esc(kpi)}" '
                     f'src="data:image/png;base64,{data}"></figure>')  # fmt: skip
    return "\n".join(parts)


def _methods(data: dict[str, Any]) -> str:
    manifest, reps = data["manifest"], data["reps"]
    identity = manifest.get("identity", {})
    warmup = manifest.get("warmup", {})
    counts = reps.groupby("scenario", sort=False).size()
    scenario_rows = "".join(
        f"<tr><td>{esc(s['name'])}</td><td><code>{esc(s.get('hash', ''))}</code></td>"
        f"<td>{esc(s.get('duration_days', ''))}</td><td>{esc(counts.get(s['name'], 0))}</td>"
        f"<td>{esc(s.get('resolved', {}).get('description', ''))}</td></tr>"
        for s in data["scenarios"]
    )
    versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in manifest.get("versions", {}).items())
    streams = ", ".join(f"{esc(k)} ({v})" for k, v in STREAM_IDS.items())
    warm = esc(warmup.get("method", "scenario"))
    days = warmup.get("days")
    return f"""
<h2 id="methods">Methods</h2>
<p><b>Model.</b> A discrete-event simulation (SimPy) of order-to-installation: orders arrive as a
non-homogeneous Poisson process; sales promise a date; orders are handed off to engineering
through approval steps; materials come from stock replenished by (s,S) or (R,Q) policies from
suppliers with random lead times and disruptions; crews are dispatched from a ready queue and
install through working calendars; visits can fail (rework, customer absent, missing material)
and are re-dispatched; customers' satisfaction follows a logistic model of lateness, lead time
and revisits. Policies are modelled as mechanisms, not outcome multipliers.</p>
<p><b>Scenarios and data sources.</b></p>
<table><tr><th>scenario</th><th>hash</th><th>run length (days)</th><th>replications</th>
<th>description</th></tr>{scenario_rows}</table>
<p><b>Random numbers.</b> Base seed {esc(identity.get("base_seed", "?"))}; common random
numbers {"on" if identity.get("crn", True) else "off"} (replication r of every scenario uses
the same streams). Named streams (fixed ids): {streams}; every order draws its attributes from
its own sub-stream.</p>
<p><b>Warm-up.</b> {warm}{f", {esc(days)} days" if days is not None else ""}; KPIs are measured
after it. Orders open at the end are right-censored: {esc(manifest.get("right_censoring", ""))}</p>
<p><b>Statistics.</b> 95% t-intervals over replications; differences against the baseline are
paired-t intervals (Welch when CRN is off), Bonferroni-adjusted across scenarios.</p>
<p><b>Software and run time.</b> {versions}. Started {esc(manifest.get("started_at"))}, ended
{esc(manifest.get("ended_at") or "not finished")}.</p>"""


def report_html(results_dir: Path, charts: list[Chart], data: dict[str, Any]) -> str:
    manifest = data["manifest"]
    scenarios = data["scenarios"]
    names = [s["name"] for s in scenarios]
    comparison = data["comparison"]
    baseline = str(comparison["baseline"].iloc[0]) if not comparison.empty else names[0]
    partial = not manifest.get("complete", False)
    title = "Delivery twin: " + ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")
    parts = [f"<h1>{esc(title)}</h1>",
             f'<p class="meta">Results folder <code>{esc(results_dir)}</code>.</p>']  # fmt: skip
    if partial:
        done = manifest.get("replications_done", len(data["reps"]))
        parts.append(
            f'<div class="partial" id="partial"><b>Partial results.</b> The experiment did not '
            f"finish: this report shows the {esc(done)} replications that did. Rerun it with "
            "<code>--resume</code> to complete it.</div>"
        )
    parts.append('<h2 id="summary">Executive summary</h2><ul>')
    parts.extend(f"<li>{s}</li>" for s in _summary_sentences(data, baseline))
    parts.append("</ul>")
    selection = manifest.get("selection")
    if selection:
        parts.append(
            f"<p>Kim-Nelson selection on <b>{esc(selection['kpi'])}</b> (indifference zone "
            f"{esc(selection['delta'])}, confidence {1 - float(selection['alpha']):.0%}): best is "
            f"<b>{esc(selection['best'])}</b>.</p>"
        )
    parts.append(_summary_table(data["reps"]))
    parts.append('<h2 id="charts">Charts</h2>')
    parts.extend(_figure(c) for c in charts)
    if len(scenarios) > 1:
        parts.append(f'<h2 id="changes">What each scenario changes against {esc(baseline)}</h2>')
        base = next(s for s in scenarios if s["name"] == baseline)["resolved"]
        for s in scenarios:
            if s["name"] == baseline:
                continue
            rows = changes_against(base, s.get("resolved", {}))
            parts.append(f"<h3>{esc(s['name'])}</h3>")
            if rows:
                frame = pd.DataFrame(rows, columns=["key", baseline, s["name"]])
                parts.append(_table(frame))
            else:
                parts.append("<p>No differences in the model inputs.</p>")
    parts.append(_sensitivity(results_dir))
    parts.append(_methods(data))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )


def write_report(results_dir: Path, out: Path | None = None) -> ReportOutcome:
    """Draw the charts and write ``report.html`` into the results folder."""
    results_dir = Path(results_dir)
    data = _read(results_dir)
    try:
        charts = draw_charts(results_dir)
    except ResultsReadError as exc:
        raise ReportError(str(exc)) from None
    path = out or results_dir / "report.html"
    atomic_write_text(path, report_html(results_dir, charts, data))
    return ReportOutcome(path, not data["manifest"].get("complete", False), len(charts))
