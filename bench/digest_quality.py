"""How close the digest's "Why →" and "Key insights →" come to the editorial they imitate.

Over the curated picks of the development months (labels-2025-04, -05 and -07 to -11 in
../shared/data/bench, read at run time; a month whose files are absent is skipped), each pick's
abstract is summarised and the summary measured:

(a) faithfulness: share of the numbers and capitalised names in Why / Key insights that occur in the
    paper's title or abstract (goal 100% offline);
(b) share of Whys that open with the paper's own contribution ("We…", "This paper…", "<Name> is…") or
    repeat the abstract's first sentence (goal ≤ 5%); and the share with "we"/"our" anywhere in them
    (a "We demonstrate…" after the problem);
(c) share of picks with a numeric result in Key insights, among picks whose abstract states one
    (goal ≥ 90%);
(d) LaTeX residue (backslashes, `$`, braces, accents like `Nystr\\"om`) in the text, and escaping
    defects (`\\<`, `\\>`, `\\#` the Markdown rendering shows a reader for no reason) (goal 0);
(e) cost per digest: summarising time for ten picks, LLM calls and the prompt size an LLM would read.

(a), (c) and (d) measure what the summarizer writes from the abstract. The digest puts archive facts
around that Why (the topic's paper count this month, the earlier featured paper it follows): where
this checkout has `bot.digest.editorial`, (b) is also reported on that composed Why, with topic
counts over the month's whole pool (default topics) and the earlier development months' picks standing
in for earlier published digests. The emerging terms need a database and are left out here.

    python -m bench.digest_quality            # the summarizer of this checkout
    python -m bench.digest_quality --json     # figures as JSON
    python -m bench.digest_quality --llm-base-url http://127.0.0.1:8000/v1 --llm-model NAME
                                              # the LLM path (any OpenAI-compatible server)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bot.digest.render import escape_markdown
from bot.digest.summarize import OfflineSummarizer, build_messages, clean_text

BENCH_DATA = Path(os.environ.get("TRENDS_BENCH_DATA", "/work/shared/data/bench"))
DEV_MONTHS = ("2025-04", "2025-05", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11")
DIGEST_SIZE = 10

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w(?:[\w'+.-]*[\w+])?")
_QUANTITY = re.compile(r"\d(?:[\d.,]*\d)?\s?(?:%|×|x\b|-?fold\b|points?\b|pp\b|times\b)", re.I)
_OWN_OPENING = re.compile(
    r"^(?:we|our|us|here,? we|in this (?:paper|work|study)|this (?:paper|work|study|article|report))\b",
    re.I,
)
_SENTENCE_START = re.compile(r"(?:^|[.!?:;…]\s+|\n)(?:[-•]\s*)?[\"'(\[]?([A-Za-z][\w'-]*)")
_LATEX_RESIDUE = re.compile(r"\\|\$(?!\s?\d)|[{}]|\^\{|_\{|</?[a-z]+>|&(?:amp|lt|gt);")
_ESCAPE_DEFECT = re.compile(r"\\[<>#]")
_COMMON_CAPITALS = frozenset({"I", "A"})
_FIRST_PERSON = re.compile(r"\b(?:we|our)\b", re.I)


def _title_name(title: str) -> str | None:
    match = re.match(r"^\s*([A-Za-z0-9][\w.+-]*[\w+])\s*:", title)
    return match.group(1) if match else None


def _bare(word: str) -> str:
    return word.removesuffix("'s").rstrip(".")


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _names(text: str) -> set[str]:
    """Words with a capital that a sentence start does not explain ("Qwen3", "GPT-4o", "Nyström")."""
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    return {
        m.group(0)
        for m in _WORD.finditer(text)
        if m.start() not in starts
        and any(c.isupper() for c in m.group(0))
        and m.group(0) not in _COMMON_CAPITALS
    }


def _claims_found(text: str, source: str) -> tuple[int, int, list[str]]:
    numbers = _numbers(text)
    names = _names(text)
    source_numbers = _numbers(source)
    source_words = {_bare(w) for w in _WORD.findall(source)}
    missing = [n for n in sorted(numbers) if n not in source_numbers]
    missing += [n for n in sorted(names) if _bare(n) not in source_words]
    total = len(numbers) + len(names)
    return total - len(missing), total, missing


def load_month(month: str, texts: list[str] | None = None) -> list[dict[str, str]] | None:
    """The month's curated picks that have abstracts (and every pool paper's text into `texts`)."""
    labels_path = BENCH_DATA / f"labels-{month}.json"
    pool_path = BENCH_DATA / f"pool-{month}.jsonl.gz"
    if not labels_path.exists() or not pool_path.exists():
        return None
    wanted = {p["id"] for p in json.loads(labels_path.read_text())["picks"] if p.get("id")}
    papers = []
    with gzip.open(pool_path, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            abstract = item.get("abstract") or ""
            if texts is not None:
                texts.append(f"{item['title']} {abstract}")
            if item["id"] in wanted and abstract.strip():
                papers.append({"title": item["title"], "abstract": abstract, "month": month})
    return papers


def composed_whys(
    papers: list[dict[str, str]], whys: list[str], texts_by_month: dict[str, list[str]]
) -> list[str]:
    """The Whys as the digest shows them, or [] when this checkout has no editorial module."""
    try:
        from bot.digest import editorial
        from bot.ranking.default_topics import DEFAULT_TOPICS
    except ImportError:
        return []
    composed = []
    featured: list[editorial.Featured] = []
    for month in sorted(texts_by_month):
        counts = editorial.count_topics(texts_by_month[month], DEFAULT_TOPICS)
        context = editorial.MonthContext(month, len(texts_by_month[month]), counts, featured=tuple(featured))
        picks = [(i, p) for i, p in enumerate(papers) if p["month"] == month]
        about = []
        for _, paper in picks:
            text = f"{paper['title']} {paper['abstract']}"
            topic = next((t.name for t in DEFAULT_TOPICS if editorial.count_topics([text], [t])), None)
            about.append((paper["title"], paper["abstract"], topic))
        for (index, _), pick_context in zip(picks, editorial.pick_contexts(about, context), strict=True):
            composed.append(pick_context.why(whys[index]))
        featured += [
            editorial.Featured(title, month, topic, f"{title} {abstract}") for title, abstract, topic in about
        ]
    return composed


def _bullets(insights: str) -> list[str]:
    return [line.lstrip("-• ").strip() for line in insights.splitlines() if line.strip()]


def _opens_badly(why: str, paper: dict[str, str]) -> tuple[bool, bool]:
    """(opens with the paper's own contribution, repeats the abstract's first sentence)."""
    name = _title_name(clean_text(paper["title"]))
    opens_own = bool(_OWN_OPENING.match(why)) or bool(name and re.match(rf"{re.escape(name)}\b(?!-)", why))
    abstract = clean_text(paper["abstract"])
    first_sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z])", abstract, maxsplit=1)[0]
    repeats = len(first_sentence) > 20 and why.startswith(first_sentence[: min(len(first_sentence), 80)])
    return opens_own, repeats


def measure(
    papers: list[dict[str, str]], summarizer: Any, texts_by_month: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    texts_by_month = texts_by_month or {}
    whys: list[str] = []
    found = total = own_opening = first_repeat = with_result = result_due = residue = escapes = 0
    first_person = 0
    bullet_counts: list[int] = []
    seconds = 0.0
    prompt_chars = 0
    examples: dict[str, list[str]] = {"unfaithful": [], "own_opening": [], "no_result": [], "residue": []}
    for paper in papers:
        start = time.perf_counter()
        summary = summarizer.summarize(paper["title"], paper["abstract"])
        seconds += time.perf_counter() - start
        prompt_chars += sum(len(m["content"]) for m in build_messages(paper["title"], paper["abstract"]))
        abstract = clean_text(paper["abstract"])
        source = clean_text(paper["title"]) + " " + abstract
        bullets = _bullets(summary.insights)
        bullet_counts.append(len(bullets))
        for text in (summary.why, *bullets):
            ok, n, missing = _claims_found(text, source)
            found += ok
            total += n
            if missing and len(examples["unfaithful"]) < 5:
                examples["unfaithful"].append(f"{missing} in {text[:100]!r}")
        why = summary.why
        whys.append(why)
        opens_own, repeats = _opens_badly(why, paper)
        own_opening += opens_own
        first_person += bool(_FIRST_PERSON.search(why))
        first_repeat += repeats and not opens_own
        if (opens_own or repeats) and len(examples["own_opening"]) < 5:
            examples["own_opening"].append(why[:100])
        if _QUANTITY.search(abstract):
            result_due += 1
            if any(_QUANTITY.search(b) for b in bullets):
                with_result += 1
            elif len(examples["no_result"]) < 5:
                examples["no_result"].append(summary.insights[:120])
        for text in (why, summary.insights):
            hits = len(_LATEX_RESIDUE.findall(text))
            residue += hits
            if hits and len(examples["residue"]) < 5:
                examples["residue"].append(text[:100])
            escapes += len(_ESCAPE_DEFECT.findall(escape_markdown(text)))
    n = len(papers)
    per_paper = seconds / n if n else 0.0
    composed = composed_whys(papers, whys, texts_by_month)
    composed_bad = sum(
        _opens_badly(why, paper) != (False, False) for why, paper in zip(composed, papers, strict=False)
    )
    follows = sum(1 for why in composed if " It follows “" in why)
    return {
        "picks": n,
        "faithfulness": found / total if total else 1.0,
        "claims": total,
        "why_own_or_first_sentence": (own_opening + first_repeat) / n if n else 0.0,
        "why_own_opening": own_opening / n if n else 0.0,
        "why_first_sentence": first_repeat / n if n else 0.0,
        "why_first_person": first_person / n if n else 0.0,
        "composed_why_own_or_first_sentence": composed_bad / len(composed) if composed else None,
        "composed_why_follows": follows,
        "numeric_result_in_insights": with_result / result_due if result_due else 1.0,
        "picks_with_numeric_abstract": result_due,
        "latex_residue": residue,
        "escaping_defects": escapes,
        "bullets_mean": statistics.fmean(bullet_counts) if bullet_counts else 0.0,
        "seconds_per_digest": per_paper * DIGEST_SIZE,
        "llm_calls_per_digest": 0 if summarizer.id.startswith("offline") else DIGEST_SIZE,
        "llm_prompt_chars_per_digest": round(prompt_chars / n * DIGEST_SIZE) if n else 0,
        "examples": examples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--llm-base-url", help="measure an OpenAI-compatible server instead")
    parser.add_argument("--llm-model", help="the model to ask (with --llm-base-url)")
    args = parser.parse_args(argv)
    papers: list[dict[str, str]] = []
    months = []
    texts_by_month: dict[str, list[str]] = {}
    for month in DEV_MONTHS:
        texts_by_month[month] = []
        loaded = load_month(month, texts_by_month[month])
        if loaded is None:
            print(f"skip {month}: no labels/pool in {BENCH_DATA}", file=sys.stderr)
            del texts_by_month[month]
            continue
        months.append(month)
        papers += loaded
    if not papers:
        print(f"no development months in {BENCH_DATA}: nothing to measure", file=sys.stderr)
        return 0
    summarizer: Any = OfflineSummarizer()
    if args.llm_base_url and args.llm_model:
        from bot.digest.summarize import OpenAICompatibleSummarizer

        summarizer = OpenAICompatibleSummarizer(args.llm_base_url, args.llm_model, timeout_seconds=60)
    figures = measure(papers, summarizer, texts_by_month)
    figures["summarizer"] = summarizer.id
    figures["months"] = months
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        return 0
    print(f"summarizer {summarizer.id}, {figures['picks']} picks with abstracts in {', '.join(months)}")
    print(f"(a) faithfulness             {figures['faithfulness']:.1%} of {figures['claims']} numbers/names")
    print(
        f"(b) Why opens with own work  {figures['why_own_opening']:.1%}, repeats first sentence "
        f"{figures['why_first_sentence']:.1%} (together {figures['why_own_or_first_sentence']:.1%})"
    )
    print(f'    Whys with "we"/"our" anywhere: {figures["why_first_person"]:.1%}')
    if figures["composed_why_own_or_first_sentence"] is not None:
        print(
            f"    the Why as the digest composes it: {figures['composed_why_own_or_first_sentence']:.1%}; "
            f"{figures['composed_why_follows']} Whys name an earlier featured paper"
        )
    print(
        f"(c) numeric result in bullets {figures['numeric_result_in_insights']:.1%} "
        f"of {figures['picks_with_numeric_abstract']} picks whose abstract has one"
    )
    print(f"(d) LaTeX residue {figures['latex_residue']}, escaping defects {figures['escaping_defects']}")
    print(
        f"(e) cost per {DIGEST_SIZE}-pick digest: {figures['seconds_per_digest'] * 1000:.0f} ms, "
        f"{figures['llm_calls_per_digest']} LLM calls "
        f"(an LLM would read ~{figures['llm_prompt_chars_per_digest'] // 4:,} prompt tokens)"
    )
    print(f"    bullets per pick: {figures['bullets_mean']:.1f}")
    for kind, items in figures["examples"].items():
        for item in items[:3]:
            print(f"    e.g. {kind}: {item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
