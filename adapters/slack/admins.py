"""Who is a workspace admin on Slack: owners and admins from `users.info`, cached briefly.

The adapter asks this only for admin commands (so a search costs no extra API call). The answer is
cached per (team, user) for at most `ttl` seconds: short enough that a demoted admin loses access
within a minute, long enough that a burst of admin commands costs one lookup. If Slack cannot answer,
the user is treated as a non-admin (fail closed); ids listed in `TRENDS_ADMIN_USER_IDS` still work
because the core adds them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.poster import slack_error_code
from adapters.slack.workspaces import WorkspaceClients, WorkspaceNotInstalled, as_workspace_clients

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 60.0
_ADMIN_FLAGS = ("is_admin", "is_owner", "is_primary_owner")


class SlackAdmins:
    def __init__(
        self,
        client: AsyncWebClient | WorkspaceClients,
        ttl: float = ADMIN_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = as_workspace_clients(client)
        self._ttl = min(ttl, ADMIN_CACHE_SECONDS)
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}

    async def is_admin(self, team_id: str, user_id: str) -> bool:
        key = (team_id, user_id)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            client = await self._clients.for_team(team_id)
            response = await client.users_info(user=user_id)
        except (SlackApiError, SlackClientError, WorkspaceNotInstalled) as exc:
            log.warning("users.info failed for an admin check: %s", slack_error_code(exc))
            return False  # not cached: the next admin command asks again
        user = response.get("user")
        admin = isinstance(user, dict) and any(user.get(flag) is True for flag in _ADMIN_FLAGS)
        if len(self._cache) > 10_000:  # a long-running process should not grow without bound
            self._cache.clear()
        self._cache[key] = (now, admin)
        return admin
