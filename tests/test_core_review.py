"""Regression tests for defects found in a review of the core (each failed before its fix).

Races are reproduced deterministically: a SQLAlchemy `before_cursor_execute` hook on the engine lets
"another process" (a second session on its own connection) commit at the exact moment the use case
under test is about to write, which is the interleaving that used to lose or corrupt data.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from adapters.cli import app
from bot.bootstrap import build
from bot.chat import commands as c
from bot.chat.service import ChatService
from bot.db.models import Digest, DigestEntry, Paper, Vote
from bot.db.uow import UnitOfWork
from bot.digest.service import DigestService
from bot.digest.summarize import OfflineSummarizer, Summary, parse_llm_content
from bot.errors import ConflictError
from bot.feedback import FeedbackService
from bot.harvest.harvester import Harvester
from bot.harvest.source import ArxivSource
from bot.invocation import Invocation
from bot.months import Month
from bot.scheduler.jobs import digest_month
from bot.settings import load_settings
from bot.signals._shapes import count_value
from bot.subscriptions import SubscriptionService
from tests.factories import make_paper
from tests.fakes.arxiv_server import FakeArxivServer, make_records
from tests.test_digest import FIXED_NOW, OCTOBER, add_papers, settings_for
from tests.test_subscriptions_feedback import _posted_pick

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def october(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        add_papers(session)
        session.commit()


class _ArmingSummarizer:
    """The offline summarizer, that also says when the build has finished reading (it summarises
    between its read and its write step)."""

    id = "arming"

    def __init__(self) -> None:
        self.armed = False
        self._offline = OfflineSummarizer()

    def summarize(self, title: str, abstract: str) -> Summary:
        self.armed = True
        return self._offline.summarize(title, abstract)


@contextmanager
def _before_first_write(
    engine: Engine, action: Callable[[], object], when: Callable[[], bool], prefix: str = ""
) -> Iterator[None]:
    """Run `action()` once, just before the first write statement (starting with `prefix`, if given)
    executed while `when()` holds."""
    fired: list[bool] = []

    def hook(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = " ".join(statement.split()).upper()
        if fired or not when() or not text.startswith(WRITES) or not text.startswith(prefix.upper()):
            return
        fired.append(True)  # before the action: its own statements pass through this hook
        action()

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def test_a_publish_committed_during_a_rebuild_is_never_rewritten(
    db_url: str, engine: Engine, session_factory: sessionmaker[Session], october: None
) -> None:
    settings = settings_for(db_url)
    admin = DigestService(lambda: UnitOfWork(session_factory), settings, clock=lambda: FIXED_NOW)
    admin.build(OCTOBER)
    published = []
    summarizer = _ArmingSummarizer()
    later = FIXED_NOW + dt.timedelta(hours=1)
    rebuild = DigestService(
        lambda: UnitOfWork(session_factory), settings, summarizer=summarizer, clock=lambda: later
    )
    # The admin's publish commits after the rebuild has read "draft" and before it writes.
    racing = _before_first_write(
        engine, lambda: published.append(admin.mark_published(OCTOBER)), lambda: summarizer.armed
    )
    with racing, pytest.raises(ConflictError, match="was published"):
        rebuild.build(OCTOBER)
    assert published, "the race was not staged"
    assert admin.get(OCTOBER) == published[0]  # not one field of the frozen digest changed


def test_two_builds_of_a_new_month_at_once_both_succeed(
    db_url: str, engine: Engine, session_factory: sessionmaker[Session], october: None
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("on SQLite the build's conditional UPDATE takes the writer lock: others wait for it")
    settings = settings_for(db_url)
    other = DigestService(lambda: UnitOfWork(session_factory), settings, clock=lambda: FIXED_NOW)
    summarizer = _ArmingSummarizer()
    ours = DigestService(lambda: UnitOfWork(session_factory), settings, summarizer=summarizer)
    built_elsewhere = []
    # Another process stores the month's first draft between our "no draft yet" and our insert.
    racing = _before_first_write(
        engine,
        lambda: built_elsewhere.append(other.build(OCTOBER)),
        lambda: summarizer.armed,
        prefix="INSERT INTO digests",
    )
    with racing:
        view = ours.build(OCTOBER)
    assert built_elsewhere, "the race was not staged"
    assert view.status == "draft"
    assert len(view.picks) == 4
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 1
        assert session.scalar(select(func.count()).select_from(DigestEntry)) == 6


def test_month_end_of_the_last_accepted_month() -> None:
    december = Month.parse("2100-12")
    assert december.end == dt.datetime(2101, 1, 1, tzinfo=dt.UTC)
    assert december.last_day == dt.date(2100, 12, 31)


def test_a_concurrent_reaction_by_the_same_user_replaces_the_vote(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    paper_id = _posted_pick(session_factory)
    feedback = FeedbackService(session_factory)
    other_event = []
    # Slack delivers 👍 and 👎 from one user at once: the other handler inserts the vote row between
    # our "no vote yet" and our insert.
    racing = _before_first_write(
        engine,
        lambda: other_event.append(feedback.react("slack", "T1", "U1", "reply.1", "-1")),
        lambda: True,
        prefix="INSERT INTO votes",
    )
    with racing:
        assert feedback.react("slack", "T1", "U1", "reply.1", "+1") is True
    assert other_event == [True]
    with session_factory() as session:
        assert session.execute(select(Vote.user_id, Vote.value)).all() == [("U1", 1)]
    assert feedback.net_votes([paper_id]) == {paper_id: 1}


def test_two_subscribe_commands_at_once_make_one_subscription(
    engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    service = SubscriptionService(session_factory)
    where = Invocation("slack", "T1", "C1", "U1")
    other = []
    racing = _before_first_write(
        engine,
        lambda: other.append(service.subscribe(where)),
        lambda: True,
        prefix="INSERT INTO subscriptions",
    )
    with racing:
        assert service.subscribe(where) is False  # the other command subscribed the channel
    assert other == [True]
    assert [s.channel_id for s in service.list()] == ["C1"]


def test_chat_publish_defaults_to_the_month_that_just_ended_in_the_team_time_zone(db_url: str) -> None:
    container = build(load_settings(database_url=db_url, timezone="Pacific/Auckland", digest_size=3))
    try:
        with container.uow() as uow:
            for day in range(1, 5):
                submitted = dt.datetime(2026, 10, day, 12, tzinfo=dt.UTC)
                uow.session.add(make_paper(f"2610.{day:05d}", f"Agents paper {day}", submitted=submitted))
            uow.commit()
        # 31 October 18:00 UTC is 1 November 07:00 in Auckland: October has just ended there, as the
        # scheduler's cron (which runs in settings.timezone) sees it.
        october_over = dt.datetime(2026, 10, 31, 18, tzinfo=dt.UTC)
        chat = ChatService(container, clock=lambda: october_over)
        admin = Invocation("slack", "T1", "C1", "UADMIN", is_platform_admin=True)
        reply = asyncio.run(chat.handle(admin, c.Preview()))
        assert reply.kind == "digest", reply.text
        assert reply.digest is not None
        assert reply.digest.month == "2026-10"
        assert digest_month(october_over, "Pacific/Auckland") == Month(2026, 10)
    finally:
        container.close()


def test_an_invalid_topic_in_trends_toml_is_a_config_error_with_exit_code_2(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, october: None
) -> None:
    config = tmp_path / "trends.toml"
    config.write_text('[[topics]]\nname = "Agents"\nexamples = ["not an arxiv id"]\n')
    monkeypatch.setenv("TRENDS_CONFIG", str(config))
    monkeypatch.setenv("TRENDS_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["digest", "--month", "2026-10"])
    assert result.exit_code == 2, result.output
    assert "trends.toml is invalid" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("huge", [10**400, -(10**400)], ids=["huge", "huge-negative"])
def test_a_count_too_large_for_a_float_is_absent_not_a_crash(huge: int) -> None:
    assert count_value({"upvotes": huge}, "upvotes") is None
    assert count_value({"upvotes": 12}, "upvotes") == 12.0


def test_control_characters_in_an_llm_answer_are_dropped() -> None:
    content = '{"why": "Agents\\u0000 fail.", "insights": ["It\\u001b[31m works."]}'
    why, [insights] = parse_llm_content(content)
    assert why == "Agents fail."
    assert insights == "It [31m works."
    assert "\x00" not in why + insights
    assert "\x1b" not in insights


def test_a_page_of_only_unreadable_entries_does_not_end_the_harvest(
    session_factory: sessionmaker[Session],
) -> None:
    records = make_records(6, first=dt.datetime(2026, 10, 5, 10, tzinfo=dt.UTC))
    # arXiv's 3rd and 4th entries have ids no parser knows: with 2 entries a page, the whole 2nd page.
    records[2] = dataclasses.replace(records[2], arxiv_id="garbage-a")
    records[3] = dataclasses.replace(records[3], arxiv_id="garbage-b")
    with FakeArxivServer(records) as server:
        source = ArxivSource(
            api_url=server.url, page_size=2, delay_seconds=0.0, num_retries=1, timeout_seconds=5.0
        )
        harvester = Harvester(lambda: UnitOfWork(session_factory), source)
        result = harvester.harvest(dt.date(2026, 10, 5), dt.date(2026, 10, 5), ["cs.LG"])
        assert [r.start for r in server.requests] == [0, 2, 4]
    assert result.counts.inserted == 4
    with session_factory() as session:
        stored = session.scalars(select(Paper.arxiv_id).order_by(Paper.arxiv_id)).all()
    assert stored == ["2610.00001", "2610.00002", "2610.00005", "2610.00006"]
