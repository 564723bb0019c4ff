"""Supplier lead times: one distribution per supplier (or shipment mode), and their punctuality.

Lead time = ``received_at - ordered_at`` in calendar days, as ``SupplierSpec.lead_time_days``
reads it. Purchase orders still open are left out (their lead time is not known yet: a supplier
with many late open orders is then fitted optimistically, so the count is reported). Negative
lead times (received before ordered: bad rows) are dropped and counted. Lead times of zero
(received the same day: a pick from the supplier's counter or a data-entry artefact) cannot be
held by a positive family, and shifting every value would bias the mean: a few (at most
``ZERO_SHARE_MAX``) are dropped and counted; more are a real point mass, so the supplier gets the
empirical distribution including them, and the note says why. Exports with dates but no
times give whole days; each is spread uniformly over +-half a day before the continuous fit
(fixed seed), otherwise the ties alone would make every family fail the Anderson-Darling test.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from calibration.fits._common import (
    DAY,
    check_min,
    describe,
    fmt_p,
    is_date_only,
    require_columns,
    span,
)
from calibration.fits.families import empirical_values, fit_duration
from calibration.fits.result import FitError, FitResult

__all__ = ["MIN_LEAD_TIMES", "ZERO_SHARE_MAX", "fit_lead_time", "fit_lead_times"]

log = logging.getLogger(__name__)

MIN_LEAD_TIMES = 20  # below this, AIC cannot tell the families apart and AD has no power
ZERO_SHARE_MAX = 0.05  # more same-day receipts than this are part of the distribution
FIT = "lead_times"


def fit_lead_time(
    purchase_orders: pd.DataFrame,
    supplier: str,
    *,
    by: str = "supplier",
    min_rows: int = MIN_LEAD_TIMES,
    n_mc_samples: int = 199,
    gof_max_n: int = 500,
    p_threshold: float = 0.01,
    seed: int = 0,
) -> FitResult:
    """The lead-time distribution of one supplier; ``params`` is its ``SupplierSpec`` entry."""
    fit = f"{FIT}[{supplier}]"
    po = require_columns(purchase_orders, fit, "purchase_orders", (by, "ordered_at", "received_at"))
    rows = po[po[by].astype(str) == str(supplier)]
    received = rows[rows["received_at"].notna() & rows["ordered_at"].notna()]
    days_all = span(received["received_at"], received["ordered_at"], DAY).to_numpy(float)
    n_open = int(len(rows) - len(received))
    n_negative = int((days_all < 0).sum())
    n_zero = int((days_all == 0).sum())
    days = days_all[days_all > 0]
    check_min(fit, len(days), min_rows, "received purchase orders with a positive lead time")

    notes: list[str] = []
    date_only = is_date_only(received["ordered_at"], received["received_at"])
    if date_only:
        rng = np.random.default_rng(seed)
        continuous = days + rng.uniform(-0.5, 0.5, size=len(days))
        notes.append("dates without times: whole days spread uniformly over ±½ day for the fit")
    else:
        continuous = days
    dur = fit_duration(
        continuous,
        unit="days",
        n_mc_samples=n_mc_samples,
        gof_max_n=gof_max_n,
        p_threshold=p_threshold,
        seed=seed,
        empirical_from=days,
    )
    notes.extend(dur.notes)
    if n_open:
        notes.append(f"{n_open} open purchase orders left out (lead time not known yet)")
    spec = dur.spec
    quality = dur.quality
    zero_share = n_zero / max(1, n_zero + len(days))
    if zero_share > ZERO_SHARE_MAX:
        spec = {"kind": "empirical", "values": empirical_values(days_all[days_all >= 0], 500)}
        quality = (
            f"empirical including {n_zero} zero-day lead times ({zero_share:.0%}, a point mass no "
            f"family holds); on positive values alone: {dur.quality}"
        )
        notes.append(
            f"{zero_share:.0%} of lead times are zero (received the day ordered): empirical "
            "distribution including them"
        )
    elif n_zero:
        notes.append(f"{n_zero} zero-day lead times dropped (received the day it was ordered)")
    if n_negative:
        notes.append(f"{n_negative} negative lead times dropped (received before ordered)")

    diagnostics: dict[str, Any] = dict(dur.diagnostics)
    diagnostics.update(
        {
            "summary": describe(days),
            "n_open": n_open,
            "n_zero": n_zero,
            "n_negative": n_negative,
            "date_only": date_only,
            "ranking": [f.family for f in dur.ranking],
            "zero_share": zero_share,
        }
    )
    if "promised_at" in po.columns:
        promised = received[received["promised_at"].notna()]
        if len(promised):
            late_days = span(promised["received_at"], promised["promised_at"], DAY).to_numpy(float)
            on_time = float((late_days <= 0).mean())
            diagnostics["on_time"] = {
                "n": len(promised),
                "rate": on_time,
                "late_days_mean_when_late": float(late_days[late_days > 0].mean())
                if (late_days > 0).any()
                else 0.0,
                "promised_days": describe(
                    span(promised["promised_at"], promised["ordered_at"], DAY).to_numpy(float)
                ),
            }
            quality += f"; on time vs promise {on_time:.0%} (n={len(promised)})"
    return FitResult(
        fit=fit,
        params={"name": str(supplier), "lead_time_days": spec},
        n=len(days),
        method=(
            "maximum likelihood (loc 0) of lognormal, gamma, Weibull, exponential; ranked by AIC; "
            "best checked by Anderson-Darling with a parametric-bootstrap p-value; empirical "
            f"distribution if p < {p_threshold} or over {ZERO_SHARE_MAX:.0%} zero-day lead times"
        ),
        quality=quality,
        diagnostics=diagnostics,
        source=(
            f"purchase_orders.received_at - purchase_orders.ordered_at where {by} = {supplier!r}"
        ),
        notes=tuple(notes),
    )


def fit_lead_times(
    purchase_orders: pd.DataFrame,
    *,
    by: str = "supplier",
    min_rows: int = MIN_LEAD_TIMES,
    skip_small: bool = False,
    n_mc_samples: int = 199,
    gof_max_n: int = 500,
    p_threshold: float = 0.01,
    seed: int = 0,
) -> FitResult:
    """Lead-time distributions of every supplier: ``params["supply.suppliers"]`` lists them.

    A supplier with fewer than ``min_rows`` usable lead times raises FitError, unless
    ``skip_small`` is set: then it is left out and named in the notes (its SKUs then need a
    supplier chosen by the planner).
    """
    po = require_columns(purchase_orders, FIT, "purchase_orders", (by, "ordered_at", "received_at"))
    names = sorted(po[by].dropna().astype(str).unique()) if len(po) else []
    if not names:
        raise FitError(FIT, 0, min_rows, reason=f"no purchase orders with a {by}")
    parts: dict[str, FitResult] = {}
    skipped: list[str] = []
    for name in names:
        try:
            parts[name] = fit_lead_time(
                po,
                name,
                by=by,
                min_rows=min_rows,
                n_mc_samples=n_mc_samples,
                gof_max_n=gof_max_n,
                p_threshold=p_threshold,
                seed=seed,
            )
        except FitError as exc:
            if not skip_small:
                raise
            log.info("lead times: skipping %s (%s)", name, exc)
            skipped.append(f"{name} ({exc.n})")
    if not parts:
        raise FitError(FIT, 0, min_rows, reason="no supplier has enough received purchase orders")
    notes = [f"{k}: {note}" for k, part in parts.items() for note in part.notes]
    if skipped:
        notes.append(f"suppliers left out, too few lead times (< {min_rows}): {', '.join(skipped)}")
    empirical = [k for k, p in parts.items() if p.params["lead_time_days"]["kind"] == "empirical"]
    quality = "; ".join(
        f"{k}: {p.params['lead_time_days']['kind']} "
        f"(n={p.n}, AD p={fmt_p(p.diagnostics['ad']['pvalue'])})"
        if "ad" in p.diagnostics
        else f"{k}: {p.params['lead_time_days']['kind']} (n={p.n})"
        for k, p in parts.items()
    )
    if empirical:
        quality += f" — no family fits for {', '.join(empirical)}: empirical used"
    return FitResult(
        fit=FIT,
        params={"supply.suppliers": [p.params for p in parts.values()]},
        n=sum(p.n for p in parts.values()),
        method=next(iter(parts.values())).method + f"; one fit per {by}",
        quality=quality,
        diagnostics={
            "suppliers": list(parts),
            "n_by_supplier": {k: p.n for k, p in parts.items()},
            "chosen": {k: p.params["lead_time_days"]["kind"] for k, p in parts.items()},
            "on_time_rate": {
                k: p.diagnostics["on_time"]["rate"]
                for k, p in parts.items()
                if "on_time" in p.diagnostics
            },
            "skipped": skipped,
        },
        source=f"purchase_orders (received_at - ordered_at, by {by})",
        notes=tuple(notes),
        parts=parts,
    )
