"""Warm-up (initial-transient) detection by MSER-5 (White 1997; Franklin & White 2008).

A run that starts empty-and-idle spends its first days unrepresentative of steady state;
averaging those days into a KPI biases it. MSER picks the truncation point that minimises
the squared standard error of the mean of what is left, trading bias removed against
sample lost. Batching into means of 5 smooths the noise so the minimum is not driven by
single extreme observations. The search is limited to the first half of the batches: past
that the statistic is unstable (few points left), and a minimum at the edge of the searched
half is MSER's signature failure (series too short, or never stationary), reported via
``WarmupResult.reliable`` so the caller can warn instead of silently trusting it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5
MIN_BATCHES = 10
"""Fewer batches than this leave too little tail for the statistic to mean anything."""

_TIE_RTOL = 1e-9
"""Statistic values within this fraction of the largest one count as tied, so that rounding
noise (e.g. after shifting or rescaling the series) cannot change which d wins."""


@dataclass(frozen=True, eq=False)  # eq=False: field-wise == on an ndarray is ambiguous
class WarmupResult:
    """Chosen truncation and the evidence for it."""

    truncation: int
    """Observations (e.g. days) to discard from the start of the series."""
    method: str
    """``"mser-5"`` (``"mser-<b>"`` for another batch size) or ``"fixed"``."""
    statistic: np.ndarray = field(repr=False)
    """MSER value for each candidate truncation d = 0..n//2 batches; empty for fixed."""
    reliable: bool
    """False when the minimum sits at the edge of the searched half: the caller should warn
    (lengthen the run, or check the system reaches steady state at all)."""


def fixed_warmup(truncation: int) -> WarmupResult:
    """A configured warm-up, in the same shape as a detected one, for uniform reporting."""
    if truncation < 0:
        raise ValueError(f"warm-up truncation must be >= 0, got {truncation}")
    return WarmupResult(
        truncation=int(truncation),
        method="fixed",
        statistic=_frozen(np.empty(0)),
        reliable=True,
    )


def mser5(
    series: Sequence[float] | np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE
) -> WarmupResult:
    """MSER-b truncation of one output series (default b = 5, the standard MSER-5).

    The series is cut into non-overlapping batches of ``batch_size`` (an incomplete final
    batch is dropped); with n batch means Y_j, for d = 0..n//2
    ``MSER(d) = sum_{j>d} (Y_j - Ybar(d))^2 / (n - d)^2``, and the smallest minimising d is
    returned as ``d * batch_size`` observations.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    x = _as_finite_series(series, "series")
    n = x.size // batch_size
    if n < MIN_BATCHES:
        raise ValueError(
            f"MSER-{batch_size} needs at least {MIN_BATCHES * batch_size} observations "
            f"({MIN_BATCHES} batches of {batch_size}); got a series of length {x.size}"
        )
    means = x[: n * batch_size].reshape(n, batch_size).mean(axis=1)
    statistic = mser_statistic(means)
    d = _first_minimum(statistic)
    reliable = d < statistic.size - 1
    log.debug(
        "MSER-%d: %d batches, minimum at d=%d of %d (truncate %d obs)%s",
        batch_size,
        n,
        d,
        statistic.size - 1,
        d * batch_size,
        "" if reliable else " - at the edge of the search, unreliable",
    )
    return WarmupResult(
        truncation=d * batch_size,
        method=f"mser-{batch_size}",
        statistic=_frozen(statistic),
        reliable=reliable,
    )


def mser5_across_replications(
    series_per_rep: Sequence[np.ndarray], batch_size: int = DEFAULT_BATCH_SIZE
) -> WarmupResult:
    """MSER on the mean series across replications (truncated to the shortest one).

    Averaging replications first is the usual practice: noise shrinks but the transient,
    common to all runs, does not, so the detected truncation is sharper and is one number
    for the whole experiment rather than a different one per run.
    """
    if len(series_per_rep) == 0:
        raise ValueError("mser5_across_replications needs at least one replication")
    arrays = [_as_finite_series(s, f"replication {i}") for i, s in enumerate(series_per_rep)]
    length = min(a.size for a in arrays)
    if any(a.size != length for a in arrays):
        log.debug("replication series differ in length; using the common first %d", length)
    mean_series = np.mean(np.stack([a[:length] for a in arrays]), axis=0)
    return mser5(mean_series, batch_size=batch_size)


def mser_statistic(batch_means: np.ndarray) -> np.ndarray:
    """MSER(d) for d = 0..n//2 over already-batched means (exposed for plots and tests).

    Tail sums are accumulated from the end, after centring on the mean of the second half
    (part of every candidate tail), so a large transient or offset costs no precision in the
    tails that matter.
    """
    y = np.asarray(batch_means, dtype=float)
    n = y.size
    d_max = n // 2
    c = y - y[d_max:].mean()
    s1 = np.cumsum(c[::-1])[::-1][: d_max + 1]
    s2 = np.cumsum((c * c)[::-1])[::-1][: d_max + 1]
    k = (n - np.arange(d_max + 1)).astype(float)
    ss = np.maximum(s2 - s1 * s1 / k, 0.0)
    return ss / (k * k)


def _first_minimum(statistic: np.ndarray) -> int:
    """Index of the minimum, ties (to rounding) going to the smallest truncation."""
    tol = _TIE_RTOL * float(statistic.max())
    return int(np.flatnonzero(statistic <= statistic.min() + tol)[0])


def _as_finite_series(series: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(series, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {x.shape}")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(
            f"{what} has {bad.size} non-finite value(s) (NaN/inf), first at index {bad[0]}"
        )
    return x


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a
