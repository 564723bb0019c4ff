"""The results folder contract: ``results/<name>/`` written atomically as replications finish.

Files: ``manifest.json`` (resolved scenarios with hashes, seeds, replications, warm-up, versions,
start and end time), ``replications.parquet`` (one row per scenario x replication, a column per
KPI), ``orders.parquet`` (one row per order), ``summary.csv`` (per scenario and KPI: mean,
ci_low, ci_high, half_width, n). Every file is written to a temporary name and renamed, so a
reader never sees half a file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.kpis import KPI_NAMES
from sim.scenario import Scenario, scenario_hash
from sim.statistics import summarize

RIGHT_CENSORING_NOTE = (
    "Orders open at the end are counted in wip_end, left out of lead-time, visit, material "
    "and satisfaction KPIs (which describe orders completed in the window), and counted late in "
    "on_time_rate once their promise date has passed."
)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("delivery-twin", "simpy", "numpy", "pandas", "scipy", "pydantic"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ResultStore:
    """Writes one experiment's results folder as replications finish."""

    def __init__(self, folder: Path, scenarios: list[Scenario], seed: int, replications: int):
        self.folder = folder
        self.scenarios = scenarios
        self.seed = seed
        self.replications = replications
        self.started_at = now_iso()
        self.rows: list[dict[str, Any]] = []
        self.order_frames: list[pd.DataFrame] = []

    def manifest(self, finished: bool) -> dict[str, Any]:
        return {
            "kind": "delivery-twin results",
            "scenarios": [
                {
                    "name": s.name,
                    "hash": scenario_hash(s),
                    "warmup_days": s.run.warmup_days,
                    "duration_days": s.run.duration_days,
                    "resolved": s.model_dump(mode="json"),
                }
                for s in self.scenarios
            ],
            "base_seed": self.seed,
            "replications": self.replications,
            "replications_done": len(self.rows),
            "complete": finished,
            "kpis": list(KPI_NAMES),
            "right_censoring": RIGHT_CENSORING_NOTE,
            "versions": versions(),
            "started_at": self.started_at,
            "ended_at": now_iso() if finished else None,
        }

    def add(self, row: dict[str, Any], orders: pd.DataFrame) -> None:
        """Record one finished replication and rewrite the folder's files atomically."""
        self.rows.append(row)
        self.order_frames.append(orders)
        self._write(finished=False)

    def finish(self) -> None:
        self._write(finished=True)

    def replications_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def _write(self, finished: bool) -> None:
        table = self.replications_frame()
        atomic_write(self.folder / "replications.parquet", lambda p: table.to_parquet(p))
        orders = pd.concat(self.order_frames, ignore_index=True)
        atomic_write(self.folder / "orders.parquet", lambda p: orders.to_parquet(p))
        summary = summarize(table, list(KPI_NAMES))
        atomic_write(self.folder / "summary.csv", lambda p: summary.to_csv(p, index=False))
        atomic_write_text(
            self.folder / "manifest.json", json.dumps(self.manifest(finished), indent=2) + "\n"
        )
