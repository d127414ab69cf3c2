"""Past digest issues: the list of months, and one issue with its entries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.archive._featured import threads_for
from bot.archive._months import parse_month
from bot.archive.issue_list import PUBLISHED, issue_summaries
from bot.archive.views import IssueSummary, IssueView
from bot.audiences import DEFAULT_AUDIENCE, audience_id
from bot.db.models import Digest
from bot.db.session_reader import SessionReader
from bot.digest.service import digest_view
from bot.errors import NotFoundError

LATEST = "latest"


def list_issues(
    session: Session, *, published_only: bool = False, audience: str | None = None
) -> list[IssueSummary]:
    """Every digest (of one audience, when named), newest month first, with its number of picks."""
    scope = None if audience is None else audience_id(session, audience)
    return issue_summaries(SessionReader(session), audience=scope, published_only=published_only)


def _available(session: Session, published_only: bool, audience: str | None = None) -> str:
    months = [s.month for s in list_issues(session, published_only=published_only, audience=audience)]
    if not months:
        return "No digest has been " + ("published" if published_only else "composed") + " yet."
    shown = ", ".join(months[:12]) + (" …" if len(months) > 12 else "")
    return f"Available: {shown}."


def issue_view(
    session: Session, month_or_latest: str, *, published_only: bool = False, audience: str | None = None
) -> IssueView:
    """One digest of an audience (None: `default`) by month ("2026-10") or "latest" (newest
    published, else newest draft)."""
    wanted = (month_or_latest or "").strip()[:20]
    audience = audience or DEFAULT_AUDIENCE
    statement = select(Digest).where(Digest.audience_id == audience_id(session, audience))
    if published_only:
        statement = statement.where(Digest.status == PUBLISHED)
    if wanted.casefold() in (LATEST, ""):
        digest = session.scalars(
            statement.order_by((Digest.status == PUBLISHED).desc(), Digest.month.desc()).limit(1)
        ).first()
        if digest is None:
            raise NotFoundError(_available(session, published_only, audience))
    else:
        month = parse_month(wanted)
        if month is None:
            raise NotFoundError(
                f"“{wanted}” is not a month; write it as YYYY-MM (e.g. 2026-10) or say latest. "
                + _available(session, published_only, audience)
            )
        digest = session.scalars(statement.where(Digest.month == month)).first()
        if digest is None:
            raise NotFoundError(
                f"There is no digest for {month}. " + _available(session, published_only, audience)
            )
    threads = threads_for(session, [digest.id]).get((digest.id, None), ())
    view = digest_view(session, digest)
    return IssueView(digest=view, threads=threads)
