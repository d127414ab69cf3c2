"""The offline summarizer: deterministic Why / Key insights from the abstract alone (no network).

It splits the cleaned abstract into sentences (`text`), tells problem from contribution from result
(`roles`), and picks sentences for each part: the Why is the problem statement (not the background
sentence before it, not the contribution); Key insights are 2–4 short bullets: the method in a line,
the main result with its number, a second number when there is one, and what is released (code,
weights, data) when the abstract says so. Every bullet is cut from the abstract's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from .reframe import drop_first_person, lead_with_gap, reads_alone, standalone
from .roles import (
    _LEADING_CONTRAST,
    _QUANTITY,
    _analyse,
    _problem_score,
    _Sentence,
    _title_name,
)
from .summary import OFFLINE_ID, Summary
from .text import (
    _CLAUSE_BREAK,
    MAX_TITLE_CHARS,
    capitalise,
    clean_text,
    shorten,
    split_sentences,
    truncate,
)

WHY_MAX_CHARS = 320
BULLET_MAX_CHARS = 200
MAX_BULLETS = 4
# Bullets are stored one a line in `insights`.
INSIGHTS_MAX_CHARS = MAX_BULLETS * (BULLET_MAX_CHARS + 1)
# What a "code is available" sentence releases, in the words a reader expects.
_RELEASES = (
    ("code", re.compile(r"\b(?:codes?|implementations?|source|library|toolkit)\b", re.I)),
    ("model weights", re.compile(r"\b(?:weights|checkpoints?|models?)\b", re.I)),
    ("data", re.compile(r"\b(?:data|datasets?|benchmarks?|corpus|corpora)\b", re.I)),
)
# How far from "is available" / "we release" a released thing may be named (characters).
_RELEASE_WINDOW = 60
_PROMISE = re.compile(r"\bwill be\b|\bsoon\b|\bupon (?:acceptance|publication)\b", re.I)
_RELEASE_CUE = re.compile(
    r"\bwe (?:also )?(?:publicly |openly )?(?:release|open-?source|make\b.{0,60}\bavailable)|"
    r"\b(?:is|are|will be|been) (?:publicly |freely |openly )?(?:released|available|open-?sourced)\b|"
    r"\b(?:publicly|freely|openly) (?:available|released|accessible)\b|https?://|\bgithub\b",
    re.I,
)
# "To address this, we…" / "In this paper, we…": the bullet starts at the verb's subject.
_BULLET_LEAD = re.compile(
    r"^(?:to (?:address|tackle|overcome|bridge|solve|fill|mitigate|alleviate|close) "
    r"(?:this|these|the|such)[\w\s-]{0,40}?,\s*|in this (?:paper|work|study),?\s*|here,?\s*)(?=we\b)",
    re.I,
)


def _fit(chosen: list[_Sentence], keep: _Sentence | None, limit: int, strip: re.Pattern[str]) -> str:
    """Join sentences in abstract order within `limit`, shortening the others before `keep`."""
    texts = {s.index: capitalise(strip.sub("", s.text)) for s in chosen}
    ordered = sorted(texts)
    total = sum(len(t) for t in texts.values()) + len(texts) - 1
    if total > limit and keep is not None and len(texts) > 1:
        room = limit - len(texts[keep.index]) - 1
        others = [i for i in ordered if i != keep.index]
        share = room // len(others) - 1
        if share < 80:  # `keep` alone nearly fills the space: share it evenly instead
            share = limit // len(texts) - 1
            texts[keep.index] = shorten(texts[keep.index], share)
        for i in others:
            texts[i] = shorten(texts[i], share)
    return shorten(" ".join(texts[i] for i in ordered), limit)


def _length(chosen: Iterable[_Sentence], strip: re.Pattern[str]) -> int:
    """Characters of `chosen` joined by spaces, as `_fit` would print them."""
    texts = [strip.sub("", s.text) for s in chosen]
    return sum(len(t) for t in texts) + len(texts) - 1


def _with_antecedents(
    sentence: _Sentence, sentences: list[_Sentence], allowed: set[int]
) -> list[_Sentence] | None:
    """`sentence` and the sentences its opening "They…"/"This…" leans on, or None if one isn't allowed."""
    if sentence.leans_back and sentence.index > 0:
        # "In contrast, X…" / "They…" made to read alone (the link dropped, the subject named) beats
        # bringing the background sentence along.
        alone = standalone(sentence.text, sentences[sentence.index - 1].text)
        if alone is not None:
            return [replace(sentence, text=alone, leans_back=False)]
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
    """The problem alone, unless its opening clause leans on the sentence before ("Yet the traces it
    produces…"): then that sentence comes along when it fits. Background the problem doesn't need
    stays out: the digest puts the month's context in front instead."""
    head = chosen[0]
    body = _LEADING_CONTRAST.sub("", head.text)
    if len(chosen) == 1 and head.index > 0 and not reads_alone(body):
        alone = standalone(head.text, sentences[head.index - 1].text)
        if alone is not None:
            return [replace(head, text=alone)]
    if head.index - 1 in allowed and not reads_alone(body):
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
        if len(why) == 1:
            previous = sentences[why[0].index - 1].text if why[0].index > 0 else None
            why = [replace(why[0], text=lead_with_gap(why[0].text, previous))]
        else:  # a chain leaning on each other keeps its subjects; only "We find that…" goes
            why = [replace(s, text=drop_first_person(s.text)) for s in why]
        keep_why = max(why, key=lambda s: (s.problem, s.index))
        why_text = _fit(why, keep_why, WHY_MAX_CHARS, _LEADING_CONTRAST)
        bullets = _bullets(sentences, contribution, {s.index for s in why})
        if not bullets:  # a one-sentence abstract: say it once, under insights too
            bullets = [truncate(why_text, BULLET_MAX_CHARS)]
        return Summary(why=why_text, insights="\n".join(bullets), source=OFFLINE_ID)

    @staticmethod
    def _why(sentences: list[_Sentence], contribution: _Sentence | None) -> list[_Sentence]:
        usable = [s for s in sentences if s is not contribution and not s.boilerplate]
        before = [s for s in usable if contribution is None or s.index < contribution.index]
        others = [s for s in usable if s.result < 2]
        # The problem is told before the contribution, or else elsewhere, but not in a sentence about
        # the authors' own work ("Our method is…", "A key innovation of our model is…") unless it asks
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


def _bullet(text: str) -> str:
    """One bullet: the sentence without its lead-in, within `BULLET_MAX_CHARS`, its number kept."""
    text = capitalise(_BULLET_LEAD.sub("", _LEADING_CONTRAST.sub("", text)))
    cut = shorten(text, BULLET_MAX_CHARS)
    number = _QUANTITY.search(text)
    if number is None or _QUANTITY.search(cut.removesuffix("…")):
        return cut
    # The cut lost the number: keep the clause that holds it, after the sentence's opening clause
    # when both fit ("We propose a retriever that … lifts recall by 23%"), else alone.
    breaks = list(_CLAUSE_BREAK.finditer(text))
    end = next((b.start() for b in breaks if b.start() >= number.end()), len(text))
    tail = "" if end == len(text) else "…"
    starts = [b.end() for b in breaks if b.end() <= number.start()]
    if end - 0 + len(tail) <= BULLET_MAX_CHARS:
        return text[:end].rstrip(" ,;:") + tail
    head = text[: breaks[0].start()].rstrip(" ,;:") if breaks else ""
    for start in starts:
        piece = text[start:end].strip(" ,;:")
        if head and breaks[0].end() < start and len(head) + len(piece) + len(tail) + 3 <= BULLET_MAX_CHARS:
            return f"{head} … {piece}{tail}"
        if len(piece) + len(tail) + 1 <= BULLET_MAX_CHARS:
            return f"…{piece}{tail}"
    return "…" + truncate(text[max(0, number.start() - 80) :].split(" ", 1)[-1], BULLET_MAX_CHARS - 1)


def _released(sentences: list[_Sentence]) -> str | None:
    """ "Released: code and model weights." when the abstract says so ("Code is available at…", "we
    release the dataset"), or "To be released: code." for a promise. Only what the release names
    counts: "data" elsewhere in the sentence is not released."""
    released: list[str] = []
    promised: list[str] = []
    for sentence in sentences:
        text = sentence.text
        for cue in _RELEASE_CUE.finditer(text):
            # "we release X": X follows; "X is available (at https://…)": X comes first. So "trained
            # on publicly available datasets" releases nothing.
            if cue.group(0).lower().startswith("we"):
                window = text[cue.end() : cue.end() + _RELEASE_WINDOW]
            else:
                window = text[max(0, cue.start() - _RELEASE_WINDOW) : cue.start()]
            around = text[max(0, cue.start() - _RELEASE_WINDOW) : cue.end() + _RELEASE_WINDOW]
            target = promised if _PROMISE.search(around) else released
            target += [kind for kind, pattern in _RELEASES if kind not in target and pattern.search(window)]
    promised = [k for k in promised if k not in released]
    parts = []
    for label, kinds in (("Released", released), ("To be released", promised)):
        ordered = [k for k, _ in _RELEASES if k in kinds]
        if ordered:
            listed = ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " and " + ordered[-1]
            parts.append(f"{label}: {listed}.")
    return " ".join(parts) or None


def _bullets(sentences: list[_Sentence], contribution: _Sentence | None, used: set[int]) -> list[str]:
    """The method in a line, the main result with its number (and a second one), what is released."""
    free = [s for s in sentences if s.index not in used and not s.boilerplate]
    method = contribution if contribution is not None and contribution.index not in used else None
    if method is not None and _RELEASE_CUE.search(method.text):  # "We release the code…": a release
        free = [s for s in free if s is not method]
        method = next((s for s in free if s.own_work and s.result < 2 and not s.leans_back), None)
    if method is None:
        method = next((s for s in free if s.result < 2 and not s.leans_back), None)
    bullets: list[str] = []
    taken: set[int] = set()
    if method is not None:
        bullets.append(_bullet(method.text))
        taken.add(method.index)
    results = sorted(
        (s for s in free if s.index not in taken and s.result >= 1),
        key=lambda s: (not _QUANTITY.search(s.text), -s.result, s.index),
    )
    if method is not None and _QUANTITY.search(method.text) and _QUANTITY.search(bullets[0]):
        results = [s for s in results if _QUANTITY.search(s.text)]  # the method already has a number
    for result in results[:2]:
        if result is not results[0] and not _QUANTITY.search(result.text):
            break  # a second result only when it brings a number
        bullets.append(_bullet(result.text))
    released = _released(sentences)
    if released is not None:
        bullets.append(released)
    return bullets[:MAX_BULLETS]
