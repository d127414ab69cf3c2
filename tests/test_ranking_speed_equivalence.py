"""The fast paths of the ranker give exactly what the straightforward code they replaced gives.

`build_corpus` numbers tokens with numpy passes instead of a dict lookup per token, builds the counts
and an inverted index from one counting sort, and `rank_month` builds `ScoredPaper`s lazily. Each is
checked here against the plain version (kept in this file as the reference) on team-written papers
(`tests.paper_corpus`: LaTeX, HTML, emoji, other scripts), on 200 papers of a real month when the
labelled data is at hand (`tests.bench_data`), and on text chosen to hit the edge cases: 8/16-byte
word boundaries, long words, non-ASCII, our separator characters in the papers' own text, and hash
collisions forced with tiny tables. Speed itself is measured by bench/rank_month.py, not here.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Sequence
from itertools import count

import numpy as np
import pytest
from scipy import sparse

from bot.ranking import DEFAULT_TOPICS, Candidate, TopicSpec, rank_month
from bot.ranking.corpus import SEPARATOR, Corpus, _count_matrix, _number_tokens, _split, build_corpus
from bot.ranking.evaluation import load_pool
from bot.ranking.model import load_model
from bot.ranking.rank import _NON_WORD, _near_duplicate, score_papers
from bot.ranking.types import Ranking, ScoredPaper
from bot.settings import RankingWeights
from tests.bench_data import bench_file
from tests.paper_corpus import generate_papers, hostile_papers, write_pool

WEIGHTS = RankingWeights()


@pytest.fixture(scope="module", params=["generated", "real-month"])
def sample(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[Candidate]:
    """300 generated papers (through a pool file and the pool loader), or 200 of a real month."""
    if request.param == "real-month":
        return load_pool(bench_file("pool-2025-04.jsonl.gz"))[:200]
    hostile = [group[0] for group in hostile_papers().values()]
    path = write_pool(tmp_path_factory.mktemp("pool") / "pool.jsonl.gz", generate_papers(300) + hostile)
    return load_pool(path)


def reference_numbering(data: bytes) -> tuple[list[int], list[bytes]]:
    """What `build_corpus` did before: a dict numbering each new token as it is first seen."""
    ids: defaultdict[bytes, int] = defaultdict(count(2).__next__, {b"\x00": 0, b"\x01": 1})
    return [ids[token] for token in _split(data)], list(ids)


def edge_case_texts() -> list[bytes]:
    rng = random.Random(7)
    letters = "abcdefgh01é深"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 20))) for _ in range(40)]
    words += ["12345678", "123456789", "1234567890123456", "12345678901234567", "x" * 200]
    words += ["psycholinguistic", "psycholinguistics", "\x00", "\x01", "--", "A", "\n"]
    texts = [
        b"",
        b" ",
        b"a",
        b"\x00",
        b"\x01 \x00 \x01",
        b" " * 16,
        b" a" + b" " * 16,  # already framed as build_corpus frames its text
        b"a" + b" " * 15,
        "Ünïcödé naïve café 深度学习 agents".encode(),
    ]
    for _ in range(60):
        texts.append(" ".join(rng.choice(words) for _ in range(rng.randint(0, 200))).encode())
    return texts


@pytest.mark.parametrize("table_bits", [1, 3, 22])
def test_token_numbering_equals_a_dict_even_when_every_word_collides(table_bits: int) -> None:
    for data in edge_case_texts():
        ids, distinct = _number_tokens(data, table_bits=table_bits)
        expected_ids, expected_words = reference_numbering(data)
        assert ids.dtype == np.int32
        assert ids.tolist() == expected_ids, data[:60]
        assert distinct == expected_words, data[:60]


def test_token_numbering_on_papers(sample: list[Candidate]) -> None:
    data = " \x01 ".join(f"{c.title} \x00 {c.abstract}" for c in sample).encode()
    ids, distinct = _number_tokens(data)
    expected_ids, expected_words = reference_numbering(data)
    assert ids.tolist() == expected_ids
    assert distinct == expected_words


def assert_same_sparse(actual: sparse.spmatrix, expected: sparse.spmatrix) -> None:
    assert type(actual) is type(expected)
    assert actual.shape == expected.shape
    for name in ("indptr", "indices", "data"):
        got, want = getattr(actual, name), getattr(expected, name)
        assert got.dtype == want.dtype, name
        assert np.array_equal(got, want), name


def assert_matches_reference(corpus: Corpus, phrases: Sequence[str]) -> None:
    """The counts, the inverted index and phrase counts equal their plain constructions."""
    tokens = corpus.tokens
    doc_sizes = np.diff(np.append(corpus.doc_start, len(tokens))) - 2  # minus the two separators
    counts = _count_matrix(doc_sizes, tokens[tokens != SEPARATOR], max(len(corpus.vocabulary), 1))
    assert_same_sparse(corpus.counts, counts)
    assert_same_sparse(corpus.counts_by_word, counts.tocsc())
    for word in range(len(corpus.vocabulary)):
        assert np.array_equal(corpus._starts(word), np.flatnonzero(tokens == word))
    by_column = counts.tocsc()
    for phrase in [*phrases, *list(corpus.vocabulary)[:50]]:
        anywhere, title = corpus.phrase_counts(phrase)
        ids = corpus.phrase_ids(phrase)
        if ids is not None and len(ids) == 1:
            assert np.array_equal(anywhere, by_column[:, ids[0]].toarray().ravel())
            assert np.array_equal(title, corpus.title_counts[:, ids[0]].toarray().ravel())
        elif ids is not None:
            # Consecutive words, found by comparing shifted copies of the whole token array.
            n_starts = max(len(tokens) - len(ids) + 1, 0)
            match = np.ones(n_starts, dtype=bool)
            for offset, word in enumerate(ids):
                match &= tokens[offset : offset + n_starts] == word
            starts = np.flatnonzero(match)
            doc = np.searchsorted(corpus.doc_start, starts, side="right") - 1
            in_title = starts < corpus.title_end[doc]
            assert np.array_equal(anywhere, np.bincount(doc, minlength=corpus.n_docs))
            assert np.array_equal(title, np.bincount(doc[in_title], minlength=corpus.n_docs))


def test_corpus_of_papers_matches_the_plain_construction(sample: list[Candidate]) -> None:
    corpus = build_corpus([c.title for c in sample], [c.abstract for c in sample])
    phrases = [p for topic in DEFAULT_TOPICS for p in (*topic.include, *topic.exclude)]
    assert_matches_reference(corpus, phrases)


@pytest.mark.parametrize(
    ("titles", "abstracts"),
    [
        ([], []),
        ([""], [""]),
        (["", "a"], ["", ""]),
        (["same same same"], ["same"]),
        (["x\x00y", "\x01 tool-use"], ["ab\x00\x01 cd", "Ünïcödé — agents \ud800 tool use"]),
    ],
)
def test_corpus_edge_cases_match_the_plain_construction(titles: list[str], abstracts: list[str]) -> None:
    corpus = build_corpus(titles, abstracts)
    assert_matches_reference(corpus, ["tool use", "agent", "same same", "x y"])


def test_separator_characters_in_papers_are_blanked() -> None:
    corpus = build_corpus(["x\x00y"], ["a\x01b"])
    assert set(corpus.vocabulary) == {"x", "y", "a", "b"}
    assert corpus.lengths.tolist() == [4.0]


# --- the lazy ranking ----------------------------------------------------------------------------


def test_ranking_reads_like_a_list_and_builds_each_paper_once() -> None:
    built: list[int] = []
    papers = {i: object() for i in range(5)}

    def build(row: int) -> ScoredPaper:
        built.append(row)
        return papers[row]  # type: ignore[return-value]

    ranking = Ranking([3, 1, 4, 0, 2], build)
    assert len(ranking) == 5
    assert built == []
    assert ranking[0] is papers[3]
    assert ranking[-1] is papers[2]
    assert ranking[1:3] == [papers[1], papers[4]]
    assert ranking[::-2] == [papers[2], papers[4], papers[3]]
    assert list(ranking) == [papers[r] for r in (3, 1, 4, 0, 2)]
    assert sorted(built) == [0, 1, 2, 3, 4]  # each built once, however often read
    assert ranking == [papers[r] for r in (3, 1, 4, 0, 2)]
    assert ranking != [papers[3]]
    assert papers[0] in ranking
    assert ranking.index(papers[0]) == 3
    with pytest.raises(IndexError):
        ranking[5]
    assert Ranking([], build) == []


def test_rank_month_ranked_equals_building_every_paper_eagerly(sample: list[Candidate]) -> None:
    topics = [dataclasses.replace(t, weight=1.0 + k / 10) for k, t in enumerate(DEFAULT_TOPICS)]
    selection = rank_month(sample, topics, weights=WEIGHTS, size=8, others=4, max_per_topic=2)
    scored = score_papers(sample, topics, weights=WEIGHTS, examples={}, model=load_model())
    order = sorted(range(len(sample)), key=lambda i: (-scored.totals[i], sample[i].arxiv_id))
    eager = [scored.paper(i) for i in order]
    assert list(selection.ranked) == eager
    ranked_ids = [id(p) for p in selection.ranked]
    # Picks are the ranking's own objects, in ranking order, within the per-topic cap.
    assert all(id(p) in ranked_ids for p in (*selection.picks, *selection.others))
    positions = [ranked_ids.index(id(p)) for p in selection.picks]
    assert positions == sorted(positions)
    assert len(selection.picks) == 8
    topic_counts = [p.topic for p in selection.picks]
    assert all(topic_counts.count(t) <= 2 for t in topic_counts if t is not None)


def eager_selection(
    month: Sequence[Candidate], topics: Sequence[TopicSpec], exclude: set[str], size: int, others: int
) -> tuple[list[str], list[str]]:
    """The selection walk as it was: over a list of every paper's ScoredPaper."""
    scored = score_papers(month, topics, weights=WEIGHTS, examples={}, model=load_model())
    order = sorted(range(len(month)), key=lambda i: (-scored.totals[i], month[i].arxiv_id))
    ranked = [scored.paper(i) for i in order]
    chosen_rows: list[int] = []
    chosen_titles: set[str] = set()
    taken: set[int] = set()

    def take(limit: int) -> list[str]:
        per_topic: dict[str | None, int] = {}
        picked: list[str] = []
        for on_topic in (True, False):  # papers of the topics first, then the rest fills
            walk(limit, per_topic, picked, on_topic)
        return picked

    def walk(limit: int, per_topic: dict[str | None, int], picked: list[str], on_topic: bool) -> None:
        for position, i in enumerate(order):
            if len(picked) >= limit:
                break
            paper = ranked[position]
            if i in taken or paper.candidate.arxiv_id in exclude:
                continue
            if on_topic and paper.topic is None:
                continue
            if paper.topic is not None and per_topic.get(paper.topic, 0) >= 3:
                continue
            title_key = _NON_WORD.sub(" ", paper.candidate.title.casefold()).strip()
            if title_key in chosen_titles or _near_duplicate(scored.features, i, chosen_rows):
                taken.add(i)
                continue
            taken.add(i)
            chosen_rows.append(i)
            chosen_titles.add(title_key)
            per_topic[paper.topic] = per_topic.get(paper.topic, 0) + 1
            picked.append(paper.candidate.arxiv_id)

    picks = take(size)
    return picks, take(others)


def test_selection_walk_matches_the_eager_walk(sample: list[Candidate]) -> None:
    # Duplicates too: exact copies under new ids (tf-idf near-duplicates) and copies whose titles
    # differ only in punctuation (the same title key).
    copies = [dataclasses.replace(c, arxiv_id=f"{c.arxiv_id}.copy") for c in sample[:40]]
    retitled = [
        dataclasses.replace(c, arxiv_id=f"{c.arxiv_id}.v2", title=c.title + "!") for c in sample[40:80]
    ]
    month = [*sample, *copies, *retitled]
    topics = [TopicSpec(name="LLM", include=("language model", "llm")), *DEFAULT_TOPICS[:4]]
    exclude = {c.arxiv_id for c in sample[:3]}
    for size, others in ((10, 5), (30, 20)):
        selection = rank_month(month, topics, weights=WEIGHTS, exclude_ids=exclude, size=size, others=others)
        picks, extra = eager_selection(month, topics, exclude, size, others)
        assert [p.candidate.arxiv_id for p in selection.picks] == picks
        assert [p.candidate.arxiv_id for p in selection.others] == extra
