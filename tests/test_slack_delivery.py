"""`SlackPoster` under the real delivery engine: 429s, Slack errors, and a crash mid-thread.

The engine and the database are real; Slack is `tests/fakes/slack_api.py` over HTTP, reached by the
real `AsyncWebClient` with the same retry handlers the app uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.slack.app import build_web_client
from adapters.slack.poster import SlackPoster
from bot.db.models import DeliveredMessage
from bot.db.uow import UnitOfWork
from bot.delivery import ChannelRef, DeliveryEngine, Pacer, Posted
from bot.digest.views import DigestView, EntryView
from bot.invocation import Invocation
from bot.settings import load_settings
from bot.subscriptions import SubscriptionService
from tests.factories import digest_view, published_month
from tests.fakes.posters import Crash
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack

CHANNEL = "C0DIGEST01"
PICKS = 4


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack


def _poster(slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> SlackPoster:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    return SlackPoster(build_web_client(load_settings(slack_api_url=slack.api_url)))


def _engine(session_factory: sessionmaker[Session]) -> DeliveryEngine:
    return DeliveryEngine(session_factory, pacer=Pacer(interval=0.0))


def _setup(session_factory: sessionmaker[Session]) -> DigestView:
    view = published_month(session_factory, PICKS)
    SubscriptionService(session_factory).subscribe(Invocation("slack", "T0TRENDS1", CHANNEL, "U1"))
    return view


def _assert_exactly_once(slack: FakeSlack) -> None:
    messages = slack.posted(CHANNEL)
    markers = [m["metadata"]["event_payload"]["marker"] for m in messages]
    assert len(markers) == len(set(markers)) == PICKS + 1, markers
    parents = [m for m in messages if m["thread_ts"] is None]
    assert len(parents) == 1
    assert markers[0].endswith("-0")
    replies = [m for m in messages if m["thread_ts"] == parents[0]["ts"]]
    assert sorted(m["metadata"]["event_payload"]["marker"] for m in replies) == sorted(markers[1:])


def _recorded_ids(session_factory: sessionmaker[Session]) -> list[str | None]:
    with UnitOfWork(session_factory) as uow:
        rows = uow.session.scalars(select(DeliveredMessage).order_by(DeliveredMessage.position))
        return [row.message_id for row in rows]


async def test_a_429_mid_thread_is_retried_and_posts_each_message_once(
    fake_slack: FakeSlack, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    view = _setup(session_factory)
    fake_slack.rate_limit("chat.postMessage", nth=3, retry_after=1)
    report = await _engine(session_factory).deliver(view, {"slack": _poster(fake_slack, monkeypatch)})
    assert report.ok, report.summary()
    _assert_exactly_once(fake_slack)
    statuses = [call.status for call in fake_slack.calls if call.method == "chat.postMessage"]
    assert statuses.count(429) == 1
    assert len(statuses) == PICKS + 2  # one refused, then every message once
    assert _recorded_ids(session_factory) == [m["ts"] for m in fake_slack.posted(CHANNEL)]


async def test_slack_errors_become_a_delivery_error_with_the_code_only(
    fake_slack: FakeSlack, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    view = _setup(session_factory)
    fake_slack.fail("chat.postMessage", "channel_not_found", nth=2)
    engine = _engine(session_factory)
    poster = _poster(fake_slack, monkeypatch)
    report = await engine.deliver(view, {"slack": poster})
    assert not report.ok
    error = report.outcomes[0].error or ""
    assert "channel_not_found" in error
    assert "xoxb" not in error
    assert "Publishing again resumes" in report.summary()
    # Publishing again resumes: the failed reply was never posted, so it is posted now, once.
    again = await engine.deliver(view, {"slack": poster})
    assert again.ok
    _assert_exactly_once(fake_slack)


class CrashingPoster:
    """Wraps the real `SlackPoster` and dies (BaseException) right after its `after`-th post reached
    Slack, before the engine could record it: what a killed process leaves behind."""

    platform = "slack"

    def __init__(self, inner: SlackPoster, after: int) -> None:
        self.inner = inner
        self.after = after
        self.posts = 0

    def _count(self, posted: Posted) -> Posted:
        self.posts += 1
        if self.posts == self.after:
            raise Crash(f"killed after post {self.posts}")
        return posted

    async def post_parent(self, channel: ChannelRef, digest: DigestView, marker: str) -> Posted:
        return self._count(await self.inner.post_parent(channel, digest, marker))

    async def post_reply(
        self, channel: ChannelRef, thread_id: str, digest: DigestView, entry: EntryView, marker: str
    ) -> Posted:
        return self._count(await self.inner.post_reply(channel, thread_id, digest, entry, marker))

    async def find_posted(self, channel: ChannelRef, thread_id: str | None, marker: str) -> Posted | None:
        return await self.inner.find_posted(channel, thread_id, marker)


@pytest.mark.parametrize("after", [1, 3, PICKS + 1])
async def test_crash_mid_thread_then_resume_posts_everything_exactly_once(
    fake_slack: FakeSlack, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    view = _setup(session_factory)
    poster = _poster(fake_slack, monkeypatch)
    with pytest.raises(Crash):
        await _engine(session_factory).deliver(view, {"slack": CrashingPoster(poster, after)})
    assert len(fake_slack.posted(CHANNEL)) == after
    # A new process (new engine) resumes: the message that reached Slack is found by its metadata.
    report = await _engine(session_factory).deliver(view, {"slack": poster})
    assert report.ok, report.summary()
    assert report.outcomes[0].adopted == 1
    _assert_exactly_once(fake_slack)
    assert _recorded_ids(session_factory) == [m["ts"] for m in fake_slack.posted(CHANNEL)]
    lookup = "conversations.history" if after == 1 else "conversations.replies"
    call = fake_slack.calls_to(lookup)[0]
    assert call.params["include_all_metadata"] in ("1", "true", True)


async def test_find_posted_pages_through_a_busy_channel(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    poster = _poster(fake_slack, monkeypatch)
    channel = ChannelRef("slack", "T0TRENDS1", CHANNEL)
    view = digest_view("2026-10", [])
    parent = await poster.post_parent(channel, view, "trends-delivery-7-0")
    for i in range(250):  # people kept talking after the crash
        fake_slack.add_message(CHANNEL, f"chatter {i}")
    found = await poster.find_posted(channel, None, "trends-delivery-7-0")
    assert found == parent
    assert len(fake_slack.calls_to("conversations.history")) == 2
    assert await poster.find_posted(channel, None, "trends-delivery-8-0") is None
