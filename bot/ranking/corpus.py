"""A month of papers as token arrays and sparse count matrices, built in one vectorised pass.

Every scoring component reads this one structure, so each paper is tokenised exactly once. Tokens are
lower-cased runs of letters/digits (hyphens split words, so "fine-tuning" matches "fine tuning") with a
light plural fold ("agents" → "agent", "policies" → "policy") applied alike to papers and to topic
phrases. The flat token array keeps word order, which is what phrase matching needs; the count matrices
(papers × vocabulary) feed BM25 for single words and the tf-idf models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse

# Bytes → lower-case word bytes or a space. Bytes >= 0x80 (UTF-8 letters) stay part of words; the two
# marker bytes stay themselves so that they become tokens of their own.
_TITLE_END = b"\x00"
_DOC_END = b"\x01"
_TABLE = bytes(
    (c if c in (0, 1) else (bytes([c]).lower()[0] if bytes([c]).isalnum() or c >= 0x80 else 0x20))
    for c in range(256)
)
SEPARATOR = -1

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def fold(word: str) -> str:
    """Singularise a lower-case word by rule; applied to papers and phrases alike, so it need not be
    linguistically perfect, only consistent."""
    if len(word) <= 3 or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1]


def _split(data: bytes) -> list[bytes]:
    return data.translate(_TABLE).split()


def words(text: str) -> list[str]:
    """The folded words of `text`, in order (the same tokenisation papers get)."""
    return [
        fold(w.decode("utf-8", "replace"))
        for w in _split(text.encode("utf-8", "replace"))
        if w not in (_TITLE_END, _DOC_END)
    ]


@dataclass(frozen=True)
class Corpus:
    """Tokens and counts of `n_docs` papers (title then abstract each)."""

    n_docs: int
    vocabulary: dict[str, int]  # folded word -> column
    tokens: IntArray  # flat word ids in reading order; SEPARATOR between title/abstract and papers
    doc_start: IntArray  # index in `tokens` where each paper's title starts
    title_end: IntArray  # index in `tokens` of the separator after each title
    counts: sparse.csr_matrix  # papers × words: occurrences in title + abstract
    title_counts: sparse.csc_matrix  # papers × words: occurrences in the title only (by column)
    lengths: FloatArray  # words per paper
    _by_column: dict[str, sparse.csc_matrix] = field(default_factory=dict, repr=False)
    _positions: dict[int, IntArray] = field(default_factory=dict, repr=False)

    def _column(self, column: int) -> FloatArray:
        if "counts" not in self._by_column:
            self._by_column["counts"] = self.counts.tocsc()
        column_counts: FloatArray = self._by_column["counts"][:, column].toarray().ravel().astype(np.float64)
        return column_counts

    def _starts(self, word_id: int) -> IntArray:
        """Token positions of a word (cached: many phrases share a first word)."""
        if word_id not in self._positions:
            self._positions[word_id] = np.flatnonzero(self.tokens == word_id)
        return self._positions[word_id]

    def phrase_ids(self, phrase: str) -> list[int] | None:
        """Word ids of `phrase`, or None when some word never occurs in the corpus (so no match)."""
        ids = [self.vocabulary.get(w) for w in words(phrase)]
        if not ids or any(i is None for i in ids):
            return None
        return [i for i in ids if i is not None]

    def phrase_counts(self, phrase: str) -> tuple[FloatArray, FloatArray]:
        """Occurrences of `phrase` per paper: (anywhere, in the title). Multi-word phrases must appear
        as consecutive words, so "reinforcement learning" does not match "learning ... reinforcement"."""
        zeros = np.zeros(self.n_docs)
        ids = self.phrase_ids(phrase)
        if ids is None:
            return zeros, zeros.copy()
        if len(ids) == 1:
            column = ids[0]
            return (
                self._column(column),
                self.title_counts[:, column].toarray().ravel().astype(np.float64),
            )
        starts = self._starts(ids[0])
        starts = starts[starts < len(self.tokens) - len(ids) + 1]
        for offset, word_id in enumerate(ids[1:], start=1):
            if starts.size == 0:
                break
            starts = starts[self.tokens[starts + offset] == word_id]
        if starts.size == 0:
            return zeros, zeros.copy()
        doc = np.searchsorted(self.doc_start, starts, side="right") - 1
        in_title = starts < self.title_end[doc]
        anywhere = np.bincount(doc, minlength=self.n_docs).astype(np.float64)
        title = np.bincount(doc[in_title], minlength=self.n_docs).astype(np.float64)
        return anywhere, title


def _count_matrix(doc_sizes: IntArray, word_ids: IntArray, n_columns: int) -> sparse.csr_matrix:
    """papers × words counts from word ids already grouped by paper (reading order). Building the
    CSR arrays directly and transposing twice (each an O(nnz) counting sort) is several times cheaper
    than COO → CSR conversion with a comparison sort of the indices."""
    indptr = np.zeros(len(doc_sizes) + 1, dtype=np.int64)
    np.cumsum(doc_sizes, out=indptr[1:])
    raw = sparse.csr_matrix(
        (np.ones(len(word_ids), dtype=np.float64), word_ids, indptr),
        shape=(len(doc_sizes), n_columns),
    )
    by_column = raw.tocsc()  # sorted row indices per column, duplicates kept
    by_column.sum_duplicates()  # indices already sorted: a linear merge
    return by_column.tocsr()


def build_corpus(titles: Sequence[str], abstracts: Sequence[str]) -> Corpus:
    """Tokenise all papers at once: one bytes split over the joined text, one dict pass for ids."""
    n_docs = len(titles)
    if any("\x00" in text or "\x01" in text for text in ("".join(titles), "".join(abstracts))):
        # Our two separators must only come from us: blank any in the papers' own text.
        blank = str.maketrans({"\x00": " ", "\x01": " "})
        titles = [t.translate(blank) for t in titles]
        abstracts = [a.translate(blank) for a in abstracts]
    joined = "".join(
        f"{title} \x00 {abstract} \x01 " for title, abstract in zip(titles, abstracts, strict=True)
    ).encode("utf-8", "replace")
    # Per-token Python work is the floor here, so keep it to two C-level passes: dict.fromkeys for
    # the vocabulary, map(getitem) for the ids (a generator with setdefault is twice as slow).
    raw_tokens = _split(joined)
    del joined
    first_seen = dict.fromkeys((_TITLE_END, _DOC_END))
    first_seen.update(dict.fromkeys(raw_tokens))
    raw_words = list(first_seen)
    raw_vocabulary = {word: index for index, word in enumerate(raw_words)}
    raw_ids = np.fromiter(map(raw_vocabulary.__getitem__, raw_tokens), dtype=np.int32, count=len(raw_tokens))
    del raw_tokens, raw_vocabulary
    # Fold the (much smaller) vocabulary rather than every token, then remap ids with one lookup.
    vocabulary: dict[str, int] = {}
    remap = np.empty(len(raw_words), dtype=np.int64)
    remap[0] = remap[1] = SEPARATOR
    for raw_id, word in enumerate(raw_words[2:], start=2):
        remap[raw_id] = vocabulary.setdefault(fold(word.decode("utf-8", "replace")), len(vocabulary))
    tokens = remap[raw_ids] if raw_ids.size else np.empty(0, dtype=np.int64)

    doc_ends = np.flatnonzero(raw_ids == 1)
    title_ends = np.flatnonzero(raw_ids == 0)
    del raw_ids
    doc_start = np.concatenate(([0], doc_ends[:-1] + 1)).astype(np.int64) if n_docs else doc_ends
    n_columns = max(len(vocabulary), 1)
    # Each paper is: title words, title separator, abstract words, paper separator.
    counts = _count_matrix(doc_ends - doc_start - 1, tokens[tokens != SEPARATOR], n_columns)
    title_sizes = title_ends - doc_start
    title_tokens = np.empty(int(title_sizes.sum()), dtype=np.int64)
    if title_tokens.size:
        # Positions of every title word: each title's start repeated, plus 0..size-1 within it.
        offsets = np.arange(title_tokens.size) - np.repeat(np.cumsum(title_sizes) - title_sizes, title_sizes)
        title_tokens = tokens[np.repeat(doc_start, title_sizes) + offsets]
    title_counts = _count_matrix(title_sizes, title_tokens, n_columns)
    lengths = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    return Corpus(
        n_docs=n_docs,
        vocabulary=vocabulary,
        tokens=tokens,
        doc_start=doc_start,
        title_end=title_ends.astype(np.int64),
        counts=counts,
        title_counts=title_counts.tocsc(),
        lengths=lengths,
    )


def tfidf(corpus: Corpus, *, max_df: float = 0.5) -> sparse.csr_matrix:
    """L2-normalised sublinear tf-idf rows (words in more than `max_df` of papers dropped), the usual
    representation for linear text classifiers such as arxiv-sanity's SVM."""
    counts = corpus.counts
    n_docs = max(corpus.n_docs, 1)
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    idf[df > max_df * n_docs] = 0.0
    idf[df < 2] = 0.0  # a word seen once cannot relate two papers
    matrix = counts.copy()
    matrix.data = (1.0 + np.log(matrix.data)) * idf[matrix.indices]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)
