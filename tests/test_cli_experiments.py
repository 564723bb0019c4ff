"""End to end: `twin compare`, `twin sweep`, resuming after SIGINT or a killed worker, and the
bad inputs of the experiment layer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS


def twin(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT,
        timeout=timeout,
    )  # fmt: skip


def overlay(folder: Path, name: str, extra: str = "", days: int = 60) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\nname = "{name}"\n'
        f"[run]\nduration_days = {days}\nwarmup_days = 10\n{extra}",
        encoding="utf-8",
    )
    return path


def test_compare_writes_comparison_and_prints_the_table(tmp_path: Path) -> None:
    base = overlay(tmp_path, "base")
    kit = overlay(tmp_path, "kit", "[dispatch]\nkit_check = true\n")
    out = tmp_path / "out"
    done = twin("compare", str(base), str(kit), "--reps", "3", "--workers", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "differences against 'base'" in done.stdout
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["scenario"]) == {"kit"}
    assert {"mean_diff", "ci_low", "ci_high", "correlation"} <= set(comparison.columns)
    reps = pd.read_parquet(out / "replications.parquet")
    assert list(reps["scenario"]) == ["base"] * 3 + ["kit"] * 3


def test_compare_json_for_batch_scripts(tmp_path: Path) -> None:
    base = overlay(tmp_path, "base")
    kit = overlay(tmp_path, "kit", "[dispatch]\nkit_check = true\n")
    done = twin(
        "compare", str(base), str(kit), "--reps", "2", "--workers", "1", "--json",
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["results"] == str(tmp_path / "o")
    assert {row["scenario"] for row in data["comparison"]} == {"kit"}


def test_sweep_full_factorial(tmp_path: Path) -> None:
    base = overlay(tmp_path, "base", days=40)
    out = tmp_path / "sweep"
    done = twin(
        "sweep", str(base), "--set", "dispatch.crews.*.count=2:3:1",
        "--set", "dispatch.rule=fifo,shortest_job", "--reps", "2", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    names = [s["name"] for s in manifest["scenarios"]]
    assert len(names) == 5 and names[0] == "base"
    assert "base[dispatch.crews.*.count=3,dispatch.rule=shortest_job]" in names
    resolved = manifest["scenarios"][4]["resolved"]
    assert [c["count"] for c in resolved["dispatch"]["crews"]] == [3, 3, 3]
    assert resolved["dispatch"]["rule"] == "shortest_job"
    point = manifest["sweep"]["points"][3]
    assert point["overrides"] == {"dispatch.crews.*.count": 3, "dispatch.rule": "shortest_job"}
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["warmup_days"] == 10).all()


def test_sweep_latin_hypercube(tmp_path: Path) -> None:
    base = overlay(tmp_path, "base", days=40)
    out = tmp_path / "lhs"
    done = twin(
        "sweep", str(base), "--set", "installation.rework_probability=0.0:0.3",
        "--set", "supply.stock_visibility_delay_hours=0:72", "--lhs", "4", "--reps", "2",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    rework = sorted(
        s["resolved"]["installation"]["rework_probability"] for s in manifest["scenarios"][1:]
    )
    # One point in each quarter of the range: the Latin hypercube's stratification.
    assert [int(r / 0.075) for r in rework] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--set", "dispatch.rule=teleport"], "dispatch.rule: Input should be"),
        (["--set", "dispatch.nothing.deeper=1"], "the scenario has no 'nothing'"),
        (["--set", "installation.rework_probability=0:2:1"], "less than or equal to 1"),
        (["--set", "dispatch.rule"], "expected PATH=VALUES"),
        (["--set", "dispatch.rule=fifo", "--lhs", "3"], "continuous ranges lo:hi only"),
    ],
)
def test_sweep_bad_sets_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    out = tmp_path / "never"
    done = twin("sweep", str(overlay(tmp_path, "base")), *args, "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--kpi", "lead_time", "--precision", "0.05"], "unknown KPI name(s) 'lead_time'"),
        (["--precision", "0.05"], "--precision needs the KPIs"),
        (["--select", "best", "--kpi", "on_time_rate"], "needs an indifference zone"),
        (["--baseline", "zzz"], "--baseline 'zzz' is not among"),
        (["--warmup", "soon"], "--warmup takes a number of days or 'auto'"),
    ],
)
def test_compare_bad_options_exit_2(tmp_path: Path, extra: list[str], fragment: str) -> None:
    base = overlay(tmp_path, "base")
    kit = overlay(tmp_path, "kit", "[dispatch]\nkit_check = true\n")
    out = tmp_path / "never"
    done = twin("compare", str(base), str(kit), *extra, "--out", str(out))
    assert done.returncode == 2
    assert fragment in done.stderr
    assert not out.exists()


def test_compare_duplicate_names_exit_2(tmp_path: Path) -> None:
    a = overlay(tmp_path, "same")
    folder = tmp_path / "other"
    folder.mkdir()
    b = overlay(folder, "same")
    done = twin("compare", str(a), str(b), "--out", str(tmp_path / "never"))
    assert done.returncode == 2
    assert "same appears more than once" in done.stderr


def test_unreachable_dask_scheduler_fails_fast_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "kept"
    out.mkdir()
    (out / "note.txt").write_text("earlier work")
    started = time.monotonic()
    done = twin(
        "run", str(overlay(tmp_path, "base")), "--dask", "tcp://127.0.0.1:9", "--out", str(out)
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 2
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in done.stderr
    assert [p.name for p in out.iterdir()] == ["note.txt"]


def test_resume_refuses_a_different_experiment(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = twin("run", str(overlay(tmp_path, "base")), "--reps", "2", "--out", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    before = (out / "replications.parquet").read_bytes()
    other = overlay(tmp_path, "base", "[dispatch]\nkit_check = true\n")  # same name, new content
    refused = twin("run", str(other), "--reps", "2", "--out", str(out), "--resume")
    assert refused.returncode == 2
    assert "holds a different experiment" in refused.stderr and "--force" in refused.stderr
    assert (out / "replications.parquet").read_bytes() == before
    forced = twin("run", str(other), "--reps", "2", "--out", str(out), "--resume", "--force")
    assert forced.returncode == 0, forced.stderr


def _wait_for_rows(folder: Path, rows: int, proc: subprocess.Popen, limit: float = 120) -> None:
    """Until the run has saved ``rows`` replications (its append-only row log)."""
    deadline = time.monotonic() + limit
    log = folder / "replications.log.jsonl"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run ended early: {proc.stderr.read() if proc.stderr else ''}")
        if log.exists() and len(log.read_text().splitlines()) >= rows:
            return
        time.sleep(0.02)
    raise AssertionError("the run never got going")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(t) for t in text)
    return found


REPS = 60  # long enough (a few seconds) to interrupt in the middle


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("reference")
    scenario = overlay(folder, "base", days=120)
    done = twin("run", str(scenario), "--reps", str(REPS), "--out", str(folder / "out"), "--quiet")
    assert done.returncode == 0, done.stderr
    return scenario, pd.read_parquet(folder / "out" / "replications.parquet")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("how", ["sigint", "killed-worker"])
def test_interrupted_run_resumes_to_the_same_table(tmp_path: Path, reference, how: str) -> None:
    scenario, expected = reference
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "run", str(scenario), "--reps", str(REPS), "--workers", "2",
           "--out", str(out), "--quiet"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for_rows(out, 3, proc)
        if how == "sigint":
            proc.send_signal(signal.SIGINT)
        else:
            os.kill(_children(proc.pid)[0], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    if how == "sigint":
        assert proc.returncode == 130
        assert "rerun with --resume" in stderr
    else:
        assert proc.returncode == 1
        assert "a worker process died" in stderr
    partial = pd.read_parquet(out / "replications.parquet")
    assert 3 <= len(partial) < REPS
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    resumed = twin(
        "run", str(scenario), "--reps", str(REPS), "--out", str(out), "--resume", "--quiet"
    )
    assert resumed.returncode == 0, resumed.stderr
    table = pd.read_parquet(out / "replications.parquet")
    assert table["replication"].is_unique
    pd.testing.assert_frame_equal(table, expected)
    orders = pd.read_parquet(out / "orders.parquet")
    assert sorted(orders["replication"].unique()) == list(range(REPS))
    assert not [p for p in (out / "orders.parquet").iterdir() if p.name.startswith(".")]
