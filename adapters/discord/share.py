"""The *Share* button under a private `/trends` answer: one click posts the answer for the channel.

Search, chart and digest answers are ephemeral by default (`public:True` on the command posts them
for everyone at once). Their ephemeral answer carries a Share button whose `custom_id` holds the
command to run again (`trends:share:s:<page>:<query>`, `…:c:<months>:<query>`, `…:i:<month>[@audience]`),
so the button is a `discord.ui.DynamicItem`: it works after restarts, and after the ephemeral message's
own 15 minutes, without storing anything. An ephemeral message cannot be re-posted as it is, so the
click runs the command again as the clicking member and posts the fresh answer in the channel, signed
"Shared by @member" (the mention does not ping: mentions are off on every message).

A command whose text does not fit Discord's 100-character `custom_id` gets no button: the `public`
option still shares it.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

import discord

from bot.chat import commands as c

log = logging.getLogger(__name__)

CUSTOM_ID_LIMIT = 100  # Discord's maximum custom_id length
CUSTOM_ID_PREFIX = "trends:share:"
CUSTOM_ID_TEMPLATE = re.compile(re.escape(CUSTOM_ID_PREFIX) + r"(?P<kind>[sci]):(?P<rest>.+)", re.DOTALL)
SHARE_LABEL = "Share"


class Sharer(Protocol):
    """What a click needs (the command runner provides it): run `command` and post it publicly."""

    async def share(self, interaction: discord.Interaction[Any], command: c.Command) -> None: ...


def share_custom_id(command: c.Command) -> str | None:
    """The `custom_id` that runs `command` again, or None when it cannot be shared by button."""
    match command:
        case c.Search(query=query, page=page):
            value = f"s:{page}:{query}"
        case c.Chart(query=query, months=months):
            value = f"c:{months}:{query}"
        case c.Issue(month=month, audience=audience) if month != "latest":
            value = f"i:{month}@{audience}" if audience else f"i:{month}"
        case _:
            return None
    custom_id = CUSTOM_ID_PREFIX + value
    return custom_id if len(custom_id) <= CUSTOM_ID_LIMIT else None


def command_of(kind: str, rest: str) -> c.Command | None:
    """The command a `custom_id` names, or None for one we did not write."""
    if kind == "i":
        month, _, audience = rest.partition("@")
        return c.Issue(month, audience or None) if month else None
    number, _, query = rest.partition(":")
    if not number.isdigit() or not query.strip():
        return None
    return c.Search(query, int(number)) if kind == "s" else c.Chart(query, int(number))


class ShareButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=CUSTOM_ID_TEMPLATE):
    """The persistent Share button; discord.py rebuilds it from the `custom_id` of any clicked message."""

    def __init__(self, custom_id: str, command: c.Command | None = None) -> None:
        super().__init__(
            discord.ui.Button(label=SHARE_LABEL, style=discord.ButtonStyle.secondary, custom_id=custom_id)
        )
        self.command = command

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> ShareButton:
        return cls(match.group(0), command_of(match["kind"], match["rest"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        sharer: Sharer | None = getattr(interaction.client, "sharer", None)
        if sharer is None or self.command is None:  # not our bot, or a custom_id we did not write
            log.info("ignoring a share click with custom_id %r", self.custom_id[:CUSTOM_ID_LIMIT])
            return
        await sharer.share(interaction, self.command)


def share_view(command: c.Command | None) -> discord.ui.View | None:
    """A view with the Share button for `command`, or None when it cannot carry one."""
    custom_id = share_custom_id(command) if command is not None else None
    if custom_id is None:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(ShareButton(custom_id, command))
    return view
