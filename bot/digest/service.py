"""Composing, storing and reading the monthly digest.

`DigestService.build(month)` is the use case behind `trends digest`: it loads the month's papers as
ranking candidates (with momentum signals and net chat votes), the enabled topics, and the papers
already shown in earlier published digests; ranks them with `bot.ranking.rank_month`; summarises the
picks; puts the month's context around them (`editorial`: topic counts, emerging terms, earlier
featured papers); and stores the result as the month's draft. It runs in three steps so that no database
transaction stays open while an LLM answers: a read, the summaries (cached per paper), then one write
that replaces the draft. A published digest is never rebuilt.

Every use case is per audience (`audience=None` is `default`): its topics, its votes, its "never
repeat a paper an earlier digest of ours featured", its draft and its published digest. The month's
papers and their signals are the same for every audience, so the monthly job reads them once
(`load_month`) and passes them to each audience's `build(…, shared=…)`.

The ranker (numpy, scipy) and the summarizers (an HTTP client) are imported where they are used:
reading a digest (`trends issue`, archive search) does not load them. Its plain types
(`bot.ranking.types`) load nothing heavy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.audience_models import team_model
from bot.audiences import DEFAULT_AUDIENCE, audience_id
from bot.db.models import Audience, Digest, DigestEntry, Paper, Topic, Vote, utcnow
from bot.db.papers import count_month
from bot.db.uow import UnitOfWork
from bot.errors import ConflictError, NotFoundError
from bot.months import Month
from bot.ranking.types import Candidate
from bot.settings import Settings
from bot.signals.store import latest_signals

from .editorial import (
    MonthContext,
    SharedMonth,
    compose_intro,
    load_context,
    load_shared_month,
    pick_contexts,
)
from .topics import ensure_seeded, to_spec
from .views import DigestView, EntryView, Links

if TYPE_CHECKING:
    from bot.ranking.rank import MonthFeatures
    from bot.ranking.types import ScoredPaper, Selection, TopicSpec

    from .summarize import PaperText, Summarizer, Summary

log = logging.getLogger(__name__)

TITLE_PREFIX = "Trends in AI"
DRAFT = "draft"
PUBLISHED = "published"


def digest_title(month: Month) -> str:
    return f"{TITLE_PREFIX} — {month.label}"


def _as_month(month: Month | str) -> Month:
    return month if isinstance(month, Month) else Month.parse(month)


@dataclass(frozen=True, slots=True)
class MonthPapers:
    """A month's papers as ranking candidates (signals, no votes): read once, ranked per audience.

    What the audiences' rankings and contexts share beyond the papers is computed on first use and
    kept here: the ranking features (`rank.prepare_month`) and the month's texts and emerging terms
    (`editorial.load_shared_month`)."""

    month: Month
    candidates: tuple[Candidate, ...]
    _computed: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def total(self) -> int:
        return len(self.candidates)

    def features(self) -> MonthFeatures:
        """The month's topic-independent ranking features, computed once."""
        from bot.ranking.rank import prepare_month

        if "features" not in self._computed:
            self._computed["features"] = prepare_month(self.candidates)
        features: MonthFeatures = self._computed["features"]
        return features

    def shared_context(self, session: Session) -> SharedMonth:
        """The audience-independent part of the month's context, read once."""
        if "context" not in self._computed:
            self._computed["context"] = load_shared_month(session, self.month)
        shared: SharedMonth = self._computed["context"]
        return shared


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What the read step hands to the summaries and the write step."""

    selection: Selection
    total_papers: int
    texts: dict[int, PaperText]  # picks' text, by paper id
    cached: dict[int, Summary]
    context: MonthContext | None = None  # the archive's facts for the intro and the Whys


class DigestService:
    """Build, read and publish the monthly digest; each method is one use case."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        settings: Settings,
        *,
        summarizer: Summarizer | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._settings = settings
        self._summarizer = summarizer
        self._clock = clock

    # ---------------------------------------------------------------- ranking

    def rank(
        self, month: Month | str, *, audience: str | None = None, shared: MonthPapers | None = None
    ) -> Selection:
        """Rank the month's papers as `build` would, storing nothing (for `trends rank`)."""
        month = _as_month(month)
        with self._uow_factory() as uow:
            selection, _total = self._rank(uow.session, month, audience_id(uow.session, audience), shared)
            uow.commit()  # keeps the topic seed, if one was needed
        return selection

    def load_month(self, month: Month | str) -> MonthPapers:
        """The month's candidates, to share between the audiences' `rank`/`build` calls."""
        month = _as_month(month)
        with self._uow_factory() as uow:
            return MonthPapers(month, tuple(self._month_candidates(uow.session, month)))

    def _rank(
        self, session: Session, month: Month, audience: int, shared: MonthPapers | None = None
    ) -> tuple[Selection, int]:
        from bot.ranking import rank_month
        from bot.ranking.embedding import load_embedder

        if shared is not None and shared.month != month:
            raise ValueError(f"shared papers of {shared.month} given for {month}")
        total = shared.total if shared is not None else count_month(session, month)
        if total == 0:
            raise NotFoundError(
                f"No papers stored for {month.label}. Run `trends harvest --month {month}` first."
            )
        topics = self._topics(session, audience)
        settings = self._settings
        team, team_note = team_model(session, audience)
        base = list(shared.candidates) if shared is not None else self._month_candidates(session, month)
        selection = rank_month(
            self._with_votes(session, month, audience, base),
            topics,
            weights=settings.weights,
            size=settings.digest_size,
            others=settings.other_papers,
            max_per_topic=settings.max_per_topic,
            exclude_ids=self._shown_before(session, month, audience),
            examples=self._examples(session, topics),
            # Off unless TRENDS_EMBEDDING_MODEL is set (and weights.embedding > 0): see docs/ranking.md.
            embedder=load_embedder(settings.embedding_model),
            features=shared.features() if shared is not None else None,
            team=team,
        )
        return dataclasses.replace(selection, notes=(*selection.notes, team_note)), total

    def _topics(self, session: Session, audience: int) -> list[TopicSpec]:
        ensure_seeded(session, self._settings, audience)
        rows = session.scalars(
            select(Topic).where(Topic.audience_id == audience, Topic.enabled.is_(True)).order_by(Topic.name)
        )
        return [to_spec(t) for t in rows]

    @staticmethod
    def _with_votes(
        session: Session, month: Month, audience: int, candidates: list[Candidate]
    ) -> list[Candidate]:
        """The candidates with this audience's net votes (votes from its own channels only)."""
        votes: dict[int, int] = {
            paper_id: int(total or 0)
            for paper_id, total in session.execute(
                select(Vote.paper_id, func.sum(Vote.value))
                .join(Paper, Paper.id == Vote.paper_id)
                .where(
                    Vote.audience_id == audience,
                    Paper.submitted_at >= month.start,
                    Paper.submitted_at < month.end,
                )
                .group_by(Vote.paper_id)
            )
        }
        if not votes:
            return candidates
        return [
            dataclasses.replace(c, votes=votes[c.paper_id]) if c.paper_id in votes else c for c in candidates
        ]

    @staticmethod
    def _month_candidates(session: Session, month: Month) -> list[Candidate]:
        in_month = (Paper.submitted_at >= month.start, Paper.submitted_at < month.end)
        rows = session.execute(
            select(
                Paper.id,
                Paper.arxiv_id,
                Paper.title,
                Paper.abstract,
                Paper.authors,
                Paper.categories,
                Paper.primary_category,
                Paper.submitted_at,
                Paper.comment,
                Paper.journal_ref,
                Paper.code_url,
                Paper.project_url,
            )
            .where(*in_month)
            .order_by(Paper.submitted_at, Paper.arxiv_id)
        ).all()
        signals = latest_signals(session, [row.id for row in rows])
        return [_candidate(row, signals=signals.get(row.id, {})) for row in rows]

    @staticmethod
    def _examples(session: Session, topics: Sequence[TopicSpec]) -> dict[str, Candidate]:
        """Stored example papers of the topics, by arXiv id (unknown ids are simply not there)."""
        wanted = sorted({arxiv_id for t in topics for arxiv_id in t.examples})
        if not wanted:
            return {}
        papers = session.scalars(select(Paper).where(Paper.arxiv_id.in_(wanted)))
        return {p.arxiv_id: _candidate(p) for p in papers}

    @staticmethod
    def _shown_before(session: Session, month: Month, audience: int) -> set[str]:
        """arXiv ids of every paper in an earlier published digest of this audience: an audience's
        digest never repeats itself (another audience's picks may well be this one's)."""
        return set(
            session.scalars(
                select(Paper.arxiv_id)
                .join(DigestEntry, DigestEntry.paper_id == Paper.id)
                .join(Digest, Digest.id == DigestEntry.digest_id)
                .where(Digest.audience_id == audience, Digest.status == PUBLISHED, Digest.month < str(month))
            )
        )

    # ---------------------------------------------------------------- build

    def build(
        self, month: Month | str, *, audience: str | None = None, shared: MonthPapers | None = None
    ) -> DigestView:
        """Rank, summarise and store the audience's draft of the month (replacing an earlier draft)."""
        from .summarize import OfflineSummarizer, make_summarizer

        month = _as_month(month)
        # A summarizer made here holds an HTTP pool for this build only; an injected one is the caller's.
        owned = make_summarizer(self._settings) if self._summarizer is None else None
        summarizer: Summarizer = self._summarizer or owned or OfflineSummarizer()
        try:
            loaded = self._load(month, audience, summarizer.id, shared)
            summaries = dict(loaded.cached)
            for paper_id, text in loaded.texts.items():
                if paper_id not in summaries:
                    summaries[paper_id] = summarizer.summarize(text.title, text.abstract)
        finally:
            if owned is not None:
                owned.close()
        try:
            view = self._store_draft(month, audience, loaded, summaries)
        except IntegrityError:
            # Another process built the same month at the same moment and stored its draft row (or a
            # cached summary) first. Writing again updates those rows instead of inserting them.
            log.info("concurrent build of the %s draft; writing it again", month)
            view = self._store_draft(month, audience, loaded, summaries)
        log.info(
            "built the %s draft of %s: %d picks, %d others",
            month,
            view.audience,
            len(view.picks),
            len(view.others),
        )
        return view

    def _store_draft(
        self, month: Month, audience: str | None, loaded: _Loaded, summaries: dict[int, Summary]
    ) -> DigestView:
        """The write step of `build`: one unit of work that replaces the month's draft."""
        from .summarize import SummaryCache

        with self._uow_factory() as uow:
            session = uow.session
            digest = self._editable_digest(session, month, audience_id(session, audience))
            digest.title = digest_title(month)
            picks = loaded.selection.picks
            texts = [loaded.texts.get(_paper_id(p)) for p in picks]
            contexts = pick_contexts(
                [
                    (t.title, t.abstract, p.topic) if t else ("", "", p.topic)
                    for t, p in zip(texts, picks, strict=True)
                ],
                loaded.context,
            )
            why_context = {_paper_id(p): c for p, c in zip(picks, contexts, strict=True)}
            digest.intro = compose_intro(picks, loaded.total_papers, loaded.context, contexts)
            digest.topics_covered = list(dict.fromkeys(p.topic for p in loaded.selection.picks if p.topic))
            digest.created_at = self._clock()
            digest.entries.clear()
            session.flush()  # the old entries go before new ones take their positions
            sections = [("pick", p) for p in loaded.selection.picks]
            sections += [("other", p) for p in loaded.selection.others]
            for position, (section, scored) in enumerate(sections, start=1):
                paper_id = _paper_id(scored)
                summary = summaries.get(paper_id) if section == "pick" else None
                digest.entries.append(
                    DigestEntry(
                        paper_id=paper_id,
                        position=position,
                        section=section,
                        topic_name=scored.topic[:64] if scored.topic else None,
                        score=float(scored.score),
                        reason=scored.reason,
                        why=why_context[paper_id].why(summary.why) if summary else "",
                        insights=summary.insights if summary else "",
                    )
                )
            fresh = {pid: s for pid, s in summaries.items() if pid not in loaded.cached}
            SummaryCache(session).store(loaded.texts, fresh)
            session.flush()
            view = self._view(session, digest)
            uow.commit()
        return view

    def _load(
        self, month: Month, audience: str | None, summarizer_id: str, shared: MonthPapers | None
    ) -> _Loaded:
        from .summarize import PaperText, SummaryCache

        with self._uow_factory() as uow:
            session = uow.session
            scope = audience_id(session, audience)
            self._refuse_published(session, month, scope)
            selection, total = self._rank(session, month, scope, shared)
            ids = [_paper_id(p) for p in selection.picks]
            rows = session.execute(
                select(Paper.id, Paper.version, Paper.title, Paper.abstract).where(Paper.id.in_(ids))
            )
            texts = {row.id: PaperText(row.id, row.version, row.title, row.abstract) for row in rows}
            cached = SummaryCache(session).lookup(texts.values(), summarizer_id)
            context = load_context(
                session,
                month,
                self._topics(session, scope),
                total,
                scope,
                shared.shared_context(session) if shared is not None else None,
            )
            uow.commit()
        return _Loaded(selection, total, texts, cached, context)

    def _refuse_published(self, session: Session, month: Month, audience: int) -> None:
        _refuse_if_published(
            session.scalar(select(Digest).where(Digest.audience_id == audience, Digest.month == str(month))),
            month,
        )

    def _editable_digest(self, session: Session, month: Month, audience: int) -> Digest:
        """The month's draft, write-locked until the caller commits (a new one if there is none).

        The month may have been published while we summarised, so this checks again, and the check
        is a conditional UPDATE rather than a read: it takes the row's write lock and judges the
        status as of that lock (PostgreSQL re-reads a row a concurrent publish just committed;
        SQLite's writer lock is taken on the newest data). A plain read could see "draft", then a
        publish commit, then our rewrite of the frozen digest.
        """
        session.execute(
            update(Digest)
            .where(Digest.audience_id == audience, Digest.month == str(month), Digest.status != PUBLISHED)
            .values(created_at=self._clock())
            .execution_options(synchronize_session=False)
        )
        digest = session.scalar(
            select(Digest)
            .where(Digest.audience_id == audience, Digest.month == str(month))
            .options(selectinload(Digest.entries))
            .execution_options(populate_existing=True)
        )
        _refuse_if_published(digest, month)
        if digest is None:
            digest = Digest(audience_id=audience, month=str(month), status=DRAFT, title=digest_title(month))
            session.add(digest)
        return digest

    # ---------------------------------------------------------------- reading and publishing

    def get(self, month: Month | str, *, audience: str | None = None) -> DigestView:
        month = _as_month(month)
        with self._uow_factory() as uow:
            digest = self._find(uow.session, month, audience_id(uow.session, audience))
            view = self._view(uow.session, digest)
            uow.commit()
            return view

    def latest(self, *, audience: str | None = None) -> DigestView:
        """The audience's newest published digest, or its newest draft when none is published yet."""
        with self._uow_factory() as uow:
            session = uow.session
            mine = select(Digest).where(Digest.audience_id == audience_id(session, audience))
            digest = session.scalar(
                mine.where(Digest.status == PUBLISHED).order_by(Digest.month.desc()).limit(1)
            ) or session.scalar(mine.order_by(Digest.month.desc()).limit(1))
            if digest is None:
                raise NotFoundError("There is no digest yet. Build one with `trends digest --month YYYY-MM`.")
            view = self._view(session, digest)
            uow.commit()
            return view

    def mark_published(self, month: Month | str, *, audience: str | None = None) -> DigestView:
        """Freeze the month's digest. Publishing a published digest again changes nothing."""
        month = _as_month(month)
        with self._uow_factory() as uow:
            # Locked so that a build writing the draft right now finishes first (see _editable_digest).
            digest = self._find(uow.session, month, audience_id(uow.session, audience), lock=True)
            if digest.status != PUBLISHED:
                digest.status = PUBLISHED
                digest.published_at = self._clock()
                uow.session.flush()
                log.info("published the %s digest of %s", month, audience or DEFAULT_AUDIENCE)
            view = self._view(uow.session, digest)
            uow.commit()
        return view

    @staticmethod
    def _find(session: Session, month: Month, audience: int, *, lock: bool = False) -> Digest:
        query = select(Digest).where(Digest.audience_id == audience, Digest.month == str(month))
        digest = session.scalar(query.with_for_update() if lock else query)
        if digest is None:
            raise NotFoundError(
                f"There is no {month.label} digest yet. Build it with `trends digest --month {month}`."
            )
        return digest

    @staticmethod
    def _view(session: Session, digest: Digest) -> DigestView:
        return digest_view(session, digest)


def digest_view(session: Session, digest: Digest) -> DigestView:
    """The view of a stored digest with its entries (one query for entries and their papers)."""
    entries = session.scalars(
        select(DigestEntry)
        .where(DigestEntry.digest_id == digest.id)
        .options(selectinload(DigestEntry.paper))
        .order_by(DigestEntry.position)
    ).all()
    views = [_entry_view(e) for e in entries]
    month = Month.parse(digest.month)
    return DigestView(
        month=digest.month,
        month_label=month.label,
        title=digest.title,
        intro=digest.intro,
        status=digest.status,
        created_at=digest.created_at,
        published_at=digest.published_at,
        topics_covered=tuple(digest.topics_covered),
        picks=tuple(v for v in views if v.section == "pick"),
        others=tuple(v for v in views if v.section != "pick"),
        audience=session.get_one(Audience, digest.audience_id).name,
    )


def _refuse_if_published(digest: Digest | None, month: Month) -> None:
    if digest is not None and digest.status == PUBLISHED:
        when = digest.published_at.date().isoformat() if digest.published_at else "an earlier date"
        raise ConflictError(f"The {month.label} digest was published on {when} and can't be rebuilt.")


def _paper_id(scored: ScoredPaper) -> int:
    paper_id = scored.candidate.paper_id
    if paper_id is None:  # candidates come from the database, so this is a bug, not user error
        raise RuntimeError(f"ranked candidate {scored.candidate.arxiv_id} has no paper id")
    return paper_id


def _candidate(paper: Any, *, signals: Mapping[str, float] | None = None, votes: int = 0) -> Candidate:
    """A paper (ORM row or a column select with the same names) as the ranker sees it."""
    return Candidate(
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        abstract=paper.abstract,
        authors=tuple(paper.authors),
        categories=tuple(paper.categories),
        primary_category=paper.primary_category,
        submitted_at=paper.submitted_at,
        comment=paper.comment,
        journal_ref=paper.journal_ref,
        code_url=paper.code_url,
        project_url=paper.project_url,
        paper_id=paper.id,
        signals=signals or {},
        votes=votes,
    )


def paper_links(paper: Paper) -> Links:
    return Links(
        abstract=paper.abs_url,
        pdf=paper.pdf_url,
        code=paper.code_url or None,
        project=paper.project_url or None,
    )


def _entry_view(entry: DigestEntry) -> EntryView:
    paper = entry.paper
    return EntryView(
        position=entry.position,
        section=entry.section,
        paper_id=paper.id,
        arxiv_id=paper.arxiv_id,
        title=" ".join(paper.title.split()),
        authors=tuple(paper.authors),
        links=paper_links(paper),
        why=entry.why,
        insights=entry.insights,
        topic=entry.topic_name,
        reason=entry.reason,
        score=entry.score,
    )
