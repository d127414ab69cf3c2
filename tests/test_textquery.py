"""`parse_text_query`: user text in, a query of plain tokens out, whatever was typed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.db.fts import FtsQuery
from bot.textquery import MAX_TERMS, MAX_TOKEN_CHARS, STOP_WORDS, parse_text_query, tokens

POSTGRES_ENGLISH_STOP_WORDS = "i me my we our the and of to in is are not no all can will s t very"


def every_token(query: FtsQuery) -> list[str]:
    found = [*query.words, *query.excluded]
    return found + [token for group in (*query.phrases, *query.authors) for token in group]


def test_plain_words_are_lowercased_and_stop_words_dropped() -> None:
    assert parse_text_query("Diffusion Models for the Video") == FtsQuery(
        words=("diffusion", "models", "video")
    )


def test_stop_words_include_postgresql_english_list() -> None:
    # A word PostgreSQL ignores but SQLite required would make the engines disagree.
    assert set(POSTGRES_ENGLISH_STOP_WORDS.split()) <= STOP_WORDS


def test_quoted_phrase_keeps_inner_stop_words_and_drops_outer_ones() -> None:
    query = parse_text_query('"The mixture of experts" routing')
    assert query.phrases == (("mixture", "of", "experts"),)
    assert query.words == ("routing",)


def test_one_word_phrase_is_a_word() -> None:
    assert parse_text_query('"the transformer"') == FtsQuery(words=("transformer",))


def test_excluded_words() -> None:
    query = parse_text_query("reasoning -math -Vision")
    assert query.words == ("reasoning",)
    assert query.excluded == ("math", "vision")


def test_only_exclusions_is_empty() -> None:
    assert parse_text_query("-math").is_empty


def test_word_both_wanted_and_excluded_is_wanted() -> None:
    assert parse_text_query("agents -agents").excluded == ()


def test_author_syntax_keeps_every_token() -> None:
    query = parse_text_query('author:"Mei An" author:Kowalczyk planning')
    assert query.authors == (("mei", "an"), ("kowalczyk",))
    assert query.words == ("planning",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"unbalanced quote', FtsQuery(words=("unbalanced", "quote"))),
        ("NEAR(diffusion video", FtsQuery(words=("near", "diffusion", "video"))),
        ("title:diffusion^2 OR video*", FtsQuery(words=("title", "diffusion", "2", "video"))),
        ("AND OR NOT", FtsQuery()),
        ("'; DROP TABLE papers; --", FtsQuery(words=("drop", "table", "papers"))),
        ("((()))  ::: ^^^ *** ---", FtsQuery()),
        ("the of and", FtsQuery()),
        ("agent\u200bic \u202ereasoning\u202c 🤖 rl", FtsQuery(words=("agent", "ic", "reasoning", "rl"))),
        ("nul\x00byte", FtsQuery(words=("nul", "byte"))),
        ("İstanbul CAFÉ", FtsQuery(words=("istanbul", "café"))),
    ],
)
def test_hostile_input_becomes_plain_tokens(text: str, expected: FtsQuery) -> None:
    assert parse_text_query(text) == expected


def test_long_input_is_bounded() -> None:
    query = parse_text_query(" ".join(f"word{i}" for i in range(2000)) + "x" * 5000)
    assert len(every_token(query)) == MAX_TERMS
    assert all(len(token) <= MAX_TOKEN_CHARS for token in every_token(query))


def test_tokens_function() -> None:
    assert tokens("GPT-4o, LLaMA_3 and the") == ["gpt", "4o", "llama", "3"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_letter_and_digit_tokens(text: str) -> None:
    query = parse_text_query(text)
    assert all(token and token.isalnum() for token in every_token(query))
    assert len(every_token(query)) <= MAX_TERMS
