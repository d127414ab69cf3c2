"""Links from search results to the digest thread message that featured a paper, in the reader's workspace.

The core returns, for a featured hit, where each delivery of its digest was posted (`ThreadRef`:
workspace, channel, parent `ts`, and the paper's own reply `ts` when recorded). Only a delivery in
the reader's own workspace is linked (`FeaturedIn.thread_for`): a link into another workspace would
not open. A message link needs the workspace's domain (`https://<domain>.slack.com/archives/…`), so
it comes from `chat.getPermalink` (no extra scope), asked with that workspace's token and cached:
a message's permalink never changes. When Slack will not say (the bot left the channel, an error),
the link falls back to `app_redirect`, which opens the channel (it has no way to name a message)
and is not cached, so a later search can still get the exact link.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import urlencode

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.slack.blocks import safe_url
from adapters.slack.workspaces import WorkspaceClients
from bot.archive.views import PaperHit, ThreadRef
from bot.errors import TrendsError

log = logging.getLogger(__name__)

PLATFORM = "slack"
CACHE_ENTRIES = 4096
REDIRECT_URL = "https://slack.com/app_redirect"


def channel_redirect(team_id: str, channel_id: str) -> str:
    """Slack's documented redirect that opens a channel of a workspace."""
    return f"{REDIRECT_URL}?{urlencode({'team': team_id, 'channel': channel_id})}"


class Permalinks:
    """`chat.getPermalink` with a bounded cache, per workspace token."""

    def __init__(self, clients: WorkspaceClients, *, entries: int = CACHE_ENTRIES) -> None:
        self._clients = clients
        self._entries = entries
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    async def for_hits(self, team_id: str, hits: Iterable[PaperHit]) -> dict[str, str]:
        """{arXiv id: link} for the hits featured in a digest posted in workspace `team_id`."""
        refs = {
            hit.arxiv_id: ref
            for hit in hits
            if hit.featured is not None and (ref := hit.featured.thread_for(PLATFORM, team_id)) is not None
        }
        if not refs:
            return {}
        links = await asyncio.gather(*(self.link(team_id, ref) for ref in refs.values()))
        return dict(zip(refs, links, strict=True))

    async def link(self, team_id: str, ref: ThreadRef) -> str:
        """The permalink of the paper's reply in the thread (else of the thread's parent)."""
        ts = ref.paper_message_id or ref.message_id
        key = (team_id, ref.channel_id, ts)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            client = await self._clients.for_team(team_id)
            response = await client.chat_getPermalink(channel=ref.channel_id, message_ts=ts)
            url = response.get("permalink")
        except (
            TrendsError,
            SlackApiError,
            SlackClientError,
            aiohttp.ClientError,
            TimeoutError,
            OSError,
        ) as exc:
            log.info("no permalink for a digest message in %s: %s", ref.channel_id, type(exc).__name__)
            return channel_redirect(team_id, ref.channel_id)
        if not isinstance(url, str) or safe_url(url) is None:
            return channel_redirect(team_id, ref.channel_id)
        self._cache[key] = url
        if len(self._cache) > self._entries:
            self._cache.popitem(last=False)
        return url
