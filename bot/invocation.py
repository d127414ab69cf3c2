"""Who is asking, and where: the platform-free context of a chat command or an admin action.

A value below every service that checks permissions (audiences, subscriptions, chat), so none of them
imports a layer above it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Invocation:
    platform: str  # slack | discord
    workspace_id: str  # Slack team id / Discord guild id
    channel_id: str
    user_id: str
    user_name: str = ""
    # What the platform says about the user (Slack owner/admin, Discord Manage Server); the core adds
    # the ids listed in settings and checks on every admin command.
    is_platform_admin: bool = False
    channel_kind: str = "text"  # text | forum

    @property
    def actor(self) -> str:
        """How the user appears in logs and audit fields."""
        return f"{self.platform}:{self.workspace_id}:{self.user_id}"
