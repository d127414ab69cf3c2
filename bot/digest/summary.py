"""What a summarizer returns and the protocol every summarizer follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

OFFLINE_ID = "offline-v2"


@dataclass(frozen=True, slots=True)
class Summary:
    why: str
    insights: str
    # Which summarizer actually wrote it ("offline-v2", "llm:<model>"): an LLM summarizer that fell
    # back says so, and the cache files the result under the one that produced it.
    source: str = OFFLINE_ID


class Summarizer(Protocol):
    @property
    def id(self) -> str: ...

    def summarize(self, title: str, abstract: str) -> Summary: ...
