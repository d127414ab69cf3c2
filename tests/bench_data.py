"""The labelled real months, read at run time only: they never enter the repository.

`TRENDS_BENCH_DATA` names the directory (default: `../shared/data/bench` beside the repository).
Tests that need a real month ask `bench_file(name)`, which skips the test with the reason when the
file is absent or unreadable, so the suite passes on a clean clone with no shared data and no network.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BENCH_ENV = "TRENDS_BENCH_DATA"
DEFAULT_BENCH_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "bench"


def bench_dir() -> Path:
    return Path(os.environ.get(BENCH_ENV) or DEFAULT_BENCH_DIR)


def bench_file(name: str) -> Path:
    """The path of `name` in the benchmark data, or skip the calling test saying what is missing."""
    path = bench_dir() / name
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError:
        pytest.skip(f"needs {name} from the labelled real months in {bench_dir()} (absent; see {BENCH_ENV})")
    return path
