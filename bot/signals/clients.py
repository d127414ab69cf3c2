"""The one place the signal sources' HTTP clients are built from settings (and later closed).

`build_sources(settings)` gives a `SignalSources` holding one client per enabled source, each with
its own rate limiter and retry policy. Use it as a context manager so connections are closed even
when a run fails.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from bot.errors import ValidationError
from bot.settings import Settings
from bot.signals.github import GitHubSource
from bot.signals.http import Clock, JsonHttp, RateLimiter, RetryPolicy, SystemClock
from bot.signals.huggingface import HuggingFaceSource
from bot.signals.semantic_scholar import SemanticScholarSource
from bot.signals.types import ALL_SOURCES, GITHUB, HUGGINGFACE, SEMANTIC_SCHOLAR

USER_AGENT = "ai-trends-bot (momentum signals; +https://github.com/ai-trends-bot)"

_ENABLE_SETTING = {
    SEMANTIC_SCHOLAR: "TRENDS_SIGNALS_SEMANTIC_SCHOLAR_ENABLED",
    HUGGINGFACE: "TRENDS_SIGNALS_HUGGINGFACE_ENABLED",
    GITHUB: "TRENDS_SIGNALS_GITHUB_ENABLED",
}


@dataclass
class SignalSources:
    """The sources of one run; a source is None when it is disabled or not asked for."""

    semantic_scholar: SemanticScholarSource | None = None
    huggingface: HuggingFaceSource | None = None
    github: GitHubSource | None = None

    @property
    def names(self) -> list[str]:
        return [
            source.name
            for source in (self.semantic_scholar, self.huggingface, self.github)
            if source is not None
        ]

    def close(self) -> None:
        for source in (self.semantic_scholar, self.huggingface, self.github):
            if source is not None:
                source.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def enabled_sources(settings: Settings) -> list[str]:
    flags = {
        SEMANTIC_SCHOLAR: settings.signals_semantic_scholar_enabled,
        HUGGINGFACE: settings.signals_huggingface_enabled,
        GITHUB: settings.signals_github_enabled,
    }
    return [name for name in ALL_SOURCES if flags[name]]


def choose_sources(settings: Settings, requested: Collection[str] | None) -> list[str]:
    """The sources a run uses: all enabled ones, or those named (each must exist and be enabled)."""
    enabled = enabled_sources(settings)
    if not requested:
        return enabled
    chosen: list[str] = []
    for raw in requested:
        name = raw.strip().lower().replace("-", "_")
        if name not in ALL_SOURCES:
            raise ValidationError(
                f"Unknown signal source {raw[:40]!r}; choose from {', '.join(ALL_SOURCES)}."
            )
        if name not in enabled:
            raise ValidationError(
                f"The {name} source is disabled; set {_ENABLE_SETTING[name]}=true to use it."
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def build_sources(
    settings: Settings, *, only: Collection[str] | None = None, clock: Clock | None = None
) -> SignalSources:
    """Clients for the chosen sources (see `choose_sources`), configured from `settings`."""
    clock = clock or SystemClock()
    policy = RetryPolicy(
        max_retries=settings.signals_max_retries,
        backoff_seconds=settings.signals_backoff_seconds,
        max_retry_after_seconds=settings.signals_max_retry_after_seconds,
    )
    timeout = httpx.Timeout(settings.signals_timeout_seconds)

    def http(source: str, base_url: str, min_interval: float, headers: dict[str, str]) -> JsonHttp:
        client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
            follow_redirects=True,  # GitHub redirects renamed repositories
        )
        return JsonHttp(
            source=source,
            client=client,
            limiter=RateLimiter(min_interval, clock),
            policy=policy,
            clock=clock,
        )

    sources = SignalSources()
    chosen = choose_sources(settings, only)
    try:
        if SEMANTIC_SCHOLAR in chosen:
            key = settings.semantic_scholar_api_key
            sources.semantic_scholar = SemanticScholarSource(
                http(
                    SEMANTIC_SCHOLAR,
                    settings.signals_semantic_scholar_url,
                    settings.signals_semantic_scholar_min_interval_seconds,
                    {"x-api-key": key.get_secret_value()} if key else {},
                )
            )
        if HUGGINGFACE in chosen:
            sources.huggingface = HuggingFaceSource(
                http(
                    HUGGINGFACE,
                    settings.signals_huggingface_url,
                    settings.signals_huggingface_min_interval_seconds,
                    {},
                )
            )
        if GITHUB in chosen:
            token = settings.github_token
            github_headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
            if token:
                github_headers["Authorization"] = f"Bearer {token.get_secret_value()}"
            sources.github = GitHubSource(
                http(
                    GITHUB,
                    settings.signals_github_url,
                    settings.signals_github_min_interval_seconds,
                    github_headers,
                )
            )
    except Exception:
        sources.close()
        raise
    return sources
