"""Audiences on Slack, end to end: two workspaces send signed `/trends` commands to the real bolt app;
a fake Slack on 127.0.0.1 answers `users.info` and receives the posts; chat core and database are real.

A workspace admin of B cannot create, edit, remove, enable or disable topics of, subscribe to,
preview or publish an audience owned by workspace A (each refusal says why; nothing of A's changes);
a deployment admin listed as `slack:<B>:<user>` can. A workspace not on `TRENDS_ALLOWED_WORKSPACES`
gets the refusal and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from adapters.slack.app import build_web_app, create_runtime
from adapters.slack.poster import SlackPoster
from bot.bootstrap import Container, build
from bot.chat.service import NOT_INVITED, ChatService
from bot.db.models import Audience, Digest, Subscription, Topic
from bot.db.uow import UnitOfWork
from bot.delivery import DeliveryEngine, Pacer
from bot.feedback import FeedbackService
from bot.publish import PublishService
from bot.settings import load_settings
from tests.factories import make_paper
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack, signed_headers, slash_command_body

TEAM_A, TEAM_B, TEAM_C = "T0WORKSPA", "T0WORKSPB", "T0WORKSPC"
CHANNEL_A, CHANNEL_B, CHANNEL_C = "C0CHANNELA", "C0CHANNELB", "C0CHANNELC"
ADMIN_A, ADMIN_B, DEPLOYMENT_ADMIN = "U0ADMINA01", "U0ADMINB01", "U0DEPLOY01"
MONTH = "2026-10"


@dataclass
class Harness:
    slack: FakeSlack
    container: Container
    url: str
    session: aiohttp.ClientSession

    async def ask(self, text: str, *, team: str, channel: str, user: str) -> str:
        """Run `/trends <text>` as `user` in `team`'s `channel`; the text the app answered with."""
        before = len(self.slack.responses)
        body = slash_command_body(
            text, self.slack.response_url("cmd"), team_id=team, channel_id=channel, user_id=user
        )
        headers = signed_headers(SIGNING_SECRET, body)
        async with self.session.post(self.url + "slack/events", data=body, headers=headers) as response:
            assert response.status == 200
        responses = await self.slack.wait_for_responses(before + 1)
        return str(responses[before].params["text"])


@asynccontextmanager
async def running(fake: FakeSlack, db_url: str, **settings: Any) -> AsyncIterator[Harness]:
    config = load_settings(
        database_url=db_url,
        slack_api_url=fake.api_url,
        admin_user_ids=[f"slack:{TEAM_B}:{DEPLOYMENT_ADMIN}"],
        **settings,
    )
    container = build(config)

    def make_chat(poster: SlackPoster) -> ChatService:
        chat = ChatService(container, posters={"slack": poster})
        engine = DeliveryEngine(
            container.session_factory, pacer=Pacer(interval=0.0), allowed_workspaces=config.allowed_workspaces
        )
        chat.publisher = PublishService(chat.digests, engine)
        return chat

    runtime = create_runtime(config, make_chat, FeedbackService(container.session_factory))
    runner = web.AppRunner(build_web_app(runtime.app), access_log=None, shutdown_timeout=0.25)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        async with aiohttp.ClientSession() as session:
            yield Harness(fake, container, url, session)
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
        slack.admins.update({ADMIN_A, ADMIN_B})  # workspace admins (each of their own workspace)
        yield slack


def _add_papers(container: Container) -> None:
    with UnitOfWork(container.session_factory) as uow:
        uow.session.add_all(
            [
                make_paper(
                    f"2610.{i:05d}",
                    title=f"Robot grasping {i}",
                    abstract=f"Robot grasping with tactile sensing, case {i}.",
                    submitted=dt.datetime(2026, 10, 2 + i, tzinfo=dt.UTC),
                )
                for i in range(1, 6)
            ]
        )
        uow.commit()


def _state(container: Container, audience: str) -> tuple[list[Any], list[Any], list[Any]]:
    """Everything of an audience: its topics, its channels, its digests."""
    with UnitOfWork(container.session_factory) as uow:
        session = uow.session
        scope = session.scalar(select(Audience.id).where(Audience.name == audience))
        topics = sorted(
            (t.name, tuple(t.include_phrases), t.weight, t.enabled)
            for t in session.scalars(select(Topic).where(Topic.audience_id == scope))
        )
        channels = sorted(
            (s.workspace_id, s.channel_id, s.active)
            for s in session.scalars(select(Subscription).where(Subscription.audience_id == scope))
        )
        digests = sorted(
            (d.month, d.status) for d in session.scalars(select(Digest).where(Digest.audience_id == scope))
        )
        return topics, channels, digests


async def test_an_admin_of_another_workspace_cannot_touch_an_audience_a_deployment_admin_can(
    slack_env: None, fake_slack: FakeSlack, db_url: str
) -> None:
    async with running(fake_slack, db_url) as h:
        _add_papers(h.container)

        async def as_a(text: str) -> str:
            return await h.ask(text, team=TEAM_A, channel=CHANNEL_A, user=ADMIN_A)

        async def as_b(text: str, user: str = ADMIN_B) -> str:
            return await h.ask(text, team=TEAM_B, channel=CHANNEL_B, user=user)

        assert "will receive the monthly digest of team-a" in await as_a("subscribe team-a")
        assert "Added topic" in await as_a('topics add Grasping include="robot grasping" audience=team-a')
        before = _state(h.container, "team-a")
        assert before[1] == [(TEAM_A, CHANNEL_A, True)]

        for text in (
            'topics add Proteins include="protein folding" audience=team-a',
            'topics edit Grasping include="anything" audience=team-a',
            "topics remove Grasping audience=team-a",
            "topics disable Grasping audience=team-a",
            "topics enable Grasping audience=team-a",
            "subscribe team-a",
            f"preview {MONTH} team-a",
            f"publish {MONTH} team-a",
        ):
            answer = await as_b(text)
            assert "belongs to another workspace" in answer, (text, answer)
            assert "Nothing was changed" in answer
        assert _state(h.container, "team-a") == before
        assert fake_slack.posted(CHANNEL_A) == []
        assert fake_slack.posted(CHANNEL_B) == []

        # The deployment admin, in workspace B and not a Slack admin there, may.
        assert "Added topic *Proteins* of team-a" in await as_b(
            'topics add Proteins include="protein folding" audience=team-a', user=DEPLOYMENT_ADMIN
        )
        assert "of team-a" in await as_b("subscribe team-a", user=DEPLOYMENT_ADMIN)
        published = await as_b(f"publish {MONTH} team-a", user=DEPLOYMENT_ADMIN)
        assert f"Posted the {MONTH} digest to 2 of 2 channel(s)." in published
        topics, channels, digests = _state(h.container, "team-a")
        assert "Proteins" in [name for name, *_ in topics]
        assert channels == [(TEAM_A, CHANNEL_A, True), (TEAM_B, CHANNEL_B, True)]
        assert digests == [(MONTH, "published")]
        assert len([m for m in fake_slack.posted(CHANNEL_A) if not m.get("thread_ts")]) == 1
        assert len([m for m in fake_slack.posted(CHANNEL_B) if not m.get("thread_ts")]) == 1

        # `/trends latest` in workspace A answers with team-a's digest; B's own audience stays B's.
        assert "Robot grasping" in await as_a("latest")
        assert "of team-b" in await as_b("subscribe team-b")
        assert "belongs to another workspace" in await as_a("topics remove Agents audience=team-b")


async def test_a_workspace_not_on_the_allowed_list_gets_only_the_refusal(
    slack_env: None, fake_slack: FakeSlack, db_url: str
) -> None:
    async with running(fake_slack, db_url, allowed_workspaces=[TEAM_A, TEAM_B]) as h:
        for text in ("help", "latest", "robot grasping", "subscribe team-c", "topics add X include=x"):
            assert await h.ask(text, team=TEAM_C, channel=CHANNEL_C, user=ADMIN_B) == NOT_INVITED
        with UnitOfWork(h.container.session_factory) as uow:
            assert uow.session.scalars(select(Subscription)).all() == []
        # An allowed workspace is served as usual.
        assert "/trends" in await h.ask("help", team=TEAM_A, channel=CHANNEL_A, user=ADMIN_A)


async def test_each_audience_draft_is_approved_on_its_own_and_posted_to_its_channels_only(
    slack_env: None, sqlite_url: str
) -> None:
    from bot.audiences import AudienceService, Workspace
    from bot.digest.service import DigestService
    from bot.invocation import Invocation
    from bot.scheduler import jobs
    from bot.subscriptions import SubscriptionService
    from tests.test_slack_approval import (
        ADMIN,
        APPROVAL_CHANNEL,
        MONTH,
        SUBSCRIBED,
        approval_app,
        assert_one_thread,
    )

    vision_channel = "C0VISION01"
    async with FakeSlack() as slack:
        slack.admins.add(ADMIN)
        async with approval_app(slack, sqlite_url) as h:
            AudienceService(h.container.uow, h.container.settings).create(
                "vision", [Workspace("slack", slack.team_id)], actor="test"
            )
            SubscriptionService(h.container.session_factory).subscribe(
                Invocation("slack", slack.team_id, vision_channel, ADMIN, is_platform_admin=True), "vision"
            )
            outcomes = await jobs.run_digests(h.context)
            assert {o.audience: o.action for o in outcomes} == {
                "default": "approval-requested",
                "vision": "approval-requested",
            }
            previews = slack.posted(APPROVAL_CHANNEL)
            values = [p["blocks"][-1]["elements"][0]["value"] for p in previews]
            assert sorted(values) == [MONTH, f"{MONTH}@vision"]
            h.shown = next(p for p in previews if p["blocks"][-1]["elements"][0]["value"].endswith("@vision"))
            assert "digest of vision, waiting for approval" in json.dumps(
                h.shown["blocks"], ensure_ascii=False
            )

            assert await h.click(ADMIN) == 200
            await slack.wait_for_calls("chat.update", 1)
            picks = len(
                DigestService(h.container.uow, h.container.settings).get(MONTH, audience="vision").picks
            )
            assert picks > 0
            assert_one_thread(h, vision_channel, picks)
            assert all(slack.posted(channel) == [] for channel in SUBSCRIBED)  # default's: still a draft
            digests = DigestService(h.container.uow, h.container.settings)
            assert digests.get(MONTH, audience="vision").is_published
            assert not digests.get(MONTH).is_published
