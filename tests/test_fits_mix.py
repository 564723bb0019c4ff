"""Order mix: region shares, size and value lognormals, bill of materials by size."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from calibration.fits import FitError, fit_bom, fit_order_mix, fit_size
from sim.distributions import build
from sim.scenario import OrdersSpec

N = 4000


def _orders(seed: int = 21, n: int = N) -> pd.DataFrame:
    """Orders drawn the way sim.arrivals.OrderFactory draws them."""
    rng = np.random.default_rng(seed)
    size_dist = build({"kind": "lognormal", "mean": 6.0, "sd": 3.0})
    value_dist = build({"kind": "lognormal", "mean": 400.0, "sd": 80.0})
    size = np.maximum(1, np.round(size_dist.sample(rng, n))).astype(int)
    region = rng.choice(["north", "south", "west"], size=n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "created_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h"),
            "region": region,
            "size": size,
            "value": size * value_dist.sample(rng, n),
        }
    )


def _lines(orders: pd.DataFrame, seed: int = 22) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = orders["size"].to_numpy(float)
    per_sku = {
        "fixture": size,  # exactly one per fixture
        "hub": np.ones(len(size)),  # one per order
        "cable": np.maximum(0.0, 2.5 * size + 3.0 + rng.normal(0.0, 1.0, len(size))),  # metres
    }
    return pd.concat(
        pd.DataFrame({"order_id": orders["order_id"], "sku": sku, "qty": qty})
        for sku, qty in per_sku.items()
    )


def test_order_mix_recovers_regions_size_value_and_bom() -> None:
    orders = _orders()
    result = fit_order_mix(orders, _lines(orders))
    p = result.params
    shares = p["orders.regions"]
    assert shares == pytest.approx({"north": 0.5, "south": 0.3, "west": 0.2}, abs=0.02)
    size = p["orders.size_fixtures"]
    assert size["kind"] == "lognormal"
    assert size["mean"] == pytest.approx(6.0, rel=0.03)
    assert size["sd"] == pytest.approx(3.0, rel=0.05)
    value = p["orders.value_per_fixture"]
    assert value["mean"] == pytest.approx(400.0, rel=0.02)
    assert value["sd"] == pytest.approx(80.0, rel=0.05)
    bom = {line["sku"]: line for line in p["orders.bom"]}
    assert bom["fixture"] == {"sku": "fixture", "qty_per_fixture": 1.0, "qty_per_order": 0.0}
    assert bom["hub"] == {"sku": "hub", "qty_per_fixture": 0.0, "qty_per_order": 1.0}
    assert bom["cable"]["qty_per_fixture"] == pytest.approx(2.5, rel=0.02)
    assert bom["cable"]["qty_per_order"] == pytest.approx(3.0, abs=0.15)
    OrdersSpec(regions=shares, size_fixtures=size, value_per_fixture=value, bom=p["orders.bom"])
    assert set(result.parts) == {"regions", "size", "value", "bom"}
    assert result.n == N
    json.dumps(result.to_dict())


def test_rounded_size_distribution_matches_observed_frequencies() -> None:
    result = fit_size(_orders())
    d = result.diagnostics
    assert d["total_variation"] < 0.03
    assert d["rounded_mean"] == pytest.approx(d["summary"]["mean"], rel=0.02)
    assert math.isclose(float(np.sum(d["pmf"]["fitted"])), 1.0, rel_tol=1e-9)
    assert "total-variation" in result.quality


def test_missing_region_and_lines_give_a_default_and_notes() -> None:
    orders = _orders(n=200).drop(columns=["region"])
    result = fit_order_mix(orders)
    assert result.params["orders.regions"] == {"default": 1.0}
    assert "orders.bom" not in result.params
    assert any("no order region" in note for note in result.notes)
    assert any("bill of materials not fitted" in note for note in result.notes)


def test_too_few_orders_raise_fit_error() -> None:
    with pytest.raises(FitError, match=r"'order_mix.size' had 12 usable rows") as info:
        fit_size(_orders(n=12))
    assert info.value.n == 12
    orders = _orders(n=8)
    with pytest.raises(FitError, match=r"order_mix\.bom"):
        fit_bom(orders, _lines(orders))
