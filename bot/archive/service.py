"""`ArchiveService`: the one entry point chat adapters and the CLI use to ask the archive.

Every method is one read-only use case in its own unit of work and returns frozen views from
`bot.archive.views`. Free text never raises: odd input becomes an empty result with a message and
suggestions. Only things a user names explicitly (a month for an issue) raise `bot.errors` errors.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.archive import issues as issues_module
from bot.archive._months import parse_month
from bot.archive.query import ParsedQuery, parse_query
from bot.archive.search import search_archive
from bot.archive.trend import DEFAULT_MONTHS, DEFAULT_PERIOD, latest_month, render_trend_png, trend_view
from bot.archive.trending import DEFAULT_LIMIT, DEFAULT_LOOKBACK, emerging_terms
from bot.archive.views import IssueSummary, IssueView, SearchResult, TrendingView, TrendView
from bot.audiences import audience_id
from bot.bootstrap import Container
from bot.db.models import Topic
from bot.db.uow import UnitOfWork
from bot.errors import ValidationError
from bot.settings import Settings


class ArchiveService:
    """Search, trend lines, emerging terms and past issues over the paper archive."""

    def __init__(self, source: Container | sessionmaker[Session], settings: Settings | None = None) -> None:
        self.settings: Settings | None
        if isinstance(source, Container):
            self._session_factory = source.session_factory
            self.settings = settings or source.settings
        else:
            self._session_factory = source
            self.settings = settings
        # settings are kept for future knobs (time zone of month boundaries is UTC for now).

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._session_factory)

    @staticmethod
    def _topics(session: Session, audience: str | None) -> dict[str, list[str]]:
        """The enabled topics `topic:` can name: the asking audience's own (None: `default`).

        Every audience starts with the same topic names and edits its own: looking a name up across
        audiences would draw one team's trend with another team's phrases.
        """
        rows = session.execute(
            select(Topic.name, Topic.include_phrases).where(
                Topic.enabled.is_(True), Topic.audience_id == audience_id(session, audience)
            )
        )
        return {name: list(phrases or []) for name, phrases in rows}

    def parse(self, text: str, audience: str | None = None) -> ParsedQuery:
        """How `text` will be understood (for help messages and tests)."""
        with self._uow() as uow:
            return parse_query(text, self._topics(uow.session, audience))

    def search(
        self, text: str, page: int = 1, page_size: int = 5, audience: str | None = None
    ) -> SearchResult:
        """Featured papers first, then archive matches; see `bot.archive.search` for the ranking.
        `topic:` names a topic of `audience` (None: `default`)."""
        with self._uow() as uow:
            topics = self._topics(uow.session, audience)
            query = parse_query(text, topics)
            return search_archive(
                uow.session, query, page=page, page_size=page_size, topic_names=list(topics)
            )

    def trend(
        self,
        text: str,
        months: int = DEFAULT_MONTHS,
        end_month: str | None = None,
        period: int = DEFAULT_PERIOD,
        audience: str | None = None,
    ) -> TrendView:
        """Monthly counts of matching papers, ending at `end_month` or the latest month with data.
        `topic:` names a topic of `audience` (None: `default`)."""
        end = self._month_or_error(end_month) if end_month else None
        with self._uow() as uow:
            query = parse_query(text, self._topics(uow.session, audience))
            return trend_view(uow.session, query, months=months, end_month=end, period=period)

    def trend_chart(
        self,
        text: str,
        months: int = DEFAULT_MONTHS,
        end_month: str | None = None,
        audience: str | None = None,
    ) -> tuple[TrendView, bytes]:
        """The trend and its PNG chart (800×400); no chart (b"") when there is nothing to draw."""
        view = self.trend(text, months=months, end_month=end_month, audience=audience)
        return view, render_trend_png(view) if view.points else b""

    def trending(
        self, month: str | None = None, lookback: int = DEFAULT_LOOKBACK, limit: int = DEFAULT_LIMIT
    ) -> TrendingView:
        """Terms whose share of papers grew most in `month` (default: the latest month with data)."""
        wanted = self._month_or_error(month) if month else None
        with self._uow() as uow:
            target = wanted or latest_month(uow.session)
            if target is None:
                return TrendingView(
                    month="",
                    lookback=lookback,
                    papers=0,
                    previous_papers=0,
                    terms=(),
                    message="The archive is empty: harvest some papers first.",
                )
            return emerging_terms(uow.session, target, lookback=lookback, limit=limit)

    def list_issues(self, published_only: bool = False, audience: str | None = None) -> list[IssueSummary]:
        """Past digests, newest first: every audience's, or the named audience's only."""
        with self._uow() as uow:
            return issues_module.list_issues(uow.session, published_only=published_only, audience=audience)

    def issue(
        self, month_or_latest: str = "latest", published_only: bool = False, audience: str | None = None
    ) -> IssueView:
        """One digest of an audience (None: `default`); NotFoundError, listing the available months,
        for an unknown month."""
        with self._uow() as uow:
            return issues_module.issue_view(
                uow.session, month_or_latest, published_only=published_only, audience=audience
            )

    @staticmethod
    def _month_or_error(text: str) -> str:
        month = parse_month(text)
        if month is None:
            raise ValidationError(f"“{text[:20]}” is not a month; write it as YYYY-MM, e.g. 2026-10.")
        return month
