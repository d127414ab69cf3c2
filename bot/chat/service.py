"""`ChatService`: executes `/trends` commands for every chat platform.

Adapters call `handle(invocation, command)` after acknowledging the platform. This is where admin
permissions are checked (on every admin command, before anything changes), where user mistakes
become short replies, and where each command calls exactly one core service. Platform types never
get here; replies are platform-free (`bot.chat.replies.Reply`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

from bot.archive.service import ArchiveService
from bot.bootstrap import Container
from bot.chat import commands as c
from bot.chat.context import Invocation
from bot.chat.replies import Reply
from bot.chat.text import search_text, trend_text
from bot.db.models import utcnow
from bot.delivery import DeliveryEngine, ThreadPoster
from bot.digest.service import DigestService
from bot.digest.topics import TopicService
from bot.digest.views import DigestView, TopicView
from bot.errors import ConflictError, PermissionDeniedError, TrendsError
from bot.months import Month
from bot.publish import PublishService
from bot.subscriptions import SubscriptionService

log = logging.getLogger(__name__)

T = TypeVar("T")

SEARCH_PAGE_SIZE = 5


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
        engine = DeliveryEngine(
            container.session_factory, lease_seconds=container.settings.delivery_lease_seconds
        )
        self.publisher = PublishService(self.digests, engine)

    def is_admin(self, inv: Invocation) -> bool:
        return inv.is_platform_admin or inv.user_id in self._settings.admin_user_ids

    async def handle(self, inv: Invocation, command: c.Command) -> Reply:
        """Run one command. User mistakes become `Reply(kind="error")`; bugs propagate to the adapter."""
        try:
            if c.is_admin_command(command) and not self.is_admin(inv):
                raise PermissionDeniedError(
                    "Sorry, only workspace admins can do that. Ask an admin, or try `/trends help`."
                )
            return await self._dispatch(inv, command)
        except TrendsError as exc:
            log.info("chat command refused: %s", exc, extra={"actor": inv.actor})
            return Reply(kind="error", text=str(exc))

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
                result = await self._run(
                    partial(self.archive.search, query, page=page, page_size=SEARCH_PAGE_SIZE)
                )
                return Reply(kind="search", text=search_text(result), search=result)
            case c.Chart(query=query, months=months):
                trend, png = await self._run(partial(self.archive.trend_chart, query, months=months))
                return Reply(kind="chart", text=trend_text(trend), trend=trend, chart_png=png)
            case c.Latest():
                digest = await self._run(self.digests.latest)
                return Reply(kind="digest", text=digest_text(digest), digest=digest)
            case c.Issue(month=month):
                if month.casefold() == "latest":
                    digest = await self._run(self.digests.latest)
                else:
                    digest = await self._run(partial(self.digests.get, Month.parse(month)))
                return Reply(kind="digest", text=digest_text(digest), digest=digest)
            case c.Issues():
                issues = tuple(await self._run(self.archive.list_issues))
                text = "\n".join(f"• {i.month}: {i.title} ({i.status})" for i in issues) or (
                    "No digests yet. An admin can build one with `/trends preview`."
                )
                return Reply(kind="issues", text=text, issues=issues)
            case c.TopicsList():
                topics = tuple(await self._run(self.topics.list_topics))
                return Reply(kind="topics", text=topics_text(topics), topics=topics)
            case c.TopicsAdd(draft=draft):
                topic = await self._run(partial(self.topics.add, draft, actor=inv.actor))
                return Reply(kind="text", text=f"Added topic *{topic.name}*.")
            case c.TopicsEdit(name=name, changes=changes):
                topic = await self._run(partial(self.topics.edit, name, changes, actor=inv.actor))
                return Reply(kind="text", text=f"Updated topic *{topic.name}*.")
            case c.TopicsRemove(name=name):
                topic = await self._run(partial(self.topics.remove, name, actor=inv.actor))
                return Reply(kind="text", text=f"Removed topic *{topic.name}*.")
            case c.TopicsEnable(name=name):
                topic = await self._run(partial(self.topics.enable, name, actor=inv.actor))
                return Reply(kind="text", text=f"Enabled topic *{topic.name}*.")
            case c.TopicsDisable(name=name):
                topic = await self._run(partial(self.topics.disable, name, actor=inv.actor))
                return Reply(kind="text", text=f"Disabled topic *{topic.name}*.")
            case c.Subscribe():
                created = await self._run(partial(self.subscriptions.subscribe, inv))
                text = (
                    "This channel will receive the monthly digest."
                    if created
                    else "This channel already receives the monthly digest."
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
            case c.Preview(month=month):
                digest = await self._run(partial(self.publisher.preview, self._default_month(month)))
                return Reply(kind="digest", text=digest_text(digest), digest=digest)
            case c.Publish(month=month):
                target = self._default_month(month)
                now = Month.current(self._clock(), self._settings.timezone)
                if target >= now:
                    # Publishing freezes a digest for good: half a month's papers would stay half.
                    raise ConflictError(
                        f"{target.label} isn't over yet, and a published digest can't change. "
                        f"Use `/trends preview {target}` now and publish once the month has ended."
                    )
                report = await self.publisher.publish(target, self.posters)
                return Reply(kind="published", text=report.summary(), report=report)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover


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
