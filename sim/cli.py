"""The ``twin`` command line. The CLI owns the terminal; the packages only log."""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim import __version__
from sim.kpis import KPI_NAMES
from sim.model import simulate
from sim.results import ResultStore
from sim.scenario import Scenario, scenario_hash
from sim.scenario_files import ScenarioError, load_scenario
from sim.scenario_toml import scenario_to_toml

EXIT_BAD_INPUT = 2

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


def _load(path: str) -> Scenario:
    return load_scenario(Path(path))


def cmd_check(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario)
    sys.stdout.write(f"# resolved scenario {scenario.name!r}, hash {scenario_hash(scenario)}\n")
    sys.stdout.write(scenario_to_toml(scenario))
    return 0


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}"


def print_summary(summary_rows: list[dict[str, float]], name: str, reps: int) -> None:
    print(f"\n{name}: {reps} replication(s), mean and 95% CI half-width")
    width = max(len(k) for k in SUMMARY_KPIS)
    for row in summary_rows:
        if row["kpi"] not in SUMMARY_KPIS:
            continue
        half = row["half_width"]
        spread = "" if math.isnan(half) else f"  ± {_format_value(half)}"
        print(f"  {row['kpi']:<{width}}  {_format_value(row['mean']):>12}{spread}")


def cmd_run(args: argparse.Namespace) -> int:
    scenario = _load(args.scenario)
    if args.reps < 1:
        raise UsageError(f"--reps must be at least 1, got {args.reps}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    out = Path(args.out) if args.out else Path("results") / scenario.name
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    store = ResultStore(out, [scenario], seed=args.seed, replications=args.reps)
    started = time.perf_counter()
    for rep in range(args.reps):
        result = simulate(scenario, seed=args.seed, replication=rep)
        row = {
            "scenario": scenario.name,
            "scenario_hash": scenario_hash(scenario),
            "replication": rep,
            "seed": args.seed,
            **{k: result.kpis[k] for k in KPI_NAMES},
        }
        orders = result.orders.assign(scenario=scenario.name, replication=rep)
        store.add(row, orders)
        if not args.quiet:
            elapsed = time.perf_counter() - started
            eta = elapsed / (rep + 1) * (args.reps - rep - 1)
            print(f"\r  replication {rep + 1}/{args.reps}  eta {eta:5.1f}s", end="", flush=True)
    store.finish()
    if not args.quiet:
        print()
        from sim.statistics import summarize

        summary = summarize(store.replications_frame(), list(KPI_NAMES))
        print_summary(summary.to_dict("records"), scenario.name, args.reps)
    print(f"results written to {out}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin", description="Delivery Twin command line.")
    parser.add_argument("--version", action="version", version=f"twin {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="validate a scenario and print it fully resolved")
    check.add_argument("scenario", help="scenario TOML file")
    check.set_defaults(func=cmd_check)

    run = sub.add_parser("run", help="simulate a scenario and write a results folder")
    run.add_argument("scenario", help="scenario TOML file")
    run.add_argument("--reps", type=int, default=10, help="replications (default 10)")
    run.add_argument("--seed", type=int, default=12345, help="base seed (default 12345)")
    run.add_argument("--out", help="results folder (default results/<scenario name>)")
    run.add_argument("--quiet", action="store_true", help="print only where results went")
    run.set_defaults(func=cmd_run)
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
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted; finished replications are in the results folder", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
