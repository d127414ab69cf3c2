"""The list of digests (`trends issues`, `/trends issues`), read with plain SQL (`bot.db.reader`).

`bot.archive.issues.list_issues` reads through it inside the archive's unit of work; `trends issues`
reads through it straight from the driver (`bot.db.dbapi`). One query, both paths.
"""

from __future__ import annotations

from bot.audience_lookup import audience_id_if_exists
from bot.db.reader import SqlReader, as_datetime

from .views import IssueSummary

PUBLISHED = "published"

# A digest's number of picks, for a query whose digests are aliased `d`.
PICKS_OF_D = "(SELECT count(*) FROM digest_entries e WHERE e.digest_id = d.id AND e.section = 'pick')"

_ISSUES = f"SELECT d.month, d.title, d.status, d.published_at, {PICKS_OF_D} FROM digests d"


def issue_summaries(
    reader: SqlReader, *, audience: int | None = None, published_only: bool = False
) -> list[IssueSummary]:
    """Every digest (of one audience, when given), newest month first, with its number of picks."""
    conditions, params = [], {}
    if audience is not None:
        conditions.append("d.audience_id = :audience")
        params["audience"] = audience
    if published_only:
        conditions.append(f"d.status = '{PUBLISHED}'")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = reader.rows(f"{_ISSUES}{where} ORDER BY d.month DESC, d.id", params)
    return [
        IssueSummary(
            month=str(month),
            title=str(title),
            status=str(status),
            picks=int(picks),
            published_at=as_datetime(published_at),
        )
        for month, title, status, published_at, picks in rows
    ]


def issues_if_known(reader: SqlReader, audience: str | None) -> list[IssueSummary] | None:
    """Every audience's digests, or the named audience's; None for an unknown name (the archive
    service explains it, listing the audiences there are)."""
    if audience is None:
        return issue_summaries(reader)
    scope = audience_id_if_exists(reader, audience)
    return None if scope is None else issue_summaries(reader, audience=scope)
