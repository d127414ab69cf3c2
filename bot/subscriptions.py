"""Which chat channels receive digests, and of which audience: subscribe, unsubscribe, list.

A channel follows one audience; subscribing it to another one moves it. Who may do that is the chat
core's admin check (`bot.audiences`), made before these are called.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.audiences import DEFAULT_AUDIENCE, audience_id
from bot.db.models import Audience, Subscription
from bot.db.uow import UnitOfWork
from bot.invocation import Invocation


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    platform: str
    workspace_id: str
    channel_id: str
    channel_kind: str
    active: bool
    audience: str = DEFAULT_AUDIENCE


def _view(row: Subscription, audience: str) -> SubscriptionView:
    return SubscriptionView(
        row.id, row.platform, row.workspace_id, row.channel_id, row.channel_kind, row.active, audience
    )


class SubscriptionService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def _find(self, uow: UnitOfWork, where: Invocation) -> Subscription | None:
        return uow.session.scalars(
            select(Subscription).where(
                Subscription.platform == where.platform,
                Subscription.workspace_id == where.workspace_id,
                Subscription.channel_id == where.channel_id,
            )
        ).one_or_none()

    def subscribe(self, where: Invocation, audience: str | None = None) -> bool:
        """Subscribe the invocation's channel to `audience` (default: `default`), moving it from the
        audience it followed. Returns False if it already was subscribed to that audience."""
        try:
            return self._subscribe(where, audience)
        except IntegrityError:  # a second `/trends subscribe` in the channel inserted the row first
            return self._subscribe(where, audience)

    def _subscribe(self, where: Invocation, audience: str | None) -> bool:
        with UnitOfWork(self._session_factory) as uow:
            scope = audience_id(uow.session, audience)
            row = self._find(uow, where)
            if row is not None and row.active and row.audience_id == scope:
                return False
            if row is None:
                row = Subscription(
                    audience_id=scope,
                    platform=where.platform,
                    workspace_id=where.workspace_id,
                    channel_id=where.channel_id,
                    channel_kind=where.channel_kind,
                    created_by=where.actor,
                )
                uow.session.add(row)
            row.active = True
            row.audience_id = scope
            row.channel_kind = where.channel_kind
            uow.commit()
            return True

    def unsubscribe(self, where: Invocation) -> bool:
        """Stop sending digests to the channel. Returns False if it was not subscribed."""
        with UnitOfWork(self._session_factory) as uow:
            row = self._find(uow, where)
            if row is None or not row.active:
                return False
            row.active = False
            uow.commit()
            return True

    def list(self, platform: str | None = None, *, active_only: bool = True) -> list[SubscriptionView]:
        with UnitOfWork(self._session_factory) as uow:
            query = (
                select(Subscription, Audience.name)
                .join(Audience, Audience.id == Subscription.audience_id)
                .order_by(Subscription.id)
            )
            if platform is not None:
                query = query.where(Subscription.platform == platform)
            if active_only:
                query = query.where(Subscription.active.is_(True))
            return [_view(row, name) for row, name in uow.session.execute(query)]
