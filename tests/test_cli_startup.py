"""Loading the `trends` CLI stays cheap: no heavy library is imported until a command needs it.

`trends --help` (and every command) imports `adapters.cli`, which registers all commands; the command
modules import their services inside the command bodies. Each check runs in a fresh interpreter, so
what other tests imported does not count.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sklearn", "scipy", "matplotlib", "slack_bolt", "discord", "apscheduler")


def _heavy_after(statement: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has loaded after running `statement`."""
    code = f"import json, sys; {statement}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_loading_the_cli_imports_no_heavy_library() -> None:
    assert _heavy_after("import adapters.cli") == []
    # The check sees a heavy import: the machinery behind `trends run` does load the scheduler.
    assert "apscheduler" in _heavy_after("import adapters.run")


def test_the_topics_and_types_of_the_ranking_load_without_its_numerics() -> None:
    # The first `trends topics list` seeds DEFAULT_TOPICS; the scoring code loads on first use.
    assert _heavy_after("from bot.ranking import DEFAULT_TOPICS, TopicSpec") == []
    assert "scipy" in _heavy_after("from bot.ranking import rank_month")
