"""Polite, bounded JSON-over-HTTP for the signal sources: pacing, retries, and failure kinds.

Every source goes through one `JsonHttp`, which owns its `httpx.Client`, a `RateLimiter` (a minimum
interval between requests) and a `RetryPolicy`:

- 429 (and GitHub's 403 with `x-ratelimit-remaining: 0`) wait for `Retry-After` (seconds or an HTTP
  date; `x-ratelimit-reset` for GitHub) when it is within the cap, then retry; a longer wait means the
  source is spent for this run (`SourceUnavailable`), because sleeping for an hour helps nobody.
- 5xx, timeouts and connection errors retry with bounded exponential backoff, then raise
  `RequestFailed` so the caller gives up on that batch or paper and moves on.
- 401/403 mean the credentials are wrong: `SourceUnavailable`, no retry.
- 404 is "unknown to this source": `None`, not an error.
- A body that is not JSON raises `MalformedResponse` (a `RequestFailed`), never a crash.

Time goes through the `Clock` port so tests observe waits without sleeping.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

log = logging.getLogger(__name__)


class Clock(Protocol):
    """Where the signal code reads time and waits (a fake in tests)."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class RequestFailed(Exception):
    """One request gave up (after retries where retrying made sense); the run goes on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedResponse(RequestFailed):
    """The source answered, but not with JSON of the expected shape."""


class SourceUnavailable(RequestFailed):
    """The source cannot serve this run any more (bad credentials, rate limit spent)."""


class RateLimiter:
    """Keeps at least `min_interval` seconds between the starts of consecutive requests."""

    def __init__(self, min_interval: float, clock: Clock) -> None:
        self.min_interval = min_interval
        self._clock = clock
        self._last_start: float | None = None

    def wait(self) -> None:
        if self._last_start is not None:
            remaining = self.min_interval - (self._clock.monotonic() - self._last_start)
            if remaining > 0:
                self._clock.sleep(remaining)
        self._last_start = self._clock.monotonic()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 60.0
    max_retry_after_seconds: float = 120.0

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt` (0-based): 1×, 2×, 4×… the base, capped."""
        return min(self.backoff_seconds * (2.0**attempt), self.max_backoff_seconds)


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - now).total_seconds())
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN/inf: not a wait
        return None
    return max(0.0, seconds)


def _github_reset_wait(response: httpx.Response, now: dt.datetime) -> float | None:
    reset = response.headers.get("x-ratelimit-reset", "")
    try:
        return max(0.0, float(reset) - now.timestamp())
    except ValueError:
        return None


def _is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    # GitHub signals a spent primary quota (and some secondary limits) with 403.
    return response.status_code == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
    )


@dataclass(frozen=True, slots=True)
class _Retry:
    reason: str
    wait: float | None  # what the server asked for; None means exponential backoff


class JsonHttp:
    """One source's HTTP client: paced, retried, returning parsed JSON (or None for 404)."""

    def __init__(
        self,
        *,
        source: str,
        client: httpx.Client,
        limiter: RateLimiter,
        policy: RetryPolicy,
        clock: Clock,
    ) -> None:
        self.source = source
        self._client = client
        self._limiter = limiter
        self._policy = policy
        self._clock = clock
        self.calls = 0  # requests sent, retries included

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, *, params: dict[str, str] | None = None) -> Any | None:
        return self._request("GET", path, params=params, body=None)

    def post(self, path: str, *, body: Any, params: dict[str, str] | None = None) -> Any | None:
        return self._request("POST", path, params=params, body=body)

    def _request(self, method: str, path: str, *, params: dict[str, str] | None, body: Any) -> Any | None:
        attempt = 0
        while True:
            self._limiter.wait()
            self.calls += 1
            try:
                response = self._client.request(method, path, params=params, json=body)
            except httpx.TimeoutException:
                verdict = _Retry("timed out", None)
            except httpx.TransportError as exc:
                verdict = _Retry(f"connection failed ({type(exc).__name__})", None)
            else:
                if response.status_code == 404:
                    return None
                if 200 <= response.status_code < 300:
                    return self._parse(response)
                verdict = self._judge(response)
            if attempt >= self._policy.max_retries:
                suffix = f" (after {attempt} retries)" if attempt else ""
                raise RequestFailed(verdict.reason + suffix)
            wait = verdict.wait if verdict.wait is not None else self._policy.backoff(attempt)
            attempt += 1
            log.info("%s: %s; retrying in %.1fs", self.source, verdict.reason, wait)
            self._clock.sleep(wait)

    def _judge(self, response: httpx.Response) -> _Retry:
        """How to retry a failed response; raises for failures that retrying cannot fix."""
        status = response.status_code
        if _is_rate_limited(response):
            now = self._clock.now()
            wait = parse_retry_after(response.headers.get("retry-after"), now)
            if wait is None and response.headers.get("x-ratelimit-remaining") == "0":
                wait = _github_reset_wait(response, now)
            if wait is not None and wait > self._policy.max_retry_after_seconds:
                raise SourceUnavailable(f"rate limit spent; the source asks to wait {wait:.0f}s")
            return _Retry(f"rate limited (HTTP {status})", wait)  # no hint: ordinary backoff
        if status in (401, 403):
            raise SourceUnavailable(f"access refused (HTTP {status}); check the API key or token")
        if status >= 500 or status == 408:
            return _Retry(f"HTTP {status}", None)
        raise RequestFailed(f"HTTP {status}")

    def _parse(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedResponse("malformed JSON") from exc
