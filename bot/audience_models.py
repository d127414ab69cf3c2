"""Learning per audience: each audience's 👍/👎 votes and its topics' example papers train its own text
model (`bot.ranking.team.fit_team_model`), stored in `audience_models` and used by its digest ranking.

`refit_all` is the scheduler's step after the daily harvest (leader only): for every audience, the
papers its channels voted on (net 👍 > 0 liked, net 👎 < 0 disliked; votes carry the audience of the
channel, so one audience's votes never reach another's model), its enabled topics' stored example
papers (liked too), and a background of the newest papers nobody in it voted on are fitted into word
weights. Below `MIN_LIKED` 👍 papers no model is stored (an old one is deleted): a handful of votes
teaches noise. The weights are bounded to the `MAX_WORDS` largest, so a row stays a few tens of KB.

`team_model` reads what the ranking uses; `status_note` says in `trends rank --explain` whether the
audience's votes count, and why not.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.db.models import Audience, AudienceModel, Paper, Topic, Vote, utcnow
from bot.db.uow import UnitOfWork
from bot.ranking.types import Candidate

if TYPE_CHECKING:
    from bot.ranking.team import TeamModel

log = logging.getLogger(__name__)

MIN_LIKED = 5  # papers with a net 👍 of the audience before its model is fitted and used
MAX_WORDS = 2_000  # word weights kept per audience (the largest in magnitude)
BACKGROUND = 2_000  # newest papers nobody in the audience voted on: the negatives beside its 👎


@dataclass(frozen=True, slots=True)
class ModelReport:
    """What one audience's refit did."""

    audience: str
    liked: int
    disliked: int
    examples: int
    words: int  # 0: no model stored (too few 👍, or nothing to learn from)


def _votes(session: Session, audience: int) -> tuple[list[int], list[int]]:
    """Paper ids with a net 👍 and with a net 👎 of this audience's channels, in id order."""
    net = session.execute(
        select(Vote.paper_id, func.sum(Vote.value))
        .where(Vote.audience_id == audience)
        .group_by(Vote.paper_id)
        .order_by(Vote.paper_id)
    ).all()
    return [p for p, total in net if (total or 0) > 0], [p for p, total in net if (total or 0) < 0]


def _papers(session: Session, where: ColumnElement[bool], limit: int | None = None) -> list[Candidate]:
    query = (
        select(Paper.arxiv_id, Paper.title, Paper.abstract, Paper.submitted_at)
        .where(where)
        .order_by(Paper.submitted_at.desc(), Paper.arxiv_id)
    )
    rows = session.execute(query.limit(limit) if limit is not None else query)
    return [
        Candidate(
            arxiv_id=row.arxiv_id,
            title=row.title,
            abstract=row.abstract,
            authors=(),
            categories=(),
            primary_category="",
            submitted_at=row.submitted_at,
        )
        for row in rows
    ]


def fit_audience(session: Session, audience: int, now: dt.datetime) -> ModelReport:
    """Refit one audience's model in the caller's unit of work (which commits it)."""
    from bot.ranking.team import fit_team_model

    name = session.get_one(Audience, audience).name
    liked_ids, disliked_ids = _votes(session, audience)
    example_ids = sorted(
        {
            arxiv_id
            for ids in session.scalars(
                select(Topic.example_ids).where(Topic.audience_id == audience, Topic.enabled.is_(True))
            )
            for arxiv_id in ids
        }
    )
    examples = _papers(session, Paper.arxiv_id.in_(example_ids)) if example_ids else []
    model = None
    if len(liked_ids) >= MIN_LIKED:
        liked = _papers(session, Paper.id.in_(liked_ids))
        disliked = _papers(session, Paper.id.in_(disliked_ids)) if disliked_ids else []
        voted = {*liked_ids, *disliked_ids}
        background = _papers(session, Paper.id.not_in(voted), BACKGROUND + len(examples))
        model = fit_team_model([*liked, *examples], disliked, background)
    session.execute(delete(AudienceModel).where(AudienceModel.audience_id == audience))
    kept = _bounded(model.words) if model is not None else {}
    if kept:
        session.add(
            AudienceModel(
                audience_id=audience,
                words=kept,
                liked_votes=len(liked_ids),
                disliked_votes=len(disliked_ids),
                examples=len(examples),
                fitted_at=now,
            )
        )
    session.flush()
    return ModelReport(name, len(liked_ids), len(disliked_ids), len(examples), len(kept))


def _bounded(words: Mapping[str, float]) -> dict[str, float]:
    """The `MAX_WORDS` largest weights (ties by word, so the cut is deterministic)."""
    largest = sorted(words.items(), key=lambda item: (-abs(item[1]), item[0]))[:MAX_WORDS]
    return {word: float(weight) for word, weight in sorted(largest)}


def refit_all(
    uow_factory: Callable[[], UnitOfWork], *, clock: Callable[[], dt.datetime] = utcnow
) -> list[ModelReport]:
    """Refit every audience's model, one unit of work each (one failing leaves the others done)."""
    with uow_factory() as uow:
        audiences = list(uow.session.scalars(select(Audience.id).order_by(Audience.id)))
        uow.commit()
    reports = []
    for audience in audiences:
        with uow_factory() as uow:
            report = fit_audience(uow.session, audience, clock())
            uow.commit()
        log.info(
            "audience model refitted",
            extra={
                "audience": report.audience,
                "liked": report.liked,
                "disliked": report.disliked,
                "examples": report.examples,
                "words": report.words,
            },
        )
        reports.append(report)
    return reports


def team_model(session: Session, audience: int) -> tuple[TeamModel | None, str]:
    """The audience's stored model for its ranking (None when it has none to use), and the note
    `trends rank --explain` shows about it."""
    from bot.ranking.team import TeamModel

    row = session.get(AudienceModel, audience)
    if row is not None and row.liked_votes >= MIN_LIKED and row.words:
        note = (
            f"team votes: this audience's model is used (fitted {row.fitted_at:%Y-%m-%d} on "
            f"{row.liked_votes} 👍, {row.disliked_votes} 👎 and {row.examples} topic examples)"
        )
        words = {str(w): float(c) for w, c in row.words.items()}
        return TeamModel(words=words, liked=row.liked_votes + row.examples), note
    liked, _disliked = _votes(session, audience)
    if len(liked) < MIN_LIKED:
        return None, (
            f"team votes: not used — this audience has {len(liked)} 👍 paper(s); its model needs "
            f"at least {MIN_LIKED}"
        )
    return None, "team votes: not used yet — the model is refitted after the next daily harvest"


def describe(reports: Sequence[ModelReport]) -> str:
    """One line per audience, for logs and the CLI."""
    return "\n".join(
        f"{r.audience}: {r.words} words from {r.liked} 👍, {r.disliked} 👎, {r.examples} examples"
        if r.words
        else f"{r.audience}: no model ({r.liked} 👍, needs {MIN_LIKED})"
        for r in reports
    )
