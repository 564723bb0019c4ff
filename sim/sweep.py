"""Sweeps: scenario variants from ``--set PATH=VALUES`` (full factorial) or a Latin hypercube.

``PATH`` is a dotted key path into the scenario (``dispatch.max_overtime_hours_per_day``); list
items are addressed by index (``dispatch.crews.0.count``) or all at once with ``*``
(``dispatch.crews.*.count``). ``VALUES`` is a comma list (``4,5,6``, ``true,false``,
``fifo,shortest_job``) or a range ``lo:hi:step`` (inclusive); for ``--lhs N`` a continuous
range ``lo:hi``. Every variant is validated through the scenario schema.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError
from scipy.stats import qmc

from sim.scenario import Scenario, plain_data


class SweepError(ValueError):
    """A ``--set`` that cannot be applied; the message names the path and value."""


@dataclass(frozen=True)
class Axis:
    path: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def continuous(self) -> bool:
        return self.low is not None


def _scalar(token: str) -> Any:
    token = token.strip()
    try:
        return tomllib.loads(f"v = {token}")["v"]
    except tomllib.TOMLDecodeError:
        return token  # a bare word such as fifo


def parse_set(text: str) -> Axis:
    if "=" not in text:
        raise SweepError(
            f"--set {text!r}: expected PATH=VALUES, e.g. dispatch.rule=fifo,shortest_job"
        )
    path, _, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not path or not spec:
        raise SweepError(f"--set {text!r}: both the path and the values are needed")
    parts = spec.split(":")
    if len(parts) in (2, 3) and "," not in spec:
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise SweepError(f"--set {text!r}: a range needs numbers, lo:hi[:step]") from None
        low, high = numbers[0], numbers[1]
        if high < low:
            raise SweepError(f"--set {text!r}: range end {high} is below its start {low}")
        if len(parts) == 2:
            return Axis(path, low=low, high=high)
        step = numbers[2]
        if step <= 0:
            raise SweepError(f"--set {text!r}: the step must be positive")
        count = math.floor((high - low) / step + 1e-9) + 1
        values = [low + i * step for i in range(count)]
        if all(p.lstrip("-").isdigit() for p in parts):
            values = [round(v) for v in values]
        return Axis(path, values=tuple(values))
    return Axis(path, values=tuple(_scalar(v) for v in spec.split(",")))


def _assign(data: Any, keys: list[str], value: Any, path: str) -> None:
    key, rest = keys[0], keys[1:]
    if isinstance(data, list):
        if key == "*":
            targets = range(len(data))
        elif key.isdigit() and int(key) < len(data):
            targets = [int(key)]
        else:
            raise SweepError(f"--set {path}: {key!r} is not an index of a list of {len(data)}")
        for i in targets:
            if rest:
                _assign(data[i], rest, value, path)
            else:
                data[i] = value
        return
    if not isinstance(data, dict):
        raise SweepError(f"--set {path}: {key!r} goes inside a value that is not a table")
    if rest:
        if key not in data or data[key] is None:
            raise SweepError(f"--set {path}: the scenario has no {key!r} here")
        _assign(data[key], rest, value, path)
    else:
        data[key] = value


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def apply_overrides(base: Scenario, overrides: dict[str, Any], name: str) -> Scenario:
    data = plain_data(base.model_dump(mode="python"))
    for path, value in overrides.items():
        _assign(data, path.split("."), value, path)
    data["name"] = name
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        shown = ", ".join(f"{k}={_label(v)}" for k, v in overrides.items())
        raise SweepError(f"--set {shown} gives an invalid scenario: {problems}") from None


def sweep_points(axes: list[Axis], lhs: int | None, seed: int) -> list[dict[str, Any]]:
    """The override dicts of every point: a full factorial, or an LHS over continuous axes."""
    if lhs is not None:
        if lhs < 1:
            raise SweepError(f"--lhs needs a positive number of points, got {lhs}")
        discrete = [a.path for a in axes if not a.continuous]
        if discrete:
            raise SweepError(f"--lhs samples continuous ranges lo:hi only; not: {discrete}")
        sampler = qmc.LatinHypercube(d=len(axes), seed=np.random.default_rng(seed))
        unit = sampler.random(lhs)
        lows = np.array([a.low for a in axes], dtype=float)
        highs = np.array([a.high for a in axes], dtype=float)
        points = qmc.scale(unit, lows, highs) if np.any(highs > lows) else unit * 0 + lows
        return [{a.path: float(v) for a, v in zip(axes, row, strict=True)} for row in points]
    continuous = [a.path for a in axes if a.continuous]
    if continuous:
        raise SweepError(f"a range without a step needs --lhs: {continuous}")
    return [
        dict(zip([a.path for a in axes], combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def sweep_scenarios(
    base: Scenario, sets: list[str], lhs: int | None = None, seed: int = 0
) -> list[tuple[Scenario, dict[str, Any]]]:
    """The swept variants of ``base`` with the overrides that made each one."""
    if not sets:
        raise SweepError("a sweep needs at least one --set PATH=VALUES")
    axes = [parse_set(s) for s in sets]
    paths = [a.path for a in axes]
    if len(set(paths)) != len(paths):
        raise SweepError(f"each path may be set once; repeated: {paths}")
    variants = []
    for i, overrides in enumerate(sweep_points(axes, lhs, seed)):
        if lhs is None:
            label = ",".join(f"{k}={_label(v)}" for k, v in overrides.items())
        else:
            label = f"lhs{i:03d}"
        variants.append((apply_overrides(base, overrides, f"{base.name}[{label}]"), overrides))
    return variants
