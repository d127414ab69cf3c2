"""Summaries of a paper for the digest: "Why →" (the problem and why it matters) and "Key insights →"
(what is new and the main result).

Two summarizers share one small protocol. `OfflineSummarizer` is the default: deterministic, no
network, it reads the abstract alone, splits it into sentences, tells motivation from contribution
from result by cue words and position, and picks sentences for each part. `OpenAICompatibleSummarizer`
asks any OpenAI-compatible chat-completions server (title and abstract only, JSON out), parses the
answer strictly, and falls back to the offline summary on any failure. `SummaryCache` keeps results in
the `paper_summaries` table per paper, summarizer and paper version, so a rebuild costs no LLM call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import PaperSummary
from bot.settings import Settings

from .llm import (
    LLM_FIELD_MAX_CHARS,
    LLM_VERSION,
    MAX_CONSECUTIVE_FAILURES,
    SYSTEM_PROMPT,
    InvalidLLMOutput,
    OpenAICompatibleSummarizer,
    build_messages,
    llm_id,
    parse_llm_content,
)
from .offline import INSIGHTS_MAX_CHARS, WHY_MAX_CHARS, OfflineSummarizer
from .summary import OFFLINE_ID, Summarizer, Summary
from .text import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS, clean_text, split_sentences, truncate

__all__ = [
    "INSIGHTS_MAX_CHARS",
    "LLM_FIELD_MAX_CHARS",
    "LLM_VERSION",
    "MAX_ABSTRACT_CHARS",
    "MAX_CONSECUTIVE_FAILURES",
    "MAX_TITLE_CHARS",
    "OFFLINE_ID",
    "SYSTEM_PROMPT",
    "WHY_MAX_CHARS",
    "InvalidLLMOutput",
    "OfflineSummarizer",
    "OpenAICompatibleSummarizer",
    "PaperText",
    "Summarizer",
    "Summary",
    "SummaryCache",
    "build_messages",
    "clean_text",
    "llm_id",
    "make_summarizer",
    "parse_llm_content",
    "split_sentences",
    "truncate",
]


def make_summarizer(settings: Settings) -> OfflineSummarizer | OpenAICompatibleSummarizer:
    """The LLM summarizer when `TRENDS_LLM_BASE_URL` is set, otherwise the offline one."""
    if settings.llm_base_url and settings.llm_model:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return OpenAICompatibleSummarizer(
            settings.llm_base_url,
            settings.llm_model,
            api_key=key,
            timeout_seconds=settings.llm_timeout_seconds,
        )
    return OfflineSummarizer()


# --------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaperText:
    paper_id: int
    version: int
    title: str
    abstract: str


class SummaryCache:
    """Cached summaries in `paper_summaries`, keyed by paper and summarizer, valid for one version."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def lookup(self, papers: Iterable[PaperText], summarizer_id: str) -> dict[int, Summary]:
        by_id = {p.paper_id: p for p in papers}
        if not by_id:
            return {}
        rows = self._session.scalars(
            select(PaperSummary).where(
                PaperSummary.summarizer == summarizer_id, PaperSummary.paper_id.in_(list(by_id))
            )
        )
        return {
            row.paper_id: Summary(row.why, row.insights, row.summarizer)
            for row in rows
            if row.paper_version == by_id[row.paper_id].version
        }

    def store(self, papers: Mapping[int, PaperText], summaries: Mapping[int, Summary]) -> None:
        """Keep each summary under the summarizer that wrote it (a fallback is filed as offline)."""
        for paper_id, summary in summaries.items():
            version = papers[paper_id].version
            row = self._session.scalar(
                select(PaperSummary).where(
                    PaperSummary.paper_id == paper_id, PaperSummary.summarizer == summary.source
                )
            )
            if row is None:
                self._session.add(
                    PaperSummary(
                        paper_id=paper_id,
                        summarizer=summary.source,
                        paper_version=version,
                        why=summary.why,
                        insights=summary.insights,
                    )
                )
            else:
                row.paper_version = version
                row.why = summary.why
                row.insights = summary.insights
