"""What a summarizer returns and the protocol every summarizer follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# v3: Key insights are bullets (one a line) and the Why is the problem without its background.
# v4: the Why leads with the gap in the digest's framing (`reframe`): no concession or background
# before it, "they" named, no "We find that…". Summaries cached under v3 are never served again.
OFFLINE_ID = "offline-v4"


@dataclass(frozen=True, slots=True)
class Summary:
    why: str
    insights: str
    # Which summarizer actually wrote it ("offline-v4", "llm-v3:<model>"): an LLM summarizer that fell
    # back says so, and the cache files the result under the one that produced it.
    source: str = OFFLINE_ID


class Summarizer(Protocol):
    @property
    def id(self) -> str: ...

    def summarize(self, title: str, abstract: str) -> Summary: ...
