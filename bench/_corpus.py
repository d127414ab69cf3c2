"""Synthetic-but-realistic papers for benchmarks, recombined at run time from the real pools.

The real pools in ../shared/data/bench (or $TRENDS_BENCH_DATA; three arXiv months, ~20,000 papers)
are read as they are, at run time only (nothing read here is ever written into the repository);
`synthetic_papers(n)` then makes as many distinct papers as asked by recombining them: the real
papers first, then papers whose title, abstract sentences and authors are drawn from different
real papers. Vocabulary, term frequencies and lengths stay those of real arXiv listings, which is what
full-text and ranking benchmarks need. Submission dates are spread over 24 months so month filters
select a realistic share. Everything is seeded: the same `n` and `seed` give the same papers.

    from bench._corpus import load_pool, synthetic_papers, paper_rows
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DATA = Path(
    os.environ.get("TRENDS_BENCH_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data" / "bench"
)
POOLS = ("pool-2021-06.jsonl.gz", "pool-2025-04.jsonl.gz", "pool-2025-05.jsonl.gz")
FIRST_MONTH = dt.date(2024, 1, 1)
MONTHS = 24

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass(frozen=True, slots=True)
class CorpusPaper:
    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    submitted_at: dt.datetime


def _submitted(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    day = dt.date.fromisoformat(value[:10])
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def read_jsonl(path: Path) -> list[CorpusPaper]:
    """Papers from one pool file (gzip'd JSON lines as in ../shared/data/bench)."""
    papers = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            categories = tuple(item.get("categories") or [item.get("primary") or "cs.LG"])
            papers.append(
                CorpusPaper(
                    arxiv_id=item["id"],
                    title=" ".join(item["title"].split()),
                    abstract=" ".join(item["abstract"].split()),
                    authors=tuple(item.get("authors") or ()),
                    categories=categories,
                    submitted_at=_submitted(item.get("date")),
                )
            )
    return papers


def load_pool(data_dir: Path = BENCH_DATA) -> list[CorpusPaper]:
    """All real papers of the three pools, each arXiv id once."""
    seen: dict[str, CorpusPaper] = {}
    for name in POOLS:
        for paper in read_jsonl(data_dir / name):
            seen.setdefault(paper.arxiv_id, paper)
    return list(seen.values())


def _sentences(abstract: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(abstract) if s]


def _month_date(rng: random.Random) -> dt.datetime:
    month_index = rng.randrange(MONTHS)
    year = FIRST_MONTH.year + (FIRST_MONTH.month - 1 + month_index) // 12
    month = (FIRST_MONTH.month - 1 + month_index) % 12 + 1
    return dt.datetime(year, month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), tzinfo=dt.UTC)


def _mixed_title(rng: random.Random, own: str, other: str) -> str:
    # "Head: rest" titles are common; swapping heads gives new, plausible titles.
    if ": " in own and ": " in other and rng.random() < 0.6:
        return other.split(": ", 1)[0] + ": " + own.split(": ", 1)[1]
    return own


def synthetic_papers(
    n: int, *, seed: int = 2025, pool: Sequence[CorpusPaper] | None = None
) -> Iterator[CorpusPaper]:
    """`n` distinct papers: the real ones first (with dates spread), then recombinations of them."""
    rng = random.Random(seed)
    real = list(pool if pool is not None else load_pool())
    sentences = [_sentences(p.abstract) for p in real]
    for i in range(n):
        base = real[i % len(real)]
        when = _month_date(rng)
        arxiv_id = f"{when:%y%m}.{i:06d}"
        if i < len(real):
            yield CorpusPaper(arxiv_id, base.title, base.abstract, base.authors, base.categories, when)
            continue
        donor, third = rng.randrange(len(real)), rng.randrange(len(real))
        own = sentences[i % len(real)]
        # Keep the base paper's opening (its topic), then borrow sentences from two other papers.
        body = own[: max(1, len(own) // 2)] + sentences[donor][len(sentences[donor]) // 2 :]
        if rng.random() < 0.3:
            body += sentences[third][-1:]
        authors = list(base.authors[: max(1, len(base.authors) // 2)]) + list(real[donor].authors[:2])
        yield CorpusPaper(
            arxiv_id=arxiv_id,
            title=_mixed_title(rng, base.title, real[donor].title),
            abstract=" ".join(body),
            authors=tuple(dict.fromkeys(authors)),
            categories=base.categories,
            submitted_at=when,
        )


def paper_rows(papers: Sequence[CorpusPaper]) -> list[dict[str, Any]]:
    """Rows for `insert(Paper.__table__)`: what the harvester would have stored."""
    rows = []
    for paper in papers:
        rows.append(
            {
                "arxiv_id": paper.arxiv_id,
                "version": 1,
                "title": paper.title,
                "abstract": paper.abstract,
                "authors": list(paper.authors),
                "authors_text": " ".join(paper.authors),
                "categories": list(paper.categories),
                "primary_category": paper.categories[0],
                "submitted_at": paper.submitted_at,
                "updated_at": paper.submitted_at,
                "abs_url": f"https://arxiv.org/abs/{paper.arxiv_id}",
                "pdf_url": f"https://arxiv.org/pdf/{paper.arxiv_id}",
                "harvested_at": paper.submitted_at,
                "refreshed_at": paper.submitted_at,
            }
        )
    return rows
