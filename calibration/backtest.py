"""Back-test: does the calibrated twin reproduce the history it was calibrated on?

The scenario is simulated over the historical period (same start date and length, no warm-up,
so early orders meet the same empty pipeline as the real ones did), several replications. For
each statistic the historical value is compared with the 95 % interval of the simulated
replications (2.5th to 97.5th percentile): inside is "consistent", outside "higher" or "lower"
than the twin. Lead-time distributions are compared by their ECDFs and the Kolmogorov-Smirnov
distance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.model import RunResult, simulate
from sim.scenario import Scenario
from sim.sweep import apply_overrides

log = logging.getLogger(__name__)
HOURS_PER_DAY = 24.0


@dataclass
class BacktestResult:
    table: pd.DataFrame  # statistic, historical, sim_mean, sim_low, sim_high, verdict
    monthly: pd.DataFrame  # month, historical, sim_mean, sim_low, sim_high
    historical_lead_days: np.ndarray
    simulated_lead_days: np.ndarray
    ks_distance: float
    period: tuple[pd.Timestamp, pd.Timestamp]
    replications: int


def _statistics(
    created: pd.Series, promised: pd.Series, completed: pd.Series, visits: pd.Series | None,
    satisfied: pd.Series | None, end: pd.Timestamp,
) -> dict[str, float]:  # fmt: skip
    done = completed.notna()
    lead = (completed[done] - created[done]).dt.total_seconds() / 86400.0
    decided = done | (promised <= end)
    on_time = (completed[decided] <= promised[decided]).fillna(False)
    values = {
        "lead_time_mean_days": float(lead.mean()),
        "lead_time_p50_days": float(lead.quantile(0.5)),
        "lead_time_p90_days": float(lead.quantile(0.9)),
        "on_time_rate": float(on_time.mean()) if decided.any() else np.nan,
        "orders_completed": float(done.sum()),
    }
    if visits is not None:
        values["visits_per_order"] = float(visits[done].mean())
    if satisfied is not None:
        values["satisfaction_rate"] = float(satisfied.dropna().astype(float).mean())
    return values


def historical_statistics(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, float], pd.Series]:
    orders = tables["orders"]
    end = orders["created_at"].max().normalize() + pd.Timedelta(days=1)
    visits = None
    if "visits" in tables and len(tables["visits"]):
        counts = tables["visits"].groupby("order_id").size()
        visits = orders["order_id"].map(counts).fillna(0).astype(float)
    satisfied = None
    if "surveys" in tables and "satisfied" in tables["surveys"]:
        by_order = tables["surveys"].drop_duplicates("order_id").set_index("order_id")
        satisfied = orders["order_id"].map(by_order["satisfied"])
    values = _statistics(
        orders["created_at"], orders["promised_at"], orders["completed_at"], visits, satisfied, end
    )
    monthly = orders["completed_at"].dropna().dt.to_period("M").value_counts().sort_index()
    return values, monthly


def simulated_statistics(
    result: RunResult, start: pd.Timestamp
) -> tuple[dict[str, float], pd.Series, np.ndarray]:
    orders = result.orders

    def at(hours: pd.Series) -> pd.Series:
        return start + pd.to_timedelta(hours, unit="h")

    end = start + pd.Timedelta(days=float(result.scenario.run.duration_days))
    satisfied = orders["satisfied"].where(orders["completed_at"].notna())
    values = _statistics(
        at(orders["created_at"]), at(orders["promised_at"]), at(orders["completed_at"]),
        orders["visits"].astype(float), satisfied, end,
    )  # fmt: skip
    monthly = at(orders["completed_at"]).dropna().dt.to_period("M").value_counts().sort_index()
    lead = orders["lead_time_days"].dropna().to_numpy()
    return values, monthly, lead


def backtest(
    scenario: Scenario, tables: dict[str, pd.DataFrame], replications: int = 10, seed: int = 1
) -> BacktestResult:
    """Simulate the historical period ``replications`` times and compare with history."""
    if replications < 2:
        raise ValueError(f"a back-test needs at least 2 replications, got {replications}")
    orders = tables["orders"]
    start = orders["created_at"].min().normalize()
    end = orders["created_at"].max().normalize() + pd.Timedelta(days=1)
    days = float((end - start).days)
    period = apply_overrides(
        scenario,
        {"run.start_date": start.date(), "run.duration_days": days, "run.warmup_days": 0.0},
        scenario.name,
    )
    hist_values, hist_monthly = historical_statistics(tables)
    per_rep: list[dict[str, float]] = []
    monthly_reps: list[pd.Series] = []
    leads: list[np.ndarray] = []
    for rep in range(replications):
        values, monthly, lead = simulated_statistics(simulate(period, seed, rep), start)
        per_rep.append(values)
        monthly_reps.append(monthly)
        leads.append(lead)
    sims = pd.DataFrame(per_rep)
    rows = []
    for name, observed in hist_values.items():
        if name not in sims:
            continue
        sample = sims[name].dropna()
        low, high = (float(q) for q in np.percentile(sample, [2.5, 97.5]))
        verdict = "consistent" if low <= observed <= high else (
            "history higher" if observed > high else "history lower"
        )  # fmt: skip
        rows.append({"statistic": name, "historical": observed, "sim_mean": float(sample.mean()),
                     "sim_low": low, "sim_high": high, "verdict": verdict})  # fmt: skip
    monthly_frame = pd.concat(monthly_reps, axis=1).fillna(0.0)
    months = hist_monthly.index.union(monthly_frame.index)
    monthly_frame = monthly_frame.reindex(months, fill_value=0.0)
    monthly = pd.DataFrame(
        {
            "month": months.astype(str),
            "historical": hist_monthly.reindex(months, fill_value=0).to_numpy(dtype=float),
            "sim_mean": monthly_frame.mean(axis=1).to_numpy(),
            "sim_low": monthly_frame.quantile(0.025, axis=1).to_numpy(),
            "sim_high": monthly_frame.quantile(0.975, axis=1).to_numpy(),
        }
    )
    hist_lead = (
        (orders["completed_at"] - orders["created_at"]).dropna().dt.total_seconds() / 86400.0
    ).to_numpy()
    sim_lead = np.concatenate(leads)
    ks = float(stats.ks_2samp(hist_lead, sim_lead).statistic) if len(hist_lead) else np.nan
    return BacktestResult(
        table=pd.DataFrame(rows),
        monthly=monthly,
        historical_lead_days=hist_lead,
        simulated_lead_days=sim_lead,
        ks_distance=ks,
        period=(start, end),
        replications=replications,
    )
