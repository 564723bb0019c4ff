"""Generalised linear models by iteratively reweighted least squares (no statsmodels needed).

Two link/variance pairs are needed: Poisson with log link (daily order counts) and binomial with
logit link (satisfied or not). Both are canonical links, so IRLS is Newton's method and the
inverse of the final weighted cross-product is the usual asymptotic covariance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from calibration.fits._common import FloatArray

__all__ = ["GlmFit", "irls"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GlmFit:
    coef: FloatArray
    cov: FloatArray  # inverse Fisher information (not scaled by a dispersion)
    mu: FloatArray  # fitted means
    loglik: float
    iterations: int
    converged: bool

    @property
    def se(self) -> FloatArray:
        return np.sqrt(np.diag(self.cov))


def _loglik(family: str, y: FloatArray, mu: FloatArray) -> float:
    if family == "poisson":
        return float(np.sum(y * np.log(np.maximum(mu, 1e-300)) - mu - special.gammaln(y + 1.0)))
    p = np.clip(mu, 1e-15, 1 - 1e-15)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))


def irls(
    x: FloatArray,
    y: FloatArray,
    family: Literal["poisson", "binomial"],
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> GlmFit:
    """Fit a Poisson (log link) or binomial (logit link) GLM; step-halving keeps it monotone."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)

    def mean_of(eta: FloatArray) -> FloatArray:
        if family == "poisson":
            return np.exp(np.clip(eta, -700, 700))
        return special.expit(eta)

    if family == "poisson":
        eta = np.log(y + 0.5)
        beta = np.linalg.lstsq(x, eta, rcond=None)[0]
    else:
        beta = np.zeros(x.shape[1])
    eta = x @ beta
    mu = mean_of(eta)
    ll = _loglik(family, y, mu)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        w = mu if family == "poisson" else mu * (1.0 - mu)
        w = np.maximum(w, 1e-12)
        grad = x.T @ (y - mu)
        info = x.T @ (x * w[:, None])
        step = np.linalg.lstsq(info, grad, rcond=None)[0]
        scale = 1.0
        while True:
            new_beta = beta + scale * step
            new_mu = mean_of(x @ new_beta)
            new_ll = _loglik(family, y, new_mu)
            if new_ll >= ll - 1e-12 or scale < 1e-6:
                break
            scale *= 0.5
        done = abs(new_ll - ll) < tol * (abs(ll) + 1.0)
        beta, mu, ll = new_beta, new_mu, new_ll
        if done:
            converged = True
            break
    if not converged:
        log.warning("IRLS (%s) did not converge in %d iterations", family, max_iter)
    w = mu if family == "poisson" else mu * (1.0 - mu)
    info = x.T @ (x * np.maximum(w, 1e-12)[:, None])
    cov = np.linalg.pinv(info)
    return GlmFit(coef=beta, cov=cov, mu=mu, loglik=ll, iterations=it, converged=converged)
