"""Cron expressions from the settings as APScheduler triggers.

Five fields are standard cron (minute hour day month weekday); six put seconds first, which tests and
demos use to run jobs every few seconds. Weekdays follow cron (0 or 7 = Sunday, 1 = Monday). APScheduler
3.x numbers them from Monday = 0, even in `CronTrigger.from_crontab`, so "0 6 * * 1" would run on
Tuesdays: numeric weekdays are translated to names here before APScheduler sees them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

FIELDS_5 = ("minute", "hour", "day", "month", "day_of_week")
FIELDS_6 = ("second", *FIELDS_5)
# How far back `previous_fire_time` looks, shortest first (a monthly cron needs a month).
_LOOKBACKS = (
    dt.timedelta(minutes=2),
    dt.timedelta(hours=2),
    dt.timedelta(days=2),
    dt.timedelta(days=32),
    dt.timedelta(days=367),
)


_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


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


def parse_cron(expression: str, timezone: str = "UTC") -> CronTrigger:
    """A trigger for `expression`; `ValueError` with a readable message if it is not valid cron."""
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
        fields["day_of_week"] = _weekday_names(fields["day_of_week"])
        if "second" not in fields:
            fields["second"] = "0"
        return CronTrigger(timezone=ZoneInfo(timezone), **fields)
    except ValueError as exc:
        raise ValueError(f"not a valid cron expression ({exc}), e.g. {example}") from None


def previous_fire_time(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest time at or before `now` the trigger fired (None if not within a year)."""
    for lookback in _LOOKBACKS:
        fire = trigger.get_next_fire_time(None, now - lookback)
        if fire is None or fire > now:
            continue
        while True:
            following = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
            if following is None or following > now:
                return fire  # type: ignore[no-any-return]
            fire = following
    return None
