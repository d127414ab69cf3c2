"""Hugging Face papers API: community upvotes, and the paper's GitHub repo and stars when linked.

Two endpoints, both answering JSON where any field may be missing:

- `GET {base}/daily_papers?date=YYYY-MM-DD&limit=…&p=…` lists the papers featured that day: a list
  of entries, each with a `paper` object carrying `id` (the arXiv id), `upvotes` and, for papers with
  code, `githubRepo`/`githubStars`. One call covers a whole day, so a month costs about 30 calls
  instead of one per paper; long days are paged with `limit`/`p`.
- `GET {base}/papers/{arxiv_id}` answers one paper's object (same fields), 404 when Hugging Face
  never listed it. The refresh uses it only for a bounded set of papers the listings missed.

Only new-style arXiv ids (`2410.01234`) are listed on Hugging Face, so old-style ids are not asked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from bot.signals._shapes import count_value, text_value
from bot.signals.http import JsonHttp, MalformedResponse
from bot.signals.types import HUGGINGFACE

_NEW_STYLE_ID = re.compile(r"\d{4}\.\d{4,5}")
_LISTED_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v\d{1,3})?")
LISTING_PAGE_SIZE = 100
MAX_LISTING_PAGES = 20  # 2,000 papers a day is far beyond any real day: a server looping pages stops here


@dataclass(frozen=True, slots=True)
class HfPaper:
    upvotes: float | None
    github_repo: str | None  # as Hugging Face gives it, usually a github.com URL
    github_stars: float | None


@dataclass(slots=True)
class DailyListing:
    """One day's featured papers by arXiv id, and how many entries could not be read."""

    papers: dict[str, HfPaper] = field(default_factory=dict)
    unusable: int = 0
    pages: int = 0


def _paper_fields(payload: dict[str, Any]) -> HfPaper:
    return HfPaper(
        upvotes=count_value(payload, "upvotes"),
        github_repo=text_value(payload, "githubRepo"),
        github_stars=count_value(payload, "githubStars"),
    )


def listed_arxiv_id(value: object) -> str | None:
    """The base arXiv id of a listing entry's `id` (a version suffix dropped), or None if it is not one."""
    if not isinstance(value, str):
        return None
    match = _LISTED_ID.fullmatch(value.strip()[:40])
    return match.group(1) if match else None


class HuggingFaceSource:
    name = HUGGINGFACE

    def __init__(self, http: JsonHttp, page_size: int = LISTING_PAGE_SIZE) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.http = http
        self.page_size = page_size

    def close(self) -> None:
        self.http.close()

    @staticmethod
    def can_ask(arxiv_id: str) -> bool:
        return bool(_NEW_STYLE_ID.fullmatch(arxiv_id))

    def fetch(self, arxiv_id: str) -> HfPaper | None:
        """The paper's page data, or None when Hugging Face does not know it."""
        if not self.can_ask(arxiv_id):
            return None
        payload = self.http.get(f"papers/{arxiv_id}")
        if payload is None:
            return None
        if not isinstance(payload, dict):
            raise MalformedResponse(
                f"unexpected response shape ({type(payload).__name__}, expected an object)"
            )
        return _paper_fields(payload)

    def fetch_daily(self, day: dt.date) -> DailyListing:
        """The papers featured on `day`, all pages; raises `RequestFailed` if any page is lost.

        Entries that are not objects, lack a `paper` object or carry no usable arXiv id are counted
        in `unusable` and skipped. Paging stops at a short page, a page with nothing new (a server
        ignoring `p`), or `MAX_LISTING_PAGES`.
        """
        listing = DailyListing()
        for page in range(MAX_LISTING_PAGES):
            params = {"date": day.isoformat(), "limit": str(self.page_size), "p": str(page)}
            entries = self.http.get("daily_papers", params=params)
            listing.pages += 1
            if entries is None:
                return listing  # 404: no listing that day
            if not isinstance(entries, list):
                raise MalformedResponse(
                    f"unexpected listing shape ({type(entries).__name__}, expected a list)"
                )
            new = 0
            for entry in entries:
                paper = entry.get("paper") if isinstance(entry, dict) else None
                if not isinstance(paper, dict) or (arxiv_id := listed_arxiv_id(paper.get("id"))) is None:
                    listing.unusable += 1
                    continue
                new += arxiv_id not in listing.papers
                listing.papers[arxiv_id] = _paper_fields(paper)
            if len(entries) < self.page_size or new == 0:
                return listing
        return listing
