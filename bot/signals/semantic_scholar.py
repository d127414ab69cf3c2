"""Semantic Scholar Graph API: citation counts for arXiv papers, 500 per batch request.

`POST {base}/paper/batch?fields=…` with `{"ids": ["ARXIV:2410.01234", …]}` answers a list aligned
with the ids, `null` where the paper is unknown. Readings: `citations`, `influential_citations`, and
`venue_known` = 1.0 when Semantic Scholar names a publication venue for a paper whose arXiv record has
no `journal_ref` (arXiv itself, which S2 gives as the venue of every preprint, does not count).

The venue's name is not stored: `paper_signals` holds numbers only, and writing it into
`papers.journal_ref` would pass Semantic Scholar's guess off as the authors' own reference (and the
harvester rewrites that column from arXiv). Keeping the name needs a text column (a migration).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.signals._shapes import SourceAnswer, count_value, text_value
from bot.signals.http import JsonHttp, MalformedResponse
from bot.signals.types import SEMANTIC_SCHOLAR, VENUE_KNOWN, PaperRef, Reading

BATCH_LIMIT = 500  # the API refuses larger batches
FIELDS = "citationCount,influentialCitationCount,venue,externalIds"
_READINGS = (("citationCount", "citations"), ("influentialCitationCount", "influential_citations"))
# What S2 names as the venue of a plain preprint: not a venue.
_PREPRINT_VENUES = frozenset({"arxiv", "arxiv.org", "corr", "arxiv preprint", "biorxiv", "medrxiv"})


def is_real_venue(venue: str | None) -> bool:
    """True for a venue name worth keeping: not empty, not just arXiv (or another preprint server)."""
    return venue is not None and venue.strip().lower() not in _PREPRINT_VENUES


class SemanticScholarSource:
    name = SEMANTIC_SCHOLAR

    def __init__(self, http: JsonHttp, batch_size: int = BATCH_LIMIT) -> None:
        if not 1 <= batch_size <= BATCH_LIMIT:
            raise ValueError(f"batch_size must be 1..{BATCH_LIMIT}")
        self.http = http
        self.batch_size = batch_size

    def close(self) -> None:
        self.http.close()

    def fetch_batch(self, papers: Sequence[PaperRef]) -> SourceAnswer:
        """Readings for up to `batch_size` papers; raises `RequestFailed` if the batch is lost."""
        if len(papers) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} papers per batch")
        answer = SourceAnswer()
        if not papers:
            return answer
        body = {"ids": [f"ARXIV:{paper.arxiv_id}" for paper in papers]}
        items = self.http.post("paper/batch", params={"fields": FIELDS}, body=body)
        if items is None:
            return answer  # 404 for the whole batch: nobody known
        if not isinstance(items, list):
            raise MalformedResponse(f"unexpected response shape ({type(items).__name__}, expected a list)")
        if len(items) != len(papers):
            # Without alignment a count could land on the wrong paper: drop the batch.
            raise MalformedResponse(
                f"answer not aligned with the request ({len(items)} items for {len(papers)} ids)"
            )
        for paper, item in zip(papers, items, strict=True):
            if item is None:
                continue
            if not isinstance(item, dict):
                answer.problems[paper.paper_id] = "unexpected item shape"
                continue
            readings = [
                Reading(paper.paper_id, self.name, name, value)
                for field_name, name in _READINGS
                if (value := count_value(item, field_name)) is not None
            ]
            if readings:
                if not (paper.journal_ref or "").strip() and is_real_venue(text_value(item, "venue")):
                    readings.append(Reading(paper.paper_id, self.name, VENUE_KNOWN, 1.0))
                answer.readings[paper.paper_id] = readings
            else:
                answer.problems[paper.paper_id] = "no usable citation counts"
        return answer
