"""The dependency directions the design fixes (drawn in docs/architecture.md).

- adapters import the core, never the other way round; the core imports no interface library (the
  command line's typer/rich included: it lives in adapters/cli);
- Slack and Discord adapters never import each other;
- inside the core, no module imports a module of a layer above its own (`CORE_LAYERS`). Every import
  counts, including those inside functions and under TYPE_CHECKING: a lazy import is still a
  dependency. A new module of `bot/` must be given a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = ("adapters", "slack_bolt", "slack_sdk", "discord", "typer", "rich", "click")

# Lowest first. A module belongs to the layer of the longest prefix listed (`bot.db` covers
# `bot.db.models`). Imports within a layer are free; downward only across layers.
CORE_LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "values",  # parsed values and settings: no database, no service
        (
            "bot.errors",
            "bot.months",
            "bot.arxiv_ids",
            "bot.arxiv_categories",
            "bot.lazy",
            "bot.setting_values",
            "bot.settings",
            "bot.invocation",
            "bot.paper_records",
            "bot.paper_links",
            "bot.token_cipher",
        ),
    ),
    ("storage", ("bot.db", "bot.leases", "bot.lease_info", "bot.textquery")),
    (
        "domain",  # one concern each, on top of storage; bootstrap wires storage and the arXiv client
        (
            "bot.bootstrap",
            "bot.harvest",
            "bot.ranking",
            "bot.signals",
            "bot.audiences",
            "bot.audience_lookup",
            "bot.audience_models",
            "bot.subscriptions",
            "bot.feedback",
        ),
    ),
    ("editorial", ("bot.digest", "bot.archive")),
    (
        "use cases",  # what a chat command, the scheduler or an operator asks for
        ("bot.chat", "bot.publish", "bot.delivery", "bot.scheduler", "bot.site", "bot.health"),
    ),
)


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module `path` imports, relative imports resolved, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names.add(base)
            if node.module is None:  # `from . import x`: x is a module too
                names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in forbidden or any(name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, (_, prefixes) in enumerate(CORE_LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), index)
    return None if best is None else best[1]


def _upward_imports(root: Path) -> tuple[list[str], list[str]]:
    """(imports that run up the layers, core modules with no layer) for the modules under `root`."""
    upward, unplaced = [], []
    for path in sorted((root / "bot").rglob("*.py")):
        module = _module_name(path, root)
        own = _layer(module)
        if own is None:
            if module != "bot":
                unplaced.append(module)
            continue
        for name in sorted(_imports(path, root)):
            target = _layer(name) if name.startswith("bot.") else None
            if target is not None and target > own:
                upward.append(f"{module} ({CORE_LAYERS[own][0]}) imports {name} ({CORE_LAYERS[target][0]})")
    return upward, unplaced


def test_core_never_imports_adapters_or_interface_libraries() -> None:
    assert _offenders("bot", FORBIDDEN_IN_CORE) == []


def test_slack_and_discord_adapters_never_import_each_other() -> None:
    assert _offenders("adapters/slack", ("discord", "adapters.discord")) == []
    assert _offenders("adapters/discord", ("slack_bolt", "slack_sdk", "adapters.slack")) == []


def test_the_checker_sees_imports() -> None:
    # Guard against a checker that can never fail: it must find the core import in the adapters,
    # and the command line's libraries there.
    assert any("imports bot." in line for line in _offenders("adapters", ("bot",)))
    assert any("imports typer" in line for line in _offenders("adapters/cli", ("typer",)))


def test_every_core_module_has_a_layer() -> None:
    assert _upward_imports(ROOT)[1] == []


def test_no_core_module_imports_a_layer_above_its_own() -> None:
    assert _upward_imports(ROOT)[0] == []


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    # The same check over a tiny core: settings reaching up into the scheduler, lazily, by a relative
    # import and under TYPE_CHECKING, must all be found; a downward import must not.
    core = tmp_path / "bot"
    (core / "scheduler").mkdir(parents=True)
    (core / "__init__.py").write_text("")
    (core / "scheduler" / "__init__.py").write_text("from bot.settings import Settings\n")
    (core / "scheduler" / "jobs.py").write_text("from . import cron\n")
    (core / "settings.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.digest.views import DigestView\n"
        "def check():\n    from bot.scheduler.cron import parse_cron\n"
    )
    (core / "newthing.py").write_text("")
    upward, unplaced = _upward_imports(tmp_path)
    assert upward == [
        "bot.settings (values) imports bot.digest.views (editorial)",
        "bot.settings (values) imports bot.scheduler.cron (use cases)",
    ]
    assert unplaced == ["bot.newthing"]
