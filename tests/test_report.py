"""The management report: content, escaping, partial and bad folders, and a real browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, small_scenario

from sim.experiment import ExperimentConfig, run_experiment
from sim.report import ReportError, changes_against, write_report
from sim.results import ResultStore

HOSTILE = "kit <b>check</b> & $x$"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A finished two-scenario experiment; the policy's name carries HTML and mathtext."""
    folder = tmp_path_factory.mktemp("report") / "out"
    scenarios = (
        small_scenario(name="base"),
        small_scenario(name=HOSTILE, dispatch__kit_check=True, supply__reserve_at="handoff"),
    )
    config = ExperimentConfig(scenarios, replications=3, base_seed=4)
    run_experiment(config, store=ResultStore(folder, scenarios, config.identity()))
    return folder


@pytest.fixture(scope="module")
def report(results) -> str:
    outcome = write_report(results)
    assert outcome.path == results / "report.html" and not outcome.partial
    return outcome.path.read_text(encoding="utf-8")


def test_sections_in_order(report) -> None:
    positions = [report.index(f'id="{s}"') for s in ("summary", "charts", "changes", "methods")]
    assert positions == sorted(positions)


def test_self_contained(report) -> None:
    assert "http://" not in report and "https://" not in report
    assert "<script" not in report
    assert report.count('src="data:image/png;base64,') >= 6


def test_user_text_is_escaped(report) -> None:
    assert "<b>check</b>" not in report
    assert "kit &lt;b&gt;check&lt;/b&gt; &amp; $x$" in report


def test_changes_table_lists_only_differing_keys(report) -> None:
    section = report[report.index('id="changes"') : report.index('id="methods"')]
    assert "dispatch.kit_check" in section and "supply.reserve_at" in section
    assert "arrivals.base_rate_per_day" not in section


def test_changes_against() -> None:
    base = {"a": 1, "b": {"c": 2}, "name": "x", "items": [{"name": "s", "v": 1}]}
    other = {"a": 1, "b": {"c": 3}, "name": "y", "items": [{"name": "s", "v": 2}]}
    assert changes_against(base, other) == [("b.c", 2, 3), ("items[s].v", 1, 2)]


def test_methods_record_seeds_warmup_and_versions(report) -> None:
    methods = report[report.index('id="methods"') :]
    assert "Base seed 4" in methods and "common random" in methods
    assert "simpy" in methods and "Warm-up" in methods


def test_partial_folder_is_reported_as_partial(results, tmp_path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(results, partial)
    manifest = json.loads((partial / "manifest.json").read_text())
    manifest["complete"] = False
    (partial / "manifest.json").write_text(json.dumps(manifest))
    (partial / "summary.csv").unlink()
    outcome = write_report(partial)
    assert outcome.partial
    assert 'id="partial"' in outcome.path.read_text()


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda f: (f / "manifest.json").unlink(), "missing manifest.json"),
        (lambda f: (f / "replications.parquet").unlink(), "missing replications.parquet"),
        (lambda f: (f / "manifest.json").write_text("{not json"), "manifest.json is corrupt"),
        (lambda f: (f / "replications.parquet").write_bytes(b"junk"), "is corrupt"),
    ],
)
def test_bad_folders_are_refused(results, tmp_path, damage, fragment) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    damage(copy)
    with pytest.raises(ReportError, match=fragment):
        write_report(copy)


def test_report_command(results, tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "sim", "report", str(results)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"report written to {results / 'report.html'}" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "sim", "report", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert bad.returncode == 2
    assert "is not a results folder: missing manifest.json" in bad.stderr
    assert "Traceback" not in bad.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="needs Debian's chromium (.ci/run installs it)",
)
def test_report_in_a_real_browser(results, report, tmp_path) -> None:
    """Headless Chromium: no console errors, key sections present, every chart rendered with a
    non-zero size, the hostile scenario name shown as text; saves a screenshot."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "chromium is not installed"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((results / "report.html").as_uri())
            page.wait_for_load_state("load")
            for section in ("summary", "charts", "changes", "methods"):
                assert page.locator(f"#{section}").is_visible()
            images = page.locator("figure img")
            assert images.count() >= 6
            for i in range(images.count()):
                image = images.nth(i)
                image.scroll_into_view_if_needed()
                assert image.evaluate("e => e.complete && e.naturalWidth > 0")
                box = image.bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 100
            injected = page.locator("b").evaluate_all(
                "els => els.filter(e => e.textContent.trim() === 'check').length"
            )
            assert injected == 0  # the name's <b> stayed text, it made no bold element
            assert page.get_by_text(HOSTILE).count() >= 1
            shot = results / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert errors == []
        finally:
            browser.close()
