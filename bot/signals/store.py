"""Momentum readings in `paper_signals`: writing what changed, and reading the latest for ranking.

Storage grows with change, not with time. For each key (paper, source, name) a row is written only
when the value differs from the key's newest row, whatever day that row is from. When a refresh sees
the same value again, no row is added: the newest row's `observed_at` is moved forward instead. So
each row is one run of an unchanged value, and its `observed_at` is the last time that value was seen
(the value first appeared some time after the previous row's `observed_at`). A month of ~25k papers
with four signals adds rows only for the values that moved, instead of ~100k rows a day.

`latest_signals(session, paper_ids)` answers, per paper id, a flat `dict[str, float]` with these keys
(a key is absent when the source never reported it for that paper):

- `semantic_scholar.citations`, `semantic_scholar.influential_citations` — Semantic Scholar counts
- `huggingface.upvotes` — upvotes on the paper's Hugging Face page
- `github.stars` — stars of the paper's GitHub repository (read from Hugging Face when it shows
  them, otherwise from the GitHub API)
- `<each key above>.growth` — change per day between the latest two *distinct* readings: (latest
  value − previous different value) / days from the last sighting of the previous value to the last
  sighting of the latest one. A value that stops moving therefore sees its growth fall as the plateau
  lengthens (its last sighting moves on, the delta does not), instead of keeping the rate of its last
  jump. With one distinct value only, growth is counted since the paper's submission (a count that
  started at zero). Windows shorter than a day count as one day, so two readings an hour apart never
  look like an explosion. Rows with equal values next to each other (written before this policy)
  are read the same way: the previous *different* value is the one used.

Flags such as `semantic_scholar.venue_known` are stored in the same table but are not momentum: they
are left out of `latest_signals` and read with `known_venues`.

`prune_readings` deletes readings older than a cut-off except the newest per key (the value the
ranking uses); growth then falls back to "since submission" for keys with nothing left before it.

Reading a month of ~25k papers takes one query in the usual case (see `latest_signals`). Queries take
any number of paper ids (integers, rendered inline, so a month of ~25k papers stays
within every driver's parameter limit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, CursorResult, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.db.models import Paper, PaperSignal
from bot.signals.types import ALL_SOURCES, SEMANTIC_SCHOLAR, VENUE_KNOWN, Reading

GROWTH_SUFFIX = ".growth"
MIN_GROWTH_WINDOW_DAYS = 1.0
_SECONDS_PER_DAY = 86_400.0
FLAG_NAMES = (VENUE_KNOWN,)
_PER_KEY = (PaperSignal.paper_id, PaperSignal.source, PaperSignal.name)


class _Newest(NamedTuple):
    row_id: int
    value: float
    observed_at: dt.datetime


def _ids_in(column: InstrumentedAttribute[int], ids: Iterable[int]) -> ColumnElement[bool]:
    # Integers only (int() refuses anything else), rendered literally: no bound-parameter limit.
    values = sorted({int(i) for i in ids})
    return column.in_(bindparam(f"{column.key}_values", values, expanding=True, literal_execute=True))


def _newest_first_position() -> Any:
    # observed_at alone (no id tie-break) lets SQLite walk ix_paper_signals_lookup instead of sorting.
    return func.row_number().over(partition_by=_PER_KEY, order_by=PaperSignal.observed_at.desc())


def record_readings(session: Session, readings: Sequence[Reading], observed_at: dt.datetime) -> set[int]:
    """Store `readings` observed at `observed_at`; return the ids of papers with a changed value.

    A changed (or first) value gets a new row; an unchanged one moves its newest row's `observed_at`
    forward (never backward). When a key occurs twice in `readings`, the last one wins. Does not commit.
    """
    if not readings:
        return set()
    if observed_at.tzinfo is None:
        raise ValueError("observed_at must carry a time zone")
    fresh: dict[tuple[int, str, str], float] = {}
    for reading in readings:
        fresh[(reading.paper_id, reading.source, reading.name)] = reading.value
    ranked = (
        select(
            PaperSignal.id,
            *_PER_KEY,
            PaperSignal.value,
            PaperSignal.observed_at,
            _newest_first_position().label("position"),
        )
        .where(
            _ids_in(PaperSignal.paper_id, (key[0] for key in fresh)),
            PaperSignal.source.in_(sorted({key[1] for key in fresh})),
            PaperSignal.name.in_(sorted({key[2] for key in fresh})),
        )
        .subquery()
    )
    newest = {
        (row.paper_id, row.source, row.name): _Newest(row.id, row.value, row.observed_at)
        for row in session.execute(select(ranked).where(ranked.c.position == 1))
    }
    changed: list[tuple[tuple[int, str, str], float]] = []
    seen_again: list[int] = []
    for key, value in fresh.items():
        stored = newest.get(key)
        if stored is None or stored.value != value:
            changed.append((key, value))
        elif observed_at > stored.observed_at:
            seen_again.append(stored.row_id)
    if changed:
        at = observed_at
        session.execute(
            insert(PaperSignal),
            [
                {"paper_id": paper, "source": source, "name": name, "value": value, "observed_at": at}
                for (paper, source, name), value in changed
            ],
        )
    if seen_again:
        session.execute(
            update(PaperSignal)
            .where(_ids_in(PaperSignal.id, seen_again))
            .values(observed_at=observed_at)
            .execution_options(synchronize_session=False)
        )
    return {paper_id for (paper_id, _source, _name), _value in changed}


def latest_signals(session: Session, paper_ids: Collection[int]) -> dict[int, dict[str, float]]:
    """Latest value and daily growth of every momentum signal of each paper (see the module docstring).

    Papers without any reading are absent from the answer. One query gives each key's newest reading
    and the one before it, which differ in value for everything this module writes; a second looks
    further back only for the keys where they are equal (rows from the time every day got one). A
    last one reads the submission dates of papers whose keys never changed.
    """
    if not paper_ids:
        return {}
    newest_first = PaperSignal.observed_at.desc()
    ranked = (
        select(
            *_PER_KEY,
            PaperSignal.value,
            PaperSignal.observed_at,
            _newest_first_position().label("position"),
            func.lead(PaperSignal.value)
            .over(partition_by=_PER_KEY, order_by=newest_first)
            .label("previous_value"),
            func.lead(PaperSignal.observed_at, type_=PaperSignal.observed_at.type)
            .over(partition_by=_PER_KEY, order_by=newest_first)
            .label("previous_at"),
        )
        .where(_ids_in(PaperSignal.paper_id, paper_ids), PaperSignal.name.not_in(FLAG_NAMES))
        .subquery()
    )
    query = select(
        ranked.c.paper_id,
        ranked.c.source,
        ranked.c.name,
        ranked.c.value,
        ranked.c.observed_at,
        ranked.c.previous_value,
        ranked.c.previous_at,
    ).where(ranked.c.position == 1)
    # Plain tuples: a month is ~100k rows, and attribute access on rows costs more than the query.
    latest: list[tuple[tuple[int, str, str], float, dt.datetime]] = []
    previous: dict[tuple[int, str, str], tuple[float, dt.datetime]] = {}
    look_further: set[int] = set()
    for paper_id, source, name, value, observed_at, previous_value, previous_at in session.execute(query):
        key = (paper_id, source, name)
        latest.append((key, value, observed_at))
        if previous_at is None:
            continue
        if previous_value != value:
            previous[key] = (previous_value, previous_at)
        else:
            look_further.add(paper_id)
    if look_further:
        previous.update(_previous_different(session, look_further))
    lonely = {key[0] for key, _value, _at in latest if key not in previous}
    submitted: dict[int, dt.datetime] = {}
    if lonely:
        dates = select(Paper.id, Paper.submitted_at).where(_ids_in(Paper.id, lonely))
        submitted = dict(session.execute(dates).all())  # (not the Result: it has .keys())
    result: dict[int, dict[str, float]] = {}
    for key, value, observed_at in latest:
        paper_id, source, name = key
        signal = f"{source}.{name}"
        signals = result.setdefault(paper_id, {})
        signals[signal] = value
        before = previous.get(key)
        if before is not None:
            signals[signal + GROWTH_SUFFIX] = _per_day(value - before[0], before[1], observed_at)
        else:  # one distinct value: a count that started at zero when the paper was submitted
            since = submitted.get(paper_id, observed_at)
            signals[signal + GROWTH_SUFFIX] = _per_day(value, since, observed_at)
    return result


def _previous_different(
    session: Session, paper_ids: Collection[int]
) -> dict[tuple[int, str, str], tuple[float, dt.datetime]]:
    """Per key of these papers: the newest reading whose value differs from the key's newest value."""
    ranked = (
        select(
            *_PER_KEY,
            PaperSignal.value,
            PaperSignal.observed_at,
            func.first_value(PaperSignal.value)
            .over(partition_by=_PER_KEY, order_by=PaperSignal.observed_at.desc())
            .label("latest_value"),
        )
        .where(_ids_in(PaperSignal.paper_id, paper_ids), PaperSignal.name.not_in(FLAG_NAMES))
        .subquery()
    )
    ranked_key = (ranked.c.paper_id, ranked.c.source, ranked.c.name)
    different = (
        select(
            *ranked_key,
            ranked.c.value,
            ranked.c.observed_at,
            func.row_number()
            .over(partition_by=ranked_key, order_by=ranked.c.observed_at.desc())
            .label("distinct_position"),
        )
        .where(ranked.c.value != ranked.c.latest_value)
        .subquery()
    )
    rows = session.execute(select(different).where(different.c.distinct_position == 1))
    return {(row.paper_id, row.source, row.name): (row.value, row.observed_at) for row in rows}


def latest_values(session: Session, paper_ids: Collection[int], source: str, name: str) -> dict[int, float]:
    """The newest stored value of one signal (e.g. Hugging Face upvotes) per paper that has it."""
    if not paper_ids:
        return {}
    ranked = (
        select(PaperSignal.paper_id, PaperSignal.value, _newest_first_position().label("position"))
        .where(
            _ids_in(PaperSignal.paper_id, paper_ids), PaperSignal.source == source, PaperSignal.name == name
        )
        .subquery()
    )
    query = select(ranked.c.paper_id, ranked.c.value).where(ranked.c.position == 1)
    return dict(session.execute(query).all())  # (not the Result: it has .keys())


def known_venues(session: Session, paper_ids: Collection[int]) -> set[int]:
    """Papers that Semantic Scholar places at a publication venue their arXiv record does not name."""
    if not paper_ids:
        return set()
    values = latest_values(session, paper_ids, SEMANTIC_SCHOLAR, VENUE_KNOWN)
    return {paper_id for paper_id, value in values.items() if value > 0}


def prune_readings(session: Session, older_than: dt.datetime) -> int:
    """Delete readings last seen before `older_than`, keeping each key's newest; return how many went.

    Does not commit.
    """
    if older_than.tzinfo is None:
        raise ValueError("older_than must carry a time zone")
    ranked = select(PaperSignal.id, _newest_first_position().label("position")).subquery()
    newest_ids = select(ranked.c.id).where(ranked.c.position == 1)
    result = session.execute(
        delete(PaperSignal)
        .where(PaperSignal.observed_at < older_than, PaperSignal.id.not_in(newest_ids))
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


def _per_day(change: float, since: dt.datetime, until: dt.datetime) -> float:
    days = max((until - since).total_seconds() / _SECONDS_PER_DAY, MIN_GROWTH_WINDOW_DAYS)
    return change / days


def record_imported_signals(
    session: Session, by_arxiv_id: Mapping[str, Mapping[str, float]], observed_at: dt.datetime
) -> int:
    """Store readings that came with imported papers (`{"2505.01234": {"huggingface.upvotes": 12}}`).

    Keys are `<source>.<name>` as `latest_signals` answers them; keys of unknown sources and papers
    not stored are ignored. Goes through `record_readings`, so importing the same file again adds no
    rows. Returns the number of readings handed over. Does not commit.
    """
    if not by_arxiv_id:
        return 0
    found = session.execute(select(Paper.arxiv_id, Paper.id).where(Paper.arxiv_id.in_(sorted(by_arxiv_id))))
    ids = {row.arxiv_id: row.id for row in found}
    readings: list[Reading] = []
    for arxiv_id, values in by_arxiv_id.items():
        paper_id = ids.get(arxiv_id)
        if paper_id is None:
            continue
        for key, value in values.items():
            source, _, name = key.partition(".")
            if source in ALL_SOURCES and name and not key.endswith(GROWTH_SUFFIX):
                readings.append(Reading(paper_id, source, name, float(value)))
    record_readings(session, readings, observed_at)
    return len(readings)
