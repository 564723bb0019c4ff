"""Installation: work hours against job size, visit outcome probabilities, travel between jobs.

The twin's job takes (setup_hours + hours_per_fixture x size) x effort factor, and a revisit
after rework takes ``rework_hours_fraction`` of that. Work hours grow less than proportionally
with size and their spread grows with their level, so the fit is log-linear,
log(hours) = a + b log(size) + e, which is then mapped to the twin's linear form by least squares
on the fitted mean curve over the sizes seen (extrapolating far beyond them is not supported by
the data either way); the residual spread becomes a lognormal effort factor of mean 1.

Only visits that start and finish on the same day are timed: a visit across nights has no
record of the hours worked in between. Multi-day visits are the big jobs, so the fit may
understate them; the share dropped is reported.

Outcome probabilities follow ``sim.installation.visit_outcome``: the customer is absent with
``customer_absent_probability`` on any visit; a visit that goes ahead with its kit needs rework
with ``rework_probability``, so that one is rework / (rework + completed). Missing material is
not a parameter (it emerges from stock in the twin) and is only reported.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from calibration.fits._common import HOUR, check_min, describe, require_columns, sig
from calibration.fits.result import FitError, FitResult
from sim.calendar import WorkCalendar
from sim.scenario import CalendarSpec

__all__ = [
    "MIN_GAPS",
    "MIN_VISITS",
    "fit_installation",
    "fit_travel",
    "fit_visit_outcomes",
    "fit_work_hours",
]

log = logging.getLogger(__name__)

MIN_VISITS = 20
MIN_GAPS = 10  # per travel class
MIN_GAP_HOURS = 1.0 / 60.0  # median gaps shorter than a minute: visits are back to back
MIN_REVISITS = 10
WORK_OUTCOMES = ("completed", "rework")
FAILED_OUTCOMES = ("customer_absent", "missing_material")


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a proportion (sound near 0 and 1, unlike the normal interval)."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def _timed_visits(
    visits: pd.DataFrame, orders: pd.DataFrame, crew_calendar: CalendarSpec
) -> pd.DataFrame:
    """Visits with size, work hours, same-day flag and whether they follow a rework visit.

    A visit within one day is timed by the clock. A visit across nights is timed in crew working
    hours (``crew_calendar``), plus any time before the shift on its first day and after the
    shift on its last (early starts, overtime to finish), as the twin schedules work.
    """
    v = visits.dropna(subset=["order_id", "started_at", "finished_at", "outcome"]).copy()
    v["started_at"] = pd.to_datetime(v["started_at"])
    v["finished_at"] = pd.to_datetime(v["finished_at"])
    v = v[v["finished_at"] >= v["started_at"]]
    v = v.sort_values(["order_id", "started_at"], kind="stable")
    was_rework = (v["outcome"] == "rework").astype(int)
    prior_rework = was_rework.groupby(v["order_id"]).cumsum() - was_rework
    v["after_rework"] = prior_rework > 0
    v["same_day"] = v["started_at"].dt.normalize() == v["finished_at"].dt.normalize()
    clock = ((v["finished_at"] - v["started_at"]) / HOUR).to_numpy(float)
    hours = clock.copy()
    multi = ~v["same_day"].to_numpy(bool)
    if multi.any():
        origin = v["started_at"].min().normalize()
        cal = WorkCalendar(
            origin.date(),
            crew_calendar.weekday_numbers,
            crew_calendar.shift_start_hour,
            crew_calendar.shift_end_hour,
            crew_calendar.holidays,
        )
        t0 = ((v["started_at"] - origin) / HOUR).to_numpy(float)[multi]
        t1 = ((v["finished_at"] - origin) / HOUR).to_numpy(float)[multi]
        start_hour, end_hour = np.mod(t0, 24.0), np.mod(t1, 24.0)
        early = np.maximum(0.0, np.minimum(crew_calendar.shift_start_hour, 24.0) - start_hour)
        late = np.maximum(0.0, end_hour - crew_calendar.shift_end_hour)
        work = np.array([cal.working_hours_between(a, b) for a, b in zip(t0, t1, strict=True)])
        hours[multi] = work + early + late
    v["hours"] = hours
    v["clock_hours"] = clock
    sizes = orders[["order_id", "size"]].dropna()
    sizes = sizes.assign(size=pd.to_numeric(sizes["size"], errors="coerce"))
    return v.merge(sizes[sizes["size"] >= 1], on="order_id", how="left")


def _twin_form(size: np.ndarray, hours: np.ndarray) -> dict[str, Any]:
    """Fit log h = log(setup + per_fixture x size) + log effort; mean-1 effort by smearing."""
    n = len(size)
    y = np.log(hours)

    def residuals(theta: np.ndarray) -> np.ndarray:
        return y - np.log(theta[0] + theta[1] * size)

    (s0, p0), _ = optimize.nnls(np.column_stack([np.ones(n), size]), hours)
    sol = optimize.least_squares(
        residuals,
        x0=[max(s0, 0.05 * hours.mean()), max(p0, 1e-3)],
        bounds=([0.0, 1e-9], [np.inf, np.inf]),
    )
    resid = sol.fun
    s2 = float(resid @ resid / max(1, n - 2))
    smear = float(np.mean(np.exp(resid)))  # Duan: E[effort] = 1 restores the mean
    cov = s2 * np.linalg.pinv(sol.jac.T @ sol.jac) * smear**2
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "setup": float(sol.x[0]) * smear,
        "per_fixture": float(sol.x[1]) * smear,
        "se": np.sqrt(np.diag(cov)),
        "s2": s2,
        "smear": smear,
        "rss": float(resid @ resid),
        "r2": 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else math.nan,
    }


def fit_work_hours(
    visits: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    multi_day: Literal["crew_calendar", "drop"] = "crew_calendar",
    crew_calendar: CalendarSpec | None = None,
) -> FitResult:
    """setup_hours, hours_per_fixture and effort_factor from first work visits.

    Visits across nights are timed in crew working hours (``multi_day="crew_calendar"``, the
    default) or left out (``"drop"``). Dropping them biases the fit low: the jobs that run past
    a shift are the big and the slow ones. The same-day-only fit is reported alongside.
    """
    fit = "installation.work_hours"
    require_columns(visits, fit, "visits", ("order_id", "started_at", "finished_at", "outcome"))
    require_columns(orders, fit, "orders", ("order_id", "size"))
    crew_calendar = crew_calendar or CalendarSpec()
    v = _timed_visits(visits, orders, crew_calendar)
    work = v[v["outcome"].isin(WORK_OUTCOMES) & ~v["after_rework"] & v["size"].notna()]
    work = work[work["hours"] > 0]
    n_multi = int((~work["same_day"]).sum())
    same_day = work[work["same_day"]]
    timed = work if multi_day == "crew_calendar" else same_day
    n = len(timed)
    check_min(fit, n, MIN_VISITS, "timed first work visits with an order size")

    size = timed["size"].to_numpy(float)
    hours = timed["hours"].to_numpy(float)
    tf = _twin_form(size, hours)
    setup, per_fixture = tf["setup"], tf["per_fixture"]
    se_setup, se_per_fixture = (float(x) for x in tf["se"])
    effort_sd = math.sqrt(math.expm1(tf["s2"]))

    # the log-linear alternative: b is the elasticity of hours to size (1 = proportional)
    y = np.log(hours)
    x = np.column_stack([np.ones(n), np.log(size)])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid_ll = y - x @ coef
    s2_ll = float(resid_ll @ resid_ll / max(1, n - 2))
    se = np.sqrt(np.diag(s2_ll * np.linalg.pinv(x.T @ x)))
    delta_aic = n * (math.log(float(resid_ll @ resid_ll)) - math.log(tf["rss"]))
    grid = np.linspace(size.min(), size.max(), 50)
    linear = setup + per_fixture * grid
    curve = np.exp(coef[0] + coef[1] * np.log(grid)) * float(np.mean(np.exp(resid_ll)))

    params: dict[str, Any] = {
        "installation.setup_hours": round(setup, 4),
        "installation.hours_per_fixture": round(per_fixture, 4),
        "installation.effort_factor": {"kind": "lognormal", "mean": 1.0, "sd": sig(effort_sd, 4)},
    }
    notes: list[str] = []
    share_multi = n_multi / max(1, len(work))
    diagnostics: dict[str, Any] = {
        "se": {"setup_hours": se_setup, "hours_per_fixture": se_per_fixture},
        "residual_sd_log": math.sqrt(tf["s2"]),
        "smearing": tf["smear"],
        "r2_log": tf["r2"],
        "log_linear": {
            "a": float(coef[0]),
            "b": float(coef[1]),
            "se_a": float(se[0]),
            "se_b": float(se[1]),
            "delta_aic_vs_twin_form": delta_aic,
        },
        "curve": {"size": grid, "twin_form_mean": linear, "log_linear_mean": curve},
        "scatter": {"size": size[:2000], "hours": hours[:2000]},
        "n_multi_day": n_multi,
        "multi_day": multi_day,
        "hours": describe(hours),
    }
    if n_multi and multi_day == "drop":
        notes.append(
            f"{n_multi} first work visits ({share_multi:.0%}) spanned a night and were left out: "
            "big and slow jobs are understated"
        )
    elif n_multi:
        notes.append(
            f"{n_multi} first work visits ({share_multi:.0%}) spanned a night: timed in crew "
            f"working hours ({crew_calendar.shift_start_hour:g}-{crew_calendar.shift_end_hour:g}"
            f" on {', '.join(crew_calendar.work_days)})"
        )
        if len(same_day) >= MIN_VISITS:
            alt = _twin_form(same_day["size"].to_numpy(float), same_day["hours"].to_numpy(float))
            diagnostics["same_day_only"] = {
                "n": len(same_day),
                "setup_hours": alt["setup"],
                "hours_per_fixture": alt["per_fixture"],
            }
            if abs(alt["per_fixture"] / per_fixture - 1.0) > 0.1:
                notes.append(
                    f"same-day visits alone give {alt['per_fixture']:.3f} h/fixture "
                    f"(vs {per_fixture:.3f}): check the crew calendar if this surprises"
                )

    # revisits after rework: the share of the job they take
    revisits = v[v["after_rework"] & v["outcome"].isin(WORK_OUTCOMES) & v["size"].notna()]
    if multi_day == "drop":
        revisits = revisits[revisits["same_day"]]
    revisits = revisits[revisits["hours"] > 0]
    if len(revisits) >= MIN_REVISITS:
        job = setup + per_fixture * revisits["size"].to_numpy(float)
        ratio = revisits["hours"].to_numpy(float) / np.maximum(job, 1e-9)
        fraction = float(np.clip(np.mean(ratio), 0.01, 1.0))  # effort has mean 1
        params["installation.rework_hours_fraction"] = round(fraction, 3)
        diagnostics["rework_ratio"] = describe(ratio)
    else:
        notes.append(
            f"{len(revisits)} timed revisits after rework (< {MIN_REVISITS}): "
            "rework_hours_fraction not fitted"
        )
    failed = v[v["outcome"].isin(FAILED_OUTCOMES) & v["same_day"] & (v["hours"] > 0)]
    if len(failed) >= MIN_REVISITS:
        params["installation.failed_visit_hours"] = round(float(np.median(failed["hours"])), 3)
        diagnostics["failed_visit_hours"] = describe(failed["hours"].to_numpy(float))
    else:
        notes.append(
            f"{len(failed)} timed failed visits (< {MIN_REVISITS}): failed_visit_hours not fitted"
        )

    timing = (
        "visits across nights in crew working hours"
        if multi_day == "crew_calendar"
        else "same-day visits only"
    )
    return FitResult(
        fit=fit,
        params=params,
        n=n,
        method=(
            "least squares on the log scale of log(hours) = log(setup + per_fixture x size) + "
            f"log(effort) over first work visits (completed or rework; {timing}), scaled by Duan "
            "smearing so the effort factor has mean 1; effort lognormal with the log-residual sd; "
            "log-linear log(hours) = a + b log(size) fitted alongside for comparison; revisit "
            "fraction as the mean ratio to the fitted job, failed-visit hours as the median"
        ),
        quality=(
            f"setup {setup:.2f} ± {se_setup:.2f} h, {per_fixture:.3f} ± {se_per_fixture:.3f} "
            f"h/fixture, log R² {tf['r2']:.2f}, effort sd {effort_sd:.2f}; log-linear "
            f"alternative b={coef[1]:.2f} ± {se[1]:.2f}, ΔAIC {delta_aic:+.1f} vs the twin's form"
        ),
        diagnostics=diagnostics,
        source="visits.finished_at - visits.started_at joined to orders.size",
        notes=tuple(notes),
    )


def fit_visit_outcomes(visits: pd.DataFrame) -> FitResult:
    """rework_probability and customer_absent_probability, in the twin's conditional form."""
    fit = "installation.outcomes"
    require_columns(visits, fit, "visits", ("outcome",))
    outcome = visits["outcome"].dropna().astype(str)
    n = len(outcome)
    check_min(fit, n, MIN_VISITS, "visits with an outcome")
    counts = {k: int((outcome == k).sum()) for k in (*WORK_OUTCOMES, *FAILED_OUTCOMES, "other")}
    unknown = n - sum(counts.values())
    counts["other"] += unknown
    absent = counts["customer_absent"] / n
    went_ahead = counts["completed"] + counts["rework"]
    if went_ahead == 0:
        raise FitError(fit, n, MIN_VISITS, reason="no visit was completed or needed rework")
    rework = counts["rework"] / went_ahead
    notes: list[str] = []
    if counts["other"]:
        notes.append(
            f"{counts['other']} visits with outcome 'other' (or unknown) count in no rate "
            "but the total"
        )
    intervals = {
        "customer_absent_probability": _wilson(counts["customer_absent"], n),
        "rework_probability": _wilson(counts["rework"], went_ahead),
        "missing_material_share": _wilson(counts["missing_material"], n),
    }
    return FitResult(
        fit=fit,
        params={
            "installation.rework_probability": round(rework, 4),
            "installation.customer_absent_probability": round(absent, 4),
        },
        n=n,
        method=(
            "shares: customer absent among all visits; rework among visits that went ahead "
            "(completed or rework), as the twin decides them"
        ),
        quality=(
            f"rework {rework:.1%} (95% CI {intervals['rework_probability'][0]:.1%}-"
            f"{intervals['rework_probability'][1]:.1%}), absent {absent:.1%}; missing material "
            f"{counts['missing_material'] / n:.1%} of visits (emerges from stock, not a parameter)"
        ),
        diagnostics={
            "counts": counts,
            "shares": {k: c / n for k, c in counts.items()},
            "ci95": intervals,
        },
        source="visits.outcome",
        notes=tuple(notes),
    )


def fit_travel(
    visits: pd.DataFrame,
    orders: pd.DataFrame,
    crews: pd.DataFrame | None = None,
    *,
    max_gap_hours: float = 4.0,
) -> FitResult:
    """Travel hours within and between regions from gaps between a crew's visits on one day.

    The twin charges one leg of travel per visit, from the crew's home region to the order's
    region (``crews`` gives home regions; without it the previous job's region stands in). A gap
    also holds breaks and waiting, so the median gap is used and gaps over ``max_gap_hours``
    (a lunch or an idle afternoon) are left out: the result is an upper estimate.
    """
    fit = "installation.travel"
    require_columns(visits, fit, "visits", ("order_id", "crew_id", "started_at", "finished_at"))
    require_columns(orders, fit, "orders", ("order_id", "region"))
    v = visits.dropna(subset=["crew_id", "order_id", "started_at", "finished_at"]).copy()
    v["started_at"] = pd.to_datetime(v["started_at"])
    v["finished_at"] = pd.to_datetime(v["finished_at"])
    v = v.merge(orders[["order_id", "region"]], on="order_id", how="left")
    v = v.sort_values(["crew_id", "started_at"], kind="stable")
    prev_finish = v.groupby("crew_id")["finished_at"].shift()
    prev_region = v.groupby("crew_id")["region"].shift()
    gap = (v["started_at"] - prev_finish) / HOUR
    same_day = v["started_at"].dt.normalize() == prev_finish.dt.normalize()
    if crews is not None and {"crew_id", "region"} <= set(crews.columns):
        origin = v["crew_id"].map(crews.set_index("crew_id")["region"])
        basis = "crew home region"
    else:
        origin = prev_region
        basis = "previous job's region"
    ok = same_day & (gap >= 0) & (gap <= max_gap_hours) & origin.notna() & v["region"].notna()
    gaps = gap[ok].to_numpy(float)
    within = (origin[ok] == v.loc[ok, "region"]).to_numpy(bool)
    n = len(gaps)
    check_min(fit, n, MIN_GAPS, "same-day gaps between a crew's visits")
    if np.median(gaps) < MIN_GAP_HOURS:
        raise FitError(
            fit,
            n,
            MIN_GAPS,
            reason="a crew's visits follow each other without a gap: travel seems to be inside "
            "the visit times (setup_hours then includes it)",
        )
    params: dict[str, Any] = {}
    notes: list[str] = []
    diagnostics: dict[str, Any] = {"basis": basis, "max_gap_hours": max_gap_hours}
    for key, mask in (("within_region_hours", within), ("between_regions_hours", ~within)):
        g = gaps[mask]
        diagnostics[key] = describe(g)
        if len(g) >= MIN_GAPS:
            params[f"dispatch.travel.{key}"] = round(float(np.median(g)), 3)
        else:
            notes.append(f"{len(g)} gaps for {key} (< {MIN_GAPS}): not fitted")
    if not params:
        raise FitError(fit, n, MIN_GAPS, reason="no travel class has enough gaps")
    notes.append("gaps include breaks and waiting: travel may be overstated")
    return FitResult(
        fit=fit,
        params=params,
        n=n,
        method=(
            f"median same-day gap between a crew's consecutive visits (≤ {max_gap_hours:g} h), "
            f"by {basis} vs job region"
        ),
        quality=", ".join(f"{k.split('.')[-1]} {v:g} h" for k, v in params.items()) + f" (n={n})",
        diagnostics=diagnostics,
        source="visits (crew_id, started_at, finished_at) with orders.region",
        notes=tuple(notes),
    )


def fit_installation(
    visits: pd.DataFrame,
    orders: pd.DataFrame,
    crews: pd.DataFrame | None = None,
    *,
    multi_day: Literal["crew_calendar", "drop"] = "crew_calendar",
    crew_calendar: CalendarSpec | None = None,
) -> FitResult:
    """Work hours and outcome probabilities (both required), and travel when the data allows."""
    parts = {
        "work_hours": fit_work_hours(
            visits, orders, multi_day=multi_day, crew_calendar=crew_calendar
        ),
        "outcomes": fit_visit_outcomes(visits),
    }
    notes: list[str] = []
    try:
        parts["travel"] = fit_travel(visits, orders, crews)
    except FitError as exc:
        notes.append(f"travel not fitted ({exc}): scenario travel times stay as they are")
    params: dict[str, Any] = {}
    for part in parts.values():
        params.update(part.params)
        notes.extend(f"{part.fit}: {note}" for note in part.notes)
    return FitResult(
        fit="installation",
        params=params,
        n=parts["work_hours"].n,
        method="; ".join(f"{k}: {p.method}" for k, p in parts.items()),
        quality="; ".join(f"{k}: {p.quality}" for k, p in parts.items()),
        diagnostics={k: p.diagnostics for k, p in parts.items()},
        source="visits, orders.size, orders.region, crews.region",
        notes=tuple(notes),
        parts=parts,
    )
