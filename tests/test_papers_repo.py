"""The paper repository on SQLite and PostgreSQL: idempotent upserts, newest version wins, months."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.db import fts
from bot.db.models import Paper
from bot.db.papers import (
    UPSERT_CHUNK,
    _row,
    _upsert_statement,
    count_month,
    get_by_arxiv_id,
    list_month,
    upsert_many,
)
from bot.db.uow import UnitOfWork
from bot.errors import ValidationError
from bot.months import Month
from bot.paper_records import PaperRecord
from tests.fakes.arxiv_server import make_records

OCT = dt.datetime(2026, 10, 1, 0, 0, tzinfo=dt.UTC)


def _store(uow: UnitOfWork, records: list[PaperRecord]) -> tuple[int, int, int]:
    with uow:
        counts = upsert_many(uow.session, records)
        uow.commit()
    return counts.inserted, counts.updated, counts.unchanged


def _paper(uow: UnitOfWork, arxiv_id: str) -> Paper:
    with uow:
        paper = get_by_arxiv_id(uow.session, arxiv_id)
        assert paper is not None
        uow.session.expunge(paper)  # keep it readable after the unit of work ends
        return paper


def test_upsert_is_idempotent(uow: UnitOfWork) -> None:
    records = make_records(5, first=OCT)
    assert _store(uow, records) == (5, 0, 0)
    assert _store(uow, records) == (0, 0, 5)
    with uow:
        assert uow.session.scalar(select(func.count()).select_from(Paper)) == 5


def test_newest_version_wins_and_older_never_overwrites(uow: UnitOfWork) -> None:
    (v1,) = make_records(1, first=OCT)
    v2 = dataclasses.replace(
        v1, version=2, title="Revised title", updated_at=v1.updated_at + dt.timedelta(days=3)
    )
    assert _store(uow, [v1]) == (1, 0, 0)
    assert _store(uow, [v2]) == (0, 1, 0)
    assert _store(uow, [v1]) == (0, 0, 1)  # a late, older version is ignored
    paper = _paper(uow, "2610.00001")
    assert (paper.version, paper.title) == (2, "Revised title")
    assert paper.submitted_at == v1.submitted_at


def test_same_version_updates_only_when_newer(uow: UnitOfWork) -> None:
    (record,) = make_records(1, first=OCT)
    _store(uow, [record])
    same_time = dataclasses.replace(record, title="Changed but not newer")
    assert _store(uow, [same_time]) == (0, 0, 1)
    later = dataclasses.replace(record, title="Metadata fix", updated_at=record.updated_at + dt.timedelta(1))
    assert _store(uow, [later]) == (0, 1, 0)
    assert _paper(uow, "2610.00001").title == "Metadata fix"


def test_cross_listed_and_repeated_records_are_one_row(uow: UnitOfWork) -> None:
    (record,) = make_records(1, first=OCT, categories=("cs.LG", "cs.CL", "stat.ML"))
    newer = dataclasses.replace(record, version=3, updated_at=record.updated_at + dt.timedelta(days=9))
    # The same paper seen from three category listings, one of them a newer version, in one batch.
    assert _store(uow, [record, newer, record]) == (1, 0, 0)
    paper = _paper(uow, "2610.00001")
    assert paper.version == 3
    assert paper.categories == ["cs.LG", "cs.CL", "stat.ML"]


def test_derived_columns_and_full_text_index(uow: UnitOfWork) -> None:
    (record,) = make_records(1, first=OCT)
    record = dataclasses.replace(
        record,
        authors=("Ada Lovelace", "Grace Hopper"),
        comment="Project page: https://lab.github.io/paper/. Code: https://github.com/lab/paper.",
    )
    _store(uow, [record])
    paper = _paper(uow, "2610.00001v4")  # any version form finds the row
    assert paper.authors_text == "Ada Lovelace Grace Hopper"
    assert paper.abs_url == "https://arxiv.org/abs/2610.00001"
    assert paper.pdf_url == "https://arxiv.org/pdf/2610.00001"
    assert paper.code_url == "https://github.com/lab/paper"
    assert paper.project_url == "https://lab.github.io/paper/"
    with uow:
        hits = fts.search(uow.session, fts.FtsQuery(authors=(("hopper",),)))
    assert [hit.paper_id for hit in hits] == [paper.id]


def test_update_keeps_full_text_index_in_sync(uow: UnitOfWork) -> None:
    (record,) = make_records(1, first=OCT)
    _store(uow, [record])
    renamed = dataclasses.replace(
        record, version=2, title="Quasicrystal transformers", updated_at=record.updated_at + dt.timedelta(1)
    )
    _store(uow, [renamed])
    with uow:
        assert len(fts.search(uow.session, fts.FtsQuery(words=("quasicrystal",)))) == 1
        assert fts.search(uow.session, fts.FtsQuery(words=("scaling",))) == []


def test_more_records_than_one_statement_holds(uow: UnitOfWork) -> None:
    records = make_records(UPSERT_CHUNK * 2 + 17, first=OCT, spacing=dt.timedelta(seconds=30))
    assert _store(uow, records) == (len(records), 0, 0)
    assert _store(uow, records[::-1]) == (0, 0, len(records))


def test_hostile_text_is_stored_verbatim(uow: UnitOfWork) -> None:
    (record,) = make_records(1, first=OCT)
    hostile = dataclasses.replace(
        record,
        title='Robert\'); DROP TABLE papers;-- "NEAR" AND OR * 🤖',
        abstract="x" * 5000,
        authors=('O\'Brien, "Q"', "李 小龙"),
        comment=None,
    )
    _store(uow, [hostile])
    paper = _paper(uow, "2610.00001")
    assert paper.title == hostile.title
    assert len(paper.abstract) == 5000
    assert paper.authors == ['O\'Brien, "Q"', "李 小龙"]


def test_month_queries_use_utc_calendar_bounds(uow: UnitOfWork) -> None:
    edge = [
        dt.datetime(2026, 9, 30, 23, 59, 59, tzinfo=dt.UTC),  # September
        dt.datetime(2026, 10, 1, 0, 0, tzinfo=dt.UTC),  # October's first instant
        # 00:30 in Paris on 1 November is still 31 October in UTC.
        dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC),  # November
    ]
    base = make_records(len(edge), first=OCT)
    _store(
        uow, [dataclasses.replace(r, submitted_at=t, updated_at=t) for r, t in zip(base, edge, strict=True)]
    )
    october = Month.parse("2026-10")
    with uow:
        assert count_month(uow.session, october) == 2
        listed = list_month(uow.session, october, limit=10)
        assert [p.arxiv_id for p in listed] == ["2610.00002", "2610.00003"]
        assert [p.arxiv_id for p in list_month(uow.session, october, limit=1, offset=1)] == ["2610.00003"]
        assert count_month(uow.session, october.previous()) == 1
        assert count_month(uow.session, october.next()) == 1
        assert count_month(uow.session, Month.parse("1999-01")) == 0
        with pytest.raises(ValidationError):
            list_month(uow.session, october, limit=-1)


def test_get_by_arxiv_id_absent_and_invalid(uow: UnitOfWork) -> None:
    with uow:
        assert get_by_arxiv_id(uow.session, "2610.99999") is None
        with pytest.raises(ValidationError, match="not an arXiv id"):
            get_by_arxiv_id(uow.session, "'; DROP TABLE papers; --")


def test_empty_batch_does_nothing(uow: UnitOfWork) -> None:
    assert _store(uow, []) == (0, 0, 0)


def test_the_statement_itself_refuses_older_versions(uow: UnitOfWork) -> None:
    """The guard in SQL, for a writer that read the row before a concurrent harvest updated it."""
    (v1,) = make_records(1, first=OCT)
    v2 = dataclasses.replace(v1, version=2, title="Newer", updated_at=v1.updated_at + dt.timedelta(1))
    _store(uow, [v2])
    with uow:
        dialect = uow.session.get_bind().dialect.name
        now = dt.datetime.now(dt.UTC)
        written = list(uow.session.scalars(_upsert_statement(dialect), [_row(v1, now)]))
        uow.commit()
    assert written == []
    assert (_paper(uow, "2610.00001").version, _paper(uow, "2610.00001").title) == (2, "Newer")
