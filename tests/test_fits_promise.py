"""Sales promise: a dominant fixed offset is found; a spread of promises gives the median."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.fits import FitError, fit_promise
from sim.scenario import PromiseSpec

T0 = pd.Timestamp("2024-01-01")


def _orders(days: np.ndarray, seed: int = 61) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    created = T0 + pd.to_timedelta(rng.uniform(0, 365, len(days)), unit="D")
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(days))],
            "created_at": created,
            "promised_at": created + pd.to_timedelta(days, unit="D"),
        }
    )


def test_fixed_offset_is_recovered() -> None:
    rng = np.random.default_rng(62)
    days = np.where(rng.random(500) < 0.95, 3.0, 5.0) + rng.uniform(-0.2, 0.2, 500)
    result = fit_promise(_orders(days))
    assert result.params == {"promise.policy": "fixed", "promise.fixed_days": 3.0}
    assert result.diagnostics["mode_share"] > 0.9
    assert not result.notes
    PromiseSpec(**{k.split(".")[1]: v for k, v in result.params.items()})


def test_varied_promises_use_the_median_and_say_so() -> None:
    days = np.random.default_rng(63).uniform(2.0, 20.0, 800)
    result = fit_promise(_orders(days))
    assert result.params["promise.fixed_days"] == pytest.approx(np.median(days), abs=0.1)
    assert "promises vary" in result.quality
    assert any("quoted" in note for note in result.notes)
    q = result.diagnostics["quantiles"]
    assert q["p10"] < q["p50"] < q["p90"]


def test_too_few_promises_raise_fit_error() -> None:
    with pytest.raises(FitError, match=r"'promise' had 5 usable rows"):
        fit_promise(_orders(np.full(5, 3.0)))
