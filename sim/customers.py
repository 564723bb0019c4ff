"""Customers: satisfaction from lateness, lead time and revisits; referrals from the satisfied.

A customer told of a delay in advance (by a delivery committee) minds the days late after the
notice less: those days count at ``satisfaction_per_late_day_informed``; days late before the
notice (when it came after the promise had passed) still count at the full rate.
"""

from __future__ import annotations

import math

from sim.distributions import Distribution
from sim.orders import Order
from sim.scenario import CustomersSpec

HOURS_PER_DAY = 24.0


def satisfaction_probability(
    spec: CustomersSpec,
    lateness_days: float,
    lead_time_days: float,
    revisits: int,
    informed_late_days: float = 0.0,
) -> float:
    """Logistic model of P(satisfied); lateness counts only days past the promise.

    ``lateness_days`` are the days late the customer was not told of; ``informed_late_days``
    those after advance notice of the delay.
    """
    logit = (
        spec.satisfaction_intercept
        + spec.satisfaction_per_late_day * max(0.0, lateness_days)
        + spec.satisfaction_per_lead_time_day * lead_time_days
        + spec.satisfaction_per_revisit * revisits
    )
    if informed_late_days > 0:
        per_day = spec.satisfaction_per_late_day_informed
        logit += (spec.satisfaction_per_late_day if per_day is None else per_day) * (
            informed_late_days
        )
    return 1.0 / (1.0 + math.exp(-logit))


def judge(order: Order, spec: CustomersSpec) -> None:
    """Decide the completed order's satisfaction from its pre-drawn uniform."""
    assert order.completed_at is not None
    lateness = (order.completed_at - order.promised_at) / HOURS_PER_DAY
    lead = (order.completed_at - order.created_at) / HOURS_PER_DAY
    informed_late = 0.0
    if order.informed_at is not None and lateness > 0:
        # days late counted from the later of the promise and the notice
        told = max(order.promised_at, order.informed_at)
        informed_late = max(0.0, order.completed_at - told) / HOURS_PER_DAY
        lateness -= informed_late
    p = satisfaction_probability(spec, lateness, lead, order.visits - 1, informed_late)
    order.satisfaction_probability = p
    order.satisfied = order.u_satisfaction < p


def referral_delay_hours(
    order: Order, spec: CustomersSpec, delay: Distribution | None
) -> float | None:
    """Hours until the referral order a satisfied customer brings, or None for no referral."""
    if not order.satisfied or delay is None or order.u_referral >= spec.referral_probability:
        return None
    return max(0.0, delay.ppf(order.u_referral_delay)) * HOURS_PER_DAY
