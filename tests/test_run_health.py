"""`GET /healthz` as the Slack web app serves it with `bot.health.ProcessHealth`, over real HTTP.

Leadership comes from real `LeaderElector`s on the test database; the unreachable database is a
PostgreSQL URL whose port nobody listens on (connection refused at once).
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.slack.app import HealthCheck, build_web_app, create_runtime
from adapters.slack.poster import SlackPoster
from bot.bootstrap import Container, build
from bot.chat.service import ChatService
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import HarvestRun
from bot.feedback import FeedbackService
from bot.health import ProcessHealth
from bot.leases import LeaseStore
from bot.scheduler.leases import LeaderElector
from bot.settings import load_settings
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack

DB_PASSWORD = "s3cret-db-password"


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-0000-not-a-real-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    built = build(load_settings(database_url=db_url))
    yield built
    built.close()


@pytest.fixture
def sqlite_container(sqlite_url: str) -> Iterator[Container]:
    """For the tests about answering, not about what a database stores."""
    built = build(load_settings(database_url=sqlite_url))
    yield built
    built.close()


@asynccontextmanager
async def healthz(
    container: Container, health: HealthCheck | None, *, with_events: bool = True
) -> AsyncIterator[tuple[int, dict[str, Any], str]]:
    """Serve the Slack web app (as `serve` builds it) and GET /healthz once."""
    async with FakeSlack() as slack:
        settings = container.settings.model_copy(update={"slack_api_url": slack.api_url})

        def make_chat(poster: SlackPoster) -> ChatService:
            return ChatService(container, posters={"slack": poster})

        runtime = create_runtime(settings, make_chat, FeedbackService(container.session_factory))
        runner = web.AppRunner(build_web_app(runtime.app, with_events=with_events, health=health))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/healthz"
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                text = await response.text()
                yield response.status, await response.json(), text
        finally:
            await runtime.responses.close()
            await runner.cleanup()


async def _nothing() -> None:
    return None


def elector(container: Container, holder: str) -> LeaderElector:
    return LeaderElector(
        LeaseStore(container.session_factory),
        holder=holder,
        lease_seconds=30,
        on_elected=_nothing,
        on_deposed=_nothing,
    )


def add_harvest(container: Container, status: str) -> None:
    with container.uow() as uow:
        uow.session.add(
            HarvestRun(
                window_start=dt.date(2026, 10, 30),
                window_end=dt.date(2026, 10, 31),
                categories=["cs.LG"],
                status=status,
                trigger="scheduler",
                fetched=120,
                finished_at=dt.datetime(2026, 11, 1, 6, 5, tzinfo=dt.UTC),
            )
        )
        uow.commit()


@pytest.mark.parametrize("with_events", [True, False], ids=["http-mode", "socket-mode"])
async def test_the_leader_reports_itself_and_the_last_harvest(
    slack_env: None, container: Container, with_events: bool
) -> None:
    leader = elector(container, "replica-a")
    await leader.step()
    add_harvest(container, "done")
    health = ProcessHealth(container.uow)
    health.follow(leader.holder, leader.is_leader)
    async with healthz(container, health, with_events=with_events) as (status, body, _):
        assert status == 200
        assert body["status"] == "ok"
        assert body["database"] == "ok"
        assert body["scheduler"] == "leading"
        assert body["leader"]["holder"] == "replica-a"
        assert body["leader"]["this_replica"] is True
        assert body["leader"]["alive"] is True
        assert body["last_harvest"] == {
            "status": "done",
            "window_start": "2026-10-30",
            "window_end": "2026-10-31",
            "fetched": 120,
            "finished_at": body["last_harvest"]["finished_at"],
        }
        assert body["last_harvest"]["finished_at"].startswith("2026-11-01T06:05")


async def test_a_standby_replica_names_the_leader_and_a_failed_harvest(
    slack_env: None, container: Container
) -> None:
    await elector(container, "replica-a").step()
    standby = elector(container, "replica-b")
    await standby.step()
    add_harvest(container, "failed")
    health = ProcessHealth(container.uow)
    health.follow(standby.holder, standby.is_leader)
    async with healthz(container, health) as (status, body, _):
        assert status == 200  # the database answers: this replica can serve commands
        assert body["scheduler"] == "standby"
        assert body["leader"]["holder"] == "replica-a"
        assert body["leader"]["this_replica"] is False
        assert body["last_harvest"]["status"] == "failed"


async def test_before_any_leader_or_harvest(slack_env: None, container: Container) -> None:
    async with healthz(container, ProcessHealth(container.uow)) as (status, body, _):
        assert status == 200
        assert body == {
            "status": "ok",
            "database": "ok",
            "scheduler": "absent",
            "leader": None,
            "last_harvest": None,
            "adapters": {},
        }


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_database_answers_503_without_details(
    slack_env: None, sqlite_container: Container
) -> None:
    url = f"postgresql+psycopg://trends:{DB_PASSWORD}@127.0.0.1:{_closed_port()}/trends?connect_timeout=2"
    engine = make_engine(url)
    unreachable = Container(sqlite_container.settings, engine, make_session_factory(engine))
    try:
        async with healthz(sqlite_container, ProcessHealth(unreachable.uow)) as (status, body, text):
            assert status == 503
            assert body == {
                "status": "unavailable",
                "database": "unreachable",
                "scheduler": "absent",
                "adapters": {},
                "problems": ["the database did not answer"],
            }
            assert DB_PASSWORD not in text
            assert "127.0.0.1" not in text
    finally:
        engine.dispose()


async def test_a_failing_check_still_answers_503(slack_env: None, sqlite_container: Container) -> None:
    async def broken() -> tuple[bool, dict[str, Any]]:
        raise RuntimeError("secret internals")

    async with healthz(sqlite_container, broken) as (status, body, text):
        assert status == 503
        assert body == {"status": "unavailable"}
        assert "secret internals" not in text


async def test_without_a_check_healthz_is_a_bare_ok(slack_env: None, sqlite_container: Container) -> None:
    async with healthz(sqlite_container, None) as (status, body, _):
        assert (status, body) == (200, {"status": "ok"})
