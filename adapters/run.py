"""`trends run`: the scheduler and every configured chat adapter in one asyncio loop.

Slack starts when SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID (installs by OAuth) is set,
Discord when DISCORD_TOKEN is set; with neither the process still harvests and builds digests (and
says that nothing will be posted). One `ChatService` is shared:
each adapter's `ThreadPoster` is registered in its `posters`, which the scheduler's publish job uses
too, so a digest goes to the subscribed channels of every running platform, whichever platform the
publish came from. Each adapter also brings its `ApprovalNotifier`, which the monthly job uses when
`approval = true`.

`GET /healthz` on TRENDS_HEALTH_HOST:TRENDS_HEALTH_PORT (and on Slack's web server in HTTP mode)
answers with this process's health (`bot.health.ProcessHealth`): the database, whether this replica
leads the scheduler, the lease's holder, the last harvest and each adapter's connection; 200 when
healthy, else 503.

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
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from adapters.cli.app import container, fail
from bot.bootstrap import Container
from bot.chat.service import ChatService
from bot.delivery import ThreadPoster
from bot.errors import ConfigError, ConflictError
from bot.feedback import FeedbackService
from bot.health import ProcessHealth
from bot.scheduler.approval import ApprovalNotifier, ApprovalTarget
from bot.scheduler.leases import SingleInstanceLock, sqlite_path
from bot.scheduler.logs import configure_logging
from bot.scheduler.runtime import SchedulerRuntime
from bot.settings import Settings

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("adapters.run")


@dataclass
class RunningAdapter:
    """A chat platform to run: its name and the coroutine that serves it until cancelled."""

    name: str
    serve: Callable[[], Coroutine[Any, Any, None]]
    component: object = None  # the platform's runtime or client (for inspection and tests)
    notifier: ApprovalNotifier | None = None  # posts approval previews on this platform


def _slack(built: Container, chat: ChatService, health: ProcessHealth | None) -> RunningAdapter:
    from adapters.slack.app import create_runtime
    from adapters.slack.app import serve as serve_slack
    from adapters.slack.approval import SlackApprovalNotifier
    from adapters.slack.health import NAME, slack_probe

    def share(poster: ThreadPoster) -> ChatService:
        chat.posters["slack"] = poster
        return chat

    runtime = create_runtime(
        built.settings, share, FeedbackService(built.session_factory), built.session_factory
    )
    if health is not None:
        health.watch(NAME, slack_probe(runtime.link))
    return RunningAdapter(
        "slack",
        lambda: serve_slack(runtime, health=health),
        runtime,
        SlackApprovalNotifier(runtime.clients),
    )


def _discord(built: Container, chat: ChatService, health: ProcessHealth | None) -> RunningAdapter:
    from adapters.discord.approval import DiscordApprovalNotifier
    from adapters.discord.client import create_bot
    from adapters.discord.client import serve as serve_discord
    from adapters.discord.health import NAME, discord_probe

    bot = create_bot(built, chat=chat)  # adds its poster to the shared chat
    if health is not None:
        health.watch(NAME, discord_probe(bot))
    token = built.settings.discord_token
    assert token is not None  # create_bot refuses to build without one
    return RunningAdapter(
        "discord",
        lambda: serve_discord(bot, token.get_secret_value()),
        bot,
        DiscordApprovalNotifier(bot),
    )


def build_adapters(
    built: Container, chat: ChatService, *, health: ProcessHealth | None = None
) -> list[RunningAdapter]:
    """The adapters whose tokens are set (`ConfigError` if one is half-configured)."""
    settings = built.settings
    adapters = []
    if settings.slack_bot_token is not None or settings.slack_oauth:
        adapters.append(_slack(built, chat, health))
    if settings.discord_token is not None:
        adapters.append(_discord(built, chat, health))
    return adapters


def approval_notifiers(
    built: Container, adapters: list[RunningAdapter], extra: Mapping[str, ApprovalNotifier] | None = None
) -> dict[str, ApprovalNotifier]:
    """The running platforms' notifiers; warns at start when approval needs a platform that is not."""
    notifiers = {a.name: a.notifier for a in adapters if a.notifier is not None}
    notifiers.update(extra or {})
    channel = built.settings.approval_channel
    if built.settings.approval and channel is not None:
        target = ApprovalTarget.parse(channel)
        if target.platform not in notifiers:
            log.warning(
                "approval is on but its platform is not running: drafts will wait for a manual publish",
                extra={"approval_channel": str(target)},
            )
    return notifiers


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
    health = ProcessHealth(built.uow)
    adapters = build_adapters(built, chat, health=health)
    if adapters:
        log.info("chat platforms starting", extra={"platforms": ",".join(a.name for a in adapters)})
    else:
        log.warning(
            "no chat platform configured (set SLACK_BOT_TOKEN, SLACK_CLIENT_ID or DISCORD_TOKEN): "
            "harvesting and building digests only"
        )
    runtime = SchedulerRuntime(
        built, posters=chat.posters, notifiers=approval_notifiers(built, adapters, notifiers)
    )
    health.follow(runtime.holder, runtime.elector.is_leader)
    log.info(
        "trends run started",
        extra={"holder": runtime.holder, "database": "sqlite" if built.settings.is_sqlite else "postgresql"},
    )
    adapter_tasks: dict[asyncio.Task[None], str] = {
        asyncio.create_task(a.serve(), name=a.name): a.name for a in adapters
    }
    scheduler_task = asyncio.create_task(runtime.run(stop), name="scheduler")
    stop_task = asyncio.create_task(stop.wait(), name="stop")
    probe_server: web.AppRunner | None = None
    exit_code = 0
    try:
        probe_server = await start_health(built.settings, health)
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
        if probe_server is not None:
            await probe_server.cleanup()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("trends run stopped", extra={"exit_code": exit_code})
    return exit_code


async def start_health(settings: Settings, health: ProcessHealth) -> web.AppRunner | None:
    """`GET /healthz` on TRENDS_HEALTH_PORT, unless 0 or the Slack HTTP server already answers there."""
    from adapters.health_http import start_health_server

    slack_http = settings.slack_bot_token is not None and settings.slack_app_token is None
    if settings.health_port == 0 or (slack_http and settings.health_port == settings.slack_port):
        return None
    return await start_health_server(health, settings.health_host, settings.health_port)


def _request_stop(stop: asyncio.Event, signum: int) -> None:
    log.info("stop requested", extra={"signal": signal.Signals(signum).name})
    stop.set()


def main() -> None:
    """The body of `trends run` (the command is in `adapters.cli.serve`, which imports this lazily)."""
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
