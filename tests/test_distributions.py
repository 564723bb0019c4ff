"""Tests of sim.distributions: moments, quantiles, sampling discipline and scenario-file specs."""

from __future__ import annotations

import dataclasses
import math
import pickle
import tomllib
from typing import Any

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from sim.distributions import (
    Deterministic,
    DeterministicSpec,
    Distribution,
    DistributionSpec,
    Empirical,
    EmpiricalSpec,
    Exponential,
    ExponentialSpec,
    Gamma,
    GammaSpec,
    Lognormal,
    LognormalSpec,
    Triangular,
    TriangularSpec,
    TruncatedNormal,
    TruncatedNormalSpec,
    Uniform,
    UniformSpec,
    Weibull,
    WeibullSpec,
    build,
    parse_spec,
)

INF = math.inf
N_SAMPLES = 200_000
Z_TOL = 4.5  # standard errors; a false alarm has probability ~1e-5 per check


def _lognorm_ref(mean: float, sd: float) -> Any:
    """scipy's lognormal for the mean/sd of the variable (mu, sigma derived independently)."""
    w = 1.0 + (sd / mean) ** 2
    return st.lognorm(s=math.sqrt(math.log(w)), scale=mean / math.sqrt(w))


def _discrete_ref(values: list[float], weights: list[float] | None = None) -> Any:
    """scipy's discrete distribution on the distinct values with positive total weight."""
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    xs, inverse = np.unique(x, return_inverse=True)
    p = np.bincount(inverse, weights=w) / w.sum()
    keep = p > 0
    return st.rv_discrete(values=(xs[keep], p[keep]))


def _truncnorm_ref(loc: float, scale: float, low: float, high: float) -> Any:
    return st.truncnorm(a=(low - loc) / scale, b=(high - loc) / scale, loc=loc, scale=scale)


# (distribution, equivalent scipy.stats frozen distribution)
CASES: list[Any] = [
    pytest.param(Exponential(1.0), st.expon(scale=1.0), id="exp-1"),
    pytest.param(Exponential(12.5), st.expon(scale=12.5), id="exp-12.5"),
    pytest.param(Gamma(10.0, 3.0), st.gamma(a=(10 / 3) ** 2, scale=0.9), id="gamma-10-3"),
    pytest.param(Gamma(2.0, 4.0), st.gamma(a=0.25, scale=8.0), id="gamma-shape.25"),
    pytest.param(Gamma(5.0, 0.5), st.gamma(a=100.0, scale=0.05), id="gamma-shape100"),
    pytest.param(Lognormal(12.0, 4.0), _lognorm_ref(12.0, 4.0), id="lognorm-12-4"),
    pytest.param(Lognormal(1.0, 1.0), _lognorm_ref(1.0, 1.0), id="lognorm-cv1"),
    pytest.param(Lognormal(0.2, 0.01), _lognorm_ref(0.2, 0.01), id="lognorm-narrow"),
    pytest.param(Weibull(1.5, 10.0), st.weibull_min(c=1.5, scale=10.0), id="weibull-1.5"),
    pytest.param(Weibull(0.8, 2.0), st.weibull_min(c=0.8, scale=2.0), id="weibull-0.8"),
    pytest.param(Weibull(4.0, 1.0), st.weibull_min(c=4.0, scale=1.0), id="weibull-4"),
    pytest.param(TruncatedNormal(10.0, 3.0, 0.0, INF), _truncnorm_ref(10, 3, 0, INF), id="tn-pos"),
    pytest.param(TruncatedNormal(0.0, 1.0, -1.0, 2.0), _truncnorm_ref(0, 1, -1, 2), id="tn-both"),
    pytest.param(TruncatedNormal(5.0, 2.0, -INF, 4.0), _truncnorm_ref(5, 2, -INF, 4), id="tn-left"),
    pytest.param(TruncatedNormal(0.0, 1.0, 2.5, INF), _truncnorm_ref(0, 1, 2.5, INF), id="tn-tail"),
    pytest.param(TruncatedNormal(3.0, 2.0), _truncnorm_ref(3, 2, -INF, INF), id="tn-untruncated"),
    pytest.param(Uniform(2.0, 5.0), st.uniform(loc=2.0, scale=3.0), id="uniform-2-5"),
    pytest.param(Uniform(-1.0, 1.0), st.uniform(loc=-1.0, scale=2.0), id="uniform-sym"),
    pytest.param(Triangular(1.0, 2.0, 5.0), st.triang(c=0.25, loc=1.0, scale=4.0), id="tri-1-2-5"),
    pytest.param(Triangular(0.0, 0.0, 1.0), st.triang(c=0.0, loc=0.0, scale=1.0), id="tri-left"),
    pytest.param(Triangular(0.0, 1.0, 1.0), st.triang(c=1.0, loc=0.0, scale=1.0), id="tri-right"),
    pytest.param(
        Empirical((1.0, 2.0, 2.0, 7.0, 3.5)), _discrete_ref([1, 2, 2, 7, 3.5]), id="emp-plain"
    ),
    pytest.param(
        Empirical((5.0, 1.0, 3.0, 2.0), (1.0, 0.0, 3.0, 5.0)),
        _discrete_ref([5, 1, 3, 2], [1, 0, 3, 5]),
        id="emp-weighted",
    ),
]
ALL: list[Any] = [pytest.param(case.values[0], id=case.id) for case in CASES] + [
    pytest.param(Deterministic(3.5), id="det-3.5")
]

# Interior quantiles; none falls on a jump of the empirical cases' CDFs, where a left- and a
# right-continuous inverse legitimately differ.
QUANTILES = np.array([1e-6, 0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999, 0.999999])


# ----------------------------------------------------------------------------- moments


@pytest.mark.parametrize(("dist", "ref"), CASES)
def test_analytic_moments_match_scipy(dist: Distribution, ref: Any) -> None:
    assert dist.mean == pytest.approx(float(ref.mean()), rel=1e-9)
    assert dist.var == pytest.approx(float(ref.var()), rel=1e-9)
    assert dist.sd == pytest.approx(float(ref.std()), rel=1e-9)


@pytest.mark.parametrize(("dist", "ref"), CASES)
def test_sample_moments_match_analytic(dist: Distribution, ref: Any) -> None:
    x = dist.sample(np.random.default_rng(20_240_601), N_SAMPLES)
    assert x.shape == (N_SAMPLES,)
    se_mean = dist.sd / math.sqrt(N_SAMPLES)
    assert abs(x.mean() - dist.mean) <= Z_TOL * se_mean
    # The tolerance on the variance comes from its standard error, Var(s^2) ~ sd^4 (kurt + 2) / n
    # with kurt the excess kurtosis, not from a fixed relative tolerance: the sampling error of
    # s^2 grows with the tails, so one percentage would be flaky for gamma(shape 0.25)
    # (about 5 % needed) and toothless for a uniform (about 0.4 % suffices).
    kurtosis = float(ref.stats(moments="k"))
    se_var = dist.var * math.sqrt((kurtosis + 2.0) / N_SAMPLES)
    assert abs(x.var(ddof=1) - dist.var) <= Z_TOL * se_var


def test_deterministic_moments_and_samples() -> None:
    d = Deterministic(3.5)
    assert (d.mean, d.var, d.sd) == (3.5, 0.0, 0.0)
    np.testing.assert_array_equal(d.sample(np.random.default_rng(0), 1000), np.full(1000, 3.5))
    assert d.ppf(0.0) == d.ppf(0.999) == 3.5


# ----------------------------------------------------------------------------- quantiles


@pytest.mark.parametrize(("dist", "ref"), CASES)
def test_ppf_matches_scipy(dist: Distribution, ref: Any) -> None:
    expected = ref.ppf(QUANTILES)
    atol = 1e-12 * dist.sd  # results near zero have no meaningful relative error
    np.testing.assert_allclose(dist.ppf(QUANTILES), expected, rtol=1e-9, atol=atol)
    for u, e in zip(QUANTILES, expected, strict=True):
        assert dist.ppf(float(u)) == pytest.approx(e, rel=1e-9, abs=atol)


@pytest.mark.parametrize(("dist", "ref"), [c for c in CASES if not c.id.startswith("emp")])
def test_ppf_at_zero_is_lower_end_of_support(dist: Distribution, ref: Any) -> None:
    assert dist.ppf(0.0) == pytest.approx(ref.support()[0], rel=1e-12, abs=1e-12)


def test_empirical_quantiles_sorted_and_zero_weights_never_drawn() -> None:
    d = Empirical((3.0, 1.0, 2.0, 9.0), (1.0, 2.0, 1.0, 0.0))  # sorted: 1 (.5), 2 (.25), 3 (.25)
    u = np.array([0.0, 0.49, 0.5, 0.74, 0.75, 0.999, np.nextafter(1.0, 0.0)])
    expected = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0]
    np.testing.assert_array_equal(d.ppf(u), expected)
    assert [d.ppf(float(v)) for v in u] == expected
    leading_zero = Empirical((0.5, 1.0, 2.0), (0.0, 1.0, 1.0))
    assert leading_zero.ppf(0.0) == 1.0
    x = d.sample(np.random.default_rng(5), 20_000)
    assert set(np.unique(x)) == {1.0, 2.0, 3.0}


@pytest.mark.parametrize("dist", ALL)
@settings(max_examples=30, deadline=None)
@given(us=hs.lists(hs.floats(0.0, 1.0, exclude_max=True), min_size=2, max_size=20))
def test_ppf_monotone_in_support_and_scalar_equals_array(
    dist: Distribution, us: list[float]
) -> None:
    u = np.sort(np.array(us))
    y = dist.ppf(u)
    assert not np.isnan(y).any()
    assert (y[1:] >= y[:-1]).all(), f"ppf decreases: u={u}, ppf={y}"  # also -inf == -inf
    scalars = np.array([dist.ppf(float(v)) for v in u])
    np.testing.assert_allclose(scalars, y, rtol=1e-13, atol=0.0)
    low, high = _support(dist)
    assert (y >= low).all()
    assert (y <= high).all()


def _support(dist: Distribution) -> tuple[float, float]:
    if isinstance(dist, TruncatedNormal | Uniform | Triangular):
        return dist.low, dist.high
    if isinstance(dist, Empirical):
        return min(dist.values), max(dist.values)
    if isinstance(dist, Deterministic):
        return dist.value, dist.value
    return 0.0, INF


# ----------------------------------------------------------------------------- types and shapes


@pytest.mark.parametrize("dist", ALL)
def test_scalar_input_returns_python_float(dist: Distribution) -> None:
    for u in (0.3, np.float64(0.3), np.array(0.3), 0):
        assert type(dist.ppf(u)) is float  # type: ignore[call-overload]
    assert type(dist.sample(np.random.default_rng(0))) is float


@pytest.mark.parametrize("dist", ALL)
def test_array_input_keeps_shape(dist: Distribution) -> None:
    for shape in [(0,), (7,), (3, 4), (2, 1, 3)]:
        out = dist.ppf(np.full(shape, 0.42))
        assert isinstance(out, np.ndarray)
        assert out.shape == shape
        assert out.dtype == np.float64
    assert dist.sample(np.random.default_rng(0), (2, 3)).shape == (2, 3)
    assert dist.ppf([0.1, 0.2]).shape == (2,)  # type: ignore[call-overload]


@pytest.mark.parametrize("dist", ALL)
def test_sample_uses_exactly_one_uniform_per_variate(dist: Distribution) -> None:
    np.testing.assert_array_equal(
        dist.sample(np.random.default_rng(1), 5), dist.ppf(np.random.default_rng(1).random(5))
    )
    assert dist.sample(np.random.default_rng(2)) == dist.ppf(np.random.default_rng(2).random())
    # the stream is left exactly 5 uniforms further on, whatever the distribution
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    dist.sample(rng_a, 5)
    rng_b.random(5)
    assert rng_a.random() == rng_b.random()


@pytest.mark.parametrize("dist", ALL)
def test_frozen_hashable_and_picklable(dist: Distribution) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(dist, dataclasses.fields(dist)[0].name, 1.0)  # type: ignore[arg-type]
    assert not hasattr(dist, "__dict__")  # slots
    clone = pickle.loads(pickle.dumps(dist))
    assert clone == dist
    assert hash(clone) == hash(dist)
    np.testing.assert_array_equal(clone.ppf(QUANTILES), dist.ppf(QUANTILES))


def test_parameters_are_coerced_to_float() -> None:
    assert Exponential(2) == Exponential(2.0)
    assert type(Exponential(np.float64(2)).mean) is float
    assert Empirical([1, 2]) == Empirical((1.0, 2.0))
    assert hash(Empirical([1, 2])) == hash(Empirical((1.0, 2.0)))
    assert Gamma(10.0, 3.0).shape == pytest.approx(100 / 9)
    assert Gamma(10.0, 3.0).scale == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Lognormal(1, -1), "lognormal sd must be > 0, got -1"),
        (lambda: Lognormal(0.0, 1.0), "lognormal mean must be > 0"),
        (lambda: Exponential(0), "exponential mean must be > 0"),
        (lambda: Exponential("abc"), "exponential mean must be a number"),
        (lambda: Gamma(1.0, math.nan), "gamma sd must be finite"),
        (lambda: Weibull(0.0, 1.0), "weibull shape must be > 0"),
        (lambda: Weibull(1.0, -2.0), "weibull scale must be > 0"),
        (lambda: TruncatedNormal(0.0, -1.0), "truncated normal scale must be > 0"),
        (lambda: TruncatedNormal(0.0, 1.0, 2.0, 1.0), "low < high"),
        (lambda: TruncatedNormal(0.0, 1.0, math.nan), "NaN"),
        (lambda: TruncatedNormal(0.0, 1.0, 50.0, 60.0), "no probability mass"),
        (lambda: Uniform(1.0, 1.0), "uniform needs low < high"),
        (lambda: Triangular(0.0, 2.0, 1.0), "mode must lie in"),
        (lambda: Triangular(1.0, 1.0, 1.0), "triangular needs low < high"),
        (lambda: Deterministic(INF), "deterministic value must be finite"),
        (lambda: Empirical(()), "must not be empty"),
        (lambda: Empirical((1.0, INF)), "empirical values must be finite"),
        (lambda: Empirical((1.0, 2.0), (1.0,)), "match values in length"),
        (lambda: Empirical((1.0, 2.0), (1.0, -1.0)), "weights must be >= 0"),
        (lambda: Empirical((1.0, 2.0), (0.0, 0.0)), "positive sum"),
    ],
)
def test_invalid_parameters_raise_value_error(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make()


# ----------------------------------------------------------------------------- specs

ADAPTER: TypeAdapter[Any] = TypeAdapter(DistributionSpec)

VALID_SPECS: list[Any] = [
    ({"kind": "exponential", "mean": 2}, ExponentialSpec, Exponential(2.0)),
    ({"kind": "gamma", "mean": 10, "sd": 3}, GammaSpec, Gamma(10.0, 3.0)),
    ({"kind": "lognormal", "mean": 12.0, "sd": 4.0}, LognormalSpec, Lognormal(12.0, 4.0)),
    ({"kind": "weibull", "shape": 1.5, "scale": 10}, WeibullSpec, Weibull(1.5, 10.0)),
    (
        {"kind": "truncated_normal", "mean": 10, "sd": 3, "low": 0},
        TruncatedNormalSpec,
        TruncatedNormal(10.0, 3.0, 0.0, INF),
    ),
    ({"kind": "truncated_normal", "mean": 1, "sd": 3}, TruncatedNormalSpec, TruncatedNormal(1, 3)),
    ({"kind": "uniform", "low": 1, "high": 2}, UniformSpec, Uniform(1.0, 2.0)),
    ({"kind": "triangular", "low": 1, "mode": 2, "high": 5}, TriangularSpec, Triangular(1, 2, 5)),
    ({"kind": "triangular", "low": 1, "mode": 1, "high": 5}, TriangularSpec, Triangular(1, 1, 5)),
    ({"kind": "deterministic", "value": -4}, DeterministicSpec, Deterministic(-4.0)),
    ({"kind": "empirical", "values": [3, 1, 2]}, EmpiricalSpec, Empirical((3.0, 1.0, 2.0))),
    (
        {"kind": "empirical", "values": [1, 2, 3], "weights": [0, 1, 2]},
        EmpiricalSpec,
        Empirical((1.0, 2.0, 3.0), (0.0, 1.0, 2.0)),
    ),
]


@pytest.mark.parametrize(("data", "spec_cls", "expected"), VALID_SPECS)
def test_valid_spec_validates_and_builds(
    data: dict[str, Any], spec_cls: type, expected: Distribution
) -> None:
    spec = ADAPTER.validate_python(data)
    assert type(spec) is spec_cls
    built = spec.build()
    assert type(built) is type(expected)
    assert built == expected
    assert build(spec) == expected
    assert build(data) == expected
    assert parse_spec(data) == spec
    hash(spec)  # frozen, tuple-valued: usable in a hashed scenario
    # dumps (also with infinite bounds) validate back to the same spec
    assert ADAPTER.validate_python(spec.model_dump(mode="json")) == spec
    assert ADAPTER.validate_json(ADAPTER.dump_json(spec)) == spec


INVALID_SPECS: list[Any] = [
    pytest.param({"kind": "gamma", "mean": 10, "sd": -3}, id="gamma-negative-sd"),
    pytest.param({"kind": "lognormal", "mean": 12, "sd": -4}, id="lognormal-negative-sd"),
    pytest.param({"kind": "lognormal", "mean": 0, "sd": 4}, id="lognormal-zero-mean"),
    pytest.param({"kind": "exponential", "mean": -1}, id="exp-negative-mean"),
    pytest.param({"kind": "exponential", "mean": INF}, id="exp-inf-mean"),
    pytest.param({"kind": "exponential", "mean": "abc"}, id="exp-not-a-number"),
    pytest.param({"kind": "exponential"}, id="exp-missing-mean"),
    pytest.param({"kind": "weibull", "shape": 0, "scale": 1}, id="weibull-zero-shape"),
    pytest.param({"kind": "truncated_normal", "mean": 0, "sd": -1}, id="tn-negative-sd"),
    pytest.param(
        {"kind": "truncated_normal", "mean": 0, "sd": 1, "low": 2, "high": 1}, id="tn-low>high"
    ),
    pytest.param(
        {"kind": "truncated_normal", "mean": 0, "sd": 1, "low": 50, "high": 60}, id="tn-no-mass"
    ),
    pytest.param({"kind": "truncated_normal", "mean": 0, "sd": 1, "low": math.nan}, id="tn-nan"),
    pytest.param({"kind": "uniform", "low": 2, "high": 2}, id="uniform-low=high"),
    pytest.param({"kind": "uniform", "low": 3, "high": 2}, id="uniform-low>high"),
    pytest.param({"kind": "triangular", "low": 0, "mode": 3, "high": 2}, id="tri-mode-above"),
    pytest.param({"kind": "triangular", "low": 0, "mode": -1, "high": 2}, id="tri-mode-below"),
    pytest.param({"kind": "triangular", "low": 2, "mode": 2, "high": 2}, id="tri-degenerate"),
    pytest.param({"kind": "deterministic", "value": math.nan}, id="det-nan"),
    pytest.param({"kind": "empirical", "values": []}, id="emp-empty"),
    pytest.param({"kind": "empirical", "values": [1, 2], "weights": [1]}, id="emp-weights-len"),
    pytest.param({"kind": "empirical", "values": [1, 2], "weights": [1, -1]}, id="emp-neg-weight"),
    pytest.param({"kind": "empirical", "values": [1, 2], "weights": [0, 0]}, id="emp-zero-sum"),
    pytest.param({"kind": "poisson", "mean": 1}, id="unknown-kind"),
    pytest.param({"mean": 1}, id="missing-kind"),
    pytest.param({"kind": "exponential", "mean": 1, "sd": 2}, id="extra-key"),
]


@pytest.mark.parametrize("data", INVALID_SPECS)
def test_invalid_spec_raises_validation_error(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(data)


def test_spec_is_frozen() -> None:
    spec = ADAPTER.validate_python({"kind": "exponential", "mean": 2})
    with pytest.raises(ValidationError):
        spec.mean = 3.0


def test_specs_from_toml_in_a_scenario_model() -> None:
    class Section(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")
        lead_time_days: DistributionSpec
        work_hours: DistributionSpec
        optional_delay: DistributionSpec | None = None

    text = """
        lead_time_days = { kind = "lognormal", mean = 12.0, sd = 4.0 }

        [work_hours]
        kind = "truncated_normal"
        mean = 8.0
        sd = 2.0
        low = 0.0
        high = inf
    """
    section = Section.model_validate(tomllib.loads(text))
    assert section.lead_time_days.build() == Lognormal(12.0, 4.0)
    assert build(section.work_hours) == TruncatedNormal(8.0, 2.0, 0.0, INF)
    assert section.optional_delay is None
    with pytest.raises(ValidationError, match="sd"):
        Section.model_validate(
            tomllib.loads(text.replace("sd = 4.0", "sd = -4.0", 1)), strict=False
        )
