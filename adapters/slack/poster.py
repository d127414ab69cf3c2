"""`SlackPoster`: the delivery engine's `ThreadPoster` for Slack.

Each channel is posted to with the bot token of its workspace (see `adapters/slack/workspaces.py`): the
one SLACK_BOT_TOKEN, or the workspace's OAuth installation; a workspace without one (uninstalled) gets
a `DeliveryError` saying to install the app again, and no call to Slack.

A digest becomes a parent message (title, intro, numbered linked picks) and one threaded reply per
pick. Each message carries Slack message metadata
`{"event_type": "trends_digest_message", "event_payload": {"marker": marker}}`, so after a crash
`find_posted` can look the message up again (`conversations.history` for the parent,
`conversations.replies` inside the thread) and the engine adopts it instead of posting twice.

Pacing is the engine's job; 429s are retried by the `AsyncWebClient`'s rate-limit retry handler
(after `Retry-After`). Anything else Slack refuses becomes a `DeliveryError` naming Slack's error code,
never the token or the raw response.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.blocks import SlackMessage, digest_summary, pick_message
from adapters.slack.workspaces import WorkspaceClients, as_workspace_clients
from bot.delivery import ChannelRef, DeliveryError, Posted
from bot.digest.views import DigestView, EntryView

log = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "trends_digest_message"
# How far back `find_posted` looks for a parent: a crash is found and resumed within minutes, while a
# busy channel may have had a few hundred messages since; beyond that we post again rather than page
# through a channel's whole history.
HISTORY_PAGE_SIZE = 200
HISTORY_MAX_PAGES = 3
REPLIES_MAX_PAGES = 5


def slack_error_code(exc: BaseException) -> str:
    """Slack's short error code (`channel_not_found`, `ratelimited`, …) without the raw response."""
    if isinstance(exc, SlackApiError):
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        return str(data.get("error") or f"http_{exc.response.status_code}")
    return type(exc).__name__


class SlackPoster:
    """Posts digests as threads, each channel with the bot token of its workspace (`channel.workspace_id`):
    one `AsyncWebClient` for a single workspace, or `WorkspaceClients` for installs by OAuth."""

    platform = "slack"

    def __init__(self, clients: AsyncWebClient | WorkspaceClients) -> None:
        self._clients = as_workspace_clients(clients)

    async def _call(self, what: str, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
        try:
            return await call
        except SlackApiError as exc:
            code = slack_error_code(exc)
            log.warning("slack %s failed: %s", what, code)
            raise DeliveryError(f"Slack refused {what}: {code}") from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("slack %s failed: %s", what, type(exc).__name__)
            raise DeliveryError(f"Slack could not be reached for {what} ({type(exc).__name__})") from None

    async def _post(
        self, channel: ChannelRef, message: SlackMessage, marker: str, thread_ts: str | None
    ) -> Posted:
        kwargs: dict[str, Any] = {
            "channel": channel.channel_id,
            "text": message.text,
            "blocks": message.blocks,
            "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": {"marker": marker}},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts is not None:
            kwargs["thread_ts"] = thread_ts
        client = await self._clients.for_team(channel.workspace_id)
        response = await self._call("chat.postMessage", client.chat_postMessage(**kwargs))
        ts = response.get("ts")
        if not isinstance(ts, str) or not ts:
            raise DeliveryError("Slack accepted chat.postMessage but returned no message ts")
        return Posted(message_id=ts, thread_id=thread_ts or ts)

    async def post_parent(self, channel: ChannelRef, digest: DigestView, marker: str) -> Posted:
        return await self._post(channel, digest_summary(digest, with_thread_note=True), marker, None)

    async def post_reply(
        self, channel: ChannelRef, thread_id: str, digest: DigestView, entry: EntryView, marker: str
    ) -> Posted:
        return await self._post(channel, pick_message(entry), marker, thread_id)

    async def find_posted(self, channel: ChannelRef, thread_id: str | None, marker: str) -> Posted | None:
        if thread_id is None:
            return await self._find_in_history(channel, marker)
        return await self._find_in_thread(channel, thread_id, marker)

    async def _find_in_history(self, channel: ChannelRef, marker: str) -> Posted | None:
        client = await self._clients.for_team(channel.workspace_id)

        def page(cursor: str | None) -> Awaitable[AsyncSlackResponse]:
            return client.conversations_history(
                channel=channel.channel_id, include_all_metadata=True, limit=HISTORY_PAGE_SIZE, cursor=cursor
            )

        ts = await self._scan("conversations.history", HISTORY_MAX_PAGES, page, marker)
        return None if ts is None else Posted(message_id=ts, thread_id=ts)

    async def _find_in_thread(self, channel: ChannelRef, thread_id: str, marker: str) -> Posted | None:
        client = await self._clients.for_team(channel.workspace_id)

        def page(cursor: str | None) -> Awaitable[AsyncSlackResponse]:
            return client.conversations_replies(
                channel=channel.channel_id,
                ts=thread_id,
                include_all_metadata=True,
                limit=HISTORY_PAGE_SIZE,
                cursor=cursor,
            )

        ts = await self._scan("conversations.replies", REPLIES_MAX_PAGES, page, marker)
        return None if ts is None else Posted(message_id=ts, thread_id=thread_id)

    async def _scan(
        self,
        what: str,
        max_pages: int,
        page: Callable[[str | None], Awaitable[AsyncSlackResponse]],
        marker: str,
    ) -> str | None:
        """The ts of the message carrying `marker`, reading at most `max_pages` pages of `what`."""
        cursor: str | None = None
        for _ in range(max_pages):
            response = await self._call(what, page(cursor))
            for message in response.get("messages") or []:
                if _marker_of(message) == marker and isinstance(message.get("ts"), str):
                    return str(message["ts"])
            cursor = _next_cursor(response)
            if cursor is None:
                return None
        return None


def _marker_of(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    marker = payload.get("marker") if isinstance(payload, dict) else None
    return marker if isinstance(marker, str) else None


def _next_cursor(response: AsyncSlackResponse) -> str | None:
    meta = response.get("response_metadata")
    cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
    return cursor if isinstance(cursor, str) and cursor else None
