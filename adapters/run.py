"""`trends run`: the scheduler and every configured chat adapter in one asyncio loop.

Slack starts when SLACK_BOT_TOKEN is set, Discord when DISCORD_TOKEN is set; with neither the process
still harvests and builds digests (and says that nothing will be posted). One `ChatService` is shared:
each adapter's `ThreadPoster` is registered in its `posters`, which the scheduler's publish job uses
too, so a digest goes to the subscribed channels of every running platform.

SIGTERM and SIGINT stop it cleanly: the scheduler stops starting jobs, gives running ones a grace
period (posting is resumable thanks to the delivery engine's intent rows, a harvest resumes from its
last page), releases the leader lease so another replica takes over at once, then the adapters and
the database engine close, and the exit code is 0. On SQLite a lock file next to the database
refuses a second `trends run` on the same file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import typer

from bot.bootstrap import Container
from bot.chat.service import ChatService
from bot.cli.app import PANEL_RUN, app, container, fail
from bot.delivery import ThreadPoster
from bot.errors import ConfigError, ConflictError
from bot.feedback import FeedbackService
from bot.scheduler.approval import ApprovalNotifier
from bot.scheduler.leases import SingleInstanceLock, sqlite_path
from bot.scheduler.logs import configure_logging
from bot.scheduler.runtime import SchedulerRuntime

log = logging.getLogger("adapters.run")


@dataclass
class RunningAdapter:
    """A chat platform to run: its name and the coroutine that serves it until cancelled."""

    name: str
    serve: Callable[[], Coroutine[Any, Any, None]]
    component: object = None  # the platform's runtime or client (for inspection and tests)


def _slack(built: Container, chat: ChatService) -> RunningAdapter:
    from adapters.slack.app import create_runtime
    from adapters.slack.app import serve as serve_slack

    def share(poster: ThreadPoster) -> ChatService:
        chat.posters["slack"] = poster
        return chat

    runtime = create_runtime(built.settings, share, FeedbackService(built.session_factory))
    return RunningAdapter("slack", lambda: serve_slack(runtime), runtime)


def _discord(built: Container, chat: ChatService) -> RunningAdapter:
    from adapters.discord.client import create_bot
    from adapters.discord.client import serve as serve_discord

    bot = create_bot(built)
    chat.posters["discord"] = bot.poster
    # The Discord bot builds its own ChatService; giving it the shared posters dict makes a publish
    # from Discord reach Slack channels too, exactly like one from Slack or the scheduler.
    bot.chat.posters = chat.posters
    token = built.settings.discord_token
    assert token is not None  # create_bot refuses to build without one
    return RunningAdapter("discord", lambda: serve_discord(bot, token.get_secret_value()), bot)


def build_adapters(built: Container, chat: ChatService) -> list[RunningAdapter]:
    """The adapters whose tokens are set (`ConfigError` if one is half-configured)."""
    settings = built.settings
    adapters = []
    if settings.slack_bot_token is not None:
        adapters.append(_slack(built, chat))
    if settings.discord_token is not None:
        adapters.append(_discord(built, chat))
    return adapters


async def run_until_stopped(
    built: Container,
    *,
    stop: asyncio.Event | None = None,
    notifiers: dict[str, ApprovalNotifier] | None = None,
) -> int:
    """Run the adapters and the scheduler until SIGTERM/SIGINT (or `stop`); the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _request_stop, stop, signum)
    chat = ChatService(built)
    adapters = build_adapters(built, chat)
    if adapters:
        log.info("chat platforms starting", extra={"platforms": ",".join(a.name for a in adapters)})
    else:
        log.warning(
            "no chat platform configured (set SLACK_BOT_TOKEN or DISCORD_TOKEN): "
            "harvesting and building digests only"
        )
    runtime = SchedulerRuntime(built, posters=chat.posters, notifiers=notifiers)
    log.info(
        "trends run started",
        extra={"holder": runtime.holder, "database": "sqlite" if built.settings.is_sqlite else "postgresql"},
    )
    adapter_tasks: dict[asyncio.Task[None], str] = {
        asyncio.create_task(a.serve(), name=a.name): a.name for a in adapters
    }
    scheduler_task = asyncio.create_task(runtime.run(stop), name="scheduler")
    stop_task = asyncio.create_task(stop.wait(), name="stop")
    exit_code = 0
    try:
        done, _ = await asyncio.wait(
            {*adapter_tasks, scheduler_task, stop_task}, return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            if task is stop_task:
                continue
            exit_code = 1
            error = task.exception() if not task.cancelled() else None
            log.error(
                "stopping: a component ended unexpectedly",
                extra={"component": task.get_name()},
                exc_info=(type(error), error, error.__traceback__) if error else None,
            )
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await scheduler_task  # stops jobs (with a grace period) and releases the lease
        for task in adapter_tasks:
            task.cancel()
        results = await asyncio.gather(*adapter_tasks, return_exceptions=True)
        for task, result in zip(adapter_tasks, results, strict=True):
            if isinstance(result, Exception):
                log.warning("adapter did not stop cleanly", extra={"component": task.get_name()})
        stop_task.cancel()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("trends run stopped", extra={"exit_code": exit_code})
    return exit_code


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    log.info("stop requested", extra={"signal": signal.Signals(signum).name})
    stop.set()


@app.command("run", rich_help_panel=PANEL_RUN)
def run() -> None:
    """Run the bot: daily harvest, monthly digest and every chat platform whose token is set.

    Slack starts with SLACK_BOT_TOKEN (Socket Mode with SLACK_APP_TOKEN, else HTTP mode on
    TRENDS_SLACK_PORT), Discord with DISCORD_TOKEN. Schedules: TRENDS_HARVEST_CRON (default 06:00 UTC
    daily) and TRENDS_DIGEST_CRON (default the 1st at 08:00 in TRENDS_TIMEZONE). Several replicas may
    share one PostgreSQL database: one runs the schedule, all answer chat commands. Stop with Ctrl+C
    or SIGTERM.
    """
    with container() as built:
        configure_logging(built.settings)
        path = sqlite_path(built.settings.database_url)
        lock = SingleInstanceLock(path) if path is not None else None
        try:
            if lock is not None:
                lock.acquire()
            code = asyncio.run(run_until_stopped(built))
        except (ConfigError, ConflictError) as exc:
            fail(str(exc), code=2 if isinstance(exc, ConfigError) else 1)
        finally:
            if lock is not None:
                lock.release()
    if code:
        raise typer.Exit(code)
