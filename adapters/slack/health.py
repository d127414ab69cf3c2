"""The Slack adapter's part of the health check: is its connection to Slack up?

`serve` (adapters/slack/app.py) records what it opened in the runtime's `SlackLink`: the HTTP server
listening for `POST /slack/events`, or the Socket Mode session. `slack_probe` reports it to
`bot.health` without calling Slack (a probe runs every few seconds; Slack's rate limits are not for
that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.health import AdapterHealth, AdapterProbe

NAME = "slack"


@dataclass
class SlackLink:
    """The adapter's connection as `serve` left it."""

    mode: str = "starting"  # starting | http | socket-mode | stopped
    socket_client: Any = None  # slack_sdk's Socket Mode client once connected (is_connected())


def slack_probe(link: SlackLink) -> AdapterProbe:
    async def probe() -> AdapterHealth:
        if link.mode == "http":
            return AdapterHealth(NAME, True, "http listening")
        if link.mode == "socket-mode" and link.socket_client is not None:
            if await link.socket_client.is_connected():
                return AdapterHealth(NAME, True, "socket-mode connected")
            return AdapterHealth(NAME, False, "socket-mode reconnecting")
        return AdapterHealth(NAME, False, link.mode)

    return probe
