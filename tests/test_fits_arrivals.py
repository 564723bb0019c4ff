"""Arrival-rate fit: recovers the twin's rate profile, flags overdispersion, refuses thin data."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from calibration.fits import FitError, fit_arrivals
from sim.arrivals import ArrivalRate
from sim.scenario import ArrivalsSpec

START = dt.date(2023, 1, 2)
WEEKDAY = (1.3, 1.2, 1.1, 1.0, 1.15, 0.7, 0.55)
MONTH = (0.8, 0.85, 0.95, 1.0, 1.1, 1.2, 1.25, 1.1, 1.05, 1.0, 0.9, 0.8)


def _spec(base: float = 20.0, trend: float = 0.2) -> ArrivalsSpec:
    wf = np.array(WEEKDAY) / np.mean(WEEKDAY)
    mf = np.array(MONTH) / np.mean(MONTH)
    return ArrivalsSpec(
        base_rate_per_day=base,
        weekday_factors=tuple(wf),
        month_factors=tuple(mf),
        trend_per_year=trend,
    )


def _orders(
    spec: ArrivalsSpec, days: int, seed: int, gamma_shape: float | None = None
) -> pd.DataFrame:
    """Orders from the twin's own daily rate (constant within a day), optionally gamma-mixed."""
    rng = np.random.default_rng(seed)
    rate = ArrivalRate(spec, START)
    mu = np.array([rate.per_day(24.0 * d + 12.0) for d in range(days)])
    if gamma_shape is not None:
        mu = mu * rng.gamma(gamma_shape, 1.0 / gamma_shape, size=days)
    counts = rng.poisson(mu)
    day0 = pd.Timestamp(START)
    offsets = np.repeat(np.arange(days), counts) + rng.random(counts.sum())
    created = day0 + pd.to_timedelta(np.sort(offsets), unit="D")
    return pd.DataFrame({"order_id": [f"o{i}" for i in range(len(created))], "created_at": created})


def test_recovers_weekday_month_factors_and_trend_over_two_years() -> None:
    spec = _spec()
    result = fit_arrivals(_orders(spec, 730, seed=1), reference_date=START)
    p = result.params
    np.testing.assert_allclose(p["arrivals.weekday_factors"], spec.weekday_factors, rtol=0.10)
    np.testing.assert_allclose(p["arrivals.month_factors"], spec.month_factors, rtol=0.10)
    assert p["arrivals.base_rate_per_day"] == pytest.approx(spec.base_rate_per_day, rel=0.10)
    assert p["arrivals.trend_per_year"] == pytest.approx(spec.trend_per_year, abs=0.06)
    assert np.mean(p["arrivals.weekday_factors"]) == pytest.approx(1.0, abs=1e-3)
    assert np.mean(p["arrivals.month_factors"]) == pytest.approx(1.0, abs=1e-3)
    ArrivalsSpec(**{k.split(".")[1]: v for k, v in p.items()})  # valid scenario values
    assert result.n == len(_orders(spec, 730, seed=1))
    assert result.source == "orders.created_at"


def test_poisson_data_pass_both_checks() -> None:
    result = fit_arrivals(_orders(_spec(), 730, seed=2))
    d = result.diagnostics
    assert 0.85 < d["dispersion"]["ratio"] < 1.2
    assert not d["dispersion"]["overdispersed"]
    assert d["time_rescaling"]["pvalue"] > 0.01
    assert "Poisson-consistent" in result.quality and "time-rescaling KS" in result.quality
    json.dumps(result.to_dict())  # chart data is JSON-ready


def test_overdispersed_counts_are_flagged() -> None:
    result = fit_arrivals(_orders(_spec(), 730, seed=3, gamma_shape=4.0))
    d = result.diagnostics["dispersion"]
    assert d["overdispersed"] and d["ratio"] > 2.0
    assert "overdispersed" in result.quality
    assert any("overdispersed" in note for note in result.notes)
    # gamma mixing with shape k adds variance mu^2 / k: alpha is about 1 / k
    assert d["nb_alpha"] == pytest.approx(0.25, rel=0.3)


def test_reference_date_moves_the_base_rate_along_the_trend() -> None:
    orders = _orders(_spec(), 730, seed=4)
    at_start = fit_arrivals(orders, reference_date=START).params
    later = fit_arrivals(orders, reference_date=START + dt.timedelta(days=365)).params
    ratio = later["arrivals.base_rate_per_day"] / at_start["arrivals.base_rate_per_day"]
    assert ratio == pytest.approx(1.0 + at_start["arrivals.trend_per_year"], rel=0.01)


def test_short_span_sets_month_factors_to_one_and_says_so() -> None:
    result = fit_arrivals(_orders(_spec(trend=0.0), 200, seed=5))
    assert result.params["arrivals.month_factors"] == [1.0] * 12
    assert any("month factors set to 1" in note for note in result.notes)
    assert "linear time" in result.method  # 200 days >= 120: trend fitted
    short = fit_arrivals(_orders(_spec(trend=0.0), 90, seed=5))
    assert short.params["arrivals.trend_per_year"] == 0.0
    assert any("no trend" in note for note in short.notes)


def test_weekday_without_orders_gets_factor_zero() -> None:
    orders = _orders(_spec(), 400, seed=6)
    orders = orders[orders["created_at"].dt.day_of_week != 6]
    result = fit_arrivals(orders)
    assert result.params["arrivals.weekday_factors"][6] == 0.0
    assert any("weekday" in note for note in result.notes)


def test_too_few_orders_raise_fit_error_naming_fit_and_count() -> None:
    orders = _orders(_spec(base=0.5), 60, seed=7).head(12)
    with pytest.raises(FitError, match=r"'arrivals' had 12 usable rows") as info:
        fit_arrivals(orders)
    assert info.value.fit == "arrivals" and info.value.n == 12
    with pytest.raises(FitError, match="span"):
        fit_arrivals(_orders(_spec(), 10, seed=7))
