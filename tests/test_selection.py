"""Kim-Nelson ranking and selection (``sim.selection``).

The key test is the probability of correct selection (PCS) in the slippage configuration, where
the best mean is exactly one indifference zone ``delta`` ahead of all others: KN guarantees
PCS >= 1 - alpha there. The test fails if a one-sided 99 % Clopper-Pearson upper bound of the
observed PCS falls below 0.95 (the data reject the guarantee) or if the point estimate does (KN
is conservative, ~0.97-0.99 here, so a correct implementation clears it by > 3 standard errors).
A deliberately broken variant (h^2 shrunk) shows the test has power. Run ``pytest -s`` to see
the PCS, its interval, replications used and run time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import sim.selection
from sim.selection import MIN_N0, KimNelson, SelectionResult, kn_constants, kn_select

SDS = np.array([1.0, 2.0, 0.5, 3.0, 1.5])
NAMES = [f"s{i}" for i in range(len(SDS))]
BEST = 3  # the noisiest system is the best one: not the easy case of a precise winner


class NormalProblem:
    """Normal systems; ``rho`` > 0 adds a shared component, as common random numbers would.

    Observations are drawn in blocks of rows (one row = one replication of every system), so a
    macro-replication costs a handful of numpy calls rather than one per observation.
    """

    def __init__(
        self, means: np.ndarray, sds: np.ndarray, rho: float, rng: np.random.Generator
    ) -> None:
        self.means, self.sds, self.rho, self.rng = means, sds, rho, rng
        self.index = {name: i for i, name in enumerate(NAMES[: len(means)])}
        self.blocks: list[np.ndarray] = []

    def __call__(self, r: int, alive: Sequence[str]) -> Mapping[str, float]:
        while r >= 256 * len(self.blocks):
            shared = self.rng.standard_normal((256, 1))
            own = self.rng.standard_normal((256, len(self.means)))
            noise = math.sqrt(self.rho) * shared + math.sqrt(1 - self.rho) * own
            self.blocks.append(self.means + self.sds * noise)
        row = self.blocks[r // 256][r % 256]
        return {name: float(row[self.index[name]]) for name in alive}


def slippage_means(delta: float, gap: float | None = None) -> np.ndarray:
    means = np.zeros(len(SDS))
    means[BEST] = delta if gap is None else gap
    return means


def pcs_experiment(
    macro: int,
    seed: int,
    rho: float,
    delta: float = 0.5,
    alpha: float = 0.05,
    gap: float | None = None,
) -> tuple[int, float, float]:
    """(correct selections, mean total replications, seconds) over ``macro`` independent runs."""
    rng = np.random.default_rng(seed)
    means = slippage_means(delta, gap)
    correct, total = 0, 0
    start = time.perf_counter()
    for _ in range(macro):
        result = kn_select(NormalProblem(means, SDS, rho, rng), NAMES, delta, alpha)
        correct += result.best == NAMES[BEST]
        total += sum(result.replications.values())
    return correct, total / macro, time.perf_counter() - start


def pcs_bounds(correct: int, n: int) -> tuple[float, float]:
    """One-sided 99 % Clopper-Pearson lower and upper bounds of the PCS."""
    low = stats.binomtest(correct, n, alternative="greater").proportion_ci(0.99).low
    high = stats.binomtest(correct, n, alternative="less").proportion_ci(0.99).high
    return low, high


# --------------------------------------------------------------------------- probability of CS
@pytest.mark.slow
@pytest.mark.parametrize(("rho", "seed"), [(0.0, 20250601), (0.5, 20250602)], ids=["indep", "crn"])
def test_pcs_in_slippage_configuration(rho: float, seed: int) -> None:
    macro = 500
    correct, mean_reps, seconds = pcs_experiment(macro, seed, rho)
    pcs = correct / macro
    low, high = pcs_bounds(correct, macro)
    print(
        f"\nKN PCS rho={rho}: {pcs:.3f} (99% one-sided bounds [{low:.3f}, {high:.3f}]), "
        f"mean replications {mean_reps:.0f} over {len(NAMES)} systems, "
        f"{macro} macro-reps in {seconds:.1f} s"
    )
    assert high >= 0.95, "the data reject PCS >= 1 - alpha"
    assert pcs >= 0.95


def test_large_gap_is_always_selected() -> None:
    """delta far below the true gap (6 delta): every run picks the best, and cheaply."""
    correct, mean_reps, _ = pcs_experiment(100, 7, 0.0, delta=0.5, gap=3.0)
    assert correct == 100
    _, mean_reps_slippage, _ = pcs_experiment(20, 7, 0.0, delta=0.5)
    assert mean_reps < mean_reps_slippage / 2


def test_pcs_test_rejects_a_broken_procedure(monkeypatch: pytest.MonkeyPatch) -> None:
    """h^2 cut by 100x: screening and truncation come far too early; the PCS check catches it."""
    real = kn_constants

    def broken(k: int, n0: int, alpha: float) -> tuple[float, float]:
        eta, h2 = real(k, n0, alpha)
        return eta, h2 / 100

    monkeypatch.setattr(sim.selection, "kn_constants", broken)
    macro = 200
    correct, mean_reps, _ = pcs_experiment(macro, 11, 0.0)
    _, high = pcs_bounds(correct, macro)
    print(f"\nbroken KN PCS {correct / macro:.3f} (upper bound {high:.3f}), reps {mean_reps:.0f}")
    assert high < 0.95
    assert correct / macro < 0.8


# ---------------------------------------------------------------------------------- constants
def test_constants_match_hand_computation() -> None:
    # k = 5, n0 = 10, alpha = 0.05: 2 alpha / (k - 1) = 1/40; 40^(2/9) = 10^(1.60206 * 2/9)
    # = 10^0.356013 = 2.269935; eta = 1.269935 / 2 = 0.634967; h^2 = 2 * 9 * eta = 11.42941.
    eta, h2 = kn_constants(5, 10, 0.05)
    assert eta == pytest.approx(0.634967, abs=1e-6)
    assert h2 == pytest.approx(11.42941, abs=1e-5)
    # k = 2: 2 alpha = 0.1; 10^(2/9) = 1.668101; eta = 0.334050; h^2 = 6.012905.
    eta, h2 = kn_constants(2, 10, 0.05)
    assert eta == pytest.approx(0.334050, abs=1e-6)
    assert h2 == pytest.approx(6.012905, abs=1e-6)


def first_stage_two_systems(delta: float = 0.5) -> KimNelson:
    """a alternates +1/-1 and b is 0 for n0 = 10: paired differences with mean 0, S^2 = 10/9."""
    kn = KimNelson(["a", "b"], delta=delta)
    for j in range(10):
        kn.add({"a": 1.0 if j % 2 == 0 else -1.0, "b": 0.0})
    return kn


def test_truncation_point_matches_hand_computation() -> None:
    # h^2 S^2 / delta^2 = 6.012905 * (10/9) / 0.25 = 26.72; N = 26, so truncation at r = 27.
    kn = first_stage_two_systems()
    assert kn.truncation_point == 27
    while not kn.done:  # means stay tied: only truncation stops it, with the first system
        kn.add({"a": 0.0, "b": 0.0})
    result = kn.result()
    assert (result.stages, result.truncated, result.best) == (27, True, "a")
    assert result.replications == {"a": 27, "b": 27}
    assert result.eliminations == ()


@pytest.mark.parametrize(("drop", "eliminated"), [(3.8, False), (4.1, True)])
def test_elimination_threshold_matches_hand_computation(drop: float, eliminated: bool) -> None:
    # At r = 11: W = delta / (2 r) * (26.724 - r) = 0.5 / 22 * 15.724 = 0.35736, so b (mean
    # -drop / 11, a's mean is 0) goes iff drop / 11 > 0.35736, i.e. drop > 3.931.
    kn = first_stage_two_systems()
    kn.add({"a": 0.0, "b": -drop})
    assert kn.done is eliminated
    assert kn.alive == (["a"] if eliminated else ["a", "b"])
    if eliminated:
        result = kn.result()
        assert result.eliminations == ((11, "b"),)
        assert not result.truncated


# ------------------------------------------------------------------------------- behaviour
def test_minimisation_mirrors_maximisation() -> None:
    """Negated data with maximize=False take exactly the same path."""
    means = slippage_means(0.5)
    up = kn_select(NormalProblem(means, SDS, 0.3, np.random.default_rng(5)), NAMES, 0.5)
    flipped = NormalProblem(means, SDS, 0.3, np.random.default_rng(5))

    def negated(r: int, alive: Sequence[str]) -> Mapping[str, float]:
        return {name: -value for name, value in flipped(r, alive).items()}

    down = kn_select(negated, NAMES, 0.5, maximize=False)
    assert down.best == up.best == NAMES[BEST]
    assert down.eliminations == up.eliminations
    assert down.replications == up.replications
    assert down.means == pytest.approx({n: -m for n, m in up.means.items()})


def test_minimisation_selects_smallest_mean() -> None:
    means = np.array([0.0, 0.0, -1.0, 0.0, 0.0])
    result = kn_select(
        NormalProblem(means, SDS, 0.0, np.random.default_rng(3)), NAMES, 0.5, maximize=False
    )
    assert result.best == "s2"


def test_single_system_is_trivially_best() -> None:
    def never(r: int, alive: Sequence[str]) -> Mapping[str, float]:
        raise AssertionError("no observation is needed for one system")

    result = kn_select(never, ["only"], delta=1.0)
    assert result.best == "only"
    assert result.replications == {"only": 0}
    assert (result.stages, result.truncated, result.eliminations) == (0, False, ())
    assert math.isnan(result.means["only"])


def test_zero_variance_differences_decide_on_means_after_first_stage() -> None:
    """Constant offsets plus shared noise: S_il^2 = 0, W = 0, decided at r = n0."""
    rng = np.random.default_rng(1)
    offsets = {"a": 0.0, "b": 0.01, "c": -0.3}  # b is better by far less than delta
    result = kn_select(lambda r, alive: {n: offsets[n] + rng.normal() for n in alive}, offsets, 1.0)
    assert (result.best, result.stages, result.truncated) == ("b", 10, True)
    assert set(result.replications.values()) == {10}
    # Identical systems: a tie, broken towards the first one listed.
    result = kn_select(lambda r, alive: dict.fromkeys(alive, float(r)), ["x", "y"], 1.0)
    assert (result.best, result.stages, result.truncated) == ("x", 10, True)


def test_budget_exhausted_takes_best_mean_among_survivors() -> None:
    means = np.zeros(len(SDS))  # all equal: KN would run to its truncation point (~500)
    result = kn_select(
        NormalProblem(means, SDS, 0.0, np.random.default_rng(2)),
        NAMES,
        0.1,
        max_replications=30,
    )
    assert result.budget_exhausted and not result.truncated
    assert result.stages == 30
    survivors = [n for n, reps in result.replications.items() if reps == 30]
    assert len(survivors) >= 2
    assert result.best == max(survivors, key=result.means.__getitem__)
    assert max(result.replications.values()) == 30


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(2, 5),
    seed=st.integers(0, 2**32 - 1),
    rho=st.sampled_from([0.0, 0.5, 0.9]),
    delta=st.sampled_from([0.5, 1.0, 2.0]),
    maximize=st.booleans(),
)
def test_eliminations_are_monotone_and_consistent(
    k: int, seed: int, rho: float, delta: float, maximize: bool
) -> None:
    rng = np.random.default_rng(seed)
    sample = NormalProblem(rng.normal(0, 1, k), SDS[:k], rho, rng)
    kn = KimNelson(NAMES[:k], delta, maximize=maximize)
    gone: set[str] = set()
    previous = set(kn.alive)
    while kn.done is False:
        assert kn.needed == kn.alive
        kn.add(sample(kn.stage, kn.needed))
        alive = set(kn.alive)
        assert alive <= previous and alive and not alive & gone
        gone |= previous - alive
        previous = alive
    result = kn.result()
    assert kn.needed == []
    assert result.best in previous
    assert {name for _, name in result.eliminations} == gone
    stages = [stage for stage, _ in result.eliminations]
    assert stages == sorted(stages)
    for stage, name in result.eliminations:
        assert result.replications[name] == stage
    for name in previous:
        assert result.replications[name] == result.stages


def test_same_inputs_give_the_same_result() -> None:
    def run() -> SelectionResult:
        problem = NormalProblem(slippage_means(0.5), SDS, 0.5, np.random.default_rng(99))
        return kn_select(problem, NAMES, 0.5)

    assert run() == run()


def test_values_for_eliminated_systems_are_ignored() -> None:
    """A runner feeding back a batch dispatched before an elimination need not filter it."""
    kn = KimNelson(["a", "b", "c"], delta=0.5)
    for j in range(10):
        kn.add({"a": 1.0 if j % 2 == 0 else -1.0, "b": 0.0, "c": -5.0})
    assert kn.alive == ["a", "b"]
    kn.add({"a": 0.0, "b": 0.0, "c": math.nan})  # c is out: its value is not even looked at
    assert kn.stage == 11 and kn.alive == ["a", "b"]


def test_adding_after_the_decision_is_an_error() -> None:
    kn = first_stage_two_systems()
    kn.add({"a": 0.0, "b": -10.0})
    assert kn.done and kn.result().best == "a"
    with pytest.raises(RuntimeError, match="already selected"):
        kn.add({"a": 0.0, "b": 0.0})


# ------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delta": 0.0}, "delta must be a finite number > 0"),
        ({"delta": -1.0}, "delta must be a finite number > 0"),
        ({"delta": math.nan}, "delta must be a finite number > 0"),
        ({"alpha": 0.0}, r"alpha must lie in \(0, 1\)"),
        ({"alpha": 1.0}, r"alpha must lie in \(0, 1\)"),
        ({"alpha": 0.6}, "too large for k = 2"),
        ({"n0": MIN_N0 - 1}, "n0 must be an integer >= 10"),
        ({"n0": 10.0}, "n0 must be an integer >= 10"),
        ({"systems": []}, "at least one system"),
        ({"systems": ["a", "b", "a"]}, r"duplicated: \['a'\]"),
        ({"max_replications": 9}, r"max_replications \(9\) must be >= n0 \(10\)"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"systems": ["a", "b"], "delta": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        KimNelson(**arguments)  # type: ignore[arg-type]


def test_invalid_observations_are_rejected() -> None:
    kn = KimNelson(["a", "b"], delta=1.0)
    with pytest.raises(ValueError, match=r"non-finite observation for system\(s\) \['b'\]"):
        kn.add({"a": 1.0, "b": math.nan})
    with pytest.raises(ValueError, match=r"lacks surviving system\(s\): \['a'\]"):
        kn.add({"b": 1.0})
    with pytest.raises(ValueError, match=r"unknown systems: \['z'\]"):
        kn.add({"a": 1.0, "b": 1.0, "z": 1.0})
    assert kn.stage == 0  # rejected observations leave no trace
    with pytest.raises(RuntimeError, match="not decided yet"):
        kn.result()
