"""`ChatService`: executes `/trends` commands for every chat platform.

Adapters call `handle(invocation, command)` after acknowledging the platform. This is where admin
permissions are checked (on every admin command, before anything changes), where user mistakes
become short replies, and where each command calls exactly one core service. Platform types never
get here; replies are platform-free (`bot.chat.replies.Reply`).

Checks, in order, on every call:
1. with `TRENDS_ALLOWED_WORKSPACES` set, a workspace not on the list gets `NOT_INVITED` and nothing
   else (not even help);
2. an admin command is resolved to the audience it acts on (named, else the channel's) and
   `AudienceService.authorize` decides: a deployment admin anywhere, a platform admin only for the
   audiences their workspace owns. Slack and Discord both come through here, so the rule is one.
Reading commands (`latest`, `issue`, `issues`, `topics`) answer with the channel's audience; search
covers the whole archive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import TypeVar

from bot.archive.service import ArchiveService
from bot.audiences import DEFAULT_AUDIENCE, AudienceService
from bot.bootstrap import Container
from bot.chat import commands as c
from bot.chat.replies import Reply
from bot.chat.text import search_text, trend_text
from bot.db.models import utcnow
from bot.delivery import DeliveryEngine, ThreadPoster
from bot.digest.service import DigestService
from bot.digest.topics import TopicService
from bot.digest.views import DigestView, TopicView
from bot.errors import ConflictError, NotFoundError, PermissionDeniedError, TrendsError
from bot.invocation import Invocation
from bot.months import Month
from bot.publish import PublishService
from bot.subscriptions import SubscriptionService

log = logging.getLogger(__name__)

T = TypeVar("T")

SEARCH_PAGE_SIZE = 5
NOT_INVITED = "Sorry, this bot is not available in this workspace."


def help_text(is_admin: bool) -> str:
    lines = ["*/trends* — the monthly Trends in AI digest, and the paper archive behind it."]
    for usage, what, admin_only in c.USAGE:
        if admin_only and not is_admin:
            continue
        lines.append(f"• `/trends {usage}` — {what}{' (admins)' if admin_only else ''}")
    if not is_admin:
        lines.append("Admins can also manage topics, subscriptions and publishing.")
    return "\n".join(lines)


class ChatService:
    def __init__(
        self,
        container: Container,
        posters: Mapping[str, ThreadPoster] | None = None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._settings = container.settings
        self._clock = clock
        self.posters: dict[str, ThreadPoster] = dict(posters or {})
        self.topics = TopicService(container.uow, container.settings)
        self.digests = DigestService(container.uow, container.settings)
        self.archive = ArchiveService(container, container.settings)
        self.subscriptions = SubscriptionService(container.session_factory)
        self.audiences = AudienceService(container.uow, container.settings)
        engine = DeliveryEngine(
            container.session_factory,
            allowed_workspaces=container.settings.allowed_workspaces,
            lease_seconds=container.settings.delivery_lease_seconds,
        )
        self.publisher = PublishService(self.digests, engine)

    def is_admin(self, inv: Invocation) -> bool:
        """May see the admin commands (what they may change is decided per audience on each call)."""
        return self.audiences.administers_any(inv)

    def allowed(self, inv: Invocation) -> bool:
        """Whether the bot works in the invocation's workspace (TRENDS_ALLOWED_WORKSPACES)."""
        return self.allows_workspace(inv.workspace_id)

    def allows_workspace(self, workspace_id: str) -> bool:
        return self._settings.workspace_allowed(workspace_id)

    async def handle(self, inv: Invocation, command: c.Command) -> Reply:
        """Run one command. User mistakes become `Reply(kind="error")`; bugs propagate to the adapter."""
        if not self.allowed(inv):
            log.warning(
                "command from a workspace outside TRENDS_ALLOWED_WORKSPACES refused",
                extra={"actor": inv.actor},
            )
            return Reply(kind="error", text=NOT_INVITED)
        try:
            if c.is_admin_command(command):
                command = await self._run(partial(self._authorize, inv, command))
            return await self._dispatch(inv, command)
        except TrendsError as exc:
            log.info("chat command refused: %s", exc, extra={"actor": inv.actor})
            return Reply(kind="error", text=str(exc))

    def _channel_audience(self, inv: Invocation) -> str:
        return self.audiences.of_channel(inv.platform, inv.workspace_id, inv.channel_id)

    def _authorize(self, inv: Invocation, command: c.Command) -> c.Command:
        """Check the caller may run this admin command on its audience; returns the command with
        the audience filled in, so the check and the action are about the same audience."""
        if not self.audiences.administers_any(inv):
            raise PermissionDeniedError(
                "Sorry, only workspace admins can do that. Ask an admin, or try `/trends help`."
            )
        if isinstance(command, c.Unsubscribe):
            return command  # the channel is the caller's own workspace's: its admins may stop it
        if not isinstance(command, c.AUDIENCE_COMMANDS):  # pragma: no cover - every admin command names one
            raise AssertionError(f"admin command without an audience: {command!r}")
        named = command.audience
        audience = named or self._channel_audience(inv)
        if isinstance(command, c.Subscribe) and named:
            audience = self._audience_or_create(inv, named)
        self.audiences.authorize(inv, audience)
        return replace(command, audience=audience)

    def _audience_or_create(self, inv: Invocation, name: str) -> str:
        """`/trends subscribe <new name>`: a platform admin creates the audience for their workspace."""
        from bot.audiences import Workspace, clean_audience_name

        cleaned = clean_audience_name(name)
        try:
            self.audiences.get(cleaned)
        except NotFoundError:
            # Owned by the workspace where it was created (also when a deployment admin creates it).
            self.audiences.create(cleaned, [Workspace(inv.platform, inv.workspace_id)], actor=inv.actor)
        return cleaned

    async def _run(self, func: Callable[[], T]) -> T:
        return await asyncio.to_thread(func)

    def _default_month(self, month: str | None) -> Month:
        """The month an admin most likely means: the given one, else the month that just ended where
        the team lives (the month the scheduled digest job publishes)."""
        if month:
            return Month.parse(month)
        return Month.current(self._clock(), self._settings.timezone).previous()

    async def _dispatch(self, inv: Invocation, command: c.Command) -> Reply:
        match command:
            case c.Help():
                return Reply(kind="help", text=help_text(self.is_admin(inv)))
            case c.Search(query=query, page=page):
                # `topic:` means the channel's audience's topic of that name.
                audience = await self._run(partial(self._channel_audience, inv))
                result = await self._run(
                    partial(
                        self.archive.search, query, page=page, page_size=SEARCH_PAGE_SIZE, audience=audience
                    )
                )
                return Reply(kind="search", text=search_text(result), search=result)
            case c.Chart(query=query, months=months):
                audience = await self._run(partial(self._channel_audience, inv))
                trend, png = await self._run(
                    partial(self.archive.trend_chart, query, months=months, audience=audience)
                )
                return Reply(kind="chart", text=trend_text(trend), trend=trend, chart_png=png)
            case c.Latest():
                audience = await self._run(partial(self._channel_audience, inv))
                digest = await self._run(partial(self.digests.latest, audience=audience))
                return Reply(kind="digest", text=digest_text(digest), digest=digest)
            case c.Issue(month=month, audience=audience):
                audience = audience or await self._run(partial(self._channel_audience, inv))
                if month.casefold() == "latest":
                    digest = await self._run(partial(self.digests.latest, audience=audience))
                else:
                    digest = await self._run(partial(self.digests.get, Month.parse(month), audience=audience))
                return Reply(kind="digest", text=digest_text(digest), digest=digest)
            case c.Issues():
                audience = await self._run(partial(self._channel_audience, inv))
                issues = tuple(await self._run(partial(self.archive.list_issues, audience=audience)))
                text = "\n".join(f"• {i.month}: {i.title} ({i.status})" for i in issues) or (
                    "No digests yet. An admin can build one with `/trends preview`."
                )
                return Reply(kind="issues", text=text, issues=issues)
            case c.TopicsList(audience=audience):
                audience = audience or await self._run(partial(self._channel_audience, inv))
                topics = tuple(await self._run(partial(self.topics.list_topics, audience=audience)))
                return Reply(kind="topics", text=topics_text(topics), topics=topics)
            case c.TopicsAdd(draft=draft, audience=audience):
                topic = await self._run(partial(self.topics.add, draft, actor=inv.actor, audience=audience))
                return Reply(kind="text", text=f"Added topic *{topic.name}*{_of(audience)}.")
            case c.TopicsEdit(name=name, changes=changes, audience=audience):
                topic = await self._run(
                    partial(self.topics.edit, name, changes, actor=inv.actor, audience=audience)
                )
                return Reply(kind="text", text=f"Updated topic *{topic.name}*{_of(audience)}.")
            case c.TopicsRemove(name=name, audience=audience):
                topic = await self._run(partial(self.topics.remove, name, actor=inv.actor, audience=audience))
                return Reply(kind="text", text=f"Removed topic *{topic.name}*{_of(audience)}.")
            case c.TopicsEnable(name=name, audience=audience):
                topic = await self._run(partial(self.topics.enable, name, actor=inv.actor, audience=audience))
                return Reply(kind="text", text=f"Enabled topic *{topic.name}*{_of(audience)}.")
            case c.TopicsDisable(name=name, audience=audience):
                topic = await self._run(
                    partial(self.topics.disable, name, actor=inv.actor, audience=audience)
                )
                return Reply(kind="text", text=f"Disabled topic *{topic.name}*{_of(audience)}.")
            case c.Subscribe(audience=audience):
                created = await self._run(partial(self.subscriptions.subscribe, inv, audience))
                text = (
                    f"This channel will receive the monthly digest{_of(audience)}."
                    if created
                    else f"This channel already receives the monthly digest{_of(audience)}."
                )
                return Reply(kind="text", text=text)
            case c.Unsubscribe():
                removed = await self._run(partial(self.subscriptions.unsubscribe, inv))
                text = (
                    "This channel will no longer receive the digest."
                    if removed
                    else "This channel was not subscribed."
                )
                return Reply(kind="text", text=text)
            case c.Preview(month=month, audience=audience):
                digest = await self._run(
                    partial(self.publisher.preview, self._default_month(month), audience=audience)
                )
                return Reply(kind="digest", text=digest_text(digest), digest=digest)
            case c.Publish(month=month, audience=audience):
                target = self._default_month(month)
                now = Month.current(self._clock(), self._settings.timezone)
                if target >= now:
                    # Publishing freezes a digest for good: half a month's papers would stay half.
                    raise ConflictError(
                        f"{target.label} isn't over yet, and a published digest can't change. "
                        f"Use `/trends preview {target}` now and publish once the month has ended."
                    )
                report = await self.publisher.publish(target, self.posters, audience=audience)
                return Reply(kind="published", text=report.summary(), report=report)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover


def _of(audience: str | None) -> str:
    """ " of vision" after a noun, nothing for the default audience (as before audiences)."""
    return "" if audience is None or audience == DEFAULT_AUDIENCE else f" of {audience}"


def digest_text(digest: DigestView) -> str:
    lines = [digest.title, digest.intro, ""]
    for entry in digest.picks:
        lines.append(f"{entry.position}. {entry.title} — {entry.links.abstract}")
    if digest.status != "published":
        lines.append("(draft: not published yet)")
    return "\n".join(lines)


def topics_text(topics: tuple[TopicView, ...]) -> str:
    lines = []
    for topic in topics:
        state = "" if topic.enabled else " (disabled)"
        phrases = ", ".join(topic.include[:6])
        lines.append(f"• {topic.name}{state} — weight {topic.weight:g}; {phrases}")
    return "\n".join(lines) or "No topics yet. Admins can add one with `/trends topics add <name>`."
