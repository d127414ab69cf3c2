"""Learning per audience: an audience's 👍/👎 and topic examples train its own model, and only its own.

Two audiences vote on the same month: vision likes robot papers, nlp likes diffusion papers. After
`refit_all` (the daily job's last step) each has a model fitted on its own votes, stored in
`audience_models`; nlp's votes never change vision's model; an audience with fewer than
`MIN_LIKED` 👍 has none and `trends rank --explain` says why; the digest ranking adds the model as
"team votes" for its audience only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.audience_models import MAX_WORDS, MIN_LIKED, refit_all
from bot.audiences import AudienceService
from bot.bootstrap import Container, build
from bot.db.models import Audience, AudienceModel, Paper, Vote
from bot.digest.service import DigestService
from bot.ranking import explain
from bot.ranking.rank import TEAM
from bot.settings import load_settings
from tests.factories import make_paper

FITTED = dt.datetime(2026, 11, 2, 6, tzinfo=dt.UTC)


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    built = build(load_settings(database_url=db_url))
    yield built
    built.close()


def robot(i: int) -> Paper:
    return make_paper(
        f"2610.{i:05d}", f"Robot grasping with tactile hands {i}", "A robot arm learns dexterous grasping."
    )


def diffusion(i: int) -> Paper:
    return make_paper(
        f"2610.{100 + i:05d}", f"Diffusion models for image synthesis {i}", "Denoising diffusion for images."
    )


def other(i: int) -> Paper:
    return make_paper(f"2610.{200 + i:05d}", f"Sparse attention kernels {i}", "Faster transformer kernels.")


def vote(audience: int, paper: Paper, value: int, user: str = "U1") -> Vote:
    return Vote(
        audience_id=audience,
        platform="slack",
        workspace_id="T1",
        user_id=user,
        paper_id=paper.id,
        value=value,
    )


@pytest.fixture
def month(container: Container) -> dict[str, int]:
    service = AudienceService(container.uow, container.settings)
    service.create("vision", actor="test")
    service.create("nlp", actor="test")
    with container.uow() as uow:
        robots = [robot(i) for i in range(8)]
        diffusions = [diffusion(i) for i in range(8)]
        uow.session.add_all([*robots, *diffusions, *(other(i) for i in range(30))])
        uow.session.flush()
        ids = {row.name: row.id for row in uow.session.execute(select(Audience.name, Audience.id))}
        vision, nlp = ids["vision"], ids["nlp"]
        # vision: 5 👍 on robots, 2 👎 on diffusion; nlp: 3 👍 on diffusion and one on a robot (4 in all).
        uow.session.add_all(vote(vision, p, 1) for p in robots[:MIN_LIKED])
        uow.session.add_all(vote(vision, p, -1) for p in diffusions[:2])
        uow.session.add_all(vote(nlp, p, 1) for p in diffusions[: MIN_LIKED - 2])
        uow.session.add(vote(nlp, robots[0], 1, user="U2"))
        uow.commit()
    return ids


def stored(container: Container, audience: int) -> AudienceModel | None:
    with container.uow() as uow:
        row = uow.session.get(AudienceModel, audience)
        if row is not None:
            uow.session.expunge(row)
        return row


def test_each_audience_learns_from_its_own_votes_only(container: Container, month: dict[str, int]) -> None:
    vision, nlp = month["vision"], month["nlp"]
    digests = DigestService(container.uow, container.settings)
    before = digests.rank("2026-10", audience="vision")
    assert any("not used yet" in note for note in before.notes)  # enough 👍, not refitted yet
    assert all(TEAM not in p.contributions for p in before.ranked)

    reports = {r.audience: r for r in refit_all(container.uow, clock=lambda: FITTED)}
    assert reports["vision"].liked == MIN_LIKED
    assert reports["vision"].disliked == 2
    assert reports["vision"].words > 0
    assert reports["nlp"].liked == MIN_LIKED - 1
    assert reports["nlp"].words == 0
    model = stored(container, vision)
    assert model is not None
    assert model.fitted_at == FITTED
    assert 0 < len(model.words) <= MAX_WORDS
    assert model.words["robot"] > 0
    assert model.words["diffusion"] < 0

    # nlp's 👍 reach the threshold: nlp gets a model of its own, and vision's does not change.
    with container.uow() as uow:
        paper = uow.session.scalars(select(Paper).where(Paper.arxiv_id == "2610.00107")).one()
        uow.session.add(vote(nlp, paper, 1))
        uow.commit()
    refit_all(container.uow, clock=lambda: FITTED)
    again = stored(container, vision)
    assert again is not None
    assert again.words == model.words
    nlp_model = stored(container, nlp)
    assert nlp_model is not None
    assert nlp_model.words["diffusion"] > 0
    assert nlp_model.words != model.words

    ranked = digests.rank("2026-10", audience="vision")
    assert any("model is used" in note and f"{MIN_LIKED} 👍" in note for note in ranked.notes)
    by_id = {p.candidate.arxiv_id: p for p in ranked.ranked}
    assert by_id["2610.00007"].contributions[TEAM] > by_id["2610.00107"].contributions[TEAM]
    assert "team votes" in explain(by_id["2610.00007"])
    # The default audience voted nothing: no model, and it says so.
    plain = digests.rank("2026-10")
    assert all(TEAM not in p.contributions for p in plain.ranked)
    assert any("has 0 👍" in note for note in plain.notes)


def test_too_few_votes_store_no_model_and_explain_says_so(
    container: Container, month: dict[str, int]
) -> None:
    vision, nlp = month["vision"], month["nlp"]
    refit_all(container.uow, clock=lambda: FITTED)
    assert stored(container, nlp) is None
    notes = DigestService(container.uow, container.settings).rank("2026-10", audience="nlp").notes
    assert f"has {MIN_LIKED - 1} 👍 paper(s); its model needs at least {MIN_LIKED}" in " ".join(notes)
    # A 👍 withdrawn below the threshold: the next refit removes vision's model too.
    assert stored(container, vision) is not None
    with container.uow() as uow:
        withdrawn = uow.session.scalars(
            select(Vote).where(Vote.audience_id == vision, Vote.value > 0).order_by(Vote.id).limit(1)
        ).one()
        uow.session.delete(withdrawn)
        uow.commit()
    refit_all(container.uow, clock=lambda: FITTED)
    assert stored(container, vision) is None
    ranked = DigestService(container.uow, container.settings).rank("2026-10", audience="vision")
    assert all(TEAM not in p.contributions for p in ranked.ranked)
