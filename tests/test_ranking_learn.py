"""Fitting the prior cues' coefficients: generic features only, relevance as the unit."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np
import pytest

from bot.ranking import Candidate, TopicSpec
from bot.ranking.embedding import EmbeddingMatrix, normalised
from bot.ranking.learn import fit_prior_coefficients, month_features, with_hand_set
from bot.ranking.priors import LEARNED_CUES

WHEN = dt.datetime(2025, 4, 10, tzinfo=dt.UTC)
TOPIC = TopicSpec(name="Agents", include=("agent",))


def month(prefix: str) -> list[Candidate]:
    """Forty papers; the labelled ones have large teams, the rest are small, all equally on topic."""
    papers = []
    for i in range(40):
        big = i % 8 == 0
        papers.append(
            Candidate(
                arxiv_id=f"{prefix}.{i:05d}",
                title=f"An agent study number {i}",
                abstract="We study an agent in a simple setting.",
                authors=tuple(f"A{j}" for j in range(30 if big else 2)),
                categories=("cs.LG",),
                primary_category="cs.LG",
                submitted_at=WHEN,
            )
        )
    return papers


def test_month_features_columns_and_labels() -> None:
    pool = month("2504")
    features = month_features([*pool, pool[0]], [TOPIC], {"2504.00000", "9999.99999"})
    assert features.matrix.shape == (40, 1 + len(LEARNED_CUES))  # the duplicate id counts once
    assert features.positive.sum() == 1
    assert np.all(features.matrix[:, 0] > 0)  # everyone matches the topic


def test_fit_learns_the_cue_that_separates_the_labels() -> None:
    months = []
    for prefix in ("2504", "2505"):
        pool = month(prefix)
        months.append(month_features(pool, [TOPIC], {c.arxiv_id for c in pool if len(c.authors) > 10}))
    coefficients = fit_prior_coefficients(months, c=1.0)
    assert set(coefficients) == set(LEARNED_CUES)
    assert coefficients["authors"] > 0
    assert coefficients["authors"] == max(coefficients.values())
    assert with_hand_set(coefficients, {"venue": 0.5, "authors": 9.0})["authors"] == coefficients["authors"]


def test_fit_without_positives_is_an_error() -> None:
    empty = month_features(month("2504"), [TOPIC], set())
    with pytest.raises(ValueError, match="no labelled positives"):
        fit_prior_coefficients([empty])


def test_hostile_text_in_features() -> None:
    pool = [
        dataclasses.replace(c, title="' OR 1=1; -- 🤖 " * 50, abstract="NEAR(" * 1000)
        for c in month("2504")[:5]
    ]
    features = month_features(pool, [TOPIC], set())
    assert np.isfinite(features.matrix).all()


def test_an_embedder_adds_an_embedding_column_whose_weight_is_fitted() -> None:
    def by_team_size(texts: Sequence[str], /) -> EmbeddingMatrix:
        # Fake: papers whose title says "large team" point one way, the rest (and topics) another.
        return normalised(np.array([[1.0, 0.0] if "large team" in t else [0.2, 1.0] for t in texts]))

    months = []
    for prefix in ("2504", "2505"):
        pool = [
            dataclasses.replace(c, title=f"{c.title} large team") if len(c.authors) > 10 else c
            for c in month(prefix)
        ]
        positives = {c.arxiv_id for c in pool if len(c.authors) > 10}
        months.append(month_features(pool, [TOPIC], positives, embedder=by_team_size))
    assert months[0].columns == ("embedding", *LEARNED_CUES)
    assert months[0].matrix.shape == (40, 2 + len(LEARNED_CUES))
    coefficients = fit_prior_coefficients(months, c=1.0)
    assert set(coefficients) == {"embedding", *LEARNED_CUES}
    with pytest.raises(ValueError, match="different feature columns"):
        fit_prior_coefficients([months[0], month_features(month("2506"), [TOPIC], {"2506.00000"})])
