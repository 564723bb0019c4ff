"""Throughput and memory of ``sim.simulate`` against a lean SimPy reference pipeline.

Run from the repository root (any working directory works)::

    python benchmarks/bench_simulate.py [--years N] [--reps K] [--seed S] [--profile]

Prints, as a compact table:

1. orders simulated per CPU-second (``time.process_time``) of the full model,
   ``sim.simulate(load_scenario("scenarios/baseline.toml"), seed, replication)``, counting the
   rows of ``result.orders``; median and best over ``--reps`` replications (one untimed warm-up
   run first);
2. the same for a lean SimPy pipeline defined below and run in the same process: Poisson
   arrivals at the full model's realised mean order rate, one SKU in a ``simpy.Container`` with
   a periodic (s,S) review and a fixed lead time, a ``simpy.Resource`` of crews with the
   baseline's crew count; each order waits for its stock, then for a crew, then for lognormal
   install hours. No calendars, hand-off, stale stock data, outcomes or result frames;
3. the ratio full/lean of orders per CPU-second, against the aim ratio >= 0.25;
4. the full model's peak traced memory (``tracemalloc``) during one ``simulate`` call, per
   simulated year, plus the process's ``ru_maxrss`` for context;
5. with ``--profile``: the top 8 functions inside ``sim/`` by cumulative time (cProfile) for one
   full-model run, on one line (and the top 8 by self time anywhere, on a second line).

A benchmark, not a test: nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import platform
import pstats
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

import sim
from sim.distributions import build

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SIM_DIR = Path(sim.__file__).resolve().parent
AIM_RATIO = 0.25  # the aim: full model >= 1/4 of the lean pipeline's orders per CPU-s
DAYS_PER_YEAR = 365.25
HOURS_PER_DAY = 24.0
MIB = 1024.0 * 1024.0


# --------------------------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------------------------


def baseline_scenario(years: float | None) -> sim.Scenario:
    """The baseline; with ``years``, its measured period (after the warm-up) is years x 365 d."""
    scenario = sim.load_scenario(BASELINE)
    if years is None:
        return scenario
    data = scenario.model_dump()
    data["run"]["duration_days"] = scenario.run.warmup_days + 365.0 * years
    return sim.Scenario.model_validate(data)


# --------------------------------------------------------------------------------------------
# The lean reference pipeline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeanParams:
    """What the lean pipeline takes from the scenario (one SKU, one crew pool)."""

    horizon_hours: float
    rate_per_hour: float
    crews: int
    size_mean: float
    size_sd: float
    setup_hours: float
    hours_per_fixture: float
    effort_mean: float
    effort_sd: float
    initial_on_hand: int
    reorder_point: int
    order_up_to: int
    review_period_hours: float
    review_hour: float
    lead_time_hours: float

    @classmethod
    def from_scenario(cls, scenario: sim.Scenario, orders_per_day: float) -> LeanParams:
        """Parameters of the baseline's first (s,S) SKU; arrivals at ``orders_per_day``."""
        supply = scenario.supply
        sku = next(s for s in supply.skus if s.policy == "sS")
        assert sku.order_up_to is not None
        supplier = next(s for s in supply.suppliers if s.name == sku.supplier)
        size = build(scenario.orders.size_fixtures)
        inst = scenario.installation
        effort = build(inst.effort_factor) if inst.effort_factor else None
        return cls(
            horizon_hours=scenario.run.duration_days * HOURS_PER_DAY,
            rate_per_hour=orders_per_day / HOURS_PER_DAY,
            crews=sum(c.count for c in scenario.dispatch.crews),
            size_mean=size.mean,
            size_sd=size.sd,
            setup_hours=inst.setup_hours,
            hours_per_fixture=inst.hours_per_fixture,
            effort_mean=effort.mean if effort else 1.0,
            effort_sd=effort.sd if effort else 0.0,
            initial_on_hand=sku.initial_on_hand,
            reorder_point=sku.reorder_point,
            order_up_to=sku.order_up_to,
            review_period_hours=supply.review_period_days * HOURS_PER_DAY,
            review_hour=supply.review_hour,
            lead_time_hours=build(supplier.lead_time_days).mean * HOURS_PER_DAY,
        )


def lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the underlying normal for a lognormal with this mean and sd."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


def lean_simulate(p: LeanParams, seed: int, replication: int) -> int:
    """One run of the lean pipeline; returns the number of orders created."""
    env = simpy.Environment()
    arrival_ss, size_ss, effort_ss = np.random.SeedSequence(seed, spawn_key=(replication,)).spawn(3)
    arrival_rng = np.random.Generator(np.random.PCG64(arrival_ss))
    size_rng = np.random.Generator(np.random.PCG64(size_ss))
    effort_rng = np.random.Generator(np.random.PCG64(effort_ss))
    size_mu, size_sigma = lognormal_params(p.size_mean, p.size_sd)
    effort_mu, effort_sigma = (
        lognormal_params(p.effort_mean, p.effort_sd) if p.effort_sd > 0 else (0.0, 0.0)
    )
    mean_gap = 1.0 / p.rate_per_hour

    stock = simpy.Container(env, init=p.initial_on_hand)
    crews = simpy.Resource(env, capacity=p.crews)
    on_order = 0
    # one record per order: created, units, install hours, kit at, start, done
    orders: list[list[float]] = []

    def order(record: list[float]):  # type: ignore[no-untyped-def]
        yield stock.get(int(record[1]))
        record[3] = env.now
        with crews.request() as request:
            yield request
            record[4] = env.now
            yield env.timeout(record[2])
        record[5] = env.now

    def arrivals():  # type: ignore[no-untyped-def]
        while True:
            gap = arrival_rng.exponential(mean_gap)
            if env.now + gap >= p.horizon_hours:
                return
            yield env.timeout(gap)
            units = max(1, round(size_rng.lognormal(size_mu, size_sigma)))
            effort = effort_rng.lognormal(effort_mu, effort_sigma) if effort_sigma else 1.0
            hours = (p.setup_hours + p.hours_per_fixture * units) * effort
            record = [env.now, units, hours, math.nan, math.nan, math.nan]
            orders.append(record)
            env.process(order(record))

    def receive(qty: int):  # type: ignore[no-untyped-def]
        nonlocal on_order
        yield env.timeout(p.lead_time_hours)
        on_order -= qty
        yield stock.put(qty)

    def review():  # type: ignore[no-untyped-def]
        nonlocal on_order
        yield env.timeout(p.review_hour)
        while True:
            backordered = sum(get.amount for get in stock.get_queue)
            position = stock.level + on_order - backordered
            if position <= p.reorder_point:
                qty = p.order_up_to - position
                on_order += qty
                env.process(receive(qty))
            yield env.timeout(p.review_period_hours)

    env.process(arrivals())
    env.process(review())
    env.run(until=p.horizon_hours)
    return len(orders)


# --------------------------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------------------------


def full_run(scenario: sim.Scenario, seed: int) -> Callable[[int], int]:
    def run(replication: int) -> int:
        return len(sim.simulate(scenario, seed, replication).orders)

    return run


def lean_run(params: LeanParams, seed: int) -> Callable[[int], int]:
    def run(replication: int) -> int:
        return lean_simulate(params, seed, replication)

    return run


def timed(fn: Callable[[int], int], replication: int) -> tuple[int, float]:
    """(orders, CPU seconds) of one run, after a garbage collection outside the timing."""
    gc.collect()
    t0 = time.process_time()
    n = fn(replication)
    return n, time.process_time() - t0


@contextmanager
def count_steps() -> Iterator[list[int]]:
    """Count ``simpy.Environment.step`` calls (processed events) while the block runs."""
    counter = [0]
    original = simpy.Environment.step

    def step(env: simpy.Environment) -> None:
        counter[0] += 1
        original(env)

    simpy.Environment.step = step  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        simpy.Environment.step = original  # type: ignore[method-assign]


def traced_peak(fn: Callable[[], object]) -> tuple[float, float]:
    """(peak, retained) traced bytes of one call, tracing only allocations made during it.

    Retained is what is still allocated afterwards while the returned object is alive (for
    ``simulate``: the result's frames).
    """
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return float(peak), float(current)


def max_rss_bytes() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(rss) if sys.platform == "darwin" else float(rss) * 1024.0  # KiB on Linux


def _label(filename: str, line: int, func: str) -> str:
    if filename == "~":  # a builtin: "<built-in method builtins.hasattr>" -> "builtins.hasattr"
        return func.strip("<>").removeprefix("built-in method ").removeprefix("method ")
    stem = Path(filename).stem
    return f"{stem}:{line}{func}" if func.startswith("<") else f"{stem}.{func}"


def profile_lines(scenario: sim.Scenario, seed: int, replication: int, top: int = 8) -> list[str]:
    """Top functions inside sim/ by cumulative time, and top functions by self time anywhere."""
    profiler = cProfile.Profile()
    profiler.runcall(sim.simulate, scenario, seed, replication)
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    # Shares of the whole simulate call (its cumulative time can exceed total_tt slightly).
    total = max(stats.total_tt, *(v[3] for v in entries.values()))  # type: ignore[attr-defined]
    in_sim = [
        (ct, key) for key, (_cc, _nc, _tt, ct, _callers) in entries.items() if _in_sim(key[0])
    ]
    by_self = [(tt, key) for key, (_cc, _nc, tt, _ct, _callers) in entries.items()]
    cumulative = " | ".join(
        f"{_label(*key)} {100 * ct / total:.0f}%" for ct, key in sorted(in_sim, reverse=True)[:top]
    )
    own = " | ".join(
        f"{_label(*key)} {100 * tt / total:.0f}%" for tt, key in sorted(by_self, reverse=True)[:top]
    )
    return [
        f"profile, top {top} in sim/ by cumulative time ({total:.3f} s profiled): {cumulative}",
        f"profile, top {top} anywhere by self time: {own}",
    ]


def _in_sim(filename: str) -> bool:
    if filename.startswith("<") or filename == "~":
        return False
    return Path(filename).resolve().is_relative_to(SIM_DIR)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--years",
        type=float,
        default=None,
        help="measured years after the warm-up (default: the baseline as is, 56 + 365 days)",
    )
    parser.add_argument("--reps", type=int, default=5, help="timed replications per pipeline")
    parser.add_argument("--seed", type=int, default=1, help="base seed")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    args = parser.parse_args(argv)
    if args.reps < 1 or (args.years is not None and args.years <= 0):
        parser.error("--reps must be >= 1 and --years > 0")

    scenario = baseline_scenario(args.years)
    days = scenario.run.duration_days
    years = days / DAYS_PER_YEAR
    full = full_run(scenario, args.seed)

    # Untimed warm-up (imports, caches); its order count sets the lean pipeline's arrival rate.
    with count_steps() as full_steps:
        warm_orders = full(0)
    params = LeanParams.from_scenario(scenario, warm_orders / days)
    lean = lean_run(params, args.seed)
    with count_steps() as lean_steps:
        lean_warm_orders = lean(0)

    full_times: list[tuple[int, float]] = []
    lean_times: list[tuple[int, float]] = []
    for replication in range(args.reps):  # interleaved, so drift hits both alike
        full_times.append(timed(full, replication))
        lean_times.append(timed(lean, replication))

    full_peak, full_kept = traced_peak(lambda: sim.simulate(scenario, args.seed, 0))
    lean_peak, _ = traced_peak(lambda: lean(0))
    profile = profile_lines(scenario, args.seed, 0) if args.profile else []

    def summary(times: list[tuple[int, float]]) -> tuple[float, float, float, float]:
        rates = [n / t for n, t in times]
        return (
            statistics.median(n for n, _ in times),
            statistics.median(t for _, t in times),
            statistics.median(rates),
            max(rates),
        )

    f_orders, f_cpu, f_med, f_best = summary(full_times)
    l_orders, l_cpu, l_med, l_best = summary(lean_times)
    ratio_med, ratio_best = f_med / l_med, f_best / l_best
    verdict = "met" if ratio_med >= AIM_RATIO else "NOT met"

    print(
        f"bench_simulate: {scenario.name}, {days:g} days ({years:.2f} simulated years), "
        f"seed {args.seed}, {args.reps} reps | Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}, NumPy {np.__version__}"
    )
    print(
        f"lean reference: {params.rate_per_hour * HOURS_PER_DAY:.2f} orders/day Poisson, "
        f"1 SKU (s,S)=({params.reorder_point},{params.order_up_to}) reviewed every "
        f"{params.review_period_hours / HOURS_PER_DAY:g} d, lead time "
        f"{params.lead_time_hours / HOURS_PER_DAY:g} d, {params.crews} crews"
    )
    header = (
        f"{'pipeline':<9}{'orders/run':>11}{'events/order':>13}{'CPU s/run':>11}"
        f"{'orders/CPU-s med':>18}{'best':>9}{'peak MiB/sim-yr':>17}"
    )
    print(header)
    print("-" * len(header))
    for name, orders, steps, warm, cpu, med, best, peak in (
        ("full", f_orders, full_steps[0], warm_orders, f_cpu, f_med, f_best, full_peak),
        ("lean", l_orders, lean_steps[0], lean_warm_orders, l_cpu, l_med, l_best, lean_peak),
    ):
        print(
            f"{name:<9}{orders:>11.0f}{steps / warm:>13.2f}{cpu:>11.3f}"
            f"{med:>18,.0f}{best:>9,.0f}{peak / MIB / years:>17.2f}"
        )
    print(
        f"ratio full/lean (orders per CPU-s): median {ratio_med:.3f}, best {ratio_best:.3f}; "
        f"aim >= {AIM_RATIO}: {verdict}"
    )
    print(
        f"full-model memory: tracemalloc peak {full_peak / MIB:.2f} MiB per simulate call = "
        f"{full_peak / MIB / years:.2f} MiB per simulated year (result retained "
        f"{full_kept / MIB:.2f} MiB); process ru_maxrss {max_rss_bytes() / MIB:.1f} MiB"
    )
    for line in profile:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
