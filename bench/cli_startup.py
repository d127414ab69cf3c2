"""CPU time of the light `trends` commands, each started as a fresh process.

    python -m bench.cli_startup [--runs 10] [--command "topics list"] ...

Goal: `trends topics list`, `trends issues` and `trends status` each take at most 0.35 s of CPU
(user + system) from start to exit. A temporary directory holds a SQLite database (or
`--database-url` names one), migrated once (`trends db upgrade`, not counted), and is the working
directory of every run, so no `trends.toml` of the checkout is read. Each run's CPU time is the
growth of `resource.getrusage(RUSAGE_CHILDREN)` around one `subprocess.run`: it counts the child
process only, so other work on a loaded machine barely moves it, unlike wall time. The figure to
compare is the minimum over the runs; the median is printed alongside.

Bytecode: an installed `trends` (pip, the Docker image) runs from compiled `.pyc` files. The untimed
first runs write them for this checkout, even when PYTHONDONTWRITEBYTECODE is set here, so the figures
are those of an installed bot; `--source` keeps PYTHONDONTWRITEBYTECODE as set and so times Python
compiling the project's modules on every start as well.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_COMMANDS = ("topics list", "issues", "status")
BUDGET_SECONDS = 0.35
# What the `trends` console script runs (pyproject's entry point), without needing it installed.
ENTRY = "import sys; sys.argv[0] = 'trends'; from adapters.cli import main; main()"


def _trends(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run `trends ARGS` once (the console script's entry point) and return its user + sys CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"`trends {' '.join(args)}` failed ({result.returncode}):\n{result.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    parser.add_argument(
        "--command",
        action="append",
        dest="commands",
        help='a command to time, e.g. "topics list" (repeatable; default the three light ones)',
    )
    parser.add_argument(
        "--source",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE from the environment (project modules compiled every run)",
    )
    parser.add_argument(
        "--database-url",
        help="time against this database (e.g. PostgreSQL; it is migrated) instead of a new SQLite file",
    )
    options = parser.parse_args(argv)
    commands = options.commands or list(DEFAULT_COMMANDS)
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="trends-startup-") as tmp:
        cwd = Path(tmp)
        env = {key: value for key, value in os.environ.items() if not key.startswith("TRENDS_")}
        env["TRENDS_DATABASE_URL"] = options.database_url or f"sqlite:///{cwd / 'trends.db'}"
        env["PYTHONPATH"] = str(repo)
        if not options.source:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        _trends(["db", "upgrade"], cwd, env)
        _trends(["topics", "list"], cwd, env)  # the first one seeds the default topics: not timed
        cache = "compiled every run" if env.get("PYTHONDONTWRITEBYTECODE") else "cached bytecode"
        print(
            f"CPU seconds per run (user + sys), {options.runs} runs, {cache}, budget {BUDGET_SECONDS:.2f} s"
        )
        print(f"{'command':<16} {'min':>6} {'median':>7}  runs")
        for command in commands:
            args = command.split()
            times = [_trends(args, cwd, env) for _ in range(options.runs)]
            verdict = "ok" if min(times) <= BUDGET_SECONDS else "OVER"
            runs = " ".join(f"{t:.2f}" for t in times)
            print(
                f"{command:<16} {min(times):6.3f} {statistics.median(times):7.3f}  {runs}  {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()
