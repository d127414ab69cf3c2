"""`rank_month`: score every candidate of a month and select a diverse digest.

A paper's score is the sum of weighted components (weights from `RankingWeights`):

- relevance: BM25 of the best topic's include phrases (`topics_score.match_topic`), × topic weight;
- learned: that topic's linear text model (SVM on example papers, or pseudo-relevance feedback);
- embedding: cosine similarity of the paper's embedding to the topic's (its name, description and
  phrases, averaged with its example papers), only when an `Embedder` is passed (`embedding.py`);
- priors: code, authors, venue, cross-listing, paper kind, named method (`priors.priors`);
- momentum: within-month percentiles of stored signals (`priors.momentum`);
- feedback: net chat votes (`priors.feedback`).

The best topic is the one maximising the topic-dependent part (relevance + learned + embedding).
Selection walks the ranking best-first, skipping excluded ids and near-duplicates of papers already
chosen, and caps each topic at `max_per_topic`; papers that match none of the topics only fill the
places the topics leave empty. The next `others` papers, under the same rules, are "other papers you
might like".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

from bot.ranking.corpus import Corpus, FloatArray, build_corpus, extend_corpus, tfidf
from bot.ranking.embedding import Embedder, normalised
from bot.ranking.model import (
    FEATURE_HELP,
    GROUP,
    TITLE_WORDS,
    UPVOTES,
    ModelInputs,
    MonthInputs,
    RankerModel,
    load_model,
    model_inputs,
    month_inputs,
)
from bot.ranking.priors import PriorNotes, combine_priors, feedback, momentum, month_cues
from bot.ranking.team import TeamModel, team_scores
from bot.ranking.topics_score import TITLE_PHRASES_CAP, learned_scores, match_topic, scale_top
from bot.ranking.types import Candidate, Ranking, ScoredPaper, Selection, TopicSpec
from bot.settings import RankingWeights

DUPLICATE_SIMILARITY = 0.8  # tf-idf cosine above which two papers count as the same work
MAX_TERMS_SHOWN = 3
COMPONENTS = ("relevance", "learned", "embedding", "priors", "momentum", "feedback")
# With the learned model, signals other than Hugging Face upvotes (citations, stars: not in the labelled
# months) add their within-month percentile at this log-odds weight, set by hand.
OTHER_SIGNALS_WEIGHT = 0.5
TEAM = "team votes"  # the contribution of a deployment's own vote model (`team.py`)
EXPLAIN_FEATURES = 6  # model features shown per paper, largest contributions first
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class MonthFeatures:
    """What ranking a month costs before any topic is read, computed once (`prepare_month`) and
    shared by every audience's `rank_month`: the month's papers tokenised and counted, the prior cues,
    the learned model's topic-independent inputs and the momentum percentiles. Every audience's
    candidates are the same papers (their net votes alone differ, and votes are read per call), so a
    ranking with these features equals one without (tests/test_ranking_shared.py)."""

    ids: tuple[str, ...]  # the month's arXiv ids, first copy of each, in order: what it was built for
    corpus: Corpus
    notes: list[PriorNotes]
    cues: dict[str, FloatArray]  # `priors.month_cues`: every prior cue but title_topic
    inputs: MonthInputs
    momentum: tuple[FloatArray, list[tuple[str, ...]]]
    other_signals: FloatArray  # momentum of the signals the learned model was not fitted on


def _unique(candidates: Sequence[Candidate]) -> list[Candidate]:
    return list({c.arxiv_id: c for c in reversed(candidates)}.values())[::-1]  # first copy of an id


def prepare_month(candidates: Sequence[Candidate]) -> MonthFeatures:
    """The month's topic-independent ranking features, for `rank_month(…, features=…)`."""
    return _prepare(_unique(candidates))


def _prepare(month: Sequence[Candidate], corpus: Corpus | None = None) -> MonthFeatures:
    """The features of `month`, whose papers are the first rows of `corpus` (built when None)."""
    if corpus is None:
        corpus = build_corpus([c.title for c in month], [c.abstract for c in month])
    notes, cues = month_cues(month, corpus)
    return MonthFeatures(
        ids=tuple(c.arxiv_id for c in month),
        corpus=corpus,
        notes=notes,
        cues=cues,
        inputs=month_inputs(month, corpus, cues),
        momentum=momentum(month),
        other_signals=momentum(month, skip=(UPVOTES,))[0],
    )


def rank_month(
    candidates: Sequence[Candidate],
    topics: Sequence[TopicSpec],
    *,
    weights: RankingWeights,
    size: int = 10,
    others: int = 5,
    max_per_topic: int = 3,
    exclude_ids: Collection[str] = (),
    examples: Mapping[str, Candidate] | None = None,
    embedder: Embedder | None = None,
    prior_coefficients: Mapping[str, float] | None = None,
    model: RankerModel | Literal["shipped"] | None = "shipped",
    team: TeamModel | None = None,
    features: MonthFeatures | None = None,
) -> Selection:
    """Rank `candidates` against `topics` and pick `size` papers plus `others` more.

    Deterministic: equal inputs give equal output (ties go to the lower arXiv id). `examples` holds
    example papers' text by arXiv id, for examples outside the month. `model` is the learned ranker
    (`model.py`; "shipped" = the bundled `model.json`); None scores relevance and priors with the
    hand-weighted sum of earlier rounds, whose cue weights `prior_coefficients` replaces (default
    `priors.PRIOR_COEFFICIENTS`). `team` is a deployment's own text model of its votes (`team.py`).
    `features` is `prepare_month` of the same papers, computed once for several rankings of a month
    (several audiences); the result is the same as without it.
    """
    month = _unique(candidates)
    if not month:
        return Selection(picks=[], others=[], ranked=[])
    scored = score_papers(
        month,
        topics,
        weights=weights,
        examples=examples or {},
        embedder=embedder,
        prior_coefficients=prior_coefficients,
        # Cue coefficients given (the earlier rounds' evaluation) mean the hand-weighted cue ranker.
        model=(load_model() if prior_coefficients is None else None) if model == "shipped" else model,
        team=team,
        month_features=features,
    )
    features = scored.features
    totals = scored.totals.tolist()  # Python floats: same order as numpy scalars, and faster to compare
    order = sorted(range(len(month)), key=lambda i: (-totals[i], month[i].arxiv_id))
    # Built lazily: the walk below reads only a paper's candidate and topic (straight from `scored`),
    # so only the papers it picks and those a caller reads from `ranked` ever become ScoredPapers.
    ranked = Ranking(order, scored.paper)
    excluded = set(exclude_ids)
    chosen_rows: list[int] = []
    chosen_titles: set[str] = set()

    def take(limit: int, taken: set[int]) -> list[ScoredPaper]:
        per_topic: dict[str | None, int] = {}
        picked: list[ScoredPaper] = []
        # A team reads the papers of its own topics first: the learned model's generic cues rank a
        # paper no topic matches close to one that does, so papers that match none only fill places
        # the team's topics leave empty (a narrow topic in a small month).
        for on_topic in (True, False):
            walk(limit, taken, per_topic, picked, on_topic)
        return picked

    def walk(
        limit: int,
        taken: set[int],
        per_topic: dict[str | None, int],
        picked: list[ScoredPaper],
        on_topic: bool,
    ) -> None:
        for position, i in enumerate(order):
            if len(picked) >= limit:
                break
            candidate = month[i]
            if i in taken or candidate.arxiv_id in excluded:
                continue
            topic = scored.topic(i)
            if on_topic and topic is None:
                continue
            if topic is not None and per_topic.get(topic, 0) >= max_per_topic:
                continue
            title_key = _NON_WORD.sub(" ", candidate.title.casefold()).strip()
            if title_key in chosen_titles or _near_duplicate(features, i, chosen_rows):
                taken.add(i)  # a duplicate of a chosen paper is never chosen later either
                continue
            taken.add(i)
            chosen_rows.append(i)
            chosen_titles.add(title_key)
            per_topic[topic] = per_topic.get(topic, 0) + 1
            picked.append(ranked[position])

    taken: set[int] = set()
    picks = take(size, taken)
    extra = take(others, taken)
    return Selection(picks=picks, others=extra, ranked=ranked)


def _near_duplicate(features: sparse.csr_matrix, row: int, chosen: list[int]) -> bool:
    if not chosen:
        return False
    similarity = features[row] @ features[chosen].T
    return bool(similarity.nnz and similarity.max() >= DUPLICATE_SIMILARITY)


class ScoredMonth:
    """Per-paper component arrays; builds `ScoredPaper`s on demand."""

    def __init__(
        self,
        month: Sequence[Candidate],
        features: sparse.csr_matrix,
        totals: FloatArray,
        components: dict[str, FloatArray],
        topic_index: npt.NDArray[np.int64],
        topic_names: list[str],
        matched: list[list[str]],
        notes: list[tuple[str, ...]],
        prior_parts: dict[str, FloatArray],
        prior_cues: dict[str, FloatArray],
        inputs: ModelInputs | None = None,
        model: RankerModel | None = None,
        contributions: dict[str, FloatArray] | None = None,
    ) -> None:
        self.month = month
        self.features = features
        self.totals = totals
        self.components = components
        self.topic_index = topic_index
        self.topic_names = topic_names
        self.matched = matched
        self.notes = notes
        self.prior_parts = prior_parts  # each cue's weighted contribution (before weights.priors)
        self.prior_cues = prior_cues  # each cue's raw value, the features the coefficients were fitted on
        self.inputs = inputs  # the learned model's features (what `learn.fit_model` fits on)
        self.model = model
        # With a model: each feature's contribution, after its group's weight (sums to those groups).
        self.contributions = contributions or {}

    def topic(self, i: int) -> str | None:
        """Paper `i`'s best topic, None when no topic matched."""
        return self.topic_names[self.topic_index[i]] if self.topic_index[i] >= 0 else None

    def paper(self, i: int) -> ScoredPaper:
        topic = self.topic(i)
        parts = {name: round(float(values[i]), 6) for name, values in self.components.items()}
        terms = tuple(self.matched[i][: MAX_TERMS_SHOWN * 2])
        return ScoredPaper(
            candidate=self.month[i],
            score=round(float(self.totals[i]), 6),
            topic=topic,
            matched_terms=terms,
            components=parts,
            reason=_reason(topic, terms, self.notes[i], parts, self.month[i].votes),
            prior_parts={name: round(float(v[i]), 6) for name, v in self.prior_parts.items()},
            contributions={name: round(float(v[i]), 6) for name, v in self.contributions.items()},
            title_words=tuple(self.model.title_word_notes(self.month[i].title)) if self.model else (),
        )


def score_papers(
    month: Sequence[Candidate],
    topics: Sequence[TopicSpec],
    *,
    weights: RankingWeights,
    examples: Mapping[str, Candidate],
    embedder: Embedder | None = None,
    prior_coefficients: Mapping[str, float] | None = None,
    model: RankerModel | None = None,
    team: TeamModel | None = None,
    month_features: MonthFeatures | None = None,
) -> ScoredMonth:
    """Every component for every paper of `month` (ids unique). With `model`, relevance, priors and
    momentum are its feature contributions grouped (× their weights); without, the hand-weighted
    sum of earlier rounds. `month_features` is `prepare_month(month)` when it is shared."""
    n = len(month)
    if month_features is not None and month_features.ids != tuple(c.arxiv_id for c in month):
        raise ValueError("the month features were prepared for other papers")
    active = [t for t in topics if t.enabled and t.weight > 0]
    index_of = {c.arxiv_id: i for i, c in enumerate(month)}
    # Example papers outside the month are appended to the corpus so they share its vocabulary.
    outside = [
        examples[e]
        for e in dict.fromkeys(e for t in active for e in t.examples)
        if e not in index_of and e in examples
    ]
    papers = [*month, *outside]
    index_of = {c.arxiv_id: i for i, c in enumerate(papers)}
    # One pseudo-paper per topic (its name, description and phrases): what a topic without examples
    # is "like", for the learned component's unsupervised stand-in.
    topic_rows = {t.name: len(papers) + k for k, t in enumerate(active)}
    extra_titles = [*(c.title for c in outside), *(t.name for t in active)]
    extra_abstracts = [
        *(c.abstract for c in outside),
        *(f"{t.description} {'. '.join(t.include)}" for t in active),
    ]
    if month_features is None:
        # One ranking: tokenise everything at once. The month's features read only its own rows, so
        # they equal `prepare_month`'s (tests/test_ranking_shared.py compares the two paths).
        corpus = build_corpus(
            [*(c.title for c in month), *extra_titles], [*(c.abstract for c in month), *extra_abstracts]
        )
        month_features = _prepare(month, corpus)
    else:
        corpus = extend_corpus(month_features.corpus, extra_titles, extra_abstracts)
    features = tfidf(corpus)

    per_topic = np.zeros((len(active), n))
    relevance = np.zeros((len(active), n))
    learned = np.zeros((len(active), n))
    embedded = np.zeros((len(active), n))
    hits: list[list[tuple[str, np.ndarray]]] = []
    title_topic = np.zeros(n)
    embedded_similarity = (
        _embedding_similarity(embedder, papers, active, index_of, n)
        if embedder is not None and weights.embedding > 0 and active
        else None
    )
    for t, topic in enumerate(active):
        match = match_topic(corpus, topic.include, topic.exclude, n)
        hits.append(match.phrase_hits)
        title_topic = np.maximum(
            title_topic, topic.weight * np.minimum(match.title_phrases[:n], TITLE_PHRASES_CAP)
        )
        relevance[t] = match.relevance[:n]
        example_rows = [index_of[e] for e in topic.examples if e in index_of]
        learned_weight = weights.learned if example_rows else weights.learned_unsupervised
        if learned_weight > 0:
            if example_rows:
                scores = learned_scores(features, n, example_rows, supervised=True)
            else:
                scores = learned_scores(features, n, [topic_rows[topic.name]], supervised=False)
            learned[t] = learned_weight * np.where(match.excluded[:n], 0.0, scores[:n])
        if embedded_similarity is not None:
            embedded[t] = np.where(match.excluded[:n], 0.0, scale_top(embedded_similarity[t], n))
        per_topic[t] = topic.weight * (
            weights.relevance * relevance[t] + learned[t] + weights.embedding * embedded[t]
        )

    if active:
        best_topic = np.argmax(per_topic, axis=0)
        columns = np.arange(n)
        has_topic = per_topic[best_topic, columns] > 0
        topic_index = np.where(has_topic, best_topic, -1).astype(np.int64)
        topic_weight = np.array([t.weight for t in active])[best_topic]
        relevance_part = np.where(
            has_topic, topic_weight * weights.relevance * relevance[best_topic, columns], 0
        )
        learned_part = np.where(has_topic, topic_weight * learned[best_topic, columns], 0)
        embedded_part = np.where(
            has_topic, topic_weight * weights.embedding * embedded[best_topic, columns], 0
        )
        best_relevance = np.where(has_topic, topic_weight * relevance[best_topic, columns], 0)
    else:
        topic_index = np.full(n, -1, dtype=np.int64)
        relevance_part = learned_part = embedded_part = best_relevance = np.zeros(n)

    prior_notes = month_features.notes
    prior_values, prior_parts, prior_cues = combine_priors(
        month_features.cues, title_topic, prior_coefficients
    )
    momentum_values, strong_signals = month_features.momentum
    inputs = model_inputs(month, corpus, best_relevance, prior_cues, month_features.inputs)
    contributions: dict[str, FloatArray] = {}
    if model is None:
        priors_part = weights.priors * prior_values
        momentum_part = weights.momentum * momentum_values
    else:
        _total, parts = model.score(inputs)
        group_weight = {
            "relevance": weights.relevance,
            "priors": weights.priors,
            "momentum": weights.momentum,
        }
        contributions = {name: group_weight[GROUP.get(name, "priors")] * v for name, v in parts.items()}
        grouped = {
            group: np.sum([v for k, v in contributions.items() if GROUP.get(k, "priors") == group], axis=0)
            + np.zeros(n)
            for group in group_weight
        }
        relevance_part, priors_part = grouped["relevance"], grouped["priors"]
        # Signals the model was not fitted on (citations, stars) keep the hand-set momentum, in the
        # model's log-odds units: untested on the labels.
        other_signals = month_features.other_signals
        momentum_part = grouped["momentum"] + weights.momentum * OTHER_SIGNALS_WEIGHT * other_signals
    if team is not None and team.words:
        team_part = weights.priors * team.weight * team_scores(team, corpus, n)
        priors_part = priors_part + team_part
        if model is not None:
            contributions[TEAM] = team_part
    components = {
        "relevance": relevance_part,
        "learned": learned_part,
        "embedding": embedded_part,
        "priors": priors_part,
        "momentum": momentum_part,
        "feedback": weights.feedback * feedback(month),
    }
    totals = np.sum(list(components.values()), axis=0)

    matched: list[list[str]] = [[] for _ in range(n)]
    for t, topic_hits in enumerate(hits):
        # Most specific (longest) phrases first: "tool use" says more than "agent".
        for phrase, found in sorted(topic_hits, key=lambda hit: -len(hit[0].split())):
            for i in found[found < n][topic_index[found[found < n]] == t]:
                matched[int(i)].append(phrase)
    notes = [
        (*prior_notes[i].notes, *(f"top 10% by {s} this month" for s in strong_signals[i])) for i in range(n)
    ]
    return ScoredMonth(
        month=month,
        features=features[:n],
        totals=totals,
        components=components,
        topic_index=topic_index,
        topic_names=[t.name for t in active],
        matched=matched,
        notes=notes,
        prior_parts=prior_parts,
        prior_cues=prior_cues,
        inputs=inputs,
        model=model,
        contributions=contributions,
    )


def paper_text(candidate: Candidate) -> str:
    """What an embedder reads of a paper."""
    return f"{candidate.title}. {candidate.abstract}"


def topic_text(topic: TopicSpec) -> str:
    """What an embedder reads of a topic: its name, description and include phrases."""
    return f"{topic.name}: {topic.description} {', '.join(topic.include)}".strip()


def _embedding_similarity(
    embedder: Embedder,
    papers: Sequence[Candidate],
    topics: Sequence[TopicSpec],
    index_of: Mapping[str, int],
    n: int,
) -> FloatArray:
    """topics × month cosine similarity of each paper to each topic's centroid: the topic text's
    vector averaged with its example papers' vectors (examples say what a topic means in practice)."""
    texts = [paper_text(c) for c in papers] + [topic_text(t) for t in topics]
    vectors = normalised(embedder(texts))
    if vectors.shape[0] != len(texts):
        raise ValueError(f"the embedder returned {vectors.shape[0]} rows for {len(texts)} texts")
    docs, topic_vectors = vectors[: len(papers)], vectors[len(papers) :]
    centroids = np.empty_like(topic_vectors)
    for t, topic in enumerate(topics):
        rows = [index_of[e] for e in topic.examples if e in index_of]
        centroids[t] = np.vstack([topic_vectors[t : t + 1], docs[rows]]).mean(axis=0)
    similarity: FloatArray = (normalised(centroids) @ docs[:n].T).astype(np.float64)
    return similarity


def _reason(
    topic: str | None,
    terms: Sequence[str],
    notes: Sequence[str],
    components: Mapping[str, float],
    votes: int,
) -> str:
    parts: list[str] = []
    if topic is not None:
        shown = ", ".join(terms[:MAX_TERMS_SHOWN])
        if shown:
            parts.append(f"Top match for {topic} ({shown})")
        else:
            parts.append(f"Similar to {topic} papers")
    parts.extend(notes)
    if votes:
        parts.append(f"{votes:+d} votes in chat")
    if not parts:
        parts.append("No topic match; ranked by general signals")
    return "; ".join(parts)


def explain(scored: ScoredPaper) -> str:
    """A few lines saying why a paper scored what it did: topic, matched terms, each component."""
    paper = scored.candidate
    lines = [f"{paper.arxiv_id} — {paper.title}", f"score {scored.score:.3f}"]
    if scored.topic is not None:
        terms = ", ".join(scored.matched_terms) or "no phrase; similar wording to the topic's papers"
        lines.append(f"topic: {scored.topic} (matched: {terms})")
    else:
        lines.append("topic: none matched")
    learned_model = bool(scored.contributions)
    for name in COMPONENTS:
        value = scored.components.get(name, 0.0)
        help_text = _MODEL_COMPONENT_HELP.get(name) if learned_model else None
        lines.append(f"  {name:<10} {value:+.3f}  {help_text or _COMPONENT_HELP[name]}")
        if name == "priors" and not learned_model:
            for cue, part in scored.prior_parts.items():
                if part:
                    lines.append(f"    {cue:<12} {part:+.3f}  {_PRIOR_HELP[cue]}")
    if learned_model:
        lines.append("drivers (learned model, log-odds against an average paper):")
        drivers = sorted(scored.contributions.items(), key=lambda item: (-abs(item[1]), item[0]))
        shown = drivers[:EXPLAIN_FEATURES]
        # The audience's own vote model is always shown when it is used: it is what its votes changed.
        shown += [(feature, part) for feature, part in drivers[EXPLAIN_FEATURES:] if feature == TEAM]
        for feature, part in shown:
            help_text = FEATURE_HELP.get(feature) or FEATURE_HELP.get(feature.split(" (")[0], "")
            if feature.startswith("primary "):
                help_text = "primary arXiv category"
            if feature.endswith("(abstract)"):
                help_text = f"{help_text}, where an abstract exists"
            if feature == TEAM:
                help_text = "this audience's 👍/👎 votes and topic examples (its own text model)"
            if feature == TITLE_WORDS and scored.title_words:
                help_text = ", ".join(f"{w} {c:+.2f}" for w, c in scored.title_words)
            lines.append(f"    {feature:<22} {part:+.3f}  {help_text}")
    lines.append(f"why: {scored.reason}")
    return "\n".join(lines)


_MODEL_COMPONENT_HELP = {
    "relevance": "learned model: topic relevance and topic phrases in the title",
    "priors": "learned model: generic cues, categories, title and abstract words (drivers below)",
    "momentum": "learned model: Hugging Face upvotes this month (other signals hand-weighted)",
}


_COMPONENT_HELP = {
    "relevance": "BM25 of the topic's phrases in title/abstract × topic weight",
    "learned": "tf-idf linear model of the topic (examples or best keyword matches)",
    "embedding": "embedding similarity to the topic (off unless a model is configured)",
    "priors": "generic cues (below, before the priors weight), coefficients fitted on labelled months",
    "momentum": "citations/upvotes/stars percentile within the month",
    "feedback": "net chat votes",
}

_PRIOR_HELP = {
    "authors": "log(1 + number of authors)",
    "author_output": "log(1 + this month's papers by its most prolific author)",
    "concise": "12 − title words (short titles read as headline results)",
    "named": 'named system in the title ("Name: what it does")',
    "release": "code, weights or a project page released",
    "scale": 'states a model scale ("7B", "billion parameters")',
    "frontier": "names a frontier model family (GPT, Llama, Qwen, …)",
    "title_topic": "topic phrases in the title (at most 2) × topic weight",
    "venue": "venue or acceptance in the comment/journal reference (hand-set weight)",
}
