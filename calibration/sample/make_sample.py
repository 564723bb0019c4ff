"""Regenerate the bundled sample history from the truth scenario.

    python -m calibration.sample.make_sample [--out DIR]

Simulates ``truth.toml`` once (seed SEED, replication 0) and writes the canonical history files.
The output is deterministic: rerunning it reproduces the committed files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from calibration.export import history_tables, write_history
from calibration.sample import HISTORY_DIR, SEED, TRUTH_SCENARIO
from sim.model import simulate
from sim.scenario_files import load_scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HISTORY_DIR)
    args = parser.parse_args(argv)
    result = simulate(load_scenario(TRUTH_SCENARIO), seed=SEED, replication=0)
    tables = history_tables(result, seed=SEED)
    write_history(tables, args.out)
    counts = ", ".join(f"{name} {len(frame)}" for name, frame in tables.items())
    sys.stdout.write(f"sample history written to {args.out}: {counts}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
