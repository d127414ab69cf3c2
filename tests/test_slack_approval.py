"""Digest approval on Slack end to end: the monthly job (real, on a real database) posts the draft to
the approval channel through `SlackApprovalNotifier`; signed `block_actions` clicks go into the real
bolt app over HTTP; everything the app sends lands in the fake Slack on 127.0.0.1 and is asserted on."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from adapters.slack.app import STALE_APPROVAL, build_web_app, create_runtime
from adapters.slack.approval import SlackApprovalNotifier
from adapters.slack.blocks import (
    ACTION_APPROVE,
    APPROVAL_BLOCK_ID,
    BLOCKS_CHAR_BUDGET,
    MAX_BLOCKS,
    approval_request,
    blocks_size,
)
from adapters.slack.poster import METADATA_EVENT_TYPE, SlackPoster
from bot.bootstrap import Container, build
from bot.chat.service import ChatService
from bot.db.models import Digest
from bot.delivery import DeliveryEngine, DeliveryError, Pacer
from bot.feedback import FeedbackService
from bot.invocation import Invocation
from bot.publish import PublishService
from bot.scheduler import jobs
from bot.scheduler.context import AppContext
from bot.settings import load_settings
from bot.subscriptions import SubscriptionService
from tests.factories import digest_view, make_paper
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, load_payload, signed_headers

MONTH = "2026-10"
APPROVAL_CHANNEL = "C0APPROVE1"
SUBSCRIBED = ("C0DIGEST01", "C0DIGEST02")
ADMIN = "U0ADMIN001"
OTHER_ADMIN = "U0ADMIN002"
LISTED_ADMIN = "U0LISTED01"  # not a workspace admin, but in TRENDS_ADMIN_USER_IDS
MEMBER = "U0MEMBER01"
NOV_1 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)


@dataclass
class Harness:
    slack: FakeSlack
    container: Container
    context: AppContext
    url: str
    session: aiohttp.ClientSession

    shown: dict[str, Any] | None = None  # the preview as clients show it until they refresh

    async def request_approval(self) -> str:
        outcome = await jobs.run_digest(self.context)
        if self.slack.posted(APPROVAL_CHANNEL) and self.shown is None:
            self.shown = copy.deepcopy(self.preview())
        return outcome.action

    def preview(self) -> dict[str, Any]:
        [message] = self.slack.posted(APPROVAL_CHANNEL)
        return message

    async def click(self, user: str, *, value: str | None = None, key: str = "approve") -> int:
        """Click the preview's button as `user`, the way Slack posts a `block_actions` payload."""
        preview = self.shown
        assert preview is not None, "no preview was posted"
        actions = next(b for b in preview["blocks"] if b.get("block_id") == APPROVAL_BLOCK_ID)
        button = actions["elements"][0]
        payload = load_payload("block_actions.json")
        payload["user"].update(id=user, username=user.lower())
        payload["container"] = {
            "type": "message",
            "message_ts": preview["ts"],
            "channel_id": APPROVAL_CHANNEL,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": APPROVAL_CHANNEL, "name": "digest-approvals"}
        payload["message"] = {k: v for k, v in preview.items() if k != "metadata"}
        payload["response_url"] = self.slack.response_url(key)
        payload["actions"] = [
            {
                "action_id": button["action_id"],
                "block_id": APPROVAL_BLOCK_ID,
                "text": button["text"],
                "value": button["value"] if value is None else value,
                "style": "primary",
                "type": "button",
                "action_ts": "1761955260.123456",
            }
        ]
        body = urlencode({"payload": json.dumps(payload)})
        headers = signed_headers(SIGNING_SECRET, body)
        async with self.session.post(self.url + "slack/events", data=body, headers=headers) as response:
            return response.status

    def thread_posts(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.slack.posted(channel) if (m.get("metadata") or {}).get("event_type")]

    def digest_status(self) -> str:
        with self.container.uow() as uow:
            return str(uow.session.scalar(select(Digest.status).where(Digest.month == MONTH)))


@asynccontextmanager
async def approval_app(slack: FakeSlack, db_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(
        database_url=db_url,
        slack_api_url=slack.api_url,
        approval=True,
        approval_channel=f"slack:{slack.team_id}:{APPROVAL_CHANNEL}",
        admin_user_ids=[LISTED_ADMIN],
        signals_semantic_scholar_enabled=False,
        signals_huggingface_enabled=False,
        signals_github_enabled=False,
    )
    container = build(settings)
    with container.uow() as uow:  # an October's worth of harvested papers
        uow.session.add_all(
            make_paper(f"2610.{i:05d}", title=f"Diffusion agents that plan {i}", abstract="Diffusion models.")
            for i in range(1, 15)
        )
        uow.commit()
    subscriptions = SubscriptionService(container.session_factory)
    for channel in SUBSCRIBED:
        subscriptions.subscribe(Invocation("slack", slack.team_id, channel, ADMIN, is_platform_admin=True))
    # The real engine, without the 1 message/s pacing (tests need no politeness).
    engine = DeliveryEngine(container.session_factory, pacer=Pacer(interval=0.0))
    shared: dict[str, ChatService] = {}

    def make_chat(poster: SlackPoster) -> ChatService:
        chat = ChatService(container, posters={"slack": poster})
        chat.publisher = PublishService(chat.digests, engine)
        shared["chat"] = chat
        return chat

    runtime = create_runtime(settings, make_chat, FeedbackService(container.session_factory))
    context = AppContext(
        container,
        posters=shared["chat"].posters,
        notifiers={"slack": SlackApprovalNotifier(runtime.client)},
        clock=lambda: NOV_1,
        delivery_engine=engine,
    )
    runner = web.AppRunner(build_web_app(runtime.app), access_log=None, shutdown_timeout=0.25)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
            yield Harness(slack, container, context, url, session)
    finally:
        await runtime.responses.close()
        await runner.cleanup()
        container.close()


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-0000-not-a-real-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        slack.admins.update({ADMIN, OTHER_ADMIN})
        yield slack


@pytest.fixture
async def harness(slack_env: None, fake_slack: FakeSlack, db_url: str) -> AsyncIterator[Harness]:
    async with approval_app(fake_slack, db_url) as running:
        yield running


@pytest.fixture
async def harness_sqlite(slack_env: None, fake_slack: FakeSlack, sqlite_url: str) -> AsyncIterator[Harness]:
    async with approval_app(fake_slack, sqlite_url) as running:
        yield running


def assert_one_thread(h: Harness, channel: str, picks: int) -> None:
    posts = h.thread_posts(channel)
    markers = [p["metadata"]["event_payload"]["marker"] for p in posts]
    assert len(posts) == len(set(markers)) == picks + 1, markers
    parent = posts[0]
    assert parent["thread_ts"] is None
    assert all(p["thread_ts"] == parent["ts"] for p in posts[1:])
    assert all(p["metadata"]["event_type"] == METADATA_EVENT_TYPE for p in posts)


# --- the preview ------------------------------------------------------------------------------


async def test_the_monthly_job_posts_one_preview_with_the_approve_button(harness: Harness) -> None:
    assert await harness.request_approval() == "approval-requested"
    assert await harness.request_approval() == "awaiting-approval"  # asked once, not every run
    posts = harness.slack.calls_to("chat.postMessage")
    assert [call.params["channel"] for call in posts] == [APPROVAL_CHANNEL]
    preview = harness.preview()
    blocks = preview["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Trends in AI — October 2026"},
    }
    text = json.dumps(blocks, ensure_ascii=False)
    assert "1. *<https://arxiv.org/abs/2610." in text  # numbered, linked picks
    assert "waiting for approval" in text
    actions = blocks[-1]
    assert actions["block_id"] == APPROVAL_BLOCK_ID
    [button] = actions["elements"]
    assert (button["action_id"], button["value"], button["style"]) == (ACTION_APPROVE, MONTH, "primary")
    assert button["text"]["text"] == "Approve and publish"
    assert "confirm" in button
    assert preview["text"].startswith("Approval needed: Trends in AI — October 2026")
    assert all(harness.slack.posted(channel) == [] for channel in SUBSCRIBED)
    assert harness.digest_status() == "draft"


async def test_a_refused_preview_says_what_to_do(harness_sqlite: Harness) -> None:
    harness_sqlite.slack.not_member.add(APPROVAL_CHANNEL)
    with pytest.raises(DeliveryError) as refused:
        await harness_sqlite.request_approval()
    message = str(refused.value)
    assert "not_in_channel" in message
    assert "/invite @trends" in message
    assert f"/trends publish {MONTH}" in message
    assert harness_sqlite.slack.bot_token not in message


def test_the_preview_keeps_its_button_within_slack_limits() -> None:
    papers = [
        make_paper(f"2610.{i:05d}", title=("🚀 <!channel> *bold* " + "long title " * 500)[:5000])
        for i in range(1, 41)
    ]
    for number, paper in enumerate(papers, start=1):
        paper.id = number
    view = digest_view(MONTH, papers, status="draft")
    message = approval_request(view)
    assert blocks_size(message.blocks) <= BLOCKS_CHAR_BUDGET
    assert len(message.blocks) <= MAX_BLOCKS
    assert message.blocks[-1]["block_id"] == APPROVAL_BLOCK_ID  # never cut off, whatever the picks
    assert "<!channel>" not in json.dumps(message.blocks, ensure_ascii=False)
    assert len(message.text) <= 3000


# --- clicks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("approver", [ADMIN, LISTED_ADMIN])
async def test_an_admin_click_publishes_once_and_updates_the_preview(harness: Harness, approver: str) -> None:
    await harness.request_approval()
    preview_ts = harness.preview()["ts"]
    assert await harness.click(approver) == 200  # acknowledged before publishing
    [update] = await harness.slack.wait_for_calls("chat.update", 1)
    picks = 3
    for channel in SUBSCRIBED:
        assert_one_thread(harness, channel, picks)
    assert harness.digest_status() == "published"
    assert update.params["channel"] == APPROVAL_CHANNEL
    assert update.params["ts"] == preview_ts
    updated = harness.preview()
    assert updated["text"].startswith(
        f"✅ Approved by <@{approver}>. Posted the {MONTH} digest to 2 of 2 channel(s)."
    )
    assert not any(block.get("block_id") == APPROVAL_BLOCK_ID for block in updated["blocks"])
    assert updated["blocks"][0]["type"] == "header"
    assert "Draft" not in json.dumps(updated["blocks"])  # it shows the digest as published
    # users.info decided whether the clicker is an admin.
    assert [c.params["user"] for c in harness.slack.calls_to("users.info")] == [approver]
    assert harness.slack.responses == []  # the updated preview says it all


async def test_a_member_click_is_refused_and_nothing_is_posted(harness: Harness) -> None:
    await harness.request_approval()
    assert await harness.click(MEMBER) == 200
    [refusal] = await harness.slack.wait_for_responses(1)
    assert refusal.params["response_type"] == "ephemeral"
    assert refusal.params["replace_original"] is False
    assert "only workspace admins" in refusal.params["text"]
    assert all(harness.slack.posted(channel) == [] for channel in SUBSCRIBED)
    assert harness.slack.calls_to("chat.update") == []
    assert harness.digest_status() == "draft"
    assert "Approved" not in harness.preview()["text"]


async def test_a_double_click_and_a_second_admin_publish_one_thread_per_channel(harness: Harness) -> None:
    await harness.request_approval()
    statuses = await asyncio.gather(
        harness.click(ADMIN, key="first"),
        harness.click(ADMIN, key="double"),
        harness.click(OTHER_ADMIN, key="second"),
    )
    assert list(statuses) == [200, 200, 200]
    await harness.slack.wait_for_calls("chat.update", 1)
    refusals = await harness.slack.wait_for_responses(2)
    # And a late click on a stale preview (another client had not refreshed yet).
    await harness.click(OTHER_ADMIN, key="late")
    await harness.slack.wait_for_responses(3)
    for channel in SUBSCRIBED:
        assert_one_thread(harness, channel, 3)
    assert len(harness.slack.calls_to("chat.update")) == 1
    texts = [r.params["text"] for r in refusals[:3]]
    assert all(
        "is being published right now" in text or "was already published; nothing was posted again" in text
        for text in texts
    ), texts
    assert all(r.params["response_type"] == "ephemeral" for r in harness.slack.responses)
    assert harness.preview()["text"].startswith("✅ Approved by <@")


@pytest.mark.parametrize(
    "value", ["2026-13", "'; DROP TABLE digests; --", "🚀", "x" * 5000, "2026-10 OR 1=1", ""]
)
async def test_a_forged_or_stale_button_value_posts_nothing(harness_sqlite: Harness, value: str) -> None:
    await harness_sqlite.request_approval()
    assert await harness_sqlite.click(ADMIN, value=value) == 200
    [answer] = await harness_sqlite.slack.wait_for_responses(1)
    assert answer.params["text"] == STALE_APPROVAL
    assert answer.params["response_type"] == "ephemeral"
    assert all(harness_sqlite.slack.posted(channel) == [] for channel in SUBSCRIBED)
    assert harness_sqlite.digest_status() == "draft"


async def test_a_failed_channel_keeps_a_retry_button_that_resumes(harness_sqlite: Harness) -> None:
    h = harness_sqlite
    await h.request_approval()
    h.slack.not_member.add(SUBSCRIBED[1])
    await h.click(ADMIN, key="first")
    await h.slack.wait_for_calls("chat.update", 1)
    updated = h.preview()
    assert "Posted the 2026-10 digest to 1 of 2 channel(s)" in updated["text"]
    assert "not_in_channel" in updated["text"]
    retry = updated["blocks"][-1]
    assert retry["block_id"] == APPROVAL_BLOCK_ID
    assert retry["elements"][0]["text"]["text"] == "Retry publishing"
    h.slack.not_member.discard(SUBSCRIBED[1])  # the bot was invited
    await h.click(ADMIN, key="retry")
    await h.slack.wait_for_calls("chat.update", 2)
    for channel in SUBSCRIBED:
        assert_one_thread(h, channel, 3)
    assert "2 of 2 channel(s)" in h.preview()["text"]
    assert not any(block.get("block_id") == APPROVAL_BLOCK_ID for block in h.preview()["blocks"])
