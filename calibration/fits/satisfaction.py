"""Customer satisfaction: a logistic model of lateness, lead time and revisits.

``sim.customers.satisfaction_probability`` is logit P(satisfied) = intercept + b_late x days late
(past the promise, 0 if on time) + b_lead x lead-time days + b_revisit x (visits - 1), so the
fit is that logistic regression (Newton/IRLS), with standard errors from the Fisher information.
The report compares observed satisfaction per lateness bucket with the model's mean prediction
in the same bucket: a model that is right on average but wrong in shape shows up there.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from calibration.fits._common import DAY, check_min, fmt_p, require_columns, span
from calibration.fits.glm import irls
from calibration.fits.result import FitError, FitResult

__all__ = ["LATENESS_BUCKETS", "MIN_CLASS", "MIN_SURVEYS", "fit_satisfaction"]

log = logging.getLogger(__name__)

FIT = "satisfaction"
MIN_SURVEYS = 30
MIN_CLASS = 5  # satisfied and unsatisfied answers each: otherwise the logit is unbounded
MISFIT = 0.10  # a lateness bucket this far (in rate) from the model's prediction is noted
LATENESS_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("on time", -math.inf, 0.0),
    ("0-3 days late", 0.0, 3.0),
    ("3-7 days late", 3.0, 7.0),
    (">7 days late", 7.0, math.inf),
)
KEYS = {
    "intercept": "customers.satisfaction_intercept",
    "late_days": "customers.satisfaction_per_late_day",
    "lead_time_days": "customers.satisfaction_per_lead_time_day",
    "revisits": "customers.satisfaction_per_revisit",
}


def _satisfied(surveys: pd.DataFrame, threshold: float | None) -> pd.Series:
    if "satisfied" in surveys.columns:
        return surveys["satisfied"].astype("boolean")
    if "score" in surveys.columns and threshold is not None:
        score = pd.to_numeric(surveys["score"], errors="coerce")
        return (score >= threshold).astype("boolean").where(score.notna())
    raise FitError(
        FIT, 0, MIN_SURVEYS, reason="surveys need a 'satisfied' column or 'score' and a threshold"
    )


def fit_satisfaction(
    orders: pd.DataFrame,
    surveys: pd.DataFrame,
    visits: pd.DataFrame | None = None,
    *,
    threshold: float | None = None,
) -> FitResult:
    """Logistic regression of satisfied on days late, lead-time days and (with visits) revisits.

    ``surveys`` carries ``satisfied`` (bool) or ``score`` with ``threshold`` (satisfied when
    score >= threshold). Without ``visits`` the revisit coefficient is set to 0 and the
    intercept absorbs the average revisits; the note says so.
    """
    require_columns(
        orders, FIT, "orders", ("order_id", "created_at", "promised_at", "completed_at")
    )
    require_columns(surveys, FIT, "surveys", ("order_id",))
    answers = surveys.assign(_satisfied=_satisfied(surveys, threshold)).dropna(
        subset=["_satisfied"]
    )
    answers = answers.drop_duplicates("order_id", keep="last")
    o = orders[["order_id", "created_at", "promised_at", "completed_at"]]
    data = answers[["order_id", "_satisfied"]].merge(o, on="order_id", how="inner")
    complete = data.dropna(subset=["created_at", "promised_at", "completed_at"])
    lead = span(complete["completed_at"], complete["created_at"], DAY)
    complete = complete[lead >= 0]
    n_unmatched = len(answers) - len(data)
    n_incomplete = len(data) - len(complete)

    late_signed = span(complete["completed_at"], complete["promised_at"], DAY).to_numpy(float)
    late = np.maximum(late_signed, 0.0)
    lead_days = span(complete["completed_at"], complete["created_at"], DAY).to_numpy(float)
    y = complete["_satisfied"].to_numpy(dtype=float)
    n = len(y)
    check_min(FIT, n, MIN_SURVEYS, "answered surveys of completed orders with a promise")
    n_sat = int(y.sum())
    if min(n_sat, n - n_sat) < MIN_CLASS:
        raise FitError(
            FIT,
            n,
            MIN_SURVEYS,
            reason=f"{n_sat} satisfied and {n - n_sat} not: needs {MIN_CLASS} of each",
        )

    notes: list[str] = []
    names = ["intercept", "late_days", "lead_time_days"]
    columns = [np.ones(n), late, lead_days]
    if visits is not None and {"order_id"} <= set(visits.columns):
        per_order = visits.groupby("order_id").size()
        revisits = np.maximum(complete["order_id"].map(per_order).fillna(1).to_numpy(float) - 1, 0)
        names.append("revisits")
        columns.append(revisits)
    else:
        notes.append(
            "no visits: satisfaction_per_revisit set to 0 (the intercept absorbs revisits)"
        )
    x = np.column_stack(columns)
    glm = irls(x, y, "binomial")
    if not glm.converged:
        notes.append("the logistic fit did not converge (separation?): coefficients are unreliable")
    coef = dict(zip(names, glm.coef, strict=True))
    se = dict(zip(names, glm.se, strict=True))
    z = {k: coef[k] / se[k] if se[k] > 0 else math.nan for k in names}
    pvalue = {k: float(2 * stats.norm.sf(abs(z[k]))) for k in names}
    p_null = y.mean()
    ll_null = float(n * (p_null * math.log(p_null) + (1 - p_null) * math.log1p(-p_null)))
    mcfadden = 1.0 - glm.loglik / ll_null

    buckets: dict[str, list[Any]] = {"bucket": [], "n": [], "observed": [], "predicted": []}
    worst, worst_label = 0.0, ""
    for label, lo, hi in LATENESS_BUCKETS:
        mask = late_signed <= hi if lo == -math.inf else (late_signed > lo) & (late_signed <= hi)
        k = int(mask.sum())
        obs = float(y[mask].mean()) if k else math.nan
        pred = float(glm.mu[mask].mean()) if k else math.nan
        buckets["bucket"].append(label)
        buckets["n"].append(k)
        buckets["observed"].append(obs)
        buckets["predicted"].append(pred)
        if k >= 20 and abs(obs - pred) > worst:
            worst, worst_label = abs(obs - pred), f"{label}: observed {obs:.0%}, model {pred:.0%}"
    grid = np.linspace(0.0, max(1.0, float(np.quantile(late, 0.99))), 50)
    median_lead = float(np.median(lead_days))
    curve_x = np.column_stack(
        [np.ones_like(grid), grid, median_lead + grid]
        + ([np.zeros_like(grid)] if "revisits" in names else [])
    )
    params = {KEYS[k]: round(float(coef[k]), 5) for k in names}
    if "revisits" not in names:
        params[KEYS["revisits"]] = 0.0
    if n_unmatched:
        notes.append(f"{n_unmatched} surveys without a matching order left out")
    if n_incomplete:
        notes.append(
            f"{n_incomplete} surveys of orders without completion, promise or valid lead time "
            "left out"
        )
    if worst > MISFIT:
        notes.append(
            f"the logistic model misses the shape of lateness ({worst_label}): satisfaction does "
            "not fall linearly on the logit scale with days late"
        )
    table = ", ".join(f"{k} {coef[k]:+.3f} ± {se[k]:.3f}" for k in names[1:])
    return FitResult(
        fit=FIT,
        params=params,
        n=n,
        method=(
            "logistic regression (IRLS) of satisfied on days late (max(0, completed - promised)), "
            "lead-time days" + (" and revisits (visits - 1)" if "revisits" in names else "")
        ),
        quality=(
            f"{table}; McFadden R² {mcfadden:.2f}; worst lateness bucket "
            + (f"{worst_label}" if worst_label else "n/a (all under 20 answers)")
        ),
        diagnostics={
            "coef": coef,
            "se": se,
            "z": z,
            "pvalue": pvalue,
            "loglik": glm.loglik,
            "loglik_null": ll_null,
            "mcfadden_r2": mcfadden,
            "satisfied_rate": float(p_null),
            "buckets": buckets,
            "bucket_worst_gap": worst,
            "curve": {
                "late_days": grid,
                "probability": special.expit(curve_x @ glm.coef),
                "lead_time_days_at_zero_late": median_lead,
            },
            "iterations": glm.iterations,
            "converged": glm.converged,
            "pvalue_text": {k: fmt_p(p) for k, p in pvalue.items()},
        },
        source=(
            "surveys (satisfied or score) joined to orders (created_at, promised_at, "
            "completed_at)" + (" and visit counts" if "revisits" in names else "")
        ),
        notes=tuple(notes),
    )
