"""The optional LLM summarizer: any OpenAI-compatible chat-completions server, title and abstract only,
JSON out, parsed strictly; the offline summary on any failure.

The answer has the offline summary's shape: a Why (the problem, never opening on the paper's own
contribution) and 1–4 Key-insight bullets. A model may still invent: every sentence of the Why and
every bullet is checked against the title and abstract, and one holding a number or a capitalised
name (a model, a benchmark) that they don't contain is dropped. What is left empty is taken from
the offline summary.
"""

from __future__ import annotations

import json
import logging
import re
from types import TracebackType
from typing import Self

import httpx

from .offline import OfflineSummarizer
from .roles import _OWN_WORK, _title_name
from .summary import Summarizer, Summary
from .text import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS, clean_text, split_sentences

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You write two short parts of a monthly research digest entry for a machine-learning team. "
    "You receive the title and abstract of one arXiv paper and nothing else. Reply with a JSON object "
    'with exactly two fields: "why", a string of 1-2 sentences in your own words, as an editor would '
    "write them, stating the gap or limitation the paper addresses and what is at stake, never copying "
    'the abstract\'s first sentence, never opening with background ("Recent advances in...") or with '
    'the paper itself ("We...", "This paper...", its method\'s name); and "insights", an array of 2-4 '
    "short bullet strings (one sentence each): the method in a line, the main result with its number, "
    "and what is released (code, weights, data) when the abstract says so. Use only facts, numbers and "
    "names stated in the abstract. Plain text, no Markdown, no LaTeX."
)
# The cache serves a summary filed under the summarizer's id: the id changes with the prompt and the
# checks, so summaries written under older ones are not served. v1 (one-paragraph insights) and v2
# (Why + bullets, claims checked) were both filed as "llm:<model>"; v3 asks for the editorial Why.
LLM_VERSION = "llm-v3"


def llm_id(model: str) -> str:
    """The id a model's summaries are cached under: "llm-v3:<model>"."""
    return f"{LLM_VERSION}:{model}"


LLM_FIELD_MAX_CHARS = 800
LLM_BULLET_MAX_CHARS = 300
LLM_MAX_BULLETS = 4
# After this many failures in a row the server is taken to be down for the rest of this run, so a
# digest build doesn't wait out one timeout per paper.
MAX_CONSECUTIVE_FAILURES = 3
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FENCED = re.compile(r"^```(?:json|JSON)?\s*\n?(.*?)\n?```$", re.DOTALL)


class InvalidLLMOutput(ValueError):
    """The server answered, but not with the JSON object we asked for."""


def _plain(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidLLMOutput(f"{name} is a {type(value).__name__}, not a string")
    # Control characters (a NUL, which PostgreSQL text refuses, an escape sequence) are noise.
    value = " ".join(_CONTROL_CHARS.sub(" ", value).split())
    if not value:
        raise InvalidLLMOutput(f"{name} is empty")
    if len(value) > limit:
        raise InvalidLLMOutput(f"{name} is {len(value)} characters (limit {limit})")
    return value


def parse_llm_content(content: str) -> tuple[str, list[str]]:
    """(why, insight bullets) from a model's reply, or `InvalidLLMOutput` saying what was wrong."""
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
    why = _plain("'why'", data["why"], LLM_FIELD_MAX_CHARS)
    insights = data["insights"]
    if not isinstance(insights, list):
        raise InvalidLLMOutput(f"'insights' is a {type(insights).__name__}, not an array of strings")
    if not 1 <= len(insights) <= LLM_MAX_BULLETS:
        raise InvalidLLMOutput(f"'insights' has {len(insights)} bullets (expected 1 to {LLM_MAX_BULLETS})")
    bullets = [_plain(f"insight {i}", b, LLM_BULLET_MAX_CHARS) for i, b in enumerate(insights, start=1)]
    return why, bullets


# A claim a reader would take as fact: a number, or a word with a capital that no sentence start
# explains ("GPT-5", "MMLU", "Qwen3").
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w(?:[\w'+.-]*[\w+])?")


def _bare(word: str) -> str:
    return word.removesuffix("'s").rstrip(".")


def unsupported_claims(text: str, source: str) -> list[str]:
    """Numbers and capitalised names in `text` (one sentence or bullet) that `source` doesn't hold."""
    numbers = {n.replace(",", "") for n in _NUMBER.findall(source)}
    words = {_bare(w) for w in _WORD.findall(source)}
    missing = [n for n in _NUMBER.findall(text) if n.replace(",", "") not in numbers]
    for position, match in enumerate(_WORD.finditer(text)):
        word = match.group(0)
        if not any(c.isupper() for c in word) or word in {"I", "A"}:
            continue
        # A sentence's first word is capitalised anyway: a name only when it looks like one ("GPT-7").
        if position == 0 and not any(c.isupper() or c.isdigit() for c in word[1:]):
            continue
        if _bare(word) not in words and not _NUMBER.fullmatch(word):
            missing.append(word)
    return missing


def _opens_with_own_work(sentence: str, name: str | None) -> bool:
    opening = sentence.split(",", 1)[0]
    return bool(_OWN_WORK.match(opening) or (name and re.match(rf"{re.escape(name)}\b(?!-)", sentence)))


def checked(title: str, abstract: str, why: str, bullets: list[str]) -> tuple[str, list[str], int]:
    """The Why and bullets with every unsupported sentence dropped, and how many were dropped.

    A Why sentence that opens on the paper's own work ("We…", "This paper…", the title's method
    name) is dropped too while it would open the Why.
    """
    source = clean_text(f"{title[:MAX_TITLE_CHARS]} {abstract}")
    name = _title_name(clean_text(title[:MAX_TITLE_CHARS]))
    dropped = 0
    kept: list[str] = []
    for sentence in split_sentences(clean_text(why)):
        if unsupported_claims(sentence, source) or (not kept and _opens_with_own_work(sentence, name)):
            dropped += 1
        else:
            kept.append(sentence)
    good_bullets = []
    for bullet in bullets:
        bullet = clean_text(bullet)
        if any(unsupported_claims(s, source) for s in split_sentences(bullet)):
            dropped += 1
        elif bullet:
            good_bullets.append(bullet)
    return " ".join(kept), good_bullets, dropped


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
        return llm_id(self._model)

    def summarize(self, title: str, abstract: str) -> Summary:
        if self._failures_in_a_row >= MAX_CONSECUTIVE_FAILURES:
            return self._fallback.summarize(title, abstract)
        try:
            why, bullets = self._ask(title, abstract)
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
        why, bullets, dropped = checked(title, abstract, why, bullets)
        if dropped:
            log.warning("LLM summary of %r: dropped %d unsupported sentence(s)", title[:80], dropped)
        if not why or not bullets:  # nothing left to say: the offline summary fills the gap
            offline = self._fallback.summarize(title, abstract)
            if not why and not bullets:
                return offline
            why = why or offline.why
            bullets = bullets or offline.insights.splitlines()
        return Summary(why=why, insights="\n".join(bullets), source=self.id)

    def _ask(self, title: str, abstract: str) -> tuple[str, list[str]]:
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
