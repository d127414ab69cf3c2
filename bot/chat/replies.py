"""What a chat command answers: a platform-free reply the adapters render.

`text` is always a complete plain-text answer (the fallback Slack requires and what a platform
without rich formatting shows). The typed payload next to it lets an adapter render a richer form:
Block Kit on Slack, embeds on Discord. Exactly one payload is set, named by `kind`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.archive.views import IssueSummary, SearchResult, TrendView
    from bot.delivery import DeliveryReport
    from bot.digest.views import DigestView, TopicView

ReplyKind = Literal["text", "help", "error", "search", "digest", "topics", "issues", "chart", "published"]


@dataclass(frozen=True, slots=True)
class Reply:
    kind: ReplyKind
    text: str
    ephemeral: bool = True
    search: SearchResult | None = None
    digest: DigestView | None = None
    topics: tuple[TopicView, ...] = ()
    issues: tuple[IssueSummary, ...] = ()
    trend: TrendView | None = None
    chart_png: bytes | None = None
    report: DeliveryReport | None = None
