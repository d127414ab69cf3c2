"""The Discord bot: a discord.py `Client` with the `/trends` command tree, reactions and one error hook.

Intents are minimal: `guilds` (channels and threads, needed for app commands and posting) and
`guild_reactions` (👍/👎 on digest picks arrive as raw events, so they work on messages posted before a
restart). No message content, members or presences.

Invite it with the `bot` and `applications.commands` scopes and `BOT_PERMISSIONS` (View Channels,
Send Messages, Send Messages in Threads, Create Public Threads, Embed Links, Attach Files, Read
Message History, Add Reactions); `invite_url()` builds the link. Commands are synced on the first
`on_ready`: to each guild in `DISCORD_GUILD_IDS` (instant; the global commands are copied there) or
globally (Discord may take up to an hour to show them).

With `TRENDS_ALLOWED_WORKSPACES` set, the bot leaves any server that is not on the list as soon as it
joins (or, for servers joined while it was offline, when it connects), and logs that it did; commands
from such a server get only the core's refusal until Discord delivers the leave.

`trends run` passes its one shared `ChatService` as `chat=` (the bot adds its poster to it), so a
publish from Discord, Slack or the scheduler reaches every platform's channels. The approval button
(`approval.ApproveButton`) is registered as a dynamic item, so previews posted before a restart work;
so is the Share button under private answers (`share.ShareButton`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import aiohttp
import discord
import discord.gateway
import yarl
from discord import app_commands

from bot.bootstrap import Container
from bot.chat.service import ChatService
from bot.errors import ConfigError, SourceError, TrendsError
from bot.feedback import FeedbackService

from .approval import ApproveButton, DiscordApprovals
from .commands import build_runner
from .poster import DiscordPoster
from .render import text_reply
from .share import ShareButton

log = logging.getLogger(__name__)

PLATFORM = "discord"
BOT_SCOPES = ("bot", "applications.commands")
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
)
# A rate-limit wait longer than this fails the call (the delivery then resumes on the next publish)
# instead of holding an interaction or a scheduled job for minutes.
MAX_RATELIMIT_WAIT_SECONDS = 60.0
APOLOGY = "Sorry, something went wrong on our side. It has been logged; please try again later."
STALE_COMMAND = (
    "That command has just changed; Discord will show the new version shortly. Try again in a minute."
)
BAD_OPTION = "One of the options isn't valid: {}"


def bot_intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_reactions = True
    return intents


def invite_url(application_id: int) -> str:
    """The OAuth2 link that adds the bot to a server with exactly the permissions it needs."""
    return discord.utils.oauth_url(application_id, permissions=BOT_PERMISSIONS, scopes=BOT_SCOPES)


class TrendsTree(app_commands.CommandTree[discord.Client]):
    """The command tree with the adapter's one error hook."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """A short reply for the user (a `TrendsError`'s own message, else an apology); the traceback
        goes to the log, never to Discord."""
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(original, TrendsError):
            message = str(original)
            log.info("discord command refused: %s", message)
        elif isinstance(original, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            message = STALE_COMMAND
            log.warning("discord command out of sync with Discord: %s", original)
        elif isinstance(original, app_commands.TransformerError | app_commands.CheckFailure):
            message = BAD_OPTION.format(original)
            log.info("discord command option rejected: %s", original)
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "discord command /%s failed",
                command,
                exc_info=(type(original), original, original.__traceback__),
            )
            message = APOLOGY
        if interaction.type is discord.InteractionType.autocomplete:
            return  # an autocomplete can't show a message; the log has it
        rendered = text_reply(message, error=True)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(
                    rendered.content or "",
                    embeds=rendered.embeds or [],
                    ephemeral=True,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            else:
                await interaction.response.send_message(
                    rendered.content or "",
                    embeds=rendered.embeds or [],
                    ephemeral=True,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
        except discord.HTTPException:  # the interaction expired or was deleted: nothing more to do
            log.warning("could not send the error reply for an interaction", exc_info=True)


class TrendsBot(discord.Client):
    """The running bot: commands, digest poster and reaction feedback over one `Container`."""

    def __init__(
        self,
        container: Container,
        *,
        guild_ids: Sequence[int] | None = None,
        chat: ChatService | None = None,
    ) -> None:
        super().__init__(
            intents=bot_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_SECONDS,
        )
        self.guild_ids = list(container.settings.discord_guild_ids if guild_ids is None else guild_ids)
        self.poster = DiscordPoster(self)
        if chat is None:
            chat = ChatService(container)
        chat.posters[PLATFORM] = self.poster
        self.chat = chat
        self.feedback = FeedbackService(container.session_factory)
        self.tree = TrendsTree(self)
        # The runner also answers Share clicks (`share.ShareButton` finds it as `client.sharer`).
        self.sharer = build_runner(self.chat)
        for group in self.sharer.groups:
            self.tree.add_command(group)
        self.approvals = DiscordApprovals(self.chat)
        self.add_dynamic_items(ApproveButton, ShareButton)
        self._synced = False

    async def on_ready(self) -> None:
        for guild in list(self.guilds):  # servers that added the bot while it was offline
            await self.leave_if_not_allowed(guild)
        if not self._synced:  # on_ready fires again after reconnects
            await self.sync_commands()
            self._synced = True
        log.info("discord bot ready as %s in %d server(s)", self.user, len(self.guilds))
        if self.application_id is not None:
            log.info("invite link: %s", invite_url(self.application_id))

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.leave_if_not_allowed(guild)

    async def leave_if_not_allowed(self, guild: discord.Guild) -> bool:
        """Leave `guild` if TRENDS_ALLOWED_WORKSPACES is set and does not list it; True if it left."""
        if self.chat.allows_workspace(str(guild.id)):
            return False
        log.warning(
            "leaving Discord server %s (%s): it is not in TRENDS_ALLOWED_WORKSPACES", guild.id, guild.name
        )
        try:
            await guild.leave()
        except discord.HTTPException as exc:
            log.error("could not leave Discord server %s: HTTP %s", guild.id, exc.status)
            return False
        return True

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Register the slash commands with Discord (per guild when DISCORD_GUILD_IDS is set)."""
        if not self.guild_ids:
            synced = await self.tree.sync()
            log.info("synced %d global command(s)", len(synced))
            return synced
        synced = []
        for guild_id in self.guild_ids:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced += await self.tree.sync(guild=guild)
        log.info("synced commands to %d guild(s)", len(self.guild_ids))
        return synced

    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        await self._feedback(event, added=True)

    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        await self._feedback(event, added=False)

    async def _feedback(self, event: discord.RawReactionActionEvent, *, added: bool) -> None:
        """👍/👎 on a digest pick as a vote (the core ignores other messages and emoji)."""
        if event.guild_id is None or (self.user is not None and event.user_id == self.user.id):
            return
        record = self.feedback.react if added else self.feedback.unreact
        await asyncio.to_thread(
            record,
            PLATFORM,
            str(event.guild_id),
            str(event.user_id),
            str(event.message_id),
            event.emoji.name or "",
        )


def create_bot(container: Container, *, chat: ChatService | None = None) -> TrendsBot:
    """The bot for `trends serve discord` (or `trends run`, sharing `chat`); refuses to start without
    a token."""
    settings = container.settings
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise ConfigError(
            "DISCORD_TOKEN is not set. Create a bot at https://discord.com/developers/applications, "
            "copy its token into DISCORD_TOKEN, start the bot and open the invite link it logs."
        )
    if settings.discord_api_url:
        discord.http.Route.BASE = settings.discord_api_url
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    return TrendsBot(container, chat=chat)


LOGIN_REFUSED = (
    "Discord refused DISCORD_TOKEN. Reset the bot's token in the Developer Portal "
    "(https://discord.com/developers/applications → your app → Bot) and set DISCORD_TOKEN again."
)


@contextmanager
def _login_errors() -> Iterator[None]:
    """A refused token or an unreachable Discord as a one-line error instead of a traceback."""
    try:
        yield
    except discord.LoginFailure:
        raise ConfigError(LOGIN_REFUSED) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise SourceError(
            f"Could not reach Discord at {discord.http.Route.BASE} ({type(exc).__name__})."
        ) from None


async def serve(bot: TrendsBot, token: str) -> None:
    """Log in, connect to the gateway and run until cancelled."""
    async with bot:
        with _login_errors():
            await bot.start(token)


async def sync_only(bot: TrendsBot, token: str) -> str:
    """Log in over REST, register the slash commands and return the invite link (no gateway)."""
    async with bot:
        with _login_errors():
            await bot.login(token)
            await bot.sync_commands()
        assert bot.application_id is not None  # set by login
        return invite_url(bot.application_id)
