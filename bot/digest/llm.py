"""The optional LLM summarizer: any OpenAI-compatible chat-completions server, title and abstract only,
JSON out, parsed strictly; the offline summary on any failure.
"""

from __future__ import annotations

import json
import logging
import re
from types import TracebackType
from typing import Self

import httpx

from .offline import OfflineSummarizer
from .summary import Summarizer, Summary
from .text import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS, clean_text

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You write two short parts of a monthly research digest entry for a machine-learning team. "
    "You receive the title and abstract of one arXiv paper and nothing else. Reply with a JSON object "
    'with exactly two string fields: "why" (1-2 sentences: the problem the paper tackles and why it '
    'matters) and "insights" (1-3 sentences: what is new and the main result, with numbers when the '
    "abstract gives them). Use only facts stated in the abstract. Plain text, no Markdown, no LaTeX."
)
LLM_FIELD_MAX_CHARS = 800
# After this many failures in a row the server is taken to be down for the rest of this run, so a
# digest build doesn't wait out one timeout per paper.
MAX_CONSECUTIVE_FAILURES = 3
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FENCED = re.compile(r"^```(?:json|JSON)?\s*\n?(.*?)\n?```$", re.DOTALL)


class InvalidLLMOutput(ValueError):
    """The server answered, but not with the JSON object we asked for."""


def parse_llm_content(content: str) -> tuple[str, str]:
    """(why, insights) from a model's reply, or `InvalidLLMOutput` saying what was wrong with it."""
    text = content.strip()
    fenced = _FENCED.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidLLMOutput(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise InvalidLLMOutput(f"a JSON {type(data).__name__}, not an object")
    if set(data) != {"why", "insights"}:
        raise InvalidLLMOutput(f"fields {sorted(map(str, data))}, expected exactly ['insights', 'why']")
    values = []
    for name in ("why", "insights"):
        value = data[name]
        if not isinstance(value, str):
            raise InvalidLLMOutput(f"{name!r} is a {type(value).__name__}, not a string")
        # Control characters (a NUL, which PostgreSQL text refuses, an escape sequence) are noise.
        value = " ".join(_CONTROL_CHARS.sub(" ", value).split())
        if not value:
            raise InvalidLLMOutput(f"{name!r} is empty")
        if len(value) > LLM_FIELD_MAX_CHARS:
            raise InvalidLLMOutput(f"{name!r} is {len(value)} characters (limit {LLM_FIELD_MAX_CHARS})")
        values.append(value)
    return values[0], values[1]


def build_messages(title: str, abstract: str) -> list[dict[str, str]]:
    """The chat messages: fixed instructions, then the paper's title and abstract and nothing else."""
    user = (
        f"Title: {clean_text(title[:MAX_TITLE_CHARS])}\n\nAbstract: {abstract[:MAX_ABSTRACT_CHARS].strip()}"
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


class OpenAICompatibleSummarizer:
    """Summaries from an OpenAI-compatible `/chat/completions` server, offline summary on failure."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_seconds: float = 30.0,
        fallback: Summarizer | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._fallback: Summarizer = fallback or OfflineSummarizer()
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(timeout=timeout_seconds, headers=headers)
        self._failures_in_a_row = 0

    @property
    def id(self) -> str:
        return f"llm:{self._model}"

    def summarize(self, title: str, abstract: str) -> Summary:
        if self._failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
            return self._fallback.summarize(title, abstract)
        try:
            why, insights = self._ask(title, abstract)
        except (httpx.HTTPError, InvalidLLMOutput) as exc:
            self._failures_in_a_row += 1
            reason = f"{exc.__class__.__name__}: {exc}"[:300]
            log.warning("LLM summary failed for %r (%s); using the offline summary", title[:80], reason)
            if self._failures_in_a_row == MAX_CONSECUTIVE_FAILURES:
                log.warning(
                    "LLM server failed %d times in a row; offline summaries only for this run",
                    MAX_CONSECUTIVE_FAILURES,
                )
            return self._fallback.summarize(title, abstract)
        self._failures_in_a_row = 0
        return Summary(why=why, insights=insights, source=self.id)

    def _ask(self, title: str, abstract: str) -> tuple[str, str]:
        body = {
            "model": self._model,
            "messages": build_messages(title, abstract),
            "temperature": 0,
            "response_format": {"type": "json_object"},
        }
        response = self._client.post(self._url, json=body)
        response.raise_for_status()
        try:
            payload = response.json()
            content = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise InvalidLLMOutput("the response is not a chat completion") from None
        if not isinstance(content, str):
            raise InvalidLLMOutput("the completion has no text content")
        return parse_llm_content(content)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
