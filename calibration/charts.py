"""Charts for the calibration and back-test reports (matplotlib, headless), as inline PNGs."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # headless: reports are written on servers and in CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.charts import PALETTE


def figure(width: float = 6.0, height: float = 3.6):  # type: ignore[no-untyped-def]
    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def to_data_uri(fig) -> str:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def histogram_with_density(
    values: np.ndarray, xs: np.ndarray, density: np.ndarray, title: str, xlabel: str
) -> str:
    fig, ax = figure()
    ax.hist(values, bins=min(40, max(10, len(values) // 10)), density=True, color=PALETTE[5],
            alpha=0.7, label=f"observed (n={len(values)})")  # fmt: skip
    ax.plot(xs, density, color=PALETTE[3], lw=2, label="fitted")
    ax.set(title=title, xlabel=xlabel, ylabel="density")
    ax.legend(frameon=False)
    return to_data_uri(fig)


def qq_plot(observed: np.ndarray, theoretical: np.ndarray, title: str, unit: str) -> str:
    fig, ax = figure(4.2, 4.0)
    ax.scatter(theoretical, observed, s=8, color=PALETTE[0], alpha=0.6)
    lo = float(min(np.min(observed), np.min(theoretical)))
    hi = float(max(np.max(observed), np.max(theoretical)))
    ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls="--")
    ax.set(title=title, xlabel=f"fitted quantile ({unit})", ylabel=f"observed quantile ({unit})")
    return to_data_uri(fig)


def bars(labels: list[str], values: list[float], title: str, ylabel: str) -> str:
    fig, ax = figure()
    ax.bar(labels, values, color=PALETTE[0])
    ax.axhline(1.0, color="grey", lw=1, ls="--")
    ax.set(title=title, ylabel=ylabel)
    return to_data_uri(fig)


def satisfaction_curve(buckets: pd.DataFrame, title: str) -> str:
    """``buckets``: bucket, observed, predicted, n."""
    fig, ax = figure()
    x = np.arange(len(buckets))
    ax.bar(x - 0.2, buckets["observed"], width=0.4, color=PALETTE[0], label="observed")
    ax.bar(x + 0.2, buckets["predicted"], width=0.4, color=PALETTE[1], label="logistic model")
    ax.set_xticks(
        x, [f"{b}\n(n={n})" for b, n in zip(buckets["bucket"], buckets["n"], strict=True)]
    )
    ax.set(title=title, ylabel="share satisfied", ylim=(0, 1))
    ax.legend(frameon=False)
    return to_data_uri(fig)


def ecdf_overlay(historical: np.ndarray, simulated: np.ndarray, title: str) -> str:
    fig, ax = figure()
    for values, label, color in ((historical, "history", PALETTE[0]),
                                 (simulated, "twin (all replications)", PALETTE[3])):  # fmt: skip
        x = np.sort(values)
        ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", color=color, label=label)
    ax.set(title=title, xlabel="lead time (days)", ylabel="share of orders completed within")
    ax.legend(frameon=False)
    return to_data_uri(fig)


def monthly_band(monthly: pd.DataFrame, title: str) -> str:
    fig, ax = figure(7.0, 3.6)
    x = np.arange(len(monthly))
    ax.fill_between(x, monthly["sim_low"], monthly["sim_high"], color=PALETTE[3], alpha=0.25,
                    label="twin 95% interval")  # fmt: skip
    ax.plot(x, monthly["sim_mean"], color=PALETTE[3], lw=1.5, label="twin mean")
    ax.plot(x, monthly["historical"], color=PALETTE[0], marker="o", ms=3, lw=1.5, label="history")
    step = max(1, len(x) // 8)
    ax.set_xticks(x[::step], monthly["month"].iloc[::step], rotation=30)
    ax.set(title=title, ylabel="orders completed per month")
    ax.legend(frameon=False)
    return to_data_uri(fig)
