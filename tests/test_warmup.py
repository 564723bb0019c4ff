"""MSER-5 warm-up detection: exact values on hand examples, behaviour on known transients,
edge cases, and invariances (shift, scale) that any truncation rule must have."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from sim.warmup import (
    MIN_BATCHES,
    WarmupResult,
    fixed_warmup,
    mser5,
    mser5_across_replications,
    mser_statistic,
)

N = 1000
TAU = 20.0
BIAS = 30.0 * np.exp(-np.arange(N) / TAU)
PHI = 0.5  # AR(1) coefficient of the noise
# The bias falls below the noise sd (1) at t = TAU * ln 30 = 68.0, i.e. from batch boundary 70.
BIAS_BELOW_SD = 70


def ar1_noise(rng: np.random.Generator, shape: tuple[int, ...], phi: float = PHI) -> np.ndarray:
    """Stationary AR(1) noise with unit marginal sd (started from its stationary law)."""
    z = rng.normal(0.0, np.sqrt(1.0 - phi**2), shape)
    z[..., 0] = rng.normal(0.0, 1.0, shape[:-1])
    return lfilter([1.0], [1.0, -phi], z, axis=-1)


def direct_mser(batch_means: np.ndarray) -> np.ndarray:
    """The textbook definition, one candidate at a time."""
    n = len(batch_means)
    out = []
    for d in range(n // 2 + 1):
        tail = batch_means[d:]
        out.append(((tail - tail.mean()) ** 2).sum() / (n - d) ** 2)
    return np.array(out)


# --- exact, hand-checkable values ----------------------------------------------------------

# Ten batches whose means step down to a flat tail; each batch spreads around its mean by
# -2..2 so that only the batch mean can matter.
STEP_MEANS = [10, 6, 4, 3, 2, 2, 2, 2, 2, 2]
STEP_SERIES = np.concatenate([m + np.array([-2.0, -1.0, 0.0, 1.0, 2.0]) for m in STEP_MEANS])


def test_hand_computed_example_matches_exact_fractions() -> None:
    # d=0: mean 3.5, squared deviations sum to 62.5, / 10^2            -> 5/8
    # d=1: tail sum 25 over 9, sum of squares 85, SS = 85 - 625/9 = 140/9, / 9^2 -> 140/729
    # d=2: SS = 49 - 19^2/8 = 31/8, / 8^2 -> 31/512
    # d=3: SS = 33 - 15^2/7 = 6/7, / 7^2 -> 6/343
    # d=4, d=5: flat tail -> 0 (tie; the smaller d wins)
    expected = [Fraction(5, 8), Fraction(140, 729), Fraction(31, 512), Fraction(6, 343), 0, 0]
    exact = []
    for d in range(6):
        tail = [Fraction(m) for m in STEP_MEANS[d:]]
        mean = sum(tail) / len(tail)
        exact.append(sum((y - mean) ** 2 for y in tail) / len(tail) ** 2)
    assert exact == expected

    result = mser5(STEP_SERIES)
    np.testing.assert_allclose(result.statistic, [float(f) for f in expected], atol=1e-14)
    assert result.truncation == 20  # d = 4 batches, the first of the tied minima
    assert result.method == "mser-5"
    assert result.reliable  # d = 4 < 5 = edge of the searched half


def test_incomplete_final_batch_is_dropped() -> None:
    with_tail = np.concatenate([STEP_SERIES, [1e6, -1e6, 1e6, -1e6]])
    a, b = mser5(STEP_SERIES), mser5(with_tail)
    np.testing.assert_array_equal(a.statistic, b.statistic)
    assert a.truncation == b.truncation


def test_statistic_matches_direct_definition_even_with_large_offset() -> None:
    rng = np.random.default_rng(3)
    x = 1e6 + 50.0 * np.exp(-np.arange(600) / 30.0) + rng.normal(0.0, 1.0, 600)
    means = x.reshape(-1, 5).mean(axis=1)
    np.testing.assert_allclose(mser5(x).statistic, direct_mser(means), rtol=1e-9)
    np.testing.assert_allclose(mser_statistic(means), direct_mser(means), rtol=1e-9)


def test_other_batch_size() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=300)
    result = mser5(x, batch_size=10)
    assert result.method == "mser-10"
    assert result.truncation % 10 == 0
    np.testing.assert_allclose(result.statistic, direct_mser(x.reshape(-1, 10).mean(axis=1)))


# --- behaviour on series with known structure ----------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_single_series_transient_is_removed(seed: int) -> None:
    """MSER stops once the bias left in the truncated mean is below its standard error.

    (On one noisy AR(1) run it often stops a little before the point where the per-step bias
    drops below the noise sd - about 30% of seeds pick 50-65 rather than >= 70 - which is the
    rule working as designed; the stricter check is made on the replication mean below.)
    """
    x = 10.0 + BIAS + ar1_noise(np.random.default_rng(seed), (N,))
    result = mser5(x)
    t = result.truncation
    residual_bias = BIAS[t:].mean()
    se_of_mean = np.sqrt((1 + PHI) / (1 - PHI) / (N - t))  # AR(1) long-run sd / sqrt(n)
    assert residual_bias < se_of_mean
    assert BIAS[t] < 3.0  # within 3 noise sd of steady state at the cut
    assert 0 < t < 300
    assert result.reliable


@pytest.mark.parametrize("seed", range(10))
def test_replication_mean_removes_transient_past_noise_level(seed: int) -> None:
    reps = 10.0 + BIAS + ar1_noise(np.random.default_rng(100 + seed), (10, N))
    result = mser5_across_replications(list(reps))
    assert BIAS_BELOW_SD <= result.truncation < 300
    assert result.reliable


def test_stationary_series_gets_small_truncation() -> None:
    truncations = np.array(
        [mser5(10.0 + ar1_noise(np.random.default_rng(s), (N,))).truncation for s in range(50)]
    )
    # ~2% of stationary AR(1) series of this length get >= 50 by chance (measured over 1000).
    assert np.mean(truncations < 50) >= 0.9
    assert np.median(truncations) <= 10


def test_trend_never_stationary_is_flagged_unreliable() -> None:
    x = 0.01 * np.arange(N) + np.random.default_rng(1).normal(size=N)
    result = mser5(x)
    assert not result.reliable
    assert result.truncation == (N // 5 // 2) * 5  # pinned to the edge of the search


def test_constant_series_needs_no_truncation() -> None:
    result = mser5(np.full(100, 7.25))
    assert result.truncation == 0
    assert result.reliable
    assert np.all(result.statistic == 0.0)


# --- edge cases ----------------------------------------------------------------------------


def test_nan_is_rejected_with_its_position() -> None:
    x = np.ones(100)
    x[37] = np.nan
    with pytest.raises(ValueError, match="index 37"):
        mser5(x)


def test_infinite_value_is_rejected() -> None:
    x = np.ones(100)
    x[5] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        mser5(x)


def test_too_short_series_reports_its_length() -> None:
    minimum = MIN_BATCHES * 5
    mser5(np.arange(minimum, dtype=float))  # exactly enough
    with pytest.raises(ValueError, match=f"length {minimum - 1}"):
        mser5(np.arange(minimum - 1, dtype=float))
    with pytest.raises(ValueError, match="length 0"):
        mser5([])


def test_bad_shapes_and_batch_sizes() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        mser5(np.ones((10, 10)))
    with pytest.raises(ValueError, match="batch_size"):
        mser5(np.ones(100), batch_size=0)


def test_accepts_plain_sequences() -> None:
    assert mser5(STEP_SERIES.tolist()).truncation == 20


def test_result_is_immutable() -> None:
    result = mser5(STEP_SERIES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.truncation = 0  # type: ignore[misc]
    with pytest.raises(ValueError):
        result.statistic[0] = 1.0


def test_fixed_warmup() -> None:
    result = fixed_warmup(14)
    assert result == result  # identity equality, no ndarray ambiguity
    assert (result.truncation, result.method, result.reliable) == (14, "fixed", True)
    assert result.statistic.size == 0
    with pytest.raises(ValueError):
        fixed_warmup(-1)
    assert isinstance(result, WarmupResult)


def test_across_replications_uses_common_length_mean() -> None:
    rng = np.random.default_rng(7)
    reps = [10.0 + BIAS[:n] + rng.normal(size=n) for n in (400, 380, 420)]
    expected = mser5(np.mean([r[:380] for r in reps], axis=0))
    result = mser5_across_replications(reps)
    assert result.truncation == expected.truncation
    np.testing.assert_array_equal(result.statistic, expected.statistic)


def test_across_replications_edge_cases() -> None:
    with pytest.raises(ValueError, match="at least one"):
        mser5_across_replications([])
    bad = [np.ones(100), np.ones(100), np.ones(100)]
    bad[2] = bad[2].copy()
    bad[2][10] = np.nan
    with pytest.raises(ValueError, match="replication 2"):
        mser5_across_replications(bad)
    with pytest.raises(ValueError, match="length 45"):
        mser5_across_replications([np.ones(100), np.ones(45)])


# --- properties ----------------------------------------------------------------------------

# Values on a 0.01 grid: no denormals or huge spreads, so shifting/scaling cannot wipe out
# information the way it can with arbitrary floats.
series_strategy = st.lists(
    st.integers(-10_000, 10_000).map(lambda v: v / 100), min_size=50, max_size=400
)


@settings(max_examples=150, deadline=None)
@given(series=series_strategy)
def test_truncation_is_a_batch_multiple_within_first_half(series: list[float]) -> None:
    result = mser5(series)
    assert result.truncation % 5 == 0
    assert 0 <= result.truncation <= len(series) / 2
    assert result.statistic.size == len(series) // 5 // 2 + 1
    assert np.all(result.statistic >= 0.0)
    assert result.reliable == (result.truncation < (len(series) // 5 // 2) * 5)


@settings(max_examples=150, deadline=None)
@given(
    series=series_strategy,
    shift=st.integers(-100_000, 100_000).map(lambda v: v / 100),
    scale=st.floats(0.01, 100.0),
)
def test_invariant_to_shift_and_positive_scale(
    series: list[float], shift: float, scale: float
) -> None:
    x = np.asarray(series)
    base = mser5(x)
    assert mser5(x + shift).truncation == base.truncation
    assert mser5(x * scale).truncation == base.truncation
    assert mser5(scale * x + shift).truncation == base.truncation
