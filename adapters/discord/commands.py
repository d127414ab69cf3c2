"""The `/trends` and `/trends-admin` slash commands: Discord options in, core `Command`s out.

Discord applies `default_member_permissions` to top-level commands only (it is ignored on
sub-commands), so the admin commands live in their own top-level group, `/trends-admin`, hidden by
default from members without Manage Server. Server admins can change who sees it, so that is only a
hint: every command passes `interaction.permissions.manage_guild` to the core as
`Invocation.is_platform_admin`, and the core checks it (plus `TRENDS_ADMIN_USER_IDS`) before any
admin command changes anything.

    /trends help | search <query> [page] [public] | chart <query> [months] [public] | latest [public]
            | issue [month] [public] | issues | topics
    /trends-admin topics add|edit|remove|enable|disable … [audience]
    /trends-admin subscribe [audience] | unsubscribe | preview [month] [audience] | publish [month] [audience]

`audience` names the team whose topics or digest the command is about (default: the audience this
channel is subscribed to). The core decides whether this member may administer it.

Each handler defers at once (Discord allows 3 s for the first answer), builds the same `Command`
dataclass the Slack parser builds, awaits `ChatService.handle` and sends the rendered reply as a
follow-up. User text is passed through unchanged: the core validates it.

Answers are private (ephemeral) unless the member asks otherwise. The deferral fixes whether the
answer is public before the core has answered, so `public:True` on search, chart, latest and issue
defers publicly; if the core then answers with an error or nothing found, the public "thinking…"
placeholder is deleted and the answer goes to the member alone. A private search, chart or digest
answer carries a *Share* button (`adapters/discord/share.py`) that posts it for the channel later.
Search hits featured in a digest posted in this server link to their message in the digest thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

import discord
from discord import app_commands

from bot.chat import commands as c
from bot.chat.replies import Reply
from bot.chat.service import ChatService
from bot.digest.topics import TopicChanges, TopicDraft
from bot.errors import TrendsError, ValidationError
from bot.invocation import Invocation
from bot.months import Month

from .render import CHOICE_NAME_LIMIT, CONTENT_LIMIT, Rendered, clip, help_embed, is_shareable, render_reply
from .share import share_view

log = logging.getLogger(__name__)

PLATFORM = "discord"
MAX_CHOICES = 25  # Discord's limit for autocomplete answers
RECENT_MONTHS = 12  # months offered by the month autocomplete besides past digests
NO_MENTIONS = discord.AllowedMentions.none()
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
AUDIENCE_HELP = "The team whose topics and digest this is (default: this channel's audience)"
SHARE_APOLOGY = "Sorry, that could not be shared. It has been logged; please try again in a minute."
PUBLIC_HELP = "Post the answer in this channel for everyone (default: only you see it)"
# Subscriptions, votes and admin rights are per server: the commands are not offered in DMs.
SERVERS_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)


def is_server_admin(permissions: discord.Permissions) -> bool:
    return permissions.manage_guild or permissions.administrator


def phrases(value: str | None) -> tuple[str, ...] | None:
    """A comma-separated option as the phrases the core expects (None: option not given)."""
    if value is None:
        return None
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def example_ids(value: str | None) -> tuple[str, ...] | None:
    """arXiv ids separated by commas or spaces."""
    if value is None:
        return None
    return tuple(dict.fromkeys(value.replace(",", " ").split()))


def usage_lines(groups: Sequence[app_commands.Group], *, is_admin: bool) -> list[tuple[str, str]]:
    """Help entries straight from the registered commands, so help never drifts from the tree."""
    lines = []
    for group in groups:
        if group.default_permissions is not None and not is_admin:
            continue
        for command in group.walk_commands():
            if isinstance(command, app_commands.Command):
                params = " ".join(f"<{p.name}>" if p.required else f"[{p.name}]" for p in command.parameters)
                lines.append((f"/{command.qualified_name} {params}".strip(), command.description))
    return lines


async def invocation_for(interaction: discord.Interaction, *, subscription: bool = False) -> Invocation:
    """Who asks and where. For (un)subscribing, a thread means its parent channel: a digest is
    posted into a text or forum channel, never into a thread."""
    if interaction.guild_id is None:
        raise ValidationError("Use /trends in a server channel; it doesn't work in direct messages.")
    channel = interaction.channel
    channel_id = str(interaction.channel_id or "")
    kind = "forum" if isinstance(channel, discord.ForumChannel) else "text"
    if subscription and isinstance(channel, discord.Thread):
        parent: object = channel.parent
        if parent is None:
            try:
                parent = await interaction.client.fetch_channel(channel.parent_id)
            except discord.HTTPException:
                parent = None
        if not isinstance(parent, discord.TextChannel | discord.ForumChannel):
            raise ValidationError(
                "I can't see this thread's parent channel. Run the command in the channel itself."
            )
        channel_id = str(parent.id)
        kind = "forum" if isinstance(parent, discord.ForumChannel) else "text"
    return Invocation(
        platform=PLATFORM,
        workspace_id=str(interaction.guild_id),
        channel_id=channel_id,
        user_id=str(interaction.user.id),
        user_name=interaction.user.display_name,
        is_platform_admin=is_server_admin(interaction.permissions),
        channel_kind=kind,
    )


class CommandRunner:
    """Turns an interaction plus a `Command` into a deferred, rendered, ephemeral reply."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat
        self.groups: list[app_commands.Group] = []

    async def run(
        self,
        interaction: discord.Interaction,
        command: c.Command,
        *,
        subscription: bool = False,
        public: bool = False,
    ) -> None:
        # The deferral decides, once and for all, whether the placeholder and the answer are public.
        await interaction.response.defer(ephemeral=not public, thinking=True)
        invocation = await self.invocation(interaction, subscription=subscription)
        reply = await self.chat.handle(invocation, command)
        await self.send(interaction, reply, invocation, command=command, public=public)

    async def invocation(self, interaction: discord.Interaction, *, subscription: bool = False) -> Invocation:
        return await invocation_for(interaction, subscription=subscription)

    async def send(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        invocation: Invocation,
        *,
        command: c.Command | None = None,
        public: bool = False,
    ) -> None:
        rendered = render_reply(reply, invocation.workspace_id)
        if reply.kind == "help":
            is_admin = self.chat.is_admin(invocation)
            rendered = Rendered(
                embeds=[help_embed(usage_lines(self.groups, is_admin=is_admin), is_admin=is_admin)]
            )
        if public and is_shareable(reply):
            await send_followup(interaction, rendered, ephemeral=False)
            return
        if public:  # an error or nothing found: not for the channel
            await withdraw_placeholder(interaction)
            await send_followup(interaction, rendered, ephemeral=True)
            return
        view = share_view(shared_command(command, reply)) if is_shareable(reply) else None
        await send_followup(interaction, rendered, ephemeral=reply.ephemeral, view=view)

    async def share(self, interaction: discord.Interaction, command: c.Command) -> None:
        """A Share click: run `command` again as the clicker and post the answer for the channel."""
        await interaction.response.defer(thinking=True)  # public: a new message in the channel
        try:
            invocation = await self.invocation(interaction)
            reply = await self.chat.handle(invocation, command)
        except Exception as exc:  # this callback's error hook: a private line for the clicker
            if not isinstance(exc, TrendsError):
                log.error("discord share failed", exc_info=exc)
            reply = Reply(kind="error", text=str(exc) if isinstance(exc, TrendsError) else SHARE_APOLOGY)
            invocation = None
        if invocation is None or not is_shareable(reply):
            await withdraw_placeholder(interaction)
            await send_followup(interaction, render_reply(reply), ephemeral=True)
            return
        rendered = render_reply(reply, invocation.workspace_id)
        rendered.content = clip(f"Shared by {interaction.user.mention}", CONTENT_LIMIT)
        await send_followup(interaction, rendered, ephemeral=False)

    # ------------------------------------------------------------------ autocomplete

    def _allowed(self, interaction: discord.Interaction) -> bool:
        """Autocomplete outside TRENDS_ALLOWED_WORKSPACES offers nothing (commands get the refusal)."""
        return interaction.guild_id is not None and self.chat.allows_workspace(str(interaction.guild_id))

    async def audience_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not self._allowed(interaction):
            return []
        try:
            names = await asyncio.to_thread(self.chat.audiences.names)
        except Exception:
            log.exception("audience autocomplete failed")
            return []
        wanted = current.strip().casefold()
        return [app_commands.Choice(name=n, value=n) for n in names if wanted in n][:MAX_CHOICES]

    async def topic_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not self._allowed(interaction):
            return []
        named = getattr(interaction.namespace, "audience", None)
        try:
            audience = named if isinstance(named, str) and named else None
            if audience is None:
                audience = await asyncio.to_thread(
                    self.chat.audiences.of_channel,
                    PLATFORM,
                    str(interaction.guild_id),
                    str(interaction.channel_id or ""),
                )
            topics = await asyncio.to_thread(partial(self.chat.topics.list_topics, audience=audience))
        except Exception:  # an autocomplete can't show an error; log it and offer nothing
            log.exception("topic autocomplete failed")
            return []
        wanted = current.strip().casefold()
        names = [t.name for t in topics if wanted in t.name.casefold()]
        return [app_commands.Choice(name=clip(n, CHOICE_NAME_LIMIT), value=n) for n in names[:MAX_CHOICES]]

    async def month_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Months with a digest (titled), then the last twelve calendar months (what is harvested)."""
        if not self._allowed(interaction):
            return []
        try:
            issues = await asyncio.to_thread(self.chat.archive.list_issues)
        except Exception:
            log.exception("month autocomplete failed")
            issues = []
        labels: dict[str, str] = {}
        for issue in sorted(issues, key=lambda i: i.month, reverse=True):
            draft = " (draft)" if issue.status != "published" else ""
            labels[issue.month] = f"{issue.month} — {issue.title}{draft}"
        month = Month.current()
        for _ in range(RECENT_MONTHS):
            labels.setdefault(str(month), f"{month} ({month.label})")
            month = month.previous()
        wanted = current.strip().casefold()
        matching = [(m, label) for m, label in labels.items() if wanted in label.casefold()]
        return [
            app_commands.Choice(name=clip(label, CHOICE_NAME_LIMIT), value=m)
            for m, label in matching[:MAX_CHOICES]
        ]


def shared_command(command: c.Command | None, reply: Reply) -> c.Command | None:
    """What a Share button runs again: the command itself, or for a digest the month it showed (so
    sharing `latest` later still shares the digest the member saw)."""
    if reply.kind == "digest" and reply.digest is not None:
        return c.Issue(reply.digest.month, reply.digest.audience)
    return command


async def withdraw_placeholder(interaction: discord.Interaction) -> None:
    """Delete the public "thinking…" placeholder, so the next follow-up is a new, private message."""
    try:
        await interaction.delete_original_response()
    except discord.HTTPException:  # it stays and the follow-up replaces it: public, but answered
        log.warning("could not withdraw a public placeholder", exc_info=True)


async def send_followup(
    interaction: discord.Interaction,
    rendered: Rendered,
    *,
    ephemeral: bool,
    view: discord.ui.View | None = None,
) -> None:
    """Send after a defer (the first follow-up replaces the "thinking…" message)."""
    followup = interaction.followup
    content = rendered.content or ""
    embeds = rendered.embeds or []
    extra: dict[str, Any] = {}
    if rendered.file is not None:
        extra["file"] = rendered.file
    if view is not None:
        extra["view"] = view
    await followup.send(content, embeds=embeds, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS, **extra)


class TrendsGroup(app_commands.Group):
    """`/trends …`: reading digests and searching the archive (everyone)."""

    def __init__(self, runner: CommandRunner) -> None:
        super().__init__(
            name="trends",
            description="The monthly Trends in AI digest and its paper archive",
            guild_only=True,
            allowed_contexts=SERVERS_ONLY,
        )
        self.runner = runner

    @app_commands.command(name="help", description="What /trends can do")
    async def help_command(self, interaction: discord.Interaction) -> None:
        await self.runner.run(interaction, c.Help())

    @app_commands.command(name="search", description="Search past digests and the paper archive")
    @app_commands.describe(
        query="e.g. diffusion author:Ho since:2026-01", page="Result page (5 per page)", public=PUBLIC_HELP
    )
    async def search(
        self,
        interaction: discord.Interaction,
        query: str,
        page: app_commands.Range[int, 1, 100] = 1,
        public: bool = False,
    ) -> None:
        await self.runner.run(interaction, c.Search(query, page), public=public)

    @app_commands.command(name="chart", description="Monthly trend of a query, as a chart")
    @app_commands.describe(
        query="What to chart, e.g. diffusion", months="How many months (default 12)", public=PUBLIC_HELP
    )
    async def chart(
        self,
        interaction: discord.Interaction,
        query: str,
        months: app_commands.Range[int, 2, 60] = 12,
        public: bool = False,
    ) -> None:
        await self.runner.run(interaction, c.Chart(query, months), public=public)

    @app_commands.command(name="latest", description="The latest digest")
    @app_commands.describe(public=PUBLIC_HELP)
    async def latest(self, interaction: discord.Interaction, public: bool = False) -> None:
        await self.runner.run(interaction, c.Latest(), public=public)

    @app_commands.command(name="issue", description="The digest of a month")
    @app_commands.describe(month="YYYY-MM (default: the latest)", public=PUBLIC_HELP)
    async def issue(
        self, interaction: discord.Interaction, month: str = "latest", public: bool = False
    ) -> None:
        await self.runner.run(interaction, c.Issue(month), public=public)

    @issue.autocomplete("month")
    async def _issue_months(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.runner.month_choices(interaction, current)

    @app_commands.command(name="issues", description="All past digests")
    async def issues(self, interaction: discord.Interaction) -> None:
        await self.runner.run(interaction, c.Issues())

    @app_commands.command(name="topics", description="The topics the ranking follows")
    @app_commands.describe(audience="Whose topics (default: this channel's audience)")
    async def topics(self, interaction: discord.Interaction, audience: str | None = None) -> None:
        await self.runner.run(interaction, c.TopicsList(audience))

    @topics.autocomplete("audience")
    async def _topics_audience(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.runner.audience_choices(interaction, current)


class TopicsAdminGroup(app_commands.Group):
    """`/trends-admin topics …`: change the topics the ranking scores against."""

    def __init__(self, runner: CommandRunner) -> None:
        super().__init__(name="topics", description="Add, edit, remove, enable or disable topics")
        self.runner = runner

    @app_commands.command(name="add", description="Add a topic")
    @app_commands.describe(
        name="The topic's name",
        include="Comma-separated phrases that mark a paper as on-topic",
        exclude="Comma-separated phrases that rule a paper out",
        description="One line about the topic",
        examples="arXiv ids of typical papers, e.g. 2410.01234",
        weight="How much the topic counts (default 1.0)",
        audience=AUDIENCE_HELP,
    )
    async def add(
        self,
        interaction: discord.Interaction,
        name: str,
        include: str | None = None,
        exclude: str | None = None,
        description: str | None = None,
        examples: str | None = None,
        weight: float | None = None,
        audience: str | None = None,
    ) -> None:
        draft = TopicDraft(
            name=name,
            description=description or "",
            include=phrases(include) or (),
            exclude=phrases(exclude) or (),
            examples=example_ids(examples) or (),
            weight=1.0 if weight is None else weight,
        )
        await self.runner.run(interaction, c.TopicsAdd(draft, audience))

    @app_commands.command(name="edit", description="Change a topic (options you leave out stay as they are)")
    @app_commands.describe(
        topic="The topic to change",
        rename="A new name",
        include="Comma-separated phrases (replaces the list)",
        exclude="Comma-separated phrases (replaces the list)",
        description="One line about the topic",
        examples="arXiv ids (replaces the list)",
        weight="How much the topic counts",
        audience=AUDIENCE_HELP,
    )
    async def edit(
        self,
        interaction: discord.Interaction,
        topic: str,
        rename: str | None = None,
        include: str | None = None,
        exclude: str | None = None,
        description: str | None = None,
        examples: str | None = None,
        weight: float | None = None,
        audience: str | None = None,
    ) -> None:
        changes = TopicChanges(
            name=rename,
            description=description,
            include=phrases(include),
            exclude=phrases(exclude),
            examples=example_ids(examples),
            weight=weight,
        )
        await self.runner.run(interaction, c.TopicsEdit(topic, changes, audience))

    @app_commands.command(name="remove", description="Remove a topic")
    @app_commands.describe(audience=AUDIENCE_HELP)
    async def remove(self, interaction: discord.Interaction, topic: str, audience: str | None = None) -> None:
        await self.runner.run(interaction, c.TopicsRemove(topic, audience))

    @app_commands.command(name="enable", description="Enable a topic")
    @app_commands.describe(audience=AUDIENCE_HELP)
    async def enable(self, interaction: discord.Interaction, topic: str, audience: str | None = None) -> None:
        await self.runner.run(interaction, c.TopicsEnable(topic, audience))

    @app_commands.command(name="disable", description="Disable a topic (kept, but not ranked)")
    @app_commands.describe(audience=AUDIENCE_HELP)
    async def disable(
        self, interaction: discord.Interaction, topic: str, audience: str | None = None
    ) -> None:
        await self.runner.run(interaction, c.TopicsDisable(topic, audience))

    @edit.autocomplete("topic")
    @remove.autocomplete("topic")
    @enable.autocomplete("topic")
    @disable.autocomplete("topic")
    async def _topic_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.runner.topic_choices(interaction, current)

    @add.autocomplete("audience")
    @edit.autocomplete("audience")
    @remove.autocomplete("audience")
    @enable.autocomplete("audience")
    @disable.autocomplete("audience")
    async def _audiences(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.runner.audience_choices(interaction, current)


class AdminGroup(app_commands.Group):
    """`/trends-admin …`: subscriptions, previews and publishing (Manage Server by default)."""

    def __init__(self, runner: CommandRunner) -> None:
        super().__init__(
            name="trends-admin",
            description="Manage topics, subscriptions and publishing of the Trends in AI digest",
            guild_only=True,
            allowed_contexts=SERVERS_ONLY,
            default_permissions=ADMIN_PERMISSIONS,
        )
        self.runner = runner
        self.add_command(TopicsAdminGroup(runner))

    @app_commands.command(
        name="subscribe", description="Post an audience's monthly digest to this channel (or this forum)"
    )
    @app_commands.describe(
        audience="The team whose digest this channel gets (a new name creates it for this server)"
    )
    async def subscribe(self, interaction: discord.Interaction, audience: str | None = None) -> None:
        await self.runner.run(interaction, c.Subscribe(audience), subscription=True)

    @app_commands.command(name="unsubscribe", description="Stop posting the digest to this channel")
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        await self.runner.run(interaction, c.Unsubscribe(), subscription=True)

    @app_commands.command(name="preview", description="Build and show a draft digest, only to you")
    @app_commands.describe(month="YYYY-MM (default: last month)", audience=AUDIENCE_HELP)
    async def preview(
        self, interaction: discord.Interaction, month: str | None = None, audience: str | None = None
    ) -> None:
        await self.runner.run(interaction, c.Preview(month, audience))

    @app_commands.command(
        name="publish", description="Publish a digest to every channel subscribed to its audience"
    )
    @app_commands.describe(month="YYYY-MM (default: last month)", audience=AUDIENCE_HELP)
    async def publish(
        self, interaction: discord.Interaction, month: str | None = None, audience: str | None = None
    ) -> None:
        await self.runner.run(interaction, c.Publish(month, audience))

    @preview.autocomplete("month")
    @publish.autocomplete("month")
    async def _months(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.runner.month_choices(interaction, current)

    @subscribe.autocomplete("audience")
    @preview.autocomplete("audience")
    @publish.autocomplete("audience")
    async def _audiences(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.runner.audience_choices(interaction, current)


def build_runner(chat: ChatService) -> CommandRunner:
    """The runner wired to `chat`, with the two top-level groups in `runner.groups`."""
    runner = CommandRunner(chat)
    runner.groups = [TrendsGroup(runner), AdminGroup(runner)]
    return runner


def build_groups(chat: ChatService) -> list[app_commands.Group]:
    """The two top-level groups, wired to `chat`."""
    return build_runner(chat).groups
