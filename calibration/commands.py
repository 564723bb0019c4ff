"""The calibration commands of ``twin``: calibrate and backtest (the CLI registers them)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from calibration.backtest import backtest
from calibration.calibrate import CalibrationError, calibrate
from calibration.column_map import HistoryError
from calibration.history import load_history
from calibration.report import write_backtest_report, write_calibration_report
from calibration.scenario_writer import write_scenario
from sim.scenario_files import ScenarioError, load_scenario

EXIT_BAD_INPUT = 2
DEFAULT_TEMPLATE = Path("scenarios") / "baseline.toml"


def _errors(lines: list[str]) -> int:
    for line in lines:
        sys.stderr.write(f"error: {line}\n")
    return EXIT_BAD_INPUT


def _template(path: str | None):  # type: ignore[no-untyped-def]
    template = Path(path) if path else DEFAULT_TEMPLATE
    if not template.exists():
        raise CalibrationError(
            [
                f"template scenario {template} not found: pass --template FILE (the policies, "
                "costs and stock rules that exports do not hold)"
            ]
        )
    return load_scenario(template), str(template)


def cmd_calibrate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out = Path(args.out)
    report_dir = Path(args.report) if args.report else out.parent / f"{out.stem}-report"
    try:
        template, label = _template(args.template)
        result = calibrate(args.folder, args.map, template, name=args.name or out.stem,
                           template_label=label)  # fmt: skip
        check = None
        if args.backtest_reps:
            check = backtest(result.scenario, result.history.tables, args.backtest_reps)
    except HistoryError as exc:
        return _errors([str(p) for p in exc.problems])
    except CalibrationError as exc:
        return _errors(exc.problems)
    except ScenarioError as exc:
        return _errors(exc.problems)
    write_scenario(result, out, str(args.folder))
    report = write_calibration_report(result, report_dir, str(args.folder), check)
    quarantined = sum(t.rows_quarantined for t in result.history.report.tables.values())
    print(f"calibrated {len(result.fits)} fits from {args.folder} in "
          f"{time.perf_counter() - started:.1f} s ({quarantined} rows set aside)")  # fmt: skip
    for fit in result.fits:
        print(f"  {fit.fit:<14} n={fit.n:<6} {fit.quality[:90]}")
    print(f"scenario written to {out}")
    print(f"report written to {report}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario)
        history = load_history(args.history, args.map)
        if args.reps < 2:
            return _errors([f"--reps must be at least 2, got {args.reps}"])
        result = backtest(scenario, history.tables, args.reps, args.seed)
    except HistoryError as exc:
        return _errors([str(p) for p in exc.problems])
    except ScenarioError as exc:
        return _errors(exc.problems)
    out = Path(args.out) if args.out else Path("results") / f"backtest-{scenario.name}"
    path = write_backtest_report(result, out, scenario.name)
    start, end = result.period
    print(f"back-test of {scenario.name} over {start.date()} to {end.date()}, "
          f"{result.replications} replications")  # fmt: skip
    width = max(len(s) for s in result.table["statistic"])
    for _, row in result.table.iterrows():
        print(f"  {row['statistic']:<{width}}  history {row['historical']:10.3f}   twin "
              f"{row['sim_mean']:10.3f} [{row['sim_low']:.3f}, {row['sim_high']:.3f}]  "
              f"{row['verdict']}")  # fmt: skip
    print(f"  KS distance of lead times: {result.ks_distance:.3f}")
    print(f"report written to {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cal = sub.add_parser("calibrate", help="fit a scenario to historical exports")
    cal.add_argument("folder", help="folder of exported CSV files")
    cal.add_argument("--map", help="column map TOML, or a shipped map name (olist, scms)")
    cal.add_argument("--out", default="scenarios/calibrated.toml", help="scenario file to write")
    cal.add_argument("--report", help="folder for calibration.html (default <out>-report/)")
    cal.add_argument("--template", help=f"scenario for policies and costs ({DEFAULT_TEMPLATE})")
    cal.add_argument("--name", help="scenario name (default: the --out file's stem)")
    cal.add_argument(
        "--backtest-reps",
        type=int,
        default=0,
        help="also back-test with N replications and add it to the report",
    )
    cal.set_defaults(func=cmd_calibrate)

    bt = sub.add_parser("backtest", help="simulate the historical period and compare")
    bt.add_argument("scenario", help="scenario TOML file")
    bt.add_argument("history", help="folder of exported CSV files")
    bt.add_argument("--map", help="column map TOML, or a shipped map name")
    bt.add_argument("--reps", type=int, default=10, help="replications (10)")
    bt.add_argument("--seed", type=int, default=1, help="base seed (1)")
    bt.add_argument("--out", help="folder for backtest.html (default results/backtest-<name>)")
    bt.set_defaults(func=cmd_backtest)
