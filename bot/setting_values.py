"""Settings written as text, parsed and checked without the libraries that later use them.

Every command validates the settings, so what they check must be cheap: a cron expression is checked
here field by field (APScheduler's syntax and ranges, numeric weekdays translated from cron's Sunday = 0
to names) without importing APScheduler; `bot.scheduler.cron` builds the trigger from the same fields.
The check may be stricter than APScheduler on odd forms, never looser (tests/test_scheduler.py compares
the two). `ApprovalTarget` is TRENDS_APPROVAL_CHANNEL parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FIELDS_5 = ("minute", "hour", "day", "month", "day_of_week")
FIELDS_6 = ("second", *FIELDS_5)
_BOUNDS = {
    "second": (0, 59),
    "minute": (0, 59),
    "hour": (0, 23),
    "day": (1, 31),
    "month": (1, 12),
    "day_of_week": (0, 6),
}
_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NUMERIC = re.compile(r"(?:\*|(?P<first>\d+)(?:-(?P<last>\d+))?)(?:/(?P<step>\d+))?")
_NAMED = re.compile(r"(?P<first>[a-z]+)(?:-(?P<last>[a-z]+))?")
_POSITION = re.compile(r"(?:1st|2nd|3rd|4th|5th|last) +(?:mon|tue|wed|thu|fri|sat|sun)")


def _weekday_names(field: str) -> str:
    """Cron's numeric weekdays (0-7, ranges, lists, steps) as APScheduler's unambiguous names."""
    if field == "*":
        return field
    names: list[str] = []
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        if not span.replace("-", "").isdigit() and span != "*":
            names.append(part)  # names ("mon-fri") mean the same to both
            continue
        step = int(step_text) if step_text.isdigit() else 1
        if step_text and not step_text.isdigit():
            raise ValueError(f"bad step in weekday field {field!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first_text, _, last_text = span.partition("-")
            first, last = int(first_text), int(last_text)
        else:
            first = last = int(span)
            if step_text:
                last = 6
        if not (0 <= first <= 7 and 0 <= last <= 7) or first > last or step < 1:
            raise ValueError(f"weekday field {field!r} must use 0-7 (0 and 7 are Sunday)")
        names.extend(_CRON_WEEKDAYS[day] for day in range(first, last + 1, step))
    return ",".join(dict.fromkeys(names))


def _check_part(name: str, part: str) -> None:
    """Raise ValueError unless APScheduler accepts `part` (one comma-separated item) in field `name`."""
    low, high = _BOUNDS[name]
    numeric = _NUMERIC.fullmatch(part)
    if numeric:
        step = int(numeric["step"]) if numeric["step"] else None
        if numeric["first"] is None:
            first, last = low, high
        else:
            first = int(numeric["first"])
            last = int(numeric["last"]) if numeric["last"] else (first if step is None else high)
        if step == 0:
            raise ValueError("a step must be higher than 0")
        if first > last:
            raise ValueError(f"{part!r}: the first value is higher than the last")
        if first < low or last > high:
            raise ValueError(f"{name.replace('_', ' ')} {part!r} is outside {low}-{high}")
        if step is not None and step > last - first:
            raise ValueError(f"{part!r}: the step is larger than the range")
        return
    names = {"month": _MONTHS, "day_of_week": _WEEKDAYS}.get(name)
    named = _NAMED.fullmatch(part)
    if names is not None and named:
        first_index = names.index(named["first"]) if named["first"] in names else None
        last_index = names.index(named["last"]) if named["last"] in names else None
        if first_index is None or (named["last"] and last_index is None):
            raise ValueError(f"unknown name in {name.replace('_', ' ')} {part!r}")
        if last_index is not None and first_index > last_index:
            raise ValueError(f"{part!r}: the first value is higher than the last")
        return
    if name == "day" and (part == "last" or _POSITION.fullmatch(part)):
        return
    raise ValueError(f"{name.replace('_', ' ')} {part!r} is not cron syntax")


def cron_fields(expression: str) -> dict[str, str]:
    """The fields of a 5- or 6-field cron expression, checked, as APScheduler's CronTrigger takes them.

    `ValueError` with a readable message if it is not valid cron.
    """
    parts = expression.split()
    if len(parts) == 5:
        fields = dict(zip(FIELDS_5, parts, strict=True))
        example = "'0 6 * * *'"
    elif len(parts) == 6:
        fields = dict(zip(FIELDS_6, parts, strict=True))
        example = "'*/5 * * * * *'"
    else:
        raise ValueError(
            f"a cron expression has 5 fields (minute hour day month weekday) or 6 (seconds first); "
            f"got {len(parts)} in {expression[:60]!r}"
        )
    try:
        fields["day_of_week"] = _weekday_names(fields["day_of_week"].lower())
        fields.setdefault("second", "0")
        for name, value in fields.items():
            for part in value.lower().split(","):
                _check_part(name, part.strip())
    except ValueError as exc:
        raise ValueError(f"not a valid cron expression ({exc}), e.g. {example}") from None
    return fields


_PLATFORMS = ("slack", "discord")
_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclass(frozen=True, slots=True)
class ApprovalTarget:
    """Where the approval preview goes: TRENDS_APPROVAL_CHANNEL, "platform:workspace:channel"."""

    platform: str
    workspace_id: str
    channel_id: str

    @classmethod
    def parse(cls, text: str) -> ApprovalTarget:
        """Parse "platform:workspace:channel"; `ValueError` with a readable message otherwise."""
        parts = [part.strip() for part in text.strip().split(":")]
        if len(parts) != 3 or parts[0].casefold() not in _PLATFORMS:
            raise ValueError(
                'must look like "slack:<team id>:<channel id>" or "discord:<guild id>:<channel id>"'
            )
        if not all(_ID.fullmatch(part) for part in parts[1:]):
            raise ValueError("workspace and channel must be platform ids (letters, digits, '-', '_', '.')")
        return cls(parts[0].casefold(), parts[1], parts[2])

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace_id}:{self.channel_id}"
