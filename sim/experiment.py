"""Experiments: scenarios x replications under common random numbers, on any executor.

Replication r of every scenario runs with the same base seed, so its random streams are the
same (common random numbers) and scenario differences are paired. The warm-up is the
scenario's own, a fixed number of days, or detected by MSER-5 on the mean daily WIP of pilot
replications. Replications are added in rounds until a precision target is met (within a
budget), or fed to the Kim-Nelson procedure until it selects the best scenario. Every finished
replication goes to the result store at once, so an interrupted experiment resumes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.comparison import crn_correlations, paired_comparisons
from sim.executors import Executor, SerialExecutor
from sim.kpis import KPI_NAMES
from sim.model import RunResult, simulate
from sim.results import ORDERS, TIMESERIES, ResultStore, write_part
from sim.scenario import Scenario, scenario_hash
from sim.selection import KimNelson, SelectionResult
from sim.statistics import in_scenario_order, summarize
from sim.streams import name_key
from sim.warmup import mser5_across_replications

log = logging.getLogger(__name__)

WarmupSpec = float | Literal["scenario", "auto"]
#: replications per scenario whose daily WIP MSER-5 reads when the warm-up is "auto"
PILOT_REPLICATIONS = 5


class ExperimentError(ValueError):
    """An experiment that cannot run as configured."""


@dataclass(frozen=True)
class Precision:
    """Add replications until every listed KPI's CI half-width is at most ``relative`` x |mean|
    (or ``absolute`` where |mean| is below ``near_zero``), within ``max_replications``."""

    relative: float
    kpis: tuple[str, ...]
    absolute: float = 0.01
    near_zero: float = 1e-6
    max_replications: int = 200


@dataclass(frozen=True)
class Selection:
    """Kim-Nelson selection of the best scenario on one KPI."""

    kpi: str
    maximize: bool
    delta: float
    alpha: float = 0.05
    n0: int = 10
    max_replications: int = 500


@dataclass(frozen=True)
class ExperimentConfig:
    scenarios: tuple[Scenario, ...]
    replications: int = 10
    base_seed: int = 12345
    warmup: WarmupSpec = "scenario"
    crn: bool = True
    baseline: str | None = None  # default: the first scenario
    precision: Precision | None = None
    selection: Selection | None = None
    keep_orders: bool = True
    confidence: float = 0.95

    @property
    def baseline_name(self) -> str:
        return self.baseline or self.scenarios[0].name

    def identity(self) -> dict[str, Any]:
        """What must match for ``--resume`` to continue a folder."""
        return {
            "scenarios": [[s.name, scenario_hash(s)] for s in self.scenarios],
            "base_seed": self.base_seed,
            "crn": self.crn,
            "warmup": self.warmup if isinstance(self.warmup, str) else float(self.warmup),
        }

    def validate(self) -> None:
        names = [s.name for s in self.scenarios]
        if not names:
            raise ExperimentError("an experiment needs at least one scenario")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ExperimentError(
                f"scenario names must be unique; duplicated: {', '.join(duplicates)} "
                "(set a different `name` in each file)"
            )
        if self.baseline_name not in names:
            raise ExperimentError(
                f"baseline {self.baseline_name!r} is not among the scenarios {names}"
            )
        if self.replications < 2 and (self.precision or len(names) > 1):
            raise ExperimentError("confidence intervals need at least 2 replications")
        if self.replications < 1:
            raise ExperimentError(f"replications must be at least 1, got {self.replications}")
        kpis = list(self.precision.kpis if self.precision else [])
        if self.selection:
            kpis.append(self.selection.kpi)
        check_kpis(kpis)
        if isinstance(self.warmup, float | int) and not isinstance(self.warmup, bool):
            for s in self.scenarios:
                if not 0 <= self.warmup < s.run.duration_days:
                    raise ExperimentError(
                        f"warm-up of {self.warmup} days does not fit scenario {s.name!r}, "
                        f"which runs {s.run.duration_days} days"
                    )
        if self.precision and self.precision.relative <= 0:
            raise ExperimentError("the precision target must be positive")
        if self.selection:
            if self.selection.delta <= 0:
                raise ExperimentError("the indifference zone --delta must be positive")
            if self.selection.n0 < 10:
                raise ExperimentError("Kim-Nelson needs a first stage of at least 10")


def check_kpis(kpis: Sequence[str]) -> None:
    unknown = [k for k in kpis if k not in KPI_NAMES]
    if unknown:
        raise ExperimentError(
            f"unknown KPI name(s) {', '.join(map(repr, unknown))}; known: {', '.join(KPI_NAMES)}"
        )


def scenario_seed(base_seed: int, scenario_name: str, crn: bool) -> int:
    """The base seed a scenario runs with: shared under CRN, independent otherwise."""
    if crn:
        return base_seed
    state = np.random.SeedSequence([base_seed, name_key(scenario_name)]).generate_state(1)
    return int(state[0])


@dataclass(frozen=True)
class Job:
    scenario: Scenario
    scenario_hash: str
    replication: int
    seed: int
    warmup_days: float | None  # None: the pilot of an auto warm-up, return the whole run
    keep_orders: bool
    results_dir: str | None = None  # write the frames here (a disk shared with the parent)


@dataclass
class JobOutput:
    scenario: str
    scenario_hash: str
    replication: int
    seed: int
    kpis: dict[str, float]
    orders: pd.DataFrame | None
    timeseries: pd.DataFrame | None = None
    run: RunResult | None = None  # only for warm-up pilots


def run_job(job: Job) -> JobOutput:
    """One replication: the unit of work every executor runs (a pure function of the job)."""
    result = simulate(job.scenario, job.seed, job.replication)
    if job.warmup_days is None:
        return JobOutput(job.scenario.name, job.scenario_hash, job.replication, job.seed, {},
                         None, run=result)  # fmt: skip
    kpis = (
        result.kpis
        if job.warmup_days == job.scenario.run.warmup_days
        else result.kpis_after(job.warmup_days)
    )
    orders, timeseries = frames_of(result, job.keep_orders)
    if job.results_dir is not None:  # written here, in parallel, instead of shipped to the parent
        folder, key = Path(job.results_dir), (job.scenario_hash, job.replication)
        if orders is not None:
            write_part(folder, ORDERS, *key, orders)
        write_part(folder, TIMESERIES, *key, timeseries)
        orders = timeseries = None
    return JobOutput(job.scenario.name, job.scenario_hash, job.replication, job.seed, kpis,
                     orders, timeseries)  # fmt: skip


def frames_of(result: RunResult, keep_orders: bool) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """The per-replication frames a results folder keeps, labelled with scenario and rep."""
    labels = {"scenario": result.scenario_name, "replication": result.replication}
    orders = result.orders.assign(**labels) if keep_orders else None
    return orders, result.timeseries.assign(**labels)


@dataclass
class ExperimentResult:
    replications: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    correlations: pd.DataFrame
    warmup_days: dict[str, float]
    warmup_report: dict[str, Any]
    precision_report: pd.DataFrame | None = None
    selection: SelectionResult | None = None
    notes: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]


class Experiment:
    """Runs one experiment configuration on an executor, saving to a store as it goes."""

    def __init__(
        self,
        config: ExperimentConfig,
        executor: Executor | None = None,
        store: ResultStore | None = None,
        progress: Progress | None = None,
    ) -> None:
        config.validate()
        self.config = config
        self.executor = executor or SerialExecutor()
        self.store = store
        self.progress = progress
        self.rows: list[dict[str, Any]] = list(store.rows) if store else []
        self._done = {(r["scenario"], int(r["replication"])) for r in self.rows}
        self._hashes = {s.name: scenario_hash(s) for s in config.scenarios}
        self._by_name = {s.name: s for s in config.scenarios}
        self.warmup_days: dict[str, float] = {}
        self.warmup_report: dict[str, Any] = {}
        self._planned = 0
        shared_disk = getattr(self.executor, "shares_filesystem", False)
        self._results_dir = str(store.folder) if store and shared_disk else None

    # --- running jobs ---------------------------------------------------------------------
    def _job(self, name: str, rep: int, warmup: float | None) -> Job:
        scenario = self._by_name[name]
        return Job(
            scenario=scenario,
            scenario_hash=self._hashes[name],
            replication=rep,
            seed=scenario_seed(self.config.base_seed, name, self.config.crn),
            warmup_days=warmup,
            keep_orders=self.config.keep_orders,
            results_dir=self._results_dir,
        )

    def _record(self, output: JobOutput) -> None:
        row = {
            "scenario": output.scenario,
            "scenario_hash": output.scenario_hash,
            "replication": output.replication,
            "seed": output.seed,
            "warmup_days": self.warmup_days[output.scenario],
            **{k: output.kpis[k] for k in KPI_NAMES},
        }
        self.rows.append(row)
        self._done.add((output.scenario, output.replication))
        if self.store:
            self.store.add(row, output.orders, output.timeseries)
        if self.progress:
            self.progress(len(self._done), self._planned)

    def ensure(self, wanted: dict[str, int]) -> None:
        """Run whatever replications 0..n-1 of each scenario are not done yet."""
        jobs = [
            self._job(name, rep, self.warmup_days[name])
            for rep in range(max(wanted.values(), default=0))
            for name, n in wanted.items()
            if rep < n and (name, rep) not in self._done
        ]
        self._planned = max(self._planned, len(self._done) + len(jobs))
        if self.progress:
            self.progress(len(self._done), self._planned)
        for output in self.executor.imap_unordered(run_job, jobs):
            self._record(output)

    # --- warm-up --------------------------------------------------------------------------
    def _decide_warmup(self) -> None:
        spec = self.config.warmup
        names = [s.name for s in self.config.scenarios]
        if spec == "scenario":
            self.warmup_days = {n: self._by_name[n].run.warmup_days for n in names}
            self.warmup_report = {"method": "scenario", "days": self.warmup_days}
            return
        if spec != "auto":
            self.warmup_days = dict.fromkeys(names, float(spec))
            self.warmup_report = {"method": "fixed", "days": float(spec)}
            return
        previous = self.store.extra.get("warmup") if self.store else None
        if previous and previous.get("method") == "mser-5":
            self.warmup_days = dict.fromkeys(names, float(previous["days"]))
            self.warmup_report = previous
            return
        self._pilot_warmup(names)

    def _pilot_warmup(self, names: list[str]) -> None:
        pilots = min(PILOT_REPLICATIONS, self._initial_replications())
        jobs = [self._job(n, rep, None) for rep in range(pilots) for n in names]
        self._planned = len(jobs)
        runs: list[RunResult] = []
        for output in self.executor.imap_unordered(run_job, jobs):
            assert output.run is not None
            runs.append(output.run)
        per_scenario: dict[str, int] = {}
        reliable = True
        for name in names:
            series = [
                r.timeseries["wip"].to_numpy(dtype=float) for r in runs if r.scenario_name == name
            ]
            found = mser5_across_replications(series)
            per_scenario[name] = int(found.truncation)
            reliable &= bool(found.reliable)
        # One window for all scenarios, so paired differences compare like with like.
        days = float(max(per_scenario.values()))
        shortest = min(s.run.duration_days for s in self.config.scenarios)
        days = min(days, shortest / 2)
        self.warmup_days = dict.fromkeys(names, days)
        self.warmup_report = {
            "method": "mser-5",
            "series": "daily WIP (orders handed off, not completed), mean over pilots",
            "pilot_replications": pilots,
            "days": days,
            "per_scenario_days": per_scenario,
            "reliable": reliable,
        }
        if not reliable:
            log.warning("MSER-5 truncation fell at the edge of its search: the run may be too "
                        "short to reach steady state")  # fmt: skip
        for run in sorted(runs, key=lambda r: (names.index(r.scenario_name), r.replication)):
            kpis = run.kpis_after(days)
            orders, timeseries = frames_of(run, self.config.keep_orders)
            name = run.scenario_name
            output = JobOutput(
                name, self._hashes[name], run.replication, run.seed, kpis, orders, timeseries
            )
            self._record(output)

    def _initial_replications(self) -> int:
        n = self.config.replications
        if self.config.selection:
            n = max(n, self.config.selection.n0)
        return n

    # --- the phases -----------------------------------------------------------------------
    def run(self) -> ExperimentResult:
        self._decide_warmup()
        if self.store:
            self.store.extra["warmup"] = self.warmup_report
            self.store.extra["baseline"] = self.config.baseline_name
            self.store.extra["confidence"] = self.config.confidence
        names = [s.name for s in self.config.scenarios]
        self.ensure(dict.fromkeys(names, self._initial_replications()))
        precision_report = self._precision_rounds(names) if self.config.precision else None
        selection = self._select(names) if self.config.selection else None
        return self._finish(precision_report, selection)

    def table(self) -> pd.DataFrame:
        return in_scenario_order(pd.DataFrame(self.rows), [s.name for s in self.config.scenarios])

    def precision_status(self) -> pd.DataFrame:
        precision = self.config.precision
        assert precision is not None
        summary = summarize(self.table(), list(precision.kpis), self.config.confidence)
        near_zero = summary["mean"].abs() < precision.near_zero
        target = np.where(near_zero, precision.absolute, precision.relative * summary["mean"].abs())
        return summary.assign(
            target_half_width=target,
            relative_half_width=summary["half_width"] / summary["mean"].abs(),
            met=summary["half_width"] <= target,
        )

    def _precision_rounds(self, names: list[str]) -> pd.DataFrame:
        precision = self.config.precision
        assert precision is not None
        while True:
            status = self.precision_status()
            counts = self.table().groupby("scenario").size()
            failing = status[~status["met"].fillna(False)]
            if failing.empty:
                return status
            wanted: dict[str, int] = {}
            for name, rows in failing.groupby("scenario"):
                n = int(counts[name])
                ratio = float(np.nanmax(rows["half_width"] / rows["target_half_width"]))
                needed = math.ceil(n * ratio**2) if math.isfinite(ratio) else n * 2
                wanted[name] = min(precision.max_replications, max(n + 1, needed))
            if all(wanted[name] <= int(counts[name]) for name in wanted):
                log.info("precision budget of %d replications reached", precision.max_replications)
                return status
            # CRN pairs replications: keep every scenario at the same count.
            target_n = max(wanted.values())
            self.ensure(dict.fromkeys(names, target_n))

    def _select(self, names: list[str]) -> SelectionResult:
        selection = self.config.selection
        assert selection is not None
        procedure = KimNelson(
            names, selection.delta, selection.alpha, selection.n0, selection.maximize
        )
        table = self.table().set_index(["scenario", "replication"])[selection.kpi]
        rep = 0
        batch = max(1, getattr(self.executor, "workers", 1))
        while not procedure.done and rep < selection.max_replications:
            alive = list(procedure.alive)
            missing = [n for n in alive if (n, rep) not in table.index]
            if missing:
                upto = min(rep + batch, selection.max_replications)
                self.ensure({n: upto for n in alive})
                table = self.table().set_index(["scenario", "replication"])[selection.kpi]
            procedure.add({n: float(table[(n, rep)]) for n in alive})
            rep += 1
        return procedure.result()

    def _finish(
        self, precision_report: pd.DataFrame | None, selection: SelectionResult | None
    ) -> ExperimentResult:
        table = self.table()
        kpis = list(KPI_NAMES)
        summary = summarize(table, kpis, self.config.confidence)
        names = [s.name for s in self.config.scenarios]
        comparison = pd.DataFrame()
        correlations = pd.DataFrame()
        if len(names) > 1:
            comparison = paired_comparisons(
                table, kpis, self.config.baseline_name, self.config.confidence, self.config.crn
            )
            correlations = crn_correlations(table, kpis, names)
        if self.store:
            self.store.extra["warmup"] = self.warmup_report
            if precision_report is not None:
                self.store.extra["precision"] = precision_report.to_dict("records")
            if len(names) > 1:
                self.store.write_frame("comparison.csv", comparison)
            if selection is not None:
                self.store.write_json("selection.json", selection_to_dict(selection, self.config))
                self.store.extra["selection"] = selection_to_dict(selection, self.config)
            self.store.finish()
        return ExperimentResult(
            replications=table,
            summary=summary,
            comparison=comparison,
            correlations=correlations,
            warmup_days=self.warmup_days,
            warmup_report=self.warmup_report,
            precision_report=precision_report,
            selection=selection,
        )


def selection_to_dict(result: SelectionResult, config: ExperimentConfig) -> dict[str, Any]:
    selection = config.selection
    assert selection is not None
    return {
        "procedure": "Kim-Nelson (KN) fully sequential",
        "kpi": selection.kpi,
        "maximize": selection.maximize,
        "delta": selection.delta,
        "alpha": selection.alpha,
        "n0": selection.n0,
        "best": result.best,
        "replications": dict(result.replications),
        "means": dict(result.means),
        "stages": result.stages,
    }


def run_experiment(
    config: ExperimentConfig,
    executor: Executor | None = None,
    store: ResultStore | None = None,
    progress: Progress | None = None,
) -> ExperimentResult:
    """Run ``config`` on ``executor`` (serial by default), saving to ``store`` if given."""
    return Experiment(config, executor, store, progress).run()
