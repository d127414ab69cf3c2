"""Audiences on Discord, end to end: two servers against the fake Discord API, the real bot, the real
chat core and database.

- A manager of server B (Manage Server there) cannot create, edit, remove, enable or disable topics
  of, subscribe a channel to, preview or publish an audience owned by server A; each refusal says why
  and nothing of A's changes. A deployment admin (`TRENDS_ADMIN_USER_IDS`) can.
- With `TRENDS_ALLOWED_WORKSPACES`, a server not on the list gets only the refusal, and the bot leaves
  it when it joins (and says so in the log).
- Two audiences in one month each get their own ten picks in their own channels, exactly once; a 👍
  on a pick is a vote of that pick's audience.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from adapters.discord.client import TrendsBot
from bot.audiences import DEFAULT_AUDIENCE
from bot.bootstrap import Container, build
from bot.chat.service import NOT_INVITED
from bot.db.models import Audience, Digest, Subscription, Topic, Vote
from bot.db.uow import UnitOfWork
from bot.delivery import DeliveryEngine, Pacer
from bot.months import Month
from bot.publish import PublishService
from bot.scheduler import jobs
from bot.scheduler.context import AppContext
from bot.settings import load_settings
from tests.factories import make_paper
from tests.fakes.discord_api import GUILD_ID, TEXT_CHANNEL_ID, FakeDiscord, load, settle

TOKEN = "fake-discord-token"
GUILD_A = GUILD_ID
GUILD_B = "1308888888888888888"
GUILD_C = "1307777777777777777"  # not on the allowed list
MANAGER_A = "1199999999999999001"
MANAGER_B = "1199999999999999002"
DEPLOYMENT_ADMIN = "1199999999999999003"  # listed as discord:GUILD_B:DEPLOYMENT_ADMIN, no Manage Server
MONTH = "2026-10"
NOW = dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC)


async def _no_sleep(_: float) -> None:
    return None


def command(subcommand: str, **options: Any) -> list[dict[str, Any]]:
    values = [
        {"type": 4 if isinstance(v, int) else 3, "name": k, "value": v}
        for k, v in options.items()
        if v is not None
    ]
    if " " in subcommand:
        group, sub = subcommand.split(" ", 1)
        return [{"type": 2, "name": group, "options": [{"type": 1, "name": sub, "options": values}]}]
    return [{"type": 1, "name": subcommand, "options": values}]


def interaction(
    api: FakeDiscord,
    options: list[dict[str, Any]],
    *,
    guild: str,
    channel: dict[str, Any],
    user: str,
    manage_guild: bool,
    name: str = "trends-admin",
) -> dict[str, Any]:
    """An interaction in `guild`'s `channel` by `user` (the recorded payload, moved there)."""
    payload = api.interaction(options, name=name, manage_guild=manage_guild, channel_id=channel["id"])
    payload["guild_id"] = guild
    payload["guild"] = {**payload["guild"], "id": guild}
    payload["channel"] = {**copy.deepcopy(channel), "guild_id": guild}
    payload["authorizing_integration_owners"] = {"0": guild}
    payload["member"]["user"]["id"] = user
    return payload


def reply_text(api: FakeDiscord, payload: dict[str, Any]) -> str:
    parts = []
    for message in api.replies_to(payload):
        parts.append(message.get("content") or "")
        for embed in message.get("embeds") or []:
            parts += [embed.get("title") or "", embed.get("description") or ""]
    return "\n".join(part for part in parts if part)


async def invoke(bot: TrendsBot, payload: dict[str, Any]) -> None:
    await settle(lambda: bot._connection.parse_interaction_create(payload))  # type: ignore[arg-type]


@pytest.fixture
async def api() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord.running() as fake:
        yield fake


def _settings(db_url: str, **extra: Any) -> Any:
    return load_settings(
        database_url=db_url,
        admin_user_ids=[f"discord:{GUILD_B}:{DEPLOYMENT_ADMIN}"],
        max_per_topic=10,
        **extra,
    )


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    built = build(_settings(db_url))
    yield built
    built.close()


async def _bot(container: Container) -> TrendsBot:
    client = TrendsBot(container, guild_ids=[int(GUILD_A)])
    # The engine's ~1 message/s pacing is real behaviour, but not something to wait for in tests.
    engine = DeliveryEngine(
        container.session_factory,
        pacer=Pacer(0.0, sleep=_no_sleep),
        allowed_workspaces=container.settings.allowed_workspaces,
    )
    client.chat.publisher = PublishService(client.chat.digests, engine)
    await client.login(TOKEN)
    return client


@pytest.fixture
async def bot(api: FakeDiscord, container: Container) -> AsyncIterator[TrendsBot]:
    client = await _bot(container)
    yield client
    await client.close()


def _own_words(tag: str, i: int, n: int) -> str:
    """Words paper `i` of `n` shares with exactly one neighbour each: every word relates two papers
    (tf-idf ignores words seen once), and no two papers are near-duplicates."""
    pairs = [(i, (i + d) % n) for d in (1, 2, 3)] + [((i - d) % n, i) for d in (1, 2, 3)]
    return " ".join(f"{tag}q{min(a, b)}z{max(a, b)}" for a, b in pairs)


def _add_month(container: Container) -> None:
    """October: twelve robot-grasping papers, twelve protein-folding papers and four others."""
    with UnitOfWork(container.session_factory) as uow:
        papers = []
        for subject, prefix in (("robot grasping", "2610.1"), ("protein folding", "2610.2")):
            for i in range(12):
                own = _own_words(subject[:3], i, 12)
                papers.append(
                    make_paper(
                        f"{prefix}{i:04d}",
                        title=f"{subject.capitalize()} number {i}",
                        abstract=f"We study {subject} with {own}.",
                        submitted=dt.datetime(2026, 10, 3 + i, 12, tzinfo=dt.UTC),
                    )
                )
        for i in range(4):
            papers.append(
                make_paper(f"2610.3{i:04d}", title=f"Other {i}", abstract=f"Misc {_own_words('oth', i, 4)}.")
            )
        uow.session.add_all(papers)
        uow.commit()


def _topics_of(container: Container, audience: str) -> list[tuple[str, tuple[str, ...], float, bool]]:
    with UnitOfWork(container.session_factory) as uow:
        rows = uow.session.scalars(
            select(Topic).join(Audience, Audience.id == Topic.audience_id).where(Audience.name == audience)
        )
        return sorted((t.name, tuple(t.include_phrases), t.weight, t.enabled) for t in rows)


def _subscriptions(container: Container) -> list[tuple[str, str, str]]:
    with UnitOfWork(container.session_factory) as uow:
        rows = uow.session.execute(
            select(Subscription.workspace_id, Subscription.channel_id, Audience.name)
            .join(Audience, Audience.id == Subscription.audience_id)
            .where(Subscription.active.is_(True))
        )
        return sorted((w, c, a) for w, c, a in rows)


def _digests(container: Container) -> list[tuple[str, str, str]]:
    with UnitOfWork(container.session_factory) as uow:
        rows = uow.session.execute(
            select(Audience.name, Digest.month, Digest.status).join(
                Audience, Audience.id == Digest.audience_id
            )
        )
        return sorted((a, m, s) for a, m, s in rows)


async def test_a_manager_of_another_server_cannot_touch_an_audience_a_deployment_admin_can(
    api: FakeDiscord, bot: TrendsBot, container: Container
) -> None:
    _add_month(container)
    channel_a = api.channels[TEXT_CHANNEL_ID]
    channel_b = api.add_guild_channel(GUILD_B)

    def as_a(options: list[dict[str, Any]]) -> dict[str, Any]:
        return interaction(api, options, guild=GUILD_A, channel=channel_a, user=MANAGER_A, manage_guild=True)

    def as_b(options: list[dict[str, Any]], *, user: str = MANAGER_B, manage: bool = True) -> dict[str, Any]:
        return interaction(api, options, guild=GUILD_B, channel=channel_b, user=user, manage_guild=manage)

    # Server A's manager creates "team-a" by subscribing A's channel to it, and gives it a topic.
    subscribe = as_a(command("subscribe", audience="team-a"))
    await invoke(bot, subscribe)
    assert "will receive the monthly digest of team-a" in reply_text(api, subscribe)
    add = as_a(command("topics add", name="Grasping", include="robot grasping", audience="team-a"))
    await invoke(bot, add)
    assert "Added topic" in reply_text(api, add)
    topics_before = _topics_of(container, "team-a")
    assert ("Grasping", ("robot grasping",), 1.0, True) in topics_before
    subscriptions_before = _subscriptions(container)
    assert subscriptions_before == [(GUILD_A, TEXT_CHANNEL_ID, "team-a")]

    # Server B's manager tries everything on team-a: every call is refused and says why.
    attempts = [
        command("topics add", name="Proteins", include="protein folding", audience="team-a"),
        command("topics edit", topic="Grasping", include="anything at all", audience="team-a"),
        command("topics remove", topic="Grasping", audience="team-a"),
        command("topics disable", topic="Grasping", audience="team-a"),
        command("topics enable", topic="Grasping", audience="team-a"),
        command("subscribe", audience="team-a"),
        command("preview", month=MONTH, audience="team-a"),
        command("publish", month=MONTH, audience="team-a"),
    ]
    for options in attempts:
        payload = as_b(options)
        await invoke(bot, payload)
        text = reply_text(api, payload)
        assert "belongs to another workspace" in text, (options, text)
        assert "Nothing was changed" in text
    # A channel of server A subscribed to team-a makes no difference to B's admin in A's audience.
    assert _topics_of(container, "team-a") == topics_before
    assert _subscriptions(container) == subscriptions_before
    assert _digests(container) == []  # no preview was built, nothing published
    assert api.messages_in(TEXT_CHANNEL_ID) == []
    assert api.messages_in(channel_b["id"]) == []

    # A member of server B without Manage Server is refused as before.
    plain = as_b(
        command("topics add", name="X", include="x", audience="team-a"),
        user="1199999999999999004",
        manage=False,
    )
    await invoke(bot, plain)
    assert "only workspace admins" in reply_text(api, plain)

    # The deployment admin (listed for server B, without Manage Server) may do all of it.
    admin_add = as_b(
        command("topics add", name="Proteins", include="protein folding", audience="team-a"),
        user=DEPLOYMENT_ADMIN,
        manage=False,
    )
    await invoke(bot, admin_add)
    assert "Added topic *Proteins* of team-a" in reply_text(api, admin_add)
    admin_subscribe = as_b(command("subscribe", audience="team-a"), user=DEPLOYMENT_ADMIN, manage=False)
    await invoke(bot, admin_subscribe)
    assert "will receive the monthly digest of team-a" in reply_text(api, admin_subscribe)
    admin_remove = as_b(
        command("topics remove", topic="Grasping", audience="team-a"), user=DEPLOYMENT_ADMIN, manage=False
    )
    await invoke(bot, admin_remove)
    assert "Removed topic *Grasping*" in reply_text(api, admin_remove)
    names = [name for name, *_ in _topics_of(container, "team-a")]
    assert "Proteins" in names
    assert "Grasping" not in names
    assert _subscriptions(container) == sorted(
        [(GUILD_A, TEXT_CHANNEL_ID, "team-a"), (GUILD_B, channel_b["id"], "team-a")]
    )
    publish = as_b(command("publish", month=MONTH, audience="team-a"), user=DEPLOYMENT_ADMIN, manage=False)
    await invoke(bot, publish)
    assert f"Posted the {MONTH} digest to 2 of 2 channel(s)." in reply_text(api, publish)
    assert ("team-a", MONTH, "published") in _digests(container)

    # Server B's manager still rules what server B owns: a new audience, created by subscribing.
    own = as_b(command("subscribe", audience="team-b"))
    await invoke(bot, own)
    assert "will receive the monthly digest of team-b" in reply_text(api, own)
    own_topic = as_b(command("topics add", name="Folding", include="protein folding", audience="team-b"))
    await invoke(bot, own_topic)
    assert "Added topic *Folding* of team-b" in reply_text(api, own_topic)
    # …and server A's manager cannot touch team-b.
    reverse = as_a(command("topics remove", topic="Folding", audience="team-b"))
    await invoke(bot, reverse)
    assert "belongs to another workspace" in reply_text(api, reverse)
    assert "Folding" in [name for name, *_ in _topics_of(container, "team-b")]


async def test_a_server_not_on_the_allowed_list_gets_only_the_refusal_and_the_bot_leaves_it(
    api: FakeDiscord, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    container = build(_settings(db_url, allowed_workspaces=[GUILD_A, GUILD_B]))
    bot = await _bot(container)
    try:
        channel_c = api.add_guild_channel(GUILD_C)
        for options, name, manage in (
            (command("help"), "trends", False),
            (command("latest"), "trends", False),
            (command("search", query="robot"), "trends", False),
            (command("subscribe", audience="team-c"), "trends-admin", True),
            (command("topics add", name="X", include="x"), "trends-admin", True),
        ):
            payload = interaction(
                api, options, guild=GUILD_C, channel=channel_c, user=MANAGER_B, manage_guild=manage, name=name
            )
            await invoke(bot, payload)
            assert reply_text(api, payload) == NOT_INVITED, options
        assert _subscriptions(container) == []
        with UnitOfWork(container.session_factory) as uow:
            assert uow.session.scalars(select(Audience.name)).all() in ([], [DEFAULT_AUDIENCE])

        # Joining: the bot leaves server C at once and logs it; servers on the list are kept.
        guild_payload = {"id": GUILD_C, "name": "Uninvited", "owner_id": "1", "features": [], "roles": []}
        with caplog.at_level(logging.WARNING, logger="adapters.discord.client"):
            await settle(lambda: bot._connection.parse_guild_create(guild_payload))  # type: ignore[arg-type]
            await settle(
                lambda: bot._connection.parse_guild_create(  # type: ignore[arg-type]
                    {**guild_payload, "id": GUILD_B, "name": "Invited"}
                )
            )
        assert api.left_guilds == [GUILD_C]
        assert any(
            "leaving Discord server" in r.getMessage() and GUILD_C in r.getMessage() for r in caplog.records
        )
    finally:
        await bot.close()
        container.close()


async def test_no_digest_is_posted_outside_the_allowed_servers(api: FakeDiscord, db_url: str) -> None:
    # A channel of server C was subscribed before the list was set; publishing skips it.
    open_container = build(_settings(db_url))
    _add_month(open_container)
    open_bot = await _bot(open_container)
    channel_c = api.add_guild_channel(GUILD_C)
    try:
        payload = interaction(
            api,
            command("subscribe", audience="team-c"),
            guild=GUILD_C,
            channel=channel_c,
            user=MANAGER_B,
            manage_guild=True,
        )
        await invoke(open_bot, payload)
        assert "will receive the monthly digest of team-c" in reply_text(api, payload)
    finally:
        await open_bot.close()
        open_container.close()

    container = build(_settings(db_url, allowed_workspaces=[GUILD_A]))
    bot = await _bot(container)
    try:
        subscribe_a = interaction(
            api,
            command("subscribe"),
            guild=GUILD_A,
            channel=api.channels[TEXT_CHANNEL_ID],
            user=MANAGER_A,
            manage_guild=True,
        )
        await invoke(bot, subscribe_a)
        assert "will receive the monthly digest" in reply_text(api, subscribe_a)
        context = AppContext(container, posters={"discord": bot.poster}, clock=lambda: NOW)
        context.delivery_engine = bot.chat.publisher._engine  # the paced-off engine, same allowed list
        outcomes = await jobs.run_digests(context)
        assert [(o.audience, o.action) for o in outcomes] == [
            (DEFAULT_AUDIENCE, "published"),
            ("team-c", "published"),
        ]
        team_c = next(o for o in outcomes if o.audience == "team-c")
        assert team_c.report is not None
        assert team_c.report.outcomes == ()
        assert len(api.messages_in(TEXT_CHANNEL_ID)) == 1
        assert api.messages_in(channel_c["id"]) == []
        assert api.threads_of(channel_c["id"]) == []
    finally:
        await bot.close()
        container.close()


async def test_two_audiences_each_get_their_own_ten_picks_in_their_own_channels_exactly_once(
    api: FakeDiscord, bot: TrendsBot, container: Container
) -> None:
    _add_month(container)
    channel_a = api.channels[TEXT_CHANNEL_ID]
    channel_b = api.add_guild_channel(GUILD_B)
    setup = [
        (GUILD_A, channel_a, MANAGER_A, command("subscribe", audience="robots")),
        (GUILD_A, channel_a, MANAGER_A, command("topics add", name="Grasping", include="robot grasping")),
        (GUILD_B, channel_b, MANAGER_B, command("subscribe", audience="proteins")),
        (GUILD_B, channel_b, MANAGER_B, command("topics add", name="Folding", include="protein folding")),
    ]
    for guild, channel, user, options in setup:
        payload = interaction(api, options, guild=guild, channel=channel, user=user, manage_guild=True)
        await invoke(bot, payload)
        assert "Added topic" in reply_text(api, payload) or "will receive" in reply_text(api, payload)
    # Only the topic each team added (the seeded defaults would pick other papers too).
    with UnitOfWork(container.session_factory) as uow:
        for topic in uow.session.scalars(select(Topic).where(Topic.name.not_in(["Grasping", "Folding"]))):
            topic.enabled = False
        uow.commit()

    context = AppContext(container, posters={"discord": bot.poster}, clock=lambda: NOW)
    context.delivery_engine = bot.chat.publisher._engine
    outcomes = await jobs.run_digests(context)
    by_audience = {o.audience: o for o in outcomes}
    assert by_audience["robots"].action == "published"
    assert by_audience["proteins"].action == "published"
    # Run again (a misfire, a restart): nothing is posted twice.
    again = await jobs.run_digests(context)
    assert {o.audience: o.action for o in again}["robots"] == "resumed"

    for channel, word in ((channel_a, "Robot grasping"), (channel_b, "Protein folding")):
        parents = api.messages_in(channel["id"])
        assert len(parents) == 1, channel["id"]
        assert parents[0]["embeds"][0]["title"] == f"Trends in AI — {Month.parse(MONTH).label}"
        (thread,) = api.threads_of(channel["id"])
        picks = api.messages_in(thread["id"])
        titles = [m["embeds"][0]["title"] for m in picks]
        assert len(titles) == 10, titles
        assert all(word in title for title in titles), titles
        assert len(set(titles)) == 10

    # `/trends latest` in each channel answers with that channel's audience's digest.
    for guild, channel, user, word in (
        (GUILD_A, channel_a, MANAGER_A, "Robot grasping"),
        (GUILD_B, channel_b, MANAGER_B, "Protein folding"),
    ):
        latest = interaction(
            api, command("latest"), guild=guild, channel=channel, user=user, manage_guild=False, name="trends"
        )
        await invoke(bot, latest)
        assert word in reply_text(api, latest)

    # A 👍 on a proteins pick in server B is a vote of the proteins audience.
    (thread_b,) = api.threads_of(channel_b["id"])
    pick = api.messages_in(thread_b["id"])[0]
    event = load("reaction_add")
    event.update(message_id=pick["id"], channel_id=thread_b["id"], guild_id=GUILD_B)
    await settle(lambda: bot._connection.parse_message_reaction_add(event))  # type: ignore[arg-type]
    with UnitOfWork(container.session_factory) as uow:
        vote, audience = uow.session.execute(
            select(Vote, Audience.name).join(Audience, Audience.id == Vote.audience_id)
        ).one()
        assert (audience, vote.workspace_id, vote.value) == ("proteins", GUILD_B, 1)
