"""Crash-tested end to end, black-box: a real `trends run` is SIGKILLed again and again while it posts a
digest thread to a fake Slack and a fake Discord, restarted each time, and then the threads are
counted on the platforms' side.

Setup: a published month with `PICKS` picks whose deliveries to one Slack and one Discord channel are
recorded as pending (as a `publish` leaves them), a monthly digest cron whose last run was this
month's first (so each start's catch-up resumes the delivery at once), a 1-second leader lease and a
short delivery lease (`TRENDS_DELIVERY_LEASE_SECONDS`) so that a restart does not wait long for the
dead process's leases. Both fakes hold each answer back (`DELAY`) after doing the work, so a kill can
land between "the platform has the message" and "the bot recorded it".

Each life is killed at a seeded random moment: mostly a random delay after the life's first post
reached a fake (in flight or just after), sometimes at a random moment of its start-up. The kills go
on until `KILLS` (or until the threads are complete); a last life then finishes without interruption.
Expected: exactly one parent and one reply per pick in each channel, each reply about its own pick,
and both deliveries recorded done with the platforms' message ids. The figures are printed (`-s`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import migrations
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import DeliveredMessage, Delivery, HarvestRun, Subscription
from bot.months import Month
from tests.factories import add_published_digest, make_paper
from tests.fakes.discord_api import GUILD_ID, TEXT_CHANNEL_ID, FakeDiscord
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack

TRENDS = str(Path(sys.executable).with_name("trends"))
SEED = int(os.environ.get("CRASH_TEST_SEED", "20261207"))  # another seed: CRASH_TEST_SEED=…
KILLS = 24
PICKS = 12
DELAY = 0.3  # seconds each fake holds an answer back
SLACK_CHANNEL = "C0CRASHTEST"
LIFE_TIMEOUT = 60.0  # a life that posts nothing for this long is a failure (a stuck delivery)
MARKER = "trends-delivery-"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(db_url: str, month: Month) -> list[str]:
    """The published month, its pending deliveries and a fresh harvest; returns the picks' arXiv ids."""
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            first_day = dt.datetime(month.year, month.month, 3, 12, tzinfo=dt.UTC)
            papers = [
                make_paper(f"2611.{i:05d}", title=f"Crash-safe paper {i}", submitted=first_day)
                for i in range(1, PICKS + 1)
            ]
            session.add_all(papers)
            session.flush()
            digest = add_published_digest(session, str(month), papers)
            subscriptions = [
                Subscription(
                    platform="slack",
                    workspace_id="T0TRENDS1",
                    channel_id=SLACK_CHANNEL,
                    audience_id=digest.audience_id,
                ),
                Subscription(
                    platform="discord",
                    workspace_id=GUILD_ID,
                    channel_id=TEXT_CHANNEL_ID,
                    audience_id=digest.audience_id,
                ),
            ]
            session.add_all(subscriptions)
            session.flush()
            for subscription in subscriptions:
                session.add(Delivery(digest_id=digest.id, subscription_id=subscription.id, status="pending"))
            now = dt.datetime.now(dt.UTC)
            session.add(  # the daily harvest is not due: only the digest job runs
                HarvestRun(
                    window_start=now.date(),
                    window_end=now.date(),
                    categories=["cs.LG"],
                    status="done",
                    trigger="scheduler",
                    finished_at=now,
                )
            )
            session.commit()
            return [p.arxiv_id for p in papers]
    finally:
        engine.dispose()


def _deliveries(db_url: str) -> dict[str, tuple[str, dict[int, str | None]]]:
    """platform -> (delivery status, {position: message id of the posted rows})."""
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            found = {}
            for delivery, platform in session.execute(
                select(Delivery, Subscription.platform).join(
                    Subscription, Subscription.id == Delivery.subscription_id
                )
            ):
                rows = session.scalars(
                    select(DeliveredMessage).where(
                        DeliveredMessage.delivery_id == delivery.id, DeliveredMessage.state == "posted"
                    )
                )
                found[platform] = (delivery.status, {r.position: r.message_id for r in rows})
            return found
    finally:
        engine.dispose()


def _slack_marker(message: dict[str, Any]) -> str:
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    return str(payload.get("marker", ""))


def _discord_marker(message: dict[str, Any]) -> str:
    for embed in message.get("embeds") or []:
        text = str((embed.get("footer") or {}).get("text", ""))
        if MARKER in text:
            return MARKER + text.split(MARKER, 1)[1].split()[0]
    return ""


def _position(marker: str) -> int:
    return int(marker.rsplit("-", 1)[1])


class Lives:
    """The `trends run` processes of the test, one at a time; their logs stay for a failure report."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.count = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self) -> subprocess.Popen[bytes]:
        self.count += 1
        self._log = (self.logs / f"life-{self.count:02d}.log").open("wb")
        self.proc = subprocess.Popen(
            [TRENDS, "run"], env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        return self.proc

    def text(self) -> str:
        return (self.logs / f"life-{self.count:02d}.log").read_text(encoding="utf-8", errors="replace")

    def tail(self) -> str:
        return self.text()[-4000:]

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._log.close()

    async def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
        self._log.close()
        return self.proc.wait()

    def events(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.logs.glob("life-*.log")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        found.append(json.loads(line))
                    except json.JSONDecodeError:  # a line cut by the kill
                        continue
        return found


@pytest.fixture
def crash_db(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """SQLite (the default deployment); CRASH_TEST_POSTGRES=1 runs it on a fresh PostgreSQL database."""
    if os.environ.get("CRASH_TEST_POSTGRES") != "1":
        return sqlite_url
    databases = request.getfixturevalue("pg_databases")
    if databases is None:
        pytest.skip("CRASH_TEST_POSTGRES=1 needs TRENDS_TEST_DATABASE_URL")
    url = str(databases.create())
    engine = make_engine(url)
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.mark.slow
async def test_sigkill_while_posting_never_duplicates_or_loses_a_message(
    crash_db: str, tmp_path: Path
) -> None:
    db_url = crash_db
    month = Month.current(dt.datetime.now(dt.UTC), "UTC").previous()
    picks = _seed(db_url, month)
    rng = random.Random(SEED)
    started = time.monotonic()
    async with FakeSlack() as slack, FakeDiscord.running() as discord_fake:
        slack.delay = discord_fake.delay = DELAY
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRENDS_", "SLACK_", "DISCORD_"))}
        env.update(
            TRENDS_CONFIG=os.environ["TRENDS_CONFIG"],
            TRENDS_DATABASE_URL=db_url,
            TRENDS_ARXIV_API_URL=f"http://127.0.0.1:{_free_port()}/api/query",  # never called
            TRENDS_CATEGORIES="cs.LG",
            TRENDS_HARVEST_CRON="0 6 1 1 *",
            TRENDS_DIGEST_CRON="0 0 1 * *",  # last fired on this month's first: the catch-up runs
            TRENDS_TIMEZONE="UTC",
            TRENDS_LEADER_LEASE_SECONDS="1",
            TRENDS_DELIVERY_LEASE_SECONDS="2",
            TRENDS_LOG_FORMAT="json",
            TRENDS_HEALTH_PORT="0",
            TRENDS_SIGNALS_SEMANTIC_SCHOLAR_ENABLED="false",
            TRENDS_SIGNALS_HUGGINGFACE_ENABLED="false",
            TRENDS_SIGNALS_GITHUB_ENABLED="false",
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.api_url,
            TRENDS_SLACK_PORT=str(_free_port()),
            DISCORD_TOKEN="fake-discord-token",
            DISCORD_API_URL=discord_fake.base_url,
            DISCORD_GATEWAY_URL=discord_fake.gateway_url,
            PYTHONUNBUFFERED="1",
        )

        def posts() -> int:
            slack_posts = len(slack.calls_to("chat.postMessage"))
            discord_posts = len(discord_fake.calls_to("POST", r"/channels/\d+/messages(/\d+/threads)?"))
            return slack_posts + discord_posts

        def complete() -> bool:
            done = _deliveries(db_url)
            return len(done) == 2 and all(status == "done" for status, _ in done.values())

        lives = Lives(env, tmp_path)
        kills = in_flight = early = 0
        to_first_post: list[float] = []
        try:
            while kills < KILLS and not complete():
                before = posts()
                proc = lives.start()
                spawned = time.monotonic()
                if rng.random() < 0.2:  # a kill somewhere in start-up, election or the resume's reads
                    early += 1
                    await asyncio.sleep(rng.uniform(0.2, 3.0))
                else:
                    while posts() == before:
                        assert proc.poll() is None, f"life {lives.count} exited:\n{lives.tail()}"
                        if time.monotonic() - spawned > LIFE_TIMEOUT:
                            if complete():
                                break
                            raise AssertionError(f"life {lives.count} posted nothing:\n{lives.tail()}")
                        await asyncio.sleep(0.005)
                    to_first_post.append(time.monotonic() - spawned)
                    wait = rng.uniform(0.0, DELAY + 0.4)
                    in_flight += wait < DELAY
                    await asyncio.sleep(wait)
                assert proc.poll() is None, f"life {lives.count} exited:\n{lives.tail()}"
                lives.kill()
                kills += 1
            # The last life runs until both threads are complete and it leads, then stops cleanly.
            proc = lives.start()
            deadline = time.monotonic() + LIFE_TIMEOUT
            while not (complete() and '"became leader"' in lives.text()):
                assert proc.poll() is None, f"the last life exited:\n{lives.tail()}"
                assert time.monotonic() < deadline, f"the threads never completed:\n{lives.tail()}"
                await asyncio.sleep(0.1)
            assert await lives.stop() == 0, lives.tail()
        finally:
            if lives.proc is not None and lives.proc.poll() is None:
                lives.proc.kill()
                lives.proc.wait()
        elapsed = time.monotonic() - started

        # ---- count on the platforms' side
        slack_messages = slack.posted(SLACK_CHANNEL)
        slack_parents = [m for m in slack_messages if m["thread_ts"] is None]
        assert len(slack_parents) == 1, [m["text"][:60] for m in slack_parents]
        slack_replies = [m for m in slack_messages if m["thread_ts"] == slack_parents[0]["ts"]]
        assert len(slack_messages) == 1 + len(slack_replies)

        discord_parents = discord_fake.messages_in(TEXT_CHANNEL_ID)
        assert len(discord_parents) == 1, len(discord_parents)
        threads = discord_fake.threads_of(TEXT_CHANNEL_ID)
        assert [t["id"] for t in threads] == [discord_parents[0]["id"]]
        discord_replies = discord_fake.messages_in(threads[0]["id"])

        counts = {}
        for platform, parent, replies, marker_of, text_of in (
            ("slack", slack_parents[0], slack_replies, _slack_marker, lambda m: json.dumps(m["blocks"])),
            (
                "discord",
                discord_parents[0],
                discord_replies,
                _discord_marker,
                lambda m: json.dumps(m["embeds"]),
            ),
        ):
            assert _position(marker_of(parent)) == 0
            positions = Counter(_position(marker_of(m)) for m in replies)
            assert positions == Counter(range(1, PICKS + 1)), (platform, positions)
            for reply in replies:  # each reply is about its own pick
                assert picks[_position(marker_of(reply)) - 1] in text_of(reply), platform
            counts[platform] = (1, len(replies))

        # ---- and on the bot's side: done, with the platforms' ids
        recorded = _deliveries(db_url)
        assert recorded["slack"][0] == recorded["discord"][0] == "done"
        assert recorded["slack"][1] == {
            0: slack_parents[0]["ts"],
            **{_position(_slack_marker(m)): m["ts"] for m in slack_replies},
        }
        assert recorded["discord"][1] == {
            0: discord_parents[0]["id"],
            **{_position(_discord_marker(m)): m["id"] for m in discord_replies},
        }
    events = lives.events()
    adopted = sum(int(e.get("adopted") or 0) for e in events if e.get("event") == "digest delivery")
    print(
        f"\ncrash test: seed {SEED}, {kills} SIGKILLs ({in_flight} with a post in flight, {early} during "
        f"start-up), {lives.count} lives; slack parent/replies {counts['slack']}, discord "
        f"{counts['discord']} for {PICKS} picks; {posts()} post calls; adopted after a crash (logged by "
        f"finished runs) {adopted}; {elapsed:.1f} s, median start to first post "
        f"{statistics.median(to_first_post or [0]):.2f} s"
    )
    assert kills >= 20
