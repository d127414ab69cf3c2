"""The Discord adapter's part of the health check: is the gateway connection up and ready?

Reported from discord.py's own state (no REST call): ready after the gateway's READY, connected while
its websocket is open. A bot reconnecting after a gateway drop reports "reconnecting" until it is back.
"""

from __future__ import annotations

import discord

from bot.health import AdapterHealth, AdapterProbe

NAME = "discord"


def discord_probe(client: discord.Client) -> AdapterProbe:
    async def probe() -> AdapterHealth:
        if client.is_closed():
            return AdapterHealth(NAME, False, "closed")
        if not client.is_ready():
            return AdapterHealth(NAME, False, "connecting")
        ws = client.ws
        if ws is None or not ws.open:
            return AdapterHealth(NAME, False, "reconnecting")
        return AdapterHealth(NAME, True, "gateway ready")

    return probe
