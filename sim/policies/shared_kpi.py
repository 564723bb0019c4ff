"""A shared on-time KPI: when on-time delivery is part of everyone's score, sales stop promising
what engineering cannot deliver and dispatch works to the promise dates.

With weight w > 0 sales quote from the backlog and stock (capable-to-promise, the ``quoted``
promise policy) at confidence base + w x (max - base): the more the promise counts, the safer the
date they give. Dispatch orders by promise date (see sim/dispatch.py). Weight 0 returns the
scenario's own promise and dispatch untouched.
"""

from __future__ import annotations

from sim.scenario import PromiseSpec, Scenario


def effective_promise(scenario: Scenario) -> PromiseSpec:
    kpi = scenario.shared_kpi
    if kpi.weight <= 0:
        return scenario.promise
    return scenario.promise.model_copy(update={"policy": "quoted", "confidence": kpi.confidence})


def dispatch_by_promise(scenario: Scenario) -> bool:
    return scenario.shared_kpi.weight > 0
