"""The sales promise: a fixed number of days, or a quote from the current backlog and stock.

The quote is capable-to-promise: hand-off time + backlog work ahead / crew capacity + the job
itself + (when the planner sees a shortage) the supplier lead time at the chosen confidence,
then inflated to the confidence level by a lognormal error of coefficient of variation
``quote_cv``.
"""

from __future__ import annotations

import math

from scipy.special import ndtri

from sim.scenario import PromiseSpec

HOURS_PER_DAY = 24.0


def fixed_promise_days(spec: PromiseSpec) -> float:
    return spec.fixed_days


def quoted_promise_days(
    spec: PromiseSpec,
    handoff_days: float,
    backlog_hours: float,
    job_hours: float,
    crew_hours_per_day: float,
    material_days: float,
) -> float:
    """Days to promise; ``crew_hours_per_day`` is the whole crew force's daily job capacity."""
    capacity = max(1e-9, crew_hours_per_day * spec.crew_efficiency)
    estimate = handoff_days + (backlog_hours + job_hours) / capacity + material_days
    sigma = math.sqrt(math.log1p(spec.quote_cv**2))
    quote = estimate * math.exp(float(ndtri(spec.confidence)) * sigma)
    return max(spec.min_days, math.ceil(quote))
