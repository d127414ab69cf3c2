"""👍/👎 reactions on a digest pick, stored as votes the ranking may use.

A reaction arrives as (platform, workspace, user, message id). The message id is looked up among the
messages the bot posted for deliveries to that platform and workspace (and channel, where message ids
are only unique per channel, as Slack's `ts` is), which gives the paper; reactions on anything else
are ignored. The channel's subscription also gives the audience the vote counts for: a vote is
stored per audience, so each audience's ranking can learn from its own channels only.
One vote per (audience, workspace, user, paper): a new reaction replaces the old one, removing it deletes it.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DeliveredMessage, Delivery, Subscription, Vote
from bot.db.uow import UnitOfWork

UPVOTE_NAMES = frozenset({"+1", "thumbsup", "👍", "thumbs_up"})
DOWNVOTE_NAMES = frozenset({"-1", "thumbsdown", "👎", "thumbs_down"})


def vote_value(reaction: str) -> int | None:
    """+1 for a thumbs-up, -1 for a thumbs-down (any skin tone), None for other reactions."""
    base = reaction.split("::", 1)[0].strip(":")
    base = "".join(ch for ch in base if not 0x1F3FB <= ord(ch) <= 0x1F3FF)  # drop skin tones
    if base in UPVOTE_NAMES:
        return 1
    if base in DOWNVOTE_NAMES:
        return -1
    return None


class FeedbackService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def _paper_for(
        self, uow: UnitOfWork, platform: str, workspace_id: str, message_id: str, channel_id: str | None
    ) -> tuple[int, int] | None:
        """(paper id, audience id) of the pick posted as `message_id`, if it is one."""
        query = (
            select(DeliveredMessage.paper_id, Subscription.audience_id)
            .join(Delivery, Delivery.id == DeliveredMessage.delivery_id)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(
                DeliveredMessage.message_id == message_id,
                DeliveredMessage.paper_id.is_not(None),
                Subscription.platform == platform,
                Subscription.workspace_id == workspace_id,
            )
        )
        if channel_id is not None:
            query = query.where(Subscription.channel_id == channel_id)
        row = uow.session.execute(query).first()
        return None if row is None or row[0] is None else (int(row[0]), int(row[1]))

    def react(
        self,
        platform: str,
        workspace_id: str,
        user_id: str,
        message_id: str,
        reaction: str,
        *,
        channel_id: str | None = None,
    ) -> bool:
        """Store a vote for a reaction added to a pick. Returns True when a vote was recorded."""
        value = vote_value(reaction)
        if value is None:
            return False
        try:
            return self._store_vote(platform, workspace_id, user_id, message_id, value, channel_id)
        except IntegrityError:
            # The same user's other reaction (or the platform re-sending this event) stored the vote
            # row between our read and our insert; the second attempt finds and updates it.
            return self._store_vote(platform, workspace_id, user_id, message_id, value, channel_id)

    def _store_vote(
        self,
        platform: str,
        workspace_id: str,
        user_id: str,
        message_id: str,
        value: int,
        channel_id: str | None,
    ) -> bool:
        with UnitOfWork(self._session_factory) as uow:
            found = self._paper_for(uow, platform, workspace_id, message_id, channel_id)
            if found is None:
                return False
            paper_id, audience_id = found
            vote = uow.session.scalars(
                select(Vote).where(
                    Vote.audience_id == audience_id,
                    Vote.platform == platform,
                    Vote.workspace_id == workspace_id,
                    Vote.user_id == user_id,
                    Vote.paper_id == paper_id,
                )
            ).one_or_none()
            if vote is None:
                uow.session.add(
                    Vote(
                        audience_id=audience_id,
                        platform=platform,
                        workspace_id=workspace_id,
                        user_id=user_id,
                        paper_id=paper_id,
                        value=value,
                    )
                )
            else:
                vote.value = value
            uow.commit()
            return True

    def unreact(
        self,
        platform: str,
        workspace_id: str,
        user_id: str,
        message_id: str,
        reaction: str,
        *,
        channel_id: str | None = None,
    ) -> bool:
        """Remove the vote a removed reaction had cast. Returns True when a vote was deleted."""
        value = vote_value(reaction)
        if value is None:
            return False
        with UnitOfWork(self._session_factory) as uow:
            found = self._paper_for(uow, platform, workspace_id, message_id, channel_id)
            if found is None:
                return False
            paper_id, audience_id = found
            result = uow.session.execute(
                delete(Vote).where(
                    Vote.audience_id == audience_id,
                    Vote.platform == platform,
                    Vote.workspace_id == workspace_id,
                    Vote.user_id == user_id,
                    Vote.paper_id == paper_id,
                    Vote.value == value,
                )
            )
            uow.commit()
            return bool(getattr(result, "rowcount", 0))

    def net_votes(self, paper_ids: list[int]) -> dict[int, int]:
        if not paper_ids:
            return {}
        with UnitOfWork(self._session_factory) as uow:
            rows = uow.session.execute(
                select(Vote.paper_id, func.sum(Vote.value))
                .where(Vote.paper_id.in_(paper_ids))
                .group_by(Vote.paper_id)
            ).all()
            return {int(pid): int(total or 0) for pid, total in rows}
