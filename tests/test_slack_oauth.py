"""Slack installs by OAuth, end to end: the real bolt app over HTTP, a fake Slack on 127.0.0.1.

The app runs in HTTP mode with SLACK_CLIENT_ID/SECRET set; a browser is played by an aiohttp session
(`GET /slack/install`, then the redirect Slack would send it to with a `code`); `tests/fakes/slack_api.py`
plays Slack's `oauth.v2.access` and Web API, with one token per workspace. The installation and state
stores, the delivery engine and the chat core are real, on each database engine where it matters.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.slack.app import SlackRuntime, build_web_app, create_runtime
from adapters.slack.oauth import BOT_SCOPES, INSTALL_PATH
from adapters.slack.poster import SlackPoster
from adapters.slack.workspaces import WorkspaceNotInstalled
from bot.bootstrap import Container, build
from bot.chat.service import ChatService
from bot.db.models import SlackInstallation, SlackOAuthState
from bot.delivery import DeliveryEngine, DeliveryError, DeliveryReport, Pacer
from bot.errors import ConfigError
from bot.feedback import FeedbackService
from bot.invocation import Invocation
from bot.publish import PublishService
from bot.scheduler.logs import REDACTED, configure_logging
from bot.settings import load_settings
from bot.subscriptions import SubscriptionService
from bot.token_cipher import TokenCipher
from tests.factories import add_published_digest, digest_view, make_paper
from tests.fakes.slack_api import (
    APP_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    FakeSlack,
    signed_headers,
    slash_command_body,
)

TEAM_A, TEAM_B = "T0ALPHA01", "T0BRAVO02"
CHANNEL_A, CHANNEL_B = "C0ALPHA001", "C0BRAVO002"
REDIRECT = "http://localhost/slack/oauth_redirect"
STATE_COOKIE = "slack-app-oauth-state"
PICKS = 3
MANIFEST = Path(__file__).parent.parent / "adapters" / "slack" / "manifest.yml"
# Test keys (TRENDS_TOKEN_KEY): 32 bytes in url-safe base64, as Fernet.generate_key() makes them.
TOKEN_KEY = base64.urlsafe_b64encode(b"test-token-key-0-not-for-any-use").decode()
OTHER_TOKEN_KEY = base64.urlsafe_b64encode(b"test-token-key-1-not-for-any-use").decode()


@pytest.fixture
def oauth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_REDIRECT_URI", REDIRECT)
    monkeypatch.setenv("TRENDS_TOKEN_KEY", TOKEN_KEY)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        slack.channel_in(CHANNEL_A, TEAM_A)
        slack.channel_in(CHANNEL_B, TEAM_B)
        yield slack


@dataclass
class Browser:
    """What an installer's browser does, and the app's HTTP endpoints."""

    url: str
    session: aiohttp.ClientSession

    async def start_install(self) -> tuple[str, str]:
        """`GET /slack/install`: the state in the "Add to Slack" link, and the state cookie."""
        async with self.session.get(self.url + INSTALL_PATH.lstrip("/")) as response:
            assert response.status == 200
            page = await response.text()
            cookie = response.cookies[STATE_COOKIE].value
        link = re.search(r"state=([A-Za-z0-9_-]+)", page)
        assert link is not None, page
        return link.group(1), cookie

    async def redirect(self, params: dict[str, str], cookie: str | None) -> tuple[int, str]:
        """Slack sending the browser back to the redirect URL."""
        headers = {"Cookie": f"{STATE_COOKIE}={cookie}"} if cookie is not None else {}
        async with self.session.get(
            self.url + "slack/oauth_redirect", params=params, headers=headers
        ) as response:
            return response.status, await response.text()

    async def post(self, body: str, headers: dict[str, str]) -> int:
        async with self.session.post(self.url + "slack/events", data=body, headers=headers) as response:
            return response.status


@dataclass
class Harness:
    slack: FakeSlack
    container: Container
    runtime: SlackRuntime
    browser: Browser

    async def install(self, team_id: str) -> tuple[int, str]:
        """The whole install in `team_id`: install page, approval on Slack, redirect back."""
        state, cookie = await self.browser.start_install()
        code = self.slack.grant(team_id)
        return await self.browser.redirect({"code": code, "state": state}, cookie)

    async def event(self, team_id: str, event: dict[str, Any]) -> int:
        payload = {
            "token": "verification-token-unused",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
        }
        body = json.dumps(payload)
        return await self.browser.post(
            body, {**signed_headers(SIGNING_SECRET, body), "Content-Type": "application/json"}
        )

    async def command(self, team_id: str, text: str, key: str) -> int:
        body = slash_command_body(text, self.slack.response_url(key), team_id=team_id)
        return await self.browser.post(body, signed_headers(SIGNING_SECRET, body))

    def installations(self) -> dict[str, str]:
        """team id -> bot token, decrypted with the test key."""
        cipher = TokenCipher(TOKEN_KEY)
        return {team: cipher.open(stored, owner=team).value for team, stored in self.stored_tokens().items()}

    def stored_tokens(self) -> dict[str, str]:
        """team id -> the bot token column, as stored."""
        with self.container.uow() as uow:
            rows = uow.session.scalars(select(SlackInstallation)).all()
            return {row.team_id: row.bot_token for row in rows}

    async def deliver(self, month: str) -> DeliveryReport:
        """Publish `month` (papers of its own) and deliver it to the subscribed channels."""
        with self.container.uow() as uow:
            yymm = month[2:4] + month[5:7]
            papers = [make_paper(f"{yymm}.{i:05d}", title=f"Paper {i}") for i in range(1, PICKS + 1)]
            uow.session.add_all(papers)
            uow.session.flush()
            add_published_digest(uow.session, month, papers)
            uow.commit()
            view = digest_view(month, papers)
        engine = DeliveryEngine(self.container.session_factory, pacer=Pacer(interval=0.0))
        return await engine.deliver(view, {"slack": self.runtime.poster})


@asynccontextmanager
async def running_oauth_app(slack: FakeSlack, database_url: str) -> AsyncIterator[Harness]:
    settings = load_settings(database_url=database_url, slack_api_url=slack.api_url)
    assert settings.slack_oauth
    container = build(settings)

    def make_chat(poster: SlackPoster) -> ChatService:
        chat = ChatService(container, posters={"slack": poster})
        chat.publisher = PublishService(
            chat.digests, DeliveryEngine(container.session_factory, pacer=Pacer(interval=0.0))
        )
        return chat

    runtime = create_runtime(
        settings, make_chat, FeedbackService(container.session_factory), container.session_factory
    )
    runner = web.AppRunner(build_web_app(runtime.app), access_log=None, shutdown_timeout=0.25)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        # No cookie jar: each request carries exactly the cookie the test gives it.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
            yield Harness(slack, container, runtime, Browser(url, session))
    finally:
        await runtime.responses.close()
        await runner.cleanup()
        container.close()


@pytest.fixture
async def harness(oauth_env: None, fake_slack: FakeSlack, sqlite_url: str) -> AsyncIterator[Harness]:
    async with running_oauth_app(fake_slack, sqlite_url) as running:
        yield running


@pytest.fixture
async def harness_any_db(oauth_env: None, fake_slack: FakeSlack, db_url: str) -> AsyncIterator[Harness]:
    async with running_oauth_app(fake_slack, db_url) as running:
        yield running


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Event listeners run after bolt acknowledges the request: wait for their effect."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def tokens_used(slack: FakeSlack, method: str, channel: str) -> set[str]:
    return {slack.token_of(call) for call in slack.calls_to(method) if call.params.get("channel") == channel}


def subscribe(harness: Harness, team_id: str, channel: str) -> None:
    SubscriptionService(harness.container.session_factory).subscribe(
        Invocation("slack", team_id, channel, "U0ADMIN001")
    )


# --- the whole flow -------------------------------------------------------------------------


async def test_two_workspaces_install_get_their_own_token_and_one_uninstalls(harness_any_db: Harness) -> None:
    h, slack = harness_any_db, harness_any_db.slack
    for team in (TEAM_A, TEAM_B):
        status, page = await h.install(team)
        assert status == 200, page
    stored = h.installations()
    assert set(stored) == {TEAM_A, TEAM_B}
    assert [stored[TEAM_A]] == slack.tokens_of(TEAM_A)
    assert [stored[TEAM_B]] == slack.tokens_of(TEAM_B)
    assert stored[TEAM_A] != stored[TEAM_B]

    # A digest goes to each workspace's channel with that workspace's token (the fake refuses a
    # channel of another workspace with channel_not_found, as Slack does).
    subscribe(h, TEAM_A, CHANNEL_A)
    subscribe(h, TEAM_B, CHANNEL_B)
    report = await h.deliver("2026-10")
    assert report.ok, report.summary()
    assert len(slack.posted(CHANNEL_A)) == len(slack.posted(CHANNEL_B)) == PICKS + 1
    assert tokens_used(slack, "chat.postMessage", CHANNEL_A) == {stored[TEAM_A]}
    assert tokens_used(slack, "chat.postMessage", CHANNEL_B) == {stored[TEAM_B]}

    # A command from workspace B is authorized with B's installation and answered.
    assert await h.command(TEAM_B, "help", key="b-help") == 200
    answers = await slack.wait_for_responses(1)
    assert answers[0].params["key"] == "b-help"
    assert "/trends" in answers[0].params["text"]

    # Workspace A uninstalls: Slack revokes its token and tells the app, which deletes it.
    slack.revoke(TEAM_A)
    assert await h.event(TEAM_A, {"type": "app_uninstalled"}) == 200
    await eventually(lambda: TEAM_A not in h.installations())
    assert h.installations() == {TEAM_B: stored[TEAM_B]}
    with h.container.engine.connect() as conn:  # no copy of A's token anywhere in the table
        dumped = " ".join(str(row) for row in conn.execute(text("SELECT * FROM slack_installations")))
    assert stored[TEAM_A] not in dumped

    # The next digest still reaches B; A's channel fails with a clear reason and no call to Slack.
    calls_before = len(slack.calls)
    report = await h.deliver("2026-11")
    by_channel = {o.channel.channel_id: o for o in report.outcomes}
    assert by_channel[CHANNEL_B].status == "done"
    assert by_channel[CHANNEL_A].status == "failed"
    assert "not installed in workspace T0ALPHA01" in (by_channel[CHANNEL_A].error or "")
    assert len(slack.posted(CHANNEL_B)) == 2 * (PICKS + 1)
    assert len(slack.posted(CHANNEL_A)) == PICKS + 1
    new_calls = slack.calls[calls_before:]
    assert {slack.token_of(c) for c in new_calls if c.method == "chat.postMessage"} == {stored[TEAM_B]}
    assert all(slack.token_of(c) != stored[TEAM_A] for c in new_calls)


async def test_a_reinstall_replaces_the_token_and_tokens_revoked_deletes_it(harness: Harness) -> None:
    assert (await harness.install(TEAM_A))[0] == 200
    first = harness.installations()[TEAM_A]
    assert (await harness.install(TEAM_A))[0] == 200
    second = harness.installations()[TEAM_A]
    assert second != first
    assert len(harness.installations()) == 1

    bot_user = harness.slack.bot_user_of(TEAM_A)
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [bot_user]}}
    assert await harness.event(TEAM_A, revoked) == 200
    await eventually(lambda: harness.installations() == {})
    with pytest.raises(WorkspaceNotInstalled):
        await harness.runtime.clients.for_team(TEAM_A)


async def test_a_command_from_a_workspace_without_an_install_is_told_how_to_install(
    harness: Harness,
) -> None:
    assert (await harness.install(TEAM_B))[0] == 200
    assert await harness.command(TEAM_A, "help", key="a-help") == 200
    answers = await harness.slack.wait_for_responses(1)
    assert answers[0].params["key"] == "a-help"
    assert "http://localhost/slack/install" in answers[0].params["text"]
    assert "/trends" not in answers[0].params["text"]  # the core (help) never ran


# --- refused installs -----------------------------------------------------------------------


async def test_bad_missing_expired_and_reused_states_are_refused(harness: Harness) -> None:
    browser, slack = harness.browser, harness.slack

    state, cookie = await browser.start_install()
    # No state at all, or a state this browser was not given (its cookie differs): refused before
    # the code is ever traded.
    assert (await browser.redirect({"code": slack.grant(TEAM_A)}, cookie))[0] == 400
    assert (await browser.redirect({"code": slack.grant(TEAM_A), "state": state}, None))[0] == 400
    assert (await browser.redirect({"code": slack.grant(TEAM_A), "state": state}, "other"))[0] == 400
    # A forged state with a matching cookie: unknown to the store.
    forged = "x" * 43
    assert (await browser.redirect({"code": slack.grant(TEAM_A), "state": forged}, forged))[0] == 401
    assert not slack.calls_to("oauth.v2.access")

    # Expired: the state is older than its lifetime (this expires every pending one).
    old_state, old_cookie = await browser.start_install()
    expire_all_states(harness)
    assert (await browser.redirect({"code": slack.grant(TEAM_A), "state": old_state}, old_cookie))[0] == 401

    # Used once: the second redirect with the same state is refused.
    state, cookie = await browser.start_install()
    assert (await browser.redirect({"code": slack.grant(TEAM_A), "state": state}, cookie))[0] == 200
    assert (await browser.redirect({"code": slack.grant(TEAM_B), "state": state}, cookie))[0] == 401
    assert set(harness.installations()) == {TEAM_A}

    # A code Slack does not know (or one already used): nothing is stored.
    fresh, fresh_cookie = await browser.start_install()
    assert (await browser.redirect({"code": "code-made-up", "state": fresh}, fresh_cookie))[0] == 401
    assert set(harness.installations()) == {TEAM_A}
    # The user cancelled on Slack's page.
    cancelled, cancelled_cookie = await browser.start_install()
    status, _ = await browser.redirect({"error": "access_denied", "state": cancelled}, cancelled_cookie)
    assert status == 200
    assert set(harness.installations()) == {TEAM_A}


def expire_all_states(harness: Harness) -> None:
    with harness.container.uow() as uow:
        uow.session.execute(
            update(SlackOAuthState).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        uow.commit()


async def test_states_are_stored_hashed_and_swept_when_expired(harness: Harness) -> None:
    state, _ = await harness.browser.start_install()
    with harness.container.uow() as uow:
        stored = uow.session.scalars(select(SlackOAuthState.state_hash)).all()
    assert len(stored) == 1
    assert state not in stored[0]
    expire_all_states(harness)
    await harness.browser.start_install()
    with harness.container.uow() as uow:
        assert len(uow.session.scalars(select(SlackOAuthState)).all()) == 1  # the expired one is gone


# --- tokens encrypted at rest ----------------------------------------------------------------


def token_columns(harness: Harness) -> dict[str, tuple[str, str | None]]:
    """team id -> (bot_token, bot_refresh_token) columns, read with plain SQL as a dump would."""
    with harness.container.engine.connect() as conn:
        rows = conn.execute(text("SELECT team_id, bot_token, bot_refresh_token FROM slack_installations"))
        return {team: (token, refresh) for team, token, refresh in rows}


def table_dump(harness: Harness) -> str:
    with harness.container.engine.connect() as conn:
        return " ".join(str(row) for row in conn.execute(text("SELECT * FROM slack_installations")))


def store_as_before_encryption(
    harness: Harness, team_id: str, token: str, refresh: str | None = None
) -> None:
    """The row as the version without encryption left it: the tokens in plain text."""
    with harness.container.uow() as uow:
        uow.session.execute(
            update(SlackInstallation)
            .where(SlackInstallation.team_id == team_id)
            .values(bot_token=token, bot_refresh_token=refresh)
        )
        uow.commit()


async def test_installed_tokens_are_stored_encrypted_and_posts_still_use_each_workspace_token(
    harness_any_db: Harness,
) -> None:
    h, slack = harness_any_db, harness_any_db.slack
    for team in (TEAM_A, TEAM_B):
        assert (await h.install(team))[0] == 200
    columns, dumped = token_columns(h), table_dump(h)
    assert set(columns) == {TEAM_A, TEAM_B}
    for team, (stored, refresh) in columns.items():
        (token,) = slack.tokens_of(team)
        assert stored.startswith("enc:v1:")
        assert refresh is None  # no token rotation: nothing else to seal
        # Not the token, nor any 8 characters of it, in the column.
        assert not any(token[i : i + 8] in stored for i in range(len(token) - 7))
        # Nowhere in the row either (the team id, which the token embeds, is a column of its own).
        assert token not in dumped
        assert token.removeprefix(f"xoxb-{team}") not in dumped
    assert "xoxb" not in dumped

    subscribe(h, TEAM_A, CHANNEL_A)
    subscribe(h, TEAM_B, CHANNEL_B)
    report = await h.deliver("2026-10")
    assert report.ok, report.summary()
    assert tokens_used(slack, "chat.postMessage", CHANNEL_A) == set(slack.tokens_of(TEAM_A))
    assert tokens_used(slack, "chat.postMessage", CHANNEL_B) == set(slack.tokens_of(TEAM_B))


async def test_a_token_stored_in_plain_text_before_keeps_working_and_is_encrypted_on_the_next_write(
    harness_any_db: Harness,
) -> None:
    h, slack = harness_any_db, harness_any_db.slack
    for team in (TEAM_A, TEAM_B):
        assert (await h.install(team))[0] == 200
    (token_a,) = slack.tokens_of(TEAM_A)
    store_as_before_encryption(h, TEAM_A, token_a, refresh="xoxe-1-plain-refresh-token")
    store_as_before_encryption(h, TEAM_B, slack.tokens_of(TEAM_B)[0])
    assert token_columns(h)[TEAM_A] == (token_a, "xoxe-1-plain-refresh-token")

    # A's digest goes out with A's token, read from the plain row; reading it seals the row.
    subscribe(h, TEAM_A, CHANNEL_A)
    report = await h.deliver("2026-10")
    assert report.ok, report.summary()
    assert tokens_used(slack, "chat.postMessage", CHANNEL_A) == {token_a}
    stored, refresh = token_columns(h)[TEAM_A]
    assert stored.startswith("enc:v1:")
    assert refresh is not None
    assert refresh.startswith("enc:v1:")
    assert token_a not in table_dump(h)
    cipher = TokenCipher(TOKEN_KEY)
    assert cipher.open(stored, owner=TEAM_A).value == token_a
    assert cipher.open(refresh, owner=TEAM_A).value == "xoxe-1-plain-refresh-token"

    # B reinstalls: the new token is written sealed.
    assert (await h.install(TEAM_B))[0] == 200
    assert token_columns(h)[TEAM_B][0].startswith("enc:v1:")
    assert h.installations()[TEAM_B] == slack.tokens_of(TEAM_B)[-1]


async def test_start_up_encrypts_every_token_left_in_plain_text(harness_any_db: Harness) -> None:
    from adapters.slack.oauth import build_oauth

    h, slack = harness_any_db, harness_any_db.slack
    for team in (TEAM_A, TEAM_B):
        assert (await h.install(team))[0] == 200
    for team in (TEAM_A, TEAM_B):
        store_as_before_encryption(h, team, slack.tokens_of(team)[0])
    before = h.stored_tokens()

    build_oauth(h.container.settings, h.container.session_factory)  # what a (re)start runs

    assert all(stored.startswith("enc:v1:") for stored in h.stored_tokens().values())
    assert h.installations() == before  # the same tokens, now sealed
    # A second start has nothing left to do: the sealed rows stay as they are.
    sealed = h.stored_tokens()
    build_oauth(h.container.settings, h.container.session_factory)
    assert h.stored_tokens() == sealed


async def test_after_a_key_rotation_the_old_key_still_reads_and_rows_move_to_the_new_key(
    oauth_env: None, fake_slack: FakeSlack, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRENDS_TOKEN_KEY", OTHER_TOKEN_KEY)  # the key before the rotation
    async with running_oauth_app(fake_slack, sqlite_url) as before:
        assert (await before.install(TEAM_A))[0] == 200
        sealed_under_old = before.stored_tokens()[TEAM_A]

    monkeypatch.setenv("TRENDS_TOKEN_KEY", TOKEN_KEY)
    monkeypatch.setenv("TRENDS_TOKEN_KEYS_OLD", OTHER_TOKEN_KEY)
    async with running_oauth_app(fake_slack, sqlite_url) as after:
        stored = after.stored_tokens()[TEAM_A]
        assert stored != sealed_under_old
        opened = TokenCipher(TOKEN_KEY).open(stored, owner=TEAM_A)  # the new key alone opens it
        assert not opened.stale
        assert [opened.value] == fake_slack.tokens_of(TEAM_A)
        assert await after.command(TEAM_A, "help", key="a-help") == 200
        answers = await fake_slack.wait_for_responses(1)
        assert "/trends" in answers[0].params["text"]


async def test_a_wrong_key_names_the_workspace_and_shows_no_traceback_nor_the_token(
    oauth_env: None,
    fake_slack: FakeSlack,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TRENDS_TOKEN_KEY", OTHER_TOKEN_KEY)
    async with running_oauth_app(fake_slack, sqlite_url) as before:
        assert (await before.install(TEAM_A))[0] == 200
        sealed_a = before.stored_tokens()[TEAM_A]
    (token_a,) = fake_slack.tokens_of(TEAM_A)

    # The key is changed and the old one not listed: the app still starts, and B still works.
    monkeypatch.setenv("TRENDS_TOKEN_KEY", TOKEN_KEY)
    async with running_oauth_app(fake_slack, sqlite_url) as h:
        assert (await h.install(TEAM_B))[0] == 200
        subscribe(h, TEAM_A, CHANNEL_A)
        subscribe(h, TEAM_B, CHANNEL_B)
        report = await h.deliver("2026-10")
        by_channel = {o.channel.channel_id: o for o in report.outcomes}
        assert by_channel[CHANNEL_B].status == "done"
        assert by_channel[CHANNEL_A].status == "failed"
        error = by_channel[CHANNEL_A].error or ""
        assert "Slack workspace T0ALPHA01 (Team T0ALPHA01) cannot be decrypted with TRENDS_TOKEN_KEY" in error
        assert not fake_slack.posted(CHANNEL_A)

        # A command from A: bolt answers its user with a sentence (a reinstall fixes it), not a traceback.
        await h.command(TEAM_A, "help", key="a-help")
        answers = await fake_slack.wait_for_responses(1)
        answer = answers[0].params["text"]
        assert answers[0].params["key"] == "a-help"
        assert "cannot read its stored token" in answer
        assert "http://localhost/slack/install" in answer
        assert "Traceback" not in answer
        assert "/trends" not in answer  # the core (help) never ran
        assert h.stored_tokens()[TEAM_A] == sealed_a  # left as it is, for the right key

    # The operator is told at error level which workspace, at start-up, at the delivery and at the
    # command; never with a traceback, never with the token.
    ours = [
        r for r in caplog.records if r.name == "adapters.slack.installations" and r.levelno >= logging.ERROR
    ]
    assert len(ours) == 3
    assert all(
        "Slack workspace T0ALPHA01 (Team T0ALPHA01) cannot be decrypted" in r.getMessage() for r in ours
    )
    assert not any(r.exc_info for r in caplog.records)
    logged = caplog.text + "\n".join(str(r.args) + str(r.__dict__) for r in caplog.records)
    assert token_a not in logged
    assert "Traceback" not in logged


# --- secrets stay secret --------------------------------------------------------------------


async def test_tokens_never_reach_the_logs_or_the_browser(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pages = []
    for team in (TEAM_A, TEAM_B):
        status, page = await harness.install(team)
        assert status == 200
        pages.append(page)
    subscribe(harness, TEAM_A, CHANNEL_A)
    assert (await harness.deliver("2026-10")).ok
    assert await harness.command(TEAM_A, "help", key="a") == 200
    await harness.slack.wait_for_responses(1)
    harness.slack.revoke(TEAM_B)
    assert await harness.event(TEAM_B, {"type": "app_uninstalled"}) == 200
    await eventually(lambda: TEAM_B not in harness.installations())

    tokens = [*harness.slack.tokens_of(TEAM_A), *(t for t in harness.installations().values())]
    secrets = {*tokens, CLIENT_SECRET, SIGNING_SECRET}
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]
    logged = caplog.text + "\n".join(str(r.args) + str(r.__dict__) for r in caplog.records)
    assert any(r.name.startswith("adapters.slack") for r in caplog.records)  # the capture did see us
    for secret in secrets:
        assert secret not in logged
        assert not any(secret in page for page in pages)
    assert "xoxb-" not in logged


def test_the_log_redactor_hides_token_shaped_values_that_are_not_in_the_settings() -> None:
    stream = io.StringIO()
    configure_logging(load_settings(log_format="json"), stream=stream)
    logging.getLogger("adapters.slack.test").warning("token xoxb-T0ALPHA01-000123-fake-oauth-token seen")
    line = stream.getvalue()
    assert "xoxb-T0ALPHA01" not in line
    assert REDACTED in line


# --- settings and manifest ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLACK_CLIENT_ID": CLIENT_ID}, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together"),
        ({"SLACK_CLIENT_SECRET": CLIENT_SECRET}, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together"),
        ({"SLACK_CLIENT_ID": "not-an-id", "SLACK_CLIENT_SECRET": CLIENT_SECRET}, "is not a Slack client ID"),
        (
            {
                "SLACK_CLIENT_ID": CLIENT_ID,
                "SLACK_CLIENT_SECRET": CLIENT_SECRET,
                "SLACK_APP_TOKEN": "xapp-1-abc",
            },
            "installs by OAuth need HTTP mode",
        ),
        (
            {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET},
            "SLACK_SIGNING_SECRET is not set",
        ),
        (
            {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET},
            "SLACK_REDIRECT_URI is not set",
        ),
        (
            {
                "SLACK_CLIENT_ID": CLIENT_ID,
                "SLACK_CLIENT_SECRET": CLIENT_SECRET,
                "SLACK_BOT_TOKEN": "xoxb-1-abc",
            },
            "unset SLACK_BOT_TOKEN",
        ),
        ({"SLACK_REDIRECT_URI": "http://bot.example.org/slack/oauth_redirect"}, "must be an https:// URL"),
        ({"SLACK_REDIRECT_URI": "https://bot.example.org/"}, "must name the redirect path"),
    ],
)
def test_misconfigured_oauth_is_a_clear_error_without_the_secret(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert expected in str(error.value)
    assert CLIENT_SECRET not in str(error.value)


def test_oauth_without_a_token_key_is_refused_saying_how_to_make_one(
    oauth_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRENDS_TOKEN_KEY")
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert "TRENDS_TOKEN_KEY is not set: each workspace's bot token is stored encrypted with it" in message
    # The command the message gives makes a key that the settings then accept.
    command = re.search(r'python -c "([^"]+)"', message)
    assert command is not None
    made = subprocess.run(
        [sys.executable, "-c", command.group(1)], capture_output=True, text=True, check=True
    ).stdout.strip()
    monkeypatch.setenv("TRENDS_TOKEN_KEY", made)
    settings = load_settings()
    assert settings.token_key is not None
    assert settings.token_key.get_secret_value() == made
    assert made not in repr(settings)


def test_the_token_key_is_redacted_from_the_logs(oauth_env: None) -> None:
    stream = io.StringIO()
    configure_logging(load_settings(log_format="json"), stream=stream)
    logging.getLogger("adapters.slack.test").warning("key %s seen", TOKEN_KEY)
    assert TOKEN_KEY not in stream.getvalue()
    assert REDACTED in stream.getvalue()


def test_oauth_settings_load_and_the_single_token_mode_is_untouched(
    oauth_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    assert settings.slack_oauth
    assert settings.slack_redirect_uri == REDIRECT
    assert CLIENT_SECRET not in repr(settings)
    monkeypatch.delenv("SLACK_CLIENT_ID")
    monkeypatch.delenv("SLACK_CLIENT_SECRET")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-0000-not-a-real-token")
    assert not load_settings().slack_oauth


def test_create_runtime_in_oauth_mode_needs_the_database(oauth_env: None) -> None:
    def make_chat(poster: SlackPoster) -> ChatService:
        raise AssertionError("not reached")

    with pytest.raises(ConfigError, match="database"):
        create_runtime(load_settings(), make_chat, FeedbackService(sessionmaker()))


def _manifest_lines() -> list[str]:
    return [line.split("#", 1)[0].rstrip() for line in MANIFEST.read_text(encoding="utf-8").splitlines()]


def _list_after(lines: list[str], header: str) -> list[str]:
    start = lines.index(header)
    indent = " " * (len(header) - len(header.lstrip()) + 2) + "- "
    items = []
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        if not line.startswith(indent):
            break
        items.append(line.removeprefix(indent))
    return items


def test_the_install_asks_for_the_manifest_scopes_and_the_manifest_has_the_oauth_settings() -> None:
    lines = _manifest_lines()
    assert _list_after(lines, "    bot:") == list(BOT_SCOPES)
    events = _list_after(lines, "    bot_events:")
    assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    raw = MANIFEST.read_text(encoding="utf-8")
    assert "redirect_urls:" in raw
    assert "/slack/oauth_redirect" in raw


# --- everything else the bot calls on its own uses the workspace's token ----------------------


async def test_admin_checks_and_approval_previews_use_the_workspace_token(harness_any_db: Harness) -> None:
    h, slack = harness_any_db, harness_any_db.slack
    for team in (TEAM_A, TEAM_B):
        assert (await h.install(team))[0] == 200
    stored = h.installations()

    # An admin command from B: users.info (is the caller a workspace admin?) is asked with B's token.
    assert await h.command(TEAM_B, "publish 2026-10", key="b-publish") == 200
    await slack.wait_for_responses(1)
    assert {slack.token_of(c) for c in slack.calls_to("users.info")} == {stored[TEAM_B]}

    # The monthly approval preview goes to its channel with that channel's workspace token.
    from adapters.slack.approval import SlackApprovalNotifier
    from bot.scheduler.approval import ApprovalTarget

    view = digest_view("2026-10", [make_paper("2610.00001", title="Paper 1")])
    notifier = SlackApprovalNotifier(h.runtime.clients)
    await notifier.request_approval(ApprovalTarget("slack", TEAM_A, CHANNEL_A), view)
    assert tokens_used(slack, "chat.postMessage", CHANNEL_A) == {stored[TEAM_A]}
    slack.revoke(TEAM_A)
    assert await h.event(TEAM_A, {"type": "app_uninstalled"}) == 200
    await eventually(lambda: TEAM_A not in h.installations())
    with pytest.raises(DeliveryError, match="not installed"):
        await notifier.request_approval(ApprovalTarget("slack", TEAM_A, CHANNEL_A), view)


async def test_trends_run_starts_slack_in_oauth_mode_without_a_bot_token(
    oauth_env: None, fake_slack: FakeSlack, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.run import approval_notifiers, build_adapters
    from adapters.slack.approval import SlackApprovalNotifier

    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    container = build(load_settings(database_url=sqlite_url))
    try:
        chat = ChatService(container)
        adapters = build_adapters(container, chat)
        assert [a.name for a in adapters] == ["slack"]
        runtime = adapters[0].component
        assert isinstance(runtime, SlackRuntime)
        assert runtime.app.oauth_flow is not None
        assert chat.posters["slack"] is runtime.poster
        assert isinstance(approval_notifiers(container, adapters)["slack"], SlackApprovalNotifier)
        assert not fake_slack.calls  # no token, so no auth.test at start
    finally:
        container.close()


async def test_org_wide_installs_are_refused_and_nothing_is_stored(
    session_factory: sessionmaker[Session],
) -> None:
    from slack_bolt.error import BoltError
    from slack_sdk.oauth.installation_store.models.installation import Installation

    from adapters.slack.installations import SqlInstallationStore

    store = SqlInstallationStore(session_factory, TokenCipher(TOKEN_KEY))
    org_wide = Installation(
        enterprise_id="E0GRID001",
        team_id=None,
        bot_token="xoxb-org-wide-not-real",
        bot_id="B0ORG",
        bot_user_id="U0ORG",
        user_id="U0INSTALL1",
        is_enterprise_install=True,
    )
    with pytest.raises(BoltError, match="org-wide"):
        await store.async_save(org_wide)
    with session_factory() as session:
        assert session.scalars(select(SlackInstallation)).all() == []
    assert await store.async_find_bot(enterprise_id="E0GRID001", team_id=None) is None


async def test_a_workspace_off_the_allowed_list_cannot_install(
    session_factory: sessionmaker[Session],
) -> None:
    from slack_bolt.error import BoltError
    from slack_sdk.oauth.installation_store.models.installation import Installation

    from adapters.slack.installations import SqlInstallationStore

    store = SqlInstallationStore(
        session_factory, TokenCipher(TOKEN_KEY), allowed=lambda team_id: team_id == "T0ALLOWED"
    )
    outsider = Installation(
        team_id="T0OUTSIDE",
        bot_token="xoxb-outsider-not-real",
        bot_id="B0OUT",
        bot_user_id="U0OUT",
        user_id="U0INSTALL2",
    )
    with pytest.raises(BoltError, match="does not serve workspace T0OUTSIDE"):
        await store.async_save(outsider)
    insider = Installation(
        team_id="T0ALLOWED",
        bot_token="xoxb-insider-not-real",
        bot_id="B0IN",
        bot_user_id="U0IN",
        user_id="U0INSTALL3",
    )
    await store.async_save(insider)
    with session_factory() as session:
        assert [row.team_id for row in session.scalars(select(SlackInstallation))] == ["T0ALLOWED"]


async def test_sealing_a_plain_row_never_overwrites_a_reinstall_committed_meanwhile(
    session_factory: sessionmaker[Session],
) -> None:
    from slack_sdk.oauth.installation_store.models.installation import Installation

    from adapters.slack.installations import SqlInstallationStore

    cipher = TokenCipher(TOKEN_KEY)
    store = SqlInstallationStore(session_factory, cipher)
    await store.async_save(
        Installation(
            team_id=TEAM_A, bot_token="xoxb-old-0001", bot_id="B0A", bot_user_id="U0A", user_id="U0I"
        )
    )
    with session_factory() as session:  # the row as the version before encryption left it
        session.execute(update(SlackInstallation).values(bot_token="xoxb-old-0001"))
        session.commit()

    # A reinstall commits its new token between the lookup's read and its sealing write.
    engine = session_factory.kw["bind"]
    reinstalled = cipher.seal("xoxb-new-0002")
    raced = []

    def reinstall_first(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE SLACK_INSTALLATIONS") and not raced:
            raced.append(statement)
            with engine.begin() as other:
                other.execute(update(SlackInstallation).values(bot_token=reinstalled))

    event.listen(engine, "before_cursor_execute", reinstall_first)
    try:
        bot = await store.async_find_bot(enterprise_id=None, team_id=TEAM_A)
    finally:
        event.remove(engine, "before_cursor_execute", reinstall_first)
    assert raced
    assert bot is not None
    assert bot.bot_token == "xoxb-old-0001"  # what the lookup read
    with session_factory() as session:
        assert session.scalars(select(SlackInstallation.bot_token)).one() == reinstalled  # still there
    again = await store.async_find_bot(enterprise_id=None, team_id=TEAM_A)
    assert again is not None
    assert again.bot_token == "xoxb-new-0002"
