"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 for summarizer tests.

It is a real HTTP server (port 0, its own thread), so the real `httpx` client, timeouts and status
handling are exercised. It records every request and answers `POST …/chat/completions` with what the
test configured: a message content (valid JSON, fenced JSON, prose, wrong fields), a raw body, an
HTTP status, and an optional delay to provoke a client timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def prompt_text(self) -> str:
        """Everything the model was shown, all messages joined."""
        return "\n".join(m.get("content", "") for m in self.body.get("messages", []))


@dataclass
class Behaviour:
    content: str = json.dumps({"why": "A fake why.", "insights": ["A fake insight."]})
    status: int = 200
    raw_body: bytes | None = None  # replaces the whole chat-completion body
    delay_seconds: float = 0.0


def chat_completion(content: str, model: str) -> dict[str, Any]:
    """A response shaped like OpenAI's `POST /v1/chat/completions` answer."""
    return {
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 312, "completion_tokens": 64, "total_tokens": 376},
        "system_fingerprint": "fp_fake",
    }


@dataclass
class FakeLLMServer:
    host: str = "127.0.0.1"
    port: int = 0
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[RecordedRequest] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def reply_content(self, content: str) -> None:
        self.behaviour = Behaviour(content=content)

    def reply_json(self, why: str, insights: str | list[str]) -> None:
        self.reply_content(json.dumps({"why": why, "insights": insights}))


def _handler(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            server.requests.append(
                RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            behaviour = server.behaviour
            if behaviour.delay_seconds:
                time.sleep(behaviour.delay_seconds)
            if not self.path.endswith("/chat/completions"):
                self._send(404, b'{"error": {"message": "not found"}}')
            elif behaviour.status != 200:
                error = {"error": {"message": "The server had an error", "type": "server_error"}}
                self._send(behaviour.status, json.dumps(error).encode())
            elif behaviour.raw_body is not None:
                self._send(200, behaviour.raw_body)
            else:
                model = body.get("model", "") if isinstance(body, dict) else ""
                self._send(200, json.dumps(chat_completion(behaviour.content, model)).encode())

        def _send(self, status: int, payload: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                pass

    return Handler


@contextmanager
def running_llm_server() -> Iterator[FakeLLMServer]:
    fake = FakeLLMServer()
    httpd = ThreadingHTTPServer((fake.host, 0), _handler(fake))
    httpd.daemon_threads = True
    fake.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), name="fake-llm", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
