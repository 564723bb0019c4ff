"""The shared result of every fit, and the error that stops calibration when data is too thin.

A fit is a pure function of canonical history frames (calibration/schema.py). Its result carries
everything the calibration command and the report need: the parameters ready to drop into a
scenario, how many rows they rest on, how they were fitted and how well, chart data, and where
the data came from. Keeping one shape for all fits lets the command write scenario comments and
the report draw charts without knowing each fit.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FitError", "FitResult", "apply_params", "jsonable"]


class FitError(ValueError):
    """Too little (or unusable) data for a fit: calibration must refuse to write a scenario.

    Carries the fit's name, the rows it had and the minimum it needs, so the command can list
    every refusal at once.
    """

    def __init__(self, fit: str, n: int, minimum: int | None = None, reason: str = "") -> None:
        self.fit = fit
        self.n = n
        self.minimum = minimum
        self.reason = reason
        need = f" (needs at least {minimum})" if minimum is not None else ""
        why = f": {reason}" if reason else ""
        super().__init__(f"fit {fit!r} had {n} usable rows{need}{why}")


@dataclass(frozen=True)
class FitResult:
    """What one fit found.

    ``params`` maps dotted scenario key paths to values as a scenario file holds them
    (distributions as spec dicts such as ``{"kind": "lognormal", "mean": 12.0, "sd": 4.0}``;
    lists of named entries such as ``orders.bom`` or ``supply.suppliers`` as lists of dicts).
    ``parts`` holds sub-fits (one per supplier, per order attribute...) with their own ``n``,
    ``quality`` and diagnostics; a part's ``params`` are relative to its parent entry.
    ``notes`` are the caveats a planner should read (data dropped, defaults used, fallbacks).
    """

    fit: str
    params: dict[str, Any]
    n: int
    method: str
    quality: str
    diagnostics: dict[str, Any]
    source: str
    notes: tuple[str, ...] = ()
    parts: dict[str, FitResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (arrays as lists, numpy scalars as floats, NaN as None)."""
        return {
            "fit": self.fit,
            "params": jsonable(self.params),
            "n": self.n,
            "method": self.method,
            "quality": self.quality,
            "diagnostics": jsonable(self.diagnostics),
            "source": self.source,
            "notes": list(self.notes),
            "parts": {k: v.to_dict() for k, v in self.parts.items()},
        }


def jsonable(value: Any) -> Any:
    """``value`` with numpy/pandas types turned into plain JSON types, recursively."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    return value


def apply_params(data: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of scenario ``data`` with fitted ``params`` (dotted key paths) set in it.

    A list of named entries (``supply.suppliers``) is merged by ``name``: a fitted supplier
    updates the fields it fitted and keeps the planner's other settings (disruptions, expedite).
    Other lists (``orders.bom``) are replaced whole: the fit saw the complete bill of materials.
    """
    out: dict[str, Any] = copy.deepcopy(dict(data))
    for path, value in params.items():
        keys = path.split(".")
        target = out
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        old = target.get(keys[-1])
        if _named_list(old) and _named_list(value):
            merged = {entry["name"]: dict(entry) for entry in old}
            for entry in value:
                merged.setdefault(entry["name"], {}).update(copy.deepcopy(entry))
            target[keys[-1]] = list(merged.values())
        else:
            target[keys[-1]] = copy.deepcopy(value)
    return out


def _named_list(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(v, Mapping) and "name" in v for v in value)
    )
