"""Scenario files: TOML with ``extends`` overlays, deep-merged and validated.

A file may say ``extends = "baseline.toml"`` or a list of files (paths relative to the file).
Bases are merged in order, then the file itself; tables merge key by key, every other value
(arrays included, and distributions: tables with a ``kind``) is replaced whole. ``name`` is
never inherited: a file without one is named after its stem. Every error names the file that
set the offending key, the key path, the value and the rule broken. Two overlays that do not
extend one another and set a key differently get a warning naming both (the later one wins).
"""

from __future__ import annotations

import difflib
import logging
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.scenario import Scenario, plain_data

log = logging.getLogger(__name__)


class ScenarioError(Exception):
    """A scenario that cannot be loaded; ``problems`` holds one line per error."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ResolvedScenarioFile:
    """The merged raw data of a scenario file and where each key came from."""

    data: dict[str, Any]
    origins: dict[tuple[str, ...], Path] = field(default_factory=dict)
    overridden: list[tuple[tuple[str, ...], Path, Path]] = field(default_factory=list)
    ancestors: dict[Path, set[Path]] = field(default_factory=dict)  # file -> all it extends

    def conflicts(self) -> list[tuple[tuple[str, ...], Path, Path]]:
        """Keys that two unrelated overlays set to different values (the later one wins).

        An overlay overriding what it extends is the point of an overlay; two files that do not
        extend one another disagreeing is worth a warning."""
        return [
            (key, earlier, later)
            for key, earlier, later in self.overridden
            if earlier not in self.ancestors.get(later, set()) and key != ("description",)
        ]

    def conflict_messages(self) -> list[str]:
        return [
            f"{'.'.join(key)} is set differently by {earlier} and {later}; "
            f"{later.name} wins (the later one)"
            for key, earlier, later in self.conflicts()
        ]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ScenarioError([f"{path}: scenario file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{path}: not valid TOML: {exc}"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read: {exc.strerror}"]) from None


def _merge(
    target: dict[str, Any],
    source: dict[str, Any],
    source_path: Path,
    resolved: ResolvedScenarioFile,
    prefix: tuple[str, ...] = (),
) -> None:
    for key, value in source.items():
        path = (*prefix, key)
        # A table with a `kind` is a distribution: replaced whole, never mixed with another kind.
        if isinstance(value, dict) and isinstance(target.get(key), dict) and "kind" not in value:
            _merge(target[key], value, source_path, resolved, path)
            continue
        if key in target and target[key] != value and path in resolved.origins:
            resolved.overridden.append((path, resolved.origins[path], source_path))
        target[key] = value
        _record_origin(value, path, source_path, resolved)


def _record_origin(
    value: Any, path: tuple[str, ...], source_path: Path, resolved: ResolvedScenarioFile
) -> None:
    resolved.origins[path] = source_path
    if isinstance(value, dict):
        for key, inner in value.items():
            _record_origin(inner, (*path, key), source_path, resolved)


def _linearize(
    path: Path,
    stack: tuple[Path, ...],
    seen: list[Path],
    raws: dict[Path, dict[str, Any]],
    ancestors: dict[Path, set[Path]],
) -> None:
    """Post-order walk of the extends graph; a file shared by several bases is applied once."""
    if path in stack:
        chain = " -> ".join(str(p) for p in (*stack, path))
        raise ScenarioError([f"{path}: extends forms a cycle: {chain}"])
    if path in seen:
        return
    raw = _read_toml(path)
    extends = raw.pop("extends", [])
    if isinstance(extends, str):
        extends = [extends]
    if not isinstance(extends, list) or not all(isinstance(e, str) for e in extends):
        raise ScenarioError([f"{path}: key 'extends' must be a file name or a list of file names"])
    for base_name in extends:
        base_path = (path.parent / base_name).resolve()
        if not base_path.exists():
            raise ScenarioError(
                [f"{path}: key 'extends' names {base_name!r}, which does not exist"]
            )
        _linearize(base_path, (*stack, path), seen, raws, ancestors)
        ancestors.setdefault(path, set()).update({base_path, *ancestors.get(base_path, set())})
    seen.append(path)
    raws[path] = raw


def resolve_file(path: str | Path) -> ResolvedScenarioFile:
    """Read a scenario file and its ``extends`` graph into one merged dict.

    Files are applied bases first, each once (so two policy overlays that both extend the
    baseline compose instead of the second re-applying the baseline over the first), and
    ``extends`` lists in the order given.
    """
    top = Path(path).resolve()
    order: list[Path] = []
    raws: dict[Path, dict[str, Any]] = {}
    ancestors: dict[Path, set[Path]] = {}
    _linearize(top, (), order, raws, ancestors)
    resolved = ResolvedScenarioFile(data={}, ancestors=ancestors)
    for file in order:
        raw = dict(raws[file])
        if file != top:
            raw.pop("name", None)  # a name is never inherited
        _merge(resolved.data, raw, file, resolved)
    resolved.data.setdefault("name", top.stem)
    resolved.origins.setdefault(("name",), top)
    return resolved


def _annotation_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, tuple, dict, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    models: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            models.extend(_annotation_models(arg))
    return models


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at a location of the scenario, for did-you-mean suggestions."""
    models: list[type[BaseModel]] = [Scenario]
    for part in loc:
        if not isinstance(part, str):
            continue
        next_models: list[type[BaseModel]] = []
        for model in models:
            info = model.model_fields.get(part)
            if info is not None:
                next_models.extend(_annotation_models(info.annotation))
        if not next_models:
            # A discriminator tag in the location (e.g. 'lognormal') stays on the same models.
            continue
        models = next_models
    keys: set[str] = set()
    for model in models:
        keys.update(model.model_fields)
    return sorted(keys)


def _origin_of(loc: tuple[str, ...], resolved: ResolvedScenarioFile, fallback: Path) -> Path:
    for end in range(len(loc), 0, -1):
        if loc[:end] in resolved.origins:
            return resolved.origins[loc[:end]]
    return fallback


def _describe(error: Any, resolved: ResolvedScenarioFile, top: Path) -> str:
    loc = tuple(str(p) for p in error["loc"])
    key_path = ".".join(loc) if loc else "(top level)"
    file = _origin_of(loc, resolved, top)
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        known = _known_keys(tuple(error["loc"][:-1]))
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{file}: key {key_path}: unknown key{hint} (known here: {', '.join(known)})"
    message = error["msg"].removeprefix("Value error, ")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    return f"{file}: key {key_path}{shown}: {message}"


def validate_resolved(resolved: ResolvedScenarioFile, top: Path) -> Scenario:
    try:
        return Scenario.model_validate(resolved.data)
    except ValidationError as exc:
        raise ScenarioError([_describe(e, resolved, top) for e in exc.errors()]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge and validate a scenario file. Raises ScenarioError listing every problem."""
    top = Path(path).resolve()
    resolved = resolve_file(top)
    for message in resolved.conflict_messages():
        log.warning("%s", message)
    return validate_resolved(resolved, top)


def apply_overlay(base: Scenario, overlay: str | Path, name: str | None = None) -> Scenario:
    """``base`` with the keys that ``overlay`` and the overlays it extends set.

    This is how a policy overlay written against the bundled baseline is applied to a
    calibrated scenario: every file of its extends graph is applied except the root scenarios
    (files that extend nothing, such as the baseline), tables key by key.
    """
    path = Path(overlay).resolve()
    order: list[Path] = []
    raws: dict[Path, dict[str, Any]] = {}
    ancestors: dict[Path, set[Path]] = {}
    _linearize(path, (), order, raws, ancestors)
    resolved = ResolvedScenarioFile(
        data=plain_data(base.model_dump(mode="python")), ancestors=ancestors
    )
    resolved.data.pop("name", None)
    for file in order:
        if file not in ancestors:
            continue  # a root scenario: the base takes its place
        raw = dict(raws[file])
        raw.pop("name", None)
        _merge(resolved.data, raw, file, resolved)
    for message in resolved.conflict_messages():
        log.warning("%s", message)
    resolved.data["name"] = name or raws[path].get("name") or path.stem
    return validate_resolved(resolved, path)
