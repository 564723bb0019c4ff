"""Scenario-versus-baseline comparisons for the experiment layer.

The decision question is "is policy X better than today, and by how much?", so the estimand
is the difference of each KPI from the baseline, not two separate intervals that happen to
overlap. With common random numbers (CRN) replication r of every scenario sees the same
demand and disruptions, so differences are taken replication by replication (paired-t): the
shared noise cancels and the interval is much narrower than an independent-samples one.
Without CRN the samples are independent and Welch's interval (unequal variances) is used.

Several scenarios are compared with the same baseline, and a decision maker reads them
together; Bonferroni adjustment (each interval at 1 - alpha/m) keeps the chance that *all*
intervals cover at least the stated family confidence, whatever the dependence between them
(and the comparisons share the baseline, so they are dependent).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.statistics import t_interval

log = logging.getLogger(__name__)

COMPARISON_COLUMNS = [
    "scenario",
    "baseline",
    "kpi",
    "method",
    "n_pairs",
    "n_scenario",
    "n_baseline",
    "mean_diff",
    "ci_low",
    "ci_high",
    "half_width",
    "df",
    "confidence",
    "family_confidence",
    "significant",
    "relative_diff",
    "correlation",
    "variance_reduction",
]
CORRELATION_COLUMNS = ["kpi", "scenario_a", "scenario_b", "n_pairs", "correlation"]


def paired_comparisons(
    replications: pd.DataFrame,
    kpis: Sequence[str],
    baseline: str,
    confidence: float = 0.95,
    crn: bool = True,
) -> pd.DataFrame:
    """One row per non-baseline scenario and KPI: the interval for ``scenario - baseline``.

    ``replications`` has columns ``scenario``, ``replication`` and one per KPI. With
    ``crn=True`` a paired-t interval is built on per-replication differences over the
    replications present (and non-NaN) in both scenarios; with ``crn=False`` a Welch
    interval on all non-NaN values of each. Each interval is at the Bonferroni level
    ``1 - (1 - confidence) / m`` for m non-baseline scenarios (column ``confidence``), so
    the family of m intervals per KPI has at least ``family_confidence``.

    ``n_scenario`` / ``n_baseline`` count the values each interval used (equal to
    ``n_pairs`` when paired; ``n_pairs`` is missing for Welch). ``df`` is the t degrees of
    freedom. ``significant`` is True when the interval excludes 0 (False if it could not be
    formed). ``correlation`` (paired values' Pearson r) and ``variance_reduction``
    (``(var X + var Y) / var(X - Y)``, how much smaller CRN made the variance of the
    difference than independent runs would) are NaN for Welch.
    """
    kpis = _kpi_list(kpis)
    _check_replications(replications, kpis)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    scenarios = list(pd.unique(replications["scenario"]))
    if baseline not in scenarios:
        raise ValueError(
            f"baseline {baseline!r} is not among the scenarios; known scenarios: {scenarios}"
        )
    others = [s for s in scenarios if s != baseline]
    if not others:
        log.debug("only the baseline %r present; nothing to compare", baseline)
        return _empty_comparisons()

    level = 1.0 - (1.0 - confidence) / len(others)
    columns, values = _wide(replications, kpis)
    counts = replications["scenario"].value_counts()
    rows: list[dict[str, Any]] = []
    for scenario in others:
        expected_pairs = int(max(counts[scenario], counts[baseline]))
        for kpi in kpis:
            x = values[:, columns[(kpi, scenario)]]
            y = values[:, columns[(kpi, baseline)]]
            result = _paired(x, y, level) if crn else _welch(x, y, level)
            if crn and result["n_pairs"] < expected_pairs:
                log.info(
                    "%s vs %s, %s: %d pairs used (missing replications or undefined KPI)",
                    scenario,
                    baseline,
                    kpi,
                    result["n_pairs"],
                )
            rows.append(
                {
                    "scenario": scenario,
                    "baseline": baseline,
                    "kpi": kpi,
                    **result,
                    "confidence": level,
                    "family_confidence": confidence,
                }
            )
    out = pd.DataFrame(rows)
    out["significant"] = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    out["n_pairs"] = out["n_pairs"].astype("Int64")
    return out[COMPARISON_COLUMNS]


def crn_correlations(
    replications: pd.DataFrame, kpis: Sequence[str], scenarios: Sequence[str]
) -> pd.DataFrame:
    """Per KPI and scenario pair, the Pearson correlation of replication-paired values.

    High positive correlation is what CRN is for: it is the variance it removes from each
    difference. Near zero means the KPI is dominated by noise the streams do not share
    (worth knowing before trusting CRN to tighten an experiment).
    """
    kpis = _kpi_list(kpis)
    _check_replications(replications, kpis)
    scenarios = [scenarios] if isinstance(scenarios, str) else list(scenarios)
    known = list(pd.unique(replications["scenario"]))
    unknown = [s for s in scenarios if s not in known]
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; known scenarios: {known}")
    columns, values = _wide(replications, kpis)
    rows: list[dict[str, Any]] = []
    for kpi in kpis:
        for a, b in itertools.combinations(scenarios, 2):
            x = values[:, columns[(kpi, a)]]
            y = values[:, columns[(kpi, b)]]
            keep = ~np.isnan(x) & ~np.isnan(y)
            rows.append(
                {
                    "kpi": kpi,
                    "scenario_a": a,
                    "scenario_b": b,
                    "n_pairs": int(keep.sum()),
                    "correlation": _pearson(x[keep], y[keep]),
                }
            )
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def _paired(x: np.ndarray, y: np.ndarray, level: float) -> dict[str, Any]:
    keep = ~np.isnan(x) & ~np.isnan(y)
    xs, ys = x[keep], y[keep]
    ti = t_interval(xs - ys, level)
    n = int(ti["n"])
    return {
        "method": "paired-t",
        "n_pairs": n,
        "n_scenario": n,
        "n_baseline": n,
        "mean_diff": ti["mean"],
        "ci_low": ti["ci_low"],
        "ci_high": ti["ci_high"],
        "half_width": ti["half_width"],
        "df": float(n - 1) if n >= 2 else math.nan,
        "relative_diff": _relative(ti["mean"], ys),
        "correlation": _pearson(xs, ys),
        "variance_reduction": _variance_reduction(xs, ys),
    }


def _welch(x: np.ndarray, y: np.ndarray, level: float) -> dict[str, Any]:
    xs, ys = x[~np.isnan(x)], y[~np.isnan(y)]
    nx, ny = xs.size, ys.size
    diff = float(xs.mean() - ys.mean()) if nx and ny else math.nan
    half = df = math.nan
    if nx >= 2 and ny >= 2:
        vx, vy = xs.var(ddof=1) / nx, ys.var(ddof=1) / ny
        se2 = vx + vy
        if se2 > 0:
            # Welch-Satterthwaite effective degrees of freedom.
            df = float(se2**2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1)))
            half = float(stats.t.ppf(0.5 + level / 2, df) * math.sqrt(se2))
        else:
            half = 0.0  # both samples constant: the difference is known exactly
    return {
        "method": "welch",
        "n_pairs": pd.NA,
        "n_scenario": nx,
        "n_baseline": ny,
        "mean_diff": diff,
        "ci_low": diff - half,
        "ci_high": diff + half,
        "half_width": half,
        "df": df,
        "relative_diff": _relative(diff, ys),
        "correlation": math.nan,
        "variance_reduction": math.nan,
    }


def _relative(diff: float, baseline_values: np.ndarray) -> float:
    """Difference as a fraction of the baseline mean (NaN when that mean is 0 or unknown)."""
    if baseline_values.size == 0:
        return math.nan
    base = float(baseline_values.mean())
    return diff / base if base != 0 else math.nan


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r; NaN when undefined (fewer than 2 pairs or a constant side)."""
    if x.size < 2:
        return math.nan
    xc, yc = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(xc @ xc) * float(yc @ yc))
    return float(xc @ yc) / denom if denom > 0 else math.nan


def _variance_reduction(x: np.ndarray, y: np.ndarray) -> float:
    """var of the difference had the runs been independent, over its actual variance."""
    if x.size < 2:
        return math.nan
    independent = float(x.var(ddof=1) + y.var(ddof=1))
    actual = float((x - y).var(ddof=1))
    if actual > 0:
        return independent / actual
    return math.inf if independent > 0 else math.nan


def _wide(
    replications: pd.DataFrame, kpis: list[str]
) -> tuple[dict[tuple[str, Hashable], int], np.ndarray]:
    """Replications x (kpi, scenario) matrix, NaN where a replication is missing."""
    wide = replications.pivot(index="replication", columns="scenario", values=kpis)
    columns = {key: i for i, key in enumerate(wide.columns)}
    return columns, wide.to_numpy(dtype=float)


def _kpi_list(kpis: Sequence[str]) -> list[str]:
    """A bare string is one KPI name, not a sequence of one-letter names."""
    out = [kpis] if isinstance(kpis, str) else list(kpis)
    if not out:
        raise ValueError("no KPIs given")
    return out


def _check_replications(replications: pd.DataFrame, kpis: list[str]) -> None:
    missing = [c for c in ("scenario", "replication") if c not in replications.columns]
    if missing:
        raise ValueError(f"replications frame lacks column(s) {missing}")
    unknown = [k for k in kpis if k not in replications.columns]
    if unknown:
        available = [c for c in replications.columns if c not in ("scenario", "replication")]
        raise ValueError(f"unknown KPI(s) {unknown}; KPI columns available: {available}")
    non_numeric = [k for k in kpis if not pd.api.types.is_numeric_dtype(replications[k])]
    if non_numeric:
        raise ValueError(f"KPI column(s) {non_numeric} are not numeric")
    duplicated = replications.duplicated(["scenario", "replication"])
    if duplicated.any():
        first = replications.loc[duplicated, ["scenario", "replication"]].iloc[0].tolist()
        raise ValueError(
            f"{int(duplicated.sum())} duplicate (scenario, replication) row(s), e.g. {first}: "
            "pairing by replication would be ambiguous"
        )


def _empty_comparisons() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COMPARISON_COLUMNS})
