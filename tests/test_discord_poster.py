"""`DiscordPoster` through the real discord.py against a fake Discord REST API, with the real delivery
engine and database: threads in text channels, forum posts, Discord's limits, errors, and exactly-once
delivery across crashes at every step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import discord
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.discord.client import bot_intents
from adapters.discord.poster import DiscordPoster, nonce_for
from adapters.discord.render import footer_has_marker
from bot.db.models import DeliveredMessage, DigestEntry
from bot.db.uow import UnitOfWork
from bot.delivery import ChannelRef, DeliveryEngine, DeliveryError, Pacer, Posted
from bot.digest.views import DigestView, EntryView
from bot.invocation import Invocation
from bot.subscriptions import SubscriptionService
from tests.factories import published_month
from tests.fakes.discord_api import (
    BOT_USER,
    FORUM_CHANNEL_ID,
    GUILD_ID,
    TEXT_CHANNEL_ID,
    FakeDiscord,
    limit_violations,
)
from tests.fakes.posters import Crash

TOKEN = "fake-discord-token"
PICKS = 3


async def _no_sleep(_: float) -> None:
    return None


def _engine(session_factory: sessionmaker[Session]) -> DeliveryEngine:
    return DeliveryEngine(session_factory, pacer=Pacer(interval=0.0, sleep=_no_sleep))


@pytest.fixture
async def api() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord.running() as fake:
        yield fake


@pytest.fixture
async def client(api: FakeDiscord) -> AsyncIterator[discord.Client]:
    bot = discord.Client(intents=bot_intents())
    await bot.login(TOKEN)
    yield bot
    await bot.close()


def _setup(session_factory: sessionmaker[Session], channel_id: str, kind: str) -> DigestView:
    view = published_month(session_factory, PICKS)
    first = view.picks[0]
    with_code = replace(first, links=replace(first.links, code="https://github.com/example/paper-1"))
    view = replace(view, picks=(with_code, *view.picks[1:]))
    SubscriptionService(session_factory).subscribe(
        Invocation("discord", GUILD_ID, channel_id, "U1", is_platform_admin=True, channel_kind=kind)
    )
    return view


def _bot_messages(api: FakeDiscord, channel_id: str) -> list[dict[str, object]]:
    return [m for m in api.messages_in(channel_id) if m["author"]["id"] == BOT_USER["id"]]  # type: ignore[index]


def _footers(message: dict[str, object]) -> list[str]:
    embeds = message.get("embeds") or []
    return [(e.get("footer") or {}).get("text", "") for e in embeds]  # type: ignore[union-attr]


def _assert_text_thread_once(api: FakeDiscord) -> str:
    """One parent in the channel, one thread on it, one message per pick in the thread."""
    parents = _bot_messages(api, TEXT_CHANNEL_ID)
    assert len(parents) == 1, [_footers(m) for m in parents]
    parent = parents[0]
    thread_id = str(parent["id"])
    assert thread_id in api.channels
    assert api.channels[thread_id]["parent_id"] == TEXT_CHANNEL_ID
    assert len(api.threads_of(TEXT_CHANNEL_ID)) == 1
    replies = _bot_messages(api, thread_id)
    markers = [footer.split()[-1] for m in replies for footer in _footers(m)[:1]]
    assert len(replies) == PICKS
    assert len(set(markers)) == PICKS
    assert all(m.endswith(f"-{i}") for i, m in enumerate(markers, start=1))
    assert not limit_violations(api.calls)
    return thread_id


async def test_text_channel_gets_parent_thread_and_one_message_per_pick(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session]
) -> None:
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    report = await _engine(session_factory).deliver(view, {"discord": DiscordPoster(client)})
    assert report.ok, report.summary()
    thread_id = _assert_text_thread_once(api)

    parent = _bot_messages(api, TEXT_CHANNEL_ID)[0]
    embed = parent["embeds"][0]  # type: ignore[index]
    assert embed["title"] == view.title
    assert "Intro." in embed["description"]
    assert "**1.** [Paper 1](https://arxiv.org/abs/2610.00001)" in embed["description"]
    assert api.channels[thread_id]["name"] == view.title

    first = _bot_messages(api, thread_id)[0]
    pick = first["embeds"][0]  # type: ignore[index]
    assert pick["title"] == "1. Paper 1"
    assert pick["url"] == "https://arxiv.org/abs/2610.00001"
    names = [f["name"] for f in pick["fields"]]
    assert names == ["Topic", "arXiv", "Why →", "Key insights →"]
    buttons = [b for row in first["components"] for b in row["components"]]  # type: ignore[union-attr]
    assert [(b["label"], b["style"]) for b in buttons] == [("Abstract", 5), ("PDF", 5), ("Code", 5)]
    assert buttons[2]["url"] == "https://github.com/example/paper-1"
    # Every post carries an enforced nonce and asks Discord to ping nobody.
    posts = api.calls_to("POST", rf"/channels/{thread_id}/messages")
    assert all(c.json["enforce_nonce"] is True and c.json["allowed_mentions"] == {"parse": []} for c in posts)
    with UnitOfWork(session_factory) as uow:
        recorded = uow.session.scalars(
            select(DeliveredMessage.message_id).order_by(DeliveredMessage.position)
        )
        assert list(recorded) == [parent["id"], *[m["id"] for m in _bot_messages(api, thread_id)]]


async def test_forum_channel_gets_one_post_with_the_picks_as_replies(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session]
) -> None:
    view = _setup(session_factory, FORUM_CHANNEL_ID, "forum")
    report = await _engine(session_factory).deliver(view, {"discord": DiscordPoster(client)})
    assert report.ok, report.summary()
    posts = api.calls_to("POST", rf"/channels/{FORUM_CHANNEL_ID}/threads")
    assert len(posts) == 1
    assert posts[0].json["name"] == view.title
    assert posts[0].json["message"]["embeds"][0]["title"] == view.title
    (thread,) = api.threads_of(FORUM_CHANNEL_ID)
    messages = api.messages_in(thread["id"])
    assert messages[0]["id"] == thread["id"]  # the starter message is the parent
    assert len(messages) == 1 + PICKS
    assert not api.calls_to("POST", rf"/channels/{FORUM_CHANNEL_ID}/messages")
    assert not limit_violations(api.calls)


class CrashingPoster:
    """The real poster, with the process "dying" (a BaseException) around the N-th post."""

    platform = "discord"

    def __init__(self, inner: DiscordPoster, step: int, when: str) -> None:
        self.inner = inner
        self.step = step
        self.when = when
        self.posts = 0

    async def _around(self, post: Callable[[], Awaitable[Posted]]) -> Posted:
        call = self.posts
        self.posts += 1
        if self.when == "before" and call == self.step:
            raise Crash(f"crash before post {call}")
        result = await post()
        if self.when == "after" and call == self.step:
            raise Crash(f"crash after post {call}")
        return result

    async def post_parent(self, channel: ChannelRef, digest: DigestView, marker: str) -> Posted:
        return await self._around(lambda: self.inner.post_parent(channel, digest, marker))

    async def post_reply(
        self, channel: ChannelRef, thread_id: str, digest: DigestView, entry: EntryView, marker: str
    ) -> Posted:
        return await self._around(lambda: self.inner.post_reply(channel, thread_id, digest, entry, marker))

    async def find_posted(self, channel: ChannelRef, thread_id: str | None, marker: str) -> Posted | None:
        return await self.inner.find_posted(channel, thread_id, marker)


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("step", range(PICKS + 1))
async def test_crash_at_every_step_then_resume_posts_each_message_once(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session], step: int, when: str
) -> None:
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    engine = _engine(session_factory)
    crashing = CrashingPoster(DiscordPoster(client), step, when)
    with pytest.raises(Crash):
        await engine.deliver(view, {"discord": crashing})
    # A new process: a fresh poster (no caches) resumes the delivery.
    report = await engine.deliver(view, {"discord": DiscordPoster(client)})
    assert report.ok, report.summary()
    assert report.outcomes[0].adopted == (1 if when == "after" else 0)
    _assert_text_thread_once(api)
    with UnitOfWork(session_factory) as uow:
        states = uow.session.scalars(select(DeliveredMessage.state)).all()
        assert states == ["posted"] * (PICKS + 1)


@pytest.mark.parametrize("step", [0, 2])
async def test_forum_crash_after_post_then_resume(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session], step: int
) -> None:
    view = _setup(session_factory, FORUM_CHANNEL_ID, "forum")
    engine = _engine(session_factory)
    with pytest.raises(Crash):
        await engine.deliver(view, {"discord": CrashingPoster(DiscordPoster(client), step, "after")})
    report = await engine.deliver(view, {"discord": DiscordPoster(client)})
    assert report.ok
    assert report.outcomes[0].adopted == 1
    (thread,) = api.threads_of(FORUM_CHANNEL_ID)
    markers = [_footers(m)[0].split()[-1] for m in api.messages_in(thread["id"])]
    assert len(markers) == len(set(markers)) == PICKS + 1


async def test_parent_posted_but_thread_refused_resumes_by_starting_the_thread(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session]
) -> None:
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    api.fail("POST", rf"/channels/{TEXT_CHANNEL_ID}/messages/\d+/threads", 403)
    engine = _engine(session_factory)
    first = await engine.deliver(view, {"discord": DiscordPoster(client)})
    assert not first.ok
    assert "Create Public Threads" in first.summary()
    second = await engine.deliver(view, {"discord": DiscordPoster(client)})
    assert second.ok
    assert second.outcomes[0].adopted == 1
    _assert_text_thread_once(api)


async def test_platform_refusal_is_a_delivery_error_without_the_token(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session]
) -> None:
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    api.fail(
        "POST",
        rf"/channels/{TEXT_CHANNEL_ID}/messages",
        403,
        {"message": f"Missing Access ({TOKEN})", "code": 50001},
    )
    channel = ChannelRef("discord", GUILD_ID, TEXT_CHANNEL_ID, "text")
    with pytest.raises(DeliveryError) as caught:
        await DiscordPoster(client).post_parent(channel, view, "trends-delivery-1-0")
    assert "lacks permission" in str(caught.value)
    assert TOKEN not in str(caught.value)

    with pytest.raises(DeliveryError, match="not found"):
        await DiscordPoster(client).post_parent(ChannelRef("discord", GUILD_ID, "999", "text"), view, "m")


async def test_rate_limit_is_waited_out_by_discord_py(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session]
) -> None:
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    api.fail(
        "POST",
        rf"/channels/{TEXT_CHANNEL_ID}/messages",
        429,
        {"message": "You are being rate limited.", "retry_after": 0.01, "global": False},
    )
    posted = await DiscordPoster(client).post_parent(
        ChannelRef("discord", GUILD_ID, TEXT_CHANNEL_ID, "text"), view, "trends-delivery-7-0"
    )
    assert len(api.calls_to("POST", rf"/channels/{TEXT_CHANNEL_ID}/messages")) == 2
    assert [m["id"] for m in _bot_messages(api, TEXT_CHANNEL_ID)] == [posted.message_id]


async def test_very_long_why_and_insights_fit_one_message_within_limits(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session]
) -> None:
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    long_why = ("This matters because scaling laws bend. " * 120).strip()  # ~4,800 characters
    long_insights = "\n\n".join(f"Insight {i}: " + "tokens 🚀 and [brackets] " * 40 for i in range(6))
    with UnitOfWork(session_factory) as uow:
        for entry in uow.session.scalars(select(DigestEntry)):
            entry.why = long_why
            entry.insights = long_insights
        uow.commit()
    view = replace(view, picks=tuple(replace(e, why=long_why, insights=long_insights) for e in view.picks))
    report = await _engine(session_factory).deliver(view, {"discord": DiscordPoster(client)})
    assert report.ok, report.summary()
    thread_id = _assert_text_thread_once(api)
    message = _bot_messages(api, thread_id)[0]
    fields = [f for embed in message["embeds"] for f in embed["fields"]]  # type: ignore[union-attr]
    why_parts = [f["value"] for f in fields if f["name"].startswith("Why →")]
    assert len(why_parts) >= 2  # split over several fields
    assert why_parts[0].startswith("This matters because")
    assert fields[-1]["name"] == "…"  # the rest is cut with a note, not dropped silently


async def test_find_posted_matches_the_exact_marker_only(
    api: FakeDiscord, client: discord.Client, session_factory: sessionmaker[Session]
) -> None:
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    poster = DiscordPoster(client)
    channel = ChannelRef("discord", GUILD_ID, TEXT_CHANNEL_ID, "text")
    parent = await poster.post_parent(channel, view, "trends-delivery-1-0")
    assert parent.thread_id is not None
    await poster.post_reply(channel, parent.thread_id, view, view.picks[0], "trends-delivery-1-10")
    assert await poster.find_posted(channel, parent.thread_id, "trends-delivery-1-1") is None
    found = await poster.find_posted(channel, parent.thread_id, "trends-delivery-1-10")
    assert found is not None
    assert found.thread_id == parent.thread_id
    assert await poster.find_posted(channel, None, "trends-delivery-1-0") == parent
    assert footer_has_marker("October 2026 · ref trends-delivery-1-10", "trends-delivery-1-10")
    assert not footer_has_marker("October 2026 · ref trends-delivery-1-10", "trends-delivery-1-1")
    assert len(nonce_for("trends-delivery-123456789-12")) <= 25


async def test_a_delivery_started_before_the_login_waits_for_it(
    api: FakeDiscord, session_factory: sessionmaker[Session]
) -> None:
    # `trends run` starts its scheduler alongside the adapters: a resumed delivery can reach the
    # poster while discord.py is still logging in (it then raised AttributeError and the channel's
    # delivery failed until the next restart).
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    bot = discord.Client(intents=bot_intents())
    try:
        delivering = asyncio.create_task(
            _engine(session_factory).deliver(view, {"discord": DiscordPoster(bot)})
        )
        await asyncio.sleep(0.3)
        assert not delivering.done()
        assert api.calls_to("POST", r"/channels/\d+/messages") == []
        await bot.login(TOKEN)
        report = await asyncio.wait_for(delivering, 20)
    finally:
        await bot.close()
    assert [o.status for o in report.outcomes] == ["done"]
    _assert_text_thread_once(api)


async def test_a_bot_that_never_logs_in_fails_the_delivery_resumably(
    api: FakeDiscord, session_factory: sessionmaker[Session]
) -> None:
    view = _setup(session_factory, TEXT_CHANNEL_ID, "text")
    bot = discord.Client(intents=bot_intents())
    poster = DiscordPoster(bot, login_wait=0.2)
    report = await _engine(session_factory).deliver(view, {"discord": poster})
    assert [o.status for o in report.outcomes] == ["failed"]
    assert "not logged in" in (report.outcomes[0].error or "")
