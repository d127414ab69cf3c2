"""A hand-written fake `ThreadPoster`: an in-memory chat platform that can crash on request.

It stands in for the *port*, not for our code: the delivery engine under test is real, and so is the
database. Messages live in `channels[channel_id]` as dicts with their marker, like a platform that
keeps message metadata (Slack) or an embed footer (Discord).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.delivery import ChannelRef, Posted
from bot.digest.views import DigestView, EntryView


class Crash(BaseException):
    """Simulates the process dying at a chosen point (a BaseException, like SystemExit: no handler
    of ours gets to tidy up, exactly as when the process is killed)."""


@dataclass
class FakePlatform:
    platform: str = "slack"
    channels: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # Crash before the N-th post call reaches the platform, or right after it did (0-based counts).
    crash_before_call: int | None = None
    crash_after_call: int | None = None
    fail_with: Exception | None = None
    calls: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _post(self, channel: ChannelRef, marker: str, text: str, thread: str | None) -> Posted:
        call = self.calls
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        if self.crash_before_call == call:
            raise Crash(f"crash before call {call}")
        message_id = f"m{next(self._ids)}"
        self.channels.setdefault(channel.channel_id, []).append(
            {"id": message_id, "marker": marker, "text": text, "thread": thread or message_id}
        )
        if self.crash_after_call == call:
            raise Crash(f"crash after call {call}")
        return Posted(message_id=message_id, thread_id=thread or message_id)

    async def post_parent(self, channel: ChannelRef, digest: DigestView, marker: str) -> Posted:
        return self._post(channel, marker, digest.title, None)

    async def post_reply(
        self, channel: ChannelRef, thread_id: str, digest: DigestView, entry: EntryView, marker: str
    ) -> Posted:
        return self._post(channel, marker, entry.title, thread_id)

    async def find_posted(self, channel: ChannelRef, thread_id: str | None, marker: str) -> Posted | None:
        for message in self.channels.get(channel.channel_id, []):
            if message["marker"] == marker:
                return Posted(message_id=message["id"], thread_id=message["thread"])
        return None
