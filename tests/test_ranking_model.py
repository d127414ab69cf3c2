"""The learned ranker: its artefact, its features, its fit, `explain`, and how it degrades without
signals or abstracts. Every paper here is written by the team; no labelled month is read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from bot.errors import ConfigError, ValidationError
from bot.ranking import Candidate, TopicSpec, explain, rank_month
from bot.ranking.corpus import words
from bot.ranking.evaluation import (
    discover_months,
    hit_ranks,
    load_pool,
    peer_features,
    peer_scores,
    precision_interval,
    recall_interval,
    upvotes_order,
)
from bot.ranking.learn import MIN_WORD_MONTHS, fit_model, score_training_month, training_month
from bot.ranking.model import (
    ABSTRACT_WORDS,
    DENSE_FEATURES,
    SHIPPED_PATH,
    TITLE_WORDS,
    UPVOTES,
    RankerModel,
    Term,
    load_model,
)
from bot.ranking.rank import score_papers
from bot.ranking.team import fit_team_model
from bot.settings import RankingWeights

WHEN = dt.datetime(2025, 4, 10, tzinfo=dt.UTC)
AGENTS = TopicSpec(name="Agents", include=("agent", "tool use"))
WEIGHTS = RankingWeights()
SUBJECTS = ["soil moisture", "traffic flow", "wind turbines", "retail demand", "graph coloring"]


def paper(arxiv_id: str, title: str, abstract: str = "", **fields: object) -> Candidate:
    base = Candidate(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=("A. Author", "B. Author"),
        categories=("cs.LG",),
        primary_category="cs.LG",
        submitted_at=WHEN,
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def synthetic_month(
    prefix: str, *, upvotes: bool, abstracts: bool = True
) -> tuple[list[Candidate], set[str]]:
    """Sixty papers: every sixth is a "pick", written by a large team, titled with "agent" and (with
    `upvotes`) among the most upvoted; the others vary in subject and have small teams."""
    papers, picks = [], set()
    for i in range(60):
        picked = i % 6 == 0
        subject = "tool use agent" if picked else SUBJECTS[i % len(SUBJECTS)]
        signals = {}
        if upvotes and (picked or i % 4 == 1):
            signals = {UPVOTES: 50.0 + i if picked else float(i % 7)}
        arxiv_id = f"{prefix}.{i:05d}"
        papers.append(
            paper(
                arxiv_id,
                f"Notes on {subject} number {i}",
                f"We study {subject} in a setting of size {i}." if abstracts else "",
                authors=tuple(f"{prefix}-{i}-{j}" for j in range(25 if picked else 2)),
                signals=signals,
            )
        )
        if picked:
            picks.add(arxiv_id)
    return papers, picks


def fitted_on(specs: list[tuple[str, bool, bool]], **options: object) -> tuple[RankerModel, dict[str, int]]:
    vocabulary: dict[str, int] = {}
    months = []
    for prefix, upvotes, abstracts in specs:
        pool, picks = synthetic_month(prefix, upvotes=upvotes, abstracts=abstracts)
        scored = score_papers(pool, [AGENTS], weights=WEIGHTS, examples={}, model=None)
        assert scored.inputs is not None
        mask = np.array([c.arxiv_id in picks for c in pool])
        months.append(training_month(prefix, scored.inputs, mask, vocabulary))
    return fit_model(months, vocabulary, **options), vocabulary  # type: ignore[arg-type]


# --- load_pool reads signals ---------------------------------------------------------------------


def test_load_pool_reads_signals_into_candidates(tmp_path: Path) -> None:
    rows = [
        {"id": "2504.00001", "title": "A", "signals": {UPVOTES: 12}},
        {"id": "2504.00002", "title": "B"},
        {"id": "2504.00003", "title": "C", "signals": {UPVOTES: 0.5, "github.stars": 3}},
    ]
    path = tmp_path / "pool.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    pool = load_pool(path)
    assert [dict(c.signals) for c in pool] == [{UPVOTES: 12.0}, {}, {UPVOTES: 0.5, "github.stars": 3.0}]


@pytest.mark.parametrize(
    "signals", ['{"x": "12"}', '{"x": true}', '{"x": NaN}', "[1, 2]", '{"x": null}', '"many"']
)
def test_load_pool_rejects_malformed_signals(tmp_path: Path, signals: str) -> None:
    path = tmp_path / "pool.jsonl"
    path.write_text(
        f'{{"id": "2504.00001", "title": "A"}}\n{{"id": "2504.2", "title": "B", "signals": {signals}}}\n'
    )
    with pytest.raises(ValidationError, match="line 2: `signals`"):
        load_pool(path)


# --- the shipped artefact ------------------------------------------------------------------------


def test_shipped_model_loads_once_and_is_small() -> None:
    assert SHIPPED_PATH.stat().st_size < 3_000_000
    model = load_model()
    assert load_model() is model  # read once per process
    assert set(model.dense) <= set(DENSE_FEATURES)
    assert model.momentum is not None
    assert model.momentum["upvotes_percentile"].coef > 0
    # Title words are plain folded words, as the ranker tokenises titles; none is a phrase or an id.
    assert model.words
    assert all(words(w) == [w] for w in model.words)
    assert model.abstract_words
    assert all(words(w) == [w] for w in model.abstract_words)
    meta = json.loads(SHIPPED_PATH.read_text())["meta"]
    assert meta["fitted_by"] == "bench/rank_fit.py"


def test_model_json_round_trip_and_bad_files(tmp_path: Path) -> None:
    model = RankerModel(
        dense={"authors": Term(0.5, 1.0)}, words={"agent": 0.3}, words_mean=0.01, meta={"note": "x"}
    )
    assert RankerModel.from_json(model.to_json()) == model
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    assert load_model(path) == model
    data = json.loads(model.to_json())
    for broken, message in (
        ("not json", "not a ranking model"),
        (json.dumps({**data, "format": 99}), "format 99"),
        (json.dumps({**data, "dense": {"favourite_author": {"coef": 9}}}), "unknown ranking features"),
        (json.dumps({k: v for k, v in data.items() if k != "words"}), "not a ranking model"),
    ):
        with pytest.raises(ConfigError, match=message):
            RankerModel.from_json(broken)
    with pytest.raises(ConfigError, match="Cannot read"):
        load_model(tmp_path / "absent.json")


def test_rank_month_uses_the_shipped_model_by_default() -> None:
    pool, _ = synthetic_month("2504", upvotes=True)
    default = rank_month(pool, [AGENTS], weights=WEIGHTS)
    explicit = rank_month(pool, [AGENTS], weights=WEIGHTS, model=load_model())
    cues = rank_month(pool, [AGENTS], weights=WEIGHTS, model=None)
    assert [p.candidate.arxiv_id for p in default.ranked] == [p.candidate.arxiv_id for p in explicit.ranked]
    assert default.ranked[0].contributions
    assert not cues.ranked[0].contributions
    assert [p.score for p in default.ranked] != [p.score for p in cues.ranked]


# --- contributions and explain -------------------------------------------------------------------


def test_contributions_sum_to_the_model_components_and_explain_names_the_drivers() -> None:
    pool, picks = synthetic_month("2504", upvotes=True)
    selection = rank_month(pool, [AGENTS], weights=WEIGHTS)
    for scored in selection.ranked[:10]:
        modelled = sum(scored.components[k] for k in ("relevance", "priors", "momentum"))
        assert sum(scored.contributions.values()) == pytest.approx(modelled, abs=1e-4)
    top = selection.picks[0]
    assert top.candidate.arxiv_id in picks
    text = explain(top)
    assert "drivers (learned model" in text
    biggest = max(top.contributions, key=lambda k: abs(top.contributions[k]))
    assert biggest in text
    assert f"{top.contributions[biggest]:+.3f}" in text
    word, weight = top.title_words[0]
    assert word in top.candidate.title.lower()
    shown = sorted(top.contributions, key=lambda k: -abs(top.contributions[k]))[:6]
    assert (f"{word} {weight:+.2f}" in text) == (TITLE_WORDS in shown)


def test_explain_lists_title_words_with_their_weights() -> None:
    model = RankerModel(dense={"authors": Term(0.2, 1.0)}, words={"agent": 0.9, "soil": -0.4}, words_mean=0.0)
    pool = [paper("2504.00001", "An agent for soil"), paper("2504.00002", "Plain notes")]
    top = rank_month(pool, [], weights=WEIGHTS, model=model).ranked[0]
    assert top.candidate.arxiv_id == "2504.00001"
    assert top.title_words == (("agent", 0.9), ("soil", -0.4))
    assert top.contributions[TITLE_WORDS] == pytest.approx(0.5)
    assert "agent +0.90, soil -0.40" in explain(top)


# --- degradation ---------------------------------------------------------------------------------


def test_a_month_without_signals_has_no_momentum_and_still_finds_the_picks() -> None:
    pool, picks = synthetic_month("2504", upvotes=False)
    selection = rank_month(pool, [AGENTS], weights=WEIGHTS)
    assert all(p.components["momentum"] == 0.0 for p in selection.ranked)
    assert all("upvotes_percentile" not in p.contributions for p in selection.ranked)
    assert {p.candidate.arxiv_id for p in selection.ranked[: len(picks)]} == picks


def test_a_listing_month_without_abstracts_ranks_by_what_it_has() -> None:
    pool, picks = synthetic_month("2504", upvotes=False, abstracts=False)
    selection = rank_month(pool, [AGENTS], weights=WEIGHTS)
    # The abstract-only features are 0 for everyone: the same contribution on every paper.
    for feature in ("has_abstract", "release (abstract)", ABSTRACT_WORDS):
        assert len({p.contributions.get(feature, 0.0) for p in selection.ranked}) == 1
    scored = score_papers(pool, [AGENTS], weights=WEIGHTS, examples={}, model=load_model())
    assert scored.inputs is not None
    assert scored.inputs.abstract_words is None
    assert {p.candidate.arxiv_id for p in selection.ranked[: len(picks)]} == picks


def test_upvotes_lift_a_paper_only_where_the_month_has_them() -> None:
    model = RankerModel(
        dense={"authors": Term(1.0, 1.0)},
        words={},
        words_mean=0.0,
        momentum={"upvotes_percentile": Term(3.0, 0.1), "upvoted": Term(0.5, 0.1)},
    )
    big = paper("2504.00001", "Big team notes", authors=tuple(f"A{i}" for i in range(6)))
    upvoted = paper("2504.00002", "Small team notes", signals={UPVOTES: 40.0})
    others = [paper(f"2504.1{i:04d}", f"Filler {i}", signals={UPVOTES: float(i)}) for i in range(5)]
    with_signals = rank_month([big, upvoted, *others], [], weights=WEIGHTS, model=model).ranked
    assert with_signals[0].candidate.arxiv_id == "2504.00002"
    assert with_signals[0].contributions["upvotes_percentile"] == pytest.approx(3.0 * (1.0 - 0.1))
    bare = [dataclasses.replace(c, signals={}) for c in (big, upvoted, *others)]
    without = rank_month(bare, [], weights=WEIGHTS, model=model).ranked
    assert without[0].candidate.arxiv_id == "2504.00001"
    assert all(p.components["momentum"] == 0.0 for p in without)
    # The momentum weight scales the learned upvote terms; 0 switches them off.
    off = rank_month(
        [big, upvoted, *others], [], weights=WEIGHTS.model_copy(update={"momentum": 0.0}), model=model
    )
    assert off.ranked[0].candidate.arxiv_id == "2504.00001"


# --- fitting -------------------------------------------------------------------------------------


def test_fit_learns_the_separating_cues_and_upvotes_and_is_deterministic() -> None:
    specs = [(f"25{i:02d}", i >= 3, i % 2 == 0) for i in range(1, 7)]
    model, _ = fitted_on(specs)
    again, _ = fitted_on(specs)
    assert model.to_json() == again.to_json()
    assert model.dense["authors"].coef > 0
    assert model.momentum is not None
    assert model.momentum["upvotes_percentile"].coef > 0
    # "agent" is in every month's picks' titles: a common word, so the model may weigh it.
    assert model.words.get("agent", 0.0) > 0
    no_upvotes, _ = fitted_on([s for s in specs if not s[1]])
    assert no_upvotes.momentum is None
    assert fitted_on(specs, momentum=False)[0].momentum is None
    assert "authors" not in fitted_on(specs, drop=("authors",))[0].dense
    assert not fitted_on(specs, word_scale=0.0)[0].words
    assert not fitted_on(specs, abstract_scale=0.0)[0].abstract_words


def test_words_seen_in_too_few_months_stay_out_of_the_model() -> None:
    specs = [(f"25{i:02d}", False, True) for i in range(1, MIN_WORD_MONTHS)]
    model, _ = fitted_on(specs)
    assert not model.words  # every word is in fewer than MIN_WORD_MONTHS months


def test_fast_scoring_equals_run_time_scoring() -> None:
    model, _ = fitted_on([(f"25{i:02d}", i >= 2, True) for i in range(1, 6)])
    pool, _ = synthetic_month("2599", upvotes=True)
    scored = score_papers(pool, [AGENTS], weights=WEIGHTS, examples={}, model=model)
    assert scored.inputs is not None
    vocabulary: dict[str, int] = {}
    month = training_month("2599", scored.inputs, np.zeros(len(pool), dtype=bool), vocabulary)
    assert model.abstract_words  # the abstract words take part in the comparison
    assert np.allclose(score_training_month(model, month, vocabulary), scored.totals)


def test_fit_without_positives_is_an_error() -> None:
    pool, _ = synthetic_month("2501", upvotes=False)
    scored = score_papers(pool, [AGENTS], weights=WEIGHTS, examples={}, model=None)
    assert scored.inputs is not None
    month = training_month("2501", scored.inputs, np.zeros(len(pool), dtype=bool), {})
    with pytest.raises(ValueError, match="no labelled positives"):
        fit_model([month], {})


# --- evaluation helpers --------------------------------------------------------------------------


def test_discover_months_skips_labels_without_a_pool(tmp_path: Path) -> None:
    for name in ("labels-2030-01.json", "pool-2030-01.jsonl.gz", "labels-2030-02.json", "notes.json"):
        (tmp_path / name).write_text("{}")
    months, skipped = discover_months(tmp_path)
    assert months == ["2030-01"]
    assert len(skipped) == 1
    assert "2030-02" in skipped[0]


def test_recall_and_precision_intervals() -> None:
    order = [f"p{i}" for i in range(100)]
    ranks = hit_ranks(order, {"p0", "p3", "p60", "absent"})
    assert ranks.tolist() == [0, 3, 60]
    recall = recall_interval(ranks, 4, 50, seed=7)
    assert recall.value == 0.5
    assert 0.0 <= recall.low <= 0.5 <= recall.high <= 1.0
    assert recall == recall_interval(ranks, 4, 50, seed=7)  # seeded
    precision = precision_interval(hit_ranks(order[:10], {"p0", "p3"}), 4, 10, seed=7)
    assert precision.value == 0.2
    assert precision.low <= 0.2 <= precision.high


def test_upvotes_only_orders_upvoted_papers_first() -> None:
    pool = [
        paper("2504.00001", "A", signals={UPVOTES: 3.0}),
        paper("2504.00002", "B"),
        paper("2504.00003", "C", signals={UPVOTES: 9.0}),
    ]
    assert upvotes_order(pool, ["2504.00002", "2504.00001", "2504.00003"]) == [
        "2504.00003",
        "2504.00001",
        "2504.00002",
    ]


def test_peer_learns_the_earlier_picks_words() -> None:
    def month(prefix: str) -> tuple[list[Candidate], set[str]]:
        # 5% picks about tool-using agents; the rest spread over twenty subjects (~5% each).
        papers = [
            paper(
                f"{prefix}.{i:05d}",
                f"Tool use agent report {i}" if i % 20 == 0 else f"Study of subject{i % 19} case {i}",
                "An agent that calls tools." if i % 20 == 0 else f"Measurements of subject{i % 19}.",
            )
            for i in range(200)
        ]
        return papers, {c.arxiv_id for c in papers if c.title.startswith("Tool")}

    train, picks = month("2501")
    test, test_picks = month("2502")
    features = peer_features([f"{c.title}. {c.abstract}" for c in (*train, *test)])
    picked = np.array([c.arxiv_id in picks for c in train])
    scores = peer_scores(features[: len(train)], picked, features[len(train) :])
    top = {test[i].arxiv_id for i in np.argsort(-scores)[: len(test_picks)]}
    assert top == test_picks


# --- per-team learning ---------------------------------------------------------------------------


def test_team_model_learns_a_teams_votes_and_lifts_what_it_likes() -> None:
    robots = [
        paper(f"2501.{i:05d}", f"Legged robot control {i}", "A quadruped robot walks.") for i in range(4)
    ]
    soil = [paper(f"2501.1{i:04d}", f"Soil moisture maps {i}", "Soil moisture from radar.") for i in range(4)]
    background = [
        paper(f"2501.2{i:04d}", f"Notes on {SUBJECTS[i % 5]} {i}", "Plain text.") for i in range(30)
    ]
    team = fit_team_model(robots, soil, background)
    assert team is not None
    assert team.liked == 4
    assert team.words["robot"] > 0 > team.words["soil"]
    assert fit_team_model(robots[:2], soil, background) is None  # too few 👍 to learn from
    month = [
        paper("2504.00001", "A robot that walks on ice", "Legged robot control on ice."),
        paper("2504.00002", "A crop yield regression", "Regression of crop yield."),
        *[paper(f"2504.1{i:04d}", f"On {SUBJECTS[i % 5]} {i}", "Plain text.") for i in range(20)],
    ]
    plain = rank_month(month, [], weights=WEIGHTS)
    adapted = rank_month(month, [], weights=WEIGHTS, team=team)
    robot = next(p for p in adapted.ranked if p.candidate.arxiv_id == "2504.00001")
    assert adapted.ranked[0].candidate.arxiv_id == "2504.00001"
    assert robot.contributions["team votes"] == pytest.approx(team.weight)  # the month's top team score
    assert "team votes" in explain(robot)
    before = next(p for p in plain.ranked if p.candidate.arxiv_id == "2504.00001")
    assert robot.score == pytest.approx(before.score + team.weight)
