"""Turn whatever a person typed into a safe `FtsQuery`.

Input is hostile until checked: quotes, FTS operators (`NEAR(`, `*`, `:`, `^`), unbalanced parentheses,
SQL fragments, NUL bytes, emoji, zero-width or right-to-left marks and 5,000-character pastes all come
through here. Only runs of letters and digits survive as tokens; everything else is a separator, so no
operator of either search engine can ever be spelled by a user.

Understood syntax (anything malformed is read as plain words, never an error):
- plain words: all must match (title, abstract or authors);
- `"a quoted phrase"`: the words in this order (stop words inside a phrase are kept as gaps);
- `-word`: papers containing the word are left out;
- `author:name` or `author:"first last"`: the name must appear in the authors.
"""

from __future__ import annotations

import re
import unicodedata

from bot.db.fts import FtsQuery

MAX_INPUT_CHARS = 1000
MAX_TERMS = 24
MAX_TOKEN_CHARS = 48

# Exactly PostgreSQL's `english` stop list (tsearch_data/english.stop) plus a few words that carry no
# topic in paper titles. It must contain every word PostgreSQL drops: a word SQLite required but
# PostgreSQL ignored would make the two engines return different papers for the same query.
_STOP_WORD_TEXT = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
    hers herself it its itself they them their theirs themselves what which who whom this that these
    those am is are was were be been being have has had having do does did doing a an the and but if
    or because as until while of at by for with about against between into through during before after
    above below to from up down in out on off over under again further then once here there when where
    why how all any both each few more most other some such no nor not only own same so than too very s
    t can will just don should now
    via using based towards toward new
"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_AUTHOR = re.compile(r'(?<!\S)author:\s*(?:"([^"]*)"|(\S+))', re.IGNORECASE)
_PHRASE = re.compile(r'"([^"]*)"')


def all_tokens(text: str) -> list[str]:
    """Lower-cased letter/digit runs of `text` (stop words kept), each at most 48 characters."""
    # Lower-case before splitting, as both indexes do (SQLite's unicode61, PostgreSQL's parser): full
    # case folding would turn "ß" into "ss", which neither index does. Lower-casing can add combining
    # marks ("İ" -> "i" + U+0307) that would cut a word in two, so marks left uncomposed are dropped and
    # every token is letters and digits only.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).lower())
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Mn")
    return [match.group(0)[:MAX_TOKEN_CHARS] for match in _TOKEN.finditer(folded)]


def tokens(text: str) -> list[str]:
    """Lower-cased letter/digit runs of `text`, without stop words, each at most 48 characters."""
    return [token for token in all_tokens(text) if token not in STOP_WORDS]


def _phrase_tokens(text: str) -> tuple[str, ...]:
    # Inner stop words stay so "mixture of experts" keeps its shape; leading/trailing ones would only
    # make the engines disagree (PostgreSQL drops them, SQLite would require them).
    found = all_tokens(text)
    while found and found[0] in STOP_WORDS:
        found.pop(0)
    while found and found[-1] in STOP_WORDS:
        found.pop()
    return tuple(found)


class _Builder:
    """Collects terms under one budget so a long paste cannot build a huge query."""

    def __init__(self) -> None:
        self.budget = MAX_TERMS
        self.words: list[str] = []
        self.excluded: list[str] = []
        self.phrases: list[tuple[str, ...]] = []
        self.authors: list[tuple[str, ...]] = []

    def _add(self, target: list[str], token: str) -> None:
        if self.budget > 0 and token not in target:
            target.append(token)
            self.budget -= 1

    def word(self, token: str) -> None:
        self._add(self.words, token)

    def exclude(self, token: str) -> None:
        self._add(self.excluded, token)

    def phrase(self, phrase: tuple[str, ...]) -> None:
        phrase = phrase[: max(self.budget, 0)]
        content = [token for token in phrase if token not in STOP_WORDS]
        if len(content) <= 1:
            for token in content:  # a one-word "phrase" is just a word
                self.word(token)
        elif phrase not in self.phrases:
            self.phrases.append(phrase)
            self.budget -= len(phrase)

    def author(self, name: tuple[str, ...]) -> None:
        name = name[: max(self.budget, 0)]
        if name and name not in self.authors:
            self.authors.append(name)
            self.budget -= len(name)

    def build(self) -> FtsQuery:
        return FtsQuery(
            words=tuple(self.words),
            phrases=tuple(self.phrases),
            excluded=tuple(word for word in self.excluded if word not in self.words),
            authors=tuple(self.authors),
        )


def parse_text_query(text: str) -> FtsQuery:
    """Plain words (AND), "quoted phrases", -excluded words and author:names; the rest is plain text."""
    text = text[:MAX_INPUT_CHARS]
    builder = _Builder()

    def take_author(match: re.Match[str]) -> str:
        # Author names keep every token: "An", "Do" or "Will" are real names, not stop words.
        builder.author(tuple(all_tokens(match.group(1) if match.group(1) is not None else match.group(2))))
        return " "

    def take_phrase(match: re.Match[str]) -> str:
        builder.phrase(_phrase_tokens(match.group(1)))
        return " "

    rest = _PHRASE.sub(take_phrase, _AUTHOR.sub(take_author, text))
    for chunk in rest.split():
        is_exclusion = chunk.startswith("-") and len(chunk) > 1
        for token in tokens(chunk):
            if is_exclusion:
                builder.exclude(token)
                is_exclusion = False  # only the first token of "-foo-bar" is excluded
            else:
                builder.word(token)
    return builder.build()
