"""Theory tests: the full model, reduced to textbook systems, against the textbook formulas.

Each test runs independent replications (same seed, replications 0..n-1: independent streams),
takes one estimate per replication, and asserts that the theoretical value lies inside the
t-interval of the mean estimate: 99 % for the quantity a test is about, 99.9 % for side
checks (so that a file of about twenty intervals rarely fails by chance). Every test prints
the estimate, its interval and the relative error (run ``pytest -s`` to see them).

Reductions (builders in ``theory_scenarios.py``):

- M/M/c: no bill of materials, immediate hand-off without approvals, 24/7 crews, one region,
  no travel, setup, rework, absences or overtime, exponential work hours, constant arrival rate.
  Checked: Erlang C waiting time and waiting probability, utilisation. The same system with
  constant work hours is M/D/1, checked against Pollaczek-Khinchine and shown to be rejected by
  the Erlang C check (so that check can fail).
- (R,Q): unit Poisson demand reserved at an immediate hand-off, continuous review, fixed lead
  time: fill rate, mean on-hand stock and mean backorder wait.
- Little's law on the M/M/2 and on a configuration with most of the machinery switched on.
- The arrival profile: weekday factors, month factors and campaigns, against chi-square and
  Poisson tests, and the Poisson dispersion of daily counts.

Times in the model are hours; scenario rates are per day.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from theory_scenarios import (
    HOURS_PER_DAY,
    arrival_profile,
    expected_arrivals_per_day,
    full_model,
    mmc,
    rq_inventory,
)

from sim import RunResult, simulate

pytestmark = pytest.mark.theory

SEED = 20250106
CONFIDENCE = 0.99  # primary checks: the quantity the test is about
SECONDARY = 0.999  # side checks, so that a file of ~20 intervals rarely fails by chance


# --- statistics helpers ---------------------------------------------------------------------


@functools.cache
def t_quantile(confidence: float, n: int) -> float:
    return float(stats.t.ppf(0.5 + confidence / 2.0, n - 1))


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided t-interval of the mean of independent per-replication estimates."""
    x = np.asarray(values, dtype=float)
    assert len(x) >= 2 and np.all(np.isfinite(x)), x
    half = t_quantile(confidence, len(x)) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def check_within_ci(
    label: str, theory: float, values: Sequence[float], confidence: float = CONFIDENCE
) -> float:
    """Assert ``theory`` lies in the t-interval of ``values``; print; return the mean."""
    lo, hi = t_interval(values, confidence)
    mean = float(np.mean(values))
    rel = (mean - theory) / theory if theory else math.nan
    half_rel = (hi - lo) / 2.0 / abs(theory) if theory else math.nan
    print(
        f"\n{label}: theory {theory:.6g}, estimate {mean:.6g} "
        f"({confidence:.1%} CI [{lo:.6g}, {hi:.6g}], n={len(values)}), "
        f"relative error {rel:+.2%}, CI half-width {half_rel:.2%}"
    )
    assert lo <= theory <= hi, (
        f"{label}: theory {theory:.6g} outside the {confidence:.1%} CI [{lo:.6g}, {hi:.6g}] "
        f"of the estimate {mean:.6g} (relative error {rel:+.2%}, n={len(values)})"
    )
    return mean


# --- textbook formulas ----------------------------------------------------------------------


def erlang_b(c: int, a: float) -> float:
    """Erlang B blocking probability by the stable recursion B_k = a B_{k-1} / (k + a B_{k-1})."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """P(wait > 0) in M/M/c with offered load a = lambda/mu < c: C = B / (1 - (a/c)(1 - B))."""
    assert 0.0 < a < c
    b = erlang_b(c, a)
    return b / (1.0 - (a / c) * (1.0 - b))


def erlang_c_wq(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c: Wq = C(c, a) / (c mu - lambda)."""
    return erlang_c(c, lam / mu) / (c * mu - lam)


def test_erlang_formulas_against_known_values() -> None:
    # M/M/1: C = rho, Wq = rho / (mu - lambda).
    assert erlang_c(1, 0.8) == pytest.approx(0.8)
    assert erlang_c_wq(1, 0.8, 1.0) == pytest.approx(4.0)
    # M/M/2: C = 2 rho^2 / (1 + rho); Wq = rho^2 / (mu (1 - rho^2)).
    rho = 0.8
    assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho))
    assert erlang_c_wq(2, 2 * rho, 1.0) == pytest.approx(rho**2 / (1 - rho**2))
    # Against the textbook sum formula (small c) and stable for large c.
    a, c = 4.25, 5
    terms = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    assert erlang_c(c, a) == pytest.approx(top / (terms + top))
    assert 0.0 < erlang_c(500, 480.0) < 1.0


def rq_fill_rate(reorder_point: int, order_quantity: int, mean_lead_demand: float) -> float:
    """Fill rate of continuous-review (R,Q), unit Poisson demand, fixed lead time, backorders.

    The inventory position is uniform on {R+1, ..., R+Q}; a demand is filled from stock iff the
    net inventory it meets, IP(t - L) - D(t - L, t], is at least 1.
    """
    positions = range(reorder_point + 1, reorder_point + order_quantity + 1)
    return float(np.mean([stats.poisson.cdf(y - 1, mean_lead_demand) for y in positions]))


def rq_on_hand_and_backorders(
    reorder_point: int, order_quantity: int, mean_lead_demand: float
) -> tuple[float, float]:
    """Mean on-hand stock E[(IP - D_L)^+] and mean backorders E[(D_L - IP)^+] of that system."""
    on_hand = backorders = 0.0
    k_max = int(stats.poisson.ppf(1 - 1e-15, mean_lead_demand)) + reorder_point + order_quantity
    k = np.arange(k_max + 1)
    pmf = stats.poisson.pmf(k, mean_lead_demand)
    for y in range(reorder_point + 1, reorder_point + order_quantity + 1):
        on_hand += float(np.sum(np.clip(y - k, 0, None) * pmf))
        backorders += float(np.sum(np.clip(k - y, 0, None) * pmf))
    return on_hand / order_quantity, backorders / order_quantity


# --- M/M/c runs, shared by the Erlang C and Little's law tests -------------------------------

SERVICE_HOURS = 1.0
QUEUE_WARMUP_DAYS = 15.0  # 360 service times: 4 relaxation times of M/M/1 at rho 0.8
QUEUE_TAIL_HOURS = 48.0  # orders created this close to the end may still be in the system
QUEUE_ORDERS = 20_000  # measured orders per replication
QUEUE_REPS = 10


def in_system_integral(
    start: np.ndarray, end: np.ndarray, a: float, b: float, horizon: float
) -> float:
    """Integral over [a, b] of the number of orders in the system (open orders until horizon).

    Equal to an event sweep over the created/completed epochs: each order contributes the
    length of its stay that falls inside [a, b].
    """
    stop = np.where(np.isnan(end), horizon, end)
    return float(np.sum(np.clip(np.minimum(stop, b) - np.maximum(start, a), 0.0, None)))


@functools.cache
def queue_replications(
    c: int, rho: float, service: str, reps: int = QUEUE_REPS, orders: int = QUEUE_ORDERS
) -> pd.DataFrame:
    """Per-replication estimates of the M/M/c (or M/D/c) reduction, one row per replication."""
    lam_per_hour = rho * c / SERVICE_HOURS
    measured_days = orders / (lam_per_hour * HOURS_PER_DAY)
    scenario = mmc(
        c,
        rho,
        duration_days=QUEUE_WARMUP_DAYS + measured_days + QUEUE_TAIL_HOURS / HOURS_PER_DAY,
        warmup_days=QUEUE_WARMUP_DAYS,
        service_mean_hours=SERVICE_HOURS,
        service_kind=service,
    )
    rows = [queue_estimates(simulate(scenario, SEED, r)) for r in range(reps)]
    return pd.DataFrame(rows)


def queue_estimates(result: RunResult) -> dict[str, float]:
    orders = result.orders
    start, horizon = result.window
    end = horizon - QUEUE_TAIL_HOURS  # measure orders created in [start, end)
    measured = orders[(orders["created_at"] >= start) & (orders["created_at"] < end)]
    assert measured["first_visit_at"].notna().all(), "an order in the window was never served"
    done = measured[measured["completed_at"].notna()]
    assert (done["visits"] == 1).all(), "no failure is possible here, yet an order was revisited"
    wait = measured["first_visit_at"] - measured["ready_at"]
    assert (wait >= -1e-9).all()
    in_system = in_system_integral(
        orders["created_at"].to_numpy(), orders["completed_at"].to_numpy(), start, end, horizon
    )
    sojourn = measured["completed_at"].fillna(horizon) - measured["created_at"]
    days = result.timeseries
    days = days[(days["day"] * HOURS_PER_DAY >= start) & (days["day"] * HOURS_PER_DAY < end)]
    return {
        "wq": float(wait.mean()),
        "p_wait": float((wait > 1e-9).mean()),
        "utilization": result.kpis["crew_utilization"],
        "service_mean": float((done["completed_at"] - done["first_visit_at"]).mean()),
        "lam_hat": len(measured) / (end - start),
        "w_hat": float(sojourn.mean()),
        "l_hat": in_system / (end - start),
        "little_ratio": in_system / float(sojourn.sum()),
        "backlog_midnight": float(days["backlog"].mean()),
        "censored": float(measured["completed_at"].isna().sum()),
    }


# --- 1. Erlang C ----------------------------------------------------------------------------

ERLANG_CASES = [(1, 0.80), (2, 0.80), (5, 0.85)]


@pytest.mark.slow
@pytest.mark.parametrize(("c", "rho"), ERLANG_CASES, ids=[f"c{c}" for c, _ in ERLANG_CASES])
def test_erlang_c_mmc_wait_in_queue(c: int, rho: float) -> None:
    """M/M/c: mean wait ready -> first visit equals Erlang C Wq = C(c, a) / (c mu - lambda)."""
    reps = queue_replications(c, rho, "exponential")
    mu = 1.0 / SERVICE_HOURS
    lam = rho * c * mu
    check_within_ci(f"M/M/{c} rho={rho} Wq hours", erlang_c_wq(c, lam, mu), reps["wq"])
    # The waiting probability is the Erlang C function itself, and far more precise.
    check_within_ci(f"M/M/{c} rho={rho} P(wait)", erlang_c(c, lam / mu), reps["p_wait"], SECONDARY)
    # Crews are busy a share rho of their (24/7) hours.
    check_within_ci(f"M/M/{c} rho={rho} crew utilisation", rho, reps["utilization"], SECONDARY)


@pytest.mark.slow
def test_erlang_c_rejects_md1_and_pollaczek_khinchine_holds() -> None:
    """Constant work hours (M/D/1): Pollaczek-Khinchine holds and Erlang C is rejected.

    Shows that the Erlang C test above can fail: Wq(M/D/1) = rho / (2 mu (1 - rho)) is half of
    Wq(M/M/1), and the interval excludes the latter.
    """
    rho = 0.8
    reps = queue_replications(1, rho, "deterministic", orders=15_000)
    mu = 1.0 / SERVICE_HOURS
    pk = rho / (2.0 * mu * (1.0 - rho))  # lambda E[S^2] / (2 (1 - rho)) with E[S^2] = 1/mu^2
    check_within_ci("M/D/1 rho=0.8 Wq hours (Pollaczek-Khinchine)", pk, reps["wq"])
    lo, hi = t_interval(reps["wq"])
    mm1 = erlang_c_wq(1, rho * mu, mu)
    assert not lo <= mm1 <= hi, f"Erlang C Wq {mm1} inside the M/D/1 CI [{lo}, {hi}]"
    # P(wait) = rho in every M/G/1 (PASTA), so it is not what tells the two apart.
    check_within_ci("M/D/1 rho=0.8 P(wait)", rho, reps["p_wait"], SECONDARY)


# --- 2. (R,Q) fill rate ---------------------------------------------------------------------

RQ_RATE_PER_DAY = 4.0
RQ_LEAD_DAYS = 1.5  # not a whole number of days: catches a lead time rounded to days
RQ_R, RQ_Q = 7, 5
RQ_REPS = 12
RQ_WARMUP_DAYS = 10.0
RQ_MEASURED_DAYS = 1000.0


@functools.cache
def rq_replications() -> pd.DataFrame:
    scenario = rq_inventory(
        rate_per_day=RQ_RATE_PER_DAY,
        lead_time_days=RQ_LEAD_DAYS,
        reorder_point=RQ_R,
        order_quantity=RQ_Q,
        duration_days=RQ_WARMUP_DAYS + RQ_MEASURED_DAYS,
        warmup_days=RQ_WARMUP_DAYS,
    )
    rows = []
    for rep in range(RQ_REPS):
        result = simulate(scenario, SEED, rep)
        start, horizon = result.window
        orders = result.orders
        measured = orders[(orders["created_at"] >= start) & (orders["created_at"] < horizon)]
        # Every demand is requested at hand-off, which is its creation.
        assert (measured["material_requested_at"] == measured["created_at"]).all()
        filled = ~measured["met_stockout"].astype(bool)
        # Filled from stock <=> no material wait and the kit complete when requested.
        assert (measured.loc[filled, "material_wait_hours"] == 0).all()
        assert (measured.loc[filled, "kit_complete_at"] == measured.loc[filled, "created_at"]).all()
        # Backorder waits of orders whose kit was due well before the end (no censoring).
        settled = measured[measured["created_at"] < horizon - 3 * RQ_LEAD_DAYS * HOURS_PER_DAY]
        days = result.timeseries
        days = days[
            (days["day"] * HOURS_PER_DAY >= start) & (days["day"] * HOURS_PER_DAY < horizon)
        ]
        received = result.purchase_orders.dropna(subset=["received_at"])
        rows.append(
            {
                "fill_rate": float(filled.mean()),
                "on_hand": float(days["stock_part"].mean()),
                "wait_days": float(settled["material_wait_hours"].mean()) / HOURS_PER_DAY,
                "po_sizes_ok": bool((result.purchase_orders["qty"] == RQ_Q).all()),
                "lead_ok": bool(
                    np.allclose(
                        received["received_at"] - received["ordered_at"],
                        RQ_LEAD_DAYS * HOURS_PER_DAY,
                    )
                ),
            }
        )
    return pd.DataFrame(rows)


def test_rq_fill_rate_poisson_demand_fixed_lead_time() -> None:
    reps = rq_replications()
    assert reps["po_sizes_ok"].all() and reps["lead_ok"].all()
    m = RQ_RATE_PER_DAY * RQ_LEAD_DAYS
    theory = rq_fill_rate(RQ_R, RQ_Q, m)
    assert 0.85 < theory < 0.95  # the regime the test was designed for
    check_within_ci(f"(R,Q)=({RQ_R},{RQ_Q}) lambda*L={m} fill rate", theory, reps["fill_rate"])
    # Power: a reorder point off by one either way would be rejected.
    lo, hi = t_interval(reps["fill_rate"])
    for r in (RQ_R - 1, RQ_R + 1):
        other = rq_fill_rate(r, RQ_Q, m)
        assert not lo <= other <= hi, f"fill rate of R={r} ({other:.4f}) is in [{lo}, {hi}]"


def test_rq_on_hand_and_backorder_wait() -> None:
    """Mean on-hand stock E[(IP - D_L)^+] (midnight samples), and the mean material wait per
    demand E[(D_L - IP)^+] / lambda (Little's law on the backorders)."""
    reps = rq_replications()
    m = RQ_RATE_PER_DAY * RQ_LEAD_DAYS
    on_hand, backorders = rq_on_hand_and_backorders(RQ_R, RQ_Q, m)
    # Consistency of the two sums: E[NI] = E[IP] - lambda L.
    assert on_hand - backorders == pytest.approx(RQ_R + (RQ_Q + 1) / 2 - m)
    check_within_ci("(R,Q) mean on-hand units", on_hand, reps["on_hand"], SECONDARY)
    check_within_ci(
        "(R,Q) mean material wait days",
        backorders / RQ_RATE_PER_DAY,
        reps["wait_days"],
        SECONDARY,
    )


# --- 3. Little's law ------------------------------------------------------------------------


@pytest.mark.slow
def test_littles_law_mm2() -> None:
    """L = lambda W on the M/M/2 sample paths, and the daily backlog series agrees with L."""
    reps = queue_replications(2, 0.80, "exponential")
    assert reps["censored"].sum() == 0
    ratio = check_within_ci("M/M/2 L / (lambda W)", 1.0, reps["little_ratio"])
    assert abs(ratio - 1.0) < 0.01
    # Theory for the level itself: L = lambda (Wq + 1/mu) with Erlang C Wq.
    lam, mu = 1.6, 1.0 / SERVICE_HOURS
    l_theory = lam * (erlang_c_wq(2, lam, mu) + 1 / mu)
    check_within_ci("M/M/2 L (orders in system)", l_theory, reps["l_hat"], SECONDARY)
    check_within_ci("M/M/2 mean work hours", 1.0 / mu, reps["service_mean"], SECONDARY)
    # Midnight samples of a stationary process estimate its time average: the daily backlog
    # series must agree with lambda W from the orders frame.
    diff = reps["backlog_midnight"] - reps["lam_hat"] * reps["w_hat"]
    lo, hi = t_interval(diff, SECONDARY)
    print(f"\nM/M/2 midnight backlog - lambda W: mean {diff.mean():+.4f}, CI [{lo:.4f}, {hi:.4f}]")
    assert lo <= 0.0 <= hi


FULL_WARMUP_DAYS = 112.0  # the backlog settles after about two months
FULL_MEASURED_DAYS = 364.0  # whole weeks, so the window starts and ends at the same phase
FULL_TAIL_DAYS = 63.0
FULL_REPS = 10


@functools.cache
def full_model_replications() -> pd.DataFrame:
    scenario = full_model(
        duration_days=FULL_WARMUP_DAYS + FULL_MEASURED_DAYS + FULL_TAIL_DAYS,
        warmup_days=FULL_WARMUP_DAYS,
    )
    rows = []
    for rep in range(FULL_REPS):
        result = simulate(scenario, SEED, rep)
        orders = result.orders
        start, horizon = result.window
        end = start + FULL_MEASURED_DAYS * HOURS_PER_DAY
        measured = orders[(orders["created_at"] >= start) & (orders["created_at"] < end)]
        created = orders["created_at"].to_numpy()
        completed = orders["completed_at"].to_numpy()
        handed = orders["handed_off_at"].to_numpy()
        in_system = in_system_integral(created, completed, start, end, horizon)
        sojourn = measured["completed_at"].fillna(horizon) - measured["created_at"]
        # After hand-off (WIP), for orders handed off in the window.
        after = orders[(orders["handed_off_at"] >= start) & (orders["handed_off_at"] < end)]
        in_wip = in_system_integral(
            np.where(np.isnan(handed), np.inf, handed), completed, start, end, horizon
        )
        wip_sojourn = after["completed_at"].fillna(horizon) - after["handed_off_at"]
        # The daily series, sampled at midnight, against the orders frame at the same instants.
        ts = result.timeseries
        t = ts["day"].to_numpy() * HOURS_PER_DAY
        stop = np.where(np.isnan(completed), np.inf, completed)
        backlog = ((created[None, :] <= t[:, None]) & (stop[None, :] > t[:, None])).sum(axis=1)
        wip = ((handed[None, :] <= t[:, None]) & (stop[None, :] > t[:, None])).sum(axis=1)
        rows.append(
            {
                "ratio": in_system / float(sojourn.sum()),
                "wip_ratio": in_wip / float(wip_sojourn.sum()),
                "open_in_window": int(measured["completed_at"].isna().sum()),
                "referrals": int(measured["parent_id"].notna().sum()),
                "revisits": int((measured["visits"] > 1).sum()),
                "stockouts": int(measured["met_stockout"].sum()),
                "backlog_matches": bool(np.array_equal(backlog, ts["backlog"].to_numpy())),
                "wip_matches": bool(np.array_equal(wip, ts["wip"].to_numpy())),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_littles_law_full_model_batched_handoff() -> None:
    """L = lambda W with batched hand-off, calendars, revisits, stockouts and referrals."""
    reps = full_model_replications()
    # The configuration really exercises the machinery, and the window's orders all finished.
    assert (reps["referrals"] > 0).all() and (reps["revisits"] > 0).all()
    assert (reps["stockouts"] > 0).all()
    assert reps["open_in_window"].sum() == 0
    ratio = check_within_ci("full model L / (lambda W), order to completion", 1.0, reps["ratio"])
    assert abs(ratio - 1.0) < 0.02
    label = "full model WIP / (lambda W), hand-off to completion"
    ratio = check_within_ci(label, 1.0, reps["wip_ratio"])
    assert abs(ratio - 1.0) < 0.02
    # The daily backlog and WIP series count exactly the orders the orders frame says are open.
    assert reps["backlog_matches"].all()
    assert reps["wip_matches"].all()


# --- 4. Arrival profile ---------------------------------------------------------------------

WEEKDAY_FACTORS = [1.4, 1.2, 1.0, 1.0, 0.9, 0.3, 0.2]
ALPHA = 0.001


def day_counts(result: RunResult, days: int) -> np.ndarray:
    created = result.orders["created_at"].to_numpy()
    assert result.orders["parent_id"].isna().all(), "no referrals expected"
    return np.bincount((created // HOURS_PER_DAY).astype(int), minlength=days)[:days]


def poisson_checks(label: str, observed: np.ndarray, expected: np.ndarray) -> None:
    """Chi-square goodness of fit of the shape, a Poisson test of the total, and each cell in its
    (1 - ALPHA) Poisson interval."""
    shape = expected * observed.sum() / expected.sum()
    chi2 = stats.chisquare(observed, shape)
    total_p = 2 * min(
        stats.poisson.cdf(observed.sum(), expected.sum()),
        stats.poisson.sf(observed.sum() - 1, expected.sum()),
    )
    print(f"\n{label}: chi-square {chi2.statistic:.2f} (p={chi2.pvalue:.3f}), total")
    print(f"  {observed.sum()} vs {expected.sum():.1f} expected (p={min(total_p, 1.0):.3f})")
    for i, (o, e) in enumerate(zip(observed, expected, strict=True)):
        lo, hi = stats.poisson.interval(1 - ALPHA, e)
        print(f"  cell {i}: {o} vs {e:.1f} ({o / e - 1:+.2%}), interval [{lo:.0f}, {hi:.0f}]")
        assert lo <= o <= hi, f"{label} cell {i}: {o} outside [{lo}, {hi}] (expected {e:.1f})"
    assert chi2.pvalue > ALPHA, f"{label}: chi-square p={chi2.pvalue:.2g}"
    assert total_p > ALPHA, f"{label}: total {observed.sum()} vs {expected.sum():.1f}"


def test_arrivals_weekday_profile() -> None:
    days = 7 * 104  # two years of whole weeks from a Monday
    scenario = arrival_profile(
        rate_per_day=20.0, duration_days=days, weekday_factors=WEEKDAY_FACTORS
    )
    counts = day_counts(simulate(scenario, SEED, 0), days)
    expected = np.array(expected_arrivals_per_day(scenario))
    assert expected[:7] == pytest.approx(np.array(WEEKDAY_FACTORS) * 20.0)
    weekday = (scenario.run.start_date.weekday() + np.arange(days)) % 7
    by_weekday = np.bincount(weekday, weights=counts, minlength=7).astype(int)
    expected_by_weekday = np.bincount(weekday, weights=expected, minlength=7)
    poisson_checks("arrivals per weekday", by_weekday, expected_by_weekday)
    # Power: the profile read one weekday off (e.g. Sunday-first) is rejected.
    for shift in (1, -1):
        off = np.roll(expected_by_weekday, shift)
        assert stats.chisquare(by_weekday, off * by_weekday.sum() / off.sum()).pvalue < ALPHA
    # Daily counts are Poisson: the dispersion statistic sum (n - E)^2 / E is chi-square(days).
    dispersion = float(np.sum((counts - expected) ** 2 / expected))
    p = stats.chi2.sf(dispersion, days)
    print(f"  daily dispersion {dispersion:.1f} on {days} df (p={p:.3f})")
    assert ALPHA / 2 < p < 1 - ALPHA / 2


def test_arrivals_month_profile_and_campaign() -> None:
    months = [0.5, 0.8, 1.0, 1.2, 1.5, 1.3, 1.0, 0.7, 0.9, 1.1, 1.4, 0.6]
    campaign = {"start_day": 100.5, "length_days": 30.0, "uplift": 0.5}  # starts at noon
    days = 730
    scenario = arrival_profile(
        rate_per_day=15.0, duration_days=days, month_factors=months, campaigns=[campaign]
    )
    result = simulate(scenario, SEED, 0)
    counts = day_counts(result, days)
    expected = np.array(expected_arrivals_per_day(scenario))
    dates = [scenario.run.start_date + dt.timedelta(days=int(d)) for d in range(days)]
    month = np.array([d.month - 1 for d in dates])
    outside = np.ones(days, dtype=bool)
    outside[100:131] = False  # days touched by the campaign
    by_month = np.bincount(month[outside], weights=counts[outside], minlength=12).astype(int)
    expected_by_month = np.bincount(month[outside], weights=expected[outside], minlength=12)
    poisson_checks("arrivals per month (campaign days left out)", by_month, expected_by_month)
    # Power: month factors applied one month off are rejected.
    for shift in (1, -1):
        off = np.roll(months, shift)[month[outside]] * 15.0
        off_by_month = np.bincount(month[outside], weights=off, minlength=12)
        assert stats.chisquare(by_month, off_by_month * by_month.sum() / off.sum()).pvalue < ALPHA
    # Campaign uplift: arrivals inside the campaign's exact hours against the rate without it.
    created = result.orders["created_at"].to_numpy() / HOURS_PER_DAY
    lo_t, hi_t = campaign["start_day"], campaign["start_day"] + campaign["length_days"]
    inside = int(np.sum((created >= lo_t) & (created < hi_t)))
    base = 0.0
    for d in range(math.floor(lo_t), math.ceil(hi_t)):
        overlap = min(d + 1.0, hi_t) - max(float(d), lo_t)
        base += overlap * 15.0 * months[dates[d].month - 1]
    # Exact (Garwood) interval of the Poisson mean behind the count.
    mean_lo = stats.chi2.ppf(ALPHA / 2, 2 * inside) / 2
    mean_hi = stats.chi2.ppf(1 - ALPHA / 2, 2 * inside + 2) / 2
    uplift_lo, uplift_hi = mean_lo / base - 1.0, mean_hi / base - 1.0
    print(
        f"  campaign: {inside} arrivals vs {base:.1f} without it: uplift "
        f"{inside / base - 1:+.3f}, {1 - ALPHA:.1%} interval [{uplift_lo:+.3f}, {uplift_hi:+.3f}]"
    )
    assert uplift_lo <= campaign["uplift"] <= uplift_hi
    assert not uplift_lo <= 0.0 <= uplift_hi  # the campaign is detected at all
    # The half-days at the campaign's ends: only the afternoon of day 100 is uplifted.
    assert expected[100] == pytest.approx(15.0 * months[dates[100].month - 1] * 1.25)
