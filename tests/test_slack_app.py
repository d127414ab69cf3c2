"""The Slack app end to end: signed HTTP requests into the real bolt app, a fake Slack on 127.0.0.1.

The app runs in HTTP mode on an aiohttp server (port 0); the bot's `AsyncWebClient` and bolt's
`respond()` talk to `tests/fakes/slack_api.py` over HTTP; the chat core and the database are real.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from sqlalchemy import func, select

from adapters.slack.app import (
    APOLOGY,
    ResponseUrls,
    build_app,
    build_web_app,
    build_web_client,
    create_runtime,
)
from adapters.slack.blocks import (
    ACTION_CHART,
    ACTION_SEARCH_MORE,
    ACTION_SHARE,
    BLOCKS_CHAR_BUDGET,
    blocks_size,
)
from adapters.slack.poster import METADATA_EVENT_TYPE, SlackPoster
from bot.bootstrap import Container, build
from bot.chat.commands import Command
from bot.chat.replies import Reply
from bot.chat.service import ChatService
from bot.db.models import Digest, DigestEntry, Subscription, Topic, Vote
from bot.delivery import DeliveryEngine, Pacer
from bot.feedback import FeedbackService
from bot.invocation import Invocation
from bot.publish import PublishService
from bot.settings import load_settings
from tests.factories import add_published_digest, make_paper
from tests.fakes.slack_api import (
    SIGNING_SECRET,
    FakeSlack,
    load_payload,
    signed_headers,
    slash_command_body,
)

CHANNEL = "C0DIGEST01"
MEMBER = "U0MEMBER01"
ADMIN = "U0ADMIN001"
AUTHORS = ("Ada Lovelace", "Alan Turing")


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-0000-not-a-real-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        yield slack


@dataclass
class Harness:
    slack: FakeSlack
    container: Container
    chat: ChatService
    app: AsyncApp
    url: str
    session: aiohttp.ClientSession

    async def post(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        async with self.session.post(self.url + "slack/events", data=body, headers=headers) as response:
            return response.status, await response.text()

    async def command(self, text: str, user: str = MEMBER, key: str = "cmd") -> tuple[int, str]:
        body = slash_command_body(text, self.slack.response_url(key), user_id=user)
        return await self.post(body, signed_headers(SIGNING_SECRET, body))

    async def ask(self, text: str, user: str = MEMBER) -> dict[str, Any]:
        """Run `/trends <text>` and return what the app posted to the response_url."""
        before = len(self.slack.responses)
        status, _ = await self.command(text, user)
        assert status == 200
        responses = await self.slack.wait_for_responses(before + 1)
        return responses[before].params

    async def click(self, action_id: str, value: str, user: str = MEMBER) -> tuple[int, str]:
        payload = load_payload("block_actions.json")
        payload["actions"][0].update(action_id=action_id, value=value)
        payload["user"]["id"] = user
        payload["response_url"] = self.slack.response_url("action")
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, signed_headers(SIGNING_SECRET, body))

    async def event(self, payload: dict[str, Any]) -> tuple[int, str]:
        body = json.dumps(payload)
        headers = {**signed_headers(SIGNING_SECRET, body), "Content-Type": "application/json"}
        return await self.post(body, headers)


async def _start(app: AsyncApp) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(build_web_app(app), access_log=None, shutdown_timeout=0.25)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/"


@asynccontextmanager
async def running_app(fake_slack: FakeSlack, database_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(database_url=database_url, slack_api_url=fake_slack.api_url)
    container = build(settings)
    holder: dict[str, ChatService] = {}

    def make_chat(poster: SlackPoster) -> ChatService:
        chat = ChatService(container, posters={"slack": poster})
        # The real engine and publisher, without the 1 message/s pacing (tests need no politeness).
        engine = DeliveryEngine(container.session_factory, pacer=Pacer(interval=0.0))
        chat.publisher = PublishService(chat.digests, engine)
        holder["chat"] = chat
        return chat

    runtime = create_runtime(settings, make_chat, FeedbackService(container.session_factory))
    runner, url = await _start(runtime.app)
    try:
        async with aiohttp.ClientSession() as session:
            yield Harness(fake_slack, container, holder["chat"], runtime.app, url, session)
    finally:
        await runtime.responses.close()
        await runner.cleanup()
        container.close()


@pytest.fixture
async def harness(slack_env: None, fake_slack: FakeSlack, sqlite_url: str) -> AsyncIterator[Harness]:
    """The app on SQLite (for tests about Slack behaviour, where the engine does not matter)."""
    async with running_app(fake_slack, sqlite_url) as running:
        yield running


@pytest.fixture
async def harness_any_db(slack_env: None, fake_slack: FakeSlack, db_url: str) -> AsyncIterator[Harness]:
    """The app on each database engine (for tests whose outcome is stored: publishing, votes)."""
    async with running_app(fake_slack, db_url) as running:
        yield running


def _add_papers(container: Container, count: int, title: str = "Diffusion models for video") -> list[int]:
    with container.uow() as uow:
        papers = [
            make_paper(f"2610.{i:05d}", title=f"{title} {i}", abstract="We study diffusion models at scale.")
            for i in range(1, count + 1)
        ]
        uow.session.add_all(papers)
        uow.session.flush()
        ids = [p.id for p in papers]
        uow.commit()
    return ids


def _add_digest(container: Container, picks: int) -> None:
    with container.uow() as uow:
        papers = [
            make_paper(
                f"2610.{i:05d}", title=f"Agents that plan {i}", authors=("Ada Lovelace", "Alan Turing")
            )
            for i in range(1, picks + 1)
        ]
        uow.session.add_all(papers)
        uow.session.flush()
        digest = add_published_digest(uow.session, "2026-10", papers)
        for entry in uow.session.scalars(select(DigestEntry).where(DigestEntry.digest_id == digest.id)):
            entry.why = f"Planning agents {entry.position} solve long tasks. " * 3
            entry.insights = "A search over plans; fewer tool calls."
            entry.topic_name = "Agents"
        uow.commit()


def _texts(response: dict[str, Any]) -> str:
    """Everything a user would read in a response: fallback text and every block's text."""
    return response["text"] + "\n" + json.dumps(response.get("blocks") or [], ensure_ascii=False)


# --- request signing ------------------------------------------------------------------------


async def test_unsigned_badly_signed_and_replayed_requests_are_refused(harness: Harness) -> None:
    body = slash_command_body("help", harness.slack.response_url())
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    bad = signed_headers("not-the-secret", body)
    replayed = signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60)
    for headers in (unsigned, bad, replayed):
        status, _ = await harness.post(body, headers)
        assert status == 401
    # A correctly signed copy of the same body is accepted: the refusals were about the signature.
    status, _ = await harness.post(body, signed_headers(SIGNING_SECRET, body))
    assert status == 200
    await harness.slack.wait_for_responses(1)
    assert len(harness.slack.responses) == 1


async def test_healthz(harness: Harness) -> None:
    async with harness.session.get(harness.url + "healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


# --- commands -------------------------------------------------------------------------------


async def test_help_is_ephemeral_usage(harness: Harness) -> None:
    status, body = await harness.command("help")
    assert status == 200
    assert body == ""  # the ack carries nothing: the answer comes through response_url
    response = (await harness.slack.wait_for_responses(1))[0].params
    assert response["response_type"] == "ephemeral"
    assert "/trends" in response["text"]
    assert "latest" in _texts(response)
    assert all(b["type"] in ("section", "context") for b in response["blocks"])
    # A member is not shown the admin commands.
    assert "/trends publish" not in response["text"]


async def test_search_renders_top_five_with_more_and_chart_buttons(harness_any_db: Harness) -> None:
    harness = harness_any_db
    _add_papers(harness.container, 7)
    response = await harness.ask("diffusion")
    assert response["response_type"] == "ephemeral"
    sections = [b for b in response["blocks"] if b["type"] == "section"]
    assert len(sections) == 5
    assert all("<https://arxiv.org/abs/2610." in s["text"]["text"] for s in sections)
    assert all("Ada Lovelace" in s["text"]["text"] for s in sections)
    actions = next(b for b in response["blocks"] if b["type"] == "actions")
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == [ACTION_SEARCH_MORE, ACTION_CHART, ACTION_SHARE]
    more = actions["elements"][0]["value"]
    assert json.loads(more) == {"q": "diffusion", "p": 2}

    status, _ = await harness.click(ACTION_SEARCH_MORE, more)
    assert status == 200
    page_two = (await harness.slack.wait_for_responses(2))[1].params
    sections = [b for b in page_two["blocks"] if b["type"] == "section"]
    assert len(sections) == 2
    assert sections[0]["text"]["text"].startswith("6.")
    (actions,) = [b for b in page_two["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [ACTION_CHART, ACTION_SHARE]  # no more "More"


async def test_more_button_with_a_forged_value_is_answered_not_crashed(harness: Harness) -> None:
    status, _ = await harness.click(ACTION_SEARCH_MORE, '{"q": 1, "p": "DROP"}')
    assert status == 200
    response = (await harness.slack.wait_for_responses(1))[0].params
    assert "expired" in response["text"]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "NEAR(diffusion video, 2)",
        "diffusion AND OR NOT *",
        "x" * 5000,
        "🚀🔥 diffusion 👍🏽",
        "'; DROP TABLE papers; --",
        "<!channel> <@U123> &amp;",
        "topics add",
        "issue 2026-13",
    ],
)
async def test_hostile_queries_get_a_normal_reply(harness: Harness, query: str) -> None:
    _add_papers(harness.container, 2)
    response = await harness.ask(query)
    assert response["response_type"] == "ephemeral"
    assert response["text"].strip()
    assert APOLOGY not in response["text"]
    assert "Traceback" not in _texts(response)
    # User text never becomes a live mention or broadcast.
    assert "<!channel>" not in _texts(response)
    assert blocks_size(response.get("blocks") or []) < BLOCKS_CHAR_BUDGET


async def test_topics_list_and_latest_digest(harness: Harness) -> None:
    _add_digest(harness.container, picks=3)
    latest = await harness.ask("latest")
    assert latest["blocks"][0]["type"] == "header"
    assert "Trends in AI — 2026-10" in latest["blocks"][0]["text"]["text"]
    text = _texts(latest)
    for i in range(1, 4):
        assert f"{i}. *<https://arxiv.org/abs/2610.{i:05d}|Agents that plan {i}>*" in text
    topics = await harness.ask("topics")
    assert topics["text"].strip()


# --- admins ---------------------------------------------------------------------------------


def _counts(container: Container) -> tuple[int, int, str | None]:
    with container.uow() as uow:
        topics = uow.session.scalar(select(func.count()).select_from(Topic)) or 0
        subscriptions = uow.session.scalar(select(func.count()).select_from(Subscription)) or 0
        status = uow.session.scalar(select(Digest.status).where(Digest.month == "2026-10"))
    return topics, subscriptions, status


async def test_non_admin_publish_and_topics_add_are_refused_and_change_nothing(
    harness_any_db: Harness,
) -> None:
    harness = harness_any_db
    _add_digest(harness.container, picks=2)
    with harness.container.uow() as uow:
        uow.session.execute(select(Digest)).scalars().one().status = "draft"
        uow.commit()
    before = _counts(harness.container)
    for text in ("publish 2026-10", 'topics add Robotics include="robot learning"', "subscribe"):
        response = await harness.ask(text)
        assert response["response_type"] == "ephemeral"
        assert "only workspace admins" in response["text"]
    assert _counts(harness.container) == before
    assert harness.slack.calls_to("chat.postMessage") == []
    # Each admin command asked Slack who the user is (cached after the first).
    assert len(harness.slack.calls_to("users.info")) == 1


async def test_admin_subscribes_then_publishes_one_parent_and_one_reply_per_pick(
    harness_any_db: Harness,
) -> None:
    harness = harness_any_db
    picks = 3
    _add_digest(harness.container, picks=picks)
    harness.slack.admins.add(ADMIN)
    subscribed = await harness.ask("subscribe", user=ADMIN)
    assert "will receive the monthly digest" in subscribed["text"]

    status, ack = await harness.command("publish 2026-10", user=ADMIN)
    assert status == 200
    assert "Working on it" in ack  # slow commands say so in the acknowledgement
    published = (await harness.slack.wait_for_responses(2))[1].params
    assert "Posted the 2026-10 digest to 1 of 1 channel" in published["text"]

    messages = harness.slack.posted(CHANNEL)
    assert len(messages) == picks + 1
    parent, replies = messages[0], messages[1:]
    assert parent["thread_ts"] is None
    assert all(reply["thread_ts"] == parent["ts"] for reply in replies)
    calls = harness.slack.calls_to("chat.postMessage")
    assert len(calls) == picks + 1
    markers = [call.params["metadata"]["event_payload"]["marker"] for call in calls]
    assert len(set(markers)) == picks + 1
    for call in calls:
        assert call.params["metadata"]["event_type"] == METADATA_EVENT_TYPE
        assert call.params["text"].strip()  # the plain-text fallback is always set
        assert len(call.params["blocks"]) <= 50
        assert blocks_size(call.params["blocks"]) < BLOCKS_CHAR_BUDGET
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in call.params["blocks"])
        assert "xoxb" not in json.dumps(call.params)
    reply_text = json.dumps(replies[0]["blocks"], ensure_ascii=False)
    assert "*Why →*" in reply_text
    assert "*Key insights →*" in reply_text
    buttons = next(b for b in replies[0]["blocks"] if b["type"] == "actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Abstract", "PDF"]

    # Publishing again posts nothing more.
    again = await harness.ask("publish 2026-10", user=ADMIN)
    assert "0 of 1" in again["text"] or "1 of 1" in again["text"]
    assert len(harness.slack.posted(CHANNEL)) == picks + 1


# --- reactions ------------------------------------------------------------------------------


async def test_reactions_on_a_pick_are_stored_as_votes(harness_any_db: Harness) -> None:
    harness = harness_any_db
    _add_digest(harness.container, picks=2)
    harness.slack.admins.add(ADMIN)
    await harness.ask("subscribe", user=ADMIN)
    await harness.ask("publish 2026-10", user=ADMIN)
    reply_ts = harness.slack.posted(CHANNEL)[1]["ts"]

    def event(kind: str, reaction: str, ts: str = reply_ts) -> dict[str, Any]:
        payload = load_payload("reaction_added.json")
        payload["event"].update(type=kind, reaction=reaction)
        payload["event"]["item"]["ts"] = ts
        return payload

    def votes() -> list[tuple[str, int]]:
        with harness.container.uow() as uow:
            return [(v.user_id, v.value) for v in uow.session.scalars(select(Vote))]

    assert (await harness.event(event("reaction_added", "+1")))[0] == 200
    assert (await harness.event(event("reaction_added", "tada")))[0] == 200
    assert (await harness.event(event("reaction_added", "+1", ts="1700000000.000001")))[0] == 200
    await _eventually(lambda: votes() == [(MEMBER, 1)])
    assert (await harness.event(event("reaction_removed", "+1")))[0] == 200
    await _eventually(lambda: votes() == [])


async def _eventually(check: Any, timeout: float = 5.0) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


# --- charts ---------------------------------------------------------------------------------


async def test_chart_is_uploaded_to_the_channel(harness: Harness) -> None:
    _add_papers(harness.container, 4)
    status, _ = await harness.command("chart diffusion")
    assert status == 200
    await harness.slack.wait_for_calls("files.completeUploadExternal", 1)
    upload = next(call for call in harness.slack.calls if call.method == "upload")
    assert upload.params["bytes"] > 0
    file_id = upload.params["file_id"]
    assert harness.slack.uploads[file_id].startswith(b"\x89PNG")
    complete = harness.slack.calls_to("files.completeUploadExternal")[0].params
    assert complete["channel_id"] == CHANNEL


async def test_chart_falls_back_to_numbers_when_the_upload_is_refused(harness: Harness) -> None:
    _add_papers(harness.container, 4)
    harness.slack.not_member.add(CHANNEL)
    response = await harness.ask("chart diffusion")
    assert "2026-10" in _texts(response)
    assert "diffusion" in response["text"]


# --- the error hook -------------------------------------------------------------------------


class ExplodingChat:
    """A chat core port that fails like a bug would, with a secret in the exception message."""

    async def handle(self, inv: Invocation, command: Command) -> Reply:
        raise RuntimeError("database exploded; token=xoxb-test-0000-not-a-real-token")


async def test_unexpected_errors_become_an_apology_without_secrets(
    slack_env: None, fake_slack: FakeSlack, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(database_url=sqlite_url, slack_api_url=fake_slack.api_url)
    container = build(settings)
    client = build_web_client(settings)
    responses = ResponseUrls()
    feedback = FeedbackService(container.session_factory)
    app = build_app(settings, ExplodingChat(), feedback, client, responses=responses)
    runner, url = await _start(app)
    try:
        async with aiohttp.ClientSession() as session:
            body = slash_command_body("diffusion", fake_slack.response_url())
            async with session.post(
                url + "slack/events", data=body, headers=signed_headers(SIGNING_SECRET, body)
            ) as r:
                assert r.status == 200
        response = (await fake_slack.wait_for_responses(1))[0].params
    finally:
        await responses.close()
        await runner.cleanup()
        container.close()
    assert response["text"] == APOLOGY
    assert "xoxb" not in json.dumps(response)
    assert any("slack listener failed" in record.message for record in caplog.records)
    assert any(record.exc_info for record in caplog.records)


# --- settings and admins --------------------------------------------------------------------


def test_slack_api_url_gets_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    assert load_settings().slack_api_url == "http://127.0.0.1:9/api/"
    monkeypatch.setenv("SLACK_API_URL", "ftp://example.com/api/")
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="SLACK_API_URL"):
        load_settings()


async def test_admin_lookup_is_cached_for_at_most_a_minute(fake_slack: FakeSlack) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack.admins import SlackAdmins

    now = [1000.0]
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    admins = SlackAdmins(client, ttl=600, clock=lambda: now[0])  # capped at 60 s
    fake_slack.owners.add("U0OWNER01")
    assert await admins.is_admin("T0TRENDS1", "U0OWNER01") is True
    assert await admins.is_admin("T0TRENDS1", MEMBER) is False
    now[0] += 30
    assert await admins.is_admin("T0TRENDS1", "U0OWNER01") is True
    assert len(fake_slack.calls_to("users.info")) == 2
    fake_slack.owners.discard("U0OWNER01")
    now[0] += 31
    assert await admins.is_admin("T0TRENDS1", "U0OWNER01") is False
    assert len(fake_slack.calls_to("users.info")) == 3
    fake_slack.fail("users.info", "user_not_found")
    assert await admins.is_admin("T0TRENDS1", "U0NOBODY1") is False


# --- Socket Mode ----------------------------------------------------------------------------


async def test_socket_mode_acks_over_the_socket_then_responds(
    slack_env: None, fake_slack: FakeSlack, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import contextlib

    from adapters.slack.app import serve

    monkeypatch.setenv("SLACK_APP_TOKEN", fake_slack.app_token)
    settings = load_settings(database_url=sqlite_url, slack_api_url=fake_slack.api_url)
    container = build(settings)
    runtime = create_runtime(
        settings,
        lambda poster: ChatService(container, posters={"slack": poster}),
        FeedbackService(container.session_factory),
    )
    running = asyncio.create_task(serve(runtime, host="127.0.0.1", port=0))
    try:
        payload = load_payload("slash_command.json")
        payload.update(text="help", response_url=fake_slack.response_url("socket"))
        envelope = {
            "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
            "payload": payload,
            "type": "slash_commands",
            "accepts_response_payload": True,
        }
        ack = await fake_slack.socket_request(envelope)
        assert ack["envelope_id"] == envelope["envelope_id"]
        response = (await fake_slack.wait_for_responses(1))[0].params
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        container.close()
    assert response["key"] == "socket"
    assert response["response_type"] == "ephemeral"
    assert "/trends" in response["text"]
    # The socket URL came from apps.connections.open, called with the app-level token.
    opened = fake_slack.calls_to("apps.connections.open")
    assert opened
    assert opened[0].headers["Authorization"] == f"Bearer {fake_slack.app_token}"


# --- packaging: the manifest and the CLI entry point ----------------------------------------


def test_manifest_declares_the_command_events_and_only_the_needed_scopes() -> None:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "adapters" / "slack" / "manifest.yml").read_text()
    lines = [line.split("#", 1)[0].rstrip() for line in text.splitlines()]
    start = lines.index("    bot:")
    scopes = []
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        if not line.startswith("      - "):
            break
        scopes.append(line.removeprefix("      - "))
    assert sorted(scopes) == sorted(
        [
            "commands",
            "chat:write",
            "reactions:read",
            "users:read",
            "files:write",
            "channels:history",
            "groups:history",
        ]
    )
    assert "    - command: /trends" in lines
    assert "      - reaction_added" in lines
    assert "      - reaction_removed" in lines
    assert "  socket_mode_enabled: true" in lines


def test_serve_slack_without_a_bot_token_is_a_config_error(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from adapters.cli import app as cli

    monkeypatch.setenv("TRENDS_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(cli, ["serve", "slack", "--port", "0"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN is not set" in result.output
