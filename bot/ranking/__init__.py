"""Ranking: score a month's papers against the team's topics and pick a diverse top N.

Pure functions over plain dataclasses (`bot.ranking.types`): no database, no network. The digest
service loads candidates and topics, calls `rank_month`, and stores the result; `explain` turns one
scored paper into lines a person can read. See docs/ranking.md for the components and their measured
value.

The scoring names are imported on first use: the topics and types (what `trends topics` needs) must
not pull in numpy, scipy and scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lazy import lazy_exports
from bot.ranking.default_topics import DEFAULT_TOPICS
from bot.ranking.types import Candidate, ScoredPaper, Selection, TopicSpec

if TYPE_CHECKING:
    from bot.ranking.embedding import Embedder, load_embedder
    from bot.ranking.rank import explain, rank_month

__all__ = [
    "DEFAULT_TOPICS",
    "Candidate",
    "Embedder",
    "ScoredPaper",
    "Selection",
    "TopicSpec",
    "explain",
    "load_embedder",
    "rank_month",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "Embedder": "bot.ranking.embedding",
        "load_embedder": "bot.ranking.embedding",
        "explain": "bot.ranking.rank",
        "rank_month": "bot.ranking.rank",
    },
)
