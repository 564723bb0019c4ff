"""Small helpers shared by the fits: column checks, minimum-row checks, time arithmetic, charts."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibration.fits.result import FitError

FloatArray = npt.NDArray[np.float64]
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)


def require_columns(
    frame: pd.DataFrame | None, fit: str, table: str, columns: Iterable[str]
) -> pd.DataFrame:
    """The frame, or a FitError naming the fit and what is missing (a fit cannot guess columns)."""
    if frame is None:
        raise FitError(fit, 0, reason=f"no {table} table given")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FitError(fit, 0, reason=f"{table} lacks column(s) {', '.join(missing)}")
    return frame


def check_min(fit: str, n: int, minimum: int, what: str = "rows") -> None:
    """Raise FitError if fewer than ``minimum`` usable rows: the refusal names the fit and count."""
    if n < minimum:
        raise FitError(fit, n, minimum, reason=f"too few {what}")


def span(later: pd.Series, earlier: pd.Series, unit: pd.Timedelta) -> pd.Series:
    """``later - earlier`` as floats in ``unit`` (NaN where either is missing)."""
    return (pd.to_datetime(later) - pd.to_datetime(earlier)) / unit


def is_date_only(*series: pd.Series) -> bool:
    """True when every timestamp is at midnight: the export holds dates, not times."""
    for s in series:
        ts = pd.to_datetime(s).dropna()
        if len(ts) and (ts != ts.dt.normalize()).any():
            return False
    return True


def histogram(values: FloatArray, bins: int | FloatArray = 30) -> dict[str, FloatArray]:
    """Bin edges and counts for a chart."""
    counts, edges = np.histogram(values, bins=bins)
    return {"edges": edges.astype(float), "counts": counts.astype(float)}


def qq_points(
    values: FloatArray, ppf: Callable[[FloatArray], FloatArray], max_points: int = 200
) -> dict[str, FloatArray]:
    """Observed quantiles against a fitted quantile function, at most ``max_points`` of them."""
    x = np.sort(np.asarray(values, dtype=float))
    k = min(len(x), max_points)
    probs = (np.arange(k) + 0.5) / k
    return {
        "probability": probs,
        "observed": np.quantile(x, probs),
        "fitted": np.asarray(ppf(probs), dtype=float),
    }


def sig(x: float, digits: int = 6) -> float:
    """Round to significant digits: scenario files stay readable without losing precision."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(round(x, digits - 1 - math.floor(math.log10(abs(x)))))


def fmt_p(p: float) -> str:
    """A p-value as a planner reads it: small ones as an upper bound."""
    if not np.isfinite(p):
        return "n/a"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def describe(values: FloatArray) -> dict[str, float]:
    """Mean, sd and quantiles of a sample (for the report's tables)."""
    x = np.asarray(values, dtype=float)
    q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95]) if len(x) else [np.nan] * 5
    return {
        "n": float(len(x)),
        "mean": float(x.mean()) if len(x) else np.nan,
        "sd": float(x.std(ddof=1)) if len(x) > 1 else np.nan,
        "p05": float(q[0]),
        "p25": float(q[1]),
        "p50": float(q[2]),
        "p75": float(q[3]),
        "p95": float(q[4]),
    }
