"""Paired (CRN) and Welch comparisons against a baseline: hand computations, Bonferroni,
coverage on synthetic experiments with a known truth, and input validation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.comparison import COMPARISON_COLUMNS, crn_correlations, paired_comparisons

A = np.array([10.0, 12.0, 9.0, 11.0, 13.0, 10.5])
B = A + np.array([1.2, 0.8, 1.5, 0.9, 1.1, 1.3])
C = np.array([9.0, 11.5, 9.5, 10.0, 12.0, 10.0])
D = np.array([14.0, 15.0, 12.5, 13.0, 16.0, 14.5])


def long_frame(**scenarios: np.ndarray | list[float]) -> pd.DataFrame:
    """Scenario name -> per-replication KPI ``x`` values (replications numbered from 0)."""
    parts = [
        pd.DataFrame({"scenario": name, "replication": np.arange(len(v)), "x": v})
        for name, v in scenarios.items()
    ]
    return pd.concat(parts, ignore_index=True)


def row(result: pd.DataFrame, scenario: str, kpi: str = "x") -> pd.Series:
    match = result[(result["scenario"] == scenario) & (result["kpi"] == kpi)]
    assert len(match) == 1
    return match.iloc[0]


# --- hand computations ---------------------------------------------------------------------


def test_paired_t_matches_hand_computation() -> None:
    r = row(paired_comparisons(long_frame(A=A, B=B), ["x"], "A"), "B")
    d = B - A
    n = len(d)
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n)
    assert r["method"] == "paired-t"
    assert r["baseline"] == "A"
    assert r["n_pairs"] == r["n_scenario"] == r["n_baseline"] == n
    assert r["mean_diff"] == pytest.approx(d.mean())
    assert r["half_width"] == pytest.approx(half)
    assert r["ci_low"] == pytest.approx(d.mean() - half)
    assert r["ci_high"] == pytest.approx(d.mean() + half)
    assert r["df"] == n - 1
    assert r["confidence"] == pytest.approx(0.95)
    assert r["family_confidence"] == pytest.approx(0.95)
    assert bool(r["significant"])  # every difference is positive
    assert r["relative_diff"] == pytest.approx(d.mean() / A.mean())
    assert r["correlation"] == pytest.approx(np.corrcoef(A, B)[0, 1])
    vr = (A.var(ddof=1) + B.var(ddof=1)) / d.var(ddof=1)
    assert r["variance_reduction"] == pytest.approx(vr)
    assert r["variance_reduction"] > 1


def test_bonferroni_widens_by_exact_critical_value_ratio() -> None:
    alone = row(paired_comparisons(long_frame(A=A, B=B), ["x"], "A"), "B")
    family = paired_comparisons(long_frame(A=A, B=B, C=C, D=D), ["x"], "A")
    three = row(family, "B")
    assert len(family) == 3
    assert np.allclose(family["confidence"], 1 - 0.05 / 3)
    assert three["mean_diff"] == pytest.approx(alone["mean_diff"])
    ratio = stats.t.ppf(1 - 0.05 / 6, 5) / stats.t.ppf(1 - 0.05 / 2, 5)
    assert three["half_width"] / alone["half_width"] == pytest.approx(ratio)
    assert three["family_confidence"] == pytest.approx(0.95)


@pytest.mark.parametrize("crn", [True, False])
def test_half_width_grows_with_number_of_comparisons(crn: bool) -> None:
    others = {"B": B, "C": C, "D": D, "E": D + 1.0, "F": C - 1.0}
    widths = []
    for m in range(1, 6):
        chosen = dict(list(others.items())[:m])
        result = paired_comparisons(long_frame(A=A, **chosen), ["x"], "A", crn=crn)
        widths.append(row(result, "B")["half_width"])
    assert all(a < b for a, b in itertools.pairwise(widths))


def test_welch_matches_formula_and_scipy() -> None:
    base = np.array([20.0, 22.5, 19.0, 21.0, 24.0, 18.5, 20.5, 23.0])
    scen = np.array([25.0, 31.0, 22.0, 28.5, 35.0])
    r = row(paired_comparisons(long_frame(A=base, B=scen), ["x"], "A", crn=False), "B")
    vx, vy = scen.var(ddof=1) / 5, base.var(ddof=1) / 8
    df = (vx + vy) ** 2 / (vx**2 / 4 + vy**2 / 7)
    half = stats.t.ppf(0.975, df) * math.sqrt(vx + vy)
    assert r["method"] == "welch"
    assert r["df"] == pytest.approx(df)
    assert r["half_width"] == pytest.approx(half)
    assert r["mean_diff"] == pytest.approx(scen.mean() - base.mean())
    assert (r["n_scenario"], r["n_baseline"]) == (5, 8)
    assert pd.isna(r["n_pairs"])
    assert math.isnan(r["correlation"]) and math.isnan(r["variance_reduction"])
    assert r["relative_diff"] == pytest.approx((scen.mean() - base.mean()) / base.mean())

    ref = stats.ttest_ind(scen, base, equal_var=False)
    assert r["df"] == pytest.approx(ref.df)
    ci = ref.confidence_interval(0.95)
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))


# --- coverage on synthetic experiments with a known truth ----------------------------------

EXPERIMENTS = 2000
REPS = 10
TRUE_DIFF = {"s1": 0.0, "s2": 1.0, "s3": -2.0}


def synthetic_experiments(seed: int, crn: bool) -> pd.DataFrame:
    """EXPERIMENTS independent experiments, one per KPI column (Bonferroni is per KPI).

    Each replication shares a common shock across scenarios when ``crn`` (that is what CRN
    does to real runs); scenario noise sds differ so Welch's unequal-variance case is real.
    """
    rng = np.random.default_rng(seed)
    names = ["base", *TRUE_DIFF]
    means = 5.0 + np.array([0.0, *TRUE_DIFF.values()])[:, None, None]
    sds = np.array([1.0, 1.5, 0.7, 2.0])[:, None, None]
    common = rng.normal(0.0, 3.0, (1, REPS, EXPERIMENTS)) if crn else 0.0
    values = means + common + sds * rng.normal(size=(len(names), REPS, EXPERIMENTS))
    frame = pd.DataFrame(
        values.reshape(len(names) * REPS, EXPERIMENTS),
        columns=[f"k{i}" for i in range(EXPERIMENTS)],
    )
    frame.insert(0, "replication", np.tile(np.arange(REPS), len(names)))
    frame.insert(0, "scenario", np.repeat(names, REPS))
    return frame


@pytest.mark.parametrize("crn", [True, False])
def test_family_and_per_interval_coverage(crn: bool) -> None:
    frame = synthetic_experiments(seed=2024 if crn else 2025, crn=crn)
    kpis = [c for c in frame.columns if c.startswith("k")]
    result = paired_comparisons(frame, kpis, "base", confidence=0.95, crn=crn)
    assert len(result) == 3 * EXPERIMENTS
    truth = result["scenario"].map(TRUE_DIFF)
    covered = (result["ci_low"] <= truth) & (truth <= result["ci_high"])

    family = covered.groupby(result["kpi"]).all().mean()
    se_family = math.sqrt(0.95 * 0.05 / EXPERIMENTS)
    assert family >= 0.95 - 3 * se_family

    level = 1 - 0.05 / 3
    assert np.allclose(result["confidence"], level)
    se_single = math.sqrt(level * (1 - level) / EXPERIMENTS)
    for scenario, coverage in covered.groupby(result["scenario"]).mean().items():
        assert abs(coverage - level) <= 3 * se_single, (scenario, coverage)


def test_welch_on_crn_data_is_conservative_and_wider() -> None:
    """Ignoring CRN is valid but wasteful: it over-covers and its intervals are wider."""
    frame = synthetic_experiments(seed=7, crn=True).iloc[:, :202]  # 200 experiments
    kpis = list(frame.columns[2:])
    paired = paired_comparisons(frame, kpis, "base", crn=True)
    welch = paired_comparisons(frame, kpis, "base", crn=False)
    assert (paired["half_width"].to_numpy() < welch["half_width"].to_numpy()).mean() > 0.95
    truth = welch["scenario"].map(TRUE_DIFF)
    assert ((welch["ci_low"] <= truth) & (truth <= welch["ci_high"])).mean() > 0.995


# --- CRN diagnostics -----------------------------------------------------------------------


def test_strong_crn_correlation_reduces_variance_and_narrows_interval() -> None:
    rng = np.random.default_rng(11)
    shared = rng.normal(50.0, 10.0, 20)
    base = shared + rng.normal(0.0, 1.0, 20)
    scen = shared + 2.0 + rng.normal(0.0, 1.0, 20)
    frame = long_frame(base=base, scen=scen)
    paired = row(paired_comparisons(frame, ["x"], "base", crn=True), "scen")
    welch = row(paired_comparisons(frame, ["x"], "base", crn=False), "scen")
    assert paired["correlation"] > 0.95
    assert paired["variance_reduction"] > 10
    assert paired["half_width"] < welch["half_width"] / 3
    assert paired["mean_diff"] == pytest.approx(welch["mean_diff"])  # same pairs, same mean
    assert bool(paired["significant"]) and not bool(welch["significant"])


def test_crn_correlations_match_numpy() -> None:
    frame = long_frame(A=A, B=B, C=C, D=D)
    frame["y"] = frame["x"] ** 2
    result = crn_correlations(frame, ["x", "y"], ["A", "B", "C"])
    assert list(result.columns) == ["kpi", "scenario_a", "scenario_b", "n_pairs", "correlation"]
    assert len(result) == 2 * 3
    data = {"A": A, "B": B, "C": C}
    for r in result.itertuples():
        power = 1 if r.kpi == "x" else 2
        expected = np.corrcoef(data[r.scenario_a] ** power, data[r.scenario_b] ** power)[0, 1]
        assert r.correlation == pytest.approx(expected)
        assert r.n_pairs == 6
    with pytest.raises(ValueError, match="'Z'"):
        crn_correlations(frame, ["x"], ["A", "Z"])


def test_correlation_matches_crn_correlations() -> None:
    frame = long_frame(A=A, B=B, C=C)
    comparisons = paired_comparisons(frame, ["x"], "A")
    correlations = crn_correlations(frame, ["x"], ["B", "A"])
    assert row(comparisons, "B")["correlation"] == pytest.approx(
        correlations["correlation"].iloc[0]
    )


# --- missing data and validation -----------------------------------------------------------


def test_only_shared_non_nan_pairs_are_used() -> None:
    frame = long_frame(A=A, B=B)
    frame = frame[~((frame["scenario"] == "B") & (frame["replication"] == 3))]  # run missing
    frame.loc[(frame["scenario"] == "A") & (frame["replication"] == 4), "x"] = np.nan
    r = row(paired_comparisons(frame, ["x"], "A"), "B")
    shared = [0, 1, 2, 5]
    d = B[shared] - A[shared]
    assert r["n_pairs"] == 4
    assert r["mean_diff"] == pytest.approx(d.mean())
    assert r["half_width"] == pytest.approx(stats.t.ppf(0.975, 3) * d.std(ddof=1) / math.sqrt(4))
    assert r["relative_diff"] == pytest.approx(d.mean() / A[shared].mean())
    assert r["correlation"] == pytest.approx(np.corrcoef(A[shared], B[shared])[0, 1])

    w = row(paired_comparisons(frame, ["x"], "A", crn=False), "B")
    assert (w["n_scenario"], w["n_baseline"]) == (5, 5)
    assert w["mean_diff"] == pytest.approx(np.delete(B, 3).mean() - np.delete(A, 4).mean())

    pairs = crn_correlations(frame, ["x"], ["A", "B"])
    assert pairs["n_pairs"].iloc[0] == 4


def test_unknown_baseline_names_known_scenarios() -> None:
    with pytest.raises(ValueError, match=r"'Z'.*\['A', 'B'\]"):
        paired_comparisons(long_frame(A=A, B=B), ["x"], "Z")


def test_unknown_kpi_is_named() -> None:
    with pytest.raises(ValueError, match="on_time_rate"):
        paired_comparisons(long_frame(A=A, B=B), ["x", "on_time_rate"], "A")
    with pytest.raises(ValueError, match="on_time_rate"):
        crn_correlations(long_frame(A=A, B=B), ["on_time_rate"], ["A", "B"])


def test_other_invalid_inputs() -> None:
    frame = long_frame(A=A, B=B)
    with pytest.raises(ValueError, match="duplicate"):
        paired_comparisons(pd.concat([frame, frame.iloc[[0]]]), ["x"], "A")
    with pytest.raises(ValueError, match="confidence"):
        paired_comparisons(frame, ["x"], "A", confidence=1.0)
    with pytest.raises(ValueError, match="replication"):
        paired_comparisons(frame.drop(columns="replication"), ["x"], "A")
    with pytest.raises(ValueError, match="not numeric"):
        paired_comparisons(frame.assign(x="fast"), ["x"], "A")
    with pytest.raises(ValueError, match="no KPIs"):
        paired_comparisons(frame, [], "A")


def test_shape_order_and_single_kpi_string() -> None:
    frame = long_frame(A=A, C=C, B=B)
    frame["y"] = -frame["x"]
    result = paired_comparisons(frame, ["x", "y"], "A")
    assert list(result.columns) == COMPARISON_COLUMNS
    assert list(zip(result["scenario"], result["kpi"], strict=True)) == [
        ("C", "x"),
        ("C", "y"),
        ("B", "x"),
        ("B", "y"),
    ]
    as_string = paired_comparisons(frame, "x", "A")  # one name, not a list of letters
    pd.testing.assert_frame_equal(as_string, result[result["kpi"] == "x"].reset_index(drop=True))


def test_only_baseline_gives_empty_frame() -> None:
    result = paired_comparisons(long_frame(A=A), ["x"], "A")
    assert result.empty
    assert list(result.columns) == COMPARISON_COLUMNS


def test_too_few_pairs_gives_nan_interval_not_significant() -> None:
    frame = long_frame(A=A[:1], B=B[:1])
    r = row(paired_comparisons(frame, ["x"], "A"), "B")
    assert r["n_pairs"] == 1
    assert r["mean_diff"] == pytest.approx(B[0] - A[0])
    assert math.isnan(r["half_width"]) and not bool(r["significant"])


def test_identical_differences_give_zero_width_and_infinite_reduction() -> None:
    r = row(paired_comparisons(long_frame(A=A, B=A + 2.0), ["x"], "A"), "B")
    assert r["half_width"] == 0.0
    assert r["variance_reduction"] == math.inf
    assert r["correlation"] == pytest.approx(1.0)


# --- properties ----------------------------------------------------------------------------

small_samples = st.lists(st.integers(-1000, 1000).map(lambda v: v / 10), min_size=3, max_size=12)


@settings(max_examples=60, deadline=None)
@given(base=small_samples, shift=small_samples, crn=st.booleans(), seed=st.integers(0, 2**16))
def test_swapping_roles_mirrors_and_row_order_is_irrelevant(
    base: list[float], shift: list[float], crn: bool, seed: int
) -> None:
    n = min(len(base), len(shift))
    a = np.asarray(base[:n])
    b = a + np.asarray(shift[:n])
    frame = long_frame(A=a, B=b)
    ab = row(paired_comparisons(frame, ["x"], "A", crn=crn), "B")
    ba = row(paired_comparisons(frame, ["x"], "B", crn=crn), "A")
    assert ba["mean_diff"] == pytest.approx(-ab["mean_diff"], abs=1e-9)
    assert ba["half_width"] == pytest.approx(ab["half_width"], abs=1e-9, nan_ok=True)
    assert bool(ba["significant"]) == bool(ab["significant"])

    shuffled = frame.sample(frac=1.0, random_state=seed)
    again = row(paired_comparisons(shuffled, ["x"], "A", crn=crn), "B")
    assert again["mean_diff"] == pytest.approx(ab["mean_diff"])
    assert again["half_width"] == pytest.approx(ab["half_width"], nan_ok=True)
