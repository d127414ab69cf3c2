"""Health everywhere: the one decision (`bot.health.assess`), its HTTP edge on 127.0.0.1, and the real
processes that serve it: `trends run` (Slack Socket Mode and Discord gateway, both fakes here),
`trends serve discord`, and `trends status --check` reading the same database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.health_http import start_health_server
from bot.bootstrap import Container, build
from bot.health import AdapterHealth, HarvestSummary, ProcessHealth, StoredHealth, assess
from bot.leases import LeaseInfo
from bot.settings import load_settings
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack

TRENDS = str(Path(sys.executable).with_name("trends"))
WAIT = 40.0
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
DISCORD_TOKEN = "fake-discord-token"  # the token tests/fakes/discord_api.py accepts


def _stored(leader_expires: dt.datetime | None) -> StoredHealth:
    leader = None
    if leader_expires is not None:
        acquired = leader_expires - dt.timedelta(minutes=5)
        leader = LeaseInfo("scheduler", "host:1:abc", leader_expires, acquired)
    harvest = HarvestSummary("done", dt.date(2026, 11, 30), dt.date(2026, 11, 30), 7, NOW)
    return StoredHealth(leader, harvest)


# --------------------------------------------------------------------------------- the decision


def test_a_replica_is_healthy_leading_or_standing_by_with_its_adapters_connected() -> None:
    up = [AdapterHealth("slack", True, "socket-mode connected"), AdapterHealth("discord", True, "ready")]
    for role in ("leading", "standby"):
        report = assess(_stored(None), now=NOW, scheduler=role, adapters=up)  # type: ignore[arg-type]
        assert report.healthy, report.problems
        assert report.to_dict()["adapters"] == {
            "slack": {"connected": True, "state": "socket-mode connected"},
            "discord": {"connected": True, "state": "ready"},
        }


def test_an_adapter_that_is_not_connected_makes_the_process_unhealthy() -> None:
    adapters = [AdapterHealth("slack", True, "http listening"), AdapterHealth("discord", False, "connecting")]
    report = assess(_stored(NOW + dt.timedelta(seconds=20)), now=NOW, scheduler="leading", adapters=adapters)
    assert not report.healthy
    assert report.problems == ("discord is not connected (connecting)",)
    body = report.to_dict()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["last_harvest"]["fetched"] == 7


def test_without_a_scheduler_here_a_live_leader_elsewhere_is_required_when_asked() -> None:
    expired = _stored(NOW - dt.timedelta(seconds=1))
    alive = _stored(NOW + dt.timedelta(seconds=1))
    assert not assess(expired, now=NOW, scheduler="absent", require_leader=True).healthy
    assert not assess(_stored(None), now=NOW, scheduler="absent", require_leader=True).healthy
    assert assess(alive, now=NOW, scheduler="absent", require_leader=True).healthy
    assert assess(expired, now=NOW, scheduler="absent").healthy  # `trends serve discord`: its own health
    unreachable = assess(None, now=NOW, scheduler="absent", require_leader=True)
    assert (unreachable.healthy, unreachable.problems) == (False, ("the database did not answer",))
    assert unreachable.to_dict() == {
        "status": "unavailable",
        "database": "unreachable",
        "scheduler": "absent",
        "adapters": {},
        "problems": ["the database did not answer"],
    }


# ----------------------------------------------------------------------- the HTTP edge, in-process


@pytest.fixture
def discord_container(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    monkeypatch.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    built = build(load_settings(database_url=sqlite_url))
    yield built
    built.close()


@asynccontextmanager
async def serving(health: ProcessHealth) -> AsyncIterator[Callable[[], Any]]:
    runner = await start_health_server(health, "127.0.0.1", 0)
    assert runner is not None
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/healthz"
    try:
        async with httpx.AsyncClient() as client:

            async def get() -> httpx.Response:
                return await client.get(url)

            yield get
    finally:
        await runner.cleanup()


async def test_the_discord_gateway_state_is_reported_over_http(discord_container: Container) -> None:
    from adapters.discord.client import create_bot, serve
    from adapters.discord.health import discord_probe

    async with FakeDiscord.running() as fake:
        bot = create_bot(discord_container)
        health = ProcessHealth(discord_container.uow)
        health.watch("discord", discord_probe(bot))
        async with serving(health) as get:
            before = await get()
            assert before.status_code == 503
            assert before.json()["adapters"] == {"discord": {"connected": False, "state": "connecting"}}
            running = asyncio.create_task(serve(bot, DISCORD_TOKEN))
            try:
                deadline = time.monotonic() + WAIT
                while not bot.is_ready():
                    assert time.monotonic() < deadline, "the bot never became ready"
                    assert not running.done(), running
                    await asyncio.sleep(0.05)
                ready = await get()
                assert ready.status_code == 200, ready.text
                assert ready.json()["adapters"] == {"discord": {"connected": True, "state": "gateway ready"}}
                assert fake.identified == 1
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
            after = await get()
            assert after.status_code == 503
            assert after.json()["adapters"]["discord"]["connected"] is False


async def test_a_taken_port_is_logged_and_does_not_raise(
    discord_container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    health = ProcessHealth(discord_container.uow)
    first = await start_health_server(health, "127.0.0.1", 0)
    assert first is not None
    try:
        assert await start_health_server(health, "127.0.0.1", first.addresses[0][1]) is None
        assert "cannot serve /healthz" in caplog.text
    finally:
        await first.cleanup()


# ------------------------------------------------------------------------------ real processes


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRENDS_", "SLACK_", "DISCORD_"))}
    env.update(
        TRENDS_CONFIG=os.environ["TRENDS_CONFIG"],
        TRENDS_DATABASE_URL=db_url,
        TRENDS_ARXIV_API_URL=f"http://127.0.0.1:{free_port()}/api/query",  # nobody listens
        TRENDS_CATEGORIES="cs.LG",
        TRENDS_HARVEST_CRON="0 6 1 1 *",
        TRENDS_DIGEST_CRON="0 8 1 1 *",
        TRENDS_LEADER_LEASE_SECONDS="2",
        TRENDS_SIGNALS_SEMANTIC_SCHOLAR_ENABLED="false",
        TRENDS_SIGNALS_HUGGINGFACE_ENABLED="false",
        TRENDS_SIGNALS_GITHUB_ENABLED="false",
        TRENDS_HEALTH_HOST="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Child:
    """A `trends …` child process with its output in a file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen([TRENDS, *args], env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def healthz(self, port: int, until: Callable[[httpx.Response], bool]) -> httpx.Response:
        """Poll `GET /healthz` until `until(response)`; the last response."""
        deadline = time.monotonic() + WAIT
        async with httpx.AsyncClient() as client:
            while True:
                assert self.proc.poll() is None, f"exited ({self.proc.returncode}):\n{self.text()[-3000:]}"
                try:
                    response = await client.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                    if until(response):
                        return response
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"/healthz never got there:\n{self.text()[-3000:]}"
                await asyncio.sleep(0.1)

    async def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + WAIT
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
        self._log.close()
        return self.proc.wait()


def status_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRENDS, "status", "--check"], env=env, capture_output=True, text=True, timeout=WAIT, check=False
    )


@pytest.mark.slow
async def test_trends_run_reports_slack_socket_mode_discord_and_the_scheduler(
    sqlite_url: str, tmp_path: Path
) -> None:
    port = free_port()
    async with FakeSlack() as slack, FakeDiscord.running() as discord_fake:
        env = base_env(
            sqlite_url,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_APP_TOKEN=slack.app_token,
            SLACK_API_URL=slack.api_url,
            TRENDS_SLACK_PORT=str(free_port()),
            DISCORD_TOKEN=DISCORD_TOKEN,
            DISCORD_API_URL=discord_fake.base_url,
            DISCORD_GATEWAY_URL=discord_fake.gateway_url,
            TRENDS_HEALTH_PORT=str(port),
        )
        assert status_check(env).returncode == 1  # nothing runs yet: no leader
        child = Child(["run"], env, tmp_path / "run.log")
        try:
            response = await child.healthz(port, lambda r: r.status_code == 200)
            body = response.json()
            assert body["database"] == "ok"
            assert body["scheduler"] == "leading"
            assert body["leader"]["this_replica"] is True
            assert body["adapters"] == {
                "slack": {"connected": True, "state": "socket-mode connected"},
                "discord": {"connected": True, "state": "gateway ready"},
            }
            checked = status_check(env)
            assert (checked.returncode, checked.stdout.strip()) == (0, "ok"), checked.stderr
        finally:
            code = await child.stop()
        assert code == 0, child.text()[-3000:]
    stopped = status_check(env)  # the lease was released on the way out
    assert stopped.returncode == 1
    assert "no replica holds the scheduler lease" in stopped.stderr + stopped.stdout


@pytest.mark.slow
async def test_trends_serve_discord_answers_healthz(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    async with FakeDiscord.running() as discord_fake:
        env = base_env(
            sqlite_url,
            DISCORD_TOKEN=DISCORD_TOKEN,
            DISCORD_API_URL=discord_fake.base_url,
            DISCORD_GATEWAY_URL=discord_fake.gateway_url,
            TRENDS_HEALTH_PORT=str(port),
        )
        child = Child(["serve", "discord"], env, tmp_path / "serve.log")
        try:
            first = await child.healthz(port, lambda r: True)
            assert first.headers["content-type"].startswith("application/json")
            ready = await child.healthz(port, lambda r: r.status_code == 200)
            body = ready.json()
            assert body["adapters"] == {"discord": {"connected": True, "state": "gateway ready"}}
            assert body["scheduler"] == "absent"
        finally:
            await child.stop()
