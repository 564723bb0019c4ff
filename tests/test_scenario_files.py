"""Scenario files: extends overlays, deep merge, and errors that name file, key, value, rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SCENARIOS

from sim.scenario_files import ScenarioError, load_scenario


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


BASE = f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'


def test_baseline_loads_and_is_frozen(baseline) -> None:
    assert baseline.name == "baseline"
    assert baseline.promise.fixed_days == 3.0
    assert baseline.handoff.mode == "batched"
    assert baseline.supply.stock_visibility_delay_hours > 0
    assert baseline.dispatch.kit_check is False and baseline.dispatch.rule == "fifo"
    with pytest.raises(Exception, match="frozen"):
        baseline.promise.fixed_days = 5.0  # type: ignore[misc]


def test_overlay_merges_tables_and_replaces_values(tmp_path: Path) -> None:
    path = write(
        tmp_path, "kit.toml", BASE + '[dispatch]\nkit_check = true\nrule = "shortest_job"\n'
    )
    scenario = load_scenario(path)
    assert scenario.name == "kit"  # the name is never inherited
    assert scenario.dispatch.kit_check is True
    assert scenario.dispatch.rule == "shortest_job"
    assert len(scenario.dispatch.crews) == 3  # untouched keys of the table survive


def test_extends_list_merges_in_order(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", BASE + "[promise]\nfixed_days = 5.0\n[dispatch]\nkit_check = true\n")
    write(tmp_path, "b.toml", BASE + "[promise]\nfixed_days = 7.0\n")
    top = write(tmp_path, "top.toml", 'extends = ["a.toml", "b.toml"]\nname = "both"\n')
    scenario = load_scenario(top)
    assert scenario.name == "both"
    assert scenario.promise.fixed_days == 7.0  # the later file wins
    assert scenario.dispatch.kit_check is True


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.toml", BASE + "[dispatch]\nkit_chek = true\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert str(path) in problem
    assert "dispatch.kit_chek" in problem
    assert "did you mean 'kit_check'" in problem


def test_error_names_the_file_that_set_the_key(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "bad_base.toml",
        BASE + "[installation]\nrework_probability = 1.5\n",
    )
    top = write(tmp_path, "top.toml", 'extends = "bad_base.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(top)
    (problem,) = info.value.problems
    assert problem.startswith(str(base))
    assert "installation.rework_probability = 1.5" in problem
    assert "less than or equal to 1" in problem


@pytest.mark.parametrize(
    ("overlay", "fragment"),
    [
        ("[crew_calendar]\nshift_start_hour = 9.0\nshift_end_hour = 9.0\n", "no working hours"),
        ("[crew_calendar]\nwork_days = []\n", "at least one work day"),
        (
            "[[supply.skus]]\nname='x'\nsupplier='voltparts'\nunit_cost=1.0\n"
            "policy='sS'\nreorder_point=10\norder_up_to=5\n",
            "order_up_to (5) must be above reorder_point (10)",
        ),
        ("[installation]\ncustomer_absent_probability = -0.1\n", "greater than or equal to 0"),
        ("[orders]\nbom = []\n[dispatch]\nkit_check = true\n", "kit_check needs a bill"),
        ("[run]\nwarmup_days = 500\n", "must be shorter than duration_days"),
        ("[handoff]\napproval_steps = 12\n", "less than or equal to 8"),
        ("[dispatch]\nrule = 'random'\n", "'fifo'"),
        ("[orders]\nsize_fixtures = { kind = 'lognormal', mean = 5.0, sd = -1.0 }\n", "sd"),
        (
            "[[dispatch.crews]]\nname='x'\nhome_region='mars'\n",
            "home_region 'mars', which is not in orders.regions",
        ),
    ],
)
def test_impossible_combinations_are_caught_at_load(
    tmp_path: Path, overlay: str, fragment: str
) -> None:
    path = write(tmp_path, "bad.toml", BASE + overlay)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert any(fragment in p for p in info.value.problems), info.value.problems
    assert all(p.startswith(str(tmp_path)) or "baseline.toml" in p for p in info.value.problems)


def test_every_error_is_reported_not_only_the_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "many.toml",
        BASE + "[installation]\nrework_probability = 2.0\ncustomer_absent_probability = 3.0\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.problems) == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('extends = "missing.toml"\n', "names 'missing.toml', which does not exist"),
        ("name = \n", "not valid TOML"),
        ("extends = 3\n", "must be a file name or a list"),
    ],
)
def test_file_level_errors(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, "f.toml", text)
    with pytest.raises(ScenarioError, match=fragment):
        load_scenario(path)


def test_extends_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_missing_file() -> None:
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("/nonexistent/scenario.toml")


def test_bundled_example_overlays_load() -> None:
    for path in sorted(SCENARIOS.rglob("*.toml")):
        assert load_scenario(path).name


def test_two_overlays_disagreeing_warn_with_both_files(tmp_path: Path, caplog) -> None:
    write(tmp_path, "a.toml", BASE + "[promise]\nfixed_days = 5.0\n")
    write(tmp_path, "b.toml", BASE + "[promise]\nfixed_days = 7.0\n")
    top = write(tmp_path, "top.toml", 'extends = ["a.toml", "b.toml"]\n')
    with caplog.at_level("WARNING"):
        assert load_scenario(top).promise.fixed_days == 7.0
    (message,) = [r.getMessage() for r in caplog.records if "set differently" in r.getMessage()]
    assert "promise.fixed_days" in message
    assert str(tmp_path / "a.toml") in message and str(tmp_path / "b.toml") in message
    assert "b.toml wins (the later one)" in message


def test_an_overlay_overriding_its_base_does_not_warn(tmp_path: Path, caplog) -> None:
    path = write(tmp_path, "kit.toml", BASE + "[promise]\nfixed_days = 5.0\n")
    with caplog.at_level("WARNING"):
        load_scenario(path)
    assert not [r for r in caplog.records if "set differently" in r.getMessage()]


def test_apply_overlay_to_another_base(tmp_path: Path, baseline) -> None:
    from sim.scenario_files import apply_overlay
    from sim.sweep import apply_overrides

    other = apply_overrides(baseline, {"promise.fixed_days": 9.0}, "other")
    path = write(tmp_path, "kit.toml", BASE + "[dispatch]\nkit_check = true\n")
    applied = apply_overlay(other, path)
    assert applied.name == "kit" and applied.dispatch.kit_check
    assert applied.promise.fixed_days == 9.0  # the base's own values stay
    bad = write(tmp_path, "bad.toml", BASE + "[dispatch]\nkit_chek = true\n")
    with pytest.raises(ScenarioError, match="did you mean 'kit_check'"):
        apply_overlay(other, bad)
