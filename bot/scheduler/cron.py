"""Cron expressions from the settings as APScheduler triggers.

Five fields are standard cron (minute hour day month weekday); six put seconds first, which tests and
demos use to run jobs every few seconds. Weekdays follow cron (0 or 7 = Sunday, 1 = Monday). APScheduler
3.x numbers them from Monday = 0, even in `CronTrigger.from_crontab`, so "0 6 * * 1" would run on
Tuesdays: numeric weekdays are translated to names (in `bot.setting_values`, which the settings use to
check the expressions without loading APScheduler) before APScheduler sees them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.setting_values import cron_fields

# How far back `previous_fire_time` looks, shortest first (a monthly cron needs a month).
_LOOKBACKS = (
    dt.timedelta(minutes=2),
    dt.timedelta(hours=2),
    dt.timedelta(days=2),
    dt.timedelta(days=32),
    dt.timedelta(days=367),
)


def parse_cron(expression: str, timezone: str = "UTC") -> CronTrigger:
    """A trigger for `expression`; `ValueError` with a readable message if it is not valid cron."""
    fields = cron_fields(expression)  # checked, weekdays translated (see bot.setting_values)
    try:
        return CronTrigger(timezone=ZoneInfo(timezone), **fields)
    except ValueError as exc:  # pragma: no cover - cron_fields is stricter than APScheduler
        raise ValueError(f"not a valid cron expression ({exc})") from None


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
