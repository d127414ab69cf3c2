"""Which Web API client (which bot token) talks to a given Slack workspace.

Everything that calls Slack on its own initiative (the digest poster, the approval preview, `users.info`
for admin checks, chart uploads, `chat.update`) asks `WorkspaceClients.for_team(team_id)` for its
client instead of holding one:

- `SingleWorkspace`: today's set-up, one `SLACK_BOT_TOKEN`; the same client for every team id.
- `InstalledWorkspaces`: installs by OAuth; the bot token of that team's installation, read from the
  installation store on every call, so an uninstall takes effect on the very next message. A team
  without an installation raises `WorkspaceNotInstalled` (a `DeliveryError`: a delivery records it
  and resumes after a reinstall); one whose stored token no configured key decrypts raises
  `WorkspaceTokenUnreadable` (also a `DeliveryError`, naming the workspace, never the token).

Every client is built by `make_client`: optional base URL (a local fake, GovSlack), retries after
429s, and a logger that never writes slack_sdk's debug lines, which carry request and response bodies
(`oauth.v2.access` answers with the bot token in its body).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import DeliveryError
from bot.token_cipher import TokenUnreadable

RATE_LIMIT_RETRIES = 3

# slack_sdk logs each request's parameters and each response's body at DEBUG when its logger's level
# allows it; those include tokens (auth.test's `token`, oauth.v2.access's `access_token`). Our clients
# log through this logger, pinned at INFO so no DEBUG setting elsewhere turns those lines on.
WEB_API_LOGGER = "adapters.slack.webapi"
_web_api_log = logging.getLogger(WEB_API_LOGGER)
_web_api_log.setLevel(logging.INFO)


class WorkspaceNotInstalled(DeliveryError):
    """The app has no installation (so no token) for that workspace: never installed, or uninstalled."""


class WorkspaceTokenUnreadable(DeliveryError):
    """The workspace's stored token is unreadable (TRENDS_TOKEN_KEY changed): restore the key or reinstall."""


class WorkspaceClients(Protocol):
    async def for_team(self, team_id: str) -> AsyncWebClient:
        """The client carrying the bot token for workspace `team_id`."""
        ...


def make_client(api_url: str | None, token: str | None = None) -> AsyncWebClient:
    """A Web API client with the adapter's retry policy (`token` None: a client for OAuth calls)."""
    extra: dict[str, Any] = {}
    if api_url:
        extra["base_url"] = api_url
    return AsyncWebClient(
        token=token,
        # Slack asks clients to wait `Retry-After` seconds after a 429; the default handlers only
        # retry connection errors.
        retry_handlers=[*async_default_handlers(), AsyncRateLimitErrorRetryHandler(RATE_LIMIT_RETRIES)],
        logger=_web_api_log,
        **extra,
    )


class SingleWorkspace:
    """One bot token (SLACK_BOT_TOKEN) for whatever workspace is asked for."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def for_team(self, team_id: str) -> AsyncWebClient:
        return self.client


class InstalledWorkspaces:
    """Each workspace's own bot token, from the installation store (installs by OAuth)."""

    def __init__(self, store: AsyncInstallationStore, api_url: str | None) -> None:
        self._store = store
        self._api_url = api_url

    async def for_team(self, team_id: str) -> AsyncWebClient:
        try:
            bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id) if team_id else None
        except TokenUnreadable as exc:  # a delivery records it for this channel and goes on with the others
            raise WorkspaceTokenUnreadable(str(exc)) from None
        if bot is None:
            raise WorkspaceNotInstalled(
                f"The Slack app is not installed in workspace {team_id or '(unknown)'}: "
                "install it there at /slack/install, then publish again."
            )
        return make_client(self._api_url, bot.bot_token)


def as_workspace_clients(client: AsyncWebClient | WorkspaceClients) -> WorkspaceClients:
    """Accept a plain client (one workspace) wherever per-workspace clients are expected."""
    return SingleWorkspace(client) if isinstance(client, AsyncWebClient) else client
