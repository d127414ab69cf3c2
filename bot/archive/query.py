"""The small, forgiving query language of `/trends <query>`.

    diffusion video                 plain words, all required
    "world model"                   a phrase
    -survey                         exclude a word
    author:Hopper  author:"Grace Hopper"
    month:2026-10                   papers submitted that month
    since:2026-01                   papers submitted from that month on
    topic:agents                    any of the topic's include phrases (OR), AND the rest

Everything else — unknown `foo:bar`, stray operators, unbalanced quotes, SQL, emoji — is plain text,
which `bot.textquery` reduces to letter/digit tokens. Parsing never raises: problems become `notes`
(shown to the user) and unknown topics become plain words plus a "did you mean" suggestion.
"""

from __future__ import annotations

import difflib
import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.archive._months import parse_month, shift_month
from bot.db.fts import FtsQuery
from bot.textquery import MAX_INPUT_CHARS, MAX_TOKEN_CHARS, parse_text_query, tokens

MAX_AUTHORS = 4
MAX_TOPIC_PHRASES = 16
MAX_VARIANTS = 32

# `key:"quoted value"` or `key:value`, only at the start of a whitespace-separated chunk.
_OPERATOR = re.compile(r'(?<!\S)(?P<key>[^\W\d_]+):(?:"(?P<quoted>[^"]*)"|(?P<value>[^\s"]+))')
_NAME_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
KNOWN_KEYS = ("author", "month", "since", "topic")


def _name_tokens(text: str) -> tuple[str, ...]:
    """Author-name tokens: like `tokens()` but keeping short words ("An", "Will" are names too)."""
    normalised = unicodedata.normalize("NFKC", text)
    return tuple(m.group(0).lower()[:MAX_TOKEN_CHARS] for m in _NAME_TOKEN.finditer(normalised))[:6]


def topic_key(name: str) -> str:
    """How topic names are compared: case-, space-, dash- and underscore-insensitive."""
    return "-".join(_name_tokens(name)) or name.casefold()


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query the search, trend and suggestion code can act on; every field is already safe."""

    raw: str
    base: FtsQuery = field(default_factory=FtsQuery)
    # One entry per `topic:` used: the alternatives (a word or phrase each) of which one must match.
    topic_alternatives: tuple[tuple[FtsQuery, ...], ...] = ()
    topics: tuple[str, ...] = ()  # names of the topics used, as stored
    month: str | None = None  # "2026-10"
    since: str | None = None  # "2026-01"
    unknown_topics: tuple[str, ...] = ()
    topic_suggestions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def has_terms(self) -> bool:
        """True when there is something to match (words, phrases, authors or a topic)."""
        return not self.base.is_empty or bool(self.topic_alternatives)

    def variants(self) -> tuple[FtsQuery, ...]:
        """The query as OR-ed plain `FtsQuery`s: the base AND one alternative of every topic."""
        if not self.topic_alternatives:
            return (self.base,) if not self.base.is_empty else ()
        combos = itertools.islice(itertools.product(*self.topic_alternatives), MAX_VARIANTS)
        return tuple(_merge(self.base, combo) for combo in combos)

    @property
    def terms(self) -> tuple[str, ...]:
        """Words and phrases to look for when explaining a match (authors excluded)."""
        found: list[str] = list(self.base.words) + [" ".join(p) for p in self.base.phrases]
        for alternatives in self.topic_alternatives:
            for alternative in alternatives:
                found += list(alternative.words) + [" ".join(p) for p in alternative.phrases]
        return tuple(dict.fromkeys(found))

    def display(self) -> str:
        """A normalised, safe rendering for titles and messages."""
        parts: list[str] = list(self.base.words)
        parts += [f'"{" ".join(p)}"' for p in self.base.phrases]
        parts += [f'author:"{" ".join(a)}"' if len(a) > 1 else f"author:{a[0]}" for a in self.base.authors]
        parts += [f"topic:{name}" for name in self.topics]
        parts += [f"-{word}" for word in self.base.excluded]
        if self.month:
            parts.append(f"month:{self.month}")
        if self.since:
            parts.append(f"since:{self.since}")
        return " ".join(parts)

    def since_month(self) -> str | None:
        """The first month asked for (from `month:` or `since:`, whichever is later)."""
        candidates = [m for m in (self.month, self.since) if m]
        return max(candidates) if candidates else None

    def until_month(self) -> str | None:
        """The first month *not* asked for (exclusive end), from `month:`."""
        return shift_month(self.month, 1) if self.month else None


def _merge(base: FtsQuery, extra: Sequence[FtsQuery]) -> FtsQuery:
    words = list(base.words)
    phrases = list(base.phrases)
    for alternative in extra:
        words += [w for w in alternative.words if w not in words]
        phrases += [p for p in alternative.phrases if p not in phrases]
    return FtsQuery(words=tuple(words), phrases=tuple(phrases), excluded=base.excluded, authors=base.authors)


def _alternatives(phrases: Sequence[str], fallback_name: str) -> tuple[FtsQuery, ...]:
    found: list[FtsQuery] = []
    for phrase in list(phrases)[:MAX_TOPIC_PHRASES]:
        words = tuple(tokens(phrase))[:8]
        if len(words) == 1:
            found.append(FtsQuery(words=words))
        elif words:
            found.append(FtsQuery(phrases=(words,)))
    if not found:
        words = tuple(tokens(fallback_name))[:8]
        if words:
            found.append(FtsQuery(words=words))
    return tuple(dict.fromkeys(found))


def parse_query(text: str, topics: Mapping[str, Sequence[str]] | None = None) -> ParsedQuery:
    """Read `text` (any string) into a `ParsedQuery`; `topics` maps topic names to include phrases."""
    raw = text if isinstance(text, str) else str(text)
    text = raw[:MAX_INPUT_CHARS].replace("\x00", " ")
    topics = topics or {}
    by_key = {topic_key(name): name for name in topics}

    authors: list[tuple[str, ...]] = []
    topic_groups: list[tuple[FtsQuery, ...]] = []
    topic_names: list[str] = []
    unknown: list[str] = []
    suggestions: list[str] = []
    notes: list[str] = []
    month: str | None = None
    since: str | None = None
    leftover: list[str] = []  # unknown topic names searched as plain words

    def consume(match: re.Match[str]) -> str:
        nonlocal month, since
        key = match.group("key").casefold()
        value = match.group("quoted") if match.group("quoted") is not None else match.group("value")
        if key not in KNOWN_KEYS:
            return match.group(0)  # plain text: `foo:bar` searches for "foo bar"
        if key == "author":
            author = _name_tokens(value)
            if author and len(authors) < MAX_AUTHORS and author not in authors:
                authors.append(author)
            elif not author:
                notes.append("author: needs a name, e.g. author:Hopper")
            return " "
        if key in ("month", "since"):
            parsed = parse_month(value)
            if parsed is None:
                notes.append(f"ignored {key}:{value[:20]} (write months as YYYY-MM, e.g. {key}:2026-10)")
            elif key == "month":
                month = parsed
            else:
                since = parsed
            return " "
        # topic:
        wanted = topic_key(value)
        name = by_key.get(wanted)
        if name is None:
            shown = value[:40]
            unknown.append(shown)
            close = difflib.get_close_matches(wanted, list(by_key), n=2, cutoff=0.5)
            suggestions.extend(f"topic:{by_key[c]}" for c in close)
            hint = f"; did you mean {' or '.join(by_key[c] for c in close)}?" if close else ""
            notes.append(f"no topic named “{shown}”{hint} Searching for it as words.")
            leftover.append(value)
        elif name not in topic_names:
            topic_names.append(name)
            group = _alternatives(topics[name], name)
            if group:
                topic_groups.append(group)
        return " "

    rest = _OPERATOR.sub(consume, text)
    plain = parse_text_query(" ".join([rest, *leftover]))
    base = FtsQuery(
        words=plain.words,
        phrases=plain.phrases,
        excluded=plain.excluded,
        authors=tuple(authors),
    )
    return ParsedQuery(
        raw=raw,
        base=base,
        topic_alternatives=tuple(topic_groups),
        topics=tuple(topic_names),
        month=month,
        since=since,
        unknown_topics=tuple(unknown),
        topic_suggestions=tuple(dict.fromkeys(suggestions)),
        notes=tuple(notes),
    )
