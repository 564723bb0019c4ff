"""The sales promise: how many days after the order sales promised the installation.

``PromiseSpec.fixed_days`` is calendar days from order creation. A sales team that quotes a
fixed offset ("installed within 3 days") shows one value for nearly all orders; anything else
is summarised by its median, and the quantiles are reported so the planner can see whether the
``quoted`` policy describes the company better.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from calibration.fits._common import DAY, check_min, describe, histogram, require_columns, span
from calibration.fits.result import FitResult

__all__ = ["FIXED_SHARE", "MIN_PROMISES", "fit_promise"]

log = logging.getLogger(__name__)

FIT = "promise"
MIN_PROMISES = 20
FIXED_SHARE = 0.9  # at least this share on one whole-day value = a fixed promise


def fit_promise(orders: pd.DataFrame, *, fixed_share: float = FIXED_SHARE) -> FitResult:
    """``promise.fixed_days``: the common offset if one dominates, else the median (said so)."""
    require_columns(orders, FIT, "orders", ("created_at", "promised_at"))
    rows = orders.dropna(subset=["created_at", "promised_at"])
    days_all = span(rows["promised_at"], rows["created_at"], DAY).to_numpy(float)
    n_negative = int((days_all < 0).sum())
    days = days_all[days_all >= 0]
    n = len(days)
    check_min(FIT, n, MIN_PROMISES, "orders with a promise on or after creation")
    whole = np.round(days).astype(int)
    values, counts = np.unique(whole, return_counts=True)
    top = int(np.argmax(counts))
    mode, mode_share = int(values[top]), float(counts[top] / n)
    quantiles = {
        f"p{int(q * 100):02d}": float(np.quantile(days, q)) for q in (0.1, 0.25, 0.5, 0.75, 0.9)
    }
    notes: list[str] = []
    if n_negative:
        notes.append(f"{n_negative} promises before the order was created left out")
    if mode_share >= fixed_share:
        fixed = float(mode)
        method = f"fixed offset: {mode_share:.0%} of orders promised {mode} days after creation"
        quality = f"{mode_share:.0%} of promises at {mode} days (rounded to whole days)"
    else:
        fixed = round(float(np.median(days)), 1)
        method = "no dominant offset: fixed_days = the median promised days"
        quality = (
            f"promises vary: median {quantiles['p50']:.1f} days, 10-90% "
            f"{quantiles['p10']:.1f}-{quantiles['p90']:.1f}; most common {mode} days "
            f"for only {mode_share:.0%}"
        )
        notes.append(
            f"promised days vary (the most common value, {mode} days, covers {mode_share:.0%}): "
            f"fixed_days = median {fixed:g}; consider promise.policy = 'quoted'"
        )
    return FitResult(
        fit=FIT,
        params={"promise.policy": "fixed", "promise.fixed_days": fixed},
        n=n,
        method=method,
        quality=quality,
        diagnostics={
            "summary": describe(days),
            "quantiles": quantiles,
            "whole_days": {"days": values, "count": counts},
            "mode": mode,
            "mode_share": mode_share,
            "histogram": histogram(days, bins=np.arange(-0.5, max(1, int(days.max())) + 1.5, 1.0)),
        },
        source="orders.promised_at - orders.created_at",
        notes=tuple(notes),
    )
