"""The Slack app: one factory that wires slack-bolt to the chat core, and the two ways to run it.

`build_app` registers the `/trends` slash command, the buttons our messages carry, and the reaction
events that become votes, on a bolt `AsyncApp`. Every listener acknowledges Slack first (within 3 s,
before any database work), then runs the command and answers through the command's `response_url`
(one shared keep-alive session, see `ResponseUrls`): ephemeral unless the core says the reply is for
the channel. A private search or digest answer carries a Share button: a click runs the command
again as the clicker and posts the answer for the channel through the click's `response_url`,
"Shared by @member" on top. Search hits featured in a digest posted in this workspace link to the
paper's reply in the digest thread (`adapters/slack/permalinks.py`).

The "Approve and publish" button on an approval preview (see `bot.scheduler.approval`) runs the
ordinary `Publish(month)` command as the clicking user, so the core checks they are an admin; one
approval of a month runs at a time (`PublishGate`), the delivery engine posts each message once, and
the preview is then updated (`chat.update`) with who approved it and what was delivered. Anyone else
gets an ephemeral refusal and nothing is posted.

One workspace or many: with SLACK_BOT_TOKEN every call uses that token; with installs by OAuth
(SLACK_CLIENT_ID, see `adapters/slack/oauth.py`) bolt authorizes each request with its workspace's
installation and everything the bot calls on its own (digests, previews, admin checks, charts) takes
its client from `WorkspaceClients.for_team`, so each workspace is always spoken to with its own token.

`serve` runs the app: over Socket Mode when `SLACK_APP_TOKEN` is set (no public URL needed), else as
an HTTP server on `TRENDS_SLACK_PORT` with `POST /slack/events` (request signatures checked by bolt)
and `GET /healthz`. Both modes serve `/healthz` so a container platform can probe either; given a
`HealthCheck` (as `trends run` does) it answers with the scheduler's and the database's state, and 503
when the database does not answer.

Errors have one hook (`ErrorHook`): the listener wrapper and bolt's `@app.error` both go through it.
A user mistake (`TrendsError`) becomes its short message; anything else is logged with its traceback
and the user sees a generic apology: never a stack trace, never a token.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.health_http import HEALTH_PATH, HealthCheck, health_handler
from adapters.slack.admins import SlackAdmins
from adapters.slack.blocks import (
    ACTION_APPROVE,
    ACTION_CHART,
    ACTION_LINK_PREFIX,
    ACTION_SEARCH_MORE,
    ACTION_SHARE,
    SlackMessage,
    approval_result,
    clip,
    escape,
    is_shareable,
    parse_more_value,
    parse_share_value,
    render_reply,
    shared_note,
    text_message,
    trend_message,
)
from adapters.slack.health import SlackLink
from adapters.slack.permalinks import Permalinks
from adapters.slack.poster import SlackPoster, slack_error_code
from adapters.slack.workspaces import (
    InstalledWorkspaces,
    SingleWorkspace,
    WorkspaceClients,
    make_client,
)
from bot.chat.commands import Chart, Command, Issue, Publish, Search, is_admin_command, parse_command
from bot.chat.replies import Reply
from bot.errors import ConfigError, TrendsError
from bot.feedback import FeedbackService
from bot.invocation import Invocation
from bot.scheduler.approval import PublishGate, already_delivered, approve_target, parse_approve_value
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from adapters.slack.oauth import OAuthParts

log = logging.getLogger(__name__)

SLASH_COMMAND = "/trends"
EVENTS_PATH = "/slack/events"
CORE_CONCURRENCY = 4
APOLOGY = "Sorry, something went wrong on our side. It has been logged; please try again in a minute."
SLOW_COMMAND_ACK = "Working on it… I'll answer here when it is done."
STALE_APPROVAL = "That button is not valid any more. An admin can publish with `/trends publish YYYY-MM`."
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


class ChatHandler(Protocol):
    """What the app needs from the chat core (`bot.chat.service.ChatService` provides it)."""

    async def handle(self, inv: Invocation, command: Command) -> Reply: ...


def build_web_client(settings: Settings) -> AsyncWebClient:
    """The bot's Web API client: bot token, optional base URL, and retries after 429s."""
    if settings.slack_bot_token is None:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-…) from the Slack app's page."
        )
    return make_client(settings.slack_api_url, settings.slack_bot_token.get_secret_value())


class ResponseUrls:
    """Posts answers to commands' `response_url`s over one keep-alive HTTP session.

    bolt's `respond()` opens a new session, so a new TCP (and TLS) connection, for every answer; under
    a burst of commands that connection setup competes with acknowledging the next ones in time.
    A failure is logged: the user can only be told through the response_url itself.
    """

    def __init__(self, timeout: int = 30) -> None:
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def send(self, url: str | None, message: SlackMessage, *, ephemeral: bool) -> None:
        if not url:
            return
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        body: dict[str, Any] = {
            "text": message.text,
            "response_type": "ephemeral" if ephemeral else "in_channel",
            "replace_original": False,
        }
        if message.blocks:
            body["blocks"] = message.blocks
        webhook = AsyncWebhookClient(url=url, timeout=self._timeout, session=self._session)
        try:
            response = await webhook.send_dict(body)
        except (TimeoutError, SlackClientError, aiohttp.ClientError, OSError) as exc:
            log.warning("posting to response_url failed: %s", type(exc).__name__)
            return
        if response.status_code != 200:
            log.warning(
                "response_url refused the answer: HTTP %s %s", response.status_code, clip(response.body, 100)
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class ErrorHook:
    """The adapter's single error hook: a friendly line for the user, the traceback for the log."""

    def __init__(self, responses: ResponseUrls) -> None:
        self._responses = responses

    @staticmethod
    def message_for(exc: BaseException) -> str:
        if isinstance(exc, TrendsError):
            return clip(str(exc), 500) or APOLOGY
        return APOLOGY

    async def report(self, exc: BaseException, response_url: str | None) -> None:
        if isinstance(exc, TrendsError):
            log.info("slack command refused: %s", exc)
        else:
            log.error("slack listener failed", exc_info=exc)
        await self._responses.send(response_url, SlackMessage(text=self.message_for(exc)), ephemeral=True)

    async def guard(self, response_url: str | None, work: Callable[[], Awaitable[None]]) -> None:
        """Run a listener body; whatever it raises is reported here, and never reaches Slack raw."""
        try:
            await work()
        except Exception as exc:  # the one place every listener error ends up
            await self.report(exc, response_url)


def response_url_of(body: dict[str, Any]) -> str | None:
    url = body.get("response_url")
    return url if isinstance(url, str) and url else None


@dataclass
class SlackBot:
    """The listeners' shared state: the core services and the Slack helpers they use."""

    chat: ChatHandler
    feedback: FeedbackService
    clients: WorkspaceClients  # the bot token of each workspace (one, or one per OAuth install)
    admins: SlackAdmins
    responses: ResponseUrls
    errors: ErrorHook
    # Core work runs in threads that share the GIL with the event loop; bounding it keeps the loop
    # free to acknowledge new commands within Slack's 3 s during a burst (bench/slack_ack_load.py).
    core_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CORE_CONCURRENCY))
    approvals: PublishGate = field(default_factory=PublishGate)
    permalinks: Permalinks | None = None  # links from search hits to digest threads (None: no links)

    async def invocation(
        self, team_id: str, channel_id: str, user_id: str, user_name: str, command: Command
    ) -> Invocation:
        # users.info is only asked for admin commands: a search costs no extra API call.
        is_admin = is_admin_command(command) and await self.admins.is_admin(team_id, user_id)
        return Invocation(
            platform="slack",
            workspace_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            user_name=user_name,
            is_platform_admin=is_admin,
            channel_kind="text",
        )

    async def run(
        self, inv: Invocation, command: Command, response_url: str | None, *, shared_by: str | None = None
    ) -> None:
        """Answer `command`: privately (unless the core says otherwise), or, `shared_by` someone
        (mrkdwn) who clicked Share, for the channel, when the answer is worth sharing."""
        async with self.core_slots:
            reply = await self.chat.handle(inv, command)
        if reply.kind == "chart":
            await self.post_chart(inv, reply, response_url)
            return
        links: dict[str, str] = {}
        if reply.search is not None and self.permalinks is not None:
            links = await self.permalinks.for_hits(inv.workspace_id, reply.search.hits)
        if shared_by is not None and is_shareable(reply):
            message = render_reply(reply, thread_links=links, shareable=False)
            shared = SlackMessage(text=message.text, blocks=[shared_note(shared_by), *message.blocks])
            await self.responses.send(response_url, shared, ephemeral=False)
            return
        message = render_reply(reply, thread_links=links, shareable=reply.ephemeral)
        await self.responses.send(response_url, message, ephemeral=reply.ephemeral)

    async def post_chart(self, inv: Invocation, reply: Reply, response_url: str | None) -> None:
        """Upload the chart to the channel; if Slack refuses (not in channel, no files:write), send the
        numbers as text instead."""
        if reply.chart_png and reply.trend is not None and reply.trend.points:
            try:
                client = await self.clients.for_team(inv.workspace_id)
                await client.files_upload_v2(
                    channel=inv.channel_id,
                    file=reply.chart_png,
                    filename="trend.png",
                    title=clip(f"Trend: {reply.trend.query}", 200),
                    initial_comment=clip(reply.text.split("\n", 1)[0], 1000),
                )
                return
            except (TimeoutError, SlackApiError, SlackClientError, OSError) as exc:
                log.warning("chart upload failed, answering with text: %s", slack_error_code(exc))
        message = trend_message(reply.trend, reply.text) if reply.trend else SlackMessage(text=reply.text)
        await self.responses.send(response_url, message, ephemeral=True)

    async def on_slash_command(self, body: dict[str, Any]) -> None:
        command = parse_command(str(body.get("text") or ""))
        inv = await self.invocation(
            str(body.get("team_id") or ""),
            str(body.get("channel_id") or ""),
            str(body.get("user_id") or ""),
            str(body.get("user_name") or ""),
            command,
        )
        await self.run(inv, command, response_url_of(body))

    async def on_button(self, body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        action_id = str(action.get("action_id") or "")
        value = str(action.get("value") or "")
        command: Command
        if action_id == ACTION_SEARCH_MORE:
            parsed = parse_more_value(value)
            if parsed is None:
                expired = SlackMessage(text="That button has expired; run the search again.")
                await self.responses.send(response_url_of(body), expired, ephemeral=True)
                return
            command = Search(parsed[0], page=parsed[1])
        elif action_id == ACTION_CHART and value.strip():
            command = Chart(value)
        elif action_id == ACTION_SHARE:
            shared = parse_share_value(value)
            if shared is None:
                expired = SlackMessage(text="That button has expired; run the command again.")
                await self.responses.send(response_url_of(body), expired, ephemeral=True)
                return
            command = shared
        else:
            return
        team = body.get("team") or {}
        user = body.get("user") or {}
        channel = body.get("channel") or {}
        user_id = str(user.get("id") or "")
        inv = await self.invocation(
            str(team.get("id") or user.get("team_id") or ""),
            str(channel.get("id") or ""),
            user_id,
            str(user.get("username") or user.get("name") or ""),
            command,
        )
        sharer = None
        if action_id == ACTION_SHARE:  # a mention shows the sharer's name (and pings no one in a context)
            sharer = f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else escape(inv.user_name or "someone")
        await self.run(inv, command, response_url_of(body), shared_by=sharer)

    async def on_approve(self, body: dict[str, Any]) -> None:
        """An admin approved a draft: publish it as them, then update the preview with the outcome."""
        action = (body.get("actions") or [{}])[0]
        key = parse_approve_value(action.get("value"))
        response_url = response_url_of(body)
        if key is None:
            await self.responses.send(response_url, SlackMessage(text=STALE_APPROVAL), ephemeral=True)
            return
        team = body.get("team") or {}
        user = body.get("user") or {}
        channel = body.get("channel") or {}
        container = body.get("container") or {}
        user_id = str(user.get("id") or "")
        # A mention shows the approver's current name; anything that is not a user id is shown as text.
        approver = (
            f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else escape(str(user.get("username") or "?"))
        )
        month, audience = approve_target(key)
        command = Publish(month, audience)
        with self.approvals.claim(key, approver) as claimed:
            if not claimed:
                holder = self.approvals.holder(key)
                busy = f"The {month} digest is being published right now (approved by {holder})."
                await self.responses.send(response_url, SlackMessage(text=busy), ephemeral=True)
                return
            inv = await self.invocation(
                str(team.get("id") or user.get("team_id") or ""),
                str(channel.get("id") or container.get("channel_id") or ""),
                user_id,
                str(user.get("username") or user.get("name") or ""),
                command,
            )
            async with self.core_slots:
                reply = await self.chat.handle(inv, command)
        report = reply.report
        if reply.kind != "published" or report is None:  # not an admin, or the digest is gone
            await self.responses.send(response_url, text_message(reply.text), ephemeral=True)
            return
        if already_delivered(report):  # a stale button: keep the first approver on the message
            done = f"The {month} digest was already published; nothing was posted again."
            await self.responses.send(response_url, SlackMessage(text=done), ephemeral=True)
            return
        issue = await self.chat.handle(inv, Issue(month, audience))
        outcome = f"✅ Approved by {approver}. {escape(report.summary())}"
        message = approval_result(
            issue.digest,
            outcome,
            retry_month=None if report.ok else key,
        )
        preview_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        try:
            client = await self.clients.for_team(inv.workspace_id)
            await client.chat_update(
                channel=inv.channel_id, ts=str(preview_ts or ""), text=message.text, blocks=message.blocks
            )
        except (TimeoutError, SlackApiError, SlackClientError, aiohttp.ClientError) as exc:
            # The digest is out; only the preview is stale. Tell the approver what happened instead.
            log.warning("could not update the approval preview: %s", slack_error_code(exc))
            await self.responses.send(response_url, SlackMessage(text=message.text), ephemeral=True)

    async def on_reaction(self, body: dict[str, Any], event: dict[str, Any], added: bool) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message" or not item.get("ts"):
            return
        team_id = str(body.get("team_id") or event.get("team") or "")
        user_id = str(event.get("user") or "")
        reaction = str(event.get("reaction") or "")
        method = self.feedback.react if added else self.feedback.unreact
        # Slack's ts is unique only within a channel, so the channel is part of the lookup.
        channel_id = str(item.get("channel") or "") or None
        await asyncio.to_thread(
            partial(method, channel_id=channel_id), "slack", team_id, user_id, str(item["ts"]), reaction
        )


def build_app(
    settings: Settings,
    chat: ChatHandler,
    feedback: FeedbackService,
    client: AsyncWebClient,
    *,
    admins: SlackAdmins | None = None,
    responses: ResponseUrls | None = None,
    oauth: OAuthParts | None = None,
    clients: WorkspaceClients | None = None,
) -> AsyncApp:
    """The bolt app with every listener registered. `client` is the bot's Web API client (the same one
    the `SlackPoster` given to the chat core uses). With `oauth` the app serves the install flow,
    authorizes each request with its workspace's installation, and deletes a workspace's tokens when
    it uninstalls the app; `client` then carries no token and `clients` gives each workspace's."""
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set. HTTP mode needs it to check that requests come from Slack "
            "(or set SLACK_APP_TOKEN to use Socket Mode)."
        )
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if oauth is None:
        app = AsyncApp(client=client, signing_secret=secret, name="ai-trends-bot", logger=log)
    else:
        app = AsyncApp(
            client=client,
            signing_secret=secret,
            name="ai-trends-bot",
            logger=log,
            oauth_settings=oauth.settings,
            installation_store_bot_only=True,
            user_facing_authorize_error_message=oauth.not_installed_message,
        )
        app.enable_token_revocation_listeners()  # app_uninstalled, tokens_revoked → delete the tokens
    clients = clients or SingleWorkspace(client)
    responses = responses or ResponseUrls()
    bot = SlackBot(
        chat,
        feedback,
        clients,
        admins or SlackAdmins(clients),
        responses,
        ErrorHook(responses),
        permalinks=Permalinks(clients),
    )

    @app.command(SLASH_COMMAND)
    async def on_trends(ack: AsyncAck, body: dict[str, Any]) -> None:
        # Acknowledge before anything else: Slack gives up after 3 s. Slow commands say so.
        slow = re.match(r"\s*(publish|preview)\b", str(body.get("text") or ""), re.IGNORECASE)
        if slow:
            await ack(text=SLOW_COMMAND_ACK)
        else:
            await ack()
        await bot.errors.guard(response_url_of(body), lambda: bot.on_slash_command(body))

    @app.action(ACTION_SEARCH_MORE)
    async def on_more(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await bot.errors.guard(response_url_of(body), lambda: bot.on_button(body))

    @app.action(ACTION_CHART)
    async def on_chart(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await bot.errors.guard(response_url_of(body), lambda: bot.on_button(body))

    @app.action(ACTION_SHARE)
    async def on_share(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await bot.errors.guard(response_url_of(body), lambda: bot.on_button(body))

    @app.action(ACTION_APPROVE)
    async def on_approve(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # publishing takes a while (~1 message/s): acknowledge the click first
        await bot.errors.guard(response_url_of(body), lambda: bot.on_approve(body))

    @app.action(re.compile(f"^{ACTION_LINK_PREFIX}"))
    async def on_link(ack: AsyncAck) -> None:
        # Link buttons open their URL in the browser; Slack still sends the click, which must be acked.
        await ack()

    @app.event("reaction_added")
    async def on_reaction_added(body: dict[str, Any], event: dict[str, Any]) -> None:
        await bot.errors.guard(None, lambda: bot.on_reaction(body, event, added=True))

    @app.event("reaction_removed")
    async def on_reaction_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
        await bot.errors.guard(None, lambda: bot.on_reaction(body, event, added=False))

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        await bot.errors.report(error, response_url_of(body) if isinstance(body, dict) else None)

    return app


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_web_app(
    app: AsyncApp, *, with_events: bool = True, health: HealthCheck | None = None
) -> web.Application:
    """The aiohttp application: bolt's `POST /slack/events` handler (HTTP mode) and `GET /healthz`
    (a bare "ok" without a `health` check)."""
    web_app = app.web_app(path=EVENTS_PATH) if with_events else web.Application()
    web_app.router.add_get(HEALTH_PATH, healthz if health is None else health_handler(health))
    return web_app


@dataclass
class SlackRuntime:
    """Everything `trends serve slack` runs: the bolt app, its client and the chat core's poster."""

    settings: Settings
    app: AsyncApp
    client: AsyncWebClient  # SLACK_BOT_TOKEN's client; with OAuth, a client without a token
    poster: SlackPoster
    responses: ResponseUrls
    clients: WorkspaceClients  # each workspace's client: what posts, answers and previews use
    link: SlackLink = field(default_factory=SlackLink)  # what `serve` opened (for the health check)


def create_runtime(
    settings: Settings,
    make_chat: Callable[[SlackPoster], ChatHandler],
    feedback: FeedbackService,
    session_factory: sessionmaker[Session] | None = None,
) -> SlackRuntime:
    """Build client → poster → chat core → app, in that order (the core posts through the poster).

    One workspace with SLACK_BOT_TOKEN, or many installed by OAuth (`settings.slack_oauth`), whose
    installations live in the database behind `session_factory`."""
    oauth: OAuthParts | None = None
    clients: WorkspaceClients
    if settings.slack_oauth:
        if session_factory is None:
            raise ConfigError("Slack installs by OAuth keep their tokens in the database: none was given.")
        from adapters.slack.oauth import build_oauth

        oauth = build_oauth(settings, session_factory)
        client = make_client(settings.slack_api_url)
        clients = InstalledWorkspaces(oauth.installations, settings.slack_api_url)
    else:
        client = build_web_client(settings)
        clients = SingleWorkspace(client)
    poster = SlackPoster(clients)
    responses = ResponseUrls()
    app = build_app(
        settings, make_chat(poster), feedback, client, responses=responses, oauth=oauth, clients=clients
    )
    return SlackRuntime(
        settings=settings, app=app, client=client, poster=poster, responses=responses, clients=clients
    )


async def serve(
    runtime: SlackRuntime,
    *,
    host: str = "0.0.0.0",  # noqa: S104
    port: int | None = None,
    health: HealthCheck | None = None,
) -> None:
    """Run until cancelled: Socket Mode if `SLACK_APP_TOKEN` is set, else HTTP mode on `port`."""
    port = runtime.settings.slack_port if port is None else port
    socket_mode = runtime.settings.slack_app_token is not None
    web_app = build_web_app(runtime.app, with_events=not socket_mode, health=health)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    handler = None
    try:
        if runtime.settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(runtime.app, runtime.settings.slack_app_token.get_secret_value())
            await handler.connect_async()  # type: ignore[no-untyped-call]  # bolt leaves it unannotated
            runtime.link.socket_client, runtime.link.mode = handler.client, "socket-mode"
            log.info("slack app connected over Socket Mode; /healthz on port %s", port)
        else:
            runtime.link.mode = "http"
            log.info("slack app listening on %s:%s%s", host, port, EVENTS_PATH)
            flow = runtime.app.oauth_flow
            if flow is not None:
                log.info(
                    "slack workspaces install the app at %s (redirect %s)",
                    flow.install_path,
                    flow.redirect_uri_path,
                )
        await asyncio.Event().wait()
    finally:
        runtime.link.mode, runtime.link.socket_client = "stopped", None
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        await runtime.responses.close()
        await runner.cleanup()
