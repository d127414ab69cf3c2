"""The offline summarizer: deterministic Why / Key insights from the abstract alone (no network).

It splits the cleaned abstract into sentences (`text`), tells problem from contribution from result
(`roles`), and picks sentences for each part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .roles import (
    _LEADING_CONTRAST,
    _LEADING_FRAMING,
    _QUANTITY,
    _analyse,
    _problem_score,
    _Sentence,
    _title_name,
)
from .summary import OFFLINE_ID, Summary
from .text import MAX_TITLE_CHARS, capitalise, clean_text, shorten, split_sentences, truncate

WHY_MAX_CHARS = 320
INSIGHTS_MAX_CHARS = 480


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
        # the authors' own work ("Our method is…", "A key innovation in Qwen3 is…") unless it asks
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
