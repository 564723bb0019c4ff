"""Ranking and selection: the Kim-Nelson (KN) fully sequential procedure.

Kim & Nelson (2001), "A fully sequential procedure for indifference-zone selection in
simulation", ACM TOMACS 11(3). Among k simulated systems, KN selects the one with the largest
(or smallest) mean with probability at least 1 - alpha whenever that mean is at least ``delta``
better than every other one. Systems are screened out as soon as their sample mean falls clearly
behind, so clear losers cost few replications.

The variance of each pairwise difference, S_il^2, is estimated from the paired first-stage
differences X_ij - X_lj. That is what keeps KN valid under common random numbers (replication r
of every system shares its streams, see ``sim.streams``): positive correlation shrinks S_il^2 and
the procedure stops sooner, without assuming independence.

:class:`KimNelson` is stateful so an experiment runner can feed replications as they arrive;
:func:`kn_select` is a driver for a plain sampling function.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

#: Smallest first stage accepted. KN is valid for n0 >= 2, but S_il^2 from fewer than 10 paired
#: differences is so noisy that h^2 (and with it the cost) explodes; the lead asked for >= 10.
MIN_N0 = 10


def kn_constants(k: int, n0: int, alpha: float) -> tuple[float, float]:
    """KN's (eta, h^2) for k systems, first stage n0 and error alpha.

    eta = ((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1) / 2 and h^2 = 2 eta (n0 - 1): the
    Bonferroni split of alpha over the k - 1 pairs against the best, with the triangular
    continuation region of Fabian (1974) for each pair.
    """
    if k < 2:
        raise ValueError(f"KN constants need k >= 2 systems, got {k}")
    eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1.0)
    return eta, 2.0 * eta * (n0 - 1)


@dataclass(frozen=True)
class SelectionResult:
    """Outcome of a KN run.

    ``stages`` is the stage r at which the procedure stopped: the number of replications every
    survivor received. ``eliminations`` lists (stage r, system) in the order systems were screened
    out; an eliminated system received exactly r replications. ``truncated``: the decision was
    taken at the truncation point, i.e. purely on sample means (no indifference-zone allowance
    left). ``budget_exhausted``: ``max_replications`` ran out first; ``best`` is then the best
    sample mean among the survivors and carries no PCS guarantee.
    """

    best: str
    eliminations: tuple[tuple[int, str], ...]
    replications: dict[str, int]
    means: dict[str, float]
    stages: int
    truncated: bool
    budget_exhausted: bool = False


class KimNelson:
    """KN as a state machine: feed one replication at a time, ask who is alive and whether done.

    The first ``n0`` calls of :meth:`add` need every system; later ones need the survivors
    (:attr:`needed`). Values for already eliminated systems are accepted and ignored, so a runner
    that dispatched a batch of replications in parallel can feed the whole batch back. Under CRN,
    replication r of every system must come from the same random numbers; KN pairs them by call
    order.
    """

    def __init__(
        self,
        systems: Sequence[str],
        delta: float,
        alpha: float = 0.05,
        n0: int = 10,
        maximize: bool = True,
        *,
        max_replications: int | None = None,
    ) -> None:
        names = list(systems)
        if not names:
            raise ValueError("need at least one system")
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"system names must be unique; duplicated: {dupes}")
        if not (math.isfinite(delta) and delta > 0):
            raise ValueError(f"indifference zone delta must be a finite number > 0, got {delta}")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
        if isinstance(n0, bool) or not isinstance(n0, int) or n0 < MIN_N0:
            raise ValueError(f"first stage n0 must be an integer >= {MIN_N0}, got {n0!r}")
        if max_replications is not None and max_replications < n0:
            raise ValueError(f"max_replications ({max_replications}) must be >= n0 ({n0})")
        k = len(names)
        if k > 1 and 2 * alpha / (k - 1) > 1:
            # eta < 0: the formula stops meaning anything (only k = 2 with alpha > 0.5).
            raise ValueError(f"alpha = {alpha} is too large for k = {k}: need alpha <= (k-1)/2")
        self.systems: tuple[str, ...] = tuple(names)
        self.delta = float(delta)
        self.alpha = float(alpha)
        self.n0 = n0
        self.maximize = maximize
        self.max_replications = max_replications
        self._index = {name: i for i, name in enumerate(names)}
        self._sign = 1.0 if maximize else -1.0  # internally always maximise sign * value
        self.eta, self.h2 = kn_constants(k, n0, alpha) if k > 1 else (math.nan, math.nan)

        self._r = 0  # observations per surviving system so far
        self._alive = np.arange(k)
        self._counts = np.zeros(k, dtype=np.int64)
        self._sums = np.zeros(k)  # sums of sign * value
        self._first_stage = np.empty((n0, k))
        self._a: np.ndarray | None = None  # h^2 S_il^2 / delta^2, all pairs
        self._a_alive: np.ndarray | None = None  # ... restricted to the alive systems
        self._eliminations: list[tuple[int, str]] = []
        self._best: int | None = 0 if k == 1 else None
        self._truncated = False
        self._budget_exhausted = False

    # ----------------------------------------------------------------------------------- state
    @property
    def alive(self) -> list[str]:
        """Systems not (yet) screened out, in the order given."""
        return [self.systems[i] for i in self._alive]

    @property
    def done(self) -> bool:
        return self._best is not None

    @property
    def needed(self) -> list[str]:
        """Systems the next :meth:`add` must contain; empty once done (so ``bool()`` works)."""
        return [] if self.done else self.alive

    @property
    def stage(self) -> int:
        """Replications each surviving system has received (the paper's r)."""
        return self._r

    @property
    def truncation_point(self) -> int | None:
        """max over pairs of N_il + 1 with N_il = floor(h^2 S_il^2 / delta^2); known after n0."""
        if self._a is None:
            return None
        return int(np.floor(self._a).max()) + 1

    # ------------------------------------------------------------------------------- feeding
    def add(self, observation: Mapping[str, float]) -> None:
        """Record one replication (system -> value) for every surviving system, then screen."""
        if self.done:
            raise RuntimeError("KN has already selected a system; no more observations needed")
        unknown = observation.keys() - self._index.keys()
        if unknown:
            raise ValueError(f"observation names unknown systems: {sorted(unknown)}")
        names = self.alive
        missing = [n for n in names if n not in observation]
        if missing:
            raise ValueError(f"observation lacks surviving system(s): {missing}")
        values = np.array([observation[n] for n in names], dtype=float)
        if not np.isfinite(values).all():
            bad = [n for n, v in zip(names, values, strict=True) if not math.isfinite(v)]
            raise ValueError(f"non-finite observation for system(s) {bad}")
        values *= self._sign
        if self._r < self.n0:
            self._first_stage[self._r] = values
        self._sums[self._alive] += values
        self._counts[self._alive] += 1
        self._r += 1
        if self._r == self.n0:
            self._estimate_variances()
        if self._r >= self.n0:
            self._screen()
        budget = self.max_replications
        if not self.done and budget is not None and self._r >= budget:
            self._budget_exhausted = True
            self._best = self._best_mean(self._alive)
            log.info(
                "KN budget of %d replications exhausted with %d survivors; taking %s",
                budget,
                len(self._alive),
                self.systems[self._best],
            )

    def _estimate_variances(self) -> None:
        """S_il^2 from the n0 paired differences; why KN tolerates CRN."""
        x = self._first_stage
        k = x.shape[1]
        s2 = np.empty((k, k))
        for i in range(k):  # row by row: exact differences, O(n0 k) memory
            s2[i] = np.var(x[:, [i]] - x, axis=0, ddof=1)
        self._a = self.h2 * s2 / self.delta**2
        self._a_alive = self._a
        log.debug(
            "KN first stage done: h2=%.4g, truncation point %d", self.h2, self.truncation_point
        )

    def _screen(self) -> None:
        """Drop i if Xbar_i(r) < Xbar_l(r) - W_il(r) for a survivor l; stop at 1 or truncation."""
        assert self._a_alive is not None
        r = self._r
        alive = self._alive
        means = self._sums[alive] / r
        a = self._a_alive
        w = np.maximum(0.0, (self.delta / (2.0 * r)) * (a - r))  # W_ii = 0 keeps the diagonal
        keep = means >= (means[None, :] - w).max(axis=1)
        # At r > N_il = floor(a_il) for every surviving pair no allowance is left: decide on means.
        truncated = r > np.floor(a).max()
        if not keep.all():
            for i in alive[~keep]:
                self._eliminations.append((r, self.systems[i]))
                log.debug("KN stage %d: eliminated %s", r, self.systems[i])
            self._alive = alive[keep]
            self._a_alive = a[np.ix_(keep, keep)]
        if len(self._alive) == 1 or truncated:
            self._truncated = bool(truncated)
            self._best = self._best_mean(self._alive)
            log.debug(
                "KN selected %s at stage %d%s",
                self.systems[self._best],
                r,
                " (truncation)" if truncated else "",
            )

    def _best_mean(self, candidates: np.ndarray) -> int:
        """Index of the best sample mean among candidates; ties go to the earlier system."""
        means = self._sums[candidates] / self._counts[candidates]
        return int(candidates[int(np.argmax(means))])

    # ------------------------------------------------------------------------------- outcome
    def result(self) -> SelectionResult:
        if self._best is None:
            raise RuntimeError(
                f"KN has not decided yet (stage {self._r}, alive {self.alive}); keep adding"
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            means = self._sign * self._sums / self._counts
        return SelectionResult(
            best=self.systems[self._best],
            eliminations=tuple(self._eliminations),
            replications={n: int(c) for n, c in zip(self.systems, self._counts, strict=True)},
            means={n: float(m) for n, m in zip(self.systems, means, strict=True)},
            stages=self._r,
            truncated=self._truncated,
            budget_exhausted=self._budget_exhausted,
        )


def kn_select(
    sample: Callable[[int, Sequence[str]], Mapping[str, float]],
    systems: Sequence[str],
    delta: float,
    alpha: float = 0.05,
    n0: int = 10,
    maximize: bool = True,
    max_replications: int | None = None,
) -> SelectionResult:
    """Run KN to the end: ``sample(r, alive)`` returns replication r (0-based) for ``alive``.

    Use r as the replication index of the random streams so all systems share replication r's
    numbers (CRN). ``max_replications`` caps replications per system; see
    :attr:`SelectionResult.budget_exhausted`.
    """
    kn = KimNelson(systems, delta, alpha, n0, maximize, max_replications=max_replications)
    while not kn.done:
        kn.add(sample(kn.stage, kn.needed))
    return kn.result()
