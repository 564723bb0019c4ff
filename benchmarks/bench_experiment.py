"""Benchmark of the experiment layer: speed-up of local workers, and its overhead.

Prints (1) the wall-clock speed-up of two local worker processes over one on the same
replications of the baseline, and (2) the overhead of the experiment layer (job objects,
result store writes, summaries) over bare ``simulate`` calls, both measured in this process.

    python benchmarks/bench_experiment.py [--reps 20] [--workers 2]

Aims from the issue: speed-up >= 1.7 on a 2-core machine; overhead <= 10 %.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sim.executors import ProcessExecutor, SerialExecutor
from sim.experiment import ExperimentConfig, run_experiment
from sim.model import simulate
from sim.results import ResultStore
from sim.scenario_files import load_scenario

ROOT = Path(__file__).resolve().parent.parent


REPEATS = 3  # each figure is the best of this many runs, interleaved, to damp machine noise


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    config = ExperimentConfig(scenarios=(scenario,), replications=args.reps, base_seed=args.seed)
    simulate(scenario, args.seed, 0)  # warm caches and imports

    def bare_loop() -> None:
        for r in range(args.reps):
            simulate(scenario, args.seed, r)

    def experiment_serial() -> None:
        with tempfile.TemporaryDirectory() as folder:
            store = ResultStore(Path(folder), [scenario], config.identity())
            run_experiment(config, SerialExecutor(), store)

    def experiment_serial_no_orders() -> None:
        bare_config = ExperimentConfig(
            scenarios=(scenario,), replications=args.reps, base_seed=args.seed, keep_orders=False
        )
        with tempfile.TemporaryDirectory() as folder:
            store = ResultStore(Path(folder), [scenario], bare_config.identity(), keep_orders=False)
            run_experiment(bare_config, SerialExecutor(), store)

    def experiment_workers(n: int) -> float:
        pool = ProcessExecutor(workers=n)
        try:
            with tempfile.TemporaryDirectory() as folder:
                store = ResultStore(Path(folder), [scenario], config.identity())
                return timed(lambda: run_experiment(config, pool, store))
        finally:
            pool.close()

    times: dict[str, list[float]] = {
        "bare": [],
        "serial": [],
        "no_orders": [],
        "one": [],
        "many": [],
    }
    for _ in range(REPEATS):
        times["bare"].append(timed(bare_loop))
        times["serial"].append(timed(experiment_serial))
        times["no_orders"].append(timed(experiment_serial_no_orders))
        times["one"].append(experiment_workers(1))
        times["many"].append(experiment_workers(args.workers))
    bare, serial, serial_no_orders, one, many = (min(v) for v in times.values())
    print(f"bench_experiment: baseline, {args.reps} replications, seed {args.seed}, "
          f"best of {REPEATS}")  # fmt: skip
    print(f"  bare simulate loop        {bare:7.2f} s")
    print(f"  experiment, serial        {serial:7.2f} s   overhead {serial / bare - 1:+.1%} "
          "(aim <= +10%; includes writing every order to orders.parquet)")  # fmt: skip
    print(f"  same, --no-orders         {serial_no_orders:7.2f} s   overhead "
          f"{serial_no_orders / bare - 1:+.1%}")  # fmt: skip
    print(f"  experiment, 1 process     {one:7.2f} s")
    print(f"  experiment, {args.workers} processes   {many:7.2f} s   speed-up {one / many:.2f} "
          f"(aim >= 1.7)")  # fmt: skip


if __name__ == "__main__":
    main()
