"""The /trends query language: examples, hostile input, and properties (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from bot.archive.query import parse_query
from bot.archive.service import ArchiveService
from bot.db.fts import FtsQuery
from tests.factories import make_paper

TOPICS = {"LLM Agents": ["tool use", "agents", "multi-agent planning"], "vision": []}


def test_plain_words_phrases_exclusions() -> None:
    parsed = parse_query('diffusion "world model" -survey')
    assert parsed.base == FtsQuery(words=("diffusion",), phrases=(("world", "model"),), excluded=("survey",))
    assert parsed.display() == 'diffusion "world model" -survey'


def test_operators() -> None:
    parsed = parse_query('author:"Grace Hopper" author:Lovelace month:2026-10 since:2026-1 rl', TOPICS)
    assert parsed.base.authors == (("grace", "hopper"), ("lovelace",))
    assert parsed.month == "2026-10"
    assert parsed.since == "2026-01"
    assert parsed.since_month() == "2026-10"
    assert parsed.until_month() == "2026-11"
    assert parsed.base.words == ("rl",)


def test_topic_expands_to_or_of_include_phrases() -> None:
    parsed = parse_query("topic:llm-agents memory", TOPICS)
    assert parsed.topics == ("LLM Agents",)
    variants = parsed.variants()
    assert FtsQuery(words=("memory",), phrases=(("tool", "use"),)) in variants
    assert FtsQuery(words=("memory", "agents")) in variants
    assert len(variants) == 3
    # a topic without include phrases searches its name
    assert parse_query("topic:VISION", TOPICS).variants() == (FtsQuery(words=("vision",)),)


def test_unknown_operators_and_topics_are_plain_text() -> None:
    parsed = parse_query("foo:bar topic:agnets", TOPICS)
    assert parsed.base.words == ("foo", "bar", "agnets")
    assert parsed.unknown_topics == ("agnets",)
    assert parsed.topic_suggestions == ("topic:LLM Agents",) or parsed.notes


def test_bad_month_is_a_note_not_an_error() -> None:
    parsed = parse_query("video month:2026-13 since:yesterday")
    assert parsed.month is None
    assert parsed.since is None
    assert len(parsed.notes) == 2
    assert "YYYY-MM" in parsed.notes[0]
    assert parsed.base.words == ("video",)


@pytest.mark.parametrize(
    "text",
    ["", "   ", '"', '""', "-", "---", 'author:""', "((((", "AND OR", "\x00"],
)
def test_degenerate_input_gives_an_empty_query(text: str) -> None:
    assert parse_query(text, TOPICS).has_terms is False


def test_bare_operators_and_fts_keywords_are_words() -> None:
    assert parse_query("topic:", TOPICS).base.words == ("topic",)
    assert parse_query("NEAR(", TOPICS).base.words == ("near",)


def _is_safe(query: FtsQuery) -> bool:
    strings = [*query.words, *query.excluded]
    strings += [t for group in (*query.phrases, *query.authors) for t in group]
    return all(s and all(ch.isalnum() for ch in s) for s in strings)


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_parser_never_raises_and_only_emits_safe_tokens(text: str) -> None:
    parsed = parse_query(text, TOPICS)
    assert all(_is_safe(v) for v in parsed.variants())
    assert _is_safe(parsed.base)
    parsed.display()


OPERATOR_SOUP = st.lists(
    st.sampled_from(
        [
            '"',
            "(",
            ")",
            "*",
            "-",
            ":",
            "^",
            "NEAR",
            "AND",
            "OR",
            "NOT",
            "author:",
            "topic:",
            "month:",
            "since:2026-01",
            "video",
            "diffusion",
            "🎥",
            "'",
            ";",
            "--",
            "\x00",
            " ",
            "Ünïcødé",
            "日本語",
        ]
    ),
    max_size=25,
).map("".join)


@pytest.fixture
def small_archive(session_factory: sessionmaker[Session]) -> ArchiveService:
    with session_factory() as session:
        session.add_all(
            make_paper(
                f"2610.{i:05d}",
                f"Video diffusion {i}" if i % 2 else f"Graph networks {i}",
                "Ünïcødé 日本語 text",
                submitted=dt.datetime(2026, 1 + i % 10, 3, tzinfo=dt.UTC),
            )
            for i in range(20)
        )
        session.commit()
    return ArchiveService(session_factory)


@given(text=st.one_of(OPERATOR_SOUP, st.text(max_size=200)))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_full_search_always_answers(small_archive: ArchiveService, text: str) -> None:
    # The database is only read, so sharing it across examples is sound.
    result = small_archive.search(text)
    assert result.hits or result.message
    trend = small_archive.trend(text, months=3)
    # Three months, or, when no word is left once parsed, the hint instead of a line of zeros.
    assert len(trend.points) == 3 or (trend.points == () and trend.message.startswith("Type a few words"))
