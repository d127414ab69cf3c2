"""The Discord bot end to end: recorded-style interaction payloads go through discord.py's own parsing
(`parse_interaction_create`) into our command tree, the chat core and the database; the answers are the
REST calls discord.py sends to a fake Discord API. Covers sync, admin refusal, subscribe + publish
(text and forum), hostile queries, autocomplete, reactions as votes and the error hook."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import discord
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from adapters.discord.client import APOLOGY, BOT_PERMISSIONS, TrendsBot, create_bot, invite_url, sync_only
from bot.bootstrap import Container, build
from bot.db.models import Subscription, Topic, Vote
from bot.db.uow import UnitOfWork
from bot.delivery import DeliveryEngine, Pacer
from bot.errors import ConfigError
from bot.publish import PublishService
from bot.settings import load_settings
from tests.factories import add_published_digest, make_paper
from tests.fakes.discord_api import (
    APP_ID,
    FORUM_CHANNEL_ID,
    GUILD_ID,
    TEXT_CHANNEL_ID,
    FakeDiscord,
    limit_violations,
    load,
    settle,
)

TOKEN = "fake-discord-token"
MONTH = "2026-10"
PICKS = 3


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def api() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord.running() as fake:
        yield fake


@pytest.fixture
def container(db_url: str) -> AsyncIterator[Container]:
    built = build(load_settings(database_url=db_url))
    with UnitOfWork(built.session_factory) as uow:
        papers = [
            make_paper(f"2610.0000{i}", title=f"Diffusion paper {i}", abstract="Diffusion models for video.")
            for i in range(1, PICKS + 1)
        ]
        uow.session.add_all(papers)
        uow.session.flush()
        add_published_digest(uow.session, MONTH, papers)
        uow.commit()
    yield built  # type: ignore[misc]
    built.close()


@pytest.fixture
async def bot(api: FakeDiscord, container: Container) -> AsyncIterator[TrendsBot]:
    client = TrendsBot(container, guild_ids=[int(GUILD_ID)])
    # The engine's ~1 message/s pacing is real behaviour, but not something to wait for in tests.
    client.chat.publisher = PublishService(
        client.chat.digests, DeliveryEngine(container.session_factory, pacer=Pacer(0.0, sleep=_no_sleep))
    )
    await client.login(TOKEN)
    yield client
    await client.close()


def command(subcommand: str, **options: Any) -> list[dict[str, Any]]:
    """`data.options` for `/trends <subcommand> opt:value …` (or a nested "topics add")."""
    values = [
        {"type": 4 if isinstance(v, int) else 3, "name": k, "value": v}
        for k, v in options.items()
        if v is not None
    ]
    if " " in subcommand:
        group, sub = subcommand.split(" ", 1)
        return [{"type": 2, "name": group, "options": [{"type": 1, "name": sub, "options": values}]}]
    return [{"type": 1, "name": subcommand, "options": values}]


async def invoke(bot: TrendsBot, payload: dict[str, Any]) -> None:
    await settle(lambda: bot._connection.parse_interaction_create(payload))  # type: ignore[arg-type]


def reply_text(api: FakeDiscord, payload: dict[str, Any]) -> str:
    """Everything the user saw in answer to one interaction, as one string."""
    parts = []
    for message in api.replies_to(payload):
        parts.append(message.get("content") or "")
        for embed in message.get("embeds") or []:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
            parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(part for part in parts if part)


def _count(container: Container, model: type[Any]) -> int:
    with UnitOfWork(container.session_factory) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_sync_registers_two_groups_with_admin_defaults(api: FakeDiscord, bot: TrendsBot) -> None:
    synced = await bot.sync_commands()
    assert sorted(c.name for c in synced) == ["trends", "trends-admin"]
    commands = {c["name"]: c for c in api.synced[GUILD_ID]}
    assert str(commands["trends-admin"]["default_member_permissions"]) == "32"  # Manage Server
    assert commands["trends"]["contexts"] == commands["trends-admin"]["contexts"] == [0]  # servers only
    assert commands["trends"]["default_member_permissions"] is None
    public = {o["name"] for o in commands["trends"]["options"]}
    assert public == {"help", "search", "chart", "latest", "issue", "issues", "topics"}
    admin = {o["name"]: o for o in commands["trends-admin"]["options"]}
    assert set(admin) == {"topics", "subscribe", "unsubscribe", "preview", "publish"}
    assert {o["name"] for o in admin["topics"]["options"]} == {"add", "edit", "remove", "enable", "disable"}
    assert "global" not in api.synced  # guild ids given: nothing global
    assert BOT_PERMISSIONS.value == 309237763136
    assert "permissions=309237763136" in invite_url(int(APP_ID))
    assert "scope=bot+applications.commands" in invite_url(int(APP_ID))


async def test_non_admin_is_refused_and_nothing_changes(
    api: FakeDiscord, bot: TrendsBot, container: Container
) -> None:
    topics_before = _count(container, Topic)
    for options in (command("subscribe"), command("topics add", name="Robots", include="robot learning")):
        payload = api.interaction(options, name="trends-admin", manage_guild=False)
        await invoke(bot, payload)
        callback = api.calls_to("POST", rf"/interactions/{payload['id']}/.+/callback")
        assert callback[0].json == {"type": 5, "data": {"flags": 64}}  # deferred, ephemeral
        assert "only workspace admins" in reply_text(api, payload)
        assert api.replies_to(payload)[-1]["flags"] == 64
    assert _count(container, Subscription) == 0
    assert _count(container, Topic) == topics_before


async def test_admin_subscribes_a_text_channel_and_publishes_a_thread(
    api: FakeDiscord, bot: TrendsBot, container: Container
) -> None:
    subscribe = api.interaction(command("subscribe"), name="trends-admin", manage_guild=True)
    await invoke(bot, subscribe)
    assert "will receive the monthly digest" in reply_text(api, subscribe)
    with UnitOfWork(container.session_factory) as uow:
        row = uow.session.scalars(select(Subscription)).one()
        assert (row.platform, row.workspace_id, row.channel_id, row.channel_kind) == (
            "discord",
            GUILD_ID,
            TEXT_CHANNEL_ID,
            "text",
        )

    publish = api.interaction(command("publish", month=MONTH), name="trends-admin", manage_guild=True)
    await invoke(bot, publish)
    assert f"Posted the {MONTH} digest to 1 of 1 channel(s)." in reply_text(api, publish)
    parents = api.messages_in(TEXT_CHANNEL_ID)
    assert len(parents) == 1
    assert parents[0]["embeds"][0]["title"] == f"Trends in AI — {MONTH}"
    (thread,) = api.threads_of(TEXT_CHANNEL_ID)
    assert thread["id"] == parents[0]["id"]
    picks = api.messages_in(thread["id"])
    assert [m["embeds"][0]["title"] for m in picks] == [
        f"{i}. Diffusion paper {i}" for i in range(1, PICKS + 1)
    ]
    assert not limit_violations(api.calls)

    # Publishing again resumes nothing and posts nothing.
    again = api.interaction(command("publish", month=MONTH), name="trends-admin", manage_guild=True)
    await invoke(bot, again)
    assert len(api.messages_in(thread["id"])) == PICKS
    assert len(api.messages_in(TEXT_CHANNEL_ID)) == 1


async def test_admin_subscribes_from_a_forum_post_and_publishes_one_forum_post(
    api: FakeDiscord, bot: TrendsBot, container: Container
) -> None:
    # Slash commands can't be typed in a forum itself, only in one of its posts (a thread).
    post = load("thread")
    post.update(id=api.snowflake(), parent_id=FORUM_CHANNEL_ID, name="Bot setup")
    api.add_channel(post)
    subscribe = api.interaction(
        command("subscribe"), name="trends-admin", manage_guild=True, channel=post, channel_id=post["id"]
    )
    await invoke(bot, subscribe)
    assert "will receive the monthly digest" in reply_text(api, subscribe)
    with UnitOfWork(container.session_factory) as uow:
        row = uow.session.scalars(select(Subscription)).one()
        assert (row.channel_id, row.channel_kind) == (FORUM_CHANNEL_ID, "forum")

    publish = api.interaction(command("publish", month=MONTH), name="trends-admin", manage_guild=True)
    await invoke(bot, publish)
    assert "to 1 of 1 channel(s)" in reply_text(api, publish)
    assert len(api.calls_to("POST", rf"/channels/{FORUM_CHANNEL_ID}/threads")) == 1
    digest_posts = [t for t in api.threads_of(FORUM_CHANNEL_ID) if t["id"] != post["id"]]
    assert len(digest_posts) == 1
    assert len(api.messages_in(digest_posts[0]["id"])) == 1 + PICKS


@pytest.mark.parametrize(
    "query",
    [
        'diffusion" OR 1=1; DROP TABLE papers; --',
        "NEAR(diffusion video) AND title:* -",
        "🚀🔥 扩散模型 ✨",
        "@everyone <@&123> look",
        "x" * 5000,
        "\x00\x1f",
    ],
    ids=["sql", "fts-operators", "emoji", "mentions", "5000-chars", "control"],
)
async def test_hostile_search_gets_an_answer_never_a_crash(
    api: FakeDiscord, bot: TrendsBot, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    payload = api.interaction(command("search", query=query))
    with caplog.at_level(logging.ERROR):
        await invoke(bot, payload)
    answer = reply_text(api, payload)
    assert answer.strip()
    assert APOLOGY not in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "@everyone" not in answer  # echoed text can't ping (and allowed_mentions is empty anyway)
    assert all(
        m["allowed_mentions"] == {"parse": []}
        for m in [c.json for c in api.calls_to("POST", r"/webhooks/.+")]
    )
    assert not limit_violations(api.calls)


async def test_search_lists_hits_as_embed_fields(api: FakeDiscord, bot: TrendsBot) -> None:
    payload = api.interaction(command("search", query="diffusion"))
    await invoke(bot, payload)
    (message,) = api.replies_to(payload)
    fields = message["embeds"][0]["fields"]
    assert any("Diffusion paper" in f["name"] for f in fields)
    assert "[Abstract](https://arxiv.org/abs/2610.0000" in fields[0]["value"]


async def test_chart_attaches_the_trend_png(api: FakeDiscord, bot: TrendsBot) -> None:
    payload = api.interaction(command("chart", query="diffusion", months=6))
    await invoke(bot, payload)
    (call,) = api.calls_to("POST", rf"/webhooks/{APP_ID}/.+")
    assert [name for name, _ in call.files] == ["trend.png"]
    assert call.files[0][1].startswith(b"\x89PNG")
    assert call.json["embeds"][0]["image"]["url"] == "attachment://trend.png"


async def test_help_shows_admin_commands_only_to_admins(api: FakeDiscord, bot: TrendsBot) -> None:
    member = api.interaction(command("help"))
    await invoke(bot, member)
    admin = api.interaction(command("help"), manage_guild=True)
    await invoke(bot, admin)
    assert "/trends search <query> [page]" in reply_text(api, member)
    assert "/trends-admin" not in reply_text(api, member).replace("also get /trends-admin", "")
    assert "/trends-admin topics add <name>" in reply_text(api, admin)


async def test_topic_autocomplete_offers_matching_topics(api: FakeDiscord, bot: TrendsBot) -> None:
    bot.chat.topics.list_topics()  # seeds the default topics
    options = command("topics remove", topic="agen")
    options[0]["options"][0]["options"][0]["focused"] = True
    payload = api.interaction(options, name="trends-admin", manage_guild=True, type=4)
    await invoke(bot, payload)
    (callback,) = api.calls_to("POST", rf"/interactions/{payload['id']}/.+/callback")
    assert callback.json["type"] == 8
    choices = callback.json["data"]["choices"]
    assert choices
    assert all("agen" in c["name"].casefold() for c in choices)


async def test_month_autocomplete_offers_past_digests(api: FakeDiscord, bot: TrendsBot) -> None:
    options = command("issue", month="2026")
    options[0]["options"][0]["focused"] = True
    payload = api.interaction(options, type=4)
    await invoke(bot, payload)
    (callback,) = api.calls_to("POST", rf"/interactions/{payload['id']}/.+/callback")
    choices = callback.json["data"]["choices"]
    assert choices[0] == {"name": f"{MONTH} — Trends in AI — {MONTH}", "value": MONTH}  # digests first
    assert all(c["name"].startswith("2026") for c in choices)


async def test_thumbs_up_on_a_pick_is_a_vote_and_removing_it_takes_it_back(
    api: FakeDiscord, bot: TrendsBot, container: Container
) -> None:
    await invoke(bot, api.interaction(command("subscribe"), name="trends-admin", manage_guild=True))
    await invoke(
        bot, api.interaction(command("publish", month=MONTH), name="trends-admin", manage_guild=True)
    )
    (thread,) = api.threads_of(TEXT_CHANNEL_ID)
    pick = api.messages_in(thread["id"])[0]
    event = load("reaction_add")
    event.update(message_id=pick["id"], channel_id=thread["id"])
    await settle(lambda: bot._connection.parse_message_reaction_add(event))  # type: ignore[arg-type]
    with UnitOfWork(container.session_factory) as uow:
        vote = uow.session.scalars(select(Vote)).one()
        assert (vote.platform, vote.workspace_id, vote.user_id, vote.value) == (
            "discord",
            GUILD_ID,
            event["user_id"],
            1,
        )
    # A 👍 on the parent message (not a pick) is ignored; removing the pick's 👍 deletes the vote.
    parent_event = {**event, "message_id": thread["id"], "channel_id": TEXT_CHANNEL_ID}
    await settle(lambda: bot._connection.parse_message_reaction_add(parent_event))  # type: ignore[arg-type]
    removed = {k: v for k, v in event.items() if k not in ("member", "message_author_id", "burst_colors")}
    await settle(lambda: bot._connection.parse_message_reaction_remove(removed))  # type: ignore[arg-type]
    assert _count(container, Vote) == 0


async def test_unexpected_error_gets_a_friendly_reply_and_a_logged_traceback(
    api: FakeDiscord, bot: TrendsBot, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenTopics:
        """A topics port failing the way a lost table would: a bug, not a user error."""

        def list_topics(self, **_: object) -> list[object]:
            raise RuntimeError('relation "topics" does not exist')

    bot.chat.topics = BrokenTopics()  # type: ignore[assignment]
    payload = api.interaction(command("topics"))
    with caplog.at_level(logging.ERROR, logger="adapters.discord"):
        await invoke(bot, payload)
    answer = reply_text(api, payload)
    assert answer == APOLOGY
    assert api.replies_to(payload)[-1]["flags"] == 64
    assert TOKEN not in answer
    assert payload["token"] not in answer
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None
    assert "topics" in caplog.text  # the traceback names the failing table, in the log only


async def test_error_before_the_defer_is_answered_directly(api: FakeDiscord, bot: TrendsBot) -> None:
    # A command the tree doesn't know (stale sync) fails before any response was sent.
    payload = api.interaction(command("gone"))
    await invoke(bot, payload)
    (callback,) = api.calls_to("POST", rf"/interactions/{payload['id']}/.+/callback")
    assert callback.json["type"] == 4
    assert callback.json["data"]["flags"] == 64
    assert TOKEN not in str(callback.json)


async def test_sync_only_uses_the_configured_api_url_and_returns_the_invite(
    api: FakeDiscord, container: Container
) -> None:
    settings = container.settings.model_copy(
        update={"discord_api_url": api.base_url, "discord_token": SecretStr(TOKEN), "discord_guild_ids": []}
    )
    discord.http.Route.BASE = "http://127.0.0.1:9/unused"  # create_bot must point discord.py at the setting
    bot = create_bot(replace(container, settings=settings))
    url = await sync_only(bot, TOKEN)
    assert f"client_id={APP_ID}" in url
    assert "global" in api.synced  # no guild ids: global commands


async def test_a_refused_token_is_a_config_error(api: FakeDiscord, container: Container) -> None:
    settings = container.settings.model_copy(update={"discord_token": SecretStr("wrong")})
    with pytest.raises(ConfigError, match="refused DISCORD_TOKEN"):
        await sync_only(create_bot(replace(container, settings=settings)), "wrong")
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        create_bot(replace(container, settings=container.settings.model_copy(update={"discord_token": None})))
