"""`trends serve …` and `trends run`: the commands that start a chat bot and run until interrupted.

Each platform is one sub-command; the adapter is imported inside it, so `trends` works without a
platform's settings and the CLI's other commands never load slack-bolt or discord.py (nor asyncio).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import typer

from adapters.cli.app import PANEL_RUN, app, console, container, fail
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.bootstrap import Container
    from bot.health import AdapterProbe

serve_app = typer.Typer(help="Run a chat bot (Slack, Discord) in the foreground.", no_args_is_help=True)
app.add_typer(serve_app, name="serve", rich_help_panel=PANEL_RUN)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def _with_health(
    work: Coroutine[Any, Any, None], built: Container, name: str, probe: AdapterProbe
) -> None:
    """Run `work` with `GET /healthz` served on TRENDS_HEALTH_HOST:TRENDS_HEALTH_PORT (0: off)."""
    from adapters.health_http import start_health_server
    from bot.health import ProcessHealth

    settings = built.settings
    health = ProcessHealth(built.uow)
    health.watch(name, probe)
    runner = None
    if settings.health_port:
        runner = await start_health_server(health, settings.health_host, settings.health_port)
    try:
        await work
    finally:
        if runner is not None:
            await runner.cleanup()


@serve_app.command("slack")
def serve_slack(
    port: int | None = typer.Option(None, help="HTTP port (default: TRENDS_SLACK_PORT, 3000)."),
    host: str = typer.Option("0.0.0.0", help="Interface to listen on."),  # noqa: S104 - Slack must reach it
) -> None:
    """Run the Slack bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode
    (POST /slack/events, signed with SLACK_SIGNING_SECRET). GET /healthz answers in both modes, on the
    same port: the database and the connection to Slack, 200 or 503. With SLACK_CLIENT_ID and
    SLACK_CLIENT_SECRET, workspaces install the app at GET /slack/install."""
    import asyncio

    from adapters.slack.app import create_runtime, serve
    from adapters.slack.health import NAME, slack_probe
    from bot.chat.service import ChatService
    from bot.feedback import FeedbackService
    from bot.health import ProcessHealth

    with container() as built:
        try:
            runtime = create_runtime(
                built.settings,
                lambda poster: ChatService(built, posters={"slack": poster}),
                FeedbackService(built.session_factory),
                built.session_factory,
            )
        except ConfigError as exc:
            fail(str(exc), code=2)
        _configure_logging()
        mode = "Socket Mode" if built.settings.slack_app_token else "HTTP mode"
        console.print(f"Slack bot starting ({mode}); press Ctrl+C to stop.")
        try:
            health = ProcessHealth(built.uow)
            health.watch(NAME, slack_probe(runtime.link))
            asyncio.run(serve(runtime, host=host, port=port, health=health))
        except KeyboardInterrupt:
            console.print("Stopped.")


@serve_app.command("discord")
def serve_discord(
    sync: bool = typer.Option(
        False, "--sync-only", help="Register the slash commands, print the invite link and exit."
    ),
) -> None:
    """Run the Discord bot (needs DISCORD_TOKEN). Slash commands are synced when it starts: to the
    servers in DISCORD_GUILD_IDS at once, else globally (Discord may take up to an hour to show them).
    GET /healthz on TRENDS_HEALTH_PORT reports the database and the gateway connection."""
    import asyncio

    from adapters.discord.client import create_bot, serve, sync_only
    from adapters.discord.health import NAME, discord_probe

    with container() as built:
        try:
            bot = create_bot(built)
        except ConfigError as exc:
            fail(str(exc), code=2)
        assert built.settings.discord_token is not None  # create_bot checked it
        token = built.settings.discord_token.get_secret_value()
        _configure_logging()
        if sync:
            url = asyncio.run(sync_only(bot, token))
            console.print(f"Slash commands registered. Invite the bot with:\n{url}", soft_wrap=True)
            return
        console.print("Discord bot starting; press Ctrl+C to stop.")
        try:
            asyncio.run(_with_health(serve(bot, token), built, NAME, discord_probe(bot)))
        except KeyboardInterrupt:
            console.print("Stopped.")


@app.command("run", rich_help_panel=PANEL_RUN)
def run() -> None:
    """Run the bot: daily harvest, monthly digest and every chat platform whose token is set.

    Slack starts with SLACK_BOT_TOKEN (Socket Mode with SLACK_APP_TOKEN, else HTTP mode on
    TRENDS_SLACK_PORT), Discord with DISCORD_TOKEN. Schedules: TRENDS_HARVEST_CRON (default 06:00 UTC
    daily) and TRENDS_DIGEST_CRON (default the 1st at 08:00 in TRENDS_TIMEZONE). Several replicas may
    share one PostgreSQL database: one runs the schedule, all answer chat commands. Stop with Ctrl+C
    or SIGTERM.
    """
    from adapters.run import main

    main()
