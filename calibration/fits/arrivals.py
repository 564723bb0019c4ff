"""Order arrivals: the rate profile of ``sim.arrivals.ArrivalRate`` from order creation times.

The twin draws orders from a non-homogeneous Poisson process whose daily rate is base x weekday
factor x month factor x compound trend, constant within a day. The matching statistical model is
a Poisson GLM (log link) of daily counts on weekday dummies, month dummies and linear time, so
its coefficients convert exactly into the scenario's factors. Two checks say whether the Poisson
assumption holds: the Pearson dispersion of the daily counts (1 for Poisson; larger means days
vary more than the factors explain, and the twin will understate day-to-day swings), and the
time-rescaling theorem (arrival times mapped through the fitted cumulative intensity have Exp(1)
gaps; a Kolmogorov-Smirnov test measures the departure).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from calibration.fits._common import FloatArray, check_min, fmt_p, require_columns
from calibration.fits.glm import irls
from calibration.fits.result import FitError, FitResult

__all__ = ["MIN_DAYS", "MIN_ORDERS", "fit_arrivals"]

log = logging.getLogger(__name__)

FIT = "arrivals"
MIN_ORDERS = 50
MIN_DAYS = 28  # four of each weekday: fewer cannot separate weekday factors from noise
MONTHS_MIN_DAYS = 365  # every month seen at least once
TREND_MIN_DAYS = 120  # a shorter window cannot tell a trend from the season
DAYS_PER_YEAR = 365.25  # as sim.arrivals reads trend_per_year
OVERDISPERSED = 1.25  # Pearson chi2/df above this (and significant) is flagged


def _factors(coef: dict[int, float], levels: int, active: list[int]) -> tuple[FloatArray, float]:
    """Multiplicative factors normalised to mean 1 (levels never seen get 0), and the raw mean.

    The raw mean moves into the base rate, so base x factors still reproduces the GLM's rate.
    """
    raw = np.zeros(levels)
    for level in active:
        raw[level] = np.exp(coef.get(level, 0.0))
    mean = float(raw.mean())
    return raw / mean, mean


def fit_arrivals(
    orders: pd.DataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    reference_date: dt.date | None = None,
    within_day: Literal["uniform", "timestamps"] = "uniform",
    seed: int = 0,
) -> FitResult:
    """Base rate, weekday and month factors and trend of order arrivals.

    ``start``/``end`` bound the observation window (whole days, inclusive; default: the first
    and last order's dates; days without orders inside it count as zeros). ``base_rate_per_day``
    is the rate at ``reference_date`` (default ``start``): pass the scenario's ``run.start_date``
    so the trend continues from the right level. Every created order counts, cancelled or not
    (cancellation is a later event). The time-rescaling check places each order
    uniformly within its day (the twin's rate is constant within a day), or at its own time of
    day with ``within_day="timestamps"``.
    """
    require_columns(orders, FIT, "orders", ("created_at",))
    created = pd.to_datetime(orders["created_at"]).dropna()
    if created.empty:
        raise FitError(FIT, 0, MIN_ORDERS, reason="no order has a created_at")
    first = start or created.min().date()
    last = end or created.max().date()
    days = pd.date_range(first, last, freq="D")
    n_days = len(days)
    created = created[(created >= days[0]) & (created < days[-1] + pd.Timedelta(days=1))]
    n = len(created)
    check_min(FIT, n, MIN_ORDERS, "orders")
    if n_days < MIN_DAYS:
        raise FitError(FIT, n, MIN_ORDERS, reason=f"orders span {n_days} days, needs {MIN_DAYS}")

    day_index = ((created.dt.normalize() - days[0]) / pd.Timedelta(days=1)).astype(int).to_numpy()
    counts = np.bincount(day_index, minlength=n_days).astype(float)
    weekday = days.day_of_week.to_numpy()
    month = days.month.to_numpy() - 1
    t_years = np.arange(n_days) / DAYS_PER_YEAR

    notes: list[str] = []
    use_months = n_days >= MONTHS_MIN_DAYS
    use_trend = n_days >= TREND_MIN_DAYS
    if not use_months:
        notes.append(f"month factors set to 1: {n_days} days observed, fewer than a year")
    if not use_trend:
        notes.append(f"no trend fitted: {n_days} days observed, fewer than {TREND_MIN_DAYS}")
    if use_months and use_trend and n_days < 2 * MONTHS_MIN_DAYS:
        notes.append("under two years of data: trend and month factors are partly confounded")

    columns: list[FloatArray] = [np.ones(n_days)]
    names: list[str] = ["intercept"]
    wd_totals = np.bincount(weekday, weights=counts, minlength=7)
    wd_active = [w for w in range(7) if wd_totals[w] > 0]
    for w in wd_active[1:]:
        columns.append((weekday == w).astype(float))
        names.append(f"weekday_{w}")
    closed = [w for w in range(7) if wd_totals[w] == 0]
    if closed:
        notes.append(f"no orders ever on weekday(s) {closed} (0=Mon): their factor is 0")
    mo_active = list(range(12))
    if use_months:
        mo_totals = np.bincount(month, weights=counts, minlength=12)
        mo_active = [m for m in range(12) if mo_totals[m] > 0]
        for m in mo_active[1:]:
            columns.append((month == m).astype(float))
            names.append(f"month_{m}")
    if use_trend:
        columns.append(t_years)
        names.append("trend")
    x = np.column_stack(columns)
    glm = irls(x, counts, "poisson")
    coef = dict(zip(names, glm.coef, strict=True))
    se = dict(zip(names, glm.se, strict=True))

    wf, wd_mean = _factors({w: coef[f"weekday_{w}"] for w in wd_active[1:]}, 7, wd_active)
    mf, mo_mean = np.ones(12), 1.0
    if use_months:
        mf, mo_mean = _factors({m: coef[f"month_{m}"] for m in mo_active[1:]}, 12, mo_active)
    growth = coef.get("trend", 0.0)
    ref = reference_date or first
    t_ref = (pd.Timestamp(ref) - days[0]).days / DAYS_PER_YEAR
    base = float(np.exp(coef["intercept"] + growth * t_ref) * wd_mean * mo_mean)
    trend = float(np.expm1(growth))

    # --- overdispersion: Pearson chi2 / df
    mu = glm.mu
    dof = max(1, n_days - x.shape[1])
    pearson = float(np.sum((counts - mu) ** 2 / mu))
    dispersion = pearson / dof
    dispersion_p = float(stats.chi2.sf(pearson, dof))
    alpha = max(0.0, float(np.sum(((counts - mu) ** 2 - counts) / mu**2) / dof))
    overdispersed = dispersion > OVERDISPERSED and dispersion_p < 0.01
    if overdispersed:
        notes.append(
            f"daily counts are overdispersed (Pearson chi2/df = {dispersion:.2f}, "
            f"p={fmt_p(dispersion_p)}): "
            "days vary more than a Poisson process with these factors explains (campaigns, "
            "holidays, orders keyed in batches?); the twin will understate day-to-day swings"
        )

    # --- time rescaling: gaps of the cumulative intensity at arrival times should be Exp(1)
    rng = np.random.default_rng(seed)
    has_times = bool((created != created.dt.normalize()).any())
    if within_day == "timestamps" and has_times:
        frac = ((created - created.dt.normalize()) / pd.Timedelta(days=1)).to_numpy(float)
        placed = "at their time of day"
    else:
        frac = rng.random(n)
        placed = "uniformly within their day"
    cum_start = np.concatenate([[0.0], np.cumsum(mu)])
    lam = np.sort(cum_start[day_index] + mu[day_index] * frac)
    gaps = np.diff(np.concatenate([[0.0], lam]))
    ks = stats.kstest(gaps, "expon")
    ks_stat, ks_p = float(ks.statistic), float(ks.pvalue)
    z = np.sort(1.0 - np.exp(-gaps))
    k = min(len(z), 500)
    idx = np.linspace(0, len(z) - 1, k).astype(int)
    if ks_p < 0.01:
        notes.append(
            f"time-rescaling check rejects the Poisson process (KS p={fmt_p(ks_p)}): arrivals "
            "cluster or spread more evenly than the fitted rate implies"
        )

    wd_obs = np.array(
        [counts[weekday == w].mean() if (weekday == w).any() else np.nan for w in range(7)]
    )
    wd_fit = np.array(
        [mu[weekday == w].mean() if (weekday == w).any() else np.nan for w in range(7)]
    )
    mo_obs = np.array(
        [counts[month == m].mean() if (month == m).any() else np.nan for m in range(12)]
    )
    mo_fit = np.array([mu[month == m].mean() if (month == m).any() else np.nan for m in range(12)])
    diagnostics: dict[str, Any] = {
        "window": {"start": days[0].date(), "end": days[-1].date(), "days": n_days},
        "reference_date": ref,
        "daily": {
            "dates": [d.date().isoformat() for d in days],
            "observed": counts,
            "fitted": mu,
        },
        "weekday": {"observed_mean": wd_obs, "fitted_mean": wd_fit, "factor": wf},
        "month": {"observed_mean": mo_obs, "fitted_mean": mo_fit, "factor": mf},
        "coef": coef,
        "se": se,
        "glm": {"loglik": glm.loglik, "iterations": glm.iterations, "converged": glm.converged},
        "dispersion": {
            "pearson_chi2": pearson,
            "df": dof,
            "ratio": dispersion,
            "pvalue": dispersion_p,
            "nb_alpha": alpha,
            "overdispersed": overdispersed,
        },
        "time_rescaling": {
            "ks_statistic": ks_stat,
            "pvalue": ks_p,
            "n_gaps": len(gaps),
            "placed": placed,
            "uniform_expected": (idx + 0.5) / len(z),
            "uniform_observed": z[idx],
            "ks_band_95": 1.36 / np.sqrt(len(z)),
        },
        "trend_se_per_year": float(se.get("trend", np.nan)),
    }
    terms = ["weekday"] + (["month"] if use_months else []) + (["linear time"] if use_trend else [])
    quality = (
        f"Pearson chi2/df {dispersion:.2f}"
        + (" (overdispersed)" if overdispersed else " (Poisson-consistent)")
        + f"; time-rescaling KS D={ks_stat:.3f}, p={fmt_p(ks_p)}"
    )
    log.info("arrivals fit: base %.3f/day, trend %+.1f%%/yr; %s", base, 100 * trend, quality)
    return FitResult(
        fit=FIT,
        params={
            "arrivals.base_rate_per_day": round(base, 6),
            "arrivals.weekday_factors": [round(float(f), 4) for f in wf],
            "arrivals.month_factors": [round(float(f), 4) for f in mf],
            "arrivals.trend_per_year": round(trend, 5),
        },
        n=n,
        method=(
            f"Poisson GLM (log link, IRLS) of {n_days} daily counts on {' + '.join(terms)}; "
            f"factors normalised to mean 1, base rate at {ref.isoformat()}; time rescaling with "
            f"orders placed {placed}"
        ),
        quality=quality,
        diagnostics=diagnostics,
        source="orders.created_at",
        notes=tuple(notes),
    )
