"""Time travel through a month boundary with an injected clock: every cron fire time of the real
triggers from 28 October to 3 November runs the job entry points APScheduler would call. Daily
harvests happen against the fake arXiv server, and the October digest is built once and posted once
to each subscribed channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.db.models import Digest, HarvestRun, Paper
from bot.scheduler import context as app_context
from bot.scheduler import jobs
from bot.scheduler.cron import parse_cron
from tests.fakes.arxiv_server import FakeArxivServer, make_records
from tests.fakes.posters import FakePlatform
from tests.test_scheduler import Clock, assert_one_thread_per_channel, make_context, subscribe

START = dt.datetime(2026, 10, 28, 0, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 3, 23, 59, tzinfo=dt.UTC)


@pytest.fixture
def arxiv() -> Iterator[FakeArxivServer]:
    first = dt.datetime(2026, 10, 20, 2, tzinfo=dt.UTC)
    records = make_records(30, first=first, spacing=dt.timedelta(hours=12), id_prefix="2610")
    with FakeArxivServer(records) as server:
        yield server


def fire_times(expression: str, timezone: str) -> list[tuple[dt.datetime, str]]:
    trigger = parse_cron(expression, timezone)
    times = []
    fire = trigger.get_next_fire_time(None, START)
    while fire is not None and fire <= END:
        times.append(fire.astimezone(dt.UTC))
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return times


async def test_a_month_boundary_harvests_daily_and_posts_the_digest_once(
    db_url: str, arxiv: FakeArxivServer
) -> None:
    clock = Clock(START)
    platform = FakePlatform()
    context = make_context(db_url, arxiv, clock, platform, timezone="Europe/Paris")
    settings = context.container.settings
    subscribe(context.container, "C1", "C2")
    schedule = sorted(
        [(t, jobs.HARVEST_JOB) for t in fire_times(settings.harvest_cron, "UTC")]
        + [(t, jobs.DIGEST_JOB) for t in fire_times(settings.digest_cron, settings.timezone)]
    )
    # Default crons: 06:00 UTC daily, and 08:00 Paris (07:00 UTC) on the 1st.
    assert [job for _, job in schedule].count(jobs.DIGEST_JOB) == 1
    assert (dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC), jobs.DIGEST_JOB) in schedule
    entry_points = {jobs.HARVEST_JOB: jobs.daily_harvest, jobs.DIGEST_JOB: jobs.monthly_digest}
    app_context.install(context)
    try:
        for when, job in schedule:
            clock.now = when
            await entry_points[job]()
            if job == jobs.DIGEST_JOB:
                await entry_points[job]()  # a duplicate tick (misfire, restart) changes nothing
        with context.container.uow() as uow:
            runs = uow.session.scalars(select(HarvestRun).order_by(HarvestRun.id)).all()
            windows = [(r.window_start, r.window_end) for r in runs]
            assert all(r.status == "done" for r in runs)
            digests = uow.session.scalars(select(Digest)).all()
            assert [(d.month, d.status) for d in digests] == [("2026-10", "published")]
            picks = [e for e in digests[0].entries if e.section == "pick"]
            months = {p.submitted_at.strftime("%Y-%m") for p in uow.session.scalars(select(Paper))}
    finally:
        app_context.uninstall(context)
        context.container.close()
    # One harvest a day, each ending yesterday, with no day left out.
    assert len(windows) == 7
    assert [end for _, end in windows] == [dt.date(2026, 10, 27) + dt.timedelta(days=i) for i in range(7)]
    assert all(
        start <= previous_end + dt.timedelta(days=1)
        for (start, _), (_, previous_end) in zip(windows[1:], windows, strict=False)
    )
    assert months == {"2026-10", "2026-11"}
    assert picks
    assert_one_thread_per_channel(platform, ["C1", "C2"], len(picks))
    assert platform.calls == 2 * (len(picks) + 1)
