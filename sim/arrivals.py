"""Order arrivals: a non-homogeneous Poisson process by thinning, and order attributes.

The rate is base x weekday factor x month factor x trend x campaign uplift. Candidate epochs and
acceptance uniforms come from two separate streams; each accepted order then draws everything
about itself from its own stream, keyed by its arrival index (or by its parent, for referrals),
so that no policy which reorders later events can change what an order is.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Generator

import numpy as np
import simpy

from sim.distributions import Distribution, build
from sim.orders import PREDRAWN_APPROVALS, PREDRAWN_VISITS, Order
from sim.scenario import ArrivalsSpec, BomLineSpec, OrdersSpec
from sim.streams import OrderStreams, RandomStreams

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25
#: uniforms for attributes and outcomes: region, size, value, effort, satisfaction, referral,
#: referral delay, one spare; then approval steps; then (absent, rework) per visit
ATTRIBUTE_DRAWS = 8
UNIFORMS_PER_ORDER = ATTRIBUTE_DRAWS + PREDRAWN_APPROVALS + 2 * PREDRAWN_VISITS


class ArrivalRate:
    """The intensity lambda(t) of order arrivals, in orders per hour, t in simulation hours."""

    def __init__(self, spec: ArrivalsSpec, start_date: dt.date) -> None:
        self.spec = spec
        self._start_weekday = start_date.weekday()
        self._start_ordinal = start_date.toordinal()
        self._growth = math.log1p(spec.trend_per_year)
        # month of each day of a long horizon, looked up per candidate arrival
        self._month_of_day = [
            dt.date.fromordinal(self._start_ordinal + d).month - 1 for d in range(366 * 12)
        ]

    def month_index(self, day: int) -> int:
        if 0 <= day < len(self._month_of_day):
            return self._month_of_day[day]
        return dt.date.fromordinal(self._start_ordinal + day).month - 1

    def per_day(self, t: float) -> float:
        spec = self.spec
        day = int(t // HOURS_PER_DAY)
        rate = (
            spec.base_rate_per_day
            * spec.weekday_factors[(self._start_weekday + day) % 7]
            * spec.month_factors[self.month_index(day)]
            * math.exp(self._growth * t / (HOURS_PER_DAY * DAYS_PER_YEAR))
        )
        for campaign in spec.campaigns:
            start = campaign.start_day * HOURS_PER_DAY
            if start <= t < start + campaign.length_days * HOURS_PER_DAY:
                rate *= 1.0 + campaign.uplift
        return rate

    def upper_bound_per_day(self, horizon_hours: float) -> float:
        """A bound of the rate over [0, horizon], the dominating rate of the thinning."""
        spec = self.spec
        trend = max(1.0, math.exp(self._growth * horizon_hours / (HOURS_PER_DAY * DAYS_PER_YEAR)))
        uplift = 1.0
        for campaign in spec.campaigns:
            uplift *= max(1.0, 1.0 + campaign.uplift)  # overlapping campaigns multiply
        return (
            spec.base_rate_per_day
            * max(spec.weekday_factors)
            * max(spec.month_factors)
            * trend
            * uplift
        )


class OrderFactory:
    """Draws a new order's attributes and its pre-drawn uniforms from the order's own stream."""

    def __init__(
        self, spec: OrdersSpec, effort: Distribution | None, streams: RandomStreams
    ) -> None:
        self.streams = OrderStreams(streams, UNIFORMS_PER_ORDER)
        self.regions = tuple(spec.regions)
        weights = np.array([spec.regions[r] for r in self.regions], dtype=float)
        self._region_cdf = np.cumsum(weights / weights.sum())
        self._size: Distribution = build(spec.size_fixtures)
        self._value: Distribution = build(spec.value_per_fixture)
        self._bom: tuple[BomLineSpec, ...] = spec.bom
        self.effort = effort

    def make(
        self, key: tuple[int, int], order_id: str, now: float, parent_id: str | None = None
    ) -> Order:
        """Order ``key`` = (arrival index, referral generation), created at ``now``."""
        u = self.streams.uniforms(*key)
        region = self.regions[
            min(int(np.searchsorted(self._region_cdf, u[0])), len(self.regions) - 1)
        ]
        size = max(1, round(self._size.ppf(u[1])))
        value = size * max(0.0, self._value.ppf(u[2]))
        effort = 1.0 if self.effort is None else max(0.05, self.effort.ppf(u[3]))
        bom = {
            line.sku: math.ceil(line.qty_per_fixture * size + line.qty_per_order)
            for line in self._bom
        }
        approvals = u[ATTRIBUTE_DRAWS : ATTRIBUTE_DRAWS + PREDRAWN_APPROVALS]
        visits = u[ATTRIBUTE_DRAWS + PREDRAWN_APPROVALS :].reshape(PREDRAWN_VISITS, 2)
        return Order(
            order_id=order_id,
            key=key,
            created_at=now,
            region=region,
            size_fixtures=size,
            value=value,
            bom={sku: qty for sku, qty in bom.items() if qty > 0},
            effort_factor=effort,
            u_approvals=approvals,
            u_visits=visits,
            u_satisfaction=float(u[4]),
            u_referral=float(u[5]),
            u_referral_delay=float(u[6]),
            parent_id=parent_id,
        )


def arrival_process(
    env: simpy.Environment,
    rate: ArrivalRate,
    horizon_hours: float,
    streams: RandomStreams,
    factory: OrderFactory,
    on_order: Callable[[Order], None],
) -> Generator[simpy.Event, None, None]:
    """Generate orders by thinning until the horizon; hand each to ``on_order``."""
    epochs = streams.generator("arrival_times")
    thinning = streams.generator("arrival_thinning")
    bound = rate.upper_bound_per_day(horizon_hours) / HOURS_PER_DAY
    mean_gap = 1.0 / bound
    index = 0
    t = 0.0
    while True:
        t += epochs.exponential(mean_gap)
        if t >= horizon_hours:
            return
        if thinning.random() * bound > rate.per_day(t) / HOURS_PER_DAY:
            continue
        yield env.timeout(t - env.now)
        on_order(factory.make((index, 0), f"O{index:06d}", env.now))
        index += 1
