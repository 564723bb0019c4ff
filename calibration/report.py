"""The calibration report: one self-contained HTML page (charts inline, no network)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibration import charts
from calibration.backtest import BacktestResult
from calibration.calibrate import CalibrationResult
from calibration.fits import FitResult
from sim.results import atomic_write_text

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222;padding:0 1em}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0} td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right} td:first-child,th:first-child{text-align:left} .fit{margin-bottom:1.2em}
.meta{color:#555;font-size:.92em} img{max-width:100%;margin:.3em .6em .3em 0}
.note{color:#8a4b00} .bad{color:#b00020;font-weight:600} .ok{color:#00683a}
"""


def esc(value: Any) -> str:
    return html.escape(str(value))


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{esc(alt)}">'


def _table(frame: pd.DataFrame, floatfmt: str = "{:.3f}") -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for value in row:
            text = floatfmt.format(value) if isinstance(value, float) else str(value)
            cells.append(f"<td>{esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _density(hist: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    edges = np.asarray(hist["edges"], dtype=float)
    counts = np.asarray(hist["counts"], dtype=float)
    widths = np.diff(edges)
    return edges, counts / max(counts.sum(), 1.0) / np.where(widths > 0, widths, 1.0)


def _distribution_charts(fit: FitResult, title: str, unit: str, chosen: str | None) -> list[str]:
    d = fit.diagnostics
    out = []
    if "histogram" in d and "pdf" in d and chosen in d["pdf"]:
        edges, _density_values = _density(d["histogram"])
        centres = (edges[:-1] + edges[1:]) / 2
        samples = np.repeat(centres, np.asarray(d["histogram"]["counts"], dtype=int))
        xs = np.asarray(d["pdf"]["x"], dtype=float)
        out.append(_img(charts.histogram_with_density(
            samples, xs, np.asarray(d["pdf"][chosen], dtype=float),
            f"{title}: histogram and fitted {chosen}", unit), f"{title} histogram"))  # fmt: skip
    if "qq" in d:
        out.append(_img(charts.qq_plot(
            np.asarray(d["qq"]["observed"], dtype=float),
            np.asarray(d["qq"]["fitted"], dtype=float), f"{title}: Q-Q plot", unit),
            f"{title} Q-Q plot"))  # fmt: skip
    return out


def _best_family(diagnostics: dict[str, Any]) -> str | None:
    """The family with the lowest AIC (drawn even when an empirical fallback was used)."""
    aic = diagnostics.get("aic") or {}
    finite = {k: float(v) for k, v in aic.items() if v is not None and np.isfinite(float(v))}
    return min(finite, key=finite.__getitem__) if finite else None


def _fit_charts(fit: FitResult) -> list[str]:
    d = fit.diagnostics
    if fit.fit == "arrivals":
        weekday = [float(x) for x in d["weekday"]["factor"]]
        out = [
            _img(
                charts.bars(
                    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
                    weekday,
                    "Arrival profile by weekday",
                    "factor (mean 1)",
                ),
                "weekday",
            )
        ]
        month = [float(x) for x in d["month"]["factor"]]
        if len(month) == 12:
            labels = ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"]
            out.append(_img(charts.bars(labels, month, "Arrival profile by month",
                                        "factor (mean 1)"), "month"))  # fmt: skip
        return out
    if fit.fit == "satisfaction" and "buckets" in d:
        buckets = pd.DataFrame(d["buckets"])
        return [_img(charts.satisfaction_curve(buckets, "Satisfaction by lateness"), "sat")]
    if fit.fit.startswith("lead_times["):
        return _distribution_charts(fit, fit.fit, "days", _best_family(d))
    if fit.fit == "handoff":
        return _distribution_charts(fit, "Hand-off delay", "office hours", _best_family(d))
    return []


def _fit_section(fit: FitResult) -> str:
    parts = [f'<div class="fit"><h3>{esc(fit.fit)}</h3>',
             f'<p class="meta">n = {fit.n}; source: {esc(fit.source)}</p>',
             f"<p><b>Method.</b> {esc(fit.method)}</p>",
             f"<p><b>Fit quality.</b> {esc(fit.quality)}</p>"]  # fmt: skip
    params = ", ".join(f"{k} = {v}" for k, v in fit.params.items() if k != "name")
    if len(params) < 600:
        parts.append(f'<p class="meta">values: {esc(params)}</p>')
    parts.extend(f'<p class="note">{esc(note)}</p>' for note in fit.notes)
    parts.extend(_fit_charts(fit))
    for part in fit.parts.values():
        if part.fit.startswith("lead_times["):
            parts.append(_fit_section(part))
    parts.append("</div>")
    return "\n".join(parts)


def backtest_section(result: BacktestResult) -> str:
    table = result.table.copy()
    start, end = result.period
    rows = []
    for _, row in table.iterrows():
        css = "ok" if row["verdict"] == "consistent" else "bad"
        rows.append(
            f"<tr><td>{esc(row['statistic'])}</td><td>{row['historical']:.3f}</td>"
            f"<td>{row['sim_mean']:.3f}</td><td>{row['sim_low']:.3f} - {row['sim_high']:.3f}</td>"
            f'<td class="{css}">{esc(row["verdict"])}</td></tr>'
        )
    head = ("<tr><th>statistic</th><th>history</th><th>twin mean</th>"
            "<th>twin 95% interval</th><th>verdict</th></tr>")  # fmt: skip
    return "\n".join(
        [
            "<h2>Back-test</h2>",
            f"<p>The twin simulated the historical period {start.date()} to {end.date()} "
            f"{result.replications} times. Kolmogorov-Smirnov distance between historical and "
            f"simulated lead times: <b>{result.ks_distance:.3f}</b>.</p>",
            f"<table>{head}{''.join(rows)}</table>",
            _img(
                charts.ecdf_overlay(
                    result.historical_lead_days,
                    result.simulated_lead_days,
                    "Lead time: history vs twin",
                ),
                "ECDF",
            ),
            _img(charts.monthly_band(result.monthly, "Orders completed per month"), "monthly"),
        ]
    )


def calibration_html(result: CalibrationResult, source: str,
                     backtest: BacktestResult | None = None) -> str:  # fmt: skip
    report = result.history.report
    counts = pd.DataFrame(
        [
            {
                "file": t.file,
                "read": t.rows_read,
                "kept": t.rows_kept,
                "quarantined": t.rows_quarantined,
                "filtered": t.rows_filtered,
            }
            for t in report.tables.values()
        ]
    )
    body = [
        f"<h1>Calibration report: {esc(result.scenario.name)}</h1>",
        f'<p class="meta">Exports: {esc(source)}. Template for policies, costs and stock rules: '
        f"{esc(result.template)}. Calibration took {result.seconds:.1f} s.</p>",
        "<h2>Data used</h2>",
        _table(counts),
        "<p>Rows set aside are listed in the quarantine files with their line and reason; "
        "filtered rows were excluded by a rule of the column map.</p>",
        "<h2>Fits</h2>",
        *[_fit_section(f) for f in result.fits],
        "<h2>Caveats</h2>",
        "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in result.notes) + "</ul>",
    ]
    if backtest is not None:
        body.append(backtest_section(backtest))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Calibration report {esc(result.scenario.name)}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def write_calibration_report(
    result: CalibrationResult, folder: Path, source: str, backtest: BacktestResult | None = None
) -> Path:
    path = folder / "calibration.html"
    atomic_write_text(path, calibration_html(result, source, backtest))
    return path


def write_backtest_report(result: BacktestResult, folder: Path, scenario_name: str) -> Path:
    path = folder / "backtest.html"
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Back-test {esc(scenario_name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Back-test: {esc(scenario_name)}</h1>{backtest_section(result)}</body></html>"
    )
    atomic_write_text(path, page)
    result.table.to_csv(folder / "backtest.csv", index=False)
    result.monthly.to_csv(folder / "backtest_monthly.csv", index=False)
    return path
