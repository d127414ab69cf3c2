"""Ranking many audiences over one month shares the month's features, and changes nothing.

`prepare_month` computes what does not depend on topics once (the tokenised corpus, prior cues, the
learned model's other inputs, momentum); each audience's `rank_month(…, features=…)` appends its own
topic texts and example papers with `extend_corpus`. The extended corpus must equal the one built
from scratch field for field, and every audience's picks and scores must equal an unshared ranking's,
including audiences with different votes and example papers from outside the month. The month
context shared by the digests (`editorial.MonthTexts`) counts topics as the per-audience count does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest
from scipy import sparse

from bot.digest.editorial import MonthTexts, count_topics, count_topics_in
from bot.ranking import DEFAULT_TOPICS, Candidate, TopicSpec, rank_month
from bot.ranking.corpus import Corpus, build_corpus, extend_corpus
from bot.ranking.evaluation import load_pool
from bot.ranking.rank import prepare_month
from bot.ranking.team import TeamModel
from bot.ranking.types import Selection
from bot.settings import RankingWeights
from tests.bench_data import bench_file
from tests.paper_corpus import generate_papers, hostile_papers, write_pool

WEIGHTS = RankingWeights()


@pytest.fixture(scope="module", params=["generated", "real-month"])
def sample(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[Candidate]:
    if request.param == "real-month":
        return load_pool(bench_file("pool-2025-04.jsonl.gz"))[:400]
    hostile = [group[0] for group in hostile_papers().values()]
    path = write_pool(tmp_path_factory.mktemp("pool") / "pool.jsonl.gz", generate_papers(300) + hostile)
    return load_pool(path)


def assert_same_corpus(actual: Corpus, expected: Corpus) -> None:
    assert actual.n_docs == expected.n_docs
    assert list(actual.vocabulary.items()) == list(expected.vocabulary.items())
    for name in ("tokens", "doc_start", "title_end", "lengths", "word_start", "positions"):
        assert np.array_equal(getattr(actual, name), getattr(expected, name)), name
    for name in ("counts", "title_counts", "counts_by_word"):
        got, want = getattr(actual, name), getattr(expected, name)
        assert type(got) is type(want), name
        assert got.shape == want.shape, name
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(got, part), getattr(want, part)), (name, part)


EXTRA_TITLES = ["Agents: tool use", "", "\x00 odd \x01 separators", "Brand-new zyxwords here", "agents"]
EXTRA_ABSTRACTS = ["planning with agents", "only an abstract", "", "qqqq zyxwords", "policies"]


@pytest.mark.parametrize("extra", range(len(EXTRA_TITLES) + 1))
def test_extended_corpus_equals_one_built_from_scratch(sample: list[Candidate], extra: int) -> None:
    titles, abstracts = [c.title for c in sample], [c.abstract for c in sample]
    extended = extend_corpus(build_corpus(titles, abstracts), EXTRA_TITLES[:extra], EXTRA_ABSTRACTS[:extra])
    assert_same_corpus(
        extended, build_corpus([*titles, *EXTRA_TITLES[:extra]], [*abstracts, *EXTRA_ABSTRACTS[:extra]])
    )
    assert extended.n_docs == len(sample) + extra


def test_extending_a_corpus_without_words() -> None:
    base = build_corpus(["", "!?"], ["", "—"])
    assert_same_corpus(
        extend_corpus(base, EXTRA_TITLES, EXTRA_ABSTRACTS),
        build_corpus(["", "!?", *EXTRA_TITLES], ["", "—", *EXTRA_ABSTRACTS]),
    )


def assert_same_selection(shared: Selection, alone: Selection) -> None:
    assert [p.candidate.arxiv_id for p in shared.picks] == [p.candidate.arxiv_id for p in alone.picks]
    assert [p.candidate.arxiv_id for p in shared.others] == [p.candidate.arxiv_id for p in alone.others]
    assert shared.picks == alone.picks  # scores, components, contributions, reasons
    assert shared.others == alone.others
    assert [p.score for p in shared.ranked] == [p.score for p in alone.ranked]
    assert [p.candidate.arxiv_id for p in shared.ranked] == [p.candidate.arxiv_id for p in alone.ranked]


def audiences(sample: Sequence[Candidate]) -> list[tuple[list[TopicSpec], dict[str, Candidate], int]]:
    """(topics, examples outside the month, vote stride) per audience: three different teams."""
    outside = {
        arxiv_id: dataclasses.replace(sample[0], arxiv_id=arxiv_id, title=title, abstract=abstract)
        for arxiv_id, title, abstract in (
            ("2401.00001", "Robots grasping", "robot hands"),
            ("2401.00002", "Agents with tools", "tool use"),
        )
    }
    with_examples = [
        dataclasses.replace(DEFAULT_TOPICS[0], examples=(sample[3].arxiv_id, "2401.00002", "9999.99999")),
        DEFAULT_TOPICS[1],
    ]
    return [
        (list(DEFAULT_TOPICS[:3]), {}, 0),
        (with_examples, outside, 7),
        (list(DEFAULT_TOPICS[3:6]), {}, 3),
    ]


@pytest.mark.parametrize("model", ["shipped", None])
def test_rankings_with_shared_features_equal_rankings_without(
    sample: list[Candidate], model: str | None
) -> None:
    features = prepare_month(sample)
    team = TeamModel(words={"agent": 0.5, "robot": -0.3}, liked=5)
    for topics, examples, stride in audiences(sample):
        # Each audience's candidates carry its own net votes; the features know none of them.
        month = [
            dataclasses.replace(c, votes=(i % stride) - 2) if stride else c for i, c in enumerate(sample)
        ]
        kwargs = {"weights": WEIGHTS, "examples": examples, "model": model, "team": team if stride else None}
        shared = rank_month(month, topics, features=features, **kwargs)  # type: ignore[arg-type]
        alone = rank_month(month, topics, **kwargs)  # type: ignore[arg-type]
        assert len(shared.picks) == 10
        assert_same_selection(shared, alone)


def test_features_of_other_papers_are_refused(sample: list[Candidate]) -> None:
    features = prepare_month(sample[:-1])
    with pytest.raises(ValueError, match="other papers"):
        rank_month(sample, DEFAULT_TOPICS[:2], weights=WEIGHTS, features=features)


def test_topic_counts_over_shared_texts_equal_the_direct_count(sample: list[Candidate]) -> None:
    texts = [f"{c.title} {c.abstract}" for c in sample]
    shared = MonthTexts.of(texts)
    odd = TopicSpec(name="odd", include=("", "agents", "tool use"), exclude=("survey",))
    for topics in ([*DEFAULT_TOPICS], [odd], []):
        counts = count_topics_in(shared, topics)
        assert counts == count_topics(texts, topics)
    assert sum(count_topics_in(shared, DEFAULT_TOPICS).values()) > 0


def test_sparse_helpers_are_canonical(sample: list[Candidate]) -> None:
    extended = extend_corpus(
        build_corpus([c.title for c in sample], [c.abstract for c in sample]), ["x"], ["y"]
    )
    assert isinstance(extended.counts, sparse.csr_matrix)
    assert extended.counts.has_sorted_indices
    assert isinstance(extended.title_counts, sparse.csc_matrix)
