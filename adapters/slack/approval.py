"""`SlackApprovalNotifier`: the scheduler's `ApprovalNotifier` for Slack.

With `approval = true` the monthly job builds the draft and calls `request_approval`; this posts the
draft (title, intro, numbered picks) to the approval channel with an "Approve and publish" button
(Block Kit, `blocks.approval_request`). The click is handled by the app (`SlackBot.on_approve`), which
publishes as the clicking admin and updates this message. The bot must be a member of the approval
channel; if Slack refuses, the job is told with a `DeliveryError` that says what to do.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import approval_request
from adapters.slack.poster import slack_error_code
from adapters.slack.workspaces import WorkspaceClients, as_workspace_clients
from bot.delivery import DeliveryError
from bot.digest.views import DigestView
from bot.scheduler.approval import ApprovalTarget

log = logging.getLogger(__name__)


class SlackApprovalNotifier:
    platform = "slack"

    def __init__(self, client: AsyncWebClient | WorkspaceClients) -> None:
        self._clients = as_workspace_clients(client)

    async def request_approval(self, target: ApprovalTarget, digest: DigestView) -> None:
        message = approval_request(digest)
        try:
            client = await self._clients.for_team(target.workspace_id)
            await client.chat_postMessage(
                channel=target.channel_id,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            code = slack_error_code(exc)
            log.warning("slack refused the approval preview: %s", code)
            raise DeliveryError(
                f"Slack refused the approval preview of the {digest.month} digest in channel "
                f"{target.channel_id} ({code}). Invite the bot there (/invite @trends), or review it with "
                f"`/trends preview {digest.month}` and publish with `/trends publish {digest.month}`."
            ) from None
