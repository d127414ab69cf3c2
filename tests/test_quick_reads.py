"""The light commands' reads through the database driver alone (`bot.db.dbapi`), on both engines.

`trends topics list`, `trends issues` and `trends status` answer through `sqlite3` / psycopg without
loading SQLAlchemy. What they answer must be what the full path answers, value for value (dates,
booleans and JSON come back as the driver's raw values and are decoded by `bot.db.reader`), and
whenever the full path has something to do (create, migrate, seed, explain) the quick path must
step aside and return None.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from adapters.cli import app
from bot.archive.issue_list import issues_if_known
from bot.archive.issues import list_issues
from bot.archive.views import IssueSummary
from bot.audiences import default_audience_id
from bot.db.dbapi import open_reader, read_if_current
from bot.db.engine import make_engine, make_session_factory
from bot.db.models import (
    Audience,
    DeliveredMessage,
    Delivery,
    Digest,
    DigestEntry,
    HarvestRun,
    Lease,
    SchedulerJob,
    Subscription,
    Topic,
)
from bot.db.reader import SqlReader
from bot.db.session_reader import SessionReader
from bot.db.uow import UnitOfWork
from bot.digest.topic_list import topics_if_seeded
from bot.digest.topics import TopicDraft, TopicService, to_view
from bot.scheduler.status import StatusReport, collect_status
from bot.settings import load_settings
from tests.factories import make_paper

NOW = dt.datetime(2026, 11, 3, 9, 30, 15, 123456, tzinfo=dt.UTC)
PUBLISHED_AT = dt.datetime(2026, 10, 2, 8, 0, 1, 654321, tzinfo=dt.UTC)
HOSTILE_TOPIC = TopicDraft(
    name="Ünïcode “robots” 🤖 ' OR 1=1 --",
    description='Quotes " and \\ backslashes; DROP TABLE topics;',
    include=['say "hello"', "naïve bayes", "x\\y", "日本語"],
    exclude=["it's"],
    examples=["2401.00001"],
    weight=2.5,
)


def _fill(url: str) -> None:
    """Two audiences with topics, digests, deliveries; harvest runs, a lease and a stored job."""
    settings = load_settings(database_url=url)
    engine = make_engine(url)
    uow = lambda: UnitOfWork(make_session_factory(engine))  # noqa: E731
    topics = TopicService(uow, settings)
    topics.list_topics()  # seeds `default`
    topics.add(HOSTILE_TOPIC, actor="test")
    with uow() as unit:
        unit.session.add(Audience(name="vision", created_by="test"))
        unit.commit()
    topics.list_topics(audience="vision")
    topics.disable("Vision", actor="test", audience="vision")
    with uow() as unit:
        s = unit.session
        default = default_audience_id(s)
        vision = s.scalars(select(Audience.id).where(Audience.name == "vision")).one()
        papers = [make_paper(f"2610.0000{i}") for i in range(1, 4)]
        s.add_all(papers)
        s.add_all(
            [
                HarvestRun(
                    window_start=dt.date(2026, 10, 1),
                    window_end=dt.date(2026, 10, 3),
                    categories=["cs.LG"],
                    status="done",
                    trigger="scheduler",
                    fetched=90,
                    inserted=80,
                    updated=3,
                    started_at=NOW - dt.timedelta(days=2),
                    finished_at=NOW - dt.timedelta(days=2, minutes=-5),
                ),
                HarvestRun(
                    window_start=dt.date(2026, 10, 4),
                    window_end=dt.date(2026, 10, 5),
                    categories=["cs.LG", "cs.CL"],
                    status="failed",
                    trigger="cli",
                    fetched=10,
                    error="HTTP 503 “unavailable”",
                    started_at=NOW - dt.timedelta(hours=1),
                ),
                Lease(name="scheduler", holder="host-a:7:beef", expires_at=NOW + dt.timedelta(minutes=3)),
                SchedulerJob(id="daily-harvest", next_run_time=NOW.timestamp() + 3600, job_state=b"\x80"),
                SchedulerJob(id="monthly-digest", next_run_time=None, job_state=b"\x80"),
            ]
        )
        s.flush()
        september = Digest(
            audience_id=default,
            month="2026-09",
            status="published",
            title="Trends in AI — September 2026",
            published_at=PUBLISHED_AT,
        )
        october = Digest(audience_id=default, month="2026-10", status="draft", title="Draft “October”")
        seen = Digest(
            audience_id=vision,
            month="2026-10",
            status="published",
            title="Vision — October",
            published_at=PUBLISHED_AT,
        )
        s.add_all([september, october, seen])
        s.flush()
        s.add_all(
            [
                DigestEntry(digest_id=september.id, paper_id=papers[0].id, position=1, section="pick"),
                DigestEntry(digest_id=september.id, paper_id=papers[1].id, position=2, section="pick"),
                DigestEntry(digest_id=september.id, paper_id=papers[2].id, position=3, section="other"),
                DigestEntry(digest_id=seen.id, paper_id=papers[2].id, position=1, section="pick"),
            ]
        )
        channels = [
            Subscription(audience_id=vision, platform="slack", workspace_id="T1", channel_id="C-vision"),
            Subscription(audience_id=vision, platform="discord", workspace_id="G1", channel_id="42"),
        ]
        s.add_all(channels)
        s.flush()
        done = Delivery(digest_id=seen.id, subscription_id=channels[0].id, status="done")
        failed = Delivery(digest_id=seen.id, subscription_id=channels[1].id, status="failed", error="429")
        s.add_all([done, failed])
        s.flush()
        s.add_all(
            [
                DeliveredMessage(delivery_id=done.id, position=0, state="posted", message_id="1.0"),
                DeliveredMessage(delivery_id=done.id, position=1, state="posted", message_id="1.1"),
                DeliveredMessage(delivery_id=failed.id, position=0, state="posting"),
            ]
        )
        unit.commit()
    engine.dispose()


def _through_session(url: str, query: Callable[[SqlReader], object]) -> object:
    engine = make_engine(url)
    try:
        with UnitOfWork(make_session_factory(engine)) as unit:
            return query(SessionReader(unit.session))
    finally:
        engine.dispose()


@pytest.fixture
def filled(db_url: str) -> str:
    _fill(db_url)
    return db_url


def test_topics_read_by_the_driver_are_the_stored_topics(filled: str) -> None:
    engine = make_engine(filled)
    try:
        with UnitOfWork(make_session_factory(engine)) as unit:
            ids = dict(unit.session.execute(select(Audience.name, Audience.id)).all())
            by_orm = {
                name: [
                    to_view(t)
                    for t in unit.session.scalars(
                        select(Topic).where(Topic.audience_id == ids[name]).order_by(Topic.name)
                    )
                ]
                for name in ("default", "vision")
            }
    finally:
        engine.dispose()
    for name, audience in (("default", None), ("default", "default"), ("vision", "vision")):
        quick = read_if_current(filled, lambda reader, a=audience: topics_if_seeded(reader, a))  # type: ignore[misc]
        assert quick == by_orm[name], audience
    hostile = next(t for t in by_orm["default"] if t.name == HOSTILE_TOPIC.name)
    assert hostile.include == tuple(HOSTILE_TOPIC.include)
    assert hostile.description == HOSTILE_TOPIC.description
    assert hostile.weight == 2.5
    assert [t.enabled for t in by_orm["vision"] if t.name == "Vision"] == [False]


def test_issues_read_by_the_driver_are_the_archive_s(filled: str) -> None:
    everyone = read_if_current(filled, lambda reader: issues_if_known(reader, None))
    assert everyone == [
        IssueSummary("2026-10", "Draft “October”", "draft", 0, None),
        IssueSummary("2026-10", "Vision — October", "published", 1, PUBLISHED_AT),
        IssueSummary("2026-09", "Trends in AI — September 2026", "published", 2, PUBLISHED_AT),
    ]
    vision = read_if_current(filled, lambda reader: issues_if_known(reader, " Vision "))
    assert vision == [everyone[1]]
    engine = make_engine(filled)
    try:
        with UnitOfWork(make_session_factory(engine)) as unit:
            assert list_issues(unit.session) == everyone
            assert list_issues(unit.session, audience="vision") == vision
            assert list_issues(unit.session, published_only=True) == everyone[1:]
    finally:
        engine.dispose()


def test_status_read_by_the_driver_is_the_unit_of_work_s(filled: str) -> None:
    quick = read_if_current(filled, lambda reader: collect_status(reader, NOW))
    assert isinstance(quick, StatusReport)
    assert quick == _through_session(filled, lambda reader: collect_status(reader, NOW))
    assert quick.last_harvest is not None
    assert quick.last_harvest.status == "failed"
    assert quick.last_harvest.started_at == NOW - dt.timedelta(hours=1)
    assert quick.last_successful_harvest is not None
    assert quick.last_successful_harvest.window_end == dt.date(2026, 10, 3)
    assert [(j.job_id, j.next_run) for j in quick.jobs] == [
        ("daily-harvest", NOW + dt.timedelta(hours=1)),
        ("monthly-digest", None),
    ]
    assert quick.leader is not None
    assert quick.leader.holder == "host-a:7:beef"
    assert quick.leader_alive
    # Each audience's newest digest, not only the newest of all.
    assert [(d.audience, d.month, d.status) for d in quick.digests] == [
        ("default", "2026-10", "draft"),
        ("vision", "2026-10", "published"),
    ]
    vision = quick.digests[1]
    assert [(d.platform, d.status, d.posted, d.expected, d.error) for d in vision.deliveries] == [
        ("discord", "failed", 0, 2, "429"),
        ("slack", "done", 2, 2, None),
    ]
    assert quick.problems == ("the last harvest failed: HTTP 503 “unavailable”",)


def test_the_commands_print_the_same_through_either_path(sqlite_url: str) -> None:
    # A URL option makes the quick path step aside (SQLAlchemy parses options): same file, full path.
    _fill(sqlite_url)
    full_url = f"{sqlite_url}?timeout=20"
    assert open_reader(full_url) is None
    runner = CliRunner()
    for args in (
        ["topics", "list"],
        ["topics", "list", "-a", "vision"],
        ["issues"],
        ["issues", "-a", "vision"],
        ["status"],
        ["status", "--check"],  # the fixture's lease expired long ago: unhealthy, exit 1, both ways
    ):
        quick = runner.invoke(app, args, env={"TRENDS_DATABASE_URL": sqlite_url, "COLUMNS": "200"})
        full = runner.invoke(app, args, env={"TRENDS_DATABASE_URL": full_url, "COLUMNS": "200"})
        assert quick.exit_code == full.exit_code == (1 if "--check" in args else 0), quick.output
        if args == ["status"]:  # "started 3.2 days ago" moves with the clock between the two runs
            quick_lines, full_lines = quick.output.splitlines(), full.output.splitlines()
            assert len(quick_lines) == len(full_lines)
            assert [line[:40] for line in quick_lines] == [line[:40] for line in full_lines]
        else:
            assert quick.output == full.output, args
    status = runner.invoke(app, ["status"], env={"TRENDS_DATABASE_URL": sqlite_url, "COLUMNS": "200"})
    assert "Last digests" in status.output
    assert "vision · 2026-10: Vision — October (published" in status.output
    assert "default · 2026-10: Draft “October” (draft)" in status.output
    check = runner.invoke(app, ["status", "--check"], env={"TRENDS_DATABASE_URL": sqlite_url})
    assert "unhealthy" in check.output
    assert "lease" in check.output


def test_the_quick_path_steps_aside_when_the_full_path_has_work(sqlite_url: str, tmp_path: Path) -> None:
    def topics(audience: str | None = None) -> Callable[[SqlReader], object]:
        return lambda reader: topics_if_seeded(reader, audience)

    # Not seeded yet: TopicService seeds, so the quick path must not answer "no topics".
    assert read_if_current(sqlite_url, topics()) is None
    assert read_if_current(sqlite_url, lambda reader: issues_if_known(reader, None)) == []
    _fill(sqlite_url)
    assert read_if_current(sqlite_url, topics()) is not None
    # An unknown audience: the service's error lists the audiences there are.
    assert read_if_current(sqlite_url, topics("nobody")) is None
    assert read_if_current(sqlite_url, lambda reader: issues_if_known(reader, "nobody")) is None
    # URLs only SQLAlchemy reads the same way, or no file yet (the full path creates and migrates it).
    missing = tmp_path / "new.db"
    for url in ("sqlite://", "sqlite:///:memory:", f"sqlite:///{missing}", f"{sqlite_url}?mode=ro"):
        assert open_reader(url) is None, url
    assert not missing.exists()
    assert open_reader("mysql://root@127.0.0.1/test") is None
    assert open_reader("postgresql+psycopg://nobody@127.0.0.1:1/none") is None  # nothing listens on 1
    # Read-only: the quick path can't write, even by mistake.
    reader = open_reader(sqlite_url)
    assert reader is not None
    with reader, pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.rows("CREATE TABLE scratch (x INTEGER)")
    # A schema at another revision: the full path refuses it with instructions, or migrates.
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0007'")
    assert read_if_current(sqlite_url, topics()) is None
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE alembic_version SET version_num = (SELECT max(version_num) FROM alembic_version)"
        )
    # A driver error (here a table gone) hands over too, instead of a traceback.
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0008'"))
        conn.execute(text("DROP TABLE leases"))
    engine.dispose()
    assert read_if_current(sqlite_url, lambda reader: collect_status(reader, NOW)) is None
