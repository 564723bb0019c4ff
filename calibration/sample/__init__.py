"""The bundled sample history (two years of a smart-lighting installer) and its truth."""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent
HISTORY_DIR = SAMPLE_DIR / "history"
TRUTH_SCENARIO = SAMPLE_DIR / "truth.toml"
SEED = 2024
