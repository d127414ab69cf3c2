"""Exactly-once posting of a digest as a thread to every subscribed channel.

A digest is delivered to a channel as a parent message (position 0) and one reply per pick
(positions 1..n). Each message goes through three steps, each committed on its own:

1. record the intent: a `delivered_messages` row in state "posting" with no message id;
2. post it through the platform's `ThreadPoster`, tagged with a marker unique to
   (delivery, position) that the platform stores with the message;
3. record the returned message id (state "posted").

A crash between 1 and 3 leaves a "posting" row. Before posting that position again the engine asks
the platform whether a message with that marker already exists (`find_posted`) and adopts it if so.
While a delivery is in progress its process holds a lease on it ("delivery:<month>:<subscription>",
renewed before every message), so two processes — say a replica answering `/trends publish` and the
leader running the monthly job — never post the same thread at once: the second one skips that
channel and says it is being posted elsewhere. So publishing twice, restarting mid-thread or a job
misfire never duplicates a parent or a reply and never skips one.

A digest belongs to an audience and goes to the channels subscribed to that audience only. With
`TRENDS_ALLOWED_WORKSPACES` set (`allowed_workspaces=`), channels of any other workspace are never
posted to, whatever the database says.

Publishing records a pending delivery for every subscribed channel. A scheduled retry resumes those
deliveries only, so a channel that subscribes later gets an old digest only from an explicit publish
by an admin, never from a retry. Platform code (rate limits, Block Kit, embeds) lives in the
adapters; this module only knows the `ThreadPoster` port.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.audiences import DEFAULT_AUDIENCE
from bot.db.models import Audience, DeliveredMessage, Delivery, Digest, Subscription, utcnow
from bot.db.uow import UnitOfWork
from bot.digest.views import DigestView, EntryView
from bot.errors import SourceError
from bot.leases import LeaseStore, make_holder_id

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ChannelRef:
    platform: str  # slack | discord
    workspace_id: str
    channel_id: str
    kind: str = "text"  # text | forum


@dataclass(frozen=True, slots=True)
class Posted:
    message_id: str
    thread_id: str | None = None  # the thread replies go to (Slack: parent ts; Discord: thread id)


class ThreadPoster(Protocol):
    """What a chat platform must offer to receive digests (implemented in adapters/)."""

    platform: str

    async def post_parent(self, channel: ChannelRef, digest: DigestView, marker: str) -> Posted: ...

    async def post_reply(
        self, channel: ChannelRef, thread_id: str, digest: DigestView, entry: EntryView, marker: str
    ) -> Posted: ...

    async def find_posted(self, channel: ChannelRef, thread_id: str | None, marker: str) -> Posted | None:
        """The message already posted with `marker`, if any (used after a crash)."""
        ...


class DeliveryError(SourceError):
    """Posting to a channel failed after the platform client's retries; the delivery can resume."""


def marker_for(delivery_id: int, position: int) -> str:
    return f"trends-delivery-{delivery_id}-{position}"


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    channel: ChannelRef
    status: str  # done | failed | skipped (already done) | busy (being posted by another process)
    posted: int  # messages posted by this run
    adopted: int  # messages found already posted after a crash
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    month: str
    outcomes: tuple[ChannelOutcome, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(o.status != "failed" for o in self.outcomes)

    def summary(self) -> str:
        if not self.outcomes:
            return f"No subscribed channels received the {self.month} digest (none subscribed)."
        done = sum(o.status in ("done", "skipped") for o in self.outcomes)
        failed = [o for o in self.outcomes if o.status == "failed"]
        busy = sum(o.status == "busy" for o in self.outcomes)
        text = f"Posted the {self.month} digest to {done} of {len(self.outcomes)} channel(s)."
        if busy:
            text += f" {busy} channel(s) are being posted elsewhere right now."
        if failed:
            text += " Failed: " + ", ".join(f"{o.channel.channel_id} ({o.error})" for o in failed)
            text += ". Publishing again resumes where it stopped."
        return text


class Pacer:
    """At most one message per `interval` seconds per channel (Slack and Discord both ask for ~1/s)."""

    def __init__(
        self,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._last: dict[tuple[str, str], float] = {}

    async def wait(self, channel: ChannelRef) -> None:
        key = (channel.platform, channel.channel_id)
        last = self._last.get(key)
        if last is not None:
            remaining = self.interval - (self._clock() - last)
            if remaining > 0:
                await self._sleep(remaining)
        self._last[key] = self._clock()


class DeliveryEngine:
    """Delivers published digests to subscribed channels through platform posters."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        pacer: Pacer | None = None,
        *,
        leases: LeaseStore | None = None,
        holder: str | None = None,
        lease_seconds: float = 120.0,
        allowed_workspaces: Sequence[str] = (),
    ) -> None:
        self._session_factory = session_factory
        self._allowed = tuple(allowed_workspaces)
        self._pacer = pacer or Pacer()
        self._leases = leases or LeaseStore(session_factory)
        self._holder = holder or make_holder_id()
        self._calls = itertools.count(1)
        self.lease_seconds = lease_seconds

    async def _db(self, work: Callable[[UnitOfWork], T]) -> T:
        def run() -> T:
            with UnitOfWork(self._session_factory) as uow:
                result = work(uow)
                uow.commit()
                return result

        return await asyncio.to_thread(run)

    async def deliver(
        self,
        digest: DigestView,
        posters: Mapping[str, ThreadPoster],
        *,
        only: Sequence[int] | None = None,
        include_new_subscribers: bool = True,
    ) -> DeliveryReport:
        """Post `digest` (which must be published) to every active subscription of its audience on the
        given platforms.

        With `include_new_subscribers=False` (scheduled retries), only the channels an earlier publish
        recorded a delivery for are served.
        """

        def load_targets(uow: UnitOfWork) -> list[tuple[int, ChannelRef]]:
            session = uow.session
            row = _digest_row(session, digest.audience, digest.month)
            digest_id = row.id
            subscribed = select(Subscription).where(
                Subscription.active.is_(True),
                Subscription.platform.in_(list(posters)),
                Subscription.audience_id == row.audience_id,
            )
            if self._allowed:
                outside = session.scalars(
                    subscribed.where(Subscription.workspace_id.not_in(self._allowed))
                ).all()
                for subscription in outside:
                    log.warning(
                        "not posting to a channel outside TRENDS_ALLOWED_WORKSPACES",
                        extra={"workspace": subscription.workspace_id, "channel": subscription.channel_id},
                    )
                subscribed = subscribed.where(Subscription.workspace_id.in_(self._allowed))
            if only is not None:
                subscribed = subscribed.where(Subscription.id.in_(list(only)))
            if include_new_subscribers:
                started = set(
                    session.scalars(select(Delivery.subscription_id).where(Delivery.digest_id == digest_id))
                )
                for subscription in session.scalars(subscribed):
                    if subscription.id not in started:
                        session.add(
                            Delivery(digest_id=digest_id, subscription_id=subscription.id, status="pending")
                        )
                session.flush()
            targets = subscribed.join(Delivery, Delivery.subscription_id == Subscription.id).where(
                Delivery.digest_id == digest_id
            )
            return [
                (s.id, ChannelRef(s.platform, s.workspace_id, s.channel_id, s.channel_kind))
                for s in session.scalars(targets.order_by(Subscription.id))
            ]

        def check_published(uow: UnitOfWork) -> None:
            status = _digest_row(uow.session, digest.audience, digest.month).status
            if status != "published":
                raise DeliveryError(f"The {digest.month} digest is not published yet; publish it first.")

        await self._db(check_published)
        try:
            targets = await self._db(load_targets)
        except IntegrityError:  # another process recorded the same pending deliveries first
            targets = await self._db(load_targets)
        outcomes = []
        for subscription_id, channel in targets:
            outcomes.append(
                await self.deliver_to(digest, subscription_id, channel, posters[channel.platform])
            )
        return DeliveryReport(month=digest.month, outcomes=tuple(outcomes))

    async def _hold(self, lease: str, holder: str) -> bool:
        expires = await asyncio.to_thread(self._leases.try_acquire, lease, holder, self.lease_seconds)
        return expires is not None

    async def deliver_to(
        self, digest: DigestView, subscription_id: int, channel: ChannelRef, poster: ThreadPoster
    ) -> ChannelOutcome:
        # The default audience keeps the lease name it had before audiences (rolling upgrades).
        scope = "" if digest.audience == DEFAULT_AUDIENCE else f"{digest.audience}:"
        lease = f"delivery:{scope}{digest.month}:{subscription_id}"
        # A holder per call, not per process: two publishes in one process (an approval click and a
        # `/trends publish`) must exclude each other just like two replicas do.
        holder = f"{self._holder}/{next(self._calls)}"
        if not await self._hold(lease, holder):
            return ChannelOutcome(channel, "busy", 0, 0, "being posted elsewhere right now")
        try:
            return await self._deliver_holding(lease, holder, digest, subscription_id, channel, poster)
        finally:
            await asyncio.to_thread(self._leases.release, lease, holder)

    async def _deliver_holding(
        self,
        lease: str,
        holder: str,
        digest: DigestView,
        subscription_id: int,
        channel: ChannelRef,
        poster: ThreadPoster,
    ) -> ChannelOutcome:
        delivery_id, done = await self._db(
            lambda uow: _start_delivery(uow, digest.audience, digest.month, subscription_id)
        )
        if done:
            return ChannelOutcome(channel, "skipped", 0, 0)
        counts = {"posted": 0, "adopted": 0, "existing": 0}
        try:
            thread_id, how = await self._ensure_message(delivery_id, 0, None, channel, poster, digest)
            counts[how] += 1
            for entry in digest.picks:
                if not await self._hold(lease, holder):  # renew; lost only if we stalled past the expiry
                    raise DeliveryError("lost the delivery lease (this process stalled); it will resume")
                _, how = await self._ensure_message(
                    delivery_id, entry.position, thread_id, channel, poster, digest, entry
                )
                counts[how] += 1
        except Exception as exc:
            message = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            log.warning("delivery failed", extra={"delivery_id": delivery_id, "channel": channel.channel_id})
            await self._db(lambda uow: _finish_delivery(uow, delivery_id, "failed", message[:500]))
            return ChannelOutcome(channel, "failed", counts["posted"], counts["adopted"], message[:200])
        await self._db(lambda uow: _finish_delivery(uow, delivery_id, "done", None))
        log.info(
            "delivery done",
            extra={"delivery_id": delivery_id, "channel": channel.channel_id, "posted": counts["posted"]},
        )
        return ChannelOutcome(channel, "done", counts["posted"], counts["adopted"])

    async def _ensure_message(
        self,
        delivery_id: int,
        position: int,
        thread_id: str | None,
        channel: ChannelRef,
        poster: ThreadPoster,
        digest: DigestView,
        entry: EntryView | None = None,
    ) -> tuple[str, str]:
        """Make sure message `position` exists exactly once.

        Returns the thread id (the parent's, for position 0) and how: "existing" (recorded before),
        "adopted" (found on the platform after a crash) or "posted" (posted now).
        """
        marker = marker_for(delivery_id, position)
        existing = await self._db(lambda uow: _message_state(uow, delivery_id, position))
        if existing is not None and existing[0] == "posted":
            return _thread_of(existing[2], thread_id, position), "existing"
        if existing is not None:  # a crash left this position in flight: did it reach the platform?
            found = await poster.find_posted(channel, thread_id, marker)
            if found is not None:
                await self._db(lambda uow: _record_posted(uow, delivery_id, position, found))
                return _thread_of(found.thread_id or found.message_id, thread_id, position), "adopted"
        else:
            paper_id = entry.paper_id if entry is not None else None
            await self._db(lambda uow: _record_intent(uow, delivery_id, position, paper_id))
        await self._pacer.wait(channel)
        if entry is None:
            result = await poster.post_parent(channel, digest, marker)
        else:
            assert thread_id is not None
            result = await poster.post_reply(channel, thread_id, digest, entry, marker)
        await self._db(lambda uow: _record_posted(uow, delivery_id, position, result))
        return _thread_of(result.thread_id or result.message_id, thread_id, position), "posted"


def _thread_of(parent_thread: str | None, current: str | None, position: int) -> str:
    thread = parent_thread if position == 0 else current
    if thread is None:  # pragma: no cover - a recorded parent always has a thread id
        raise DeliveryError("the parent message has no thread to reply in")
    return thread


def _digest_row(session: Session, audience: str, month: str) -> Digest:
    """The stored digest of `audience` for `month` (it exists: the caller published it)."""
    return session.scalars(
        select(Digest)
        .join(Audience, Audience.id == Digest.audience_id)
        .where(Audience.name == audience, Digest.month == month)
    ).one()


def _start_delivery(uow: UnitOfWork, audience: str, month: str, subscription_id: int) -> tuple[int, bool]:
    session = uow.session
    digest = _digest_row(session, audience, month)
    delivery = session.scalars(
        select(Delivery).where(Delivery.digest_id == digest.id, Delivery.subscription_id == subscription_id)
    ).one_or_none()
    if delivery is None:
        delivery = Delivery(digest_id=digest.id, subscription_id=subscription_id, status="posting")
        delivery.started_at = utcnow()
        session.add(delivery)
        session.flush()
        return delivery.id, False
    if delivery.status == "done":
        return delivery.id, True
    if delivery.started_at is None:
        delivery.started_at = utcnow()
    delivery.status = "posting"
    delivery.error = None
    return delivery.id, False


def _finish_delivery(uow: UnitOfWork, delivery_id: int, status: str, error: str | None) -> None:
    delivery = uow.session.get_one(Delivery, delivery_id)
    delivery.status = status
    delivery.error = error
    if status == "done":
        delivery.finished_at = utcnow()


def _message_state(
    uow: UnitOfWork, delivery_id: int, position: int
) -> tuple[str, str | None, str | None] | None:
    row = uow.session.scalars(
        select(DeliveredMessage).where(
            DeliveredMessage.delivery_id == delivery_id, DeliveredMessage.position == position
        )
    ).one_or_none()
    if row is None:
        return None
    thread_id = uow.session.get_one(Delivery, delivery_id).thread_id
    return row.state, row.message_id, thread_id


def _record_intent(uow: UnitOfWork, delivery_id: int, position: int, paper_id: int | None) -> None:
    uow.session.add(
        DeliveredMessage(
            delivery_id=delivery_id, position=position, paper_id=paper_id, state="posting", message_id=None
        )
    )


def _record_posted(uow: UnitOfWork, delivery_id: int, position: int, posted: Posted) -> None:
    row = uow.session.scalars(
        select(DeliveredMessage).where(
            DeliveredMessage.delivery_id == delivery_id, DeliveredMessage.position == position
        )
    ).one()
    row.state = "posted"
    row.message_id = posted.message_id
    row.posted_at = utcnow()
    if position == 0:
        uow.session.get_one(Delivery, delivery_id).thread_id = posted.thread_id or posted.message_id
