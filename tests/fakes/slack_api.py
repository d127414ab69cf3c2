"""A fake Slack: Web API, `response_url` endpoint and Socket Mode websocket on one 127.0.0.1 server.

It is a real aiohttp server on port 0, so the real `slack_sdk` clients and slack-bolt talk to it over
HTTP exactly as they would to slack.com. It implements the methods the adapter uses (auth.test,
chat.postMessage, chat.getPermalink, conversations.history/replies, users.info, the three-step file
upload, chat.postEphemeral, apps.connections.open), keeps channels and threads in memory with their message
metadata, and records every call (method, merged query/form/JSON parameters, headers).

Faults can be injected per method: a 429 with `Retry-After` on the N-th call, or `ok: false` with an
error code. `response_url`s point at `/response/<key>` on the same server, which records what
`respond()` posts. Socket Mode: `apps.connections.open` answers with `ws://…/socket`; the test pushes
an envelope with `socket_request` and gets back the app's acknowledgement.

`delay` holds every Web API answer back after the method has done its work, so that a test can kill
the client while a post is in flight (the message exists; the client never heard of it).

`signed_headers` computes the `X-Slack-Signature` v0 HMAC Slack puts on HTTP-mode requests.

Installs by OAuth: `grant(team_id)` is what Slack does when a user approves the install in their
workspace: it returns the `code` Slack would put on the redirect. `oauth.v2.access` (authenticated with
`client_id`/`client_secret`, as HTTP Basic or form fields) trades a code once for a new bot token of
that team. Every token belongs to one team: `auth.test` answers with that team's ids, and a channel
registered with `channel_in(channel, team)` is only found with a token of its team (as on Slack, where
another workspace's token gets `channel_not_found`). `revoke(team_id)` makes a team's tokens invalid,
as uninstalling does. `token_of(call)` says which token a recorded call carried.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

from aiohttp import BasicAuth, WSMsgType, web

DATA = Path(__file__).parent.parent / "data" / "slack"
BOT_TOKEN = "xoxb-test-0000-not-a-real-token"
APP_TOKEN = "xapp-1-test-0000-not-a-real-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fake-client-secret-0000-not-real"
APP_ID = "A0TRENDSAPP"
GRANTED_SCOPES = ("commands", "chat:write", "reactions:read", "users:read", "files:write", "channels:history")


def load_payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs an HTTP request with (v0: HMAC-SHA256 of `v0:{ts}:{body}`)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slash_command_body(text: str, response_url: str, **overrides: str) -> str:
    """The form body Slack POSTs for `/trends <text>` (from the recorded payload)."""
    fields = load_payload("slash_command.json")
    fields.update(text=text, response_url=response_url, **overrides)
    return urlencode(fields)


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


@dataclass
class RecordedCall:
    method: str  # Web API method, or "upload" / "response"
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200


@dataclass
class Fault:
    method: str
    nth: int  # 1-based count of calls to `method` that gets the fault
    status: int = 429
    error: str | None = None  # ok:false error code (status 200)
    retry_after: int = 1


@dataclass
class Grant:
    """An install approved in a workspace, waiting for `oauth.v2.access` to trade its code."""

    team_id: str
    team_name: str
    installer: str


@dataclass
class FakeSlack:
    bot_token: str = BOT_TOKEN
    app_token: str = APP_TOKEN
    team_id: str = "T0TRENDS1"
    bot_user_id: str = "U0TRENDSBOT"
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    # bot token -> team id, for tokens issued by oauth.v2.access (`bot_token` is `team_id`'s)
    tokens: dict[str, str] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)  # code -> approved install
    channel_teams: dict[str, str] = field(default_factory=dict)  # channel -> the team it is in
    _team: str = ""  # the team of the token of the call being answered
    calls: list[RecordedCall] = field(default_factory=list)
    responses: list[RecordedCall] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    # channel id -> messages in posting order; each has ts, thread_ts, text, blocks, metadata
    channels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    admins: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)
    not_member: set[str] = field(default_factory=set)  # channels the bot was not invited to
    faults: list[Fault] = field(default_factory=list)
    delay: float = 0.0  # seconds each Web API answer is held back after the work is done
    _counts: dict[str, int] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0
    _socket: web.WebSocketResponse | None = None
    _socket_connected: asyncio.Event = field(default_factory=asyncio.Event)
    _socket_acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/socket", self._websocket)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    def response_url(self, key: str = "cmd") -> str:
        return f"{self.url}response/{key}"

    # --- faults and inspection ---------------------------------------------------------------

    def rate_limit(self, method: str, nth: int, retry_after: int = 1) -> None:
        """Answer the `nth` call to `method` (counting from now) with 429 and `Retry-After`."""
        self.faults.append(Fault(method, self._counts.get(method, 0) + nth, 429, None, retry_after))

    def fail(self, method: str, error: str, nth: int = 1) -> None:
        """Answer the `nth` call to `method` (counting from now) with `ok: false, error: <error>`."""
        self.faults.append(Fault(method, self._counts.get(method, 0) + nth, 200, error))

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method and call.status == 200]

    def add_message(self, channel: str, text: str, user: str = "U0MEMBER01") -> str:
        """A message someone else posted (no API call recorded); returns its ts."""
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "thread_ts": None,
            "metadata": None,
        }
        self.channels.setdefault(channel, []).append(message)
        return ts

    def posted(self, channel: str) -> list[dict[str, Any]]:
        return self.channels.get(channel, [])

    # --- installs by OAuth ---------------------------------------------------------------------

    def grant(self, team_id: str, team_name: str = "", installer: str = "U0INSTALL1") -> str:
        """A user of `team_id` approved the install: the one-time `code` Slack redirects with."""
        code = f"code-{team_id}-{next(self._ts):06d}"
        self.grants[code] = Grant(team_id, team_name or f"Team {team_id}", installer)
        return code

    def channel_in(self, channel: str, team_id: str) -> None:
        self.channel_teams[channel] = team_id

    def revoke(self, team_id: str) -> None:
        """Uninstalling in `team_id`: its tokens stop working."""
        self.tokens = {token: team for token, team in self.tokens.items() if team != team_id}

    def tokens_of(self, team_id: str) -> list[str]:
        return [token for token, team in self.tokens.items() if team == team_id]

    @staticmethod
    def token_of(call: RecordedCall) -> str:
        return call.headers.get("Authorization", "").removeprefix("Bearer ")

    def team_of_token(self, token: str) -> str | None:
        if token == self.bot_token:
            return self.team_id
        return self.tokens.get(token)

    def bot_user_of(self, team_id: str) -> str:
        return self.bot_user_id if team_id == self.team_id else f"U0BOT{team_id[-4:]}"

    async def wait_for_responses(self, count: int, timeout: float = 10.0) -> list[RecordedCall]:
        """Wait until `respond()` has posted `count` times (the app answers after acknowledging)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.responses) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} responses, got {self.responses}")
            await asyncio.sleep(0.01)
        return self.responses

    async def wait_for_calls(self, method: str, count: int, timeout: float = 10.0) -> list[RecordedCall]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls_to(method)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} {method} calls, got {len(self.calls_to(method))}")
            await asyncio.sleep(0.01)
        return self.calls_to(method)

    # --- HTTP handlers ----------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        return params

    def _fault_for(self, method: str) -> Fault | None:
        count = self._counts[method]
        for fault in self.faults:
            if fault.method == method and fault.nth == count:
                self.faults.remove(fault)
                return fault
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        headers = dict(request.headers)
        self._counts[method] = self._counts.get(method, 0) + 1
        fault = self._fault_for(method)
        if fault is not None and fault.status == 429:
            self.calls.append(RecordedCall(method, params, headers, status=429))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        self.calls.append(RecordedCall(method, params, headers))
        if fault is not None:
            return web.json_response({"ok": False, "error": fault.error})
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_v2_access(headers, params))
        if method == "auth.test" and params.get("token"):
            token = str(params["token"])  # bolt's authorization passes the token as a parameter
        if method == "apps.connections.open":
            team = self.team_id if token == self.app_token else None
        else:
            team = self.team_of_token(token)
        if team is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        self._team = team
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body: dict[str, Any] = handler(params)
        if self.delay:  # after the work: a client killed now has posted without hearing back
            await asyncio.sleep(self.delay)
        return web.json_response(body)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.uploads[file_id] = data
        record = RecordedCall("upload", {"file_id": file_id, "bytes": len(data)}, dict(request.headers))
        self.calls.append(record)
        return web.Response(text=f"OK - {len(data)}")

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        record = RecordedCall("response", {"key": request.match_info["key"], **body}, dict(request.headers))
        self.responses.append(record)
        return web.Response(text="ok")

    # --- Web API methods --------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"1761955200.{next(self._ts):06d}"

    def _oauth_v2_access(self, headers: dict[str, str], params: dict[str, Any]) -> dict[str, Any]:
        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        if "Authorization" in headers and headers["Authorization"].startswith("Basic "):
            basic = BasicAuth.decode(headers["Authorization"])
            client_id, client_secret = basic.login, basic.password
        if client_id != self.client_id or client_secret != self.client_secret:
            return {
                "ok": False,
                "error": "invalid_client_id" if client_id != self.client_id else "bad_client_secret",
            }
        grant = self.grants.pop(str(params.get("code", "")), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        token = f"xoxb-{grant.team_id}-{next(self._ts):06d}-fake-oauth-token"
        self.tokens[token] = grant.team_id
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": grant.installer},
            "scope": ",".join(GRANTED_SCOPES),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": self.bot_user_of(grant.team_id),
            "team": {"id": grant.team_id, "name": grant.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        body = load_payload("auth_test.json")
        body.update(
            team_id=self._team,
            user_id=self.bot_user_of(self._team),
            bot_id="B0TRENDSBOT" if self._team == self.team_id else f"B0BOT{self._team[-4:]}",
        )
        return body

    def _elsewhere(self, channel: str) -> bool:
        """The channel is in another workspace than the calling token's: Slack does not find it."""
        return channel in self.channel_teams and self.channel_teams[channel] != self._team

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        body = load_payload("users_info.json")
        user_id = str(params.get("user", ""))
        body["user"].update(
            id=user_id,
            is_admin=user_id in self.admins or user_id in self.owners,
            is_owner=user_id in self.owners,
        )
        return body

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if not channel.startswith(("C", "G", "D")) or self._elsewhere(channel):
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if len(blocks) > 50:
            return {"ok": False, "error": "invalid_blocks"}
        if len(json.dumps(blocks, ensure_ascii=False)) > 13_000:
            return {"ok": False, "error": "msg_blocks_too_long"}
        ts = self._next_ts()
        thread_ts = params.get("thread_ts")
        if thread_ts is not None and not any(m["ts"] == thread_ts for m in self.posted(channel)):
            return {"ok": False, "error": "thread_not_found"}
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": "B0TRENDSBOT",
            "text": params.get("text", ""),
            "ts": ts,
            "blocks": blocks,
            "thread_ts": thread_ts,
            "metadata": metadata,
        }
        self.channels.setdefault(channel, []).append(message)
        body = load_payload("post_message.json")
        body.update(channel=channel, ts=ts, message={**body["message"], **self._shown(message, True)})
        return body

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        ts = str(params.get("ts", ""))
        message = next((m for m in self.posted(channel) if m["ts"] == ts), None)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        message.update(text=params.get("text", ""), blocks=blocks, edited=True)
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"]}

    def _m_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        """A message's permalink on its team's domain; a reply's carries its thread, as Slack's does."""
        channel = str(params.get("channel", ""))
        ts = str(params.get("message_ts", ""))
        if self._elsewhere(channel):
            return {"ok": False, "error": "channel_not_found"}
        message = next((m for m in self.posted(channel) if m["ts"] == ts), None)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        url = f"https://{self.domain_of(self._team)}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != ts:
            url += f"?thread_ts={thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": url}

    def domain_of(self, team_id: str) -> str:
        """The workspace's slack.com subdomain (made up from its id)."""
        return f"team-{team_id.lower()}"

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _shown(self, message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        shown = {k: v for k, v in copy.deepcopy(message).items() if v is not None}
        if not with_metadata:
            shown.pop("metadata", None)
        return shown

    def _page(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        with_metadata = _truthy(params.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._shown(m, with_metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if self._elsewhere(channel):
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        top_level = [m for m in reversed(self.posted(channel)) if m["thread_ts"] in (None, m["ts"])]
        return self._page(top_level, params)

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        ts = str(params.get("ts", ""))
        thread = [m for m in self.posted(channel) if m["ts"] == ts or m["thread_ts"] == ts]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return self._page(thread, params)

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F0{next(self._ts):08d}"
        return {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel_id", ""))
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        files = json.loads(str(params.get("files", "[]")))
        if any(f.get("id") not in self.uploads for f in files):
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    # --- Socket Mode ------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json(load_payload("socket_hello.json"))
        self._socket_connected.set()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            waiter = self._socket_acks.pop(str(data.get("envelope_id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data)
        return ws

    async def socket_request(self, envelope: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Push a Socket Mode envelope to the connected app; return its acknowledgement."""
        await asyncio.wait_for(self._socket_connected.wait(), timeout)
        assert self._socket is not None
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._socket_acks[str(envelope["envelope_id"])] = waiter
        await self._socket.send_json(envelope)
        return await asyncio.wait_for(waiter, timeout)
