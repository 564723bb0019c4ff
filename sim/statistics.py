"""Confidence intervals over replications."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


def t_interval(values: np.ndarray | pd.Series, confidence: float = 0.95) -> dict[str, float]:
    """Mean, sd and the t-interval of the mean; NaNs (KPIs undefined in a run) are left out."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        nan = math.nan
        return {"mean": nan, "sd": nan, "ci_low": nan, "ci_high": nan, "half_width": nan, "n": 0}
    mean = float(x.mean())
    if n == 1:
        sd = half = math.nan
    else:
        sd = float(x.std(ddof=1))
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
    return {
        "mean": mean,
        "sd": sd,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "half_width": half,
        "n": n,
    }


def in_scenario_order(frame: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Rows sorted by the experiment's scenario order, then replication: the same table
    whichever order executors finished in."""
    rank = frame["scenario"].map({name: i for i, name in enumerate(scenarios)})
    return (
        frame.assign(_rank=rank)
        .sort_values(["_rank", "replication"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def summarize(
    replications: pd.DataFrame, kpis: list[str], confidence: float = 0.95
) -> pd.DataFrame:
    """One row per scenario and KPI: mean, sd, ci_low, ci_high, half_width, n."""
    rows = []
    for scenario, group in replications.groupby("scenario", sort=False):
        # The warm-up each scenario's KPIs were measured after, reported beside them.
        extra = {"warmup_days": group["warmup_days"].iloc[0]} if "warmup_days" in group else {}
        for kpi in kpis:
            rows.append(
                {"scenario": scenario, "kpi": kpi, **t_interval(group[kpi], confidence), **extra}
            )
    return pd.DataFrame(rows)
