"""Summaries of a paper for the digest: "Why →" (the problem and why it matters) and "Key insights →"
(what is new and the main result).

Two summarizers share one small protocol. `OfflineSummarizer` is the default: deterministic, no
network, it reads the abstract alone, splits it into sentences, tells motivation from contribution
from result by cue words and position, and picks sentences for each part. `OpenAICompatibleSummarizer`
asks any OpenAI-compatible chat-completions server (title and abstract only, JSON out), parses the
answer strictly, and falls back to the offline summary on any failure. `SummaryCache` keeps results in
the `paper_summaries` table per paper, summarizer and paper version, so a rebuild costs no LLM call.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import PaperSummary
from bot.settings import Settings

log = logging.getLogger(__name__)

OFFLINE_ID = "offline-v1"
WHY_MAX_CHARS = 320
INSIGHTS_MAX_CHARS = 480
# Longer than this, an abstract is a paste accident; the prompt and the splitter read this much.
MAX_ABSTRACT_CHARS = 6000
MAX_TITLE_CHARS = 400


@dataclass(frozen=True, slots=True)
class Summary:
    why: str
    insights: str
    # Which summarizer actually wrote it ("offline-v1", "llm:<model>"): an LLM summarizer that fell
    # back says so, and the cache files the result under the one that produced it.
    source: str = OFFLINE_ID


class Summarizer(Protocol):
    @property
    def id(self) -> str: ...

    def summarize(self, title: str, abstract: str) -> Summary: ...


# --------------------------------------------------------------------------------------------------
# Cleaning: LaTeX and markup to plain text
# --------------------------------------------------------------------------------------------------

_LATEX_SYMBOLS = {
    "times": "×",
    "sim": "~",
    "approx": "≈",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "pm": "±",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "infty": "∞",
    "cdot": "·",
    "ldots": "…",
    "dots": "…",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "pi": "π",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "omega": "ω",
    "Delta": "Δ",
    "Omega": "Ω",
    "%": "%",
    "&": "&",
    "_": "_",
    "#": "#",
    "$": "$",
}
_LATEX_DROP_WITH_ARG = re.compile(r"\\(?:cite[pt]?|ref|label|footnote)\*?\{[^{}]*\}")
_LATEX_KEEP_ARG = re.compile(r"\\[A-Za-z]+\*?\{([^{}]*)\}")  # \textbf{x}, \mathcal{X}, \url{x} -> x
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+|[%&_#$])")
_LATEX_OLD_STYLE = re.compile(r"\{\\(?:em|bf|it|sc|tt)\s+([^{}]*)\}")
_MATH = re.compile(r"\$\$?([^$]{1,300}?)\$\$?")
_FRAC = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\{([^{}]*)\}")
_SCRIPT = re.compile(r"([\^_])\{([^{}]*)\}")
_HTML_TAG = re.compile(r"</?(?:b|i|em|strong|sub|sup|p|br|a|span|div|u|tt|code)(?:\s[^<>]*)?/?>", re.I)
_MARKDOWN_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(\S(?:.*?\S)?)\1")


def _latex_command(match: re.Match[str]) -> str:
    name = match.group(1)
    return _LATEX_SYMBOLS.get(name, "" if len(name) == 1 else name)


_SPACED_OPERATORS = frozenset("×≈≤≥≠±→←·")


def _math_command(match: re.Match[str]) -> str:
    symbol = _latex_command(match)
    return f" {symbol} " if symbol in _SPACED_OPERATORS else symbol


def _clean_math(match: re.Match[str]) -> str:
    body = match.group(1)
    body = _FRAC.sub(r"(\1)/(\2)", body)
    body = _SQRT.sub(r"√(\1)", body)
    for _ in range(3):  # nested \frac{\mathbf{x}}{2}: peel a level at a time
        body = _SCRIPT.sub(r"\1\2", body)
        body = _LATEX_KEEP_ARG.sub(r"\1", body)
    body = _LATEX_COMMAND.sub(_math_command, body)
    body = body.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", body).strip()
    # "$\sim$ 3x" and "$\times$ faster" read better glued: "~3x", "× faster".


def clean_text(text: str) -> str:
    """Plain, single-spaced text: LaTeX math and commands, HTML tags and Markdown emphasis removed."""
    text = text[:MAX_ABSTRACT_CHARS]
    text = _HTML_TAG.sub("", text)
    text = _LATEX_DROP_WITH_ARG.sub("", text)
    text = _LATEX_OLD_STYLE.sub(r"\1", text)
    text = text.replace(r"\$", "\0DOLLAR\0")
    text = _MATH.sub(_clean_math, text)
    for _ in range(3):
        text = _LATEX_KEEP_ARG.sub(r"\1", text)
    text = _LATEX_COMMAND.sub(_latex_command, text)
    text = text.replace("\0DOLLAR\0", "$").replace("{", "").replace("}", "")
    text = _MARKDOWN_EMPHASIS.sub(r"\2", text)
    # LaTeX's non-breaking space between words ("approach,~method", "Fig.~3") is just a space.
    text = re.sub(r"(?<=[\w,.;:)])~(?=[A-Za-z])", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"~\s+(?=\d)", "~", text)
    return re.sub(r"\s+([,.;:!?%)])", r"\1", text)


# --------------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------------

# Tokens that end in a period without ending a sentence (lower-cased, leading brackets removed).
_ABBREVIATIONS = frozenset(
    [
        "e.g.",
        "i.e.",
        "al.",
        "vs.",
        "v.",
        "cf.",
        "fig.",
        "figs.",
        "eq.",
        "eqs.",
        "sec.",
        "secs.",
        "no.",
        "nos.",
        "approx.",
        "resp.",
        "viz.",
        "ca.",
        "ref.",
        "refs.",
        "tab.",
        "vol.",
        "pp.",
        "dr.",
        "mr.",
        "ms.",
        "prof.",
        "st.",
        "jr.",
        "inc.",
        "ltd.",
        "corp.",
        "u.s.",
        "u.k.",
        "w.r.t.",
        "a.k.a.",
        "incl.",
        "est.",
        "max.",
        "min.",
        "avg.",
        "e.g.,",
    ]
)
_BOUNDARY = re.compile(r"""[.!?]["')\]]*\s+(?=["'(\[]?[A-Z0-9$\\\u00C0-\u024F])""")


def split_sentences(text: str) -> list[str]:
    """Sentences of a plain-text abstract, keeping "e.g.", "et al.", initials and 3.5 intact."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start() + 1]
        last_token = before.rsplit(None, 1)[-1].lstrip("([\"'").lower() if before.strip() else ""
        if last_token in _ABBREVIATIONS:
            continue
        # A lone capital ("J. Smith", "Figure A. shows") is an initial, not a sentence end.
        if re.fullmatch(r"[a-z]\.", last_token) and before.rstrip()[-2:-1].isupper():
            continue
        sentence = text[start : match.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# --------------------------------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------------------------------


def _cues(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_PROBLEM = _cues(
    r"\bhowever\b",
    r"\bremains?\b",
    r"\bchalleng",
    r"\blimit(?:ed|ation|ations|s)\b",
    r"\bstruggl",
    r"\bsuffers?\b",
    r"\black(?:s|ing)?\b",
    r"\bcostly\b|\bexpensive\b|\bprohibitive",
    r"\bdifficult|\bhard to\b",
    r"\bbottleneck",
    r"\bgaps?\b",
    r"\bproblems?\b|\bissues?\b",
    r"\bfail",
    r"\bdespite\b",
    r"\bunclear\b|\bunknown\b|\bunder-?explored\b|\blittle (?:is|work|attention)\b",
    r"\bhinder|\bimpede|\bprevent",
    r"\bcannot\b|\bunable\b|\binsufficient|\binadequate",
    r"\bopen question",
    r"\b(?:existing|current|prior|previous|traditional|conventional|most) "
    r"(?:methods|approaches|work|models|systems|techniques)\b",
    r"\bunreliab|\bbrittle\b|\bvulnerab|\brisk",
    r"\boverlook|\bneglect|\bignor|\bcosts?\b|\bscarc|\bredundan",
)
_IMPORTANCE = _cues(
    r"\bcrucial\b|\bcritical\b|\bessential\b|\bimportant\b|\bfundamental\b|\bkey\b",
    r"\bincreasingly\b|\bgrowing\b|\bwidely\b|\bubiquitous\b|\bpromising\b|\brapid",
    r"\bapplications?\b|\breal-world\b|\bpractical\b",
)
_CONTRIBUTION = _cues(
    r"\bwe (?:first )?(?:propose|introduce|present|develop|design|describe|formulate|build|release|"
    r"construct|contribute|devise|establish|create|curate|offer)",
    r"\b(?:this|our) (?:paper|work|study|article|report)\b",
    r"\bin this (?:paper|work|study)\b",
    r"\bhere,? we\b",
    r"\bnovel\b",
    r"\bcalled\b|\bdubbed\b|\bnamed\b|\btermed\b",
    r"^to (?:address|tackle|overcome|bridge|solve|fill|mitigate|alleviate|close) (?:this|these|the|such)\b",
)
_STRONG_CONTRIBUTION = _cues(
    r"\bwe (?:first )?(?:propose|introduce|present|develop|design|formulate|build|release|construct|"
    r"devise|create|curate)",
    r"\b(?:this|our) (?:paper|work|study) (?:proposes|introduces|presents|develops)",
    r"\bin this (?:paper|work|study)\b",
)
_RESULT = _cues(
    r"\boutperform",
    r"\bimprov",
    r"\bachiev",
    r"\bstate[- ]of[- ]the[- ]art\b|\bsota\b",
    r"\bsurpass|\bexceed|\bbeat",
    r"\b(?:results|experiments|evaluations?|analys[ie]s|studies) (?:\w+ )?(?:show|demonstrate|indicate|"
    r"reveal|confirm|suggest)",
    r"\bwe (?:show|find|demonstrate|observe|report|prove)\b",
    r"\breduc",
    r"\b(?:faster|better|higher|lower|fewer|stronger|smaller|larger|cheaper)\b",
    r"\bup to\b",
    r"\bspeed-?ups?\b",
    r"\bgains?\b",
    r"\bconsistently\b|\bsignificantly\b|\bsubstantially\b|\bmarkedly\b",
    r"\bcompetitive\b|\bmatch(?:es|ing)?\b|\brobust",
)
_QUANTITY = re.compile(r"\d(?:[\d.,]*\d)?\s?(?:%|×|x\b|-?fold\b|points?\b|pp\b|times\b)", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_LEADING_CONTRAST = re.compile(
    r"^(?:however|yet|but|nevertheless|nonetheless|unfortunately|still|furthermore|moreover|"
    r"additionally|in addition|also|notably),?\s+",
    re.IGNORECASE,
)
_LEADING_FRAMING = re.compile(r"^(?:in this (?:paper|work|study)|here),?\s+(?=we\b)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Sentence:
    index: int
    text: str
    problem: float
    importance: float
    contribution: float
    strong_contribution: bool
    result: float
    numbers: float


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def _analyse(sentences: list[str]) -> list[_Sentence]:
    analysed = []
    for index, text in enumerate(sentences):
        quantities = _count(_QUANTITY, text)
        numbers = 1 if _NUMBER.search(text) else 0
        analysed.append(
            _Sentence(
                index=index,
                text=text,
                problem=float(_count(_PROBLEM, text)),
                importance=float(_count(_IMPORTANCE, text)),
                contribution=float(_count(_CONTRIBUTION, text)),
                strong_contribution=bool(_STRONG_CONTRIBUTION.search(text)),
                result=_count(_RESULT, text) + 2.0 * min(quantities, 2) + 0.5 * numbers,
                numbers=0.5 * numbers,
            )
        )
    return analysed


_FIRST_PERSON = re.compile(r"\b(?:we|our)\b", re.IGNORECASE)


def _problem_score(sentence: _Sentence) -> float:
    """How much a sentence states a problem: "we …" and "to address this issue" sentences don't."""
    penalty = 1.5 * sentence.contribution + (1.0 if _FIRST_PERSON.search(sentence.text) else 0.0)
    claims = sentence.result - sentence.numbers  # a year or a count doesn't make a result
    return sentence.problem + 0.5 * sentence.importance - 0.5 * claims - penalty


def truncate(text: str, limit: int) -> str:
    """`text` cut on a word boundary to at most `limit` characters, ending in "…" when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:  # don't leave half a word
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—(") + "…"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fit(chosen: list[_Sentence], keep: _Sentence | None, limit: int, strip: re.Pattern[str]) -> str:
    """Join sentences in abstract order within `limit`, shortening the others before `keep`."""
    texts = {s.index: _capitalise(strip.sub("", s.text)) for s in chosen}
    ordered = sorted(texts)
    total = sum(len(t) for t in texts.values()) + len(texts) - 1
    if total > limit and keep is not None and len(texts) > 1:
        room = limit - len(texts[keep.index]) - 1
        others = [i for i in ordered if i != keep.index]
        share = room // len(others) - 1
        if share < 80:  # `keep` alone nearly fills the space: share it evenly instead
            share = limit // len(texts) - 1
            texts[keep.index] = truncate(texts[keep.index], share)
        for i in others:
            texts[i] = truncate(texts[i], share)
    return truncate(" ".join(texts[i] for i in ordered), limit)


class OfflineSummarizer:
    """Deterministic Why/Key-insights from the abstract alone (no network, no model)."""

    @property
    def id(self) -> str:
        return OFFLINE_ID

    def close(self) -> None:
        """Nothing to release; here so every summarizer can be closed alike."""

    def summarize(self, title: str, abstract: str) -> Summary:
        sentences = _analyse(split_sentences(clean_text(abstract)))
        if not sentences:
            fallback = truncate(clean_text(title), WHY_MAX_CHARS)
            return Summary(why=fallback, insights=fallback, source=OFFLINE_ID)

        contribution = next((s for s in sentences if s.strong_contribution), None)
        if contribution is None:
            scored = [s for s in sentences if s.contribution > 0]
            contribution = max(scored, key=lambda s: (s.contribution, -s.index)) if scored else None

        why = self._why(sentences, contribution)
        insights = self._insights(sentences, contribution, {s.index for s in why})
        if not insights:  # a one-sentence abstract: say it once, under insights too
            insights = why
        keep_why = max(why, key=lambda s: (s.problem, s.index))
        result = max(insights, key=lambda s: (s.result, s.index))
        return Summary(
            why=_fit(why, keep_why, WHY_MAX_CHARS, _LEADING_CONTRAST),
            insights=_fit(insights, result, INSIGHTS_MAX_CHARS, _LEADING_FRAMING),
            source=OFFLINE_ID,
        )

    @staticmethod
    def _why(sentences: list[_Sentence], contribution: _Sentence | None) -> list[_Sentence]:
        before = [s for s in sentences if contribution is None or s.index < contribution.index]
        pool = before or [s for s in sentences if s is not contribution and s.result < 2] or sentences
        best = max(pool, key=lambda s: (_problem_score(s), s.index))
        if _problem_score(best) <= 0:
            best = pool[0]
        chosen = [best]
        # A "However, …" sentence leans on the one before it, which usually says why the area matters.
        if best.index > 0 and (_LEADING_CONTRAST.match(best.text) or best.importance == 0):
            previous = sentences[best.index - 1]
            if previous in pool and len(previous.text) + len(best.text) < WHY_MAX_CHARS:
                chosen.insert(0, previous)
        return chosen

    @staticmethod
    def _insights(
        sentences: list[_Sentence], contribution: _Sentence | None, used: set[int]
    ) -> list[_Sentence]:
        chosen: list[_Sentence] = []
        if contribution is not None and contribution.index not in used:
            chosen.append(contribution)
        after = contribution.index if contribution is not None else max(used, default=-1)
        results = sorted(
            (s for s in sentences if s.index > after and s.index not in used and s.result >= 1),
            key=lambda s: (-s.result, -s.index),
        )
        if results:
            chosen.append(results[0])
            if len(results) > 1 and _QUANTITY.search(results[1].text) and len(chosen) < 3:
                combined = sum(len(s.text) for s in chosen) + len(results[1].text)
                if combined < INSIGHTS_MAX_CHARS:
                    chosen.append(results[1])
        if not chosen:
            rest = [s for s in sentences if s.index not in used]
            chosen = rest[:2]
        return sorted(chosen, key=lambda s: s.index)


# --------------------------------------------------------------------------------------------------
# OpenAI-compatible LLM
# --------------------------------------------------------------------------------------------------

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


def make_summarizer(settings: Settings) -> OfflineSummarizer | OpenAICompatibleSummarizer:
    """The LLM summarizer when `TRENDS_LLM_BASE_URL` is set, otherwise the offline one."""
    if settings.llm_base_url and settings.llm_model:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return OpenAICompatibleSummarizer(
            settings.llm_base_url,
            settings.llm_model,
            api_key=key,
            timeout_seconds=settings.llm_timeout_seconds,
        )
    return OfflineSummarizer()


# --------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaperText:
    paper_id: int
    version: int
    title: str
    abstract: str


class SummaryCache:
    """Cached summaries in `paper_summaries`, keyed by paper and summarizer, valid for one version."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def lookup(self, papers: Iterable[PaperText], summarizer_id: str) -> dict[int, Summary]:
        by_id = {p.paper_id: p for p in papers}
        if not by_id:
            return {}
        rows = self._session.scalars(
            select(PaperSummary).where(
                PaperSummary.summarizer == summarizer_id, PaperSummary.paper_id.in_(list(by_id))
            )
        )
        return {
            row.paper_id: Summary(row.why, row.insights, row.summarizer)
            for row in rows
            if row.paper_version == by_id[row.paper_id].version
        }

    def store(self, papers: Mapping[int, PaperText], summaries: Mapping[int, Summary]) -> None:
        """Keep each summary under the summarizer that wrote it (a fallback is filed as offline)."""
        for paper_id, summary in summaries.items():
            version = papers[paper_id].version
            row = self._session.scalar(
                select(PaperSummary).where(
                    PaperSummary.paper_id == paper_id, PaperSummary.summarizer == summary.source
                )
            )
            if row is None:
                self._session.add(
                    PaperSummary(
                        paper_id=paper_id,
                        summarizer=summary.source,
                        paper_version=version,
                        why=summary.why,
                        insights=summary.insights,
                    )
                )
            else:
                row.paper_version = version
                row.why = summary.why
                row.insights = summary.insights
