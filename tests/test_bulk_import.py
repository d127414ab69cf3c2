"""`trends import`: arXiv's metadata snapshot and pool files into the database, on both engines.

Every file here is written by the test from `tests.fakes.snapshot` rows (made-up papers).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from adapters.cli import app
from bot.db.fts import FtsQuery, missing_sqlite_triggers, search
from bot.db.models import Paper
from bot.db.papers import UpsertCounts, bulk_upsert, upsert_many
from bot.db.uow import UnitOfWork
from bot.errors import NotFoundError, SourceError, ValidationError
from bot.harvest.bulk import (
    BAD_DATE,
    BAD_FIELD,
    BAD_ID,
    MISSING_FIELD,
    NOT_JSON,
    NOT_OBJECT,
    POOL,
    SNAPSHOT,
    UNKNOWN_CATEGORY,
    BulkImporter,
    ImportBatchError,
    ImportFilter,
    parse_snapshot_row,
)
from bot.signals.store import latest_signals
from tests.fakes.snapshot import generated_snapshot, pool_row, snapshot_row, write_lines

UTC = dt.UTC
V1 = dt.datetime(2024, 3, 5, 10, 0, 7, tzinfo=UTC)
V2 = dt.datetime(2024, 4, 1, 8, 30, tzinfo=UTC)
V3 = dt.datetime(2024, 6, 9, 23, 59, 59, tzinfo=UTC)

runner = CliRunner()


def _snapshot_rows() -> list[dict[str, object]]:
    return [
        snapshot_row(
            "2403.01234",
            title="Sparse attention\n  at scale",
            abstract="  We study $O(n)$ attention\nfor long <b>documents</b>.\n",
            authors=(("Lovelace", "Ada"), ("Müller", "Zoë"), ("", "Mononym")),
            categories=("cs.LG", "cs.CL", "stat.ML"),
            created=(V1, V2),
            comments="Code: https://github.com/lab/sparse",
            doi="10.1000/xyz",
        ),
        snapshot_row(
            "hep-th/9901001", categories=("hep-th",), created=(dt.datetime(1999, 1, 4, tzinfo=UTC),)
        ),
        snapshot_row("2404.00077", title="Retrieval for\x00 agents", categories=("cs.IR",), created=(V2,)),
    ]


def _importer(uow_factory: UnitOfWork, **kwargs: object) -> BulkImporter:
    return BulkImporter(lambda: uow_factory, **kwargs)  # type: ignore[arg-type]


def _papers(session: Session) -> dict[str, Paper]:
    return {p.arxiv_id: p for p in session.scalars(select(Paper))}


def _count(uow: UnitOfWork) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(Paper)) or 0)


def _found(uow: UnitOfWork, word: str) -> set[str]:
    with uow:
        hits = search(uow.session, FtsQuery(words=(word,)))
        ids = [hit.paper_id for hit in hits]
        return set(uow.session.scalars(select(Paper.arxiv_id).where(Paper.id.in_(ids))))


@pytest.mark.parametrize("name", ["arxiv-metadata-oai-snapshot.json", "snapshot.json.gz"])
def test_snapshot_file_plain_and_gzipped(uow: UnitOfWork, tmp_path: Path, name: str) -> None:
    path = write_lines(tmp_path / name, _snapshot_rows())
    result = _importer(uow).run(path)
    assert result.format == SNAPSHOT
    assert result.counts == UpsertCounts(inserted=3)
    assert result.lines == 3
    assert not result.skipped
    with uow:
        papers = _papers(uow.session)
        sparse = papers["2403.01234"]
        assert sparse.version == 2
        assert sparse.submitted_at == V1  # first version
        assert sparse.updated_at == V2  # newest version
        assert sparse.title == "Sparse attention at scale"
        assert sparse.abstract == "We study $O(n)$ attention for long <b>documents</b>."
        assert sparse.authors == ["Ada Lovelace", "Zoë Müller", "Mononym"]
        assert sparse.categories == ["cs.LG", "cs.CL", "stat.ML"]
        assert sparse.primary_category == "cs.LG"
        assert sparse.comment == "Code: https://github.com/lab/sparse"
        assert sparse.code_url == "https://github.com/lab/sparse"
        assert sparse.doi == "10.1000/xyz"
        assert sparse.abs_url == "https://arxiv.org/abs/2403.01234"
        assert papers["2404.00077"].title == "Retrieval for agents"  # a NUL is dropped (PostgreSQL)
        old = papers["hep-th/9901001"]
        assert (old.version, old.primary_category) == (1, "hep-th")
        assert old.abs_url == "https://arxiv.org/abs/hep-th/9901001"
    # The full-text index is current: a word of the abstract and an author's name find the paper.
    assert _found(uow, "documents") == {"2403.01234"}
    assert _found(uow, "Lovelace") == {"2403.01234", "hep-th/9901001", "2404.00077"}


@pytest.mark.parametrize("name", ["pool-2025-05.jsonl", "pool-2025-05.jsonl.gz"])
def test_pool_file_with_signals(uow: UnitOfWork, tmp_path: Path, name: str) -> None:
    rows = [
        pool_row("2505.00001", date="2025-05-02", signals={"huggingface.upvotes": 12}),
        pool_row("2505.00002v3", categories=("cs.CV", "cs.LG"), date="2025-05-30T17:45:00"),
        pool_row("2505.00003", signals={"nowhere.stars": 5, "huggingface.upvotes": "many"}),
    ]
    path = write_lines(tmp_path / name, rows)
    result = _importer(uow).run(path)
    assert result.format == POOL
    assert result.counts.inserted == 3
    assert result.signals == 1  # unknown sources and non-numbers are left out
    with uow:
        papers = _papers(uow.session)
        assert papers["2505.00001"].submitted_at == dt.datetime(2025, 5, 2, tzinfo=UTC)
        second = papers["2505.00002"]
        assert (second.version, second.primary_category) == (3, "cs.CV")
        assert second.submitted_at == dt.datetime(2025, 5, 30, 17, 45, tzinfo=UTC)
        signals = latest_signals(uow.session, [p.id for p in papers.values()])
        assert signals[papers["2505.00001"].id]["huggingface.upvotes"] == 12.0
        assert papers["2505.00003"].id not in signals
    again = _importer(uow).run(path)
    assert again.counts == UpsertCounts(unchanged=3)
    with uow:
        rows_now = uow.session.scalar(text("SELECT count(*) FROM paper_signals"))
    assert rows_now == 1  # the same reading again adds no row


def test_filters_by_category_overlap_and_first_version_day(uow: UnitOfWork, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.json", _snapshot_rows())
    only_cl = _importer(uow).run(path, ImportFilter(categories=frozenset({"cs.CL", "cs.IR"})))
    assert only_cl.counts.inserted == 2
    assert only_cl.filtered == 1
    # v1 of 2403.01234 is 2024-03-05 although its v2 is from April: the first version decides.
    april = ImportFilter(first_day=dt.date(2024, 3, 6), last_day=dt.date(2024, 4, 1))
    result = _importer(uow).run(path, april)
    assert result.accepted == 1
    assert result.filtered == 2
    assert result.months == {"2024-04": 1}
    with uow:
        assert set(_papers(uow.session)) == {"2403.01234", "2404.00077"}
    with pytest.raises(ValidationError, match=r"cs\.XX"):
        ImportFilter(categories=frozenset({"cs.XX"}))
    with pytest.raises(ValidationError, match="after"):
        ImportFilter(first_day=dt.date(2024, 5, 1), last_day=dt.date(2024, 4, 1))


def test_rerun_adds_nothing_and_newest_version_wins(uow: UnitOfWork, tmp_path: Path) -> None:
    first = write_lines(tmp_path / "first.json", _snapshot_rows())
    assert _importer(uow).run(first).counts == UpsertCounts(inserted=3)
    assert _importer(uow).run(first).counts == UpsertCounts(unchanged=3)
    assert _count(uow) == 3
    older = snapshot_row("2403.01234", title="Old title", categories=("cs.LG",), created=(V1,))
    newer = snapshot_row(
        "2404.00077", title="Retrieval for planning agents", categories=("cs.IR",), created=(V2, V3)
    )
    # Inside one file too, the newest line of a paper wins whatever the order.
    stale = snapshot_row("2404.00077", title="Stale", categories=("cs.IR",), created=(V2,))
    result = _importer(uow).run(write_lines(tmp_path / "second.json", [older, newer, stale]))
    assert result.counts == UpsertCounts(updated=1, unchanged=1)
    with uow:
        papers = _papers(uow.session)
        assert (papers["2403.01234"].version, papers["2403.01234"].title) == (2, "Sparse attention at scale")
        assert (papers["2404.00077"].version, papers["2404.00077"].updated_at) == (2, V3)
        assert papers["2404.00077"].title == "Retrieval for planning agents"
    assert _count(uow) == 3
    assert _found(uow, "planning") == {"2404.00077"}  # the index followed the update


def test_bad_lines_are_skipped_with_their_numbers(
    uow: UnitOfWork, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = _snapshot_rows()
    no_title = snapshot_row("2403.00002")
    del no_title["title"]
    no_versions = snapshot_row("2403.00003")
    del no_versions["versions"]
    bad_date = snapshot_row("2403.00006")
    bad_date["versions"] = [{"version": "v1", "created": "yesterday"}]
    lines: list[dict[str, object] | str] = [
        good[0],
        '{"id": "2403.00001", "title": ',  # 2: cut off
        no_title,  # 3
        "",  # blank lines are not counted
        "[1, 2, 3]",  # 5
        snapshot_row("2403.00004", categories=("cs.LG", "cs.XX")),  # 6
        snapshot_row("not-an-id"),  # 7
        no_versions,  # 8
        bad_date,  # 9
        good[1],
        "\xff\xfe garbage",  # 11
        {**snapshot_row("2403.00007"), "authors_parsed": [["Lovelace", 3, ""]]},  # 12
    ]
    path = write_lines(tmp_path / "mixed.json", lines)
    with caplog.at_level(logging.WARNING, logger="bot.harvest.bulk"):
        result = _importer(uow).run(path)
    assert result.counts.inserted == 2
    assert result.lines == 11
    assert result.skipped == {
        NOT_JSON: 2,
        MISSING_FIELD: 2,
        NOT_OBJECT: 1,
        UNKNOWN_CATEGORY: 1,
        BAD_ID: 1,
        BAD_DATE: 1,
        BAD_FIELD: 1,
    }
    assert result.skipped_lines[BAD_FIELD] == [12]
    assert result.skipped_lines[NOT_JSON] == [2, 11]
    assert result.skipped_lines[MISSING_FIELD] == [3, 8]
    assert result.skipped_lines[UNKNOWN_CATEGORY] == [6]
    assert "skipping line 6 (unknown category: category 'cs.XX'" in caplog.text
    assert "skipping line 9" in caplog.text
    with uow:
        assert set(_papers(uow.session)) == {"2403.01234", "hep-th/9901001"}


def test_a_file_of_another_shape_or_none_at_all(uow: UnitOfWork, tmp_path: Path) -> None:
    other = write_lines(tmp_path / "other.json", [{"name": "not a paper"}])
    with pytest.raises(ValidationError, match="line 1 is neither"):
        _importer(uow).run(other)
    with pytest.raises(NotFoundError):
        _importer(uow).run(tmp_path / "absent.json")
    broken = tmp_path / "broken.json.gz"
    write_lines(broken, list(generated_snapshot(200, seed=9)))
    broken.write_bytes(broken.read_bytes()[:-300])  # a download cut short
    with pytest.raises(SourceError, match="could not be read past line"):
        _importer(uow, batch_size=50).run(broken)
    assert 150 < _count(uow) < 200  # the lines read before the break are stored, batch or not


def _failing_trigger(engine: Engine, arxiv_id: str) -> tuple[str, ...]:
    """DDL making the database refuse one paper, and the DDL that removes it again."""
    if engine.dialect.name == "sqlite":
        return (
            f"CREATE TRIGGER refuse_one BEFORE INSERT ON papers WHEN new.arxiv_id = '{arxiv_id}' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ), ("DROP TRIGGER refuse_one",)
    return (
        "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.arxiv_id = '{arxiv_id}' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_one BEFORE INSERT ON papers FOR EACH ROW EXECUTE FUNCTION refuse_one()",
    ), ("DROP TRIGGER refuse_one ON papers", "DROP FUNCTION refuse_one()")


@pytest.mark.parametrize("processes", [0, 1], ids=["one-process", "reading-child"])
def test_a_failing_batch_is_rolled_back_whole_and_a_rerun_completes(
    uow: UnitOfWork, engine: Engine, tmp_path: Path, processes: int
) -> None:
    rows = list(generated_snapshot(700, seed=3))
    path = write_lines(tmp_path / "s.json", rows)
    victim = str(rows[450]["id"])  # in the second batch of 300
    create, drop = _failing_trigger(engine, victim)
    with engine.begin() as conn:
        for ddl in create:
            conn.exec_driver_sql(ddl)
    try:
        with pytest.raises(ImportBatchError, match="lines 301–600") as failure:
            _importer(uow, batch_size=300, processes=processes).run(path)
        assert "run the import again" in str(failure.value).lower()
        with uow:
            stored = set(uow.session.scalars(select(Paper.arxiv_id)))
        assert stored == {str(r["id"]) for r in rows[:300]}  # the first batch, nothing of the second
    finally:
        with engine.begin() as conn:
            for ddl in drop:
                conn.exec_driver_sql(ddl)
    with engine.connect() as conn:
        assert missing_sqlite_triggers(conn) == []  # the FTS trigger set aside came back
    result = _importer(uow, batch_size=300, processes=processes).run(path)
    assert result.counts == UpsertCounts(inserted=400, unchanged=300)
    assert _count(uow) == 700
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:  # raises if the index and the papers disagree
            conn.exec_driver_sql("INSERT INTO papers_fts(papers_fts, rank) VALUES ('integrity-check', 1)")
            indexed = conn.exec_driver_sql("SELECT count(*) FROM papers_fts_docsize").scalar()
        assert indexed == 700


def test_bulk_rows_read_back_like_harvested_rows(uow: UnitOfWork) -> None:
    rows = list(generated_snapshot(300, seed=5))
    records = [parse_snapshot_row(row) for row in rows]
    with uow:
        assert bulk_upsert(uow.session, records[:250]) == UpsertCounts(inserted=250)
        assert upsert_many(uow.session, records[250:]) == UpsertCounts(inserted=50)
        uow.commit()
    columns = [c.key for c in Paper.__table__.columns if c.key not in ("id", "harvested_at", "refreshed_at")]
    with uow:
        stored = _papers(uow.session)
        for record in records:
            paper = stored[record.arxiv_id]
            assert paper.submitted_at == record.submitted_at
            assert paper.updated_at == record.updated_at
            assert paper.authors == list(record.authors)
            assert paper.categories == list(record.categories)
            assert all(getattr(paper, c) is not None for c in ("abs_url", "pdf_url", "title"))
        # Either path gives the same values for the same paper.
        harvested = {c: getattr(stored[records[260].arxiv_id], c) for c in columns}
    with uow:
        uow.session.execute(Paper.__table__.delete())
        bulk_upsert(uow.session, [records[260]])
        uow.commit()
    with uow:
        bulked = {c: getattr(_papers(uow.session)[records[260].arxiv_id], c) for c in columns}
    assert bulked == harvested
    # Old versions never replace new ones, through either path.
    with uow:
        assert bulk_upsert(uow.session, records[250:300]) == UpsertCounts(inserted=49, unchanged=1)
        uow.commit()


def test_cli_import_prints_a_summary(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", sqlite_url)
    path = write_lines(tmp_path / "snap.json.gz", [*_snapshot_rows(), "nonsense", "nonsense"])
    result = runner.invoke(app, ["import", str(path), "--categories", "cs.LG,hep-th", "--to", "2024-12-31"])
    assert result.exit_code == 0, result.output
    assert "arXiv metadata snapshot" in result.output
    assert "2 new" in result.output
    assert "1 outside the filters" in result.output
    assert "not JSON: 2 (lines 4, 5)" in result.output
    again = runner.invoke(app, ["import", str(path), "--categories", "cs.LG,hep-th"])
    assert "0 new, 0 updated, 2 unchanged" in again.output
    bad = runner.invoke(app, ["import", str(path), "--categories", "cs.XX"])
    assert bad.exit_code == 1
    assert "cs.XX" in bad.output
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1
    assert "does not exist" in missing.output


def test_punctuation_left_between_author_names_is_not_an_author(uow: UnitOfWork, tmp_path: Path) -> None:
    # Author lists in the wild carry stray separators ("Essential AI, :"); a name has a letter or digit.
    rows = [
        pool_row("2505.00011", authors=("Team Kestrel", ":", " - ", "Zoë Ng", "&", "李雷", "42")),
        snapshot_row("2403.00021", authors=(("Hopper", "Grace"), (":", ""), ("-", "&"))),
        {
            **snapshot_row("2403.00022"),
            "authors_parsed": None,
            "authors": "Ada Lovelace, :, and Alan Turing, ;",
        },
    ]
    _importer(uow).run(write_lines(tmp_path / "mixed-pool.jsonl", rows[:1]))
    _importer(uow).run(write_lines(tmp_path / "mixed-snapshot.json", rows[1:]))
    with uow:
        authors = {arxiv_id: list(paper.authors) for arxiv_id, paper in _papers(uow.session).items()}
    assert authors["2505.00011"] == ["Team Kestrel", "Zoë Ng", "李雷", "42"]
    assert authors["2403.00021"] == ["Grace Hopper"]
    assert authors["2403.00022"] == ["Ada Lovelace", "Alan Turing"]
