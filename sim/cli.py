"""The ``twin`` command line. The CLI owns the terminal; the packages only log."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from calibration.commands import register as register_calibration_commands
from calibration.history import add_history_check_arguments, cmd_history_check
from sim import __version__
from sim.executors import ClusterUnreachable, Executor, ExecutorError, make_executor
from sim.experiment import (
    ExperimentConfig,
    ExperimentError,
    ExperimentResult,
    Precision,
    Selection,
    check_kpis,
    run_experiment,
)
from sim.results import ResultsFolderError, ResultStore
from sim.scenario import Scenario, scenario_hash
from sim.scenario_files import ScenarioError, load_scenario
from sim.scenario_toml import scenario_to_toml
from sim.sweep import SweepError, sweep_scenarios

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1

SUMMARY_KPIS = (
    "orders_completed",
    "lead_time_mean_days",
    "lead_time_p90_days",
    "on_time_rate",
    "first_time_right_rate",
    "stockout_share",
    "crew_utilization",
    "satisfaction_rate",
    "revenue",
    "profit",
)


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit 2."""


# --- terminal output -----------------------------------------------------------------------
class ProgressBar:
    """Replications done, total and ETA on stderr (redrawn in place on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()
        self._first_done: int | None = None
        self._last_line = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self._first_done is None:
            self._first_done = done  # resumed replications do not count towards the speed
        elapsed = time.perf_counter() - self.started
        fresh = done - self._first_done
        eta = elapsed / fresh * (total - done) if fresh > 0 else math.nan
        width = 30
        filled = round(width * done / total)
        eta_text = "--" if math.isnan(eta) else f"{eta:4.0f}s"
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} replications  eta {eta_text}"
        )
        if self.tty:
            sys.stderr.write("\r" + line)
            sys.stderr.flush()
        elif done == total or elapsed - self._last_line > 5:
            sys.stderr.write(line + "\n")
            self._last_line = elapsed

    def close(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}"


def print_summary(result: ExperimentResult) -> None:
    summary = result.summary
    width = max(len(k) for k in SUMMARY_KPIS)
    for name, group in summary.groupby("scenario", sort=False):
        n = int(group["n"].max())
        print(f"\n{name}: {n} replication(s), mean ± 95% CI half-width")
        rows = group.set_index("kpi")
        for kpi in SUMMARY_KPIS:
            row = rows.loc[kpi]
            half = row["half_width"]
            spread = "" if math.isnan(half) else f"  ± {_fmt(half)}"
            print(f"  {kpi:<{width}}  {_fmt(row['mean']):>12}{spread}")
    days = sorted(set(result.warmup_days.values()))
    method = result.warmup_report.get("method", "scenario")
    print(f"\nwarm-up: {', '.join(f'{d:g}' for d in days)} day(s) ({method})")


def print_comparison(result: ExperimentResult) -> None:
    comparison = result.comparison
    if comparison.empty:
        return
    first = comparison.iloc[0]
    print(
        f"\ndifferences against {first['baseline']!r} ({first['method']}, Bonferroni family "
        f"confidence {first['family_confidence']:.0%}; * = interval excludes 0)"
    )
    width = max(len(k) for k in SUMMARY_KPIS)
    shown = comparison[comparison["kpi"].isin(SUMMARY_KPIS)]
    for name, group in shown.groupby("scenario", sort=False):
        print(f"  {name}")
        for _, row in group.iterrows():
            mark = "*" if row["significant"] else " "
            print(
                f"    {row['kpi']:<{width}} {_fmt(row['mean_diff']):>12}  "
                f"[{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}] {mark}"
            )


def print_selection(result: ExperimentResult) -> None:
    if result.selection is None:
        return
    sel = result.selection
    used = ", ".join(f"{k}: {v}" for k, v in sel.replications.items())
    print(f"\nbest (Kim-Nelson): {sel.best}   replications used: {used}")


def print_precision(result: ExperimentResult) -> None:
    report = result.precision_report
    if report is None:
        return
    met = bool(report["met"].all())
    worst = report["relative_half_width"].abs().max()
    print(
        f"\nprecision target {'met' if met else 'NOT met within the budget'}: "
        f"largest relative half-width {worst:.3%}"
    )


def machine_readable(result: ExperimentResult, out: Path) -> dict[str, Any]:
    return {
        "results": str(out),
        "warmup": result.warmup_report,
        "summary": result.summary.to_dict("records"),
        "comparison": result.comparison.to_dict("records"),
        "selection": None
        if result.selection is None
        else {"best": result.selection.best, "replications": result.selection.replications},
    }


# --- commands --------------------------------------------------------------------------------
def _load(path: str) -> Scenario:
    return load_scenario(Path(path))


def cmd_check(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario)
    sys.stdout.write(f"# resolved scenario {scenario.name!r}, hash {scenario_hash(scenario)}\n")
    sys.stdout.write(scenario_to_toml(scenario))
    return 0


def _warmup(text: str | None) -> float | str:
    if text is None:
        return "scenario"
    if text == "auto":
        return "auto"
    try:
        days = float(text)
    except ValueError:
        raise UsageError(f"--warmup takes a number of days or 'auto', got {text!r}") from None
    if days < 0:
        raise UsageError(f"--warmup must be >= 0 days, got {days:g}")
    return days


def _config(args: argparse.Namespace, scenarios: list[Scenario]) -> ExperimentConfig:
    if args.reps < 1:
        raise UsageError(f"--reps must be at least 1, got {args.reps}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    kpis = args.kpi or []
    check_kpis(kpis)
    precision = None
    if args.precision is not None:
        if not kpis:
            raise UsageError("--precision needs the KPIs it applies to: --kpi NAME")
        if args.precision <= 0:
            raise UsageError(f"--precision must be positive, got {args.precision}")
        precision = Precision(
            relative=args.precision, kpis=tuple(kpis), max_replications=args.max_reps
        )
    selection = None
    if getattr(args, "select", None):
        if len(kpis) != 1:
            raise UsageError("--select best needs exactly one --kpi to select on")
        if args.delta is None:
            raise UsageError("--select best needs an indifference zone: --delta")
        selection = Selection(
            kpi=kpis[0],
            maximize=args.maximize,
            delta=args.delta,
            alpha=args.alpha,
            max_replications=args.max_reps,
        )
    names = [s.name for s in scenarios]
    baseline = getattr(args, "baseline", None)
    if baseline is not None and baseline not in names:
        raise UsageError(f"--baseline {baseline!r} is not among the scenarios {names}")
    return ExperimentConfig(
        scenarios=tuple(scenarios),
        replications=args.reps,
        base_seed=args.seed,
        warmup=_warmup(args.warmup),
        crn=not args.no_crn,
        baseline=baseline,
        precision=precision,
        selection=selection,
        keep_orders=not args.no_orders,
    )


def _run(
    args: argparse.Namespace,
    scenarios: list[Scenario],
    default_out: str,
    record: dict[str, Any] | None = None,
) -> int:
    """Run an experiment over ``scenarios``; ``record`` goes into the manifest as is."""
    config = _config(args, scenarios)
    config.validate()
    out = Path(args.out) if args.out else Path("results") / default_out
    # The executor first: a cluster that does not answer must not cost an existing folder.
    executor: Executor = make_executor(args.workers, args.dask)
    progress = ProgressBar(enabled=not args.quiet)
    try:
        store = ResultStore(
            out, scenarios, config.identity(), resume=args.resume, force=args.force,
            keep_orders=config.keep_orders,
        )  # fmt: skip
        store.extra.update(record or {})
        try:
            result = run_experiment(config, executor, store, progress)
        except BaseException:
            store.flush()  # interrupted: leave readable tables of what finished
            raise
    finally:
        progress.close()
        executor.close()
    report_line = _write_report_after_run(out, enabled=not args.no_report)
    if args.json:
        print(json.dumps(machine_readable(result, out), default=_json_default))
        return 0
    if not args.quiet:
        print_summary(result)
        print_comparison(result)
        print_precision(result)
        print_selection(result)
    print(f"results written to {out}/")
    if report_line:
        print(report_line)
    return 0


def _write_report_after_run(out: Path, enabled: bool) -> str | None:
    """The report of a finished run; its failure leaves the results intact and says so."""
    if not enabled:
        return None
    from sim.report import ReportError, write_report

    try:
        outcome = write_report(out)
    except ReportError as exc:
        print(f"warning: report not written: {exc}", file=sys.stderr)
        return None
    return f"report written to {outcome.path}"


def cmd_demo(args: argparse.Namespace) -> int:
    from sim.demo import run_demo

    if args.reps < 2:
        raise UsageError(f"--reps must be at least 2, got {args.reps}")
    out = Path(args.out)
    print("calibrating the bundled sample history, then comparing the policies ...")
    executor = make_executor(args.workers, None)
    progress = ProgressBar(enabled=not args.quiet)
    try:
        outcome = run_demo(out, args.reps, executor, progress)
    finally:
        progress.close()
        executor.close()
    if not args.quiet:
        print_comparison(outcome.experiment)
    print(f"calibrated scenario: {outcome.calibrated}")
    print(f"calibration report: {outcome.calibration_report}")
    print(f"report written to {outcome.report.path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sim.report import ReportError, write_report

    try:
        outcome = write_report(Path(args.results))
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    note = " (partial results: the experiment did not finish)" if outcome.partial else ""
    print(f"report written to {outcome.path}{note}")
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, float | int):
        return value
    if pd.isna(value):
        return None
    return str(value)


def cmd_run(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario)
    return _run(args, [scenario], scenario.name)


def cmd_compare(args: argparse.Namespace) -> int:
    scenarios = [_load(p) for p in args.scenarios]
    names = [s.name for s in scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(
            f"scenario names must be unique; {', '.join(duplicates)} appears more than once "
            "(give each file its own `name`)"
        )
    return _run(args, scenarios, "compare-" + "-".join(names))


def cmd_sweep(args: argparse.Namespace) -> int:
    base = _load(args.scenario)
    variants = sweep_scenarios(base, args.set or [], args.lhs, args.seed)
    scenarios = [base] + [v for v, _ in variants]
    points = [{"scenario": v.name, "overrides": o} for v, o in variants]
    return _run(
        args, scenarios, f"sweep-{base.name}", {"sweep": {"base": base.name, "points": points}}
    )


# --- parser ----------------------------------------------------------------------------------
def _experiment_options(parser: argparse.ArgumentParser, compare: bool) -> None:
    group = parser.add_argument_group("experiment")
    group.add_argument("--reps", type=int, default=10, help="replications per scenario (10)")
    group.add_argument("--seed", type=int, default=12345, help="base seed (12345)")
    group.add_argument("--warmup", help="warm-up days, or 'auto' for MSER-5 (default: scenario's)")
    group.add_argument("--precision", type=float, help="target relative CI half-width, e.g. 0.05")
    group.add_argument("--kpi", action="append", help="KPI for --precision / --select (repeat)")
    group.add_argument("--max-reps", type=int, default=200, help="replication budget (200)")
    group.add_argument("--no-crn", action="store_true", help="independent streams per scenario")
    group.add_argument("--no-orders", action="store_true", help="do not write orders.parquet")
    if compare:
        group.add_argument("--baseline", help="scenario name to compare against (first)")
        group.add_argument("--select", choices=["best"], help="select the best by Kim-Nelson")
        group.add_argument("--delta", type=float, help="indifference zone of --select")
        group.add_argument("--alpha", type=float, default=0.05, help="1 - confidence (0.05)")
        sense = group.add_mutually_exclusive_group()
        sense.add_argument("--maximize", dest="maximize", action="store_true", default=True)
        sense.add_argument("--minimize", dest="maximize", action="store_false")
    where = parser.add_argument_group("where it runs and writes")
    where.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    where.add_argument("--dask", help="'local' (a LocalCluster) or a scheduler tcp://HOST:PORT")
    where.add_argument("--out", help="results folder (default results/<name>)")
    where.add_argument("--resume", action="store_true", help="complete an interrupted run")
    where.add_argument("--force", action="store_true", help="with --resume: discard a mismatch")
    where.add_argument("--quiet", action="store_true", help="print only where results went")
    where.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    where.add_argument("--no-report", action="store_true", help="do not write report.html")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin", description="Delivery Twin command line.")
    parser.add_argument("--version", action="version", version=f"twin {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="validate a scenario and print it fully resolved")
    check.add_argument("scenario", help="scenario TOML file")
    check.set_defaults(func=cmd_check)

    run = sub.add_parser("run", help="simulate one scenario and write a results folder")
    run.add_argument("scenario", help="scenario TOML file")
    _experiment_options(run, compare=False)
    run.set_defaults(func=cmd_run)

    compare = sub.add_parser("compare", help="compare scenarios under common random numbers")
    compare.add_argument("scenarios", nargs="+", help="scenario TOML files")
    _experiment_options(compare, compare=True)
    compare.set_defaults(func=cmd_compare)

    history = sub.add_parser("history", help="historical exports: check them")
    history_sub = history.add_subparsers(dest="history_command", required=True)
    history_check = history_sub.add_parser(
        "check", help="validate an export folder: problems with file, line, column, reason"
    )
    add_history_check_arguments(history_check)
    history_check.set_defaults(func=cmd_history_check)

    register_calibration_commands(sub)

    demo = sub.add_parser("demo", help="calibrate the bundled sample and compare every policy")
    demo.add_argument("--reps", type=int, default=10, help="replications per scenario (10)")
    demo.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    demo.add_argument("--out", default="results/demo", help="results folder (results/demo)")
    demo.add_argument("--quiet", action="store_true", help="print only where results went")
    demo.set_defaults(func=cmd_demo)

    report = sub.add_parser("report", help="write report.html for a results folder")
    report.add_argument("results", help="results folder (results/<name>)")
    report.set_defaults(func=cmd_report)

    sweep = sub.add_parser("sweep", help="vary scenario keys: full factorial or Latin hypercube")
    sweep.add_argument("scenario", help="base scenario TOML file")
    sweep.add_argument("--set", action="append", help="PATH=v1,v2 | PATH=lo:hi:step | PATH=lo:hi")
    sweep.add_argument("--lhs", type=int, help="Latin hypercube of N points over lo:hi ranges")
    _experiment_options(sweep, compare=True)
    sweep.set_defaults(func=cmd_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (UsageError, ExperimentError, SweepError, ResultsFolderError, ClusterUnreachable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ExecutorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(
            "\ninterrupted: finished replications are saved; rerun with --resume to complete",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
