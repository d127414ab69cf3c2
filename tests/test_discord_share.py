"""Discord answers people can share, end to end through discord.py and a fake Discord API.

`public:True` on search, chart, latest and issue defers publicly and posts the answer for the channel;
without it the answer stays private and carries a persistent Share button whose click posts it for
the channel. Errors and empty results never go public. Search hits featured in a digest posted in
this server link to the paper's message in the digest thread; another server gets no such link.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.discord.client import TrendsBot
from adapters.discord.render import message_link
from adapters.discord.share import CUSTOM_ID_LIMIT, command_of, share_custom_id
from bot.archive.views import ThreadRef
from bot.bootstrap import Container, build
from bot.chat import commands as c
from bot.db.uow import UnitOfWork
from bot.delivery import DeliveryEngine, Pacer
from bot.publish import PublishService
from bot.settings import load_settings
from tests.factories import add_published_digest, make_paper
from tests.fakes.discord_api import APP_ID, GUILD_ID, TEXT_CHANNEL_ID, FakeDiscord, limit_violations, settle

TOKEN = "fake-discord-token"
MONTH = "2026-10"
PICKS = 3
EPHEMERAL = 64
MEMBER_ID = "1308888888888888001"


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def api() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord.running() as fake:
        yield fake


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
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
    yield built
    built.close()


@pytest.fixture
async def bot(api: FakeDiscord, container: Container) -> AsyncIterator[TrendsBot]:
    client = TrendsBot(container, guild_ids=[int(GUILD_ID)])
    client.chat.publisher = PublishService(
        client.chat.digests, DeliveryEngine(container.session_factory, pacer=Pacer(0.0, sleep=_no_sleep))
    )
    await client.login(TOKEN)
    yield client
    await client.close()


def command(subcommand: str, **options: Any) -> list[dict[str, Any]]:
    """`data.options` for `/trends <subcommand> opt:value …` (booleans are type 5, integers 4)."""

    def kind(value: object) -> int:
        return 5 if isinstance(value, bool) else 4 if isinstance(value, int) else 3

    values = [{"type": kind(v), "name": k, "value": v} for k, v in options.items()]
    return [{"type": 1, "name": subcommand, "options": values}]


async def invoke(bot: TrendsBot, payload: dict[str, Any]) -> None:
    await settle(lambda: bot._connection.parse_interaction_create(payload))  # type: ignore[arg-type]


def callback_of(api: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    (call,) = api.calls_to("POST", rf"/interactions/{payload['id']}/.+/callback")
    body: dict[str, Any] = call.json
    return body


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for row in message.get("components") or [] for item in row.get("components", [])]


def fields_text(message: dict[str, Any]) -> str:
    return "\n".join(
        f"{f['name']} {f['value']}" for e in message.get("embeds") or [] for f in e.get("fields", [])
    )


def click_payload(api: FakeDiscord, message: dict[str, Any], *, user_id: str = MEMBER_ID) -> dict[str, Any]:
    """The MESSAGE_COMPONENT interaction for a click on the first button of `message`."""
    payload = api.interaction([])
    payload.update(
        type=3,
        data={"custom_id": buttons(message)[0]["custom_id"], "component_type": 2},
        message=copy.deepcopy(message),
    )
    payload["member"]["user"].update(id=user_id, username="sharer")
    return payload


# -- private by default, with a Share button -----------------------------------------------------


async def test_a_search_is_private_and_carries_a_share_button(api: FakeDiscord, bot: TrendsBot) -> None:
    payload = api.interaction(command("search", query="diffusion"))
    await invoke(bot, payload)
    assert callback_of(api, payload) == {"type": 5, "data": {"flags": EPHEMERAL}}
    (answer,) = api.replies_to(payload)
    assert answer["flags"] == EPHEMERAL
    (button,) = buttons(answer)
    assert (button["label"], button["custom_id"]) == ("Share", "trends:share:s:1:diffusion")
    assert "Diffusion paper" in fields_text(answer)


async def test_share_posts_the_answer_for_the_channel_signed_by_the_clicker(
    api: FakeDiscord, bot: TrendsBot
) -> None:
    search = api.interaction(command("search", query="diffusion"))
    await invoke(bot, search)
    (private,) = api.replies_to(search)
    click = click_payload(api, private)
    await invoke(bot, click)
    assert callback_of(api, click) == {"type": 5}  # a public "thinking…", in the channel
    (shared,) = api.replies_to(click)
    assert shared.get("flags", 0) & EPHEMERAL == 0
    assert shared["content"] == f"Shared by <@{MEMBER_ID}>"
    assert fields_text(shared) == fields_text(private)
    assert not buttons(shared)  # it is public already
    (followup,) = [call.json for call in api.calls_to("POST", rf"/webhooks/{APP_ID}/{click['token']}")]
    assert followup["allowed_mentions"] == {"parse": []}  # the signature does not ping


async def test_latest_shares_the_month_it_showed(api: FakeDiscord, bot: TrendsBot) -> None:
    latest = api.interaction(command("latest"))
    await invoke(bot, latest)
    (private,) = api.replies_to(latest)
    assert private["flags"] == EPHEMERAL
    assert buttons(private)[0]["custom_id"] == f"trends:share:i:{MONTH}@default"
    click = click_payload(api, private)
    await invoke(bot, click)
    (shared,) = api.replies_to(click)
    assert shared.get("flags", 0) & EPHEMERAL == 0
    assert shared["embeds"][0]["title"] == f"Trends in AI — {MONTH}"


async def test_a_shared_chart_is_drawn_again_with_its_png(api: FakeDiscord, bot: TrendsBot) -> None:
    chart = api.interaction(command("chart", query="diffusion", months=6))
    await invoke(bot, chart)
    (private,) = api.replies_to(chart)
    assert buttons(private)[0]["custom_id"] == "trends:share:c:6:diffusion"
    click = click_payload(api, private)
    await invoke(bot, click)
    (shared,) = api.replies_to(click)
    assert shared.get("flags", 0) & EPHEMERAL == 0
    (call,) = api.calls_to("POST", rf"/webhooks/{APP_ID}/{click['token']}")
    assert [name for name, _ in call.files] == ["trend.png"]
    assert call.files[0][1].startswith(b"\x89PNG")


async def test_a_query_too_long_for_a_button_gets_none_and_an_error_gets_none(
    api: FakeDiscord, bot: TrendsBot
) -> None:
    long_search = api.interaction(command("search", query="diffusion " + "video " * 20))
    await invoke(bot, long_search)
    (answer,) = api.replies_to(long_search)
    assert answer["flags"] == EPHEMERAL
    assert not buttons(answer)
    missing = api.interaction(command("issue", month="2019-01"))
    await invoke(bot, missing)
    (refusal,) = api.replies_to(missing)
    assert refusal["flags"] == EPHEMERAL
    assert not buttons(refusal)


# -- public:True ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subcommand", "options"),
    [("search", {"query": "diffusion"}), ("latest", {}), ("issue", {"month": MONTH})],
)
async def test_public_answers_go_to_the_channel_without_a_share_button(
    api: FakeDiscord, bot: TrendsBot, subcommand: str, options: dict[str, Any]
) -> None:
    payload = api.interaction(command(subcommand, **options, public=True))
    await invoke(bot, payload)
    assert callback_of(api, payload) == {"type": 5}  # deferred publicly
    (answer,) = api.replies_to(payload)
    assert answer.get("flags", 0) & EPHEMERAL == 0
    assert answer["embeds"]
    assert not buttons(answer)
    assert not api.deleted_replies
    assert not limit_violations(api.calls)


async def test_a_public_chart_attaches_its_png_for_everyone(api: FakeDiscord, bot: TrendsBot) -> None:
    payload = api.interaction(command("chart", query="diffusion", months=6, public=True))
    await invoke(bot, payload)
    (answer,) = api.replies_to(payload)
    assert answer.get("flags", 0) & EPHEMERAL == 0
    (call,) = api.calls_to("POST", rf"/webhooks/{APP_ID}/.+")
    assert [name for name, _ in call.files] == ["trend.png"]


@pytest.mark.parametrize(
    ("subcommand", "options"),
    [("search", {"query": "zzzunheardofword"}), ("issue", {"month": "2019-01"})],
)
async def test_nothing_found_or_an_error_is_not_posted_publicly(
    api: FakeDiscord, bot: TrendsBot, subcommand: str, options: dict[str, Any]
) -> None:
    payload = api.interaction(command(subcommand, **options, public=True))
    await invoke(bot, payload)
    assert callback_of(api, payload) == {"type": 5}
    assert len(api.deleted_replies) == 1  # the public "thinking…" was withdrawn
    (answer,) = api.replies_to(payload)
    assert answer["flags"] == EPHEMERAL
    assert answer["id"] != api.deleted_replies[0]


# -- links to the digest thread ------------------------------------------------------------------


async def _publish_here(api: FakeDiscord, bot: TrendsBot) -> dict[str, str]:
    """Subscribe the text channel and publish; returns {pick title: its message id in the thread}."""
    for options in (command("subscribe"), command("publish", month=MONTH)):
        payload = api.interaction(options, name="trends-admin", manage_guild=True)
        await invoke(bot, payload)
    (thread,) = api.threads_of(TEXT_CHANNEL_ID)
    picks = api.messages_in(thread["id"])
    return {m["embeds"][0]["title"].split(". ", 1)[1]: m["id"] for m in picks} | {"thread": thread["id"]}


async def test_search_hits_link_the_papers_message_in_this_servers_digest_thread(
    api: FakeDiscord, bot: TrendsBot
) -> None:
    posted = await _publish_here(api, bot)
    payload = api.interaction(command("search", query="diffusion"))
    await invoke(bot, payload)
    (answer,) = api.replies_to(payload)
    text = fields_text(answer)
    for i in range(1, PICKS + 1):
        url = f"https://discord.com/channels/{GUILD_ID}/{posted['thread']}/{posted[f'Diffusion paper {i}']}"
        assert f"[Digest thread ({MONTH})]({url})" in text
    assert not limit_violations(api.calls)


async def test_another_server_gets_no_link_to_a_thread_it_cannot_open(
    api: FakeDiscord, bot: TrendsBot
) -> None:
    await _publish_here(api, bot)
    other = "1309999999999999000"
    payload = api.interaction(command("search", query="diffusion"), guild_id=other)
    payload["guild"]["id"] = payload["channel"]["guild_id"] = other
    await invoke(bot, payload)
    (answer,) = api.replies_to(payload)
    text = fields_text(answer)
    assert "Diffusion paper 1" in text
    assert "Digest thread" not in text
    assert "discord.com/channels" not in text


# -- the custom_id ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command_",
    [c.Search("diffusion: video", 2), c.Chart("agents", 24), c.Issue(MONTH), c.Issue(MONTH, "research")],
)
def test_a_share_custom_id_names_its_command_again(command_: c.Command) -> None:
    custom_id = share_custom_id(command_)
    assert custom_id is not None
    assert len(custom_id) <= CUSTOM_ID_LIMIT
    kind, rest = custom_id.removeprefix("trends:share:").split(":", 1)
    assert command_of(kind, rest) == command_


def test_what_cannot_be_shared_by_button() -> None:
    assert share_custom_id(c.Search("x" * 100)) is None
    assert share_custom_id(c.Issue("latest")) is None
    assert share_custom_id(c.Help()) is None
    assert command_of("s", "one:diffusion") is None
    assert command_of("c", "12:  ") is None


def test_message_links_name_the_papers_message_else_the_thread_else_the_parent() -> None:
    ref = ThreadRef("discord", "1", "2", "3", thread_id="3", paper_message_id="4")
    assert message_link(ref) == "https://discord.com/channels/1/3/4"  # a message inside the thread
    assert message_link(replace(ref, paper_message_id=None)) == "https://discord.com/channels/1/3"
    assert (
        message_link(replace(ref, thread_id=None, paper_message_id=None))
        == "https://discord.com/channels/1/2/3"
    )
