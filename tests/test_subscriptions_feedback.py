"""Subscriptions and 👍/👎 votes on posted picks, on both database engines."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import DeliveredMessage, Delivery, Subscription, Vote
from bot.db.uow import UnitOfWork
from bot.feedback import FeedbackService, vote_value
from bot.invocation import Invocation
from bot.subscriptions import SubscriptionService
from tests.factories import add_published_digest, make_paper

WHERE = Invocation("slack", "T1", "C1", "U1", channel_kind="text")


def test_subscribe_is_idempotent_and_unsubscribe_keeps_history(
    session_factory: sessionmaker[Session],
) -> None:
    service = SubscriptionService(session_factory)
    assert service.subscribe(WHERE) is True
    assert service.subscribe(WHERE) is False
    assert [s.channel_id for s in service.list()] == ["C1"]
    assert service.unsubscribe(WHERE) is True
    assert service.unsubscribe(WHERE) is False
    assert service.list() == []
    assert [s.active for s in service.list(active_only=False)] == [False]
    assert service.subscribe(WHERE) is True
    assert len(service.list(active_only=False)) == 1


@pytest.mark.parametrize(
    ("reaction", "value"),
    [
        ("+1", 1),
        ("thumbsup", 1),
        ("+1::skin-tone-3", 1),
        ("👍", 1),
        ("👍🏽", 1),
        ("-1", -1),
        ("👎", -1),
        ("tada", None),
        ("", None),
    ],
)
def test_vote_value(reaction: str, value: int | None) -> None:
    assert vote_value(reaction) == value


def _posted_pick(session_factory: sessionmaker[Session]) -> int:
    with UnitOfWork(session_factory) as uow:
        paper = make_paper("2610.00001")
        uow.session.add(paper)
        uow.session.flush()
        digest = add_published_digest(uow.session, "2026-10", [paper])
        subscription = Subscription(
            audience_id=digest.audience_id, platform="slack", workspace_id="T1", channel_id="C1"
        )
        uow.session.add(subscription)
        uow.session.flush()
        delivery = Delivery(digest_id=digest.id, subscription_id=subscription.id, status="done")
        uow.session.add(delivery)
        uow.session.flush()
        uow.session.add(DeliveredMessage(delivery_id=delivery.id, position=0, message_id="parent.1"))
        uow.session.add(
            DeliveredMessage(delivery_id=delivery.id, position=1, paper_id=paper.id, message_id="reply.1")
        )
        uow.commit()
        return paper.id


def test_reactions_on_picks_become_votes(session_factory: sessionmaker[Session]) -> None:
    paper_id = _posted_pick(session_factory)
    feedback = FeedbackService(session_factory)
    assert feedback.react("slack", "T1", "U1", "reply.1", "+1", channel_id="C1") is True
    assert feedback.react("slack", "T1", "U2", "reply.1", "-1") is True
    assert feedback.react("slack", "T1", "U3", "reply.1", "+1") is True
    assert feedback.net_votes([paper_id]) == {paper_id: 1}
    # Changing one's mind replaces the vote instead of adding a second one.
    assert feedback.react("slack", "T1", "U2", "reply.1", "+1") is True
    assert feedback.net_votes([paper_id]) == {paper_id: 3}
    assert feedback.unreact("slack", "T1", "U3", "reply.1", "+1") is True
    assert feedback.net_votes([paper_id]) == {paper_id: 2}
    with UnitOfWork(session_factory) as uow:
        assert len(uow.session.scalars(select(Vote)).all()) == 2


def test_reactions_elsewhere_are_ignored(session_factory: sessionmaker[Session]) -> None:
    paper_id = _posted_pick(session_factory)
    feedback = FeedbackService(session_factory)
    # Same message id, but another channel, workspace or platform: not our pick.
    assert feedback.react("slack", "T1", "U1", "reply.1", "+1", channel_id="C-other") is False
    assert feedback.react("slack", "T2", "U1", "reply.1", "+1") is False
    assert feedback.react("discord", "T1", "U1", "reply.1", "+1") is False
    assert feedback.react("slack", "T1", "U1", "parent.1", "+1") is False  # the parent is no pick
    assert feedback.react("slack", "T1", "U1", "unknown", "+1") is False
    assert feedback.react("slack", "T1", "U1", "reply.1", "tada") is False
    assert feedback.unreact("slack", "T1", "U1", "reply.1", "+1") is False
    assert feedback.net_votes([paper_id]) == {}
