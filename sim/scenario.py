"""The scenario schema: one company under one set of policies, as frozen, validated data.

Units are in the key names (``_hours``, ``_days``, ``_per_day``, ``_per_unit``...). Every model
input is here, so a sensitivity analysis can vary any of them. Impossible combinations (a
calendar without working hours, an order-up-to level below its reorder point, probabilities
outside [0, 1]) are rejected at load.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.distributions import DistributionSpec

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunSpec(Frozen):
    start_date: dt.date = dt.date(2025, 1, 6)
    duration_days: Positive = 421.0
    warmup_days: NonNegative = 56.0

    @model_validator(mode="after")
    def _warmup_inside(self) -> RunSpec:
        if self.warmup_days >= self.duration_days:
            raise ValueError(
                f"warmup_days ({self.warmup_days}) must be shorter than duration_days "
                f"({self.duration_days})"
            )
        return self


class CalendarSpec(Frozen):
    work_days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    shift_start_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 8.0
    shift_end_hour: Annotated[float, Field(gt=0.0, le=24.0)] = 17.0
    holidays: tuple[dt.date, ...] = ()

    @model_validator(mode="after")
    def _has_working_hours(self) -> CalendarSpec:
        if not self.work_days:
            raise ValueError("a calendar needs at least one work day; work_days is empty")
        if self.shift_end_hour <= self.shift_start_hour:
            raise ValueError(
                f"shift_end_hour ({self.shift_end_hour}) must be after shift_start_hour "
                f"({self.shift_start_hour}): the calendar would have no working hours"
            )
        return self

    @property
    def weekday_numbers(self) -> tuple[int, ...]:
        return tuple(sorted({WEEKDAYS.index(d) for d in self.work_days}))


class CampaignSpec(Frozen):
    start_day: NonNegative  # days since start_date
    length_days: Positive
    uplift: Annotated[float, Field(gt=-1.0)]  # +0.3 = 30 % more orders while it runs


class ArrivalsSpec(Frozen):
    base_rate_per_day: Positive
    weekday_factors: Annotated[tuple[NonNegative, ...], Field(min_length=7, max_length=7)] = (
        1.0,
    ) * 7
    month_factors: Annotated[tuple[NonNegative, ...], Field(min_length=12, max_length=12)] = (
        1.0,
    ) * 12
    trend_per_year: Annotated[float, Field(gt=-1.0)] = 0.0  # compound growth of the base rate
    campaigns: tuple[CampaignSpec, ...] = ()

    @model_validator(mode="after")
    def _some_demand(self) -> ArrivalsSpec:
        if max(self.weekday_factors) <= 0 or max(self.month_factors) <= 0:
            raise ValueError("weekday_factors and month_factors need at least one positive value")
        return self


class BomLineSpec(Frozen):
    sku: str
    qty_per_fixture: NonNegative = 0.0
    qty_per_order: NonNegative = 0.0

    @model_validator(mode="after")
    def _some_quantity(self) -> BomLineSpec:
        if self.qty_per_fixture == 0 and self.qty_per_order == 0:
            raise ValueError(f"bill-of-materials line for {self.sku!r} has no quantity")
        return self


class OrdersSpec(Frozen):
    regions: dict[str, Positive]  # region -> relative weight of orders
    size_fixtures: DistributionSpec  # rounded to a whole number, at least 1
    value_per_fixture: DistributionSpec  # currency per fixture, revenue on completion
    bom: tuple[BomLineSpec, ...] = ()

    @model_validator(mode="after")
    def _regions(self) -> OrdersSpec:
        if not self.regions:
            raise ValueError("orders.regions needs at least one region")
        return self


class PromiseSpec(Frozen):
    policy: Literal["fixed", "quoted"] = "fixed"
    fixed_days: NonNegative = 3.0  # calendar days from order creation
    confidence: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.8  # quoted: P(meeting the date)
    quote_cv: NonNegative = 0.35  # quoted: relative uncertainty of the lead-time estimate
    min_days: NonNegative = 1.0  # quoted: never promise sooner than this
    crew_efficiency: Annotated[float, Field(gt=0.0, le=1.0)] = (
        0.8  # share of shift hours spent on jobs
    )


class HandoffSpec(Frozen):
    mode: Literal["batched", "immediate"] = "batched"
    meeting_weekday: Weekday = "mon"  # batched: weekly sales-to-engineering meeting
    meeting_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 10.0
    approval_steps: Annotated[int, Field(ge=0, le=8)] = 0
    approval_delay_hours: DistributionSpec | None = None  # office working hours per step

    @model_validator(mode="after")
    def _delay_needed(self) -> HandoffSpec:
        if self.approval_steps > 0 and self.approval_delay_hours is None:
            raise ValueError("approval_steps > 0 needs approval_delay_hours")
        return self


class SupplierSpec(Frozen):
    name: str
    lead_time_days: DistributionSpec  # calendar days from order to receipt
    disruptions_per_year: NonNegative = 0.0  # Poisson rate of supply disruptions
    disruption_days: DistributionSpec | None = None  # length of one disruption
    expedite_lead_time_days: DistributionSpec | None = None
    expedite_premium_per_unit: NonNegative = 0.0

    @model_validator(mode="after")
    def _disruption_length(self) -> SupplierSpec:
        if self.disruptions_per_year > 0 and self.disruption_days is None:
            raise ValueError("disruptions_per_year > 0 needs disruption_days")
        return self


class SkuSpec(Frozen):
    name: str
    supplier: str
    unit_cost: NonNegative
    initial_on_hand: Annotated[int, Field(ge=0)] = 0
    policy: Literal["sS", "RQ", "unlimited"] = "sS"
    reorder_point: int = 0  # s or R, in units of inventory position
    order_up_to: int | None = None  # S, for policy sS
    order_quantity: Annotated[int, Field(ge=1)] | None = None  # Q, for policy RQ

    @model_validator(mode="after")
    def _policy_levels(self) -> SkuSpec:
        if self.policy == "sS":
            if self.order_up_to is None:
                raise ValueError(f"SKU {self.name!r}: policy sS needs order_up_to")
            if self.order_up_to <= self.reorder_point:
                raise ValueError(
                    f"SKU {self.name!r}: order_up_to ({self.order_up_to}) must be above "
                    f"reorder_point ({self.reorder_point})"
                )
        if self.policy == "RQ" and self.order_quantity is None:
            raise ValueError(f"SKU {self.name!r}: policy RQ needs order_quantity")
        return self


class SupplySpec(Frozen):
    review: Literal["periodic", "continuous"] = "periodic"
    review_period_days: Positive = 7.0
    review_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 9.0
    reserve_at: Literal["handoff", "dispatch"] = "dispatch"
    stock_visibility_delay_hours: NonNegative = 0.0  # planners see stock as it was this long ago
    expedite_after_days: Positive | None = (
        None  # expedite a shortfall older than this; None = never
    )
    holding_cost_rate_per_year: NonNegative = 0.25  # share of stock value per year
    suppliers: tuple[SupplierSpec, ...] = ()
    skus: tuple[SkuSpec, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> SupplySpec:
        names = [s.name for s in self.suppliers]
        if len(set(names)) != len(names):
            raise ValueError(f"supplier names must be unique, got {names}")
        sku_names = [s.name for s in self.skus]
        if len(set(sku_names)) != len(sku_names):
            raise ValueError(f"SKU names must be unique, got {sku_names}")
        for sku in self.skus:
            if sku.supplier not in names:
                raise ValueError(
                    f"SKU {sku.name!r} names supplier {sku.supplier!r}, which is not in "
                    f"supply.suppliers {names}"
                )
        return self


class CrewSpec(Frozen):
    name: str
    home_region: str
    count: Annotated[int, Field(ge=1)] = 1  # identical crews sharing this definition
    calendar: CalendarSpec | None = None  # this crew's own hours; default: crew_calendar


class TravelSpec(Frozen):
    within_region_hours: NonNegative = 0.5  # one way, working hours
    between_regions_hours: NonNegative = 1.5


class DispatchSpec(Frozen):
    rule: Literal["fifo", "earliest_promise", "shortest_job", "region_cluster"] = "fifo"
    kit_check: bool = False  # dispatch only orders whose kit is seen complete
    crews: tuple[CrewSpec, ...]
    travel: TravelSpec = TravelSpec()
    max_overtime_hours_per_day: NonNegative = 0.0  # finish a visit late rather than come back

    @model_validator(mode="after")
    def _unique_crews(self) -> DispatchSpec:
        names = [c.name for c in self.crews]
        if not names:
            raise ValueError("dispatch.crews needs at least one crew")
        if len(set(names)) != len(names):
            raise ValueError(f"crew names must be unique, got {names}")
        return self


class InstallationSpec(Frozen):
    setup_hours: NonNegative = 1.0  # per visit with work, on site
    hours_per_fixture: NonNegative = 0.75
    effort_factor: DistributionSpec | None = None  # multiplies the job's hours; mean ~1
    rework_probability: Probability = 0.1  # work done but must be redone on a revisit
    rework_hours_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.4
    customer_absent_probability: Probability = 0.05
    failed_visit_hours: NonNegative = 0.5  # on site when the visit cannot go ahead


class CustomersSpec(Frozen):
    # logit P(satisfied) = intercept + lateness coef * days late + lead-time coef * lead-time days
    #                      + revisit coef * extra visits
    satisfaction_intercept: float = 2.0
    satisfaction_per_late_day: float = -0.25
    satisfaction_per_lead_time_day: float = -0.02
    satisfaction_per_revisit: float = -0.5
    referral_probability: Probability = 0.0  # a satisfied customer brings one new order
    referral_delay_days: DistributionSpec | None = None

    @model_validator(mode="after")
    def _referral_delay(self) -> CustomersSpec:
        if self.referral_probability > 0 and self.referral_delay_days is None:
            raise ValueError("referral_probability > 0 needs referral_delay_days")
        return self


class CostsSpec(Frozen):
    crew_hour_regular: NonNegative = 45.0  # per crew-hour of shift, busy or idle
    crew_hour_overtime: NonNegative = 70.0
    travel_per_hour: NonNegative = 15.0  # vehicle cost on top of crew time
    revisit: NonNegative = 60.0  # admin and materials per failed visit
    purchase_order_fixed: NonNegative = 25.0  # per purchase order placed


class Scenario(Frozen):
    """One company under one set of policies."""

    name: str
    description: str = ""
    run: RunSpec = RunSpec()
    office_calendar: CalendarSpec = CalendarSpec()
    crew_calendar: CalendarSpec = CalendarSpec()
    arrivals: ArrivalsSpec
    orders: OrdersSpec
    promise: PromiseSpec = PromiseSpec()
    handoff: HandoffSpec = HandoffSpec()
    supply: SupplySpec = SupplySpec()
    dispatch: DispatchSpec
    installation: InstallationSpec = InstallationSpec()
    customers: CustomersSpec = CustomersSpec()
    costs: CostsSpec = CostsSpec()

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        skus = {s.name for s in self.supply.skus}
        for line in self.orders.bom:
            if line.sku not in skus:
                raise ValueError(
                    f"orders.bom names SKU {line.sku!r}, which is not in supply.skus {sorted(skus)}"
                )
        for crew in self.dispatch.crews:
            if crew.home_region not in self.orders.regions:
                raise ValueError(
                    f"crew {crew.name!r} has home_region {crew.home_region!r}, which is not in "
                    f"orders.regions {sorted(self.orders.regions)}"
                )
        if self.dispatch.kit_check and not self.orders.bom:
            raise ValueError("dispatch.kit_check needs a bill of materials (orders.bom is empty)")
        return self


def scenario_hash(scenario: Scenario) -> str:
    """A stable content hash of the resolved scenario (what a result was computed from)."""
    import hashlib
    import json

    payload = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
