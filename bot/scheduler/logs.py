"""Structured logs for `trends run`: one line per event, as JSON lines or as readable text.

Code logs an event name and its facts as `extra` fields (`log.info("harvest done", extra={...})`).
With `log_format = "json"` each record becomes `{"ts", "level", "logger", "event", ...extras}` (plus
`exc` with the traceback); with "text" it is `ts LEVEL logger: event key=value …`. Every line goes
through a redactor that replaces the values of the configured secrets (chat tokens, API keys) and
anything shaped like a Slack token (installs by OAuth keep theirs in the database), so a token that
slips into a message or a traceback never reaches the log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from bot.settings import SECRET_FIELDS, Settings

REDACTED = "[redacted]"
# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
# Secrets shorter than this are not searched for (they would redact ordinary words).
_MIN_SECRET_LENGTH = 6
# Tokens read from the database (Slack installs by OAuth) are not among the settings' secrets: they are
# recognised by their shape (Slack bot, user, app-level and refresh tokens).
_TOKEN_SHAPES = re.compile(r"\bxox[abepr]-[A-Za-z0-9-]{6,}|\bxapp-[A-Za-z0-9-]{6,}")
# Libraries that log every request at INFO: their per-request lines are noise in a service log.
_QUIET = ("httpx", "urllib3", "aiohttp.access", "apscheduler.executors.default", "discord.gateway")


def extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD}


def _timestamp(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Redacting(logging.Formatter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        found = {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}
        # A secret may also appear JSON-escaped inside a JSON line.
        found |= {json.dumps(s)[1:-1] for s in found}
        self._secrets = sorted(found, key=len, reverse=True)

    def redact(self, line: str) -> str:
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
        return _TOKEN_SHAPES.sub(REDACTED, line)


class JsonFormatter(_Redacting):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(entry, default=str, ensure_ascii=False))


class TextFormatter(_Redacting):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={_text_value(value)}" for key, value in extras(record).items())
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if fields:
            line += " " + fields
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return self.redact(line)


def _text_value(value: Any) -> str:
    text = value.isoformat() if isinstance(value, dt.datetime | dt.date) else str(value)
    return json.dumps(text, ensure_ascii=False) if (not text or " " in text or '"' in text) else text


def secret_values(settings: Settings) -> list[str]:
    values = []
    for name in SECRET_FIELDS:
        secret = getattr(settings, name, None)
        if secret is not None:
            values.append(secret.get_secret_value())
    # A database password is a secret too.
    from sqlalchemy.engine import make_url

    password = make_url(settings.database_url).password
    if password:
        values.append(str(password))
    return values


def configure_logging(settings: Settings, *, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Route every logger to one handler on stderr (or `stream`) in the configured format."""
    secrets = secret_values(settings)
    formatter: logging.Formatter = (
        JsonFormatter(secrets) if settings.log_format == "json" else TextFormatter(secrets)
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
