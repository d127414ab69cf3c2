"""No input can break storage: over-long ids and categories, huge titles, control characters and
invalid UTF-8 are cleaned or skipped with a logged reason, on SQLite and PostgreSQL, whether they come
from the arXiv API (the fake server, sending them raw), from a bulk import file or straight to the
paper repository. The rest of the page or batch is stored whole either way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.arxiv_ids import parse_arxiv_id
from bot.db.models import Paper
from bot.db.papers import UpsertCounts
from bot.db.uow import UnitOfWork
from bot.errors import ValidationError
from bot.harvest.bulk import BAD_ID, NOT_JSON, UNKNOWN_CATEGORY, BulkImporter
from bot.harvest.harvester import Harvester, store_records
from bot.harvest.source import ArxivSource, repair_char_refs
from bot.paper_records import MAX_TITLE_CHARS, clean_record
from tests.fakes.arxiv_server import FakeArxivServer
from tests.paper_corpus import (
    HUGE_TITLE_CHARS,
    LONG_OLD_STYLE_ID,
    generate_papers,
    pool_rows,
    snapshot_rows,
    storage_hostile_papers,
)

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
SHAPES = storage_hostile_papers()
# Ordinary papers listed only in cs.LG, so a cs.LG harvest serves them and the shapes together.
ORDINARY = [
    dataclasses.replace(r, categories=("cs.LG",), primary_category="cs.LG")
    for r in generate_papers(12, seed=5, hostile_share=0.0)
]
CONTROLS = {chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))}


def _stored(session_factory: sessionmaker[Session]) -> dict[str, Paper]:
    with session_factory() as session:
        return {p.arxiv_id: p for p in session.scalars(select(Paper))}


def _text_of(paper: Paper) -> str:
    return " ".join([paper.title, paper.abstract, *paper.authors, paper.comment or "", *paper.categories])


def _check_ordinary(stored: dict[str, Paper]) -> None:
    """The ordinary papers around the bad one are all there, whole."""
    for record in ORDINARY:
        paper = stored[record.arxiv_id]
        assert (paper.title, paper.abstract, tuple(paper.authors)) == (
            record.title,
            record.abstract,
            record.authors,
        )


def _check_shape(shape: str, stored: dict[str, Paper], *, from_feed: bool) -> None:
    """What became of one shape: skipped or cleaned, never stored as it was."""
    record = SHAPES[shape]
    if shape == "long_id":
        assert record.arxiv_id not in stored
        return
    paper = stored[record.arxiv_id]
    text = _text_of(paper)
    assert not CONTROLS & set(text), shape
    text.encode("utf-8")  # no lone surrogate survived
    if shape == "long_category":
        assert (paper.primary_category, paper.categories) == ("cs.LG", ["cs.LG"])
    elif shape == "huge_title":
        assert len(record.title) == HUGE_TITLE_CHARS
        assert len(paper.title) <= MAX_TITLE_CHARS
        assert paper.title.endswith("…")
        assert record.title.startswith(paper.title[:-1])
    elif shape == "control_chars":
        assert paper.title == "Control characters in a [31mtitle with C1"
        assert paper.abstract == "An abstract with a NUL byte, a bell and an escape sequence."
        assert paper.authors == ["Ada Abara", "Søren Szabó"]
        assert paper.comment is None or paper.comment.startswith("9 pages")  # pool lines have none
    elif shape == "lone_surrogates":
        assert from_feed  # a JSON line with one is skipped instead
        assert paper.title.startswith("Lone \ufffd")
        assert paper.title.endswith("surrogates in a title")
        assert "\ufffd" in paper.abstract


# -- harvest: the fake arXiv sends the shapes raw ---------------------------------------------------


def _harvester(server: FakeArxivServer, session_factory: sessionmaker[Session], page_size: int) -> Harvester:
    source = ArxivSource(
        api_url=server.url,
        page_size=page_size,
        delay_seconds=0.0,
        num_retries=0,
        timeout_seconds=5.0,
        bad_page_retries=0,
    )
    return Harvester(lambda: UnitOfWork(session_factory), source)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_harvest_cleans_or_skips_each_shape_and_stores_the_rest_of_the_page(
    shape: str, session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with FakeArxivServer([*ORDINARY, SHAPES[shape]]) as server:
        server.inject("raw_text", times=None)
        with caplog.at_level(logging.WARNING):
            result = _harvester(server, session_factory, page_size=50).harvest(*MARCH, ["cs.LG"])
    stored = _stored(session_factory)
    _check_ordinary(stored)
    _check_shape(shape, stored, from_feed=True)
    skipped = shape == "long_id"
    assert len(stored) == len(ORDINARY) + (0 if skipped else 1)
    assert result.counts == UpsertCounts(inserted=len(stored))
    if skipped:
        assert "Skipping an arXiv entry" in caplog.text
        assert "too long for an arXiv id" in caplog.text
    elif shape == "lone_surrogates":  # repaired in the response, before any record exists
        assert "names characters that do not exist" in caplog.text
    else:
        assert f"arXiv paper {SHAPES[shape].arxiv_id} stored cleaned" in caplog.text


def test_a_raw_month_of_every_shape_is_harvested_over_several_pages_and_a_rerun_adds_nothing(
    session_factory: sessionmaker[Session],
) -> None:
    with FakeArxivServer([*ORDINARY, *SHAPES.values()]) as server:
        server.inject("raw_text", times=None)
        harvester = _harvester(server, session_factory, page_size=4)
        first = harvester.harvest(*MARCH, ["cs.LG"])
        again = harvester.harvest(*MARCH, ["cs.LG"])
    stored = _stored(session_factory)
    _check_ordinary(stored)
    for shape in SHAPES:
        _check_shape(shape, stored, from_feed=True)
    assert first.counts == UpsertCounts(inserted=len(ORDINARY) + len(SHAPES) - 1)
    assert again.counts == UpsertCounts(unchanged=len(ORDINARY) + len(SHAPES) - 1)


# -- bulk import ------------------------------------------------------------------------------------


def _lines(rows: list[dict[str, object]]) -> bytes:
    # json.dumps escapes lone surrogates (\ud800), which is how a JSON file carries them.
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


@pytest.mark.parametrize("kind", ["pool", "snapshot"])
def test_import_cleans_or_skips_each_shape_and_stores_the_rest(
    kind: str, uow: UnitOfWork, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records = [*ORDINARY, *SHAPES.values()]
    rows = pool_rows(records) if kind == "pool" else snapshot_rows(records)
    if kind == "snapshot":  # NUL inside `authors_parsed`, which is joined without being squashed
        (control,) = [row for row in rows if row["id"] == SHAPES["control_chars"].arxiv_id]
        control["authors_parsed"] = [["Abara", "Ada\x00", ""], ["Szabó\x01", "Søren", ""]]
    broken_utf8 = (
        _lines([rows[0]])
        .replace(b'"title": "', b'"title": "\xff\xfe')
        .replace(ORDINARY[0].arxiv_id.encode(), b"2603.89999")
    )
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(_lines(rows) + broken_utf8)
    with caplog.at_level(logging.WARNING):
        result = BulkImporter(lambda: uow, batch_size=5).run(path)
    with uow:
        stored = {p.arxiv_id: p for p in uow.session.scalars(select(Paper))}
        _check_ordinary(stored)
        for shape in ("long_id", "huge_title", "control_chars"):
            _check_shape(shape, stored, from_feed=False)
        # An unknown category and a line that is not valid UTF-8 (or JSON) were always skipped.
        assert SHAPES["long_category"].arxiv_id not in stored
        assert SHAPES["lone_surrogates"].arxiv_id not in stored
        assert "2603.89999" not in stored
    assert result.skipped == {BAD_ID: 1, UNKNOWN_CATEGORY: 1, NOT_JSON: 2}
    assert result.counts == UpsertCounts(inserted=len(ORDINARY) + 2)
    assert "too long for an arXiv id" in caplog.text
    assert f"arXiv paper {SHAPES['huge_title'].arxiv_id} stored cleaned" in caplog.text


# -- the repository, called directly --------------------------------------------------------------


def test_the_repository_cleans_or_leaves_out_what_it_cannot_store(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        counts = store_records(lambda: UnitOfWork(session_factory), [*ORDINARY, *SHAPES.values()])
    stored = _stored(session_factory)
    _check_ordinary(stored)
    for shape in SHAPES:
        _check_shape(shape, stored, from_feed=True)
    assert counts == UpsertCounts(inserted=len(ORDINARY) + len(SHAPES) - 1)
    assert f"Not storing an arXiv record: id {LONG_OLD_STYLE_ID[:40]!r}" in caplog.text


# -- the rules themselves ---------------------------------------------------------------------------


def test_an_ordinary_record_goes_through_unchanged_as_the_same_object() -> None:
    for record in ORDINARY:
        assert clean_record(record) is record


def test_an_old_style_id_too_long_for_its_column_is_not_an_id() -> None:
    with pytest.raises(ValidationError, match="too long"):
        parse_arxiv_id(LONG_OLD_STYLE_ID + "v2")
    assert parse_arxiv_id("math.GT/0309136v1").base == "math.GT/0309136"


def test_character_references_to_surrogates_are_repaired_and_others_kept() -> None:
    body = b"<t>a&#xD800;b&#55296;c&#x110000;d&#1;e&#233;f&amp;</t>"
    assert repair_char_refs(body) == b"<t>a&#xFFFD;b&#xFFFD;c&#xFFFD;d&#1;e&#233;f&amp;</t>"
    plain = b"<t>nothing to repair &amp; here</t>"
    assert repair_char_refs(plain) is plain


def test_a_record_left_without_a_storable_category_is_unusable() -> None:
    record = SHAPES["long_category"]
    only_long = dataclasses.replace(record, categories=(record.primary_category,))
    with pytest.raises(ValueError, match="no category"):
        clean_record(only_long)
