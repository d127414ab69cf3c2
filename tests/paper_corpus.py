"""Seeded paper records written by the team: plausible AI papers plus the shapes that break things.

Every title, abstract and name here comes from the templates and word lists below (no real paper,
abstract or author list is copied), so fixtures can be as large as a test or a bench needs and still
hold nothing borrowed. The same arguments always give the same records.

- `generate_papers(n, seed=…)`: `n` `PaperRecord`s spread over a month, on the themes the default
  topics follow (and some they don't), with a share of hostile text mixed in.
- `hostile_papers()`: one record (or group) per shape that has broken parsers, indexes or renderers:
  LaTeX and HTML in titles and abstracts, names in many scripts, a 10,000-character abstract, a
  1,200-character title, a 3,000-character "word", cross-lists, three versions of one paper,
  old-style ids (`hep-th/9901001`, `math.GT/0309136`), an empty author list and 201 authors.
  All of them are valid and must be stored whole.
- `storage_hostile_papers()`: the shapes no table can hold as they are, which must be cleaned or
  skipped (with a logged reason) and never break the rest of a page: an id and a category longer
  than their 32-character columns, a 10,000-character title, control characters (NUL included) and
  lone surrogates (invalid UTF-8 once the fake arXiv sends them raw).
- `search_corpus()`: a few hundred papers built for full-text search: word families that stem alike
  ("learning", "learned", "learns"), phrases against the same words scattered, words that are
  prefixes of others, diacritics, hyphenated words, numbers and scripts other than Latin, with many
  equal matches so tie-breaking matters.
- `digest_papers()`: papers with full-length abstracts, for digest and summarizer tests.
- `iter_papers(n)`: `generate_papers` in batches, for benches that want millions of papers.
- `pool_rows` / `write_pool` (the benchmark pools' one-paper-a-line format), `snapshot_rows` (arXiv's
  bulk metadata snapshot format) and `paper_rows` (rows for `insert(Paper.__table__)`).

Importable from tests and from `bench/` scripts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.db.papers import _row as paper_row
from bot.paper_records import PaperRecord

DEFAULT_FIRST = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DEFAULT_DAYS = 31
LONG_ABSTRACT_CHARS = 10_000
LONG_TITLE_CHARS = 1_200
LONG_WORD_CHARS = 3_000
HUGE_TITLE_CHARS = 10_000
# Longer than the 32-character columns `papers.arxiv_id` and `papers.primary_category`.
LONG_OLD_STYLE_ID = "computational-linguistics-and-more/0501001"
LONG_CATEGORY = "cs.machine-learning-and-everything-else"

# -- vocabulary --------------------------------------------------------------------------------------

# (theme, subjects, methods, primary category): subjects name what a paper is about, methods what
# it does.
THEMES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    (
        "llm",
        ("large language models", "instruction-tuned language models", "long-context language models"),
        ("sparse fine-tuning", "curriculum pre-training", "token-level calibration"),
        "cs.CL",
    ),
    (
        "agents",
        ("LLM agents", "tool-use agents", "web agents that browse and click"),
        ("hierarchical planning", "tool call verification", "memory of past episodes"),
        "cs.AI",
    ),
    (
        "reasoning",
        ("chain of thought reasoning", "math word problems", "multi-step reasoning"),
        ("test-time compute allocation", "step-level verifiers", "self-consistency voting"),
        "cs.CL",
    ),
    (
        "generative",
        ("diffusion models", "video generation", "flow matching samplers"),
        ("few-step distillation", "guidance schedules", "latent upsampling"),
        "cs.CV",
    ),
    (
        "multimodal",
        ("vision-language models", "multimodal assistants", "audio-visual captioning"),
        ("visual instruction tuning", "image token pruning", "cross-modal alignment"),
        "cs.CV",
    ),
    (
        "rl",
        ("reinforcement learning from human feedback", "offline reinforcement learning", "reward models"),
        ("policy optimisation with verifiable rewards", "preference data filtering", "value bootstrapping"),
        "cs.LG",
    ),
    (
        "retrieval",
        ("retrieval augmented generation", "dense retrieval", "conversational recommendation"),
        ("query rewriting", "late-interaction re-ranking", "index compression"),
        "cs.IR",
    ),
    (
        "efficiency",
        ("mixture of experts", "quantized inference", "speculative decoding"),
        ("expert routing", "4-bit weight quantization", "draft model selection"),
        "cs.LG",
    ),
    (
        "safety",
        ("jailbreak attacks", "alignment of chat models", "interpretability of neural features"),
        ("red-teaming with automatic attackers", "sparse autoencoders", "refusal steering"),
        "cs.CR",
    ),
    (
        "vision",
        ("object detection", "semantic segmentation", "3D scene reconstruction"),
        ("vision transformers", "masked image modelling", "point cloud registration"),
        "cs.CV",
    ),
    (
        "other",
        ("soil moisture estimation", "traffic flow forecasting", "wind turbine fault detection"),
        ("Gaussian process regression", "kernel two-sample tests", "sparse matrix reordering"),
        "stat.ML",
    ),
)
ADJECTIVES = ("scalable", "robust", "efficient", "simple", "adaptive", "provable", "frugal", "modular")
PROBLEMS = (
    "remain expensive to train and hard to evaluate",
    "fail in ways that standard benchmarks do not reveal",
    "degrade sharply when the test data drifts",
    "are brittle under small changes to their inputs",
    "need labelled data that is slow to collect",
)
FINDINGS = (
    "gains grow with model size",
    "most of the improvement comes from the first few steps",
    "the method is insensitive to its two hyperparameters",
    "errors concentrate on rare categories",
    "a small validation set suffices to tune it",
)
SETTINGS = ("benchmarks", "languages", "domains", "tasks", "datasets")
METRICS = ("accuracy", "recall", "win rate", "F1", "exact match")
SYLLABLES = ("ka", "lo", "ven", "tri", "mor", "sa", "pel", "quin", "dra", "zu", "fen", "orb", "ti", "mar")

# Given and family names from many scripts, combined at random: nobody in particular.
GIVEN = (
    "Ada", "Bartosz", "Chloé", "Dương", "Émile", "Fatima", "Grzegorz", "Hisoka", "Ingrid", "Jürgen",
    "Kalani", "Łucja", "Mbali", "Nuño", "Oğuz", "Priya", "Rūta", "Søren", "Thảo", "Ulla", "Wei", "Zoë",
)  # fmt: skip
FAMILY = (
    "Abara", "Brønsted", "Castellví", "Dąbrowska", "Eriksdóttir", "Fernández-Ruiz", "Gökçe", "Halvorsen",
    "Ishikawa", "Jovanović", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "O'Neil", "Petrauskaitė",
    "Quispe", "Rahimi", "Szabó", "Trần", "van der Berg", "Weiß", "Yılmaz", "Żukowski",
)  # fmt: skip
OTHER_SCRIPTS = ("王 小明", "李 华", "محمد الأمين", "فاطمة الزهراء", "Иван Петров", "Αθηνά Παππά", "김 민준")
CROSS_LISTS = {
    "cs.CL": ("cs.AI", "cs.LG"),
    "cs.AI": ("cs.LG", "cs.MA"),
    "cs.CV": ("cs.LG", "eess.IV"),
    "cs.LG": ("stat.ML", "cs.AI"),
    "cs.IR": ("cs.CL",),
    "cs.CR": ("cs.LG", "cs.CL"),
    "stat.ML": ("cs.LG", "math.ST"),
}


def _method_name(rng: random.Random) -> str:
    name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    styles = (name.capitalize(), name.upper(), f"{name.capitalize()}-{rng.randint(2, 9)}")
    return rng.choice(styles)


def _author(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(OTHER_SCRIPTS)
    given = rng.choice(GIVEN)
    if rng.random() < 0.15:
        given = f"{given} {rng.choice(GIVEN)[0]}."
    return f"{given} {rng.choice(FAMILY)}"


def _authors(rng: random.Random) -> tuple[str, ...]:
    count = rng.choice((1, 2, 3, 3, 4, 5, 6, 8, 12))
    return tuple(dict.fromkeys(_author(rng) for _ in range(count)))


def _title(rng: random.Random, name: str, subject: str, method: str) -> str:
    adjective = rng.choice(ADJECTIVES)
    templates = (
        f"{name}: {adjective.capitalize()} {method} for {subject}",
        f"{adjective.capitalize()} {method} for {subject}",
        f"On the limits of {method} in {subject}",
        f"{subject[0].upper()}{subject[1:]} with {method}: an empirical study",
        f"When does {method} help {subject}?",
    )
    return rng.choice(templates)


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _abstract(rng: random.Random, name: str, subject: str, method: str) -> str:
    setting = rng.choice(SETTINGS)
    sentences = [
        f"Current approaches to {subject} {rng.choice(PROBLEMS)}.",
        f"We propose {name}, {_a(rng.choice(ADJECTIVES))} approach based on {method}.",
        f"On {rng.randint(3, 14)} {setting}, {name} improves {rng.choice(METRICS)} by "
        f"{rng.randint(1, 19)}.{rng.randint(0, 9)} points over the strongest baseline.",
        f"We also find that {rng.choice(FINDINGS)}.",
    ]
    if rng.random() < 0.4:
        sentences.append(f"Code is available at https://example.org/{name.lower()}.")
    return " ".join(sentences)


CONTEXTS = (
    "{Subject} are now used well beyond the settings they were designed for.",
    "Interest in {subject} has grown quickly, and so has the cost of studying them carefully.",
    "Most work on {subject} measures average quality and says little about the worst cases.",
)
GAPS = (
    "However, existing methods assume clean inputs and a fixed compute budget, which rarely holds.",
    "Yet it remains unclear whether the reported gains survive a change of data or of scale.",
    "Prior approaches either ignore this problem or solve it with hand-tuned heuristics.",
)
DETAILS = (
    "{Name} first estimates how hard each input is, then spends more computation only where it helps.",
    "The key idea is to reuse intermediate results across steps, so the overhead stays below {x}%.",
    "{Name} needs no extra labels: it learns from the disagreement between two cheap predictors.",
)
ANALYSES = (
    "Ablations show that both components matter and that the gains are largest on the hardest cases.",
    "An error analysis reveals that the remaining failures come from ambiguous or mislabelled inputs.",
    "We further show that the method degrades gracefully when its budget is cut by half.",
)


def rich_abstract(rng: random.Random, name: str, subject: str, method: str) -> str:
    """A 700-1,100 character abstract with the usual moves: context, gap, proposal, method, results,
    analysis, a limitation and (sometimes) a release note."""

    def fill(template: str) -> str:
        return template.format(
            Subject=subject[0].upper() + subject[1:], subject=subject, Name=name, x=rng.randint(2, 15)
        )

    sentences = [
        fill(rng.choice(CONTEXTS)),
        fill(rng.choice(GAPS)),
        f"In this paper we propose {name}, {_a(rng.choice(ADJECTIVES))} approach to {subject} "
        f"based on {method}.",
        fill(rng.choice(DETAILS)),
        f"Across {rng.randint(3, 14)} {rng.choice(SETTINGS)}, {name} improves {rng.choice(METRICS)} by "
        f"{rng.randint(1, 19)}.{rng.randint(0, 9)} points over the strongest baseline while using "
        f"{rng.randint(20, 60)}% less compute.",
        fill(rng.choice(ANALYSES)),
        f"We also find that {rng.choice(FINDINGS)}.",
        f"Our study is limited to {rng.choice(SETTINGS)} in English; other languages are future work.",
    ]
    if rng.random() < 0.5:
        sentences.append(f"Code and data are available at https://example.org/{name.lower()}.")
    return " ".join(sentences)


def digest_papers(count: int = 8, *, seed: int = 8, first: dt.datetime = DEFAULT_FIRST) -> list[PaperRecord]:
    """`count` papers with full-length abstracts for digest and summarizer tests: one has 201
    authors, one a single author, and their themes cover the default topics."""
    rng = random.Random(seed)
    papers = []
    for i in range(count):
        _, subjects, methods, primary = THEMES[(i * 3) % len(THEMES)]
        name = _method_name(rng)
        subject, method = rng.choice(subjects), rng.choice(methods)
        authors = _authors(rng)
        if i == 3:
            authors = tuple(
                f"{GIVEN[n % len(GIVEN)]} {FAMILY[(n * 5) % len(FAMILY)]}-{n}" for n in range(201)
            )
        elif i == 7:
            authors = authors[:1]
        submitted = first + dt.timedelta(days=i * 3, hours=i)
        papers.append(
            PaperRecord(
                arxiv_id=new_style_id(first, 30000 + i),
                version=1,
                title=_title(rng, name, subject, method),
                abstract=rich_abstract(rng, name, subject, method),
                authors=authors,
                categories=_categories(rng, primary),
                primary_category=primary,
                submitted_at=submitted,
                updated_at=submitted,
            )
        )
    return papers


def _categories(rng: random.Random, primary: str) -> tuple[str, ...]:
    extra = CROSS_LISTS.get(primary, ())
    chosen = [c for c in extra if rng.random() < 0.5]
    return (primary, *chosen)


def new_style_id(first: dt.datetime, number: int) -> str:
    """`<yymm>.<nnnnn>` of `first`'s month; past 99,999 papers the ids go on in the next months."""
    months, sequence = divmod(number, 100_000)
    index = first.year * 12 + first.month - 1 + months
    return f"{index // 12 % 100:02d}{index % 12 + 1:02d}.{sequence:05d}"


# -- hostile shapes ----------------------------------------------------------------------------------


def _long_abstract(rng: random.Random) -> str:
    parts: list[str] = []
    size = 0
    step = 0
    while size < LONG_ABSTRACT_CHARS:
        _, subjects, methods, _ = THEMES[step % len(THEMES)]
        sentence = (
            f"In part {step + 1} we apply {rng.choice(methods)} to {rng.choice(subjects)} and observe "
            f"that {rng.choice(FINDINGS)}."
        )
        parts.append(sentence)
        size += len(sentence) + 1
        step += 1
    text = " ".join(parts)[: LONG_ABSTRACT_CHARS - 1].rstrip()
    return text + "." * (LONG_ABSTRACT_CHARS - len(text))


def _long_title() -> str:
    words = (
        "A very long title about sparse mixture of experts routing, quantized inference, speculative "
        "decoding, retrieval augmented generation and tool-use agents, revisited once more"
    )
    text = words
    turn = 2
    while len(text) < LONG_TITLE_CHARS:
        text += f"; part {turn}: {words.lower()}"
        turn += 1
    return text[:LONG_TITLE_CHARS].rstrip()


def hostile_papers(
    first: dt.datetime = DEFAULT_FIRST, *, seed: int = 17
) -> dict[str, tuple[PaperRecord, ...]]:
    """One group of records per breaking shape, by name. New-style ids are `<yymm>.9xxxx` of `first`'s
    month; old-style ids are dated in their own era (arXiv stopped issuing them in March 2007)."""
    rng = random.Random(seed)
    prefix = f"{first:%y%m}"

    def paper(number: int, title: str, abstract: str, **changes: Any) -> PaperRecord:
        submitted = first + dt.timedelta(days=number % 27, hours=number % 23, minutes=number % 59)
        fields: dict[str, Any] = {
            "arxiv_id": f"{prefix}.{90000 + number:05d}",
            "version": 1,
            "title": title,
            "abstract": abstract,
            "authors": _authors(rng),
            "categories": ("cs.LG",),
            "primary_category": "cs.LG",
            "submitted_at": submitted,
            "updated_at": submitted,
        }
        fields.update(changes)
        return PaperRecord(**fields)

    latex = paper(
        1,
        r"Nystr\"om features for $\alpha$-divergences: \textbf{sparse} kernels at 95\% recall~on average",
        r"We bound the error of the Nystr\"om method by $\mathcal{O}(n^{-1/2})$ when $\alpha \in (0, 1]$ "
        r"and the kernel is \emph{smooth}; see Eq.~(3) and \cite{ourprior}. The cost drops by 40\% "
        r"with $k \ll n$ landmarks, and \texttt{code\_release} ships the solver.",
        comment=r"12 pages, 3 figures; v2 fixes Eq.~(3)",
    )
    html = paper(
        2,
        "<b>Bold</b> claims &amp; <i>italic</i> agents: predicting &lt;eos&gt; tokens",
        "<p>We study agents that emit <code>&lt;tool&gt;</code> calls &amp; read the results.</p> "
        'Scores improve from 0.41 to 0.57<sup>2</sup> on our <a href="https://example.org">suite</a>. '
        "Literal markup like <script>alert('x')</script> and & must survive as text.",
    )
    unicode_names = paper(
        3,
        "Tokenizers for 中文, العربية and emoji 🤖: where byte-level vocabularies fail",
        "Byte-level tokenizers split 中文 and العربية text into many pieces; we measure the cost for "
        "Zoë's corpus of 12 scripts and for emoji sequences such as 👩‍🔬 and 🇺🇳.",
        authors=(
            "Zoë Ångström-Łukasiewicz",
            "王 小明",
            "محمد الأمين",
            "Jürgen Quellmalz-Weiß",
            "Nguyễn Thị Thu Hà",
            "Robo 🤖 Author",
            "Øystein Ærø",
        ),
        categories=("cs.CL", "cs.LG"),
        primary_category="cs.CL",
    )
    long_abstract = paper(4, "Ten thousand characters of abstract", _long_abstract(rng))
    cross_list = paper(
        5,
        "Cross-listed: one paper in five categories",
        "A paper about optimisation for language models listed under several archives at once.",
        categories=("cs.CL", "cs.LG", "stat.ML", "math.OC", "cs.AI"),
        primary_category="cs.CL",
    )
    empty_authors = paper(
        6, "A paper with no authors listed", "The author list is empty on purpose.", authors=()
    )
    many_authors = paper(
        11,
        "A model report with two hundred and one authors",
        "Large collaborations list every contributor; renderers must cut the list, not the message.",
        authors=tuple(f"{GIVEN[n % len(GIVEN)]} {FAMILY[(n * 7) % len(FAMILY)]}-{n}" for n in range(201)),
    )
    long_title = paper(7, _long_title(), "A short abstract under a very long title.")
    long_word = paper(
        8,
        "A sequence that is one very long word",
        "We report the sequence " + "ACGT" * (LONG_WORD_CHARS // 4) + " as one token without spaces.",
    )
    rtl_and_marks = paper(
        9,
        "\u202eright-to-left\u202c marks, zero\u200bwidth spaces and Ünïcödé diacritics",
        "Combining marks (e\u0301 versus é), non-breaking\u00a0spaces and the İ of Turkish must index alike.",
    )
    base = paper(10, "Versioned paper, first draft", "The first version of a paper that is revised twice.")
    versions = tuple(
        dataclasses.replace(
            base,
            version=n,
            title=("Versioned paper, first draft", "Versioned paper, revised", "Versioned paper, final")[
                n - 1
            ],
            abstract=f"Version {n} of a paper that is revised twice.",
            updated_at=base.submitted_at + dt.timedelta(days=3 * (n - 1)),
        )
        for n in (1, 2, 3)
    )
    old_hep = PaperRecord(
        arxiv_id="hep-th/9901001",
        version=2,
        title="Old-style identifiers: a string theory placeholder with $D=11$ dimensions",
        abstract="An old-style arXiv identifier names its archive before the slash.",
        authors=("Ingrid Halvorsen",),
        categories=("hep-th", "gr-qc"),
        primary_category="hep-th",
        submitted_at=dt.datetime(1999, 1, 4, 9, 30, tzinfo=dt.UTC),
        updated_at=dt.datetime(1999, 2, 1, 10, 0, tzinfo=dt.UTC),
    )
    old_math = PaperRecord(
        arxiv_id="math.GT/0309136",
        version=1,
        title="Old-style identifiers with a subject class: knots as placeholders",
        abstract="Identifiers like this one carry the subject class between the archive and the slash.",
        authors=("Kalani Quispe", "Rūta Petrauskaitė"),
        categories=("math.GT",),
        primary_category="math.GT",
        submitted_at=dt.datetime(2003, 9, 8, 16, 45, tzinfo=dt.UTC),
        updated_at=dt.datetime(2003, 9, 8, 16, 45, tzinfo=dt.UTC),
    )
    return {
        "latex": (latex,),
        "html": (html,),
        "unicode_names": (unicode_names,),
        "long_abstract": (long_abstract,),
        "cross_list": (cross_list,),
        "empty_authors": (empty_authors,),
        "many_authors": (many_authors,),
        "long_title": (long_title,),
        "long_word": (long_word,),
        "rtl_and_marks": (rtl_and_marks,),
        "versions": versions,
        "old_style": (old_hep, old_math),
    }


def storage_hostile_papers(first: dt.datetime = DEFAULT_FIRST) -> dict[str, PaperRecord]:
    """One record per shape that breaks storage as it is, by name; ids `<yymm>.8xxxx` of `first`'s
    month (except `long_id`). Every record is listed in cs.LG, so a cs.LG harvest meets them all.

    - `long_id`: an old-style id whose archive name makes it 42 characters: skipped.
    - `long_category`: a 39-character primary category: dropped, cs.LG becomes the primary.
    - `huge_title`: a 10,000-character title: cut.
    - `control_chars`: C0 and C1 controls, DEL and NUL in the title, abstract, an author and the
      comment: removed.
    - `lone_surrogates`: \\ud800 in the title, \\udcff (the raw byte 0xFF on a raw feed) in the abstract:
      made U+FFFD on a feed; a JSON line carrying one is skipped as not JSON.
    """
    prefix = f"{first:%y%m}"

    def paper(number: int, title: str, abstract: str, **changes: Any) -> PaperRecord:
        submitted = first + dt.timedelta(days=number % 27, hours=number % 23, minutes=number % 59)
        fields: dict[str, Any] = {
            "arxiv_id": f"{prefix}.{80000 + number:05d}",
            "version": 1,
            "title": title,
            "abstract": abstract,
            "authors": ("Ada Abara", "Søren Szabó"),
            "categories": ("cs.LG",),
            "primary_category": "cs.LG",
            "submitted_at": submitted,
            "updated_at": submitted,
        }
        fields.update(changes)
        return PaperRecord(**fields)

    words = "ten thousand characters of title about sparse experts and quantized inference"
    huge = (words + " ") * (HUGE_TITLE_CHARS // (len(words) + 1) + 1)
    return {
        "long_id": paper(
            1,
            "An identifier wider than its column",
            "The archive name of this old-style id is longer than any arXiv has.",
            arxiv_id=LONG_OLD_STYLE_ID,
        ),
        "long_category": paper(
            2,
            "A category wider than its column",
            "The primary category has 39 characters; the paper is cross-listed in cs.LG.",
            categories=(LONG_CATEGORY, "cs.LG"),
            primary_category=LONG_CATEGORY,
        ),
        "huge_title": paper(
            3, huge[:HUGE_TITLE_CHARS], "A short abstract under a title of ten thousand characters."
        ),
        "control_chars": paper(
            4,
            "Control\x01 characters\x07 in a \x1b[31mtitle\x7f with\x85 C1",
            "An abstract with a NUL\x00 byte, a bell\x07 and an escape\x1b sequence.",
            authors=("Ada\x00 Abara", "Søren\x08 Szabó"),
            comment="9 pages\x0c, 2 figures\x01",
        ),
        "lone_surrogates": paper(
            5,
            "Lone \ud800 surrogates in a title",
            "An abstract with the byte \udcff that is not UTF-8.",
        ),
    }


# -- ordinary papers ---------------------------------------------------------------------------------


def _hostile_twist(rng: random.Random, title: str, abstract: str) -> tuple[str, str]:
    """Sprinkle markup into otherwise ordinary text (about one paper in eight)."""
    roll = rng.randrange(5)
    if roll == 0:
        return title.replace(
            " for ", r" for $\mathbb{R}^d$ "
        ), abstract + r" We set $\lambda=0.1$~and report 3\%."
    if roll == 1:
        return title + " &amp; <b>more</b>", abstract.replace(". ", ". <br/> ", 1)
    if roll == 2:
        return (
            title + r" \textit{revisited}",
            abstract + " Gains hold for Gödel-style and Erdős–Rényi graphs.",
        )
    if roll == 3:
        return f"🤖 {title}", abstract + " 中文 results are in the appendix."
    return title, abstract + " " + abstract  # a doubled abstract, as a bad copy-paste makes


def generate_papers(
    count: int,
    *,
    seed: int = 2026,
    first: dt.datetime = DEFAULT_FIRST,
    days: int = DEFAULT_DAYS,
    hostile_share: float = 0.12,
    start_number: int = 1,
) -> list[PaperRecord]:
    """`count` papers submitted over `days` days from `first`, oldest first, ids `<yymm>.<n>`.

    A `hostile_share` of them carries LaTeX, HTML, emoji or other scripts; some are later versions;
    most are cross-listed. Deterministic for the arguments.
    """
    rng = random.Random(seed)
    span = dt.timedelta(days=days)
    moments = sorted(first + span * rng.random() for _ in range(count))
    papers = []
    for i, submitted in enumerate(moments):
        submitted = submitted.replace(microsecond=0)
        _, subjects, methods, primary = THEMES[rng.randrange(len(THEMES))]
        name = _method_name(rng)
        subject, method = rng.choice(subjects), rng.choice(methods)
        title = _title(rng, name, subject, method)
        abstract = _abstract(rng, name, subject, method)
        if rng.random() < hostile_share:
            title, abstract = _hostile_twist(rng, title, abstract)
        version = rng.choice((1, 1, 1, 1, 2, 3))
        papers.append(
            PaperRecord(
                arxiv_id=new_style_id(first, start_number + i),
                version=version,
                title=title,
                abstract=abstract,
                authors=_authors(rng) if rng.random() > 0.01 else (),
                categories=_categories(rng, primary),
                primary_category=primary,
                submitted_at=submitted,
                updated_at=submitted + dt.timedelta(days=2 * (version - 1)),
                comment=rng.choice((None, "9 pages", "Accepted at a workshop; 14 pages, 6 figures")),
            )
        )
    return papers


def iter_papers(
    count: int, *, seed: int = 2026, batch: int = 10_000, **options: Any
) -> Iterator[PaperRecord]:
    """`generate_papers` in batches, for benches that want millions without holding them all."""
    done = 0
    while done < count:
        size = min(batch, count - done)
        yield from generate_papers(size, seed=seed + done, start_number=1 + done, **options)
        done += size


# -- a corpus for full-text search -------------------------------------------------------------------

# Word families both engines must treat alike (stemming, and prefixes that are not matches).
SEARCH_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("learning", "learned", "learns", "learn"),
    ("model", "models", "modelling", "modeled"),
    ("retrieval", "retrieving", "retrieved"),
    ("plan", "planning", "planner", "plans"),
    ("graph", "graphs", "graphon", "graphormer", "paragraph"),
    ("agent", "agents", "agentic"),
)
SEARCH_PHRASES = (
    "mixture of experts",
    "language models",
    "chain of thought",
    "retrieval augmented generation",
)
# Diacritics, hyphens, numbers and other scripts.
SEARCH_SPECIALS = (
    "Nyström approximation",
    "Gödel numbering",
    "naïve Bayes",
    "Erdős–Rényi graphs",
    "state-of-the-art",
    "tool-use",
    "vision-language",
    "self-supervised",
    "7B parameters",
    "128k context",
    "3D reconstruction",
    "2024 benchmark",
    "中文 语料",
    "العربية",
)
# Words that no query looks for, to pad titles and abstracts to fixed lengths.
NEUTRAL = (
    "amber", "ledger", "harbor", "meadow", "copper", "lantern", "orchard", "pebble", "summit",
    "thicket", "willow", "saffron", "granite", "juniper", "marble", "quartz", "tundra", "velvet",
)  # fmt: skip
# One-token names, so every paper's author field has the same length.
SEARCH_GIVEN = ("Ada", "Chloé", "Émile", "Fatima", "Ingrid", "Jürgen", "Łucja", "Oğuz", "Søren", "Zoë")
SEARCH_FAMILY = ("Abara", "Brønsted", "Dąbrowska", "Gökçe", "Halvorsen", "Kowalczyk", "Szabó", "Yılmaz")
SEARCH_TITLE_TOKENS = 10
SEARCH_ABSTRACT_TOKENS = 40


def _padded(rng: random.Random, words: list[str], size: int) -> str:
    """`words` and neutral words up to `size` tokens (as the full-text indexes count them)."""
    tokens = sum(len(re.findall(r"[^\W_]+", w)) for w in words)
    if tokens > size:
        raise ValueError(f"{words} has more than {size} tokens")
    filler = [rng.choice(NEUTRAL) for _ in range(size - tokens)]
    cut = rng.randint(0, len(filler))
    return " ".join([*filler[:cut], *words, *filler[cut:]])


def search_corpus(
    count: int = 360, *, seed: int = 7, first: dt.datetime = DEFAULT_FIRST, days: int = 30
) -> list[PaperRecord]:
    """Papers built so both engines must order matches alike, and ties are real ties.

    Every title has exactly SEARCH_TITLE_TOKENS tokens, every abstract SEARCH_ABSTRACT_TOKENS and
    every author list two, so bm25 (SQLite) and ts_rank (PostgreSQL) can only differ where the
    shared rules decide: a match in the title or not, the title's length, how often a word occurs;
    papers equal on those tie, three at a time share a submission minute, and the tie-breakers
    (newest, then highest id) must order them. Query words appear in four shapes: a phrase whole in
    the title, its words scattered in the abstract, the phrase in the abstract only, or a family word
    alone (sometimes twice); words that are prefixes of others (graph, graphon, paragraph) and the
    special words (diacritics, hyphens, numbers, CJK, Arabic) ride along.
    """
    rng = random.Random(seed)
    step = dt.timedelta(days=days) / count
    papers = []
    for i in range(count):
        family = SEARCH_FAMILIES[i % len(SEARCH_FAMILIES)]
        word = family[(i // len(SEARCH_FAMILIES)) % len(family)]
        phrase = SEARCH_PHRASES[(i // 3) % len(SEARCH_PHRASES)]
        special = SEARCH_SPECIALS[(i // 2) % len(SEARCH_SPECIALS)]
        kind = (i // 5) % 4
        if kind == 0:  # the phrase whole, in the title
            title = [word.capitalize(), "with", phrase, special]
            abstract = []
        elif kind == 1:  # the phrase's words scattered, in the abstract
            title = [special.capitalize(), word]
            abstract = [" and ".join(reversed(phrase.split())), "compared"]
        elif kind == 2:  # the phrase in the abstract only
            title = []
            abstract = [word, "uses", phrase, "over", special]
        else:  # the family word alone, sometimes twice
            title = [word]
            abstract = [word, "again"] if i % 2 else []
        submitted = (first + step * (i - i % 3)).replace(microsecond=0)  # three papers a minute
        papers.append(
            PaperRecord(
                arxiv_id=new_style_id(first, 20000 + i),
                version=1,
                title=_padded(rng, title, SEARCH_TITLE_TOKENS),
                abstract=_padded(rng, abstract, SEARCH_ABSTRACT_TOKENS) + ".",
                authors=(f"{rng.choice(SEARCH_GIVEN)} {rng.choice(SEARCH_FAMILY)}",),
                categories=("cs.LG",),
                primary_category="cs.LG",
                submitted_at=submitted,
                updated_at=submitted,
            )
        )
    return papers


# -- file and row formats ----------------------------------------------------------------------------


def pool_rows(records: Iterable[PaperRecord]) -> list[dict[str, Any]]:
    """Rows in the benchmark pools' format (`id`, `title`, `abstract`, `authors`, `categories`,
    `primary`, `date`): what `bot.ranking.evaluation.load_pool` reads."""
    return [
        {
            "id": r.arxiv_id,
            "title": r.title,
            "abstract": r.abstract,
            "authors": list(r.authors),
            "categories": list(r.categories),
            "primary": r.primary_category,
            "date": f"{r.submitted_at:%Y-%m-%d}",
        }
        for r in records
    ]


def write_pool(path: Path, records: Iterable[PaperRecord]) -> Path:
    """Write records as a pool file (gzipped when the name ends in .gz)."""
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in pool_rows(records))
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        path.write_text(lines, encoding="utf-8")
    return path


def _rfc2822(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%a, %-d %b %Y %H:%M:%S GMT")


def _parsed_name(name: str) -> list[str]:
    parts = name.rsplit(" ", 1)
    return [parts[-1], parts[0] if len(parts) > 1 else "", ""]


def _author_line(authors: Sequence[str]) -> str:
    """ "A, B and C", as the snapshot writes author lists."""
    if len(authors) < 2:
        return "".join(authors)
    return ", ".join(authors[:-1]) + " and " + authors[-1]


def snapshot_rows(records: Iterable[PaperRecord]) -> list[dict[str, Any]]:
    """Rows in the shape of arXiv's bulk metadata snapshot (one JSON object a line): `categories`
    space-separated with the primary first, `authors` one string, `versions` with RFC 2822 dates.
    Earlier versions are dated a day apart before the record's own version."""
    rows = []
    for r in records:
        created = [r.submitted_at] + [
            r.updated_at - dt.timedelta(days=r.version - n) for n in range(2, r.version + 1)
        ]
        rows.append(
            {
                "id": r.arxiv_id,
                "submitter": r.authors[0] if r.authors else None,
                "authors": _author_line(r.authors),
                "title": r.title,
                "comments": r.comment,
                "journal-ref": r.journal_ref,
                "doi": r.doi,
                "report-no": None,
                "categories": " ".join(dict.fromkeys((r.primary_category, *r.categories))),
                "license": None,
                "abstract": r.abstract,
                "versions": [{"version": f"v{n}", "created": _rfc2822(c)} for n, c in enumerate(created, 1)],
                "update_date": f"{r.updated_at:%Y-%m-%d}",
                "authors_parsed": [_parsed_name(a) for a in r.authors],
            }
        )
    return rows


def paper_rows(records: Sequence[PaperRecord]) -> list[dict[str, Any]]:
    """Rows for `insert(Paper.__table__)`, exactly as the harvester's upsert would write them."""
    return [paper_row(r, r.updated_at) for r in records]
