"""Satisfaction: the logistic model recovers its coefficients and matches lateness buckets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import special

from calibration.fits import FitError, fit_satisfaction
from sim.scenario import CustomersSpec

TRUE = {"intercept": 2.0, "late_days": -0.25, "lead_time_days": -0.02, "revisits": -0.5}
KEYS = {
    "intercept": "customers.satisfaction_intercept",
    "late_days": "customers.satisfaction_per_late_day",
    "lead_time_days": "customers.satisfaction_per_lead_time_day",
    "revisits": "customers.satisfaction_per_revisit",
}
T0 = pd.Timestamp("2024-01-01")


def _world(n: int = 5000, seed: int = 51) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Orders promised in 3-10 days, lead times around them, revisits, answers from the model."""
    rng = np.random.default_rng(seed)
    created = T0 + pd.to_timedelta(rng.uniform(0, 365, n), unit="D")
    promise = rng.integers(3, 11, n).astype(float)
    lead = rng.gamma(3.0, 3.5, n) + 0.5
    visits_per_order = 1 + rng.poisson(0.4, n)
    late = np.maximum(lead - promise, 0.0)
    logit = (
        TRUE["intercept"]
        + TRUE["late_days"] * late
        + TRUE["lead_time_days"] * lead
        + TRUE["revisits"] * (visits_per_order - 1)
    )
    satisfied = rng.random(n) < special.expit(logit)
    ids = [f"o{i}" for i in range(n)]
    orders = pd.DataFrame(
        {
            "order_id": ids,
            "created_at": created,
            "promised_at": created + pd.to_timedelta(promise, unit="D"),
            "completed_at": created + pd.to_timedelta(lead, unit="D"),
        }
    )
    surveys = pd.DataFrame(
        {"order_id": ids, "score": np.where(satisfied, 5, 2), "satisfied": satisfied}
    )
    visits = pd.DataFrame({"order_id": np.repeat(ids, visits_per_order)})
    visits["visit_id"] = [f"v{i}" for i in range(len(visits))]
    return orders, surveys, visits


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return _world()


def test_recovers_coefficients_within_three_standard_errors(world) -> None:
    orders, surveys, visits = world
    result = fit_satisfaction(orders, surveys, visits)
    coef, se = result.diagnostics["coef"], result.diagnostics["se"]
    for name, value in TRUE.items():
        assert abs(coef[name] - value) < 3 * se[name], (name, coef[name], se[name])
        assert result.params[KEYS[name]] == pytest.approx(coef[name], abs=1e-5)
    CustomersSpec(**{k.split(".")[1]: v for k, v in result.params.items()})
    assert result.n == len(orders)
    json.dumps(result.to_dict())


def test_lateness_buckets_observed_match_the_model(world) -> None:
    orders, surveys, visits = world
    buckets = fit_satisfaction(orders, surveys, visits).diagnostics["buckets"]
    assert buckets["bucket"] == ["on time", "0-3 days late", "3-7 days late", ">7 days late"]
    assert sum(buckets["n"]) == len(orders)
    for k, obs, pred in zip(buckets["n"], buckets["observed"], buckets["predicted"], strict=True):
        if k >= 200:
            assert obs == pytest.approx(pred, abs=0.04)
    assert buckets["observed"][0] > buckets["observed"][-1] + 0.3  # lateness hurts


def test_score_and_threshold_without_visits(world) -> None:
    orders, surveys, _ = world
    result = fit_satisfaction(orders, surveys.drop(columns=["satisfied"]), threshold=4)
    assert result.params["customers.satisfaction_per_revisit"] == 0.0
    assert any("satisfaction_per_revisit set to 0" in note for note in result.notes)
    assert result.diagnostics["coef"]["late_days"] == pytest.approx(TRUE["late_days"], abs=0.08)


def test_unusable_surveys_raise_fit_error(world) -> None:
    orders, surveys, _ = world
    with pytest.raises(FitError, match=r"'satisfaction' had 10 usable rows"):
        fit_satisfaction(orders, surveys.head(10))
    everyone_happy = surveys.assign(satisfied=True)
    with pytest.raises(FitError, match="needs 5 of each"):
        fit_satisfaction(orders, everyone_happy)
    with pytest.raises(FitError, match="threshold"):
        fit_satisfaction(orders, surveys.drop(columns=["satisfied"]))
