"""Fitting a positive duration: candidate families by maximum likelihood, AIC, Anderson-Darling.

Supplier lead times and office delays are both positive, right-skewed durations whose shape is
not known in advance, so they share one procedure: fit lognormal, gamma, Weibull and exponential
(location fixed at 0) by maximum likelihood, rank them by AIC, and test the best one with an
Anderson-Darling test whose p-value comes from a parametric bootstrap (``scipy.stats.
goodness_of_fit``; the textbook AD tables assume known parameters and would be too lenient).
When even the best family is rejected, the observed values themselves (as at most a few hundred
quantiles) are the distribution: a model that is wrong in shape would bias waiting times.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from calibration.fits._common import FloatArray, fmt_p, histogram, qq_points, sig

__all__ = ["FAMILIES", "DurationFit", "FamilyFit", "empirical_values", "fit_duration", "spec_of"]

log = logging.getLogger(__name__)

FAMILIES: dict[str, stats.rv_continuous] = {
    "lognormal": stats.lognorm,
    "gamma": stats.gamma,
    "weibull": stats.weibull_min,
    "exponential": stats.expon,
}


@dataclass(frozen=True)
class FamilyFit:
    """One candidate family's maximum-likelihood fit."""

    family: str
    params: tuple[float, ...]  # scipy's (shape..., loc, scale), loc fixed at 0
    loglik: float
    k: int  # free parameters

    @property
    def aic(self) -> float:
        return 2.0 * self.k - 2.0 * self.loglik

    @property
    def frozen(self) -> Any:
        return FAMILIES[self.family](*self.params)

    @property
    def spec(self) -> dict[str, Any]:
        return spec_of(self.family, self.params)


@dataclass(frozen=True)
class DurationFit:
    """The chosen distribution of a duration and the evidence for it."""

    spec: dict[str, Any]
    chosen: str  # a family name, "empirical" or "deterministic"
    ranking: tuple[FamilyFit, ...]  # best AIC first
    ad_statistic: float
    ad_pvalue: float
    ad_n: int  # values used in the test (a subsample of large data)
    n_mc_samples: int
    quality: str
    diagnostics: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    @property
    def empirical(self) -> bool:
        return self.chosen == "empirical"


def spec_of(family: str, params: tuple[float, ...]) -> dict[str, Any]:
    """The scenario spec of a scipy fit: lognormal/gamma by mean and sd, as the model reads them."""
    if family == "lognormal":
        s, _, scale = params
        mean = scale * math.exp(0.5 * s * s)
        return {
            "kind": "lognormal",
            "mean": sig(mean),
            "sd": sig(mean * math.sqrt(math.expm1(s * s))),
        }
    if family == "gamma":
        a, _, scale = params
        return {"kind": "gamma", "mean": sig(a * scale), "sd": sig(math.sqrt(a) * scale)}
    if family == "weibull":
        c, _, scale = params
        return {"kind": "weibull", "shape": sig(c), "scale": sig(scale)}
    if family == "exponential":
        _, scale = params
        return {"kind": "exponential", "mean": sig(scale)}
    raise ValueError(f"unknown family {family!r}; known: {sorted(FAMILIES)}")


def _mle(family: str, x: FloatArray) -> FamilyFit | None:
    """Maximum-likelihood fit with loc fixed at 0, or None if the optimiser fails."""
    dist = FAMILIES[family]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            params = tuple(float(p) for p in dist.fit(x, floc=0.0))
            loglik = float(np.sum(dist.logpdf(x, *params)))
    except (ValueError, RuntimeError, FloatingPointError) as exc:
        log.warning("%s fit failed: %s", family, exc)
        return None
    if not math.isfinite(loglik) or not all(math.isfinite(p) and p >= 0 for p in params):
        return None
    return FamilyFit(family, params, loglik, k=len(params) - 1)


def empirical_values(values: FloatArray, max_values: int) -> list[float]:
    """All values, or ``max_values`` evenly spaced quantiles of them: a compact empirical law."""
    x = np.sort(values)
    if len(x) > max_values:
        x = np.quantile(x, (np.arange(max_values) + 0.5) / max_values)
    return [round(float(v), 4) for v in x]


def fit_duration(
    values: FloatArray,
    *,
    unit: str = "days",
    families: tuple[str, ...] = tuple(FAMILIES),
    n_mc_samples: int = 199,
    gof_max_n: int = 500,
    p_threshold: float = 0.01,
    seed: int = 0,
    empirical_from: FloatArray | None = None,
    max_empirical: int = 500,
) -> DurationFit:
    """Choose a distribution for positive ``values``.

    ``empirical_from`` are the values the empirical fallback resamples (default ``values``; e.g.
    whole-day lead times before they were spread over the day for the continuous fit). The AD
    test runs on a random subsample of at most ``gof_max_n`` values (fixed ``seed``) so it stays
    fast; with big samples any family would be rejected for trivial misfit anyway.
    """
    x = np.asarray(values, dtype=float)
    if len(x) == 0 or (x <= 0).any() or not np.isfinite(x).all():
        raise ValueError("fit_duration needs positive finite values")
    raw = x if empirical_from is None else np.asarray(empirical_from, dtype=float)
    diagnostics: dict[str, Any] = {"histogram": histogram(x, bins=min(40, max(10, len(x) // 10)))}

    if np.ptp(x) == 0.0:
        value = sig(float(x[0]))
        return DurationFit(
            spec={"kind": "deterministic", "value": value},
            chosen="deterministic",
            ranking=(),
            ad_statistic=math.nan,
            ad_pvalue=math.nan,
            ad_n=0,
            n_mc_samples=0,
            quality=f"deterministic: all {len(x)} values equal {value:g} {unit}",
            diagnostics=diagnostics,
            notes=(f"all values are equal ({value:g} {unit}): no spread to fit",),
        )

    fits = [f for f in (_mle(fam, x) for fam in families) if f is not None]
    if not fits:
        raise ValueError("no candidate family could be fitted")
    ranking = tuple(sorted(fits, key=lambda f: f.aic))
    best = ranking[0]

    rng = np.random.default_rng(seed)
    sub = rng.choice(x, size=gof_max_n, replace=False) if len(x) > gof_max_n else x
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        gof = stats.goodness_of_fit(
            FAMILIES[best.family],
            sub,
            known_params={"loc": 0.0},
            statistic="ad",
            n_mc_samples=n_mc_samples,
            rng=rng,
        )
    ad_stat, ad_p = float(gof.statistic), float(gof.pvalue)

    subsample = f", {len(sub)} of {len(x)} values" if len(sub) < len(x) else ""
    ad_text = f"Anderson-Darling p={fmt_p(ad_p)} (Monte Carlo, {n_mc_samples} draws{subsample})"
    runner_up = (
        f", next {ranking[1].family} ΔAIC {ranking[1].aic - best.aic:+.1f}"
        if len(ranking) > 1
        else ""
    )
    diagnostics.update(
        {
            "aic": {f.family: f.aic for f in ranking},
            "loglik": {f.family: f.loglik for f in ranking},
            "specs": {f.family: f.spec for f in ranking},
            "ad": {
                "statistic": ad_stat,
                "pvalue": ad_p,
                "n": len(sub),
                "n_mc_samples": n_mc_samples,
            },
        }
    )
    grid = np.linspace(0.0, float(np.quantile(x, 0.995)) * 1.05, 200)[1:]
    diagnostics["pdf"] = {"x": grid, **{f.family: f.frozen.pdf(grid) for f in ranking}}

    notes: list[str] = []
    if ad_p < p_threshold:
        spec: dict[str, Any] = {
            "kind": "empirical",
            "values": empirical_values(raw, max_empirical),
        }
        chosen = "empirical"
        k = len(spec["values"])
        what = "all" if k == len(raw) else "quantiles of"
        quality = (
            f"empirical ({k} values, {what} the data): no family fits — best {best.family} "
            f"(AIC {best.aic:.1f}) rejected, {ad_text}"
        )
        notes.append(
            f"no candidate family fits ({best.family} best by AIC, AD p={fmt_p(ad_p)} < "
            f"{p_threshold}): the observed values are resampled (empirical distribution)"
        )
        diagnostics["qq"] = qq_points(x, best.frozen.ppf)
    else:
        spec = best.spec
        chosen = best.family
        quality = f"{best.family} (AIC {best.aic:.1f}{runner_up}); {ad_text}"
        diagnostics["qq"] = qq_points(x, best.frozen.ppf)
    log.debug("duration fit: %s", quality)
    return DurationFit(
        spec=spec,
        chosen=chosen,
        ranking=ranking,
        ad_statistic=ad_stat,
        ad_pvalue=ad_p,
        ad_n=len(sub),
        n_mc_samples=n_mc_samples,
        quality=quality,
        diagnostics=diagnostics,
        notes=tuple(notes),
    )
