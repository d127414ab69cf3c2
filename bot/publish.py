"""Preview and publish a month's digest: the use case behind `/trends publish`, the CLI and the scheduler.

Publishing freezes an audience's digest (building it first if there is no draft) and delivers it to
every channel subscribed to that audience, through the posters the running adapters registered.
Publishing a published digest again only resumes deliveries that did not finish: nothing is posted
twice (bot/delivery.py). `audience=None` is `default`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.delivery import DeliveryEngine, DeliveryReport, ThreadPoster
from bot.digest.service import DigestService, MonthPapers
from bot.digest.views import DigestView
from bot.errors import NotFoundError
from bot.months import Month


class PublishService:
    def __init__(self, digests: DigestService, engine: DeliveryEngine) -> None:
        self._digests = digests
        self._engine = engine

    def preview(self, month: Month, *, audience: str | None = None) -> DigestView:
        """The month's digest as it would be posted: rebuilt if it is a draft, as is if published."""
        try:
            current = self._digests.get(month, audience=audience)
        except NotFoundError:
            return self._digests.build(month, audience=audience)
        return current if current.is_published else self._digests.build(month, audience=audience)

    def freeze(
        self, month: Month, *, audience: str | None = None, shared: MonthPapers | None = None
    ) -> DigestView:
        """Publish the month's digest in the database (building it if needed); idempotent."""
        try:
            self._digests.get(month, audience=audience)
        except NotFoundError:
            self._digests.build(month, audience=audience, shared=shared)
        return self._digests.mark_published(month, audience=audience)

    async def publish(
        self,
        month: Month,
        posters: Mapping[str, ThreadPoster],
        *,
        include_new_subscribers: bool = True,
        audience: str | None = None,
    ) -> DeliveryReport:
        """Publish and deliver. Scheduled retries pass `include_new_subscribers=False` (see delivery)."""
        digest = await asyncio.to_thread(lambda: self.freeze(month, audience=audience))
        return await self._engine.deliver(digest, posters, include_new_subscribers=include_new_subscribers)
