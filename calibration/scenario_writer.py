"""Write a calibrated scenario as TOML whose every fitted number carries its provenance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Item, Table

from calibration.calibrate import CalibrationResult
from sim.results import atomic_write_text
from sim.scenario import plain_data


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _entry(aot: AoT, name: str) -> Table | None:
    for table in aot.body:
        if table.get("name") == name or table.get("sku") == name:
            return table
    return None


def _annotate(doc: tomlkit.TOMLDocument, path: str, comment: str) -> None:
    """Attach ``comment`` to the item at a dotted ``path`` (``a.b[name]`` picks a list entry)."""
    keys = path.split(".")
    node: Any = doc
    for key in keys[:-1]:
        node = node[key]
    last = keys[-1]
    if "[" in last:
        field, _, name = last.partition("[")
        entry = _entry(node[field], name.rstrip("]"))
        if entry is not None:
            target = "lead_time_days" if "lead_time_days" in entry else "name"
            entry.item(target).comment(_short(comment))
        return
    item = node.item(last) if hasattr(node, "item") else node[last]
    if isinstance(item, AoT):
        first = item.body[0] if item.body else None
        if first is not None:
            first.item(next(iter(first))).comment(_short(comment))
        return
    if isinstance(item, Item):
        item.comment(_short(comment))


def scenario_toml(result: CalibrationResult, source: str) -> str:
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Calibrated by `twin calibrate` on {dt.date.today().isoformat()}"))
    doc.add(tomlkit.comment(f"from the exports in {source}."))
    doc.add(tomlkit.comment("A number with a 'fitted:' comment comes from the history, with its"))
    doc.add(tomlkit.comment("method, rows used (n), fit quality and source columns. Every other"))
    doc.add(tomlkit.comment(f"number is an assumption taken from {result.template}: exports do"))
    doc.add(tomlkit.comment("not hold policies, costs or stock rules. Caveats of the fits:"))
    for note in result.notes:
        doc.add(tomlkit.comment(f"- {_short(note, 200)}"))
    doc.add(tomlkit.nl())
    for key, value in plain_data(result.data, drop_none=True).items():
        doc[key] = value
    for path, comment in result.provenance.items():
        try:
            _annotate(doc, path, comment)
        except (KeyError, IndexError, TypeError):
            continue  # a provenance for a key the writer cannot reach: stays in the report
    return tomlkit.dumps(doc)


def write_scenario(result: CalibrationResult, path: Path, source: str) -> None:
    atomic_write_text(path, scenario_toml(result, source))
