"""Lead times: AIC picks the true family, AD guards it, an empirical law replaces misfits."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from calibration.fits import FitError, fit_duration, fit_lead_times
from calibration.fits.families import FAMILIES, spec_of
from sim.distributions import build, parse_spec
from sim.scenario import SupplierSpec

T0 = pd.Timestamp("2024-01-01")


def _pos(
    supplier: str,
    days: np.ndarray,
    rng: np.random.Generator,
    *,
    date_only: bool = False,
    promise_days: float | None = 12.0,
) -> pd.DataFrame:
    n = len(days)
    ordered = T0 + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min")
    if date_only:
        ordered = ordered.normalize()
    received = ordered + pd.to_timedelta(np.round(days * 86400), unit="s")
    if date_only:
        received = received.normalize()
    promised = ordered + pd.Timedelta(days=promise_days) if promise_days is not None else pd.NaT
    return pd.DataFrame(
        {
            "po_id": [f"{supplier}-{i}" for i in range(n)],
            "sku": "fixture",
            "supplier": supplier,
            "qty": 10.0,
            "ordered_at": ordered,
            "promised_at": promised,
            "received_at": received,
        }
    )


def _lognormal(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    return build({"kind": "lognormal", "mean": mean, "sd": sd}).sample(rng, n)


def test_lognormal_lead_times_choose_lognormal_and_recover_the_mean() -> None:
    rng = np.random.default_rng(11)
    days = _lognormal(rng, 12.0, 4.0, 1000)
    result = fit_lead_times(_pos("acme", days, rng))
    part = result.parts["acme"]
    spec = part.params["lead_time_days"]
    assert spec["kind"] == "lognormal"
    assert spec["mean"] == pytest.approx(12.0, rel=0.03)
    assert spec["sd"] == pytest.approx(4.0, rel=0.10)
    assert part.diagnostics["ad"]["pvalue"] > 0.01  # not tiny
    assert part.diagnostics["ranking"][0] == "lognormal"
    assert "Anderson-Darling" in part.quality and "Monte Carlo, 199 draws" in part.quality
    assert "500 of 1000 values" in part.quality  # the GoF subsample is reported
    assert part.diagnostics["on_time"]["rate"] == pytest.approx(np.mean(days <= 12.0), abs=0.01)
    SupplierSpec(**result.params["supply.suppliers"][0])  # drops into a scenario as is
    json.dumps(result.to_dict())


@pytest.mark.parametrize(
    ("family", "spec"),
    [
        ("gamma", {"kind": "gamma", "mean": 10.0, "sd": 7.0}),
        ("weibull", {"kind": "weibull", "shape": 3.5, "scale": 20.0}),
        ("exponential", {"kind": "exponential", "mean": 5.0}),
    ],
)
def test_other_families_are_chosen_by_aic(family: str, spec: dict[str, float]) -> None:
    rng = np.random.default_rng(12)
    dist = build(spec)
    fit = fit_duration(dist.sample(rng, 1500), seed=1)
    assert fit.chosen == family
    assert build(fit.spec).mean == pytest.approx(dist.mean, rel=0.05)
    assert fit.ad_pvalue > 0.01


def test_bimodal_lead_times_fall_back_to_empirical_and_say_so() -> None:
    rng = np.random.default_rng(13)
    days = np.concatenate([rng.normal(5.0, 0.6, 600), rng.normal(21.0, 1.5, 600)])
    result = fit_lead_times(_pos("sea-air", days, rng))
    part = result.parts["sea-air"]
    spec = part.params["lead_time_days"]
    assert spec["kind"] == "empirical"
    assert len(spec["values"]) == 500  # quantiles, not all 1200 values
    assert build(parse_spec(spec)).mean == pytest.approx(days.mean(), rel=0.02)
    assert "no family fits" in part.quality and "empirical" in part.quality
    assert any("empirical" in note for note in part.notes)
    assert "empirical used" in result.quality


def test_whole_day_exports_are_spread_over_the_day_and_bad_rows_counted() -> None:
    rng = np.random.default_rng(14)
    days = np.round(_lognormal(rng, 9.0, 3.0, 400))
    frame = _pos("dated", days, rng, date_only=True)
    frame.loc[frame.index[:3], "received_at"] = frame["ordered_at"].iloc[:3]  # zero days
    frame.loc[frame.index[3:5], "received_at"] = frame["ordered_at"].iloc[3:5] - pd.Timedelta(
        days=2
    )
    frame.loc[frame.index[5:9], "received_at"] = pd.NaT  # still open
    part = fit_lead_times(frame).parts["dated"]
    notes = " | ".join(part.notes)
    assert "±½ day" in notes
    assert "zero-day" in notes and "negative" in notes and "4 open" in notes
    assert part.diagnostics["n_zero"] >= 3 and part.diagnostics["n_negative"] == 2
    assert part.params["lead_time_days"]["kind"] != "empirical"  # ties alone do not reject
    assert build(part.params["lead_time_days"]).mean == pytest.approx(9.0, rel=0.06)


def test_many_same_day_receipts_are_kept_as_a_point_mass() -> None:
    rng = np.random.default_rng(16)
    days = np.concatenate([np.zeros(100), np.round(_lognormal(rng, 6.0, 2.0, 300))])
    part = fit_lead_times(_pos("truck", days, rng, date_only=True)).parts["truck"]
    spec = part.params["lead_time_days"]
    assert spec["kind"] == "empirical" and 0.0 in spec["values"]
    assert build(spec).mean == pytest.approx(days.mean(), rel=0.02)
    assert "zero-day" in part.quality
    assert any("25% of lead times are zero" in note for note in part.notes)


def test_suppliers_fitted_separately_and_small_ones_refused_or_skipped() -> None:
    rng = np.random.default_rng(15)
    frame = pd.concat(
        [
            _pos("near", _lognormal(rng, 3.0, 1.0, 300), rng),
            _pos("far", _lognormal(rng, 30.0, 10.0, 300), rng),
            _pos("rare", _lognormal(rng, 8.0, 2.0, 7), rng),
        ]
    )
    with pytest.raises(FitError, match=r"lead_times\[rare\]' had 7 usable rows") as info:
        fit_lead_times(frame)
    assert info.value.n == 7 and info.value.minimum == 20
    result = fit_lead_times(frame, skip_small=True)
    assert set(result.parts) == {"near", "far"}
    assert any("rare (7)" in note for note in result.notes)
    means = {s["name"]: build(s["lead_time_days"]).mean for s in result.params["supply.suppliers"]}
    assert means["near"] == pytest.approx(3.0, rel=0.08)
    assert means["far"] == pytest.approx(30.0, rel=0.08)
    assert result.n == 600


def test_no_purchase_orders_is_a_fit_error() -> None:
    empty = _pos("x", np.array([]), np.random.default_rng(0))
    with pytest.raises(FitError, match="lead_times"):
        fit_lead_times(empty)


def test_constant_lead_time_is_deterministic() -> None:
    fit = fit_duration(np.full(30, 7.0))
    assert fit.spec == {"kind": "deterministic", "value": 7.0}
    assert math.isnan(fit.ad_pvalue)


@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("lognormal", (0.6, 0.0, 9.0)),
        ("gamma", (2.5, 0.0, 3.0)),
        ("weibull", (1.7, 0.0, 12.0)),
        ("exponential", (0.0, 4.0)),
    ],
)
def test_scenario_specs_have_the_scipy_fit_mean_and_sd(
    family: str, params: tuple[float, ...]
) -> None:
    frozen = FAMILIES[family](*params)
    built = build(spec_of(family, params))
    assert built.mean == pytest.approx(frozen.mean(), rel=1e-5)
    assert built.sd == pytest.approx(frozen.std(), rel=1e-5)
    assert built.ppf(0.9) == pytest.approx(frozen.ppf(0.9), rel=1e-4)
