"""Digest approval on Discord: the preview with its persistent "Approve and publish" button, and the click.

`DiscordApprovalNotifier.request_approval` (called by the monthly job when `approval = true`) posts the
draft to the approval channel: the digest embeds plus a button whose `custom_id` carries the month
(`trends:approve:2026-10`). The button is a `discord.ui.DynamicItem` registered on the bot, so a click
is understood after any number of restarts without storing views.

A click (`DiscordApprovals.on_click`) is acknowledged at once with a deferred update (no visible
"thinking"), then runs the ordinary `Publish(month)` command as the clicking member: the core checks
Manage Server (or `TRENDS_ADMIN_USER_IDS`) before anything is posted. One approval of a month runs at a
time (`PublishGate`) and the delivery engine posts each message once, so a double click or two admins
publish one thread per channel. The preview is then edited to the published digest with who approved
it and what was delivered; a refusal or any problem is told to the clicker only (ephemeral).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
import discord

from bot.chat.commands import Issue, Publish
from bot.chat.service import ChatService
from bot.delivery import DeliveryError
from bot.digest.views import DigestView
from bot.errors import TrendsError
from bot.scheduler.approval import (
    ApprovalTarget,
    PublishGate,
    already_delivered,
    approve_target,
    approve_value,
    parse_approve_value,
)

from .commands import invocation_for
from .render import CONTENT_LIMIT, clip, mentions_safe, parent_embeds

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
CUSTOM_ID_PREFIX = "trends:approve:"
# Loose on purpose: a month that does not parse still reaches the callback, which says so.
# The key is "month" or "month@audience" (bot.scheduler.approval.approve_value).
CUSTOM_ID_TEMPLATE = re.compile(
    re.escape(CUSTOM_ID_PREFIX) + r"(?P<month>[0-9]{1,4}-[0-9]{1,2}(?:@[a-z0-9][a-z0-9_-]{0,39})?)"
)
APPROVE_LABEL = "Approve and publish"
RETRY_LABEL = "Retry publishing"
STALE = "That button is not valid any more. An admin can publish with `/trends-admin publish`."
APOLOGY = "Sorry, something went wrong on our side. It has been logged; please try again later."


def approve_custom_id(month: str) -> str:
    return CUSTOM_ID_PREFIX + month


class ApproveButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=CUSTOM_ID_TEMPLATE,
):
    """The persistent button; discord.py rebuilds it from the `custom_id` of any clicked message."""

    def __init__(self, month: str, label: str = APPROVE_LABEL) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.success, custom_id=approve_custom_id(month)
            )
        )
        self.month = month

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ApproveButton:
        label = getattr(item, "label", None)
        return cls(match["month"], label if isinstance(label, str) and label else APPROVE_LABEL)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        approvals = getattr(interaction.client, "approvals", None)
        if isinstance(approvals, DiscordApprovals):
            await approvals.on_click(interaction, self.month)


def approval_view(month: str, label: str = APPROVE_LABEL) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ApproveButton(month, label))
    return view


def approval_note(digest: DigestView) -> str:
    whose = "" if digest.audience == "default" else f" of {mentions_safe(digest.audience)}"
    return (
        f"**Approval needed:** the {digest.month_label} digest{whose} is ready. A server manager can "
        "approve it to post it to every channel subscribed to it."
    )


class DiscordApprovalNotifier:
    """The scheduler's `ApprovalNotifier` for Discord (posts through the running bot's client)."""

    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def request_approval(self, target: ApprovalTarget, digest: DigestView) -> None:
        where = f"Discord approval channel {target.channel_id}"
        if not target.channel_id.isdigit() or not target.workspace_id.isdigit():
            raise DeliveryError(f"{where}: Discord ids are numbers; check TRENDS_APPROVAL_CHANNEL.")
        try:
            channel = self._client.get_channel(int(target.channel_id)) or await self._client.fetch_channel(
                int(target.channel_id)
            )
            if not isinstance(channel, discord.TextChannel | discord.Thread):
                raise DeliveryError(f"{where} is not a text channel or thread; use one for approvals.")
            if str(channel.guild.id) != target.workspace_id:
                raise DeliveryError(f"{where} is not in server {target.workspace_id}.")
            await channel.send(
                approval_note(digest),
                embeds=parent_embeds(digest),
                view=approval_view(approve_value(digest.month, digest.audience)),
                allowed_mentions=NO_MENTIONS,
            )
        except DeliveryError:
            raise
        except discord.Forbidden:
            raise DeliveryError(
                f"{where}: the bot may not post there. Give it View Channel, Send Messages and Embed Links."
            ) from None
        except discord.NotFound:
            raise DeliveryError(f"{where} was not found; was it deleted, or the bot removed?") from None
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"{where}: Discord could not be reached ({type(exc).__name__}).") from None


class DiscordApprovals:
    """Handles clicks on Approve buttons: publish as the clicking member, then edit the preview."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat
        self.gate = PublishGate()

    async def on_click(self, interaction: discord.Interaction[Any], value: str) -> None:
        await interaction.response.defer()  # a deferred update: Discord allows 3 s, publishing takes longer
        try:
            await self._approve(interaction, value)
        except Exception as exc:  # this callback's one error hook: a short line for the clicker
            if isinstance(exc, TrendsError):
                log.info("discord approval refused: %s", exc)
                await self._tell(interaction, str(exc))
            else:
                log.error("discord approval failed", exc_info=exc)
                await self._tell(interaction, APOLOGY)

    async def _approve(self, interaction: discord.Interaction[Any], value: str) -> None:
        key = parse_approve_value(value)
        if key is None:
            await self._tell(interaction, STALE)
            return
        month, audience = approve_target(key)
        inv = await invocation_for(interaction)
        approver = interaction.user.mention
        with self.gate.claim(key, approver) as claimed:
            if not claimed:
                holder = self.gate.holder(key)
                await self._tell(
                    interaction, f"The {month} digest is being published right now (approved by {holder})."
                )
                return
            reply = await self.chat.handle(inv, Publish(month, audience))
        report = reply.report
        if reply.kind != "published" or report is None:  # not an admin, or the digest is gone
            await self._tell(interaction, reply.text)
            return
        if already_delivered(report):  # a stale button: keep the first approver on the message
            await self._tell(
                interaction, f"The {month} digest was already published; nothing was posted again."
            )
            return
        issue = await self.chat.handle(inv, Issue(month, audience))
        content = clip(f"✅ Approved by {approver}. {mentions_safe(report.summary())}", CONTENT_LIMIT)
        edit: dict[str, Any] = {
            "content": content,
            "view": None if report.ok else approval_view(key, RETRY_LABEL),
            "allowed_mentions": NO_MENTIONS,
        }
        if issue.digest is not None:
            edit["embeds"] = parent_embeds(issue.digest)
        try:
            await interaction.edit_original_response(**edit)
        except discord.HTTPException as exc:  # the digest is out; only the preview is stale
            log.warning("could not edit the approval preview: %s", exc.status)
            await self._tell(interaction, content)

    async def _tell(self, interaction: discord.Interaction[Any], text: str) -> None:
        try:
            await interaction.followup.send(
                clip(mentions_safe(text), CONTENT_LIMIT), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException:  # the interaction expired: the log has the rest
            log.warning("could not answer an approval click", exc_info=True)
