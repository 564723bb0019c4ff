"""The customer-delivery committee: a recurring meeting that acts on orders at risk.

At the end of each meeting the committee reviews the open orders. An order is **at risk** when

- its promise falls within ``risk_horizon_days`` of now (or has already passed, when
  ``include_late_orders``), and
- the committee's expected completion is later than ``promised_at - risk_margin_days``.

The expected completion is the planners' estimate, like a quote without the safety margin:
hand-off (done, or sales' expected hand-off time), then the larger of the queue wait and the
material wait, where the queue wait is the expected work of every open order created up to and
including this one at the crews' effective capacity (crew hours per day x
``promise.crew_efficiency``), and the material wait the supplier's mean lead time of any SKU
short for it (its backorder if reserved, else as the possibly stale stock view shows it).

For each order at risk, earliest promise first and at most ``max_orders_per_meeting``, the
committee (each action a switch):

- ``reserve_kit``: reserves the kit now if the order holds none (what stock cannot cover is
  backordered, as at hand-off);
- ``expedite_shortfall``: places expedited purchase orders for the backordered quantity it has
  not expedited before, where the SKU's supplier offers expediting (premium costed);
- ``prioritize``: flags the order, and the dispatcher serves flagged orders first;
- ``inform_customer``: tells the customer the expected completion as a new date, once
  (customers then count days late after the notice at ``satisfaction_per_late_day_informed``).

The meeting costs ``duration_hours x members`` person-hours at ``costs.meeting_hour``.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import simpy

from sim.orders import Order
from sim.policies.schedule import occurrences

if TYPE_CHECKING:
    from sim.model import Model

log = logging.getLogger(__name__)
HOURS_PER_DAY = 24.0


@dataclass
class CommitteeCounts:
    meetings: int = 0
    orders_at_risk: int = 0  # summed over meetings (an order can be at risk at several)
    orders_acted_on: int = 0
    kits_reserved: int = 0
    units_expedited: int = 0
    orders_prioritized: int = 0
    customers_informed: int = 0


class Committee:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.spec = model.scenario.committee
        self.counts = CommitteeCounts()
        self._expedited: dict[tuple[str, str], int] = {}  # (order, SKU) -> units expedited

    def process(self) -> Generator[simpy.Event, None, None]:
        model, spec = self.model, self.spec
        env = model.env
        for start in occurrences(
            model.office_calendar,
            spec.start_day,
            spec.period_days,
            spec.meeting_weekday,
            spec.meeting_hour,
        ):
            if start >= model.horizon:
                return
            yield env.timeout(max(0.0, start - env.now))
            model.ledger.add_meeting(env.now, spec.duration_hours * spec.members)
            if spec.duration_hours > 0:
                yield env.timeout(spec.duration_hours)
            self.review(env.now)

    # --- the review -------------------------------------------------------------------------
    def at_risk(self, now: float) -> list[tuple[Order, float]]:
        """Open orders at risk at ``now`` with their expected completion, earliest promise first."""
        model, spec = self.model, self.spec
        capacity = model.crew_hours_per_day * model.promise_spec.crew_efficiency
        due_by = now + spec.risk_horizon_days * HOURS_PER_DAY
        margin = spec.risk_margin_days * HOURS_PER_DAY
        work = 0.0
        found: list[tuple[Order, float]] = []
        for order in model.open_orders.values():  # in creation order
            work += model.expected_job_hours(order)
            promised = order.promised_at
            if promised > due_by or (promised < now and not spec.include_late_orders):
                continue
            expected = self.expected_completion(order, now, work / max(capacity, 1e-9))
            if expected > promised - margin:
                found.append((order, expected))
        found.sort(key=lambda pair: pair[0].promised_at)
        return found

    def expected_completion(self, order: Order, now: float, queue_days: float) -> float:
        model = self.model
        if order.handed_off_at is not None:
            ready = now
        else:
            handoff_days = model.handoff.expected_days(order.created_at)
            ready = max(now, order.created_at + handoff_days * HOURS_PER_DAY)
        supply = model.supply
        if order.picked or not order.bom:
            short: list[str] = []
        elif order.reserved:
            short = list(order.shortfall)
        else:
            short = supply.seen_shortage(order.bom, now)
        material_days = max((supply.mean_lead_days(sku) for sku in short), default=0.0)
        return ready + max(queue_days, material_days) * HOURS_PER_DAY

    def review(self, now: float) -> None:
        spec, counts = self.spec, self.counts
        found = self.at_risk(now)
        counts.meetings += 1
        counts.orders_at_risk += len(found)
        if spec.max_orders_per_meeting is not None:
            found = found[: spec.max_orders_per_meeting]
        for order, expected in found:
            self.act(order, expected, now)
        log.debug("committee at %.1f h: %d orders at risk", now, len(found))

    def act(self, order: Order, expected: float, now: float) -> None:
        spec, counts, supply = self.spec, self.counts, self.model.supply
        counts.orders_acted_on += 1
        if spec.reserve_kit and order.bom and not order.reserved and not order.picked:
            supply.reserve(order)
            counts.kits_reserved += 1
        if spec.expedite_shortfall:
            for sku, qty in list(order.shortfall.items()):
                key = (order.order_id, sku)
                extra = qty - self._expedited.get(key, 0)
                if extra > 0 and supply.expedite(sku, extra) is not None:
                    self._expedited[key] = qty
                    counts.units_expedited += extra
        if spec.prioritize and not order.priority:
            order.priority = True
            counts.orders_prioritized += 1
        if spec.inform_customer and not order.informed:
            order.informed = True
            order.informed_at = now
            order.revised_promise_at = expected
            counts.customers_informed += 1
