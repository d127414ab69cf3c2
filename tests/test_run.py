"""`trends run` as real processes: clean SIGTERM, SQLite refuses a second instance, no secret in the
logs, and two replicas on PostgreSQL where exactly one runs each tick and the follower takes over
when the leader is killed.

The processes talk to the fake arXiv server (and a fake Slack) of this test over 127.0.0.1 and run
the harvest every second (six-field cron), with a 2-second leader lease.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.db import migrations
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import HarvestRun
from tests.fakes.arxiv_server import FakeArxivServer, make_records
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack

TRENDS = str(Path(sys.executable).with_name("trends"))
WAIT = 40.0  # generous: a loaded CI machine imports slowly; passing runs take a few seconds
GITHUB_TOKEN = "ghp_thisIsASecretThatMustNeverBeLogged0001"


class RunProcess:
    """One `trends run` child process; its JSON log lines are read from a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen([TRENDS, "run"], env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.text().splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:  # a line being written
                    continue
        return found

    def job_runs(self, job: str = "daily-harvest") -> list[str]:
        return [e["scheduled"] for e in self.events() if e["event"] == "job run" and e["job"] == job]

    async def wait_for(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not check():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"process exited ({self.proc.returncode}) waiting for {what}:\n{self.text()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.text()[-3000:]}")
            await asyncio.sleep(0.1)

    def has(self, event: str) -> bool:
        return any(e["event"] == event for e in self.events())

    async def stop(self, signum: int = signal.SIGTERM) -> int:
        self.proc.send_signal(signum)
        deadline = time.monotonic() + WAIT
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
        self._log.close()
        return self.proc.wait()

    def kill_quietly(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def arxiv() -> Iterator[FakeArxivServer]:
    yesterday = dt.datetime.now(dt.UTC).replace(hour=1, minute=0, second=0, microsecond=0) - dt.timedelta(
        days=1
    )
    with FakeArxivServer(make_records(12, first=yesterday, spacing=dt.timedelta(minutes=30))) as server:
        yield server


def run_env(db_url: str, arxiv: FakeArxivServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRENDS_", "SLACK_", "DISCORD_"))}
    env.update(
        TRENDS_CONFIG=os.environ["TRENDS_CONFIG"],
        TRENDS_DATABASE_URL=db_url,
        TRENDS_ARXIV_API_URL=arxiv.url,
        TRENDS_ARXIV_DELAY_SECONDS="0",
        TRENDS_ARXIV_NUM_RETRIES="0",
        TRENDS_CATEGORIES="cs.LG",
        TRENDS_HARVEST_CRON="* * * * * *",
        TRENDS_DIGEST_CRON="0 8 1 1 *",
        TRENDS_LEADER_LEASE_SECONDS="2",
        TRENDS_LOG_FORMAT="json",
        TRENDS_HEALTH_HOST="127.0.0.1",
        TRENDS_HEALTH_PORT="0",  # off unless a test asks for it: replicas here share one host
        TRENDS_SIGNALS_SEMANTIC_SCHOLAR_ENABLED="false",
        TRENDS_SIGNALS_HUGGINGFACE_ENABLED="false",
        TRENDS_SIGNALS_GITHUB_ENABLED="false",
        GITHUB_TOKEN=GITHUB_TOKEN,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def harvest_rows(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(HarvestRun)) or 0)
    finally:
        engine.dispose()


@pytest.mark.slow
async def test_run_on_sqlite_with_slack_stops_cleanly_refuses_a_second_instance_and_hides_secrets(
    sqlite_url: str, arxiv: FakeArxivServer, tmp_path: Path
) -> None:
    port = free_port()
    async with FakeSlack() as slack:
        env = run_env(
            sqlite_url,
            arxiv,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            TRENDS_SLACK_PORT=str(port),
        )
        first = RunProcess(env, tmp_path / "first.log")
        try:
            await first.wait_for(lambda: len(first.job_runs()) >= 1, "a harvest tick")
            assert first.has("became leader")
            assert not first.has(
                "no chat platform configured (set SLACK_BOT_TOKEN or DISCORD_TOKEN): "
                "harvesting and building digests only"
            )
            async with httpx.AsyncClient() as client:
                health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert health.status_code == 200
            report = health.json()
            assert (report["status"], report["database"], report["scheduler"]) == ("ok", "ok", "leading")
            assert report["leader"]["this_replica"] is True
            assert report["last_harvest"] is not None  # a tick has run

            second = subprocess.run(
                [TRENDS, "run"], env=env, capture_output=True, text=True, timeout=WAIT, check=False
            )
            assert second.returncode == 1
            assert "already using this SQLite database" in second.stderr
            assert "Traceback" not in second.stderr

            status = subprocess.run(
                [TRENDS, "status"], env=env, capture_output=True, text=True, timeout=WAIT, check=False
            )
            assert status.returncode == 0, status.stderr
            assert "daily-harvest: next run" in status.stdout
            assert "(alive;" in status.stdout
        finally:
            code = await first.stop(signal.SIGTERM)
    log = first.text()
    assert code == 0, log[-3000:]
    assert first.has("trends run stopped")
    assert first.has("released leadership")
    assert harvest_rows(sqlite_url) >= 1
    assert any(e["event"] == "harvest done" and "duration_s" in e and "fetched" in e for e in first.events())
    for secret in (slack.bot_token, SIGNING_SECRET, GITHUB_TOKEN):
        assert secret not in log
    # Every line is one JSON event with the agreed fields.
    lines = [line for line in log.splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("{")]
    assert lines
    assert not_json == []
    assert all({"ts", "level", "logger", "event"} <= e.keys() for e in first.events())


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_replicas_on_postgresql_run_each_tick_once_and_fail_over(
    request: pytest.FixtureRequest, arxiv: FakeArxivServer, tmp_path: Path
) -> None:
    databases = request.getfixturevalue("pg_databases")
    if databases is None:
        pytest.skip("needs TRENDS_TEST_DATABASE_URL")
    db_url = databases.create()
    engine = make_engine(db_url)
    migrations.upgrade(engine)
    engine.dispose()
    env = run_env(db_url, arxiv)
    leader = RunProcess(env, tmp_path / "a.log")
    follower: RunProcess | None = None
    try:
        await leader.wait_for(lambda: leader.has("became leader"), "the first replica to lead")
        follower = RunProcess(env, tmp_path / "b.log")
        await follower.wait_for(
            lambda: (
                follower is not None and follower.has("standing by: another replica runs the scheduled jobs")
            ),
            "the second replica to stand by",
        )
        await leader.wait_for(lambda: len(leader.job_runs()) >= 2, "two ticks on the leader")
        assert follower.job_runs() == []
        assert not follower.has("became leader")

        leader.proc.send_signal(signal.SIGKILL)  # no goodbye: the lease must expire
        leader.kill_quietly()
        killed_at_ticks = leader.job_runs()
        await follower.wait_for(lambda: follower is not None and follower.has("became leader"), "takeover")
        await follower.wait_for(lambda: follower is not None and len(follower.job_runs()) >= 2, "ticks")
        code = await follower.stop(signal.SIGTERM)
        assert code == 0, follower.text()[-3000:]
    finally:
        leader.kill_quietly()
        if follower is not None:
            follower.kill_quietly()
    ticks = killed_at_ticks + follower.job_runs()
    assert len(ticks) == len(set(ticks)), "a tick ran on both replicas"
    assert max(killed_at_ticks) < min(follower.job_runs())
    started = sum(e["event"] == "harvest started" for p in (leader, follower) for e in p.events())
    assert 1 <= harvest_rows(db_url) <= started
