"""Exactly-once delivery: a crash at every step of a thread, then a resume, gives one of each message."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DeliveredMessage, Delivery
from bot.db.uow import UnitOfWork
from bot.delivery import DeliveryEngine, DeliveryError, Pacer
from bot.digest.views import DigestView
from bot.invocation import Invocation
from bot.leases import LeaseStore
from bot.subscriptions import SubscriptionService
from tests.factories import published_month
from tests.fakes.posters import Crash, FakePlatform

PICKS = 4  # parent + 4 replies = 5 posts per channel


async def _no_sleep(_: float) -> None:
    return None


def _engine(session_factory: sessionmaker[Session]) -> DeliveryEngine:
    return DeliveryEngine(session_factory, pacer=Pacer(interval=0.0, sleep=_no_sleep))


def _setup(session_factory: sessionmaker[Session], channels: int = 1) -> DigestView:
    view = published_month(session_factory, PICKS)
    subscriptions = SubscriptionService(session_factory)
    for i in range(channels):
        subscriptions.subscribe(Invocation("slack", "T1", f"C{i}", "U1"))
    return view


def _assert_exactly_once(platform: FakePlatform, channel: str) -> None:
    messages = platform.channels[channel]
    markers = [m["marker"] for m in messages]
    assert len(markers) == len(set(markers)) == PICKS + 1, markers
    parent = messages[0]
    assert parent["marker"].endswith("-0")
    assert all(m["thread"] == parent["id"] for m in messages[1:])


async def test_delivers_parent_and_one_reply_per_pick(session_factory: sessionmaker[Session]) -> None:
    view = _setup(session_factory, channels=2)
    platform = FakePlatform()
    report = await _engine(session_factory).deliver(view, {"slack": platform})
    assert report.ok
    assert [o.status for o in report.outcomes] == ["done", "done"]
    assert [o.posted for o in report.outcomes] == [PICKS + 1, PICKS + 1]
    _assert_exactly_once(platform, "C0")
    _assert_exactly_once(platform, "C1")


async def test_publishing_twice_posts_nothing_more(session_factory: sessionmaker[Session]) -> None:
    view = _setup(session_factory)
    platform = FakePlatform()
    engine = _engine(session_factory)
    await engine.deliver(view, {"slack": platform})
    again = await engine.deliver(view, {"slack": platform})
    assert [o.status for o in again.outcomes] == ["skipped"]
    assert platform.calls == PICKS + 1
    _assert_exactly_once(platform, "C0")


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("step", range(PICKS + 1))
async def test_crash_at_every_step_then_resume(
    session_factory: sessionmaker[Session], step: int, when: str
) -> None:
    view = _setup(session_factory)
    platform = FakePlatform()
    if when == "before":
        platform.crash_before_call = step
    else:
        platform.crash_after_call = step
    engine = _engine(session_factory)
    with pytest.raises(Crash):
        await engine.deliver(view, {"slack": platform})
    platform.crash_before_call = platform.crash_after_call = None
    report = await engine.deliver(view, {"slack": platform})
    assert report.ok, report
    _assert_exactly_once(platform, "C0")
    outcome = report.outcomes[0]
    assert outcome.adopted == (1 if when == "after" else 0)
    with UnitOfWork(session_factory) as uow:
        states = uow.session.scalars(select(DeliveredMessage.state)).all()
        assert states == ["posted"] * (PICKS + 1)
        assert uow.session.scalar(select(Delivery.status)) == "done"


async def test_platform_error_marks_delivery_failed_and_resumable(
    session_factory: sessionmaker[Session],
) -> None:
    view = _setup(session_factory)
    platform = FakePlatform(fail_with=DeliveryError("Slack answered 429 too many times"))
    engine = _engine(session_factory)
    report = await engine.deliver(view, {"slack": platform})
    assert not report.ok
    assert "429" in report.summary()
    assert "resumes" in report.summary()
    platform.fail_with = None
    report = await engine.deliver(view, {"slack": platform})
    assert report.ok
    _assert_exactly_once(platform, "C0")


async def test_unpublished_digest_is_not_delivered(session_factory: sessionmaker[Session]) -> None:
    view = _setup(session_factory)
    with UnitOfWork(session_factory) as uow:
        from bot.db.models import Digest

        uow.session.scalars(select(Digest)).one().status = "draft"
        uow.commit()
    platform = FakePlatform()
    with pytest.raises(DeliveryError, match="not published"):
        await _engine(session_factory).deliver(view, {"slack": platform})
    assert platform.calls == 0


async def test_unsubscribed_channels_and_other_platforms_are_skipped(
    session_factory: sessionmaker[Session],
) -> None:
    view = _setup(session_factory, channels=2)
    SubscriptionService(session_factory).unsubscribe(Invocation("slack", "T1", "C1", "U1"))
    SubscriptionService(session_factory).subscribe(Invocation("discord", "G1", "D1", "U1"))
    platform = FakePlatform()
    report = await _engine(session_factory).deliver(view, {"slack": platform})
    assert [o.channel.channel_id for o in report.outcomes] == ["C0"]
    assert set(platform.channels) == {"C0"}
    with UnitOfWork(session_factory) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Delivery)) == 1


async def test_pacer_spaces_messages_per_channel() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    from bot.delivery import ChannelRef

    pacer = Pacer(interval=1.0, clock=lambda: now[0], sleep=fake_sleep)
    a, b = ChannelRef("slack", "T", "A"), ChannelRef("slack", "T", "B")
    await pacer.wait(a)
    now[0] += 0.25
    await pacer.wait(a)
    await pacer.wait(b)
    assert slept == [0.75]


class SlowPlatform(FakePlatform):
    """Yields to the event loop before each post, so two deliveries really interleave."""

    async def post_parent(self, channel, digest, marker):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.01)
        return await super().post_parent(channel, digest, marker)

    async def post_reply(self, channel, thread_id, digest, entry, marker):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.01)
        return await super().post_reply(channel, thread_id, digest, entry, marker)


async def test_two_processes_publishing_at_once_post_each_message_once(
    session_factory: sessionmaker[Session],
) -> None:
    view = _setup(session_factory, channels=2)
    platform = SlowPlatform()
    # Two engines with their own holder ids: a replica's `/trends publish` and the leader's job.
    first = DeliveryEngine(session_factory, Pacer(0.0, sleep=_no_sleep), holder="replica-a")
    second = DeliveryEngine(session_factory, Pacer(0.0, sleep=_no_sleep), holder="replica-b")
    reports = await asyncio.gather(
        first.deliver(view, {"slack": platform}), second.deliver(view, {"slack": platform})
    )
    statuses = sorted(o.status for report in reports for o in report.outcomes)
    assert "failed" not in statuses
    assert statuses.count("done") == 2  # each channel was posted by exactly one of them
    _assert_exactly_once(platform, "C0")
    _assert_exactly_once(platform, "C1")
    busy = [o for report in reports for o in report.outcomes if o.status == "busy"]
    for outcome in busy:
        assert outcome.posted == 0


async def test_two_publishes_in_one_process_post_each_message_once(
    session_factory: sessionmaker[Session],
) -> None:
    view = _setup(session_factory, channels=2)
    platform = SlowPlatform()
    engine = DeliveryEngine(session_factory, Pacer(0.0, sleep=_no_sleep), holder="one-process")
    reports = await asyncio.gather(*(engine.deliver(view, {"slack": platform}) for _ in range(3)))
    statuses = [o.status for report in reports for o in report.outcomes]
    assert "failed" not in statuses
    assert statuses.count("done") == 2
    _assert_exactly_once(platform, "C0")
    _assert_exactly_once(platform, "C1")


async def test_a_channel_held_by_another_process_is_left_alone(
    session_factory: sessionmaker[Session],
) -> None:
    view = _setup(session_factory)
    leases = LeaseStore(session_factory)
    assert leases.try_acquire("delivery:2026-10:1", "other-process", 60) is not None
    platform = FakePlatform()
    report = await _engine(session_factory).deliver(view, {"slack": platform})
    assert [o.status for o in report.outcomes] == ["busy"]
    assert report.ok
    assert "elsewhere" in report.summary()
    assert platform.calls == 0
    leases.release("delivery:2026-10:1", "other-process")
    report = await _engine(session_factory).deliver(view, {"slack": platform})
    assert [o.status for o in report.outcomes] == ["done"]
    _assert_exactly_once(platform, "C0")


async def test_retries_serve_only_the_channels_the_publication_targeted(
    session_factory: sessionmaker[Session],
) -> None:
    view = _setup(session_factory)  # C0 subscribed before publishing
    platform = FakePlatform(crash_after_call=0)
    with pytest.raises(Crash):  # the first publication dies after the parent message
        await _engine(session_factory).deliver(view, {"slack": platform})
    platform.crash_after_call = None
    SubscriptionService(session_factory).subscribe(Invocation("slack", "T1", "LATE", "U1"))
    retry = await _engine(session_factory).deliver(view, {"slack": platform}, include_new_subscribers=False)
    assert [o.channel.channel_id for o in retry.outcomes] == ["C0"]
    _assert_exactly_once(platform, "C0")
    assert "LATE" not in platform.channels
    explicit = await _engine(session_factory).deliver(view, {"slack": platform})
    assert sorted(o.channel.channel_id for o in explicit.outcomes) == ["C0", "LATE"]
    _assert_exactly_once(platform, "LATE")
