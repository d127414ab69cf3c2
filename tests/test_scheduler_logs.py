"""Structured logs: one JSON object (or one text line) per event, extras kept, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.scheduler.logs import REDACTED, configure_logging
from bot.settings import load_settings

TOKEN = "xoxb-1234-5678-not-a-real-token-abcdef"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _log_with(log_format: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    stream = io.StringIO()
    configure_logging(
        load_settings(log_format=log_format, database_url="postgresql+psycopg://u:pa55word@h/db"),
        stream=stream,
    )
    log = logging.getLogger("bot.test")
    log.info("harvest done", extra={"fetched": 12, "window_start": "2026-10-01", "note": 'quote " and 🦄'})
    log.warning("token leaked into a message: %s", TOKEN)
    try:
        raise RuntimeError(f"client failed with {TOKEN} and pa55word")
    except RuntimeError:
        log.exception("job failed", extra={"job": "daily-harvest"})
    return stream.getvalue()


def test_json_lines(monkeypatch: pytest.MonkeyPatch, restore_logging: None) -> None:
    output = _log_with("json", monkeypatch)
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events[:2]] == ["harvest done", f"token leaked into a message: {REDACTED}"]
    first = events[0]
    assert first["level"] == "info"
    assert first["logger"] == "bot.test"
    assert first["ts"].endswith("Z")
    assert (first["fetched"], first["window_start"], first["note"]) == (12, "2026-10-01", 'quote " and 🦄')
    failed = events[2]
    assert failed["job"] == "daily-harvest"
    assert "RuntimeError" in failed["exc"]
    assert TOKEN not in output
    assert "pa55word" not in output
    # One line per event, tracebacks included.
    assert len(output.strip().splitlines()) == 3


def test_text_lines(monkeypatch: pytest.MonkeyPatch, restore_logging: None) -> None:
    output = _log_with("text", monkeypatch)
    first = output.splitlines()[0]
    assert "INFO bot.test: harvest done" in first
    assert "fetched=12" in first
    assert "window_start=2026-10-01" in first
    assert TOKEN not in output
    assert REDACTED in output
