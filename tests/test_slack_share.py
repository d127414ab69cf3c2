"""Slack answers people can share, and search hits that link their digest thread, end to end.

Signed requests go into the real bolt app; the bot's Web API client and the response_urls talk to
the fake Slack. A digest is published into the channel for real, so the thread links point at
messages the fake holds; `chat.getPermalink` gives them (once: they are cached), and only the reader's
own workspace gets them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.slack.blocks import ACTION_SHARE
from adapters.slack.permalinks import channel_redirect
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, signed_headers, slash_command_body
from tests.test_slack_app import ADMIN, CHANNEL, MEMBER, Harness, _add_digest, running_app

MONTH = "2026-10"
PICKS = 3


@pytest.fixture
async def harness(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> AsyncIterator[Harness]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-0000-not-a-real-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    async with FakeSlack() as slack, running_app(slack, sqlite_url) as running:
        yield running


async def _published(harness: Harness) -> list[dict[str, Any]]:
    """The digest published into CHANNEL; returns its messages (parent first)."""
    _add_digest(harness.container, picks=PICKS)
    harness.slack.admins.add(ADMIN)
    await harness.ask("subscribe", user=ADMIN)
    await harness.ask(f"publish {MONTH}", user=ADMIN)
    messages = harness.slack.posted(CHANNEL)
    assert len(messages) == PICKS + 1
    return messages


def _sections(response: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in response["blocks"] if b["type"] == "section"]


def _buttons(response: dict[str, Any]) -> dict[str, str]:
    return {
        e["action_id"]: e.get("value", "")
        for b in response["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


def _permalink(slack: FakeSlack, ts: str, thread_ts: str) -> str:
    domain = slack.domain_of(slack.team_id)
    message = f"https://{domain}.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}"
    return f"{message}?thread_ts={thread_ts}&cid={CHANNEL}"


async def test_search_hits_link_their_reply_in_this_workspaces_digest_thread(harness: Harness) -> None:
    parent, *replies = await _published(harness)
    response = await harness.ask("agents that plan")
    sections = _sections(response)
    for reply in replies:
        url = _permalink(harness.slack, reply["ts"], parent["ts"])
        assert sum(f"<{url}|Digest thread ({MONTH})>" in text for text in sections) == 1
    asked = {call.params["message_ts"] for call in harness.slack.calls_to("chat.getPermalink")}
    assert asked == {reply["ts"] for reply in replies}

    again = await harness.ask("agents that plan")
    assert _sections(again) == sections
    assert len(harness.slack.calls_to("chat.getPermalink")) == PICKS  # permalinks are cached


async def test_a_permalink_slack_refuses_falls_back_to_the_channel_and_is_asked_again_later(
    harness: Harness,
) -> None:
    await _published(harness)
    harness.slack.fail("chat.getPermalink", "not_in_channel", nth=1)
    first = "\n".join(_sections(await harness.ask("agents that plan")))
    assert f"<{channel_redirect(harness.slack.team_id, CHANNEL)}|Digest thread ({MONTH})>" in first
    assert first.count(".slack.com/archives/") == PICKS - 1
    second = "\n".join(_sections(await harness.ask("agents that plan")))
    assert second.count(".slack.com/archives/") == PICKS
    assert "app_redirect" not in second


async def test_another_workspace_gets_no_link_to_a_thread_it_cannot_open(harness: Harness) -> None:
    await _published(harness)
    before = len(harness.slack.responses)
    body = slash_command_body(
        "agents that plan", harness.slack.response_url("other"), user_id=MEMBER, team_id="T0ELSEWHR"
    )
    status, _ = await harness.post(body, signed_headers(SIGNING_SECRET, body))
    assert status == 200
    response = (await harness.slack.wait_for_responses(before + 1))[before].params
    text = json.dumps(response["blocks"], ensure_ascii=False)
    assert "Agents that plan 1" in text
    assert "Digest thread" not in text
    assert not harness.slack.calls_to("chat.getPermalink")


async def test_share_posts_a_search_for_the_channel_signed_by_the_clicker(harness: Harness) -> None:
    await _published(harness)
    private = await harness.ask("agents that plan")
    assert private["response_type"] == "ephemeral"
    value = _buttons(private)[ACTION_SHARE]
    assert json.loads(value) == {"k": "s", "q": "agents plan", "p": 1}  # the query as the core read it

    before = len(harness.slack.responses)
    status, _ = await harness.click(ACTION_SHARE, value, user=MEMBER)
    assert status == 200
    shared = (await harness.slack.wait_for_responses(before + 1))[before].params
    assert shared["response_type"] == "in_channel"
    assert shared["replace_original"] is False
    assert shared["blocks"][0] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"Shared by <@{MEMBER}>"}],
    }
    assert _sections(shared) == _sections(private)  # the same hits, thread links included
    assert ACTION_SHARE not in _buttons(shared)


async def test_share_posts_the_digest_the_member_saw(harness: Harness) -> None:
    await _published(harness)
    latest = await harness.ask("latest")
    value = _buttons(latest)[ACTION_SHARE]
    assert json.loads(value) == {"k": "i", "m": MONTH, "a": "default"}
    before = len(harness.slack.responses)
    await harness.click(ACTION_SHARE, value)
    shared = (await harness.slack.wait_for_responses(before + 1))[before].params
    assert shared["response_type"] == "in_channel"
    assert f"Trends in AI — {MONTH}" in json.dumps(shared["blocks"], ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    ['{"k": "s", "q": "", "p": 1}', '{"k": "x"}', "not json", '{"k": "i", "m": "2019-01", "a": null}'],
    ids=["empty-query", "unknown-kind", "not-json", "no-such-digest"],
)
async def test_a_forged_or_stale_share_stays_private(harness: Harness, value: str) -> None:
    before = len(harness.slack.responses)
    status, _ = await harness.click(ACTION_SHARE, value)
    assert status == 200
    answer = (await harness.slack.wait_for_responses(before + 1))[before].params
    assert answer["response_type"] == "ephemeral"
    assert not harness.slack.posted(CHANNEL)
