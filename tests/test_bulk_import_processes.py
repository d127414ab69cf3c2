"""`trends import` with its reading and parsing in a child process: the same result as in one process.

`BulkImporter(processes=1)` reads, parses and builds the rows in a child process; `processes=0` does
it all in this one. Stored rows, counts, skipped lines and progress must not depend on which, on
SQLite and PostgreSQL; a child that dies, or a Ctrl-C, must end the import cleanly with no process
left behind. Every file here is written by the test from `tests.fakes.snapshot` rows (made-up papers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.db.papers import UpsertCounts
from bot.db.uow import UnitOfWork
from bot.errors import SourceError, ValidationError
from bot.harvest import bulk
from bot.harvest.bulk import (
    NOT_JSON,
    UNKNOWN_CATEGORY,
    BulkImporter,
    ImportFilter,
    ImportReaderError,
    ImportResult,
)
from tests.fakes.snapshot import generated_snapshot, pool_row, snapshot_row, write_lines

UTC = dt.UTC
BULK_LOGGER = "bot.harvest.bulk"

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="checks reaped children in /proc")


def _importer(uow: UnitOfWork, processes: int, **kwargs: Any) -> BulkImporter:
    return BulkImporter(lambda: uow, batch_size=100, processes=processes, **kwargs)


class _Recorder:
    """Keeps every progress report (and can act on the n-th one, like a person pressing Ctrl-C)."""

    def __init__(self, on_call: dict[int, Any] | None = None) -> None:
        self.calls: list[tuple[int, int, int, int]] = []
        self._on_call = on_call or {}

    def batch_stored(self, result: ImportResult, bytes_read: int, bytes_total: int) -> None:
        self.calls.append((result.accepted, result.lines, bytes_read, bytes_total))
        action = self._on_call.get(len(self.calls))
        if action is not None:
            action()


def _mixed_snapshot(path: Path) -> Path:
    """~1,000 papers over 11 batches of 100, with bad lines, repeats of a paper and a cleaned paper."""
    rows: list[dict[str, object] | str] = list(generated_snapshot(1000, seed=23))
    older = dict(rows[10])  # the same paper again, an older version: the newest stays
    older["versions"] = [{"version": "v1", "created": "Mon, 1 Jan 2024 00:00:00 GMT"}]
    newer = snapshot_row(
        str(rows[20]["id"]), title="Newer\x07 title", created=(dt.datetime(2026, 1, 2, tzinfo=UTC),)
    )
    rows[150:150] = ["not json", "[1]", snapshot_row("2403.00004", categories=("cs.XX",)), "", older]
    rows[520:520] = [newer, "\xff bad bytes", snapshot_row("nonsense-id")]
    return write_lines(path, rows)


def _stored(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    """Every paper column but the id and the storing moments, the signals, and the indexed count."""
    with engine.connect() as conn:
        columns = [
            c
            for c in conn.exec_driver_sql("SELECT * FROM papers LIMIT 0").keys()  # noqa: SIM118 (not a dict)
            if c not in ("id", "harvested_at", "refreshed_at", "search_vector")
        ]
        papers = [
            tuple(r)
            for r in conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM papers ORDER BY arxiv_id")
        ]
        signals = [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT p.arxiv_id, s.source, s.value FROM paper_signals s "
                    "JOIN papers p ON p.id = s.paper_id ORDER BY p.arxiv_id, s.source"
                )
            )
        ]
        if engine.dialect.name == "sqlite":
            indexed = conn.exec_driver_sql("SELECT count(*) FROM papers_fts_docsize").scalar()
        else:
            indexed = conn.exec_driver_sql(
                "SELECT count(*) FROM papers WHERE search_vector IS NOT NULL"
            ).scalar()
    return papers, signals, int(indexed or 0)


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM paper_signals")
        conn.exec_driver_sql("DELETE FROM papers")


def _timeless(result: ImportResult) -> ImportResult:
    return dataclasses.replace(result, seconds=0.0)


def _reaped(pid: int) -> bool:
    """True once `pid` is gone for good: neither running nor a zombie waiting to be reaped."""
    return not Path(f"/proc/{pid}").exists()


def _child_pid(caplog: pytest.LogCaptureFixture) -> int:
    found = [re.search(r"reading in process (\d+)", r.getMessage()) for r in caplog.records]
    pids = [int(m.group(1)) for m in found if m]
    assert pids, "the importer did not say which process reads"
    return pids[-1]


def _import_both_ways(
    uow: UnitOfWork, engine: Engine, steps: list[tuple[Path, ImportFilter | None]], **child_options: Any
) -> None:
    """Runs the same imports in one process and with a reading child; asserts identical outcomes."""
    outcomes = []
    for processes in (0, 1):
        _wipe(engine)
        results, reports = [], []
        for path, filters in steps:
            recorder = _Recorder()
            results.append(_timeless(_importer(uow, processes, **child_options).run(path, filters, recorder)))
            reports.append(recorder.calls)
        outcomes.append((results, reports, _stored(engine)))
    (one_results, one_reports, one_stored), (child_results, child_reports, child_stored) = outcomes
    assert one_stored[0], "nothing was stored: the comparison would prove nothing"
    assert child_results == one_results
    assert child_reports == one_reports
    assert child_stored == one_stored


def test_a_reading_child_stores_exactly_what_one_process_does(
    uow: UnitOfWork, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    snapshot = _mixed_snapshot(tmp_path / "snapshot.json")
    # A second file updates a few papers (newer versions) and repeats others unchanged.
    updates = [
        snapshot_row(
            f"{row['id']}", created=(dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2026, 2, 3, tzinfo=UTC))
        )
        for row in list(generated_snapshot(1000, seed=23))[::7]
    ]
    second = write_lines(tmp_path / "updates.json.gz", [*updates, *list(generated_snapshot(300, seed=23))])
    pool = write_lines(
        tmp_path / "pool.jsonl",
        [
            pool_row(f"2505.{n:05d}", date="2025-05-02", signals={"huggingface.upvotes": n})
            for n in range(1, 260)
        ],
    )
    with caplog.at_level(logging.WARNING, logger=BULK_LOGGER):
        _import_both_ways(
            uow,
            engine,
            [
                (snapshot, None),
                (second, None),
                (
                    snapshot,
                    ImportFilter(categories=frozenset({"cs.LG", "cs.CL"}), first_day=dt.date(2020, 1, 1)),
                ),
                (pool, None),
            ],
        )
    # The outcome checked above is a real one: skips, an update, signals, a cleaned paper.
    result = _importer(uow, 1).run(snapshot)
    assert result.skipped == {
        NOT_JSON: 2,
        "not a JSON object": 1,
        UNKNOWN_CATEGORY: 1,
        "unreadable arXiv id": 1,
    }
    assert result.skipped_lines[NOT_JSON] == [151, 522]
    assert result.batches == 11  # 1,002 accepted lines
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM paper_signals").scalar() == 259
    # The child's log lines reach this process's log, where the CLI shows them.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        sum("skipping line 151 (not JSON" in w for w in warnings) == 5
    )  # twice in each mode, once more above
    assert any("stored cleaned" in w for w in warnings)


def test_a_spawned_reading_child_gives_the_same_result(
    uow: UnitOfWork, engine: Engine, tmp_path: Path
) -> None:
    rows: list[dict[str, object] | str] = [*generated_snapshot(250, seed=4), "oops"]
    path = write_lines(tmp_path / "s.json", rows)
    _import_both_ways(
        uow, engine, [(path, ImportFilter(categories=frozenset({"cs.LG"})))], start_method="spawn"
    )


def test_small_files_are_read_in_this_process_and_big_ones_in_a_child(
    uow: UnitOfWork, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = write_lines(tmp_path / "small.json", list(generated_snapshot(20, seed=1)))
    big = write_lines(tmp_path / "big.json", list(generated_snapshot(30, seed=1)))
    monkeypatch.setattr(bulk, "CHILD_MIN_BYTES", (small.stat().st_size + big.stat().st_size) // 2)
    with caplog.at_level(logging.DEBUG, logger=BULK_LOGGER):
        assert BulkImporter(lambda: uow).run(small).counts == UpsertCounts(inserted=20)
        assert "reading in process" not in caplog.text
        assert BulkImporter(lambda: uow).run(big).counts == UpsertCounts(inserted=10, unchanged=20)
    assert _reaped(_child_pid(caplog))
    with pytest.raises(ValueError, match="processes"):
        BulkImporter(lambda: uow, processes=2)


def test_a_killed_reading_child_is_an_error_not_a_hang(
    uow: UnitOfWork, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_lines(tmp_path / "s.json", list(generated_snapshot(3000, seed=8)))

    def kill_the_child() -> None:
        os.kill(_child_pid(caplog), signal.SIGKILL)

    with (
        caplog.at_level(logging.DEBUG, logger=BULK_LOGGER),
        pytest.raises(ImportReaderError, match=r"stopped unexpectedly \(killed by signal 9\)") as failure,
    ):
        _importer(uow, 1).run(path, progress=_Recorder({1: kill_the_child}))
    assert "Run the import again" in str(failure.value)
    assert _reaped(_child_pid(caplog))
    with uow:
        stored = int(uow.session.scalar(text("SELECT count(*) FROM papers")) or 0)
    assert 200 <= stored < 3000
    assert stored % 100 == 0  # whole batches only
    again = _importer(uow, 1).run(path)
    assert again.counts == UpsertCounts(inserted=3000 - stored, unchanged=stored)


def test_ctrl_c_stops_the_child_and_keeps_the_stored_batches(
    uow: UnitOfWork, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_lines(tmp_path / "s.json", list(generated_snapshot(2000, seed=8)))

    def press_ctrl_c() -> None:
        raise KeyboardInterrupt

    with caplog.at_level(logging.DEBUG, logger=BULK_LOGGER), pytest.raises(KeyboardInterrupt):
        _importer(uow, 1).run(path, progress=_Recorder({2: press_ctrl_c}))
    assert _reaped(_child_pid(caplog))
    with uow:
        stored = int(uow.session.scalar(text("SELECT count(*) FROM papers")) or 0)
    assert stored == 200  # the two batches reported; nothing of the next one
    again = _importer(uow, 1).run(path)
    assert again.counts == UpsertCounts(inserted=1800, unchanged=200)


def test_reading_errors_of_the_child_reach_the_caller(uow: UnitOfWork, tmp_path: Path) -> None:
    other = write_lines(tmp_path / "other.json", [{"name": "not a paper"}])
    with pytest.raises(ValidationError, match="line 1 is neither"):
        _importer(uow, 1).run(other)
    broken = tmp_path / "broken.json.gz"
    write_lines(broken, list(generated_snapshot(200, seed=9)))
    broken.write_bytes(broken.read_bytes()[:-300])  # a download cut short
    with pytest.raises(SourceError, match="could not be read past line"):
        BulkImporter(lambda: uow, batch_size=50, processes=1).run(broken)
    with uow:
        stored = int(uow.session.scalar(text("SELECT count(*) FROM papers")) or 0)
    assert 150 < stored < 200  # the lines read before the break are stored, batch or not


class _BuggyFilter(ImportFilter):
    """A filter with a bug: what an unexpected error in the reading code looks like."""

    __slots__ = ()

    def accepts(self, record: object) -> bool:
        raise LookupError("a bug in the filter")


@pytest.mark.parametrize("processes", [0, 1])
def test_a_bug_in_the_reading_code_raises_the_same_error_either_way(
    uow: UnitOfWork, tmp_path: Path, caplog: pytest.LogCaptureFixture, processes: int
) -> None:
    path = write_lines(tmp_path / "s.json", list(generated_snapshot(20, seed=2)))
    with caplog.at_level(logging.ERROR, logger=BULK_LOGGER), pytest.raises(LookupError, match="a bug"):
        _importer(uow, processes).run(path, _BuggyFilter())
    if processes:  # the child's traceback is logged here: where the bug is
        assert "in accepts" in caplog.text
