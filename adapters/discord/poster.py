"""`DiscordPoster`: the delivery engine's `ThreadPoster` for Discord.

A digest goes to a text channel as a parent message (title, intro, numbered picks) with a public
thread started on it, one message per pick in the thread; to a forum channel as one forum post whose
starter message is the parent, picks as replies in the post. Each message carries its delivery marker
in an embed footer (found again by `find_posted` when the engine resumes after a crash) and, for
channel and thread messages, as an enforced nonce, so Discord itself returns the earlier message if
the same marker is sent again within its nonce window.

Rate limits are discord.py's (it waits on 429s and the bucket headers; a wait longer than the
client's `max_ratelimit_timeout` becomes an error); the engine adds its own ~1 message/s pacing.
A delivery that starts before the client has logged in (the scheduler of `trends run` starts with the
adapters) waits for the login, up to `LOGIN_WAIT_SECONDS`. Every platform failure leaves here as
`DeliveryError`, with a message that names the channel and the likely fix and never the token.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import aiohttp
import discord

from bot.delivery import ChannelRef, DeliveryError, Posted
from bot.digest.views import DigestView, EntryView

from .render import entry_embeds, link_buttons, message_has_marker, parent_embeds, thread_name

log = logging.getLogger(__name__)

NONCE_LIMIT = 25  # Discord's maximum nonce length
HISTORY_LIMIT = 300  # messages scanned per channel or thread when looking for a marker
LOGIN_WAIT_SECONDS = 60.0  # a delivery that starts while the bot logs in waits this long for it
LOGIN_POLL_SECONDS = 0.05
FORUM_POSTS_SCANNED = 25  # newest forum posts by the bot checked for a parent marker
THREAD_ALREADY_CREATED = 160004  # Discord's JSON error code
NO_MENTIONS = discord.AllowedMentions.none()
REQUIRED_PERMISSIONS = (
    "View Channel, Send Messages, Send Messages in Threads, Create Public Threads, Embed Links and "
    "Read Message History"
)


def nonce_for(marker: str) -> str:
    """A nonce unique to the marker and short enough for Discord (markers can exceed 25 chars)."""
    if len(marker) <= NONCE_LIMIT:
        return marker
    return "t" + hashlib.sha256(marker.encode()).hexdigest()[: NONCE_LIMIT - 1]


class DiscordPoster:
    """Posts digests through a logged-in `discord.Client` (see bot/delivery.py for the protocol)."""

    platform = "discord"

    def __init__(
        self,
        client: discord.Client,
        *,
        history_limit: int = HISTORY_LIMIT,
        login_wait: float = LOGIN_WAIT_SECONDS,
    ) -> None:
        self._client = client
        self._history_limit = history_limit
        self._login_wait = login_wait
        self._channels: dict[int, discord.abc.GuildChannel | discord.Thread] = {}

    # ------------------------------------------------------------------ ThreadPoster

    async def post_parent(self, channel: ChannelRef, digest: DigestView, marker: str) -> Posted:
        async with self._translated(channel):
            target = await self._resolve(channel)
            embeds = parent_embeds(digest, marker)
            if isinstance(target, discord.ForumChannel):
                created = await target.create_thread(
                    name=thread_name(digest), embeds=embeds, allowed_mentions=NO_MENTIONS
                )
                return Posted(message_id=str(created.message.id), thread_id=str(created.thread.id))
            message = await target.send(embeds=embeds, nonce=nonce_for(marker), allowed_mentions=NO_MENTIONS)
            thread_id = await self._ensure_thread(message, thread_name(digest))
            return Posted(message_id=str(message.id), thread_id=thread_id)

    async def post_reply(
        self, channel: ChannelRef, thread_id: str, digest: DigestView, entry: EntryView, marker: str
    ) -> Posted:
        async with self._translated(channel):
            thread = self._client.get_partial_messageable(
                int(thread_id), guild_id=int(channel.workspace_id), type=discord.ChannelType.public_thread
            )
            embeds = entry_embeds(entry, marker, month_label=digest.month_label)
            view = link_buttons(entry)
            if view is None:
                message = await thread.send(
                    embeds=embeds, nonce=nonce_for(marker), allowed_mentions=NO_MENTIONS
                )
            else:
                message = await thread.send(
                    embeds=embeds, view=view, nonce=nonce_for(marker), allowed_mentions=NO_MENTIONS
                )
            return Posted(message_id=str(message.id), thread_id=thread_id)

    async def find_posted(self, channel: ChannelRef, thread_id: str | None, marker: str) -> Posted | None:
        async with self._translated(channel):
            if thread_id is not None:
                messageable = self._client.get_partial_messageable(
                    int(thread_id), guild_id=int(channel.workspace_id), type=discord.ChannelType.public_thread
                )
                found = await self._scan(messageable.history(limit=self._history_limit), marker)
                return None if found is None else Posted(message_id=str(found.id), thread_id=thread_id)
            target = await self._resolve(channel)
            if isinstance(target, discord.ForumChannel):
                return await self._find_forum_post(target, marker)
            found = await self._scan(target.history(limit=self._history_limit), marker)
            if found is None:
                return None
            # The parent reached Discord but the crash may have come before its thread was started.
            name = found.embeds[0].title if found.embeds and found.embeds[0].title else "Trends in AI"
            thread_id = await self._ensure_thread(found, name[:100])
            return Posted(message_id=str(found.id), thread_id=thread_id)

    # ------------------------------------------------------------------ helpers

    async def _resolve(self, channel: ChannelRef) -> discord.TextChannel | discord.ForumChannel:
        """The subscribed channel (from the gateway cache, else fetched once over REST)."""
        channel_id = int(channel.channel_id)
        found = self._client.get_channel(channel_id) or self._channels.get(channel_id)
        if found is None:
            fetched = await self._client.fetch_channel(channel_id)
            if not isinstance(fetched, discord.abc.GuildChannel | discord.Thread):
                raise DeliveryError(
                    f"Discord channel {channel_id} is not a server channel; subscribe a text or forum one."
                )
            self._channels[channel_id] = found = fetched
        if isinstance(found, discord.ForumChannel | discord.TextChannel):
            return found
        raise DeliveryError(
            f"Discord channel {channel_id} can't hold a digest thread (it is a {type(found).__name__}); "
            "subscribe a text or forum channel instead."
        )

    async def _ensure_thread(self, message: discord.Message, name: str) -> str:
        """The id of the thread started on `message`, starting it if needed (a thread started from a
        message has the message's id, so "already created" is an answer too)."""
        if message.thread is not None:
            return str(message.thread.id)
        try:
            thread = await message.create_thread(name=name)
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_CREATED:
                return str(message.id)
            raise
        return str(thread.id)

    async def _scan(self, messages: AsyncIterator[discord.Message], marker: str) -> discord.Message | None:
        me = self._client.user
        async for message in messages:
            if (me is None or message.author.id == me.id) and message_has_marker(message, marker):
                return message
        return None

    async def _find_forum_post(self, forum: discord.ForumChannel, marker: str) -> Posted | None:
        """A forum post's starter message has the post's (thread's) id; check the bot's newest posts."""
        me = self._client.user
        candidates: dict[int, discord.Thread] = {}
        for thread in await forum.guild.active_threads():
            if thread.parent_id == forum.id:
                candidates[thread.id] = thread
        async for thread in forum.archived_threads(limit=FORUM_POSTS_SCANNED):
            candidates[thread.id] = thread
        mine: Iterable[discord.Thread] = (t for t in candidates.values() if me is None or t.owner_id == me.id)
        for thread in sorted(mine, key=lambda t: t.id, reverse=True)[:FORUM_POSTS_SCANNED]:
            try:
                starter = await thread.fetch_message(thread.id)
            except discord.NotFound:
                continue
            if message_has_marker(starter, marker):
                return Posted(message_id=str(starter.id), thread_id=str(thread.id))
        return None

    @asynccontextmanager
    async def _translated(self, channel: ChannelRef) -> AsyncIterator[None]:
        """Discord and network failures as `DeliveryError` (the engine records them and can resume)."""
        where = f"Discord channel {channel.channel_id}"
        await self._wait_for_login(where)
        try:
            yield
        except DeliveryError:
            raise
        except discord.Forbidden as exc:
            raise DeliveryError(
                self._clean(
                    f"{where}: the bot lacks permission ({exc.text or exc.status}). "
                    f"Give it {REQUIRED_PERMISSIONS} there."
                )
            ) from None
        except discord.NotFound as exc:
            raise DeliveryError(
                self._clean(
                    f"{where}: not found ({exc.text or exc.status}); was the channel or thread "
                    "deleted, or the bot removed from the server?"
                )
            ) from None
        except discord.RateLimited as exc:
            raise DeliveryError(
                f"{where}: Discord rate-limited the bot for {exc.retry_after:.0f}s; "
                "publish again later to resume."
            ) from None
        except discord.HTTPException as exc:
            raise DeliveryError(
                self._clean(f"{where}: Discord answered {exc.status} ({exc.text or 'no details'}).")
            ) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"{where}: could not reach Discord ({type(exc).__name__}).") from None

    async def _wait_for_login(self, where: str) -> None:
        """`trends run` starts the scheduler while the bot logs in; a resumed delivery can reach here
        first, and discord.py cannot send before its login (it raises AttributeError)."""
        deadline = time.monotonic() + self._login_wait
        while self._client.user is None:
            if self._client.is_closed() or time.monotonic() > deadline:
                raise DeliveryError(f"{where}: the bot is not logged in to Discord; publish again to resume.")
            await asyncio.sleep(LOGIN_POLL_SECONDS)

    def _clean(self, message: str) -> str:
        """Never let the bot token into a message that is stored or shown."""
        token = self._client.http.token
        return message.replace(token, "[token]") if token else message
