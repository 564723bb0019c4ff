"""Material supply: stock per SKU, reservations, replenishment, suppliers.

Stock on hand is split into *available* and *allocated* (reserved for an order, not yet
installed). An order asks for its bill of materials either at hand-off or when a crew is
dispatched; what stock cannot cover is backordered and filled first-in first-out as purchase
orders arrive. Replenishment follows (s,S) or (R,Q) on the inventory position
(available + on order - backordered), reviewed periodically or after every demand. Suppliers
have lead-time distributions and random disruptions that hold receipts until they end; a
shortfall older than a threshold can be expedited at a premium. Planners may see available stock
as it was some hours ago, which is how a crew comes to arrive without its kit.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.distributions import Distribution, build
from sim.orders import Order
from sim.scenario import SkuSpec, SupplierSpec, SupplySpec
from sim.streams import RandomStreams, name_key

log = logging.getLogger(__name__)
HOURS_PER_DAY = 24.0


@dataclass(slots=True)
class PurchaseOrder:
    po_id: int
    sku: str
    supplier: str
    qty: int
    ordered_at: float
    due_at: float
    received_at: float | None = None
    expedited: bool = False
    premium: float = 0.0


@dataclass(slots=True)
class Supplier:
    spec: SupplierSpec
    lead_time: Distribution
    expedite_lead_time: Distribution | None
    lead_rng: np.random.Generator
    expedite_rng: np.random.Generator
    disruptions: list[tuple[float, float]]  # (start, end) hours, sorted

    def release_time(self, due: float) -> float:
        """When a receipt due at ``due`` actually arrives, after any disruption holding it."""
        for start, end in self.disruptions:
            if start <= due < end:
                due = end
        return due


@dataclass(slots=True)
class SkuState:
    spec: SkuSpec
    available: int
    allocated: int = 0
    on_order: int = 0
    backordered: int = 0
    backorders: deque[Order] = field(default_factory=deque)
    history_t: list[float] = field(default_factory=list)
    history_available: list[int] = field(default_factory=list)

    @property
    def unlimited(self) -> bool:
        return self.spec.policy == "unlimited"

    @property
    def position(self) -> int:
        return self.available + self.on_order - self.backordered

    @property
    def on_hand(self) -> int:
        return self.available + self.allocated


def disruption_schedule(
    spec: SupplierSpec, rng: np.random.Generator, horizon_hours: float
) -> list[tuple[float, float]]:
    if spec.disruptions_per_year <= 0 or spec.disruption_days is None:
        return []
    length = build(spec.disruption_days)
    mean_gap = 365.25 * HOURS_PER_DAY / spec.disruptions_per_year
    schedule: list[tuple[float, float]] = []
    t = 0.0
    while True:
        t += rng.exponential(mean_gap)
        if t >= horizon_hours:
            return schedule
        schedule.append((t, t + max(0.0, length.sample(rng)) * HOURS_PER_DAY))


class Supply:
    """The stock of every SKU and the purchase orders that replenish it."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: SupplySpec,
        streams: RandomStreams,
        horizon_hours: float,
        on_kit_complete: Callable[[Order], None],
        on_stock_visible: Callable[[], None],
    ) -> None:
        self.env = env
        self.spec = spec
        self.delay = spec.stock_visibility_delay_hours
        self._on_kit_complete = on_kit_complete
        self._on_stock_visible = on_stock_visible
        self.suppliers: dict[str, Supplier] = {}
        for s in spec.suppliers:
            key = name_key(s.name)
            self.suppliers[s.name] = Supplier(
                spec=s,
                lead_time=build(s.lead_time_days),
                expedite_lead_time=build(s.expedite_lead_time_days)
                if s.expedite_lead_time_days
                else None,
                lead_rng=streams.generator("supplier_lead_times", key),
                expedite_rng=streams.generator("expedite_lead_times", key),
                disruptions=disruption_schedule(
                    s, streams.generator("supplier_disruptions", key), horizon_hours
                ),
            )
        self.skus: dict[str, SkuState] = {
            s.name: SkuState(spec=s, available=s.initial_on_hand) for s in spec.skus
        }
        for state in self.skus.values():
            state.history_t.append(-math.inf)
            state.history_available.append(state.available)
        self.purchase_orders: list[PurchaseOrder] = []
        if spec.review == "periodic" and self.skus:
            env.process(self._periodic_review())

    # --- demand -------------------------------------------------------------------------
    def reserve(self, order: Order) -> bool:
        """Allocate the order's materials; backorder the rest. True when the kit is complete.

        Reserving twice (a committee secured the kit before hand-off reserves it again) changes
        nothing: an order holds one reservation.
        """
        if order.reserved:
            return not order.shortfall
        now = self.env.now
        order.reserved = True
        order.material_requested_at = now
        for sku, qty in order.bom.items():
            state = self.skus[sku]
            if state.unlimited:
                continue
            take = min(qty, state.available)
            if take:
                self._set_available(state, state.available - take)
                state.allocated += take
            if qty > take:
                order.shortfall[sku] = qty - take
                state.backordered += qty - take
                state.backorders.append(order)
                self._schedule_expedite(order, sku)
            if self.spec.review == "continuous":
                self._replenish(state)
        if order.shortfall:
            order.met_stockout = True
            return False
        order.kit_complete_at = now
        return True

    def pick_for_visit(self, order: Order) -> bool:
        """Take the order's kit for a visit. False when any part is missing.

        A reserved order takes its allocation (complete or not). An unreserved order picks from
        available stock only if every line is there; otherwise it picks nothing. A kit once
        picked stays with the order (on the van) for later visits.
        """
        if order.picked or not order.bom:
            return True
        if order.reserved:
            if order.shortfall:
                return False
            for sku, qty in order.bom.items():
                state = self.skus[sku]
                if not state.unlimited:
                    state.allocated -= qty
            order.picked = True
            return True
        states = [(self.skus[sku], qty) for sku, qty in order.bom.items()]
        if any(not s.unlimited and s.available < qty for s, qty in states):
            return False
        now = self.env.now
        order.material_requested_at = now
        order.kit_complete_at = now
        for state, qty in states:
            if state.unlimited:
                continue
            self._set_available(state, state.available - qty)
            if self.spec.review == "continuous":
                self._replenish(state)
        order.picked = True
        return True

    # --- what planners see ----------------------------------------------------------------
    def seen_available(self, sku: str, now: float) -> int | float:
        state = self.skus[sku]
        if state.unlimited:
            return math.inf
        if self.delay <= 0:
            return state.available
        i = bisect.bisect_right(state.history_t, now - self.delay) - 1
        return state.history_available[i]

    def kit_seen_complete(self, order: Order, now: float) -> bool:
        """Whether the planner's (possibly stale) view says the order's kit is there."""
        if order.picked:
            return True
        if order.reserved:
            return order.kit_complete_at is not None and order.kit_complete_at + self.delay <= now
        return all(self.seen_available(sku, now) >= qty for sku, qty in order.bom.items())

    def seen_shortage(self, bom: dict[str, int], now: float) -> list[str]:
        return [sku for sku, qty in bom.items() if self.seen_available(sku, now) < qty]

    # --- replenishment --------------------------------------------------------------------
    def _set_available(self, state: SkuState, value: int) -> None:
        state.available = value
        if self.delay > 0:
            state.history_t.append(self.env.now)
            state.history_available.append(value)

    def _periodic_review(self) -> Generator[simpy.Event, None, None]:
        period = self.spec.review_period_days * HOURS_PER_DAY
        yield self.env.timeout(self.spec.review_hour)
        while True:
            for state in self.skus.values():
                self._replenish(state)
            yield self.env.timeout(period)

    def _replenish(self, state: SkuState) -> None:
        spec = state.spec
        if state.unlimited or state.position > spec.reorder_point:
            return
        if spec.policy == "sS":
            assert spec.order_up_to is not None
            qty = spec.order_up_to - state.position
        else:
            assert spec.order_quantity is not None
            shortfall = spec.reorder_point - state.position
            qty = (shortfall // spec.order_quantity + 1) * spec.order_quantity
        self._place(state, qty, expedite=False)

    def _place(self, state: SkuState, qty: int, expedite: bool) -> PurchaseOrder:
        supplier = self.suppliers[state.spec.supplier]
        now = self.env.now
        if expedite:
            assert supplier.expedite_lead_time is not None
            lead_days = supplier.expedite_lead_time.sample(supplier.expedite_rng)
        else:
            lead_days = supplier.lead_time.sample(supplier.lead_rng)
        due = supplier.release_time(now + max(0.0, lead_days) * HOURS_PER_DAY)
        po = PurchaseOrder(
            po_id=len(self.purchase_orders),
            sku=state.spec.name,
            supplier=supplier.spec.name,
            qty=qty,
            ordered_at=now,
            due_at=due,
            expedited=expedite,
            premium=qty * supplier.spec.expedite_premium_per_unit if expedite else 0.0,
        )
        self.purchase_orders.append(po)
        state.on_order += qty
        self.env.timeout(due - now).callbacks.append(lambda _e, po=po: self._receive(po))
        return po

    def _receive(self, po: PurchaseOrder) -> None:
        now = self.env.now
        po.received_at = now
        state = self.skus[po.sku]
        state.on_order -= po.qty
        available = state.available + po.qty
        while state.backorders and available > 0:
            order = state.backorders[0]
            need = order.shortfall.get(po.sku, 0)
            take = min(need, available)
            available -= take
            state.allocated += take
            state.backordered -= take
            if take == need:
                state.backorders.popleft()
                del order.shortfall[po.sku]
                if not order.shortfall:
                    order.kit_complete_at = now
                    order.material_wait_hours = now - (order.material_requested_at or now)
                    self._on_kit_complete(order)
            else:
                order.shortfall[po.sku] = need - take
        self._set_available(state, available)
        if self.delay > 0:
            self.env.timeout(self.delay).callbacks.append(lambda _e: self._on_stock_visible())
        else:
            self._on_stock_visible()
        if self.spec.review == "continuous":
            self._replenish(state)

    def expedite(self, sku: str, qty: int) -> PurchaseOrder | None:
        """Place an expedited purchase order (at the supplier's premium), e.g. for a committee.

        None when there is nothing to order or the SKU's supplier offers no faster option.
        """
        state = self.skus[sku]
        if qty <= 0 or state.unlimited or not self.can_expedite(sku):
            return None
        log.debug("expediting %d x %s on request", qty, sku)
        return self._place(state, qty, expedite=True)

    def can_expedite(self, sku: str) -> bool:
        return self.suppliers[self.skus[sku].spec.supplier].expedite_lead_time is not None

    def mean_lead_days(self, sku: str) -> float:
        """The mean regular lead time of the SKU's supplier, days (for planners' estimates)."""
        state = self.skus[sku]
        return 0.0 if state.unlimited else self.suppliers[state.spec.supplier].lead_time.mean

    def _schedule_expedite(self, order: Order, sku: str) -> None:
        after = self.spec.expedite_after_days
        supplier = self.suppliers[self.skus[sku].spec.supplier]
        if after is None or supplier.expedite_lead_time is None:
            return  # no policy, or the supplier offers no faster option

        def expedite(_event: simpy.Event) -> None:
            remaining = order.shortfall.get(sku, 0)
            if remaining > 0:
                log.debug("expediting %d x %s for %s", remaining, sku, order.order_id)
                self._place(self.skus[sku], remaining, expedite=True)

        self.env.timeout(after * HOURS_PER_DAY).callbacks.append(expedite)
