"""The results folder contract: ``results/<name>/`` written atomically as replications finish.

Files: ``manifest.json`` (resolved scenarios with hashes, seeds, replications, warm-up, versions,
start and end time), ``replications.parquet`` (one row per scenario x replication, a column per
KPI), ``orders.parquet`` (one row per order; a folder of one parquet file per replication that
pandas reads as one table), ``summary.csv`` (per scenario and KPI: mean,
ci_low, ci_high, half_width, n), ``comparison.csv`` (paired differences against the baseline).
Every file is written to a temporary name and renamed, so a reader never sees half a file. A
finished replication's orders and its row (an appended log line) are saved at once, so an
interrupted experiment loses nothing and resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.kpis import KPI_NAMES
from sim.scenario import Scenario, scenario_hash
from sim.statistics import in_scenario_order, summarize

MANIFEST = "manifest.json"
REPLICATIONS = "replications.parquet"
# A parquet dataset: one file per replication inside the folder orders.parquet/, which
# pandas.read_parquet and pyarrow read as one table (they skip the dot-named temporary files).
ORDERS = "orders.parquet"
TIMESERIES = "timeseries.parquet"  # daily backlog, WIP, stock... per scenario and replication
DATASETS = (ORDERS, TIMESERIES)
ROW_LOG = "replications.log.jsonl"  # one line per finished replication, appended at once
TABLE_WRITE_INTERVAL_S = 1.0
SUMMARY = "summary.csv"
COMPARISON = "comparison.csv"
RESULT_FILES = (MANIFEST, REPLICATIONS, SUMMARY, COMPARISON, "selection.json", ROW_LOG)

RIGHT_CENSORING_NOTE = (
    "Orders open at the end are counted in wip_end, left out of lead-time, visit, material "
    "and satisfaction KPIs (which describe orders completed in the window), and counted late in "
    "on_time_rate once their promise date has passed."
)


class ResultsFolderError(Exception):
    """A results folder that cannot be written or resumed as asked."""


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


def scenario_entries(scenarios: Sequence[Scenario]) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "hash": scenario_hash(s),
            "warmup_days": s.run.warmup_days,
            "duration_days": s.run.duration_days,
            "resolved": s.model_dump(mode="json"),
        }
        for s in scenarios
    ]


def write_part(
    results_dir: Path, dataset: str, scenario_hash: str, replication: int, frame: pd.DataFrame
) -> None:
    """One replication's rows of a dataset (orders, time series), written atomically, by a
    worker where it shares the disk."""
    part = results_dir / dataset / f"{scenario_hash}-{replication:06d}.parquet"
    atomic_write(part, lambda p: frame.to_parquet(p, index=False))


class ResultStore:
    """Writes one experiment's results folder as replications finish.

    ``identity`` is what makes two experiments the same one (scenario hashes, base seed, CRN,
    warm-up rule): ``resume`` continues a folder only when it matches, unless ``force``.
    """

    def __init__(
        self,
        folder: Path,
        scenarios: Sequence[Scenario],
        identity: dict[str, Any],
        resume: bool = False,
        force: bool = False,
        keep_orders: bool = True,
    ) -> None:
        self.folder = folder
        self.scenarios = list(scenarios)
        self.identity = identity
        self.keep_orders = keep_orders
        self.started_at = now_iso()
        self.rows: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}
        self._scenario_entries = scenario_entries(self.scenarios)  # computed once: 10+ ms
        self._versions = versions()
        self._tables_written_at = time.monotonic()
        if folder.exists() and not folder.is_dir():
            raise ResultsFolderError(f"{folder} exists and is not a folder")
        if resume:
            self._load_previous(force)
        else:
            self._clear()

    # --- resume ---------------------------------------------------------------------------
    def _load_previous(self, force: bool) -> None:
        manifest_path = self.folder / MANIFEST
        if not manifest_path.exists():
            return  # nothing to resume: a fresh start
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            previous_identity = manifest["identity"]
        except (json.JSONDecodeError, KeyError, OSError) as exc:
            raise ResultsFolderError(
                f"{manifest_path}: not a manifest this version can resume ({exc})"
            ) from None
        if previous_identity != self.identity and not force:
            differing = sorted(
                k
                for k in set(previous_identity) | set(self.identity)
                if previous_identity.get(k) != self.identity.get(k)
            )
            raise ResultsFolderError(
                f"{self.folder} holds a different experiment (differs in: "
                f"{', '.join(differing)}); refusing to resume into it (use --force to discard "
                "its results, or choose another --out)"
            )
        if previous_identity != self.identity:
            self._clear()
            return
        self.started_at = manifest.get("started_at", self.started_at)
        self.extra = {k: manifest[k] for k in ("warmup",) if manifest.get(k)}
        # Summaries of the earlier, shorter table would now be stale: they are written anew.
        for stale in (SUMMARY, COMPARISON, "selection.json"):
            (self.folder / stale).unlink(missing_ok=True)
        path = self.folder / REPLICATIONS
        rows = pd.read_parquet(path).to_dict("records") if path.exists() else []
        rows.extend(self._logged_rows())
        unique: dict[tuple[str, int], dict[str, Any]] = {}
        for row in rows:
            unique[(str(row["scenario_hash"]), int(row["replication"]))] = row
        self.rows = list(unique.values())
        done = self.done_keys()
        # Parts of replications the table does not list were written by a run that died between
        # the two writes: drop them, the replication will run again.
        for dataset in DATASETS:
            parts = self.folder / dataset
            if not parts.is_dir():
                continue
            for part in parts.iterdir():
                key = part.stem.rsplit("-", 1)
                torn = part.name.startswith(".")  # a temporary file of a killed writer
                if torn or len(key) != 2 or (key[0], int(key[1])) not in done:
                    part.unlink()

    def _logged_rows(self) -> list[dict[str, Any]]:
        """Rows of the append-only log; a torn last line (a killed writer) is ignored."""
        log_path = self.folder / ROW_LOG
        if not log_path.exists():
            return []
        rows = []
        for line in log_path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return rows

    def _clear(self) -> None:
        for name in RESULT_FILES:
            (self.folder / name).unlink(missing_ok=True)
        for dataset in DATASETS:
            path = self.folder / dataset
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def done_keys(self) -> set[tuple[str, int]]:
        return {(str(r["scenario_hash"]), int(r["replication"])) for r in self.rows}

    # --- writing --------------------------------------------------------------------------
    def manifest(self, finished: bool) -> dict[str, Any]:
        return {
            "kind": "delivery-twin results",
            "identity": self.identity,
            "scenarios": self._scenario_entries,
            "replications_done": len(self.rows),
            "complete": finished,
            "kpis": list(KPI_NAMES),
            "right_censoring": RIGHT_CENSORING_NOTE,
            "versions": self._versions,
            "started_at": self.started_at,
            "ended_at": now_iso() if finished else None,
            **self.extra,
        }

    def add(
        self,
        row: dict[str, Any],
        orders: pd.DataFrame | None = None,
        timeseries: pd.DataFrame | None = None,
    ) -> None:
        """Record one finished replication: its frames first, then the table that lists it.

        A frame is None when the worker already wrote its part (see write_part).
        """
        key = (row["scenario_hash"], row["replication"])
        if orders is not None and self.keep_orders:
            write_part(self.folder, ORDERS, *key, orders)
        if timeseries is not None:
            write_part(self.folder, TIMESERIES, *key, timeseries)
        self.rows.append(row)
        # The row is safe once its log line is written; the tables follow at most every second.
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ROW_LOG).open("a", encoding="utf-8") as log_file:
            log_file.write(json.dumps(row, default=float) + "\n")
        if time.monotonic() - self._tables_written_at >= TABLE_WRITE_INTERVAL_S:
            self._write_tables(finished=False)

    def flush(self) -> None:
        """Write the tables now (after an interruption, before leaving)."""
        if self.rows:
            self._write_tables(finished=False)

    def replications_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        if frame.empty:
            return frame
        return in_scenario_order(frame, [s.name for s in self.scenarios])

    def _write_tables(self, finished: bool) -> None:
        self._tables_written_at = time.monotonic()
        table = self.replications_frame()
        atomic_write(self.folder / REPLICATIONS, lambda p: table.to_parquet(p, index=False))
        if finished:  # readers of a partial folder summarise replications.parquet themselves
            summary = summarize(table, list(KPI_NAMES))
            atomic_write(self.folder / SUMMARY, lambda p: summary.to_csv(p, index=False))
        atomic_write_text(
            self.folder / MANIFEST, json.dumps(self.manifest(finished), indent=2) + "\n"
        )

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        atomic_write(self.folder / name, lambda p: frame.to_csv(p, index=False))

    def write_json(self, name: str, data: Any) -> None:
        atomic_write_text(self.folder / name, json.dumps(data, indent=2) + "\n")

    def finish(self) -> None:
        """Mark the experiment complete."""
        self._write_tables(finished=True)
        (self.folder / ROW_LOG).unlink(missing_ok=True)
