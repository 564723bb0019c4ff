"""Customers: satisfaction from lateness, lead time and revisits; referrals from the satisfied."""

from __future__ import annotations

import math

from sim.distributions import Distribution
from sim.orders import Order
from sim.scenario import CustomersSpec

HOURS_PER_DAY = 24.0


def satisfaction_probability(
    spec: CustomersSpec, lateness_days: float, lead_time_days: float, revisits: int
) -> float:
    """Logistic model of P(satisfied); lateness counts only days past the promise."""
    logit = (
        spec.satisfaction_intercept
        + spec.satisfaction_per_late_day * max(0.0, lateness_days)
        + spec.satisfaction_per_lead_time_day * lead_time_days
        + spec.satisfaction_per_revisit * revisits
    )
    return 1.0 / (1.0 + math.exp(-logit))


def judge(order: Order, spec: CustomersSpec) -> None:
    """Decide the completed order's satisfaction from its pre-drawn uniform."""
    assert order.completed_at is not None
    lateness = (order.completed_at - order.promised_at) / HOURS_PER_DAY
    lead = (order.completed_at - order.created_at) / HOURS_PER_DAY
    p = satisfaction_probability(spec, lateness, lead, order.visits - 1)
    order.satisfaction_probability = p
    order.satisfied = order.u_satisfaction < p


def referral_delay_hours(
    order: Order, spec: CustomersSpec, delay: Distribution | None
) -> float | None:
    """Hours until the referral order a satisfied customer brings, or None for no referral."""
    if not order.satisfied or delay is None or order.u_referral >= spec.referral_probability:
        return None
    return max(0.0, delay.ppf(order.u_referral_delay)) * HOURS_PER_DAY
