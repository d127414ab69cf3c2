"""Digest approval on Discord end to end: the monthly job (real, on a real database) posts the draft
with its persistent Approve button through `DiscordApprovalNotifier`; button clicks are component
interactions parsed by discord.py itself (`parse_interaction_create` → the registered dynamic item);
every answer is a REST call to the fake Discord on 127.0.0.1, asserted on."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from adapters.discord.approval import STALE, DiscordApprovalNotifier
from adapters.discord.client import TrendsBot
from bot.bootstrap import Container, build
from bot.chat.service import ChatService
from bot.db.models import Digest
from bot.delivery import DeliveryEngine, DeliveryError, Pacer
from bot.digest.service import DigestService
from bot.invocation import Invocation
from bot.publish import PublishService
from bot.scheduler import jobs
from bot.scheduler.approval import ApprovalTarget
from bot.scheduler.context import AppContext
from bot.settings import load_settings
from bot.subscriptions import SubscriptionService
from tests.factories import make_paper
from tests.fakes.discord_api import (
    APP_ID,
    FORUM_CHANNEL_ID,
    GUILD_ID,
    TEXT_CHANNEL_ID,
    FakeDiscord,
    limit_violations,
    load,
)

TOKEN = "fake-discord-token"
MONTH = "2026-10"
APPROVAL_CHANNEL_ID = "1310000000000000777"
MEMBER_ID = "1199999999999999001"  # the user in the recorded interaction
OTHER_ADMIN_ID = "1199999999999999002"
LISTED_ADMIN_ID = "1199999999999999003"  # no Manage Server, but in TRENDS_ADMIN_USER_IDS
NOV_1 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
PICKS = 3


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def api() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord.running() as fake:
        approvals = load("channel_text")
        approvals.update(id=APPROVAL_CHANNEL_ID, name="digest-approvals", position=4)
        fake.add_channel(approvals)
        yield fake


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    built = build(
        load_settings(
            database_url=db_url,
            approval=True,
            approval_channel=f"discord:{GUILD_ID}:{APPROVAL_CHANNEL_ID}",
            admin_user_ids=[LISTED_ADMIN_ID],
            signals_semantic_scholar_enabled=False,
            signals_huggingface_enabled=False,
            signals_github_enabled=False,
        )
    )
    with built.uow() as uow:  # an October's worth of harvested papers
        uow.session.add_all(
            make_paper(f"2610.{i:05d}", title=f"Diffusion agents that plan {i}", abstract="Diffusion models.")
            for i in range(1, 15)
        )
        uow.commit()
    subscriptions = SubscriptionService(built.session_factory)
    for channel, kind in ((TEXT_CHANNEL_ID, "text"), (FORUM_CHANNEL_ID, "forum")):
        subscriptions.subscribe(
            Invocation("discord", GUILD_ID, channel, MEMBER_ID, is_platform_admin=True, channel_kind=kind)
        )
    yield built
    built.close()


@pytest.fixture
async def bot(api: FakeDiscord, container: Container) -> AsyncIterator[TrendsBot]:
    chat = ChatService(container)  # `trends run` shares one ChatService between the platforms
    engine = DeliveryEngine(container.session_factory, pacer=Pacer(0.0, sleep=_no_sleep))
    chat.publisher = PublishService(chat.digests, engine)
    client = TrendsBot(container, guild_ids=[int(GUILD_ID)], chat=chat)
    assert client.chat is chat
    assert chat.posters["discord"] is client.poster
    await client.login(TOKEN)
    yield client
    await client.close()


@pytest.fixture
def context(container: Container, bot: TrendsBot) -> AppContext:
    return AppContext(
        container,
        posters=bot.chat.posters,
        notifiers={"discord": DiscordApprovalNotifier(bot)},
        clock=lambda: NOV_1,
        delivery_engine=DeliveryEngine(container.session_factory, pacer=Pacer(0.0, sleep=_no_sleep)),
    )


def preview(api: FakeDiscord) -> dict[str, Any]:
    [message] = api.messages_in(APPROVAL_CHANNEL_ID)
    return message


def click_payload(
    api: FakeDiscord,
    message: dict[str, Any],
    *,
    user_id: str = MEMBER_ID,
    manage_guild: bool = False,
    custom_id: str | None = None,
) -> dict[str, Any]:
    """A MESSAGE_COMPONENT interaction for a click on `message`'s button, as the gateway sends it."""
    payload = api.interaction([], manage_guild=manage_guild)
    button = message["components"][0]["components"][0]
    if custom_id is not None:  # a forged or outdated message: the button itself says so
        message = copy.deepcopy(message)
        message["components"][0]["components"][0]["custom_id"] = custom_id
        button = message["components"][0]["components"][0]
    payload.update(
        type=3,
        data={"custom_id": button["custom_id"], "component_type": 2},
        message=message,
        channel_id=APPROVAL_CHANNEL_ID,
    )
    payload["channel"].update(id=APPROVAL_CHANNEL_ID, name="digest-approvals")
    payload["member"]["user"].update(id=user_id, username=f"user{user_id[-3:]}")
    return payload


async def click(bot: TrendsBot, *payloads: dict[str, Any]) -> None:
    """Hand the clicks to discord.py (all at once) and wait for the callbacks it schedules."""
    before = asyncio.all_tasks()
    for payload in payloads:
        bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    while True:
        pending = [
            t for t in asyncio.all_tasks() - before if not t.done() and t.get_name().startswith("discord")
        ]
        if not pending:
            return
        await asyncio.wait(pending, timeout=20)


def ephemeral_texts(api: FakeDiscord, payload: dict[str, Any]) -> list[str]:
    return [m.get("content") or "" for m in api.replies_to(payload) if m.get("flags") == 64]


def edits(api: FakeDiscord, payload: dict[str, Any]) -> list[dict[str, Any]]:
    path = rf"/webhooks/{APP_ID}/{payload['token']}/messages/@original"
    return [call.json for call in api.calls_to("PATCH", path)]


def assert_one_thread_per_channel(api: FakeDiscord) -> None:
    [parent] = api.messages_in(TEXT_CHANNEL_ID)
    [thread] = api.threads_of(TEXT_CHANNEL_ID)
    assert thread["id"] == parent["id"]
    assert len(api.messages_in(thread["id"])) == PICKS
    [post] = api.threads_of(FORUM_CHANNEL_ID)
    assert len(api.messages_in(post["id"])) == 1 + PICKS


def digest_status(container: Container) -> str:
    with container.uow() as uow:
        return str(uow.session.scalar(select(Digest.status).where(Digest.month == MONTH)))


async def test_the_monthly_job_posts_one_preview_with_a_persistent_button(
    api: FakeDiscord, context: AppContext, container: Container
) -> None:
    assert (await jobs.run_digest(context)).action == "approval-requested"
    assert (await jobs.run_digest(context)).action == "awaiting-approval"
    message = preview(api)
    assert "Approval needed" in message["content"]
    assert message["embeds"][0]["title"] == "Trends in AI — October 2026"
    assert "Draft" in message["embeds"][0]["description"]
    assert "1.** [Diffusion agents that plan" in message["embeds"][0]["description"]
    [row] = message["components"]
    [button] = row["components"]
    assert (button["custom_id"], button["label"], button["style"]) == (
        f"trends:approve:{MONTH}",
        "Approve and publish",
        3,  # success (green)
    )
    assert api.messages_in(TEXT_CHANNEL_ID) == []
    assert api.threads_of(FORUM_CHANNEL_ID) == []
    assert digest_status(container) == "draft"
    assert not limit_violations(api.calls)


@pytest.mark.parametrize(
    ("user_id", "manage_guild"), [(MEMBER_ID, True), (LISTED_ADMIN_ID, False)], ids=["manager", "listed"]
)
async def test_an_admin_click_publishes_once_and_edits_the_preview(
    api: FakeDiscord,
    bot: TrendsBot,
    context: AppContext,
    container: Container,
    user_id: str,
    manage_guild: bool,
) -> None:
    await jobs.run_digest(context)
    payload = click_payload(api, preview(api), user_id=user_id, manage_guild=manage_guild)
    await click(bot, payload)
    callback = api.calls_to("POST", rf"/interactions/{payload['id']}/.+/callback")
    assert callback[0].json == {"type": 6}  # a deferred update, sent before publishing
    assert_one_thread_per_channel(api)
    assert digest_status(container) == "published"
    [edit] = edits(api, payload)
    assert edit["content"] == (
        f"✅ Approved by <@{user_id}>. Posted the {MONTH} digest to 2 of 2 channel(s)."
    )
    assert edit["components"] == []  # the button is gone
    assert edit["allowed_mentions"] == {"parse": []}
    assert "Draft" not in (edit["embeds"][0].get("description") or "")
    assert ephemeral_texts(api, payload) == []


async def test_a_member_click_is_refused_and_nothing_is_posted(
    api: FakeDiscord, bot: TrendsBot, context: AppContext, container: Container
) -> None:
    await jobs.run_digest(context)
    payload = click_payload(api, preview(api), manage_guild=False)
    await click(bot, payload)
    [refusal] = ephemeral_texts(api, payload)
    assert "only workspace admins" in refusal
    assert edits(api, payload) == []
    assert api.messages_in(TEXT_CHANNEL_ID) == []
    assert api.threads_of(FORUM_CHANNEL_ID) == []
    assert digest_status(container) == "draft"


async def test_a_double_click_and_a_second_admin_publish_one_thread_per_channel(
    api: FakeDiscord, bot: TrendsBot, context: AppContext
) -> None:
    await jobs.run_digest(context)
    shown = preview(api)
    first = click_payload(api, shown, manage_guild=True)
    double = click_payload(api, shown, manage_guild=True)
    second = click_payload(api, shown, user_id=OTHER_ADMIN_ID, manage_guild=True)
    await click(bot, first, double, second)
    late = click_payload(api, shown, user_id=OTHER_ADMIN_ID, manage_guild=True)  # a stale client
    await click(bot, late)
    assert_one_thread_per_channel(api)
    clicks = (first, double, second, late)
    assert sum(len(edits(api, p)) for p in clicks) == 1
    told = [text for p in clicks for text in ephemeral_texts(api, p)]
    assert len(told) == 3
    assert all("being published right now" in t or "already published; nothing was posted" in t for t in told)
    assert "already published" in ephemeral_texts(api, late)[0]


@pytest.mark.parametrize("custom_id", ["trends:approve:2026-13", "trends:approve:0-1"])
async def test_a_forged_month_posts_nothing(
    api: FakeDiscord, bot: TrendsBot, context: AppContext, container: Container, custom_id: str
) -> None:
    await jobs.run_digest(context)
    payload = click_payload(api, preview(api), manage_guild=True, custom_id=custom_id)
    await click(bot, payload)
    assert ephemeral_texts(api, payload) == [STALE]
    assert api.messages_in(TEXT_CHANNEL_ID) == []
    assert digest_status(container) == "draft"


async def test_a_button_we_do_not_know_is_ignored(
    api: FakeDiscord, bot: TrendsBot, context: AppContext, container: Container
) -> None:
    await jobs.run_digest(context)
    payload = click_payload(api, preview(api), manage_guild=True, custom_id="trends:approve:2026-10'; --")
    await click(bot, payload)
    assert api.replies_to(payload) == []
    assert api.messages_in(TEXT_CHANNEL_ID) == []
    assert digest_status(container) == "draft"


async def test_an_unusable_approval_channel_says_what_to_do(
    api: FakeDiscord, bot: TrendsBot, context: AppContext
) -> None:
    api.fail("POST", rf"/channels/{APPROVAL_CHANNEL_ID}/messages", 403)
    with pytest.raises(DeliveryError, match="Give it View Channel, Send Messages and Embed Links"):
        await jobs.run_digest(context)
    draft = DigestService(context.container.uow, context.container.settings).get(MONTH)
    notifier = DiscordApprovalNotifier(bot)
    with pytest.raises(DeliveryError, match="not a text channel"):
        await notifier.request_approval(ApprovalTarget("discord", GUILD_ID, FORUM_CHANNEL_ID), draft)
    with pytest.raises(DeliveryError, match="not in server 42"):
        await notifier.request_approval(ApprovalTarget("discord", "42", APPROVAL_CHANNEL_ID), draft)
    with pytest.raises(DeliveryError, match="Discord ids are numbers"):
        await notifier.request_approval(ApprovalTarget("discord", GUILD_ID, "C0SLACKID"), draft)
    assert len(api.messages_in(APPROVAL_CHANNEL_ID)) == 0
