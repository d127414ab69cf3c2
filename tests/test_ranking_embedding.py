"""The optional embedding component: the Embedder port, its wiring into scoring and explain, and the
configuration errors of `load_embedder` (a hand-written fake embedder; no model is ever loaded)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.errors import ConfigError
from bot.ranking import Candidate, TopicSpec, explain, rank_month
from bot.ranking.embedding import (
    EmbeddingMatrix,
    SentenceTransformerEmbedder,
    load_embedder,
    model_path,
    normalised,
)
from bot.ranking.rank import score_papers
from bot.settings import RankingWeights, Settings

WHEN = dt.datetime(2025, 4, 10, tzinfo=dt.UTC)
# One dimension per concept; a text's vector counts the concept's words in it.
CONCEPTS = (("robot", "grasp", "manipulation"), ("protein", "molecule"), ("soil", "crop"))
ROBOTS = TopicSpec(name="Robots", description="robot grasp and manipulation", include=("zzz no phrase",))


class KeywordEmbedder:
    """Deterministic, tiny fake: counts concept words; records what it was asked to embed."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str], /) -> EmbeddingMatrix:
        self.calls.append(list(texts))
        rows = [[sum(t.lower().count(w) for w in words) for words in CONCEPTS] + [0.1] for t in texts]
        return normalised(np.array(rows, dtype=np.float32))


def paper(arxiv_id: str, title: str, abstract: str) -> Candidate:
    return Candidate(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=("A. Author",),
        categories=("cs.RO",),
        primary_category="cs.RO",
        submitted_at=WHEN,
    )


def month() -> list[Candidate]:
    crops = [paper(f"2504.1{i:04d}", f"Crop study {i}", "Soil and crop yield.") for i in range(12)]
    return [
        *crops,
        paper("2504.00002", "Dexterous hands", "A robot learns grasp and manipulation skills."),
        paper("2504.00003", "Folding", "Protein molecule structure."),
    ]


WEIGHTS = RankingWeights(embedding=1.0)


def test_normalised_rows_are_unit_float32_and_zero_rows_stay_zero() -> None:
    matrix = normalised([[3.0, 4.0], [0.0, 0.0]])
    assert matrix.dtype == np.float32
    assert np.allclose(matrix, [[0.6, 0.8], [0.0, 0.0]])
    with pytest.raises(ValueError, match="2-d"):
        normalised([1.0, 2.0])


def test_embedding_finds_the_topic_paper_without_any_phrase_match() -> None:
    embedder = KeywordEmbedder()
    # The cue ranker (model=None): its relevance component is the raw BM25 part, 0 without a match.
    selection = rank_month(month(), [ROBOTS], weights=WEIGHTS, embedder=embedder, model=None)
    top = selection.ranked[0]
    assert top.candidate.arxiv_id == "2504.00002"
    assert top.topic == "Robots"
    assert top.components["embedding"] == pytest.approx(1.0)
    assert top.components["relevance"] == 0.0
    # One call: every paper, then the topic's text (name, description, phrases).
    assert len(embedder.calls) == 1
    assert embedder.calls[0][-1] == "Robots: robot grasp and manipulation zzz no phrase"
    assert embedder.calls[0][0] == "Crop study 0. Soil and crop yield."
    text = explain(top)
    assert "embedding  +1.000" in text


def test_embedding_is_off_without_an_embedder_or_with_zero_weight() -> None:
    embedder = KeywordEmbedder()
    off = score_papers(
        month(), [ROBOTS], weights=RankingWeights(embedding=0.0), examples={}, embedder=embedder
    )
    assert embedder.calls == []  # not even computed
    assert float(off.components["embedding"].max()) == 0.0
    none = score_papers(month(), [ROBOTS], weights=WEIGHTS, examples={})
    assert float(none.components["embedding"].max()) == 0.0


def test_example_papers_pull_the_topic_vector_toward_them() -> None:
    # The topic's words say robots, but its example is about proteins: the centroid sits between.
    example = paper("2401.00001", "Molecules", "protein molecule protein molecule")
    topic = dataclasses.replace(ROBOTS, examples=("2401.00001",))
    weights = RankingWeights(embedding=1.0, learned=0.0)
    with_example = score_papers(
        month(), [topic], weights=weights, examples={example.arxiv_id: example}, embedder=KeywordEmbedder()
    )
    without = score_papers(month(), [ROBOTS], weights=weights, examples={}, embedder=KeywordEmbedder())
    protein_row = 13
    assert with_example.components["embedding"][protein_row] > without.components["embedding"][protein_row]


def test_an_excluded_paper_gets_no_embedding_score() -> None:
    topic = dataclasses.replace(ROBOTS, exclude=("dexterous",))
    scored = score_papers(month(), [topic], weights=WEIGHTS, examples={}, embedder=KeywordEmbedder())
    assert scored.components["embedding"][12] == 0.0


def test_an_embedder_returning_the_wrong_number_of_rows_is_a_bug_not_a_silent_zero() -> None:
    def short(texts: Sequence[str], /) -> EmbeddingMatrix:
        return normalised(np.ones((len(texts) - 1, 3)))

    with pytest.raises(ValueError, match="rows"):
        rank_month(month(), [ROBOTS], weights=WEIGHTS, embedder=short)


# --- configuration -------------------------------------------------------------------------------


def test_setting_defaults_to_off() -> None:
    assert Settings().embedding_model is None
    assert load_embedder(None) is None
    assert load_embedder("  ") is None


def test_a_model_directory_is_passed_to_the_factory(tmp_path: Path) -> None:
    seen: list[Path] = []

    def factory(path: Path) -> KeywordEmbedder:
        seen.append(path)
        return KeywordEmbedder()

    embedder = load_embedder(str(tmp_path), factory=factory)
    assert isinstance(embedder, KeywordEmbedder)
    assert seen == [tmp_path.resolve()]


def test_an_installed_package_exposing_its_model_path_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = tmp_path / "bundled"
    model_dir.mkdir()
    package = tmp_path / "site" / "fake_minilm_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        f"from pathlib import Path\ndef get_model_path():\n    return Path({str(model_dir)!r})\n",
        encoding="utf-8",
    )
    (tmp_path / "site" / "no_model_pkg").mkdir()
    (tmp_path / "site" / "no_model_pkg" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert model_path("fake-minilm-pkg") == model_dir.resolve()
    with pytest.raises(ConfigError, match="does not bundle a model"):
        model_path("no_model_pkg")


@pytest.mark.parametrize("value", ["no_such_model_package_xyz", "/nonexistent/model/dir", "'; DROP TABLE--"])
def test_a_configured_model_that_is_not_there_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="neither a model directory nor an installed package"):
        load_embedder(value)


def test_configured_but_sentence_transformers_missing_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes `import sentence_transformers` raise ImportError, as it does
    # where the `embeddings` extra is not installed (CI).
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ConfigError, match=r"sentence-transformers is not installed.*\[embeddings\]"):
        SentenceTransformerEmbedder(tmp_path)
    with pytest.raises(ConfigError, match="not installed"):
        load_embedder(str(tmp_path))
