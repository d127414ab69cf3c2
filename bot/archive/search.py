"""Searching the archive: featured papers first, then the best archive matches, paged.

Ranking. Each match has a text relevance `r` from `bot.db.fts.search` (papers whose title holds the
whole query first, then bm25 on SQLite / ts_rank on PostgreSQL). Relevance is normalised by the best
score among the candidates, so both engines land on 0..1, then boosted by recency:

    score = (r / r_max) × (1 + RECENCY_WEIGHT × 0.5 ** (age_months / RECENCY_HALF_LIFE_MONTHS))

where `age_months` is the paper's age relative to the newest paper in the archive (not the wall
clock, so an archive that stopped harvesting still favours its own recent months). A brand-new paper
gets up to ×1.5, a year-old one ×1.25, and an old one tends to ×1.0: recency breaks near-ties but
never lifts a weak match over a strong one.

The top `CANDIDATE_POOL` matches by relevance are re-ranked this way and paged; pages past the pool
continue in plain relevance order. Papers featured in published digests (matching the query) come
first, each with the digest month and, when it was posted, a thread reference.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.archive import matching
from bot.archive._featured import featured_in, featured_paper_ids
from bot.archive._months import month_label, month_of, month_start
from bot.archive._papers import authors_short, paper_links
from bot.archive.query import ParsedQuery, topic_key
from bot.archive.views import FeaturedIn, PaperHit, SearchResult
from bot.db.fts import FtsQuery, SearchHit
from bot.db.models import Paper

CANDIDATE_POOL = 200
FEATURED_LIMIT = 50
RECENCY_WEIGHT = 0.5
RECENCY_HALF_LIFE_MONTHS = 12.0
MAX_PAGE_SIZE = 25
MAX_PAGE = 1000
DAYS_PER_MONTH = 30.44


def recency_boost(submitted_at: dt.datetime, newest: dt.datetime) -> float:
    age_months = max((newest - submitted_at).total_seconds(), 0.0) / 86400 / DAYS_PER_MONTH
    return 1.0 + RECENCY_WEIGHT * float(0.5 ** (age_months / RECENCY_HALF_LIFE_MONTHS))


def _term_pattern(term: str) -> re.Pattern[str]:
    # Both engines stem (porter / english), so "models" should explain a match on "model": compare
    # word prefixes, dropping up to three trailing letters of longer words.
    def stem(word: str) -> str:
        return word if len(word) <= 4 else word[: max(4, len(word) - 3)]

    words = term.split()
    body = r"\w*\W+".join(re.escape(stem(w)) for w in words)
    return re.compile(r"\b" + body, re.IGNORECASE)


def matched_terms(terms: Sequence[str], paper: Paper) -> tuple[str, ...]:
    haystack = f"{paper.title}\n{paper.abstract}"
    return tuple(t for t in terms if _term_pattern(t).search(haystack))


def _reason(query: ParsedQuery, paper: Paper, terms: tuple[str, ...], featured: FeaturedIn | None) -> str:
    parts: list[str] = []
    if terms:
        parts.append("matches: " + ", ".join(terms[:5]))
    for author in query.base.authors:
        pattern = re.compile(r"\b" + r"\W+(?:\w+\W+)?".join(re.escape(t) for t in author), re.I)
        named = next((a for a in paper.authors if pattern.search(a)), None)
        parts.append(f"author: {named or ' '.join(author)}")
    if not parts:
        parts.append("matches your query")
    if featured is not None:
        kind = "featured" if featured.section == "pick" else "listed"
        # Which team's digest, once a deployment has more than the default one.
        whose = "" if featured.audience == "default" else f" ({featured.audience} digest)"
        parts.append(f"{kind} in {month_label(featured.month)}{whose}")
    return " · ".join(parts)


def _window(query: ParsedQuery) -> tuple[dt.datetime | None, dt.datetime | None]:
    first, end = query.since_month(), query.until_month()
    return (month_start(first) if first else None, month_start(end) if end else None)


def _newest(session: Session) -> dt.datetime | None:
    return session.execute(select(func.max(Paper.submitted_at))).scalar_one_or_none()


def search_archive(
    session: Session,
    query: ParsedQuery,
    *,
    page: int = 1,
    page_size: int = 5,
    topic_names: Sequence[str] = (),
) -> SearchResult:
    """One page of results for an already parsed query (read-only)."""
    page = min(max(int(page), 1), MAX_PAGE)
    page_size = min(max(int(page_size), 1), MAX_PAGE_SIZE)
    shown = query.display()
    if not query.has_terms:
        hint = "Type a few words to search the archive, e.g. `diffusion video` or `author:Hopper`."
        if query.month:
            hint += f" To see the {month_label(query.month)} digest, ask for that issue."
        return SearchResult(
            query=shown,
            hits=(),
            page=page,
            page_size=page_size,
            has_more=False,
            total_estimate=0,
            message=hint,
            suggestions=tuple(f"topic:{name}" for name in list(topic_names)[:5]),
            notes=query.notes,
        )

    variants = query.variants()
    since, until = _window(query)
    featured_ids = featured_paper_ids(session)
    featured_hits = (
        matching.ranked_matches(
            session, variants, since=since, until=until, paper_ids=featured_ids, limit=FEATURED_LIMIT
        )
        if featured_ids
        else []
    )
    pool = matching.ranked_matches(session, variants, since=since, until=until, limit=CANDIDATE_POOL)
    pool_is_full = len(pool) >= CANDIDATE_POOL
    if not pool and not featured_hits:
        return _nothing_found(session, query, page, page_size, topic_names)

    dates = {h.paper_id: h.submitted_at for h in [*pool, *featured_hits] if h.submitted_at is not None}
    missing = {h.paper_id for h in [*pool, *featured_hits]} - dates.keys()
    dates.update(_submitted_dates(session, missing))
    newest = _newest(session) or max(dates.values())
    best = max(h.score for h in [*pool, *featured_hits]) or 1.0

    def boosted(hits: list[SearchHit]) -> list[tuple[int, float]]:
        scored = [
            (h.paper_id, (h.score / best if best > 0 else 0.0) * recency_boost(dates[h.paper_id], newest))
            for h in hits
        ]
        return sorted(scored, key=lambda item: (-item[1], -dates[item[0]].timestamp(), -item[0]))

    featured_set = {h.paper_id for h in featured_hits}
    ordered = boosted(featured_hits) + boosted([h for h in pool if h.paper_id not in featured_set])
    start = (page - 1) * page_size
    window = ordered[start : start + page_size + 1]
    if len(window) <= page_size and pool_is_full:
        # Past the re-ranked pool: continue in plain relevance order after it.
        deep_start = CANDIDATE_POOL + max(0, start - len(ordered))
        wanted = page_size + 1 - len(window)
        deep = matching.ranked_matches(
            session, variants, since=since, until=until, limit=wanted, offset=deep_start
        )
        window += [
            (h.paper_id, h.score / best if best > 0 else 0.0) for h in deep if h.paper_id not in featured_set
        ]
    has_more = len(window) > page_size
    window = window[:page_size]
    total = None if pool_is_full else len(ordered)

    papers = {p.id: p for p in session.scalars(select(Paper).where(Paper.id.in_([pid for pid, _ in window])))}
    featured = featured_in(session, [pid for pid, _ in window if pid in featured_set])
    terms = query.terms
    hits: list[PaperHit] = []
    for paper_id, score in window:
        paper = papers[paper_id]
        found = matched_terms(terms, paper)
        featured_entry = featured.get(paper_id)
        hits.append(
            PaperHit(
                arxiv_id=paper.arxiv_id,
                title=paper.title,
                authors_short=authors_short(paper.authors),
                month=month_of(paper.submitted_at),
                submitted_at=paper.submitted_at,
                links=paper_links(paper),
                reason=_reason(query, paper, found, featured_entry),
                score=round(score, 4),
                matched_terms=found,
                featured=featured_entry,
            )
        )
    message = "" if hits else f"No more results for “{shown}” (page {page})."
    return SearchResult(
        query=shown,
        hits=tuple(hits),
        page=page,
        page_size=page_size,
        has_more=has_more,
        total_estimate=total,
        message=message,
        suggestions=query.topic_suggestions,
        notes=query.notes,
    )


def _submitted_dates(session: Session, paper_ids: set[int]) -> dict[int, dt.datetime]:
    if not paper_ids:
        return {}
    rows = session.execute(select(Paper.id, Paper.submitted_at).where(Paper.id.in_(list(paper_ids))))
    return {int(pid): submitted for pid, submitted in rows}


def _has_matches(session: Session, query: ParsedQuery) -> bool:
    since, until = _window(query)
    return bool(matching.ranked_matches(session, query.variants(), since=since, until=until, limit=1))


EMPTY_ARCHIVE_ADVICE = (
    "The daily harvest fills it from arXiv; an operator can start it now with `trends harvest` "
    "or load a file with `trends import`."
)


def _nothing_found(
    session: Session, query: ParsedQuery, page: int, page_size: int, topic_names: Sequence[str]
) -> SearchResult:
    """An empty result with the most useful next steps we can cheaply check."""
    suggestions: list[str] = list(query.topic_suggestions)
    advice = ""
    if _newest(session) is None:  # a new deployment: no other word would find anything either
        return SearchResult(
            query=query.display(),
            hits=(),
            page=page,
            page_size=page_size,
            has_more=False,
            total_estimate=0,
            message="The archive has no papers yet.",
            advice=EMPTY_ARCHIVE_ADVICE,
            notes=query.notes,
        )
    base = query.base
    if query.month or query.since:
        wider = replace(query, month=None, since=None)
        if _has_matches(session, wider):
            suggestions.append(wider.display())
    if base.excluded:
        wider = replace(query, base=replace(base, excluded=()))
        if _has_matches(session, wider):
            suggestions.append(wider.display())
    if base.phrases:
        loose_words = tuple(dict.fromkeys([*base.words, *(w for p in base.phrases for w in p)]))
        wider = replace(query, base=replace(base, phrases=(), words=loose_words))
        if _has_matches(session, wider):
            suggestions.append(wider.display())
    # Drop one required term at a time (at most a few probes): the broader queries that do match.
    terms: list[FtsQuery] = [
        *(replace(base, words=tuple(w for w in base.words if w != word)) for word in base.words),
        *(replace(base, phrases=tuple(p for p in base.phrases if p != ph)) for ph in base.phrases),
        *(replace(base, authors=tuple(a for a in base.authors if a != au)) for au in base.authors),
    ]
    term_count = len(base.words) + len(base.phrases) + len(base.authors) + len(query.topic_alternatives)
    if term_count > 1:
        for narrower in terms[:4]:
            wider = replace(query, base=narrower)
            if wider.has_terms and _has_matches(session, wider):
                suggestions.append(wider.display())
        if len(suggestions) == len(query.topic_suggestions):
            advice = "Try fewer words."
    # Topic names that look like what was typed.
    keys = {topic_key(name): name for name in topic_names}
    for word in [*base.words, "-".join(base.words)]:
        for close in difflib.get_close_matches(word, list(keys), n=2, cutoff=0.75):
            suggestions.append(f"topic:{keys[close]}")
    if not suggestions and not advice:
        advice = "Try a more general word, or check the spelling."
    shown = query.display()
    return SearchResult(
        query=shown,
        hits=(),
        page=page,
        page_size=page_size,
        has_more=False,
        total_estimate=0,
        message=f"Nothing found for “{shown}”.",
        suggestions=tuple(dict.fromkeys(suggestions))[:6],
        advice=advice,
        notes=query.notes,
    )
