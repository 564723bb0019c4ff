"""The scenario schema: one company under one set of policies, as frozen, validated data.

Units are in the key names (``_hours``, ``_days``, ``_per_day``, ``_per_unit``...). Every model
input is here, so a sensitivity analysis can vary any of them. Impossible combinations (a
calendar without working hours, an order-up-to level below its reorder point, probabilities
outside [0, 1]) are rejected at load.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

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
    # per day late *after* the customer was told of the delay (e.g. by a delivery committee):
    # notice softens lateness, so it lies between 0 and satisfaction_per_late_day. Assumed, not
    # fitted; None = notice changes nothing (the same coefficient as satisfaction_per_late_day).
    satisfaction_per_late_day_informed: float | None = None
    referral_probability: Probability = 0.0  # a satisfied customer brings one new order
    referral_delay_days: DistributionSpec | None = None

    @model_validator(mode="after")
    def _referral_delay(self) -> CustomersSpec:
        if self.referral_probability > 0 and self.referral_delay_days is None:
            raise ValueError("referral_probability > 0 needs referral_delay_days")
        informed = self.satisfaction_per_late_day_informed
        late = self.satisfaction_per_late_day
        if informed is not None and not min(late, 0.0) <= informed <= max(late, 0.0):
            raise ValueError(
                f"satisfaction_per_late_day_informed ({informed}) must lie between 0 and "
                f"satisfaction_per_late_day ({late}): advance notice can soften lateness, not "
                "worsen it or make it pleasant"
            )
        return self


class CostsSpec(Frozen):
    crew_hour_regular: NonNegative = 45.0  # per crew-hour of shift, busy or idle
    crew_hour_overtime: NonNegative = 70.0
    travel_per_hour: NonNegative = 15.0  # vehicle cost on top of crew time
    revisit: NonNegative = 60.0  # admin and materials per failed visit
    purchase_order_fixed: NonNegative = 25.0  # per purchase order placed
    meeting_hour: NonNegative = 60.0  # per person-hour in policy meetings (committee, VoC)
    flex_crew_hour: NonNegative = 75.0  # per shift hour of a hired flex crew, busy or idle


def _check_recurrence(what: str, period_days: float, weekday: str | None) -> None:
    if weekday is not None and period_days % 7 != 0:
        raise ValueError(
            f"{what}.period_days ({period_days}) must be a whole number of weeks when "
            f"{what} is held on a fixed weekday ({weekday!r})"
        )


class CommitteeSpec(Frozen):
    """A recurring cross-functional delivery committee (sales, projects, supply chain).

    At each meeting it reviews open orders at risk of missing their promise and, for each (most
    urgent promise first), secures and expedites its kit, moves it to the front of the dispatch
    queue and tells the customer a new date. See sim/policies/committee.py for the rules.
    """

    enabled: bool = False
    period_days: Annotated[float, Field(ge=1.0)] = 7.0  # days between meetings
    meeting_weekday: Weekday | None = None  # None: every period_days from start_day
    meeting_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 9.0  # hour of day it starts
    start_day: NonNegative = 0.0  # days after start_date before the first meeting
    duration_hours: NonNegative = 1.0  # length of one meeting, hours (costed per member)
    members: Annotated[int, Field(ge=1)] = 3  # people in the meeting (count)
    # An order is at risk when its promise is due within risk_horizon_days (or has passed, with
    # include_late_orders) and the committee's expected completion is later than the promise
    # minus risk_margin_days (a negative margin: only orders expected to be that many days late).
    risk_horizon_days: NonNegative = 2.0  # look-ahead, days
    risk_margin_days: float = 0.0  # days
    include_late_orders: bool = True  # also act on open orders already past their promise
    max_orders_per_meeting: Annotated[int, Field(ge=1)] | None = None  # None: no limit (count)
    reserve_kit: bool = True  # reserve stock now for at-risk orders not yet holding their kit
    expedite_shortfall: bool = True  # expedite the kit's shortfall where the supplier can
    prioritize: bool = True  # at-risk orders go to the front of the dispatch queue
    inform_customer: bool = True  # tell the customer a new date (customers.*_informed)

    @model_validator(mode="after")
    def _schedule(self) -> CommitteeSpec:
        _check_recurrence("committee", self.period_days, self.meeting_weekday)
        return self


class VoiceOfCustomerSpec(Frozen):
    """A recurring session where installers hear after-sales feedback and learn from it.

    After each session the rework probability closes ``learning_rate`` of its gap to the floor:
    p_after = floor + (p_before - floor) * (1 - learning_rate).
    """

    enabled: bool = False
    period_days: Annotated[float, Field(ge=1.0)] = 30.0  # days between sessions (monthly)
    meeting_weekday: Weekday | None = None  # None: every period_days from start_day
    meeting_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 15.0  # hour of day it starts
    start_day: NonNegative = 28.0  # days after start_date before the first session
    duration_hours: NonNegative = 2.0  # length of one session, hours (costed per attendee)
    attendees: Annotated[int, Field(ge=1)] = 12  # installers and after-sales staff (count)
    learning_rate: Probability = 0.2  # share of the gap (p - floor) closed per session
    rework_probability_floor: Probability = 0.04  # rework never falls below this

    @model_validator(mode="after")
    def _schedule(self) -> VoiceOfCustomerSpec:
        _check_recurrence("voice_of_customer", self.period_days, self.meeting_weekday)
        return self


class SharedKpiSpec(Frozen):
    """On-time delivery as a share of everyone's performance score.

    With a positive weight sales quote from backlog and stock (capable-to-promise) at
    confidence = base_confidence + weight * (max_confidence - base_confidence), and dispatch
    orders by promise date. Weight 0 changes nothing.
    """

    weight: Probability = 0.0  # share of the performance score that is on-time delivery
    base_confidence: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.6  # quote confidence, weight->0
    max_confidence: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.95  # quote confidence, weight 1

    @model_validator(mode="after")
    def _confidences(self) -> SharedKpiSpec:
        if self.max_confidence < self.base_confidence:
            raise ValueError(
                f"shared_kpi.max_confidence ({self.max_confidence}) must not be below "
                f"base_confidence ({self.base_confidence})"
            )
        return self

    @property
    def confidence(self) -> float:
        return self.base_confidence + self.weight * (self.max_confidence - self.base_confidence)


class ForecastCapacitySpec(Frozen):
    """A recurring planning round that forecasts the load and adds capacity for one period.

    Forecast load = expected work of open orders + expected arrivals' work over horizon_days
    (arrival rate x mean job hours), in working days of the regular crews' job capacity. Above
    threshold_days, the next period_days get extra overtime allowance and/or flex crews.
    """

    enabled: bool = False
    period_days: Annotated[float, Field(ge=1.0)] = 7.0  # days between planning rounds
    planning_weekday: Weekday | None = None  # None: every period_days from start_day
    planning_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 7.0  # hour of day of the round
    start_day: NonNegative = 0.0  # days after start_date before the first round
    horizon_days: Positive = 7.0  # days of expected arrivals added to the open work
    threshold_days: NonNegative = 8.0  # act above this many working days of crew capacity
    extra_overtime_hours_per_day: NonNegative = 0.0  # added to the overtime allowance, hours
    flex_crews: Annotated[int, Field(ge=0)] = 0  # extra crews hired for the period (count)
    flex_home_region: str | None = None  # depot of the flex crews; None: the first crew's

    @model_validator(mode="after")
    def _schedule(self) -> ForecastCapacitySpec:
        _check_recurrence("forecast_capacity", self.period_days, self.planning_weekday)
        return self


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
    committee: CommitteeSpec = CommitteeSpec()
    voice_of_customer: VoiceOfCustomerSpec = VoiceOfCustomerSpec()
    shared_kpi: SharedKpiSpec = SharedKpiSpec()
    forecast_capacity: ForecastCapacitySpec = ForecastCapacitySpec()

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
        self._policies_have_their_parts()
        return self

    def _policies_have_their_parts(self) -> None:
        """Refuse a policy overlay on a company that lacks what the policy works on."""
        office_days = self.office_calendar.work_days
        voc, forecast = self.voice_of_customer, self.forecast_capacity
        meetings = [
            ("committee", self.committee.enabled, self.committee.meeting_weekday),
            ("voice_of_customer", voc.enabled, voc.meeting_weekday),
            ("forecast_capacity", forecast.enabled, forecast.planning_weekday),
        ]
        for section, enabled, weekday in meetings:
            if enabled and weekday is not None and weekday not in office_days:
                raise ValueError(
                    f"{section} meets on {weekday!r}, which is not an office work day "
                    f"(office_calendar.work_days {list(office_days)})"
                )
        committee = self.committee
        uses_kits = committee.enabled and (committee.reserve_kit or committee.expedite_shortfall)
        if uses_kits and not self.orders.bom:
            raise ValueError(
                "committee.reserve_kit / committee.expedite_shortfall need a bill of "
                "materials (orders.bom is empty); set them to false"
            )
        expediting = any(s.expedite_lead_time_days for s in self.supply.suppliers)
        if committee.enabled and committee.expedite_shortfall and not expediting:
            raise ValueError(
                "committee.expedite_shortfall needs a supplier that offers expediting "
                "(no supply.suppliers entry has expedite_lead_time_days); set "
                "committee.expedite_shortfall = false or add an expedite option"
            )
        if voc.enabled and voc.rework_probability_floor > self.installation.rework_probability:
            raise ValueError(
                f"voice_of_customer.rework_probability_floor ({voc.rework_probability_floor}) "
                f"is above installation.rework_probability "
                f"({self.installation.rework_probability}): sessions would raise rework"
            )
        region = forecast.flex_home_region
        flex = forecast.enabled and forecast.flex_crews > 0
        if flex and region is not None and region not in self.orders.regions:
            raise ValueError(
                f"forecast_capacity.flex_home_region {region!r} is not in orders.regions "
                f"{sorted(self.orders.regions)}"
            )


def plain_data(value: Any, drop_none: bool = False) -> Any:
    """A deep, mutable copy of scenario data: tuples become lists (so list items can be set);
    with ``drop_none``, None values are left out (TOML has no null)."""
    if isinstance(value, dict):
        return {
            k: plain_data(v, drop_none) for k, v in value.items() if not (drop_none and v is None)
        }
    if isinstance(value, list | tuple):
        return [plain_data(v, drop_none) for v in value]
    return value


def scenario_hash(scenario: Scenario) -> str:
    """A stable content hash of the resolved scenario (what a result was computed from)."""
    import hashlib
    import json

    payload = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
