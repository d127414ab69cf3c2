"""A local fake of Discord's REST API (v10) on 127.0.0.1, for driving the real discord.py against it.

discord.py builds every REST URL from `discord.http.Route.BASE`; `FakeDiscord.running()` starts an
aiohttp server on port 0, points that attribute at it and restores it afterwards. The fake keeps a
small in-memory guild (text and forum channels, threads, messages), records every call (method, path,
query, JSON body or multipart parts) and answers with payloads shaped like Discord's, built from the
recorded-style files in `tests/data/discord/`.

What it reproduces because discord.py depends on it (see docs/pitfalls): JSON replies carry
`Content-Type: application/json` exactly; interaction callbacks arrive with `?with_response=1` and are
answered with `{"interaction": …, "resource": {"type": N}}`; a 429 carries `Via` and `retry_after`.
It also keeps Discord's behaviours the adapter relies on: a thread started from a message has the
message's id; a forum post's starter message has the thread's id; `enforce_nonce` returns the earlier
message for a nonce seen again instead of creating a second one.

A minimal gateway is served too (`ws://…/gateway`: `running()` points discord.py's default gateway at
it; a child process gets it as DISCORD_GATEWAY_URL): HELLO, READY after
IDENTIFY (no guilds, so discord.py reports ready after its `guild_ready_timeout`), heartbeat ACKs.
Enough for a real `bot.start()` to become ready; no events are pushed.

`delay` (seconds) holds every REST answer back after the work is done, so that a test can kill the
client while a post is in flight: the message exists, the client never heard of it.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord.gateway
import discord.http
import yarl
from aiohttp import WSMsgType, web

DATA = Path(__file__).resolve().parent.parent / "data" / "discord"
DISCORD_EPOCH_MS = 1420070400000
API_PREFIX = "/api/v10"

JsonDict = dict[str, Any]


def load(name: str) -> JsonDict:
    """A recorded-style payload from tests/data/discord (a fresh copy each time)."""
    data: JsonDict = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return data


BOT_USER = load("user_me")
APPLICATION = load("application")
APP_ID = APPLICATION["id"]
GUILD_ID = load("channel_text")["guild_id"]
TEXT_CHANNEL_ID = load("channel_text")["id"]
FORUM_CHANNEL_ID = load("channel_forum")["id"]


@dataclass
class Call:
    method: str
    path: str  # without the /api/v10 prefix, e.g. "/channels/1/messages"
    query: dict[str, str]
    json: Any = None  # the JSON body, or the multipart `payload_json`
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, content)
    authorization: str = ""


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: JsonDict
    times: int


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py decodes JSON only when the content type is exactly "application/json" (no charset).
    response = web.Response(status=status, body=json.dumps(data).encode(), headers=headers or {})
    response.headers["Content-Type"] = "application/json"
    return response


class FakeDiscord:
    """An in-memory guild behind Discord-shaped REST routes. Use `async with FakeDiscord.running()`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.channels: dict[str, JsonDict] = {}
        self.messages: dict[str, list[JsonDict]] = {}  # channel or thread id -> messages, oldest first
        self.synced: dict[str, list[JsonDict]] = {}  # "global" or guild id -> commands last PUT
        self.left_guilds: list[str] = []  # guild ids the bot left (DELETE /users/@me/guilds/{id})
        self.replies: dict[str, list[JsonDict]] = {}  # interaction token -> responses and follow-ups
        self.deleted_replies: list[str] = []  # ids of interaction responses the bot deleted
        self._interaction_channels: dict[str, str] = {}
        self._failures: list[Failure] = []
        self._nonces: dict[tuple[str, str], JsonDict] = {}
        self._counter = itertools.count(1)
        self.base_url = ""
        self.gateway_url = ""
        self.delay = 0.0
        self.identified = 0  # IDENTIFY payloads the gateway received
        self.add_channel(load("channel_text"))
        self.add_channel(load("channel_forum"))

    # ------------------------------------------------------------------ state helpers

    def snowflake(self) -> str:
        """A fresh, increasing Discord id (time-based like the real ones)."""
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((now_ms << 22) | (next(self._counter) & 0x3FFFFF))

    def add_channel(self, payload: JsonDict) -> JsonDict:
        self.channels[payload["id"]] = payload
        self.messages.setdefault(payload["id"], [])
        return payload

    def _message(self, channel_id: str, body: JsonDict, author: JsonDict | None) -> JsonDict:
        message = load("message")
        message["id"] = self.snowflake()
        message["channel_id"] = channel_id
        if author is not None:
            message["author"] = author
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                message[key] = body[key]
        if "nonce" in body:
            message["nonce"] = body["nonce"]
        return message

    def add_message(self, channel_id: str, body: JsonDict, *, author: JsonDict | None = None) -> JsonDict:
        message = self._message(channel_id, body, author)
        self.messages.setdefault(channel_id, []).append(message)
        thread = self.channels.get(channel_id)
        if thread is not None and thread.get("type") in (11, 12):
            thread["message_count"] += 1
            thread["last_message_id"] = message["id"]
        return message

    def add_guild_channel(self, guild_id: str, name: str = "papers") -> JsonDict:
        """A text channel in another guild (the recorded one is in `GUILD_ID`)."""
        channel = load("channel_text")
        channel.update(id=self.snowflake(), guild_id=guild_id, name=name)
        return self.add_channel(channel)

    def messages_in(self, channel_id: str) -> list[JsonDict]:
        return list(self.messages.get(channel_id, []))

    def threads_of(self, parent_id: str) -> list[JsonDict]:
        return [
            c for c in self.channels.values() if c.get("parent_id") == parent_id and c["type"] in (11, 12)
        ]

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        """Recorded calls whose path fully matches the regular expression `pattern`."""
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    def fail(
        self, method: str, path_pattern: str, status: int, body: JsonDict | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` matching calls with an error (429 bodies need `retry_after`)."""
        default = (
            {"message": "Missing Access", "code": 50001} if status == 403 else {"message": "error", "code": 0}
        )
        self._failures.append(Failure(method, re.compile(path_pattern), status, body or default, times))

    def interaction(
        self, options: list[JsonDict], *, name: str = "trends", manage_guild: bool = False, **overrides: Any
    ) -> JsonDict:
        """An APPLICATION_COMMAND interaction as the gateway delivers it, for `/name <options>`."""
        payload = load("interaction_command")
        payload["id"] = self.snowflake()
        payload["token"] = f"{payload['token']}-{payload['id']}"
        payload["data"]["name"] = name
        payload["data"]["options"] = options
        if manage_guild:
            permissions = int(payload["member"]["permissions"]) | discord.Permissions(manage_guild=True).value
            payload["member"]["permissions"] = str(permissions)
        for key, value in overrides.items():
            payload[key] = value
        self._interaction_channels[payload["token"]] = payload["channel_id"]
        return payload

    def replies_to(self, interaction: JsonDict) -> list[JsonDict]:
        """The messages the bot sent in answer to an interaction (response and follow-ups)."""
        return self.replies.get(interaction["token"], [])

    def _reply(self, token: str, body: JsonDict, *, deferred: bool = False) -> JsonDict:
        """A response message; like Discord, the first follow-up after a deferral ("thinking…")
        replaces that placeholder instead of adding a message."""
        channel_id = self._interaction_channels.get(token, TEXT_CHANNEL_ID)
        message = self._message(channel_id, body, BOT_USER)
        message["webhook_id"] = APP_ID
        replies = self.replies.setdefault(token, [])
        if replies and replies[-1].get("_deferred"):
            message["id"] = replies[-1]["id"]
            message["flags"] = replies[-1]["flags"]  # ephemerality is fixed by the deferral
            replies[-1] = message
        else:
            replies.append(message)
        if deferred:
            message["_deferred"] = True
        return message

    # ------------------------------------------------------------------ server

    @classmethod
    @asynccontextmanager
    async def running(cls) -> AsyncIterator[FakeDiscord]:
        fake = cls()
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", fake._handle)
        app.router.add_get("/gateway", fake._gateway_socket)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        fake.base_url = f"http://127.0.0.1:{port}{API_PREFIX}"
        fake.gateway_url = f"ws://127.0.0.1:{port}/gateway"
        previous = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = fake.base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        try:
            yield fake
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = previous
            await runner.cleanup()

    async def _gateway_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            op = json.loads(message.data).get("op")
            if op == 1:  # heartbeat
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:  # identify
                self.identified += 1
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": f"fake-session-{self.identified}",
                    "resume_gateway_url": self.gateway_url,
                    "application": {"id": APP_ID, "flags": 0},
                }
                await ws.send_json({"op": 0, "t": "READY", "s": 1, "d": ready})
        return ws

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = await self._answer(request)
        if self.delay:  # after the work: a client killed now has posted without hearing back
            await asyncio.sleep(self.delay)
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(API_PREFIX)
        call = Call(
            request.method, path, dict(request.query), authorization=request.headers.get("Authorization", "")
        )
        if request.content_type == "application/json":
            call.json = await request.json()
        elif request.content_type.startswith("multipart/"):
            form = await request.post()
            for name, value in form.items():
                if name == "payload_json":
                    call.json = json.loads(str(value))
                elif isinstance(value, web.FileField):
                    call.files.append((value.filename, value.file.read()))
        self.calls.append(call)
        for failure in self._failures:
            if failure.times > 0 and failure.method == request.method and failure.path.fullmatch(path):
                failure.times -= 1
                headers = {"Via": "1.1 google"} if failure.status == 429 else {}
                return json_response(failure.body, failure.status, headers)
        for method, pattern, handler in self._routes():
            match = pattern.fullmatch(path)
            if match and method == request.method:
                return await handler(call, **match.groupdict())
        return json_response({"message": "404: Not Found", "code": 0}, 404)

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Awaitable[web.Response]]]]:
        table: list[tuple[str, str, Callable[..., Awaitable[web.Response]]]] = [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("GET", r"/gateway/bot", self._gateway),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._sync),
            ("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._sync),
            ("POST", r"/interactions/(?P<interaction>\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._followup),
            ("PATCH", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<message>[^/]+)", self._followup),
            (
                "DELETE",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<message>[^/]+)",
                self._delete_reply,
            ),
            ("GET", r"/channels/(?P<channel>\d+)", self._get_channel),
            ("GET", r"/channels/(?P<channel>\d+)/messages", self._list_messages),
            ("POST", r"/channels/(?P<channel>\d+)/messages", self._create_message),
            ("GET", r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)", self._get_message),
            (
                "POST",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)/threads",
                self._thread_from_message,
            ),
            ("POST", r"/channels/(?P<channel>\d+)/threads", self._forum_post),
            ("GET", r"/channels/(?P<channel>\d+)/threads/archived/public", self._archived_threads),
            ("GET", r"/guilds/(?P<guild>\d+)/channels", self._guild_channels),
            ("GET", r"/guilds/(?P<guild>\d+)/threads/active", self._active_threads),
            ("DELETE", r"/users/@me/guilds/(?P<guild>\d+)", self._leave_guild),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    # ------------------------------------------------------------------ handlers

    async def _leave_guild(self, call: Call, guild: str) -> web.Response:
        self.left_guilds.append(guild)
        return web.Response(status=204)

    async def _me(self, call: Call) -> web.Response:
        if call.authorization != "Bot fake-discord-token":
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        return json_response(BOT_USER)

    async def _application(self, call: Call) -> web.Response:
        return json_response(APPLICATION)

    async def _gateway(self, call: Call) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _sync(self, call: Call, app: str, guild: str | None = None) -> web.Response:
        commands = []
        for command in call.json or []:
            echoed = copy.deepcopy(command)
            echoed.update(id=self.snowflake(), application_id=app, version=self.snowflake())
            if guild is not None:
                echoed["guild_id"] = guild
            commands.append(echoed)
        self.synced[guild or "global"] = commands
        return json_response(commands)

    async def _callback(self, call: Call, interaction: str, token: str) -> web.Response:
        body = call.json or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        ephemeral = bool(int(data.get("flags", 0) or 0) & 64)
        response: JsonDict = {
            "interaction": {
                "id": interaction,
                "type": 2,
                "activity_instance_id": None,
                "response_message_id": None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": ephemeral,
            },
            "resource": {"type": kind},
        }
        if kind in (4, 5):
            message = self._reply(token, {**data, "flags": data.get("flags", 0)}, deferred=kind == 5)
            response["interaction"]["response_message_id"] = message["id"]
            if kind == 4:
                response["resource"]["message"] = message
        return json_response(response)

    async def _followup(self, call: Call, app: str, token: str, message: str | None = None) -> web.Response:
        created = self._reply(token, call.json or {})
        if call.files:
            created["attachments"] = self._attachments(call)
        return json_response(created)

    async def _delete_reply(self, call: Call, app: str, token: str, message: str) -> web.Response:
        """Delete a response (`@original`: the first); a later follow-up is then a new message."""
        replies = self.replies.get(token, [])
        target = replies[0]["id"] if message == "@original" and replies else message
        kept = [reply for reply in replies if reply["id"] != target]
        if len(kept) == len(replies):
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        self.replies[token] = kept
        self.deleted_replies.append(target)
        return web.Response(status=204)

    async def _get_channel(self, call: Call, channel: str) -> web.Response:
        found = self.channels.get(channel)
        if found is None:
            return json_response({"message": "Unknown Channel", "code": 10003}, 404)
        return json_response(found)

    async def _list_messages(self, call: Call, channel: str) -> web.Response:
        if channel not in self.channels:
            return json_response({"message": "Unknown Channel", "code": 10003}, 404)
        newest_first = list(reversed(self.messages[channel]))
        before = call.query.get("before")
        after = call.query.get("after")
        if before:
            newest_first = [m for m in newest_first if int(m["id"]) < int(before)]
        if after:
            newest_first = [m for m in newest_first if int(m["id"]) > int(after)]
        limit = min(int(call.query.get("limit", "50")), 100)
        return json_response(newest_first[:limit])

    async def _get_message(self, call: Call, channel: str, message: str) -> web.Response:
        for found in self.messages.get(channel, []):
            if found["id"] == message:
                return json_response(found)
        return json_response({"message": "Unknown Message", "code": 10008}, 404)

    async def _create_message(self, call: Call, channel: str) -> web.Response:
        target = self.channels.get(channel)
        if target is None:
            return json_response({"message": "Unknown Channel", "code": 10003}, 404)
        if target["type"] == 15:
            return json_response({"message": "Cannot send messages in a forum channel", "code": 50008}, 400)
        body = call.json or {}
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel, str(nonce)))
            if seen is not None:
                return json_response(seen)
        message = self.add_message(channel, body, author=BOT_USER)
        if call.files:
            message["attachments"] = self._attachments(call)
        if nonce is not None:
            self._nonces[(channel, str(nonce))] = message
        return json_response(message)

    def _attachments(self, call: Call) -> list[JsonDict]:
        attachments = []
        for name, content in call.files:
            attachment_id = self.snowflake()
            url = f"https://cdn.discordapp.com/attachments/{TEXT_CHANNEL_ID}/{attachment_id}/{name}"
            attachments.append(
                {
                    "id": attachment_id,
                    "filename": name,
                    "size": len(content),
                    "url": url,
                    "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                    "content_type": "image/png" if name.endswith(".png") else "application/octet-stream",
                }
            )
        return attachments

    def _new_thread(self, thread_id: str, parent: JsonDict, name: str, kind: int = 11) -> JsonDict:
        thread = load("thread")
        thread.update(id=thread_id, parent_id=parent["id"], guild_id=parent["guild_id"], name=name, type=kind)
        thread["member"]["id"] = thread_id
        return self.add_channel(thread)

    async def _thread_from_message(self, call: Call, channel: str, message: str) -> web.Response:
        parent = self.channels.get(channel)
        starter = next((m for m in self.messages.get(channel, []) if m["id"] == message), None)
        if parent is None or starter is None:
            return json_response({"message": "Unknown Message", "code": 10008}, 404)
        if message in self.channels:
            return json_response(
                {"message": "A thread has already been created for this message", "code": 160004}, 400
            )
        name = (call.json or {}).get("name", "")
        if not 1 <= len(name) <= 100:
            return json_response({"message": "Invalid Form Body", "code": 50035}, 400)
        thread = self._new_thread(message, parent, name)
        starter["thread"] = thread
        return json_response(thread)

    async def _forum_post(self, call: Call, channel: str) -> web.Response:
        parent = self.channels.get(channel)
        if parent is None:
            return json_response({"message": "Unknown Channel", "code": 10003}, 404)
        if parent["type"] != 15:
            return json_response({"message": "Invalid Form Body", "code": 50035}, 400)
        body = call.json or {}
        name = body.get("name", "")
        if not 1 <= len(name) <= 100:
            return json_response({"message": "Invalid Form Body", "code": 50035}, 400)
        thread_id = self.snowflake()
        thread = self._new_thread(thread_id, parent, name)
        starter = load("message")
        starter.update(id=thread_id, channel_id=thread_id, position=0)
        for key in ("content", "embeds", "components"):
            if key in body.get("message", {}):
                starter[key] = body["message"][key]
        self.messages[thread_id].append(starter)
        thread["message_count"] = 0
        return json_response({**thread, "message": starter})

    async def _archived_threads(self, call: Call, channel: str) -> web.Response:
        threads = [t for t in self.threads_of(channel) if t["thread_metadata"]["archived"]]
        return json_response({"threads": threads, "members": [], "has_more": False})

    async def _guild_channels(self, call: Call, guild: str) -> web.Response:
        return json_response([c for c in self.channels.values() if c["type"] not in (11, 12)])

    async def _active_threads(self, call: Call, guild: str) -> web.Response:
        threads = [
            c
            for c in self.channels.values()
            if c["type"] in (11, 12) and not c["thread_metadata"]["archived"]
        ]
        return json_response({"threads": threads, "members": []})


DISCORD_TASK_PREFIXES = (
    "CommandTree-invoker",
    "discord.py:",
    "discord-ui-dynamic-item-",
    "discord-ui-view-dispatch-",
)


async def settle(action: Callable[[], object], *, timeout: float = 20.0) -> None:
    """Run `action` (a discord.py `parse_*` entry point) and wait for the tasks it schedules.

    discord.py hands gateway events to `Client.dispatch` and app commands to the tree, both as
    background tasks; a test must wait for them before looking at the REST calls they made.
    """

    before = asyncio.all_tasks()
    action()
    while True:
        pending = [
            task
            for task in asyncio.all_tasks() - before
            if not task.done() and task.get_name().startswith(DISCORD_TASK_PREFIXES)
        ]
        if not pending:
            return
        done, _ = await asyncio.wait(pending, timeout=timeout)
        if not done:
            raise TimeoutError(f"discord.py tasks still running: {[t.get_name() for t in pending]}")


# Discord's documented limits, checked on every message body the bot sent.
LIMITS = {"title": 256, "description": 4096, "field_name": 256, "field_value": 1024, "footer": 2048}


def _units(text: str | None) -> int:
    return len((text or "").encode("utf-16-le")) // 2


def limit_violations(calls: list[Call]) -> list[str]:
    """Every way a recorded message body breaks Discord's message, embed and component limits."""
    problems = []
    for call in calls:
        body = call.json if isinstance(call.json, dict) else {}
        if "message" in body and isinstance(body["message"], dict):  # forum post
            body = body["message"]
        if "data" in body and isinstance(body["data"], dict):  # interaction callback
            body = body["data"]
        where = f"{call.method} {call.path}"
        embeds = body.get("embeds") or []
        if _units(body.get("content")) > 2000:
            problems.append(f"{where}: content over 2000")
        if len(embeds) > 10:
            problems.append(f"{where}: {len(embeds)} embeds")
        total = 0
        for embed in embeds:
            fields = embed.get("fields", [])
            sizes = {
                "title": _units(embed.get("title")),
                "description": _units(embed.get("description")),
                "footer": _units((embed.get("footer") or {}).get("text")),
            }
            for key, value in sizes.items():
                if value > LIMITS[key]:
                    problems.append(f"{where}: {key} {value} > {LIMITS[key]}")
            if len(fields) > 25:
                problems.append(f"{where}: {len(fields)} fields")
            for item in fields:
                if _units(item["name"]) > LIMITS["field_name"] or not item["name"]:
                    problems.append(f"{where}: field name {_units(item['name'])}")
                if _units(item["value"]) > LIMITS["field_value"] or not item["value"]:
                    problems.append(f"{where}: field value {_units(item['value'])}")
            total += sum(sizes.values()) + sum(_units(f["name"]) + _units(f["value"]) for f in fields)
        if total > 6000:
            problems.append(f"{where}: embeds total {total} > 6000")
        for row in body.get("components") or []:
            for button in row.get("components", []):
                url = button.get("url", "")
                if button.get("style") == 5 and not (
                    url.startswith(("http://", "https://")) and len(url) <= 512
                ):
                    problems.append(f"{where}: bad button url {url[:40]!r}")
    return problems
