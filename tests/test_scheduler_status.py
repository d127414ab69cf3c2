"""`trends status`: the last harvest, next runs from the job store, the leader, the last digest."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from adapters.cli import app
from bot.audiences import default_audience_id
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import DeliveredMessage, Delivery, Digest, DigestEntry, HarvestRun, Lease, Subscription
from bot.db.session_reader import SessionReader
from bot.db.uow import UnitOfWork
from bot.scheduler.runtime import JOBS_TABLE, make_scheduler, register_jobs
from bot.scheduler.status import collect_status
from bot.settings import load_settings
from tests.factories import make_paper


async def _fill(db_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    settings = load_settings(database_url=db_url)
    # The jobs as `trends run` stores them: the real scheduler and job store, started paused.
    scheduler = make_scheduler(settings, make_engine(db_url))
    register_jobs(scheduler, settings)
    scheduler.start(paused=True)
    scheduler.shutdown(wait=False)
    engine = make_engine(db_url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        s = uow.session
        s.add(
            HarvestRun(
                window_start=dt.date(2026, 10, 7),
                window_end=dt.date(2026, 10, 9),
                categories=["cs.LG"],
                status="failed",
                trigger="scheduler",
                fetched=40,
                inserted=30,
                updated=2,
                error="Could not fetch arXiv papers: HTTP 503",
                finished_at=now,
            )
        )
        s.add(Lease(name="scheduler", holder="host-a:42:abcd", expires_at=now + dt.timedelta(minutes=10)))
        paper = make_paper("2610.00001")
        s.add(paper)
        s.flush()
        digest = Digest(
            audience_id=default_audience_id(s),
            month="2026-10",
            status="published",
            title="Trends in AI — October 2026",
            published_at=now,
        )
        s.add(digest)
        s.flush()
        s.add(DigestEntry(digest_id=digest.id, paper_id=paper.id, position=1, section="pick"))
        sub = Subscription(
            audience_id=default_audience_id(s), platform="slack", workspace_id="T1", channel_id="C-general"
        )
        s.add(sub)
        s.flush()
        delivery = Delivery(
            digest_id=digest.id, subscription_id=sub.id, status="failed", error="rate limited"
        )
        s.add(delivery)
        s.flush()
        s.add(DeliveredMessage(delivery_id=delivery.id, position=0, state="posted", message_id="1.0"))
        uow.commit()
    engine.dispose()


async def test_status_shows_everything(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await _fill(db_url)
    monkeypatch.setenv("TRENDS_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "2026-10-07 → 2026-10-09, failed; fetched 40, inserted 30" in out
    assert "HTTP 503" in out
    assert "daily-harvest: next run" in out
    assert "monthly-digest: next run" in out
    assert "host-a:42:abcd (alive;" in out
    assert "2026-10: Trends in AI — October 2026 (published" in out
    assert "C-general" in out
    assert "1/2" in out  # parent posted, one reply to go
    assert "rate limited" in out
    check = CliRunner().invoke(app, ["status", "--check"])
    assert check.exit_code == 0
    assert "ok" in check.output


def test_status_check_fails_without_a_leader(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", sqlite_url)
    result = CliRunner().invoke(app, ["status", "--check"])
    assert result.exit_code == 1
    engine = make_engine(sqlite_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            report = collect_status(SessionReader(uow.session))
        with engine.connect() as conn:  # reading status schedules nothing
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {JOBS_TABLE}").scalar() == 0
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert report.jobs == ()
    assert report.digests == ()
    assert report.problems == ("no replica holds the scheduler lease: is `trends run` running?",)
