"""The approval port: with `approval = true` the monthly job asks an admin before publishing.

The job builds the month's draft and hands it to the `ApprovalNotifier` of the platform named in
`approval_channel` ("platform:workspace:channel", e.g. "slack:T0123:C0456"). The adapter posts a
preview there with an Approve button whose value is `approve_value(month)`; when an admin clicks it,
the adapter runs the ordinary publish command (`ChatService.handle(inv, Publish(month))`), which
checks that the clicker is an admin and delivers the digest exactly once like any other publish.

Also here, because both adapters need them and they are not about any platform: `parse_approve_value`
(a clicked button's value back to a month, or None for anything that is not ours), `PublishGate` (one
approval of a month at a time in this process, so a double click or two admins clicking together
publish once and the later click is told who is publishing), and `already_delivered` (a click on a
stale button that found every channel already posted).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from bot.audiences import DEFAULT_AUDIENCE
from bot.delivery import DeliveryReport
from bot.digest.views import DigestView
from bot.errors import ValidationError
from bot.months import Month
from bot.setting_values import ApprovalTarget as ApprovalTarget  # re-exported: the port uses it

APPROVE_ACTION = "trends_approve_digest"
_AUDIENCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def approve_value(month: str, audience: str | None = None) -> str:
    """What the Approve button carries: the month to publish, and the audience unless `default`
    ("2026-10", "2026-10@vision"); buttons posted before audiences carry the month alone."""
    if audience is None or audience == DEFAULT_AUDIENCE:
        return month
    return f"{month}@{audience}"


def parse_approve_value(value: object) -> str | None:
    """The normalised value an Approve button carries ("2026-10" or "2026-10@vision"), or None when
    it is not one of ours. `approve_target` splits it."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    month_text, _, audience = value.partition("@")
    try:
        month = str(Month.parse(month_text))
    except ValidationError:
        return None
    if audience and not _AUDIENCE.fullmatch(audience):
        return None
    return approve_value(month, audience or None)


def approve_target(value: str) -> tuple[str, str | None]:
    """(month, audience or None for `default`) of a value `parse_approve_value` accepted."""
    month, _, audience = value.partition("@")
    return month, audience or None


def already_delivered(report: DeliveryReport) -> bool:
    """True when a publish found every subscribed channel already posted (nothing new went out)."""
    return bool(report.outcomes) and all(outcome.status == "skipped" for outcome in report.outcomes)


class PublishGate:
    """At most one approval-driven publish of a month at a time in this process.

    The delivery engine already refuses to post a message twice, but two publishes of the same month
    running side by side would race for the same rows; clicks are serialised here instead, and the
    later one learns who is publishing. Single event loop, no await between check and claim: no lock.
    """

    def __init__(self) -> None:
        self._publishing: dict[str, str] = {}  # month -> who approved it

    def holder(self, month: str) -> str | None:
        return self._publishing.get(month)

    @contextmanager
    def claim(self, month: str, who: str) -> Iterator[bool]:
        """Yields True while `who` holds the month, False (and holds nothing) if someone else does."""
        if month in self._publishing:
            yield False
            return
        self._publishing[month] = who
        try:
            yield True
        finally:
            del self._publishing[month]


class ApprovalNotifier(Protocol):
    """Posts a digest preview with an Approve button (implemented in adapters/)."""

    platform: str

    async def request_approval(self, target: ApprovalTarget, digest: DigestView) -> None: ...
