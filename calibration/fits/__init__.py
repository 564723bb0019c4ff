"""Fits of every model input from canonical history frames (calibration/schema.py).

Each fit is a pure function of DataFrames returning a :class:`FitResult` whose ``params`` map
scenario key paths to values, or raising :class:`FitError` when the data is too thin, so the
calibration command can refuse to write a scenario that would rest on nothing.

Key paths are dotted scenario keys (``arrivals.weekday_factors``, ``installation.setup_hours``);
list-valued sections are given whole (``orders.bom``: a list of BOM lines; ``supply.suppliers``:
a list of ``{"name", "lead_time_days"}`` entries whose other fields keep their defaults).

=====================  ==========================================================================
fit                    scenario keys
=====================  ==========================================================================
``fit_arrivals``       arrivals.base_rate_per_day / weekday_factors / month_factors / trend_per_year
``fit_order_mix``      orders.regions / size_fixtures / value_per_fixture / bom
``fit_promise``        promise.policy / fixed_days
``fit_handoff``        handoff.mode / meeting_weekday / meeting_hour / approval_steps /
                       approval_delay_hours
``fit_lead_times``     supply.suppliers (name, lead_time_days)
``fit_installation``   installation.setup_hours / hours_per_fixture / effort_factor /
                       rework_hours_fraction / failed_visit_hours / rework_probability /
                       customer_absent_probability; dispatch.travel.* when gaps allow
``fit_satisfaction``   customers.satisfaction_intercept / _per_late_day / _per_lead_time_day /
                       _per_revisit
=====================  ==========================================================================
"""

from calibration.fits.arrivals import fit_arrivals
from calibration.fits.delays import fit_handoff
from calibration.fits.families import fit_duration
from calibration.fits.installation import (
    fit_installation,
    fit_travel,
    fit_visit_outcomes,
    fit_work_hours,
)
from calibration.fits.lead_times import fit_lead_time, fit_lead_times
from calibration.fits.mix import fit_bom, fit_order_mix, fit_regions, fit_size, fit_value
from calibration.fits.promise import fit_promise
from calibration.fits.result import FitError, FitResult, apply_params
from calibration.fits.satisfaction import fit_satisfaction

__all__ = [
    "FitError",
    "FitResult",
    "apply_params",
    "fit_arrivals",
    "fit_bom",
    "fit_duration",
    "fit_handoff",
    "fit_installation",
    "fit_lead_time",
    "fit_lead_times",
    "fit_order_mix",
    "fit_promise",
    "fit_regions",
    "fit_satisfaction",
    "fit_size",
    "fit_travel",
    "fit_value",
    "fit_visit_outcomes",
    "fit_work_hours",
]
