"""The dependency direction the design fixes: adapters import the core, never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = ("adapters", "slack_bolt", "slack_sdk", "discord")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in forbidden or any(name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_core_never_imports_adapters_or_chat_sdks() -> None:
    assert _offenders("bot", FORBIDDEN_IN_CORE) == []


def test_slack_and_discord_adapters_never_import_each_other() -> None:
    assert _offenders("adapters/slack", ("discord", "adapters.discord")) == []
    assert _offenders("adapters/discord", ("slack_bolt", "slack_sdk", "adapters.slack")) == []


def test_the_checker_sees_imports() -> None:
    # Guard against a checker that can never fail: it must find the core import in the adapters.
    assert any("imports bot." in line for line in _offenders("adapters", ("bot",)))
