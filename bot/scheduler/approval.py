"""The approval port: with `approval = true` the monthly job asks an admin before publishing.

The job builds the month's draft and hands it to the `ApprovalNotifier` of the platform named in
`approval_channel` ("platform:workspace:channel", e.g. "slack:T0123:C0456"). The adapter posts a
preview there with an Approve button whose value is `approve_value(month)`; when an admin clicks it,
the adapter runs the ordinary publish command (`ChatService.handle(inv, Publish(month))`), which
checks that the clicker is an admin and delivers the digest exactly once like any other publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from bot.digest.views import DigestView

APPROVE_ACTION = "trends_approve_digest"
_PLATFORMS = ("slack", "discord")
_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclass(frozen=True, slots=True)
class ApprovalTarget:
    platform: str
    workspace_id: str
    channel_id: str

    @classmethod
    def parse(cls, text: str) -> ApprovalTarget:
        """Parse "platform:workspace:channel"; `ValueError` with a readable message otherwise."""
        parts = [part.strip() for part in text.strip().split(":")]
        if len(parts) != 3 or parts[0].casefold() not in _PLATFORMS:
            raise ValueError(
                'must look like "slack:<team id>:<channel id>" or "discord:<guild id>:<channel id>"'
            )
        if not all(_ID.fullmatch(part) for part in parts[1:]):
            raise ValueError("workspace and channel must be platform ids (letters, digits, '-', '_', '.')")
        return cls(parts[0].casefold(), parts[1], parts[2])

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace_id}:{self.channel_id}"


def approve_value(month: str) -> str:
    """What the Approve button carries: the month to publish."""
    return month


class ApprovalNotifier(Protocol):
    """Posts a digest preview with an Approve button (implemented in adapters/)."""

    platform: str

    async def request_approval(self, target: ApprovalTarget, digest: DigestView) -> None: ...
