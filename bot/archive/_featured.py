"""Which papers published digests featured (of which audience), and where those digests were posted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.archive.issue_list import PUBLISHED
from bot.archive.views import FeaturedIn, ThreadRef
from bot.db.models import Audience, DeliveredMessage, Delivery, Digest, DigestEntry, Subscription


def featured_paper_ids(session: Session) -> frozenset[int]:
    """Every paper that appears in a published digest."""
    rows = session.execute(
        select(DigestEntry.paper_id)
        .join(Digest, Digest.id == DigestEntry.digest_id)
        .where(Digest.status == PUBLISHED)
    ).scalars()
    return frozenset(int(paper_id) for paper_id in rows)


def threads_for(
    session: Session, digest_ids: Collection[int], paper_ids: Collection[int] = ()
) -> dict[tuple[int, int | None], tuple[ThreadRef, ...]]:
    """Thread refs keyed by (digest id, paper id) and by (digest id, None) for the digest itself.

    Only deliveries whose parent message (position 0) was posted count: without it there is no link.
    """
    if not digest_ids:
        return {}
    rows = session.execute(
        select(Delivery.id, Delivery.digest_id, Delivery.thread_id, Subscription, DeliveredMessage)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(DeliveredMessage, DeliveredMessage.delivery_id == Delivery.id)
        .where(Delivery.digest_id.in_(list(digest_ids)))
        .order_by(Delivery.id, DeliveredMessage.position)
    ).all()
    parents: dict[int, tuple[int, str | None, Subscription, str | None]] = {}
    paper_messages: dict[tuple[int, int], str | None] = {}
    for delivery_id, digest_id, thread_id, subscription, message in rows:
        if message.position == 0:
            parents[delivery_id] = (digest_id, thread_id, subscription, message.message_id)
        elif message.paper_id is not None:
            paper_messages[(delivery_id, message.paper_id)] = message.message_id
    found: dict[tuple[int, int | None], list[ThreadRef]] = defaultdict(list)
    for delivery_id, (digest_id, thread_id, subscription, parent_id) in parents.items():
        if not parent_id:
            continue
        for paper_id in (None, *paper_ids):
            found[(digest_id, paper_id)].append(
                ThreadRef(
                    platform=subscription.platform,
                    workspace_id=subscription.workspace_id,
                    channel_id=subscription.channel_id,
                    message_id=parent_id,
                    thread_id=thread_id,
                    paper_message_id=(
                        paper_messages.get((delivery_id, paper_id)) if paper_id is not None else None
                    ),
                )
            )
    return {key: tuple(refs) for key, refs in found.items()}


def featured_in(session: Session, paper_ids: Collection[int]) -> dict[int, FeaturedIn]:
    """For each paper, the latest published digest featuring it, of any audience (with its threads).

    Several audiences may feature a paper the same month; the audience first by name is reported.
    """
    if not paper_ids:
        return {}
    rows = session.execute(
        select(
            DigestEntry.paper_id, DigestEntry.section, Digest.id, Digest.month, Digest.title, Audience.name
        )
        .join(Digest, Digest.id == DigestEntry.digest_id)
        .join(Audience, Audience.id == Digest.audience_id)
        .where(Digest.status == PUBLISHED, DigestEntry.paper_id.in_(list(paper_ids)))
        .order_by(Digest.month, Audience.name.desc())
    ).all()
    latest: dict[int, tuple[str, int, str, str, str]] = {}
    for paper_id, section, digest_id, month, title, audience in rows:
        latest[int(paper_id)] = (section, int(digest_id), month, title, audience)  # later months overwrite
    threads = threads_for(session, {v[1] for v in latest.values()}, list(latest))
    return {
        paper_id: FeaturedIn(
            month=month,
            digest_title=title,
            section=section,
            threads=threads.get((digest_id, paper_id), ()),
            audience=audience,
        )
        for paper_id, (section, digest_id, month, title, audience) in latest.items()
    }
