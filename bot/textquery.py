"""Turn whatever a person typed into a safe `FtsQuery`.

Input is hostile until checked: quotes, FTS operators (`NEAR(`, `*`, `:`, `^`), unbalanced parentheses,
SQL fragments, emoji and 5,000-character pastes all come through here. Only runs of letters and digits
survive as tokens; everything else is a separator. "Quoted phrases" and `-excluded` words are honoured
when well formed and otherwise read as plain words, so every input yields a query (possibly empty),
never an exception.
"""

from __future__ import annotations

import re
import unicodedata

from bot.db.fts import FtsQuery

MAX_INPUT_CHARS = 1000
MAX_TERMS = 24
MAX_TOKEN_CHARS = 48

# Words that carry no topic: dropped from queries so both engines agree (PostgreSQL ignores them).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "we",
        "our",
        "via",
        "using",
        "based",
        "towards",
        "toward",
        "new",
    ]
)

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')


def tokens(text: str) -> list[str]:
    """Lower-cased letter/digit runs of `text`, without stop words, each at most 48 characters."""
    normalised = unicodedata.normalize("NFKC", text)
    found = []
    for match in _TOKEN.finditer(normalised):
        token = match.group(0).casefold()[:MAX_TOKEN_CHARS]
        if token not in STOP_WORDS:
            found.append(token)
    return found


def parse_text_query(text: str) -> FtsQuery:
    """Plain words (AND), "quoted phrases" and -excluded words; anything else is plain text."""
    text = text[:MAX_INPUT_CHARS]
    phrases: list[tuple[str, ...]] = []
    budget = MAX_TERMS

    def take_phrase(match: re.Match[str]) -> str:
        nonlocal budget
        phrase = tuple(tokens(match.group(1)))[:budget]
        if len(phrase) == 1:
            return " " + phrase[0] + " "
        if phrase:
            phrases.append(phrase)
            budget -= len(phrase)
        return " "

    rest = _PHRASE.sub(take_phrase, text)
    words: list[str] = []
    excluded: list[str] = []
    for chunk in rest.split():
        is_exclusion = chunk.startswith("-") and len(chunk) > 1
        for token in tokens(chunk):
            if budget <= 0:
                break
            target = excluded if is_exclusion else words
            if token not in target:
                target.append(token)
                budget -= 1
            is_exclusion = False  # only the first token of "-foo-bar" is excluded
    return FtsQuery(
        words=tuple(words),
        phrases=tuple(dict.fromkeys(phrases)),
        excluded=tuple(w for w in excluded if w not in words),
    )
