"""The digest's editorial voice: the intro paragraph, and the "why it matters now" around each Why.

Every fact said here is one the archive holds: the month's paper count; the emerging terms of
`bot.archive.trending` with their growth against the previous three months; how many of the month's
papers each topic has (a paper counts for a topic when its title or abstract holds one of the topic's
include phrases and none of its exclude phrases); and the earlier featured paper a pick is closest to
(tf-idf cosine of title and abstract, above `FOLLOWS_THRESHOLD`). A fact the archive does not hold
is left out, never guessed. The abstract-derived part of the Why (the problem) comes from the
summarizer and is cached; what is composed here depends on the month and is not.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Digest, DigestEntry, Paper
from bot.months import Month

from .text import clean_text

if TYPE_CHECKING:
    from bot.ranking.types import TopicSpec

# Cosine similarity (tf-idf over title and abstract, idf over the picks and earlier featured papers)
# from which a pick "follows" an earlier featured paper. Over the development months' curated picks
# (221 with an earlier month), about 5% of picks reached 0.18, and their pairs were, by their titles,
# about the same subject (GUI agents, deep-research agents, distilled reasoning traces); lower, the
# pairs grow looser.
FOLLOWS_THRESHOLD = 0.18
INTRO_TRENDS = 3
# A term must have grown this much (share of papers against the previous months) to be called a trend.
MIN_TREND_GROWTH = 1.5
PUBLISHED = "published"
_TOKEN = re.compile(r"[a-z][a-z0-9-]{2,}")


class _HasTopic(Protocol):
    @property
    def topic(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Trend:
    """An emerging term of the month (from `bot.archive.trending`)."""

    term: str
    papers: int
    growth: float  # its share of papers this month / its share over the previous `lookback` months


@dataclass(frozen=True, slots=True)
class Featured:
    """A paper featured in an earlier digest."""

    title: str
    month: str  # "2025-03"
    topic: str | None
    text: str  # title and abstract, for similarity


@dataclass(frozen=True, slots=True)
class MonthContext:
    """What the archive says about the month a digest is built for."""

    month: str
    total_papers: int
    topic_papers: Mapping[str, int] = field(default_factory=dict)
    trends: tuple[Trend, ...] = ()
    lookback: int = 3
    featured: tuple[Featured, ...] = ()


@dataclass(frozen=True, slots=True)
class PickContext:
    """The archive facts around one pick's Why."""

    lead: str  # "One of 140 papers on agents this month, …"
    follows: Featured | None

    def why(self, problem: str) -> str:
        """The Why a reader sees: the month's context, the problem, the paper it follows."""
        parts = [self.lead, problem.strip()]
        if self.follows is not None:
            label = Month.parse(self.follows.month).label
            parts.append(f"It follows “{_short_title(self.follows.title)}”, featured in {label}.")
        return " ".join(p for p in parts if p)


def topic_phrase(name: str) -> str:
    """ "Agents" reads "agents" mid-sentence; "RAG" and "LLM reasoning" keep their capitals."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def _short_title(title: str, limit: int = 90) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—(") + "…"


_PHRASE_TOKEN = re.compile(r"[\w-]+")


def _normalised(text: str) -> str:
    """ " word word … " in lower case: a phrase occurs in a text when its normalised form is inside."""
    return " " + " ".join(_PHRASE_TOKEN.findall(text.lower())) + " "


def count_topics(texts: Iterable[str], topics: Sequence[TopicSpec]) -> dict[str, int]:
    """Papers per topic: a text counts when it holds an include phrase and no exclude phrase.

    Phrases are matched as whole words in order ("tool use", not "tool user"). A text is tokenised
    once; only phrases whose first word it contains are tested (about 1 s for 25,000 papers).
    """
    by_first_word: dict[str, list[tuple[int, str, bool]]] = {}
    for index, topic in enumerate(topics):
        for phrases, is_exclude in ((topic.include, False), (topic.exclude, True)):
            for phrase in phrases:
                normalised = _normalised(phrase)
                if normalised.strip():
                    first = normalised.split()[0]
                    by_first_word.setdefault(first, []).append((index, normalised, is_exclude))
    first_words = by_first_word.keys()
    counts: Counter[str] = Counter()
    for text in texts:
        tokens = _PHRASE_TOKEN.findall(text.lower())
        candidates = first_words & set(tokens)
        if not candidates:
            continue
        words = " " + " ".join(tokens) + " "
        included: set[int] = set()
        excluded: set[int] = set()
        for word in candidates:
            for index, phrase, is_exclude in by_first_word[word]:
                if phrase in words:
                    (excluded if is_exclude else included).add(index)
        for index in included - excluded:
            counts[topics[index].name] += 1
    return dict(counts)


@dataclass(frozen=True, slots=True)
class MonthTexts:
    """A month's title+abstract texts tokenised once for every audience's `count_topics_in`: each
    text's words as `count_topics` joins them, and for each word the texts holding it."""

    words: tuple[str, ...]  # " word word … " per text
    holding: Mapping[str, tuple[int, ...]]  # word -> indices of the texts that contain it

    @classmethod
    def of(cls, texts: Iterable[str]) -> MonthTexts:
        joined: list[str] = []
        holding: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            tokens = _PHRASE_TOKEN.findall(text.lower())
            joined.append(" " + " ".join(tokens) + " ")
            for word in set(tokens):
                holding.setdefault(word, []).append(index)
        return cls(tuple(joined), {word: tuple(at) for word, at in holding.items()})


def count_topics_in(texts: MonthTexts, topics: Sequence[TopicSpec]) -> dict[str, int]:
    """`count_topics` over texts tokenised beforehand: the same counts, at the cost of the texts that
    hold a phrase's first word rather than of every text."""
    included: dict[int, set[int]] = {}
    excluded: dict[int, set[int]] = {}
    for index, topic in enumerate(topics):
        for phrases, found in ((topic.include, included), (topic.exclude, excluded)):
            for phrase in phrases:
                normalised = _normalised(phrase)
                if not normalised.strip():
                    continue
                for at in texts.holding.get(normalised.split()[0], ()):
                    if normalised in texts.words[at]:
                        found.setdefault(at, set()).add(index)
    counts: Counter[str] = Counter()
    for at in sorted(included):
        for index in included[at] - excluded.get(at, set()):
            counts[topics[index].name] += 1
    return dict(counts)


@dataclass(frozen=True, slots=True)
class SharedMonth:
    """The part of a month's context that is the same for every audience: its texts and its
    emerging terms. Read once (`load_shared_month`) by the monthly job for all audiences."""

    texts: MonthTexts
    trends: tuple[Trend, ...]
    lookback: int


def load_shared_month(session: Session, month: Month) -> SharedMonth:
    from bot.archive.trending import DEFAULT_LOOKBACK, emerging_terms

    in_month = (Paper.submitted_at >= month.start, Paper.submitted_at < month.end)
    texts = MonthTexts.of(
        f"{title} {abstract}"
        for title, abstract in session.execute(select(Paper.title, Paper.abstract).where(*in_month))
    )
    trending = emerging_terms(session, str(month), lookback=DEFAULT_LOOKBACK, limit=10)
    trends = tuple(Trend(t.term, t.count, t.growth) for t in trending.terms)
    return SharedMonth(texts, trends, trending.lookback)


def _tokens(text: str) -> list[str]:
    from bot.archive.trending import IGNORED_WORDS

    return [t for t in _TOKEN.findall(clean_text(text).lower()) if t not in IGNORED_WORDS]


def _vectors(texts: Sequence[str]) -> list[dict[str, float]]:
    """Unit-length tf-idf vectors of `texts`, idf over `texts` themselves."""
    bags = [Counter(_tokens(t)) for t in texts]
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    n = len(texts)
    vectors = []
    for bag in bags:
        vector = {w: (1 + math.log(c)) * math.log((1 + n) / (1 + df[w])) for w, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({w: v / norm for w, v in vector.items()})
    return vectors


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(v * large.get(w, 0.0) for w, v in small.items())


def predecessors(
    picks: Sequence[str], featured: Sequence[Featured], threshold: float = FOLLOWS_THRESHOLD
) -> list[Featured | None]:
    """For each pick text, the most similar earlier featured paper above `threshold` (or None)."""
    if not picks or not featured:
        return [None] * len(picks)
    vectors = _vectors([*picks, *(f.text for f in featured)])
    pick_vectors, featured_vectors = vectors[: len(picks)], vectors[len(picks) :]
    found: list[Featured | None] = []
    for vector in pick_vectors:
        scores = [_cosine(vector, other) for other in featured_vectors]
        best = max(range(len(scores)), key=lambda i: (scores[i], featured[i].month))
        found.append(featured[best] if scores[best] >= threshold else None)
    return found


def _trends_in(text: str, trends: Sequence[Trend]) -> list[Trend]:
    words = _normalised(clean_text(text))  # words as `trending` splits them ("rl", "3d" included)
    return [t for t in trends if f" {t.term} " in words]


def _growth(growth: float) -> str:
    return f"{growth:.1f}×"


def pick_contexts(
    picks: Sequence[tuple[str, str, str | None]], context: MonthContext | None
) -> list[PickContext]:
    """The archive facts for each pick, given as (title, abstract, topic)."""
    if context is None:
        return [PickContext("", None) for _ in picks]
    texts = [f"{title} {abstract}" for title, abstract, _ in picks]
    follows = predecessors(texts, context.featured)
    trends = [t for t in context.trends if t.growth >= MIN_TREND_GROWTH]
    contexts = []
    for (_title, _abstract, topic), text, earlier in zip(picks, texts, follows, strict=True):
        parts = []
        papers = context.topic_papers.get(topic, 0) if topic else 0
        if topic and papers >= 2:
            parts.append(f"One of {papers:,} papers on {topic_phrase(topic)} this month")
        matched = _trends_in(text, trends)
        if matched:
            trend = matched[0]
            rise = (
                f"“{trend.term}” ({trend.papers:,} papers, {_growth(trend.growth)} its share of the "
                f"previous {context.lookback} months)"
            )
            parts.append(f"part of the rise of {rise}" if parts else f"Part of this month's rise of {rise}")
        lead = ", ".join(parts) + "." if parts else ""
        contexts.append(PickContext(lead, earlier))
    return contexts


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def compose_intro(
    picks: Sequence[_HasTopic],
    total_papers: int,
    context: MonthContext | None = None,
    contexts: Sequence[PickContext] = (),
) -> str:
    """One paragraph on the month: its papers and emerging terms, the picks' themes, what continues.

    "This month: 4 papers on agents, 3 on reasoning and 1 on RAG, out of 23,512 new papers." comes
    first; the emerging terms and the continuation follow when the archive holds them.
    """
    counts = Counter(p.topic for p in picks)
    named = [(topic, n) for topic, n in counts.most_common() if topic]
    parts = []
    for i, (topic, n) in enumerate(named):
        noun = ("paper" if n == 1 else "papers") + " " if i == 0 else ""
        parts.append(f"{n} {noun}on {topic_phrase(topic)}")
    unmatched = counts.get(None, 0)
    if unmatched and parts:
        parts.append(f"{unmatched} more from across the field")
    elif unmatched:
        parts.append(f"{unmatched} {'paper' if unmatched == 1 else 'papers'} from across the field")
    if not parts:
        parts.append("no picks")
    noun = "paper" if total_papers == 1 else "papers"
    sentences = [f"This month: {_listed(parts)}, out of {total_papers:,} new {noun}."]
    if context is not None:
        trends = [t for t in context.trends if t.growth >= MIN_TREND_GROWTH][:INTRO_TRENDS]
        if trends:
            listed = _listed([f"“{t.term}” ({t.papers:,} papers, {_growth(t.growth)})" for t in trends])
            sentences.append(
                f"The terms that grew fastest against the previous {context.lookback} months: {listed}."
            )
        earlier_topics: dict[str, list[str]] = {}
        for featured in context.featured:
            if featured.topic:
                earlier_topics.setdefault(featured.topic, []).append(featured.month)
        continuing = [topic for topic, _ in named if topic in earlier_topics]
        if continuing:
            since = min(m for topic in continuing for m in earlier_topics[topic])
            themes = _listed([topic_phrase(t) for t in continuing])
            sentences.append(
                f"Continuing from earlier digests: {themes}, featured since {Month.parse(since).label}."
            )
        follows = sum(1 for c in contexts if c.follows is not None)
        if follows:
            subject = "One pick follows a paper" if follows == 1 else f"{follows} picks follow papers"
            sentences.append(f"{subject} featured before.")
    return " ".join(sentences)


def load_context(
    session: Session,
    month: Month,
    topics: Sequence[TopicSpec],
    total_papers: int,
    audience: int,
    shared: SharedMonth | None = None,
) -> MonthContext:
    """The archive's facts about `month`: topic counts, emerging terms, and the papers featured earlier
    in this audience's digests (what a pick follows is what its readers were shown). `shared` is
    `load_shared_month(session, month)` read once for several audiences; the result is the same."""
    if shared is None:
        from bot.archive.trending import DEFAULT_LOOKBACK, emerging_terms

        in_month = (Paper.submitted_at >= month.start, Paper.submitted_at < month.end)
        texts = (
            f"{title} {abstract}"
            for title, abstract in session.execute(select(Paper.title, Paper.abstract).where(*in_month))
        )
        topic_papers = count_topics(texts, topics)
        trending = emerging_terms(session, str(month), lookback=DEFAULT_LOOKBACK, limit=10)
        trends = tuple(Trend(t.term, t.count, t.growth) for t in trending.terms)
        lookback = trending.lookback
    else:
        topic_papers = count_topics_in(shared.texts, topics)
        trends, lookback = shared.trends, shared.lookback
    rows = session.execute(
        select(Paper.title, Paper.abstract, Digest.month, DigestEntry.topic_name)
        .join(DigestEntry, DigestEntry.paper_id == Paper.id)
        .join(Digest, Digest.id == DigestEntry.digest_id)
        .where(
            Digest.audience_id == audience,
            Digest.status == PUBLISHED,
            Digest.month < str(month),
            DigestEntry.section == "pick",
        )
        .order_by(Digest.month, DigestEntry.position)
    )
    featured = tuple(
        Featured(" ".join(title.split()), digest_month, topic, f"{title} {abstract}")
        for title, abstract, digest_month, topic in rows
    )
    return MonthContext(
        month=str(month),
        total_papers=total_papers,
        topic_papers=topic_papers,
        trends=trends,
        lookback=lookback,
        featured=featured,
    )
