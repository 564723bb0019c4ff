"""Order mix: what an arriving order looks like (region, size, value, bill of materials).

Matches ``sim.arrivals.OrderFactory``: region by weight; size = max(1, round(draw)) from
``size_fixtures``; value = size x ``value_per_fixture`` draw; SKU quantity = ceil(qty_per_fixture
x size + qty_per_order). Size and value per fixture are lognormal by the method of moments (the
twin's lognormal is specified by mean and sd, so moments transfer without a fit bias); the
report shows how well the rounded draws reproduce the observed size frequencies.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from calibration.fits._common import check_min, describe, histogram, qq_points, require_columns, sig
from calibration.fits.result import FitError, FitResult

__all__ = [
    "MIN_BOM_ORDERS",
    "MIN_ORDERS",
    "fit_bom",
    "fit_order_mix",
    "fit_regions",
    "fit_size",
    "fit_value",
]

log = logging.getLogger(__name__)

MIN_ORDERS = 30  # fewer cannot estimate a mean and sd (or a region share) usefully
MIN_BOM_ORDERS = 10  # two coefficients per SKU


def _lognormal(mean: float, sd: float) -> Any:
    sigma2 = math.log1p((sd / mean) ** 2)
    return stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(math.log(mean) - 0.5 * sigma2))


def fit_regions(orders: pd.DataFrame, *, default_region: str = "default") -> FitResult:
    """Region weights as shares of orders; a single ``default_region`` if the export has none."""
    fit = "order_mix.regions"
    require_columns(orders, fit, "orders", ())
    if "region" not in orders.columns or orders["region"].notna().sum() == 0:
        check_min(fit, len(orders), MIN_ORDERS, "orders")
        return FitResult(
            fit=fit,
            params={"orders.regions": {default_region: 1.0}},
            n=0,
            method="no region in the export: one region",
            quality="not fitted (no region data)",
            diagnostics={},
            source="orders.region (absent)",
            notes=(f"no order region in the export: all orders in region {default_region!r}",),
        )
    regions = orders["region"].dropna().astype(str)
    check_min(fit, len(regions), MIN_ORDERS, "orders with a region")
    counts = regions.value_counts().sort_index()
    shares = counts / counts.sum()
    n_missing = int(orders["region"].isna().sum())
    notes = (f"{n_missing} orders without a region left out",) if n_missing else ()
    return FitResult(
        fit=fit,
        params={"orders.regions": {k: round(float(v), 4) for k, v in shares.items()}},
        n=len(regions),
        method="shares of orders per region",
        quality=f"{len(counts)} regions; smallest share {shares.min():.1%} (n={counts.min()})",
        diagnostics={"counts": {k: int(v) for k, v in counts.items()}, "shares": shares.to_dict()},
        source="orders.region",
        notes=notes,
    )


def fit_size(orders: pd.DataFrame) -> FitResult:
    """Order size (fixtures) as a lognormal by mean and sd; the twin rounds draws to >= 1."""
    fit = "order_mix.size"
    require_columns(orders, fit, "orders", ("size",))
    size = pd.to_numeric(orders["size"], errors="coerce").dropna().to_numpy(float)
    bad = int((size < 1).sum())
    size = size[size >= 1]
    check_min(fit, len(size), MIN_ORDERS, "orders with a size >= 1")
    mean, sd = float(size.mean()), float(size.std(ddof=1))
    notes: list[str] = []
    if bad:
        notes.append(f"{bad} orders with size < 1 left out")
    if sd == 0.0:
        spec: dict[str, Any] = {"kind": "deterministic", "value": mean}
        return FitResult(
            fit=fit,
            params={"orders.size_fixtures": spec},
            n=len(size),
            method="all orders have the same size",
            quality=f"deterministic {mean:g}",
            diagnostics={"summary": describe(size)},
            source="orders.size",
            notes=(*notes, "every order has the same size"),
        )
    dist = _lognormal(mean, sd)
    ks = np.arange(1, int(size.max()) + 1)
    observed = np.array([(size == k).mean() for k in ks])
    upper = dist.cdf(ks + 0.5)
    lower = np.where(ks == 1, 0.0, dist.cdf(ks - 0.5))
    fitted = upper - lower
    fitted[-1] += dist.sf(ks[-1] + 0.5)  # the tail beyond the largest size seen
    tv = 0.5 * float(np.abs(observed - fitted).sum())
    rounded_mean = float(np.sum(ks * fitted))
    return FitResult(
        fit=fit,
        params={"orders.size_fixtures": {"kind": "lognormal", "mean": sig(mean), "sd": sig(sd)}},
        n=len(size),
        method="lognormal by the sample mean and sd of size (method of moments)",
        quality=(
            f"total-variation distance {tv:.3f} between observed and rounded-lognormal size "
            f"frequencies; rounded mean {rounded_mean:.2f} vs observed {mean:.2f}"
        ),
        diagnostics={
            "summary": describe(size),
            "pmf": {"size": ks, "observed": observed, "fitted": fitted},
            "total_variation": tv,
            "rounded_mean": rounded_mean,
        },
        source="orders.size",
        notes=tuple(notes),
    )


def fit_value(orders: pd.DataFrame) -> FitResult:
    """Value per fixture (value / size) as a lognormal by mean and sd."""
    fit = "order_mix.value"
    require_columns(orders, fit, "orders", ("size", "value"))
    size = pd.to_numeric(orders["size"], errors="coerce")
    value = pd.to_numeric(orders["value"], errors="coerce")
    ok = size.notna() & value.notna() & (size >= 1) & (value > 0)
    per = (value[ok] / size[ok]).to_numpy(float)
    check_min(fit, len(per), MIN_ORDERS, "orders with a positive value and size")
    mean, sd = float(per.mean()), float(per.std(ddof=1))
    if sd == 0.0:
        spec: dict[str, Any] = {"kind": "deterministic", "value": sig(mean)}
        quality = f"deterministic {mean:g} per fixture"
        diag: dict[str, Any] = {"summary": describe(per)}
    else:
        spec = {"kind": "lognormal", "mean": sig(mean), "sd": sig(sd)}
        dist = _lognormal(mean, sd)
        ks = stats.kstest(per, dist.cdf)
        quality = f"KS D={ks.statistic:.3f} against the moment lognormal (descriptive)"
        diag = {
            "summary": describe(per),
            "histogram": histogram(per),
            "qq": qq_points(per, dist.ppf),
            "ks_statistic": float(ks.statistic),
        }
    return FitResult(
        fit=fit,
        params={"orders.value_per_fixture": spec},
        n=len(per),
        method="lognormal by the sample mean and sd of value / size (method of moments)",
        quality=quality,
        diagnostics=diag,
        source="orders.value / orders.size",
        notes=(),
    )


def fit_bom(orders: pd.DataFrame, order_lines: pd.DataFrame) -> FitResult:
    """Per SKU, quantity = qty_per_fixture x size + qty_per_order by non-negative least squares.

    Orders that appear in ``order_lines`` count a missing SKU as quantity 0; orders without any
    line are left out (their lines were probably not exported). Coefficients are rounded to 4
    decimals, so an exact relation (1 per fixture) survives the twin's rounding up.
    """
    fit = "order_mix.bom"
    require_columns(orders, fit, "orders", ("order_id", "size"))
    require_columns(order_lines, fit, "order_lines", ("order_id", "sku", "qty"))
    sizes = orders[["order_id", "size"]].dropna()
    sizes = sizes[pd.to_numeric(sizes["size"], errors="coerce") >= 1]
    lines = order_lines.dropna(subset=["order_id", "sku", "qty"])
    qty = lines.pivot_table(
        index="order_id", columns="sku", values="qty", aggfunc="sum", fill_value=0.0
    )
    joined = qty.join(sizes.set_index("order_id")["size"], how="inner")
    n = len(joined)
    check_min(fit, n, MIN_BOM_ORDERS, "orders with lines and a size")
    s = joined["size"].to_numpy(float)
    design = np.column_stack([s, np.ones(n)])
    bom: list[dict[str, Any]] = []
    per_sku: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    for sku in qty.columns:
        q = joined[sku].to_numpy(float)
        (per_fixture, per_order), _ = optimize.nnls(design, q)
        per_fixture, per_order = round(float(per_fixture), 4), round(float(per_order), 4)
        pred = per_fixture * s + per_order
        ss_tot = float(np.sum((q - q.mean()) ** 2))
        r2 = 1.0 - float(np.sum((q - pred) ** 2)) / ss_tot if ss_tot > 0 else 1.0
        drawn = np.ceil(pred - 1e-9)
        per_sku[str(sku)] = {
            "qty_per_fixture": per_fixture,
            "qty_per_order": per_order,
            "r2": r2,
            "share_of_orders": float((q > 0).mean()),
            "observed_total": float(q.sum()),
            "twin_total": float(drawn.sum()),  # what the twin would draw (rounded up)
        }
        if per_fixture == 0 and per_order == 0:
            notes.append(f"SKU {sku!r} has no quantity by size: left out of the bill of materials")
            continue
        bom.append({"sku": str(sku), "qty_per_fixture": per_fixture, "qty_per_order": per_order})
    if not bom:
        raise FitError(fit, n, MIN_BOM_ORDERS, reason="no SKU has a positive quantity")
    n_lines_only = int(len(qty) - n)
    if n_lines_only:
        notes.append(f"{n_lines_only} orders with lines but no size left out")
    worst = min(per_sku.values(), key=lambda d: d["r2"])
    over = [
        k
        for k, d in per_sku.items()
        if d["observed_total"] > 0 and d["twin_total"] > 1.1 * d["observed_total"]
    ]
    if over:
        notes.append(
            f"rounding up per order makes the twin use >10% more of: {', '.join(over)} "
            "(fractional quantities per order)"
        )
    return FitResult(
        fit=fit,
        params={"orders.bom": bom},
        n=n,
        method="per SKU, non-negative least squares of quantity on [size, 1]",
        quality=f"{len(bom)} SKUs; lowest R² {worst['r2']:.2f}",
        diagnostics={"per_sku": per_sku},
        source="order_lines.qty joined to orders.size on order_id",
        notes=tuple(notes),
    )


def fit_order_mix(orders: pd.DataFrame, order_lines: pd.DataFrame | None = None) -> FitResult:
    """Regions, size, value per fixture and (with ``order_lines``) bill of materials, together.

    Region and value are skipped with a note when the export lacks them (the scenario default
    or a planner's value is used); size is required.
    """
    fit = "order_mix"
    require_columns(orders, fit, "orders", ("order_id",))
    parts: dict[str, FitResult] = {"regions": fit_regions(orders), "size": fit_size(orders)}
    notes: list[str] = []
    if "value" in orders.columns and orders["value"].notna().any():
        parts["value"] = fit_value(orders)
    else:
        notes.append("no order value in the export: value_per_fixture not fitted")
    if order_lines is not None and len(order_lines):
        parts["bom"] = fit_bom(orders, order_lines)
    else:
        notes.append("no order lines: bill of materials not fitted")
    params: dict[str, Any] = {}
    for part in parts.values():
        params.update(part.params)
        notes.extend(f"{part.fit}: {note}" for note in part.notes)
    return FitResult(
        fit=fit,
        params=params,
        n=parts["size"].n,
        method="; ".join(f"{k}: {p.method}" for k, p in parts.items()),
        quality="; ".join(f"{k}: {p.quality}" for k, p in parts.items()),
        diagnostics={k: p.diagnostics for k, p in parts.items()},
        source="orders (region, size, value), order_lines (sku, qty)",
        notes=tuple(notes),
        parts=parts,
    )
