"""What the policies used, by day: meeting person-hours, flex-crew hours, and the values of
time-varying parameters (rework probability, overtime allowance). Becomes columns of the run's
daily time series, from which the KPIs cost them (so a later warm-up re-costs them correctly)."""

from __future__ import annotations

import bisect
import math

import numpy as np
import pandas as pd

HOURS_PER_DAY = 24.0


class PolicyLedger:
    """Daily totals and step series, indexed by day since the start."""

    def __init__(self, horizon_hours: float, **initial: float) -> None:
        days = math.ceil(horizon_hours / HOURS_PER_DAY) + 1
        self.meeting_hours = np.zeros(days)  # person-hours in policy meetings, by start day
        self.flex_crew_hours = np.zeros(days)  # paid flex-crew shift hours
        self._steps: dict[str, tuple[list[float], list[float]]] = {
            name: ([-math.inf], [value]) for name, value in initial.items()
        }

    def _day(self, t: float) -> int:
        return min(max(0, int(t // HOURS_PER_DAY)), len(self.meeting_hours) - 1)

    def add_meeting(self, t: float, person_hours: float) -> None:
        self.meeting_hours[self._day(t)] += person_hours

    def add_flex(self, t: float, hours: float) -> None:
        self.flex_crew_hours[self._day(t)] += hours

    def set(self, name: str, t: float, value: float) -> None:
        """Record that parameter ``name`` takes ``value`` from time ``t`` on."""
        times, values = self._steps[name]
        times.append(t)
        values.append(value)

    def history(self, name: str) -> list[tuple[float, float]]:
        """Every (time, value) of a step series, the initial value at time -inf."""
        times, values = self._steps[name]
        return list(zip(times, values, strict=True))

    def value_at(self, name: str, t: float) -> float:
        times, values = self._steps[name]
        return values[bisect.bisect_right(times, t) - 1]

    def columns(self, days: np.ndarray) -> dict[str, np.ndarray]:
        """Daily columns for the given day numbers; step series sampled at each midnight."""
        index = np.clip(days.astype(int), 0, len(self.meeting_hours) - 1)
        out = {
            "meeting_hours": self.meeting_hours[index],
            "flex_crew_hours": self.flex_crew_hours[index],
        }
        for name, (times, values) in self._steps.items():
            positions = np.searchsorted(times, days * HOURS_PER_DAY, side="right") - 1
            out[name] = np.asarray(values)[positions]
        return out

    def add_to(self, timeseries: pd.DataFrame) -> pd.DataFrame:
        return timeseries.assign(**self.columns(timeseries["day"].to_numpy()))
