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

OFFLINE_ID = "offline-v2"
WHY_MAX_CHARS = 320
INSIGHTS_MAX_CHARS = 480
# Longer than this, an abstract is a paste accident; the prompt and the splitter read this much.
MAX_ABSTRACT_CHARS = 6000
MAX_TITLE_CHARS = 400


@dataclass(frozen=True, slots=True)
class Summary:
    why: str
    insights: str
    # Which summarizer actually wrote it ("offline-v2", "llm:<model>"): an LLM summarizer that fell
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
# A sentence that opens on one of these leans on the sentence before it ("They are often poorly
# documented…", "This leads to high costs…", "In contrast, …"): alone, it names nothing.
_BACK_REFERENCE = re.compile(
    r"^(?:they|them|their|theirs|these|those|this|that|it|its|such|both|another|"
    r"the (?:latter|former|above|aforementioned|same|resulting)|"
    r"thus|therefore|hence|consequently|as a (?:result|consequence)|accordingly|in (?:contrast|turn)|"
    r"by contrast|conversely|in particular|specifically|for (?:example|instance)|instead|meanwhile|"
    r"similarly|likewise|second(?:ly)?|third(?:ly)?|finally|lastly|then|further|otherwise|even so|"
    r"to (?:this|that) end)(?![\w-])",
    re.IGNORECASE,
)
# "It remains unclear whether…", "It is well known that…": an "it" that stands for nothing.
_DUMMY_IT = re.compile(
    r"^it (?:is|was|remains|has (?:long )?been|becomes|seems|appears) "
    r"(?!(?:a|an|the|not|designed|used|trained|built|able|capable|based|composed|implemented|"
    r"intended|meant|also|then|therefore|thus)\b)(?:[\w-]+ ){0,3}?(?:to|that|whether|how|why|what|if)\b",
    re.IGNORECASE,
)
# "This paper…", "This study…" names the paper itself, not something said before.
_SELF_REFERENCE = re.compile(
    r"^(?:this|the present) (?:paper|work|study|article|report|review|survey|dissertation|thesis|"
    r"chapter|letter|manuscript|technical report|position paper|tutorial)\b",
    re.IGNORECASE,
)
# Claims of novelty beyond the contribution cues: "a key innovation of X is…".
_NOVELTY = _cues(
    r"\b(?:key|main|core|central|major) (?:innovation|contribution|novelty|idea|feature)s?\b",
)
# A sentence about the authors' own work (or naming their method) describes the contribution, not
# the problem it answers.
_OWN_WORK = _cues(
    r"\b(?:we|our|us)\b",
    r"^(?:this|the present) (?:paper|work|study|article|report|review|survey|dissertation|thesis|"
    r"chapter|letter|manuscript|technical report)\b",
    r"\bin this (?:paper|work|study|article|report|review|survey)\b",
)
# "We study whether…", "We address the challenge of…": the authors asking the question, which is
# what a Why tells.
_FRAMING = re.compile(
    r"\bwe (?:study|consider|investigate|examine|address|tackle|focus on|revisit|explore|ask)\b",
    re.IGNORECASE,
)
# "Code is available at https://…": never a reason to read the paper.
_BOILERPLATE = _cues(
    r"https?://|\bgithub\.com\b|\burl\b",
    r"\bavailable (?:at|on|from|online)\b|\b(?:publicly|freely|openly) (?:available|released|accessible)\b",
    r"\b(?:is|are|will be) (?:released|open-sourced)\b",
)
# The name a title gives its method ("PLOVER: Sparse…", "Kestrel-2 Technical Report"): a sentence that
# names it describes the contribution. A lone word before a colon, except a genre ("Position: …").
_TITLE_NAME = re.compile(
    r"^\s*([A-Za-z0-9][\w.+-]*[\w+])(?:\s*:|\s+(?:technical report|system card)\b)", re.I
)
_NOT_A_NAME = frozenset(
    {
        "position",
        "survey",
        "review",
        "tutorial",
        "editorial",
        "perspective",
        "perspectives",
        "commentary",
        "overview",
        "erratum",
        "correction",
        "note",
        "keynote",
        "abstract",
        "preprint",
        "report",
    }
)


def _title_name(title: str) -> str | None:
    match = _TITLE_NAME.match(title)
    if match is None or match.group(1).lower() in _NOT_A_NAME or len(match.group(1)) < 2:
        return None
    return match.group(1)


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
    # About the authors' own work ("we…", "this paper…", the title's method name): not a problem.
    own_work: bool = False
    # Opens on "They…", "This…", "In contrast…": needs the sentence before it to make sense.
    leans_back: bool = False
    # Says what is new ("we propose", "novel", "a key innovation"): not a problem, even where no
    # "we" says so.
    claims_novelty: bool = False
    # "We" sentences that still state the problem or question ("We study whether…", "Despite …,
    # we do not know…"), so may stand for the Why when they come before the contribution.
    frames_problem: bool = False
    # A link or "code is available": never a Why.
    boilerplate: bool = False


_BOILERPLATE_WORDS = ("http", "github", "url", "available", "released", "open-sourced")


def _is_boilerplate(text: str) -> bool:
    lowered = text.lower()  # a cheap test first: the pattern is slow, and rarely matches
    return any(word in lowered for word in _BOILERPLATE_WORDS) and bool(_BOILERPLATE.search(text))


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.findall(text))


def _analyse(sentences: list[str], name: str | None = None) -> list[_Sentence]:
    named = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])") if name else None
    analysed = []
    for index, text in enumerate(sentences):
        quantities = _count(_QUANTITY, text)
        numbers = 1 if _NUMBER.search(text) else 0
        body = _LEADING_CONTRAST.sub("", text)
        contribution = _count(_CONTRIBUTION, text)
        strong = bool(_STRONG_CONTRIBUTION.search(text))
        novel = bool(_NOVELTY.search(text))
        problem = _count(_PROBLEM, text)
        analysed.append(
            _Sentence(
                index=index,
                text=text,
                problem=float(problem),
                importance=float(_count(_IMPORTANCE, text)),
                contribution=float(contribution),
                strong_contribution=strong,
                result=_count(_RESULT, text) + 2.0 * min(quantities, 2) + 0.5 * numbers,
                numbers=0.5 * numbers,
                own_work=strong or novel or bool(_OWN_WORK.search(text) or (named and named.search(text))),
                claims_novelty=novel or contribution > 0,
                frames_problem=not strong and not novel and bool(problem or _FRAMING.search(text)),
                boilerplate=_is_boilerplate(text),
                leans_back=index > 0
                and bool(_BACK_REFERENCE.match(body))
                and not _SELF_REFERENCE.match(body)
                and not _DUMMY_IT.match(body),
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


# Where a long sentence can stop and still read as a whole: before ", …", "; …", " (…", " -- …",
# " which …". Cutting there drops a trailing clause instead of half of one.
_CLAUSE_BREAK = re.compile(r"[,;:](?=\s)|\s(?=\(|--|–|—|(?:which|while|whereas|where|thereby)\b)")


# "To predict X, this paper builds…": the first comma ends a lead-in; the main clause comes after it.
_LEAD_IN = re.compile(
    r"^(?:in order to|to|while|although|though|as|with|by|despite|given|when|if|since|because|unlike|"
    r"building on|based on|inspired by|motivated by|leveraging|using|through|for|in|on|under)\b",
    re.IGNORECASE,
)


def _shorten(text: str, limit: int) -> str:
    """`text` within `limit`, cut after its last whole clause when that keeps most of it."""
    if len(text) <= limit:
        return text
    window = text[: limit - 1]
    start = 0.6 * limit
    if _LEAD_IN.match(text) and "," in window:  # never keep the lead-in without its main clause
        start = max(start, window.index(",") + 1)
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(window) if m.start() >= start]
    if breaks:
        return window[: breaks[-1]].rstrip(" ,;:-–—(") + "…"
    return truncate(text, limit)


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
            texts[keep.index] = _shorten(texts[keep.index], share)
        for i in others:
            texts[i] = _shorten(texts[i], share)
    return _shorten(" ".join(texts[i] for i in ordered), limit)


def _length(chosen: Iterable[_Sentence], strip: re.Pattern[str]) -> int:
    """Characters of `chosen` joined by spaces, as `_fit` would print them."""
    texts = [strip.sub("", s.text) for s in chosen]
    return sum(len(t) for t in texts) + len(texts) - 1


def _with_antecedents(
    sentence: _Sentence, sentences: list[_Sentence], allowed: set[int]
) -> list[_Sentence] | None:
    """`sentence` and the sentences its opening "They…"/"This…" leans on, or None if one isn't allowed."""
    chosen = [sentence]
    while chosen[0].leans_back:
        if len(chosen) == 3 or chosen[0].index - 1 not in allowed:
            return None
        chosen.insert(0, sentences[chosen[0].index - 1])
    return chosen


def _best_unit(
    pool: list[_Sentence], sentences: list[_Sentence], allowed: set[int], *, shorten: bool = False
) -> tuple[list[_Sentence] | None, bool]:
    """The best problem statement in `pool` that reads on its own, or with the sentences its
    "They…" leans on (`allowed` ones), and whether it fits the Why. Sentences scored at least half
    the best come first: one that fits whole, else (if `shorten`) one whose one-sentence lead-in can
    be shortened to fit; then the pool's first sentence."""
    scores = {s.index: _problem_score(s) for s in pool}
    ranked = sorted(pool, key=lambda s: (scores[s.index], s.index), reverse=True)
    top = scores[ranked[0].index]
    strong = [s for s in ranked if scores[s.index] > 0 and scores[s.index] >= top / 2]
    units = [u for u in (_with_antecedents(s, sentences, allowed) for s in strong) if u]
    for unit in units:
        if _length(unit, _LEADING_CONTRAST) <= WHY_MAX_CHARS:
            return unit, True
    for unit in units if shorten else []:  # `_fit` keeps ≥ 80 characters of the lead-in
        keep = max(unit, key=lambda s: (s.problem, s.index))
        if len(unit) == 2 and unit[1] is keep and _length([keep], _LEADING_CONTRAST) + 82 <= WHY_MAX_CHARS:
            return unit, True
    first = _with_antecedents(pool[0], sentences, allowed)
    if first is not None and _length(first, _LEADING_CONTRAST) <= WHY_MAX_CHARS:
        return first, True
    # Nothing fits: a single sentence, to be shortened; several shortened ones read as noise.
    return next((u for u in [*units, first] if u is not None and len(u) == 1), None), False


def _with_context(chosen: list[_Sentence], sentences: list[_Sentence], allowed: set[int]) -> list[_Sentence]:
    """A "However, …" sentence leans on the one before it, which usually says why the area matters:
    bring that along when it fits."""
    head = chosen[0]
    if head.index - 1 in allowed and (_LEADING_CONTRAST.match(head.text) or chosen[-1].importance == 0):
        context = _with_antecedents(sentences[head.index - 1], sentences, allowed)
        if (
            context
            and not any(s.own_work and not s.frames_problem for s in context)
            and _length(context + chosen, _LEADING_CONTRAST) <= WHY_MAX_CHARS
        ):
            return context + chosen
    return chosen


class OfflineSummarizer:
    """Deterministic Why/Key-insights from the abstract alone (no network, no model)."""

    @property
    def id(self) -> str:
        return OFFLINE_ID

    def close(self) -> None:
        """Nothing to release; here so every summarizer can be closed alike."""

    def summarize(self, title: str, abstract: str) -> Summary:
        clean_title = clean_text(title[:MAX_TITLE_CHARS])
        sentences = _analyse(split_sentences(clean_text(abstract)), _title_name(clean_title))
        if not sentences:
            fallback = truncate(clean_title, WHY_MAX_CHARS)
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
        usable = [s for s in sentences if s is not contribution and not s.boilerplate]
        before = [s for s in usable if contribution is None or s.index < contribution.index]
        others = [s for s in usable if s.result < 2]
        # The problem is told before the contribution, or else elsewhere, but not in a sentence about
        # the authors' own work ("Our method is…", "A key innovation in Kestrel-2 is…") unless it asks
        # the question ("We study whether…"): a problem cut short beats those. Failing that, what
        # comes before the contribution, preferring a sentence that claims no novelty, then the rest.
        tiers = [
            [
                [s for s in before if not s.own_work or s.frames_problem],
                [s for s in others if not s.own_work],
            ],
            [
                [s for s in before if not s.claims_novelty],
                before,
                [s for s in others if not s.claims_novelty],
                others,
            ],
        ]
        # What a "They…" may lean on: any sentence that is not a contribution.
        lead_ins = {s.index for s in usable if not s.claims_novelty and not s.strong_contribution}
        for tier in tiers:
            cut: list[_Sentence] | None = None
            for pool in tier:
                if pool:
                    allowed = lead_ins | {s.index for s in pool}
                    # Only a problem told before the contribution is worth shortening its lead-in.
                    shorten = pool is tier[0] and tier is tiers[0]
                    unit, fits = _best_unit(pool, sentences, allowed, shorten=shorten)
                    if unit is not None and fits:
                        return _with_context(unit, sentences, allowed)
                    cut = cut or unit
            if cut is not None:
                return cut
        rest = before or others or sentences
        return [next((s for s in rest if not s.leans_back), rest[0])]

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
            # The strongest result that fits whole beside the contribution, read with what its
            # "This…" refers to; failing that, the strongest one, shortened.
            allowed = {s.index for s in sentences if s.index not in used}
            picked: list[_Sentence] | None = None
            for candidate in results:
                if candidate.result < results[0].result / 2:
                    break
                unit = _with_antecedents(candidate, sentences, allowed)
                if unit is None:
                    continue
                unit = [s for s in unit if s not in chosen]
                if _length(chosen + unit, _LEADING_FRAMING) <= INSIGHTS_MAX_CHARS:
                    picked = unit
                    break
            chosen.extend(picked or [results[0]])
            extra = next((s for s in results if s not in chosen and not s.leans_back), None)
            if (
                extra is not None
                and _QUANTITY.search(extra.text)
                and len(chosen) < 3
                and _length([*chosen, extra], _LEADING_FRAMING) <= INSIGHTS_MAX_CHARS
            ):
                chosen.append(extra)
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
