"""Emerging terms: words and 2–3-word phrases whose share of papers grew most in a month.

For the month and the `lookback` months before it, we count in how many papers (title + abstract)
each term occurs, and rank terms by the growth of their share of papers:

    growth = (n_month / N_month) / ((n_before + 1) / (N_before + 1))

(the +1 keeps a term never seen before finite). A term needs at least `min_support` papers this month
(default: 0.1% of the month, at least 5) so that typos and one-off names cannot win. Phrases never span
punctuation or stop words ("of", "the", …) and academic boilerplate ("propose", "state-of-the-art")
is ignored entirely. Of two overlapping phrases ("video diffusion", "video diffusion models") only the
better-ranked one is kept.

Speed: tokenising is done in large chunks with C-level string operations, n-grams are integer codes
built with numpy, and document frequencies come from a sparse matrix — no Python loop per n-gram.
Periods larger than `sample_size` papers (10,000 by default: about 2 s for a 25,000-paper month
against three such months on 2 cores) are sampled deterministically (every k-th of the period's papers
in id order) and their counts scaled; the view says so.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.archive._months import month_start, shift_month
from bot.archive.views import EmergingTerm, ExamplePaper, TrendingView
from bot.db.models import Paper
from bot.textquery import STOP_WORDS

if TYPE_CHECKING:
    # numpy is imported by the functions that compute: the archive's other use cases don't load it.
    import numpy as np
    from numpy.typing import NDArray

DEFAULT_LOOKBACK = 3
DEFAULT_LIMIT = 15
DEFAULT_SAMPLE_SIZE = 10_000
MIN_SUPPORT_FLOOR = 5
MIN_SUPPORT_SHARE = 0.001
EXAMPLES_PER_TERM = 3
_CHUNK_DOCS = 2_000
_LOAD_BATCH = 5_000  # ids per IN list when loading a sample
_MAX_VOCABULARY = 2_000_000  # keeps trigram codes (V³) inside int64

ENGLISH_STOP_WORDS = frozenset(
    """
    about above after again against all also although am among amongst any because been before being
    below between both can cannot could did do does doing done down during each either else even every
    few further had having he her here hers him his how however i if including itself just less like
    many may me might more most much must my no nor not now off once one only other otherwise ours out
    over own per rather same several she should since so some such than then there thereby therefore
    these they those though through thus too two under until up upon us very what when where whether
    which while who whom whose why within without would yet you your e g etc vs
    """.split()  # noqa: SIM905  (a word list reads better as text)
)

# Words every abstract uses: they say nothing about what is trending.
ACADEMIC_BOILERPLATE = frozenset(
    """
    paper papers propose proposed proposes proposing present presents presented introduce introduces
    introduced method methods methodology approach approaches result results show shows shown showing
    demonstrate demonstrates demonstrated experiment experiments experimental novel state art
    state-of-the-art sota outperform outperforms outperforming existing work works study studies
    framework frameworks task tasks performance problem problems significantly significant various
    different extensive effective effectively efficient improve improves improved improving improvement
    address achieve achieves achieving new first key well recent recently however furthermore moreover
    use used uses leverage leverages leveraging provide provides given able code available https http
    github com www model models data dataset datasets learning based training trained
    """.split()  # noqa: SIM905  (a word list reads better as text)
)

IGNORED_WORDS = STOP_WORDS | ENGLISH_STOP_WORDS | ACADEMIC_BOILERPLATE
_BREAK = "\x01"
_DOC = "\x02"
_PUNCTUATION = re.compile(r"[^\w\s\x01\x02-]+|_+")
_VALID_TOKEN = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class _Doc:
    paper_id: int
    arxiv_id: str
    title: str
    abs_url: str
    text: str


def _is_term_word(word: str) -> bool:
    # Cheapest tests first; a valid token is [a-z0-9-], so it holds a letter unless all digits.
    return (
        len(word) <= 40
        and word not in IGNORED_WORDS
        and bool(_VALID_TOKEN.match(word))
        and not word.replace("-", "").isdigit()
    )


@functools.cache
def _punctuation_table() -> NDArray[np.bool_]:
    """For every code point below U+10000: does `_PUNCTUATION` match it? (Built once, ~30 ms.)"""
    import numpy as np

    return np.fromiter(
        (_PUNCTUATION.fullmatch(chr(code)) is not None for code in range(0x10000)), dtype=bool, count=0x10000
    )


def _break_punctuation(text: str) -> str:
    """`text` with every character `_PUNCTUATION` matches turned into a break token.

    The same tokens as `_PUNCTUATION.sub(f" {_BREAK} ", text).split()` except that a run of
    punctuation gives one break per character (breaks never join n-grams, so the terms are the
    same), about twenty times faster: characters are classified in one numpy lookup.
    """
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
    astral = codes > 0xFFFF
    punctuation = _punctuation_table()[np.where(astral, 0, codes)]
    for index in np.flatnonzero(astral):  # rare (emoji, mathematical letters): ask the pattern
        punctuation[index] = _PUNCTUATION.fullmatch(chr(codes[index])) is not None
    codes[punctuation] = ord(_BREAK)
    return codes.tobytes().decode("utf-32-le", "surrogatepass").replace(_BREAK, f" {_BREAK} ")


def _term_codes(
    texts: Sequence[str],
) -> tuple[NDArray[np.int64], NDArray[np.int64], list[str], int]:
    """(n-gram code, document index) for every unigram/bigram/trigram occurrence, and the vocabulary.

    Codes: unigram `a`; bigram `V + a·V + b`; trigram `V + V² + (a·V + b)·V + c`.
    """
    import numpy as np

    vocabulary: dict[str, int] = {_BREAK: 0, _DOC: 1}
    chunks: list[NDArray[np.int32]] = []
    for start in range(0, len(texts), _CHUNK_DOCS):
        chunk = f" {_BREAK} {_DOC} ".join(texts[start : start + _CHUNK_DOCS]).lower()
        words = _break_punctuation(chunk).split()
        for word in dict.fromkeys(words):
            if word not in vocabulary:
                vocabulary[word] = len(vocabulary)
        chunks.append(np.fromiter(map(vocabulary.__getitem__, words), dtype=np.int32, count=len(words)))
        chunks.append(np.array([0, 1], dtype=np.int32))  # chunk boundary = document boundary
    words_list = list(vocabulary)
    size = len(words_list)
    if not chunks or size > _MAX_VOCABULARY:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), words_list, size
    ids = np.concatenate(chunks).astype(np.int64)
    doc_index = np.cumsum(ids == 1) - (ids == 1)  # a doc separator belongs to the document before it
    usable = np.fromiter((_is_term_word(w) for w in words_list), dtype=bool, count=size)
    ok1 = usable[ids]
    ok2 = ok1[1:] & ok1[:-1]
    ok3 = ok2[1:] & ok1[:-2]
    codes = np.concatenate(
        [
            ids[ok1],
            size + ids[:-1][ok2] * size + ids[1:][ok2],
            size + size * size + (ids[:-2][ok3] * size + ids[1:-1][ok3]) * size + ids[2:][ok3],
        ]
    )
    documents = np.concatenate([doc_index[ok1], doc_index[1:][ok2], doc_index[2:][ok3]])
    return codes, documents, words_list, size


def _decode(code: int, words: list[str], size: int) -> str:
    if code < size:
        return words[code]
    code -= size
    if code < size * size:
        return f"{words[code // size]} {words[code % size]}"
    code -= size * size
    return f"{words[code // (size * size)]} {words[(code // size) % size]} {words[code % size]}"


def _load(
    session: Session, since_month: str, until_month: str, sample_size: int
) -> tuple[list[_Doc], int, bool]:
    """Papers submitted in [since_month, until_month), newest first; sampled when there are too many.

    The sample is every k-th paper in id order, chosen from the window's ids: evenly spread over the
    period whatever the ids are (`id % k` would pick one month only where ids take turns by month).
    """
    since, until = month_start(since_month), month_start(until_month)
    window = (Paper.submitted_at >= since, Paper.submitted_at < until)
    # Through the connection: the ORM's per-row bookkeeping would cost more than the reading.
    connection = session.connection()
    ids = sorted(connection.execute(select(Paper.id).where(*window)).scalars())
    total = len(ids)
    stride = max(1, math.ceil(total / sample_size)) if sample_size > 0 else 1
    chosen = ids[::stride]
    columns = (Paper.id, Paper.arxiv_id, Paper.title, Paper.abstract, Paper.abs_url, Paper.submitted_at)
    rows: list[Any] = []  # (id, arxiv_id, title, abstract, abs_url, submitted_at)
    for start in range(0, len(chosen), _LOAD_BATCH):
        batch = chosen[start : start + _LOAD_BATCH]
        rows += connection.execute(select(*columns).where(Paper.id.in_(batch))).all()
    rows.sort(key=lambda row: (row[5], row[0]), reverse=True)
    docs = [
        _Doc(int(paper_id), arxiv_id, title, abs_url, f"{title} {_BREAK} {abstract}")
        for paper_id, arxiv_id, title, abstract, abs_url, _ in rows
    ]
    return docs, total, stride > 1


def emerging_terms(
    session: Session,
    month: str,
    *,
    lookback: int = DEFAULT_LOOKBACK,
    limit: int = DEFAULT_LIMIT,
    min_support: int | None = None,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
) -> TrendingView:
    """The terms that grew most in `month` ("YYYY-MM") against the `lookback` months before it."""
    import numpy as np
    from scipy import sparse

    lookback = min(max(int(lookback), 1), 24)
    limit = min(max(int(limit), 1), 100)
    current, n_now, sampled_now = _load(session, month, shift_month(month, 1), sample_size)
    previous, n_before, sampled_before = _load(session, shift_month(month, -lookback), month, sample_size)
    sampled = sampled_now or sampled_before
    base = TrendingView(
        month=month, lookback=lookback, papers=n_now, previous_papers=n_before, terms=(), sampled=sampled
    )
    if not current:
        return _with_message(base, f"No papers in {month}.")
    if not previous:
        return _with_message(base, f"No papers in the {lookback} months before {month} to compare with.")

    codes, documents, words, size = _term_codes([d.text for d in current] + [d.text for d in previous])
    if codes.size == 0:
        return _with_message(base, "Not enough text to find terms.")
    unique_codes, columns = np.unique(codes, return_inverse=True)
    n_docs = len(current) + len(previous)
    matrix = sparse.csr_matrix(
        (np.ones(columns.size, dtype=np.int32), (documents, columns)),
        shape=(n_docs, unique_codes.size),
    )
    matrix.sum_duplicates()  # one entry per (paper, term): counts papers, not occurrences
    now_matrix = matrix[: len(current)]
    df_now = np.bincount(now_matrix.indices, minlength=unique_codes.size).astype(np.float64)
    df_before = np.bincount(matrix[len(current) :].indices, minlength=unique_codes.size).astype(np.float64)
    scale_now = n_now / len(current)
    scale_before = n_before / len(previous)
    df_now *= scale_now
    df_before *= scale_before

    support = (
        min_support
        if min_support is not None
        else max(MIN_SUPPORT_FLOOR, math.ceil(MIN_SUPPORT_SHARE * n_now))
    )
    candidates = np.flatnonzero(df_now >= support)
    if candidates.size == 0:
        return _with_message(base, f"No term occurs in at least {support} papers of {month}.")
    share_now = df_now[candidates] / n_now
    share_before = (df_before[candidates] + 1.0) / (n_before + 1.0)
    growth = share_now / share_before
    order = candidates[np.lexsort((-df_now[candidates], -growth))]

    chosen: list[tuple[int, str]] = []
    for column in order[: max(limit * 20, 200)]:
        term = _decode(int(unique_codes[column]), words, size)
        padded = f" {term} "
        if any(padded in f" {other} " or f" {other} " in padded for _, other in chosen):
            continue  # an overlapping phrase already represents this trend
        chosen.append((int(column), term))
        if len(chosen) >= limit:
            break

    columns_csc = now_matrix[:, [c for c, _ in chosen]].tocsc()
    terms: list[EmergingTerm] = []
    for position, (column, term) in enumerate(chosen):
        rows = columns_csc.indices[columns_csc.indptr[position] : columns_csc.indptr[position + 1]]
        examples = tuple(
            ExamplePaper(current[r].arxiv_id, current[r].title, current[r].abs_url)
            for r in sorted(rows)[:EXAMPLES_PER_TERM]
        )
        terms.append(
            EmergingTerm(
                term=term,
                count=round(df_now[column]),
                previous_monthly=round(df_before[column] / lookback, 1),
                share=float(df_now[column] / n_now),
                previous_share=float(df_before[column] / n_before) if n_before else 0.0,
                growth=round(
                    float(df_now[column] / n_now / ((df_before[column] + 1.0) / (n_before + 1.0))), 2
                ),
                examples=examples,
            )
        )
    return TrendingView(
        month=month,
        lookback=lookback,
        papers=n_now,
        previous_papers=n_before,
        terms=tuple(terms),
        sampled=sampled,
    )


def _with_message(view: TrendingView, message: str) -> TrendingView:
    return TrendingView(
        month=view.month,
        lookback=view.lookback,
        papers=view.papers,
        previous_papers=view.previous_papers,
        terms=(),
        message=message,
        sampled=view.sampled,
    )
