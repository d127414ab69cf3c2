"""Scheduled jobs at the job level: harvest catch-up, the monthly digest published exactly once,
approval, catch-up after downtime, cron parsing and settings (real databases, fake arXiv server)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from bot.audience_models import MIN_LIKED
from bot.audiences import default_audience_id
from bot.bootstrap import Container, build
from bot.chat.commands import Publish
from bot.chat.service import ChatService
from bot.db.models import AudienceModel, DeliveredMessage, Delivery, Digest, HarvestRun, Paper, Vote
from bot.delivery import DeliveryEngine, Pacer
from bot.digest.views import DigestView
from bot.errors import ConfigError
from bot.invocation import Invocation
from bot.leases import LeaseStore
from bot.months import Month
from bot.scheduler import context as app_context
from bot.scheduler import jobs
from bot.scheduler.approval import ApprovalTarget
from bot.scheduler.context import AppContext, ShutdownRequested
from bot.scheduler.cron import parse_cron, previous_fire_time
from bot.scheduler.runtime import due_catch_ups
from bot.settings import load_settings
from bot.subscriptions import SubscriptionService
from tests.factories import make_paper
from tests.fakes.arxiv_server import FakeArxivServer, make_records
from tests.fakes.posters import Crash, FakePlatform

OCTOBER = dt.datetime(2026, 10, 1, 3, tzinfo=dt.UTC)
NOV_1 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)


async def _no_sleep(_: float) -> None:
    return None


def quiet_settings(db_url: str, arxiv_url: str, **overrides: object) -> dict[str, object]:
    """Settings for a test bot: the fake arXiv, no delay, no signal sources (they need the internet)."""
    return {
        "database_url": db_url,
        "arxiv_api_url": arxiv_url,
        "arxiv_delay_seconds": 0,
        "arxiv_num_retries": 0,
        "categories": ["cs.LG"],
        "signals_semantic_scholar_enabled": False,
        "signals_huggingface_enabled": False,
        "signals_github_enabled": False,
        **overrides,
    }


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class FakeNotifier:
    platform: str = "slack"
    sent: list[tuple[ApprovalTarget, DigestView]] = field(default_factory=list)

    async def request_approval(self, target: ApprovalTarget, digest: DigestView) -> None:
        self.sent.append((target, digest))


@pytest.fixture
def arxiv() -> Iterator[FakeArxivServer]:
    # 40 October papers a day apart-ish, and a few in early November.
    records = make_records(40, first=OCTOBER, spacing=dt.timedelta(hours=18), id_prefix="2610")
    with FakeArxivServer(records) as server:
        yield server


def make_context(
    db_url: str, server: FakeArxivServer, clock: Clock, platform: FakePlatform | None, **overrides: object
) -> AppContext:
    container = build(load_settings(**quiet_settings(db_url, server.url, **overrides)))
    return AppContext(
        container,
        posters={"slack": platform} if platform is not None else {},
        clock=clock,
        delivery_engine=DeliveryEngine(container.session_factory, pacer=Pacer(interval=0, sleep=_no_sleep)),
    )


def subscribe(container: Container, *channels: str) -> None:
    service = SubscriptionService(container.session_factory)
    for channel in channels:
        service.subscribe(Invocation("slack", "T1", channel, "U1"))


def count(container: Container, model: type[object]) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def assert_one_thread_per_channel(platform: FakePlatform, channels: list[str], picks: int) -> None:
    for channel in channels:
        messages = platform.channels[channel]
        markers = [m["marker"] for m in messages]
        assert len(markers) == len(set(markers)) == picks + 1, markers
        assert all(m["thread"] == messages[0]["id"] for m in messages[1:])


# ------------------------------------------------------------------------------------------ harvest


def test_days_to_harvest_catches_up_with_overlap_and_a_cap() -> None:
    today = dt.date(2026, 11, 10)
    assert jobs.days_to_harvest(None, today) == (dt.date(2026, 11, 7), dt.date(2026, 11, 9))
    # Up to date: the overlap is fetched again (late announcements).
    assert jobs.days_to_harvest(dt.date(2026, 11, 9), today) == (dt.date(2026, 11, 7), dt.date(2026, 11, 9))
    # A week missed: from the day after the last harvest.
    assert jobs.days_to_harvest(dt.date(2026, 11, 1), today) == (dt.date(2026, 11, 2), dt.date(2026, 11, 9))
    # Months missed: at most MAX_CATCH_UP_DAYS.
    first, last = jobs.days_to_harvest(dt.date(2026, 1, 1), today)
    assert (last - first).days + 1 == jobs.MAX_CATCH_UP_DAYS


async def test_harvest_job_fetches_the_days_since_the_last_harvest(
    db_url: str, arxiv: FakeArxivServer
) -> None:
    clock = Clock(dt.datetime(2026, 10, 10, 6, tzinfo=dt.UTC))
    context = make_context(db_url, arxiv, clock, None)
    try:
        jobs.run_harvest(context)
        clock.now = dt.datetime(2026, 10, 20, 6, tzinfo=dt.UTC)  # nine days of downtime
        jobs.run_harvest(context)
        with context.container.uow() as uow:
            runs = uow.session.scalars(select(HarvestRun).order_by(HarvestRun.id)).all()
            windows = [(r.window_start, r.window_end, r.status, r.trigger) for r in runs]
            stored = uow.session.scalar(select(func.count()).select_from(Paper))
        assert windows == [
            (dt.date(2026, 10, 7), dt.date(2026, 10, 9), "done", "scheduler"),
            (dt.date(2026, 10, 10), dt.date(2026, 10, 19), "done", "scheduler"),
        ]
        # Papers submitted Oct 7..19 inclusive, one every 18 hours from Oct 1 03:00.
        expected = sum(
            1
            for r in arxiv.matching("cat:cs.LG", "submittedDate", "ascending")
            if dt.date(2026, 10, 7) <= r.submitted_at.date() <= dt.date(2026, 10, 19)
        )
        assert stored == expected > 0
    finally:
        context.container.close()


async def test_a_stopping_process_ends_the_harvest_resumably(db_url: str, arxiv: FakeArxivServer) -> None:
    context = make_context(db_url, arxiv, Clock(dt.datetime(2026, 10, 10, 6, tzinfo=dt.UTC)), None)
    try:
        context.stopping.set()
        with pytest.raises(ShutdownRequested):
            jobs.run_harvest(context)
        with context.container.uow() as uow:
            run = uow.session.scalars(select(HarvestRun)).one()
            assert run.status == "failed"
            assert "stopping" in (run.error or "")
            run_id = run.id
        context.stopping.clear()
        result = jobs.run_harvest(context)
        assert result.run_id == run_id  # the same run, resumed
    finally:
        context.container.close()


async def test_daily_harvest_entry_point_uses_the_installed_context(
    sqlite_url: str, arxiv: FakeArxivServer
) -> None:
    context = make_context(sqlite_url, arxiv, Clock(dt.datetime(2026, 10, 10, 6, tzinfo=dt.UTC)), None)
    app_context.install(context)
    try:
        await jobs.daily_harvest()
        assert count(context.container, HarvestRun) == 1
        context.is_leader = lambda: False  # a replica that lost its lease does nothing
        await jobs.daily_harvest()
        assert count(context.container, HarvestRun) == 1
    finally:
        app_context.uninstall(context)
        context.container.close()
    with pytest.raises(RuntimeError, match="trends run"):
        app_context.current()


async def test_daily_job_refits_the_audience_vote_models_after_the_harvest(
    sqlite_url: str, arxiv: FakeArxivServer
) -> None:
    context = make_context(sqlite_url, arxiv, Clock(dt.datetime(2026, 10, 10, 6, tzinfo=dt.UTC)), None)
    app_context.install(context)
    try:
        with context.container.uow() as uow:
            default = default_audience_id(uow.session)
            papers = [make_paper(f"2609.{i:05d}", f"Robot hands {i}") for i in range(6)]
            papers += [make_paper(f"2609.{100 + i:05d}", f"Sparse kernels {i}") for i in range(6)]
            uow.session.add_all(papers)
            uow.session.flush()
            uow.session.add_all(
                Vote(
                    audience_id=default,
                    platform="slack",
                    workspace_id="T1",
                    user_id="U1",
                    paper_id=p.id,
                    value=1,
                )
                for p in papers[:MIN_LIKED]
            )
            uow.commit()
        await jobs.daily_harvest()
        assert count(context.container, HarvestRun) == 1
        with context.container.uow() as uow:
            model = uow.session.get(AudienceModel, default)
            assert model is not None
            assert model.liked_votes == MIN_LIKED
            assert model.words["robot"] > 0
    finally:
        app_context.uninstall(context)
        context.container.close()


# ------------------------------------------------------------------------------------------- digest


async def _harvested_october(context: AppContext, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC)
    with context.container.uow() as uow:  # as if daily harvests had run all month
        uow.session.add(
            HarvestRun(
                window_start=dt.date(2026, 10, 1),
                window_end=dt.date(2026, 10, 1),
                categories=["cs.LG"],
                status="done",
                trigger="scheduler",
            )
        )
        uow.commit()
    jobs.run_harvest(context)
    clock.now = NOV_1


async def test_monthly_job_run_twice_posts_one_thread_per_channel(
    db_url: str, arxiv: FakeArxivServer
) -> None:
    clock = Clock(NOV_1)
    platform = FakePlatform()
    context = make_context(db_url, arxiv, clock, platform)
    try:
        await _harvested_october(context, clock)
        subscribe(context.container, "C1", "C2")
        first = await jobs.run_digest(context)
        second = await jobs.run_digest(context)  # a misfire, a duplicate tick, a new leader…
        assert (first.month, first.action) == ("2026-10", "published")
        assert second.action == "resumed"
        assert [o.status for o in second.report.outcomes] == ["skipped", "skipped"]  # type: ignore[union-attr]
        with context.container.uow() as uow:
            digest = uow.session.scalars(select(Digest)).one()
            picks = sum(e.section == "pick" for e in digest.entries)
            assert digest.status == "published"
        assert picks > 0
        assert_one_thread_per_channel(platform, ["C1", "C2"], picks)
        assert platform.calls == 2 * (picks + 1)
    finally:
        context.container.close()


async def test_restart_mid_thread_resumes_without_duplicates(db_url: str, arxiv: FakeArxivServer) -> None:
    clock = Clock(NOV_1)
    platform = FakePlatform(crash_after_call=2)  # the process dies right after the 3rd post
    context = make_context(db_url, arxiv, clock, platform)
    try:
        await _harvested_october(context, clock)
        subscribe(context.container, "C1")
        with pytest.raises(Crash):
            await jobs.run_digest(context)
        platform.crash_after_call = None
        # After the restart the leader's catch-up sees the unfinished delivery and runs the job again.
        with context.container.uow() as uow:
            assert jobs.DIGEST_JOB in due_catch_ups(uow.session, context.container.settings, NOV_1)
        outcome = await jobs.run_digest(context)
        assert outcome.action == "resumed"
        assert outcome.report is not None
        assert outcome.report.outcomes[0].adopted == 1
        with context.container.uow() as uow:
            picks = sum(e.section == "pick" for e in uow.session.scalars(select(Digest)).one().entries)
            assert uow.session.scalar(select(Delivery.status)) == "done"
            assert uow.session.scalar(select(func.count()).select_from(DeliveredMessage)) == picks + 1
        assert_one_thread_per_channel(platform, ["C1"], picks)
        with context.container.uow() as uow:
            assert due_catch_ups(uow.session, context.container.settings, NOV_1) == []
    finally:
        context.container.close()


async def test_a_thread_left_leased_by_a_killed_run_is_finished_once_the_lease_lapses(
    db_url: str, arxiv: FakeArxivServer
) -> None:
    # A SIGKILL, unlike the `Crash` above, runs no `finally`: the dead run's delivery lease stays
    # until it expires. The restart's catch-up used to find the channel "busy", report it as being
    # posted elsewhere and leave the thread unfinished until the next restart or month.
    clock = Clock(NOV_1)
    platform = FakePlatform(crash_after_call=2)
    context = make_context(db_url, arxiv, clock, platform)
    context.delivery_engine = DeliveryEngine(
        context.container.session_factory, pacer=Pacer(interval=0, sleep=_no_sleep), lease_seconds=1.0
    )
    try:
        await _harvested_october(context, clock)
        subscribe(context.container, "C1")
        with pytest.raises(Crash):
            await jobs.run_digest(context)
        platform.crash_after_call = None
        with context.container.uow() as uow:
            subscription_id = uow.session.scalar(select(Delivery.subscription_id))
        leases = LeaseStore(context.container.session_factory)
        assert leases.try_acquire(f"delivery:2026-10:{subscription_id}", "killed-host:1:dead/1", 1.0)
        outcome = await jobs.run_digest(context)
        assert outcome.report is not None
        assert [o.status for o in outcome.report.outcomes] == ["done"]
        with context.container.uow() as uow:
            picks = sum(e.section == "pick" for e in uow.session.scalars(select(Digest)).one().entries)
            assert uow.session.scalar(select(Delivery.status)) == "done"
        assert_one_thread_per_channel(platform, ["C1"], picks)
    finally:
        context.container.close()


async def test_without_a_chat_platform_the_digest_is_built_not_published(
    sqlite_url: str, arxiv: FakeArxivServer
) -> None:
    clock = Clock(NOV_1)
    context = make_context(sqlite_url, arxiv, clock, None)
    try:
        await _harvested_october(context, clock)
        outcome = await jobs.run_digest(context)
        assert outcome.action == "built"
        with context.container.uow() as uow:
            assert uow.session.scalar(select(Digest.status)) == "draft"
    finally:
        context.container.close()


async def test_approval_sends_one_preview_then_an_admin_publishes(
    db_url: str, arxiv: FakeArxivServer
) -> None:
    clock = Clock(NOV_1)
    platform = FakePlatform()
    context = make_context(
        db_url,
        arxiv,
        clock,
        platform,
        approval=True,
        approval_channel="slack:T1:CADMIN",
        admin_user_ids=["UA"],
    )
    notifier = FakeNotifier()
    context.notifiers = {"slack": notifier}
    try:
        await _harvested_october(context, clock)
        subscribe(context.container, "C1")
        assert (await jobs.run_digest(context)).action == "approval-requested"
        assert (await jobs.run_digest(context)).action == "awaiting-approval"
        assert len(notifier.sent) == 1
        target, preview = notifier.sent[0]
        assert (target.platform, target.workspace_id, target.channel_id) == ("slack", "T1", "CADMIN")
        assert preview.month == "2026-10"
        assert preview.picks
        assert platform.calls == 0  # nothing posted before approval
        # The Approve button runs the ordinary publish command as the clicking user.
        chat = ChatService(context.container, posters={"slack": platform})
        chat.publisher = chat.publisher.__class__(chat.digests, context.engine())
        refused = await chat.handle(Invocation("slack", "T1", "CADMIN", "U2"), Publish("2026-10"))
        assert refused.kind == "error"
        assert platform.calls == 0
        await chat.handle(Invocation("slack", "T1", "CADMIN", "UA"), Publish("2026-10"))
        picks = len(preview.picks)
        assert_one_thread_per_channel(platform, ["C1"], picks)
        # The next scheduled run after approval posts nothing more.
        assert (await jobs.run_digest(context)).action == "resumed"
        assert platform.calls == picks + 1
    finally:
        context.container.close()


async def test_approval_without_the_platform_running_waits_for_a_manual_publish(
    sqlite_url: str, arxiv: FakeArxivServer
) -> None:
    clock = Clock(NOV_1)
    context = make_context(
        sqlite_url, arxiv, clock, FakePlatform(), approval=True, approval_channel="discord:1:2"
    )
    try:
        await _harvested_october(context, clock)
        assert (await jobs.run_digest(context)).action == "awaiting-approval"
    finally:
        context.container.close()


async def test_catch_up_after_downtime(sqlite_url: str, arxiv: FakeArxivServer) -> None:
    clock = Clock(NOV_1)
    context = make_context(sqlite_url, arxiv, clock, FakePlatform())
    settings = context.container.settings
    try:
        with context.container.uow() as uow:
            # Nothing ever ran: both jobs are due.
            assert due_catch_ups(uow.session, settings, NOV_1) == [jobs.HARVEST_JOB, jobs.DIGEST_JOB]
        await _harvested_october(context, clock)
        await jobs.run_digest(context)
        with context.container.uow() as uow:
            # The harvester stamps runs with the wall clock: put them at the simulated time.
            for run in uow.session.scalars(select(HarvestRun)):
                run.finished_at = NOV_1 - dt.timedelta(hours=1)
            uow.commit()
        with context.container.uow() as uow:
            # Harvested after today's 06:00 run time, digest published: nothing to catch up.
            assert due_catch_ups(uow.session, settings, NOV_1) == []
            # The next day, before 06:00: still nothing; after 06:00: the harvest is due.
            assert due_catch_ups(uow.session, settings, NOV_1 + dt.timedelta(hours=20)) == []
            later = NOV_1 + dt.timedelta(days=1)
            assert due_catch_ups(uow.session, settings, later) == [jobs.HARVEST_JOB]
    finally:
        context.container.close()


# ------------------------------------------------------------------------------------ cron, settings


@pytest.mark.parametrize(
    ("expression", "weekday"),
    [("0 6 * * 1", "Monday"), ("0 6 * * 0", "Sunday"), ("0 6 * * 7", "Sunday"), ("0 6 * * 5", "Friday")],
)
def test_cron_weekdays_follow_cron_not_apscheduler(expression: str, weekday: str) -> None:
    fire = parse_cron(expression).get_next_fire_time(None, dt.datetime(2026, 11, 10, tzinfo=dt.UTC))
    assert fire.strftime("%A") == weekday


def test_six_field_cron_has_seconds_and_previous_fire_time() -> None:
    trigger = parse_cron("*/5 * * * * *")
    now = dt.datetime(2026, 11, 10, 12, 0, 7, tzinfo=dt.UTC)
    assert trigger.get_next_fire_time(None, now) == now.replace(second=10)
    assert previous_fire_time(trigger, now) == now.replace(second=5)
    monthly = parse_cron("0 8 1 * *", "Europe/Paris")
    assert previous_fire_time(monthly, now) == dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)


CRON_SAMPLES = (
    "0 6 * * *", "0 8 1 * *", "*/5 * * * * *", "0 6 * * 1-5", "0 6 * * mon-fri", "0 6 * * MON,wed",
    "0 6 * * */2", "0 6 * * 0,7", "15,45 */2 1-15/3 jan-jun *", "0 0 last * *", "0 0 31 12 *",
    "59 23 * * sun", "0 6 1/10 * *", "0 6 * 2/5 *", "0 6 * * 9", "61 * * * *", "0 24 * * *",
    "0 6 0 * *", "0 6 32 * *", "0 6 * 13 *", "0 6 * * funday", "0 6 * foo *", "0 6 5-1 * *",
    "*/0 * * * *", "*/60 * * * *", "0-10/11 * * * *", "0 6 * jun-jan *", "x * * * *", "0 6 * * 1-",
    "every day", "0 6 * * * * *", "0 6 first * *", "1,,2 * * * *",
)  # fmt: skip


@pytest.mark.parametrize("expression", CRON_SAMPLES)
def test_the_settings_cron_check_never_accepts_what_apscheduler_refuses(expression: str) -> None:
    # The settings check cron without APScheduler (cheap start-up); the scheduler builds the trigger
    # from the same fields, so what the settings accept must build.
    from apscheduler.triggers.cron import CronTrigger

    from bot.setting_values import cron_fields

    try:
        fields = cron_fields(expression)
    except ValueError:
        return
    CronTrigger(timezone=dt.UTC, **fields)  # raises if the check was looser than APScheduler


def test_the_settings_cron_check_accepts_the_usual_forms() -> None:
    from bot.setting_values import cron_fields

    accepted = []
    for expression in CRON_SAMPLES:
        try:
            cron_fields(expression)
            accepted.append(expression)
        except ValueError:
            pass
    assert accepted == list(CRON_SAMPLES[:14])


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"harvest_cron": "every day"}, "TRENDS_HARVEST_CRON"),
        ({"digest_cron": "61 * * * *"}, "TRENDS_DIGEST_CRON"),
        ({"harvest_cron": "0 6 * * 9"}, "0-7"),
        ({"harvest_cron": "'; DROP TABLE papers; --" + "x" * 5000}, "TRENDS_HARVEST_CRON"),
        ({"approval": True}, "TRENDS_APPROVAL_CHANNEL"),
        ({"approval_channel": "teams:1:2"}, "slack:<team id>"),
        ({"approval_channel": "slack:T1:C1 OR 1=1"}, "platform ids"),
        ({"log_format": "xml"}, "TRENDS_LOG_FORMAT"),
        ({"leader_lease_seconds": 0}, "TRENDS_LEADER_LEASE_SECONDS"),
    ],
)
def test_bad_scheduler_settings_are_refused_clearly(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    assert fragment in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_scheduler_settings_defaults() -> None:
    settings = load_settings()
    assert (settings.harvest_cron, settings.digest_cron) == ("0 6 * * *", "0 8 1 * *")
    assert settings.approval is False
    assert settings.approval_channel is None
    assert settings.leader_lease_seconds == 30
    assert settings.log_format == "text"
    assert jobs.digest_month(NOV_1, "UTC") == Month(2026, 10)
    # 1 Nov 00:30 in Tokyo is still 31 Oct in UTC: the digest is about the month that ended there.
    assert jobs.digest_month(dt.datetime(2026, 10, 31, 15, 30, tzinfo=dt.UTC), "Asia/Tokyo") == Month(
        2026, 10
    )


@dataclass
class FlakyNotifier(FakeNotifier):
    """Fails the first request, like a chat platform that is down at 08:00 on the 1st."""

    failures_left: int = 1

    async def request_approval(self, target: ApprovalTarget, digest: DigestView) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("chat platform unreachable")
        await super().request_approval(target, digest)


async def test_an_approval_request_that_failed_is_sent_on_the_next_run(
    db_url: str, arxiv: FakeArxivServer
) -> None:
    clock = Clock(NOV_1)
    context = make_context(
        db_url, arxiv, clock, FakePlatform(), approval=True, approval_channel="slack:T1:CADMIN"
    )
    notifier = FlakyNotifier()
    context.notifiers = {"slack": notifier}
    try:
        await _harvested_october(context, clock)
        with pytest.raises(ConnectionError):
            await jobs.run_digest(context)
        assert notifier.sent == []
        assert (await jobs.run_digest(context)).action == "approval-requested"
        assert len(notifier.sent) == 1
        assert (await jobs.run_digest(context)).action == "awaiting-approval"
        assert len(notifier.sent) == 1
    finally:
        context.container.close()
