"""`trends run` wiring in-process: which adapters start, that they share one `ChatService` (so one set
of posters), and which approval notifiers the scheduler gets."""

from __future__ import annotations

import logging

import pytest

from adapters.run import approval_notifiers, build_adapters
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
            assert discord_bot.chat is chat  # one ChatService: a publish from Discord reaches Slack too
            assert chat.posters["discord"] is discord_bot.poster
            from adapters.discord.approval import DiscordApprovalNotifier
            from adapters.slack.approval import SlackApprovalNotifier

            notifiers = approval_notifiers(container, adapters)
            assert set(notifiers) == {"slack", "discord"}
            assert isinstance(notifiers["slack"], SlackApprovalNotifier)
            assert isinstance(notifiers["discord"], DiscordApprovalNotifier)
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


def test_approval_on_a_platform_that_is_not_running_is_announced_at_start(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    container = build(
        load_settings(database_url=sqlite_url, approval=True, approval_channel="discord:123:456")
    )
    try:
        with caplog.at_level(logging.WARNING, logger="adapters.run"):
            assert approval_notifiers(container, []) == {}
        [warning] = [r for r in caplog.records if r.name == "adapters.run"]
        assert "approval is on but its platform is not running" in warning.getMessage()
        assert vars(warning)["approval_channel"] == "discord:123:456"
    finally:
        container.close()
