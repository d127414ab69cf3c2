"""`trends run` wiring in-process: which adapters start, and that they share one set of posters."""

from __future__ import annotations

import pytest

from adapters.run import build_adapters
from bot.bootstrap import build
from bot.chat.service import ChatService
from bot.settings import load_settings
from tests.fakes.slack_api import SIGNING_SECRET, FakeSlack


async def test_both_platforms_share_the_chat_posters(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeSlack() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        monkeypatch.setenv("DISCORD_TOKEN", "discord-test-token-not-real")
        container = build(load_settings(database_url=sqlite_url))
        try:
            chat = ChatService(container)
            adapters = build_adapters(container, chat)
            assert [a.name for a in adapters] == ["slack", "discord"]
            assert set(chat.posters) == {"slack", "discord"}
            from adapters.discord.client import TrendsBot

            discord_bot = adapters[1].component
            assert isinstance(discord_bot, TrendsBot)
            assert discord_bot.chat.posters is chat.posters
            assert chat.posters["discord"] is discord_bot.poster
        finally:
            container.close()


def test_no_platform_configured_means_no_adapter(sqlite_url: str) -> None:
    container = build(load_settings(database_url=sqlite_url))
    try:
        chat = ChatService(container)
        assert build_adapters(container, chat) == []
        assert chat.posters == {}
    finally:
        container.close()
