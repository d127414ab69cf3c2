"""A month of papers as token arrays and sparse count matrices, built in one vectorised pass.

Every scoring component reads this one structure, so each paper is tokenised exactly once. Tokens are
lower-cased runs of letters/digits (hyphens split words, so "fine-tuning" matches "fine tuning") with a
light plural fold ("agents" → "agent", "policies" → "policy") applied alike to papers and to topic
phrases. The flat token array keeps word order, which is what phrase matching needs, and an inverted
index (each word's token positions) lets a phrase start from its first word's occurrences instead of
a scan of the month; the count matrices (papers × vocabulary) feed BM25 for single words and the
tf-idf models. A month is millions of tokens, so no step does Python work for every token: they are
numbered by hashing their bytes in numpy (`_number_tokens`), and only the distinct words (tens of
thousands) are decoded and folded in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
Int32Array = npt.NDArray[np.int32]
IndexArray = npt.NDArray[np.integer[Any]]  # int32 or int64, as scipy chooses for sparse indices
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


# Tokens are numbered without a Python object per token (see `_number_tokens`): each token's bytes
# are read as two little-endian 64-bit keys, which are exact for tokens of up to 16 bytes because no
# byte of a word is 0 (the only 0 byte is the lone title separator), so the zero padding after a short
# word cannot be mistaken for its bytes. Longer tokens (rare: URLs, chemical names) go through a dict.
_KEY_BYTES = 8
_PADDING = b" " * (2 * _KEY_BYTES)  # after the text: room to read 16 bytes from its last token
_KEY_MASKS = np.array(
    [(1 << (8 * size)) - 1 for size in range(_KEY_BYTES)] + [(1 << 64) - 1], dtype=np.uint64
)
_LONG_KEY = np.uint64(0x0100)  # a zero byte before a non-zero one: no short token has this key
_HASH_MULTIPLIERS = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
_MAX_TABLE_BITS = 22  # 4M slots (16 MB): ~1% of a 25k-paper month's words share a slot


def _number_tokens(data: bytes, *, table_bits: int = _MAX_TABLE_BITS) -> tuple[Int32Array, list[bytes]]:
    """Number the tokens of `data` as `_split` cuts them: (id per token, the distinct tokens by id).

    Ids are 0 for the title separator, 1 for the paper separator and then 2, 3, … in order of first
    occurrence, exactly what a dict filled token by token gives, but from numpy passes over the bytes
    instead of a bytes object, a hash and a dict lookup per token (which were most of a month's
    ranking time). Each token's two keys are hashed into a table that keeps, per slot, the first token
    that landed there; a token whose keys equal that first token's is the same word (and that token is
    its first occurrence). The few that differ (two words sharing a slot) or are longer than 16 bytes
    are numbered with a dict, so the result never depends on the hash; the tests force collisions
    with tiny tables (`table_bits`).

    `build_corpus` passes text that already starts with a space and ends with `_PADDING`, which saves
    copying it; any other text is framed here. (Processing the text a few MB at a time saved page
    faults but cost more in per-chunk work than it saved: measured, one pass is faster.)
    """
    if not (data.startswith(b" ") and data.endswith(_PADDING)):
        data = b" " + data + _PADDING
    text = data.translate(_TABLE)
    del data
    # Token boundaries: where "is a word byte" flips, alternately a start and an end (exclusive).
    is_word = np.frombuffer(text, dtype=np.uint8) != 0x20
    flipped = np.zeros(len(text), dtype=bool)
    np.not_equal(is_word[1:], is_word[:-1], out=flipped[1:])
    del is_word
    flips = np.flatnonzero(flipped)
    del flipped
    starts, ends = flips[0::2], flips[1::2]
    n_tokens = starts.size
    lengths = ends - starts
    long = lengths > 2 * _KEY_BYTES

    # Every byte offset of `text` viewed as the start of an (unaligned) little-endian uint64.
    at = np.ndarray(shape=(len(text) - 2 * _KEY_BYTES + 1,), dtype="<u8", buffer=text, strides=(1,))
    head = at[starts]
    head &= _KEY_MASKS[np.minimum(lengths, _KEY_BYTES)]
    head[long] = _LONG_KEY
    tail = np.zeros(n_tokens, dtype=np.uint64)
    medium = np.flatnonzero((lengths > _KEY_BYTES) & ~long)
    tail[medium] = at[starts[medium] + _KEY_BYTES] & _KEY_MASKS[lengths[medium] - _KEY_BYTES]
    del at, medium

    index = np.int32 if n_tokens < np.iinfo(np.int32).max else np.int64
    bits = max(1, min(table_bits, int(n_tokens).bit_length()))
    slot = tail * _HASH_MULTIPLIERS[1]
    slot ^= head
    slot *= _HASH_MULTIPLIERS[0]
    slot >>= np.uint64(64 - bits)  # the top bits, the best mixed
    token = np.arange(n_tokens, dtype=index)
    table = np.full(1 << bits, n_tokens, dtype=index)
    np.minimum.at(table, slot, token)  # the first token in each slot
    first = table[slot]  # each token's word's first occurrence, once checked below
    del table, slot
    unsure = np.flatnonzero((head[first] != head) | (tail[first] != tail) | long)
    seen: dict[bytes, int] = {}
    for i, start, end in zip(unsure.tolist(), starts[unsure].tolist(), ends[unsure].tolist(), strict=True):
        first[i] = seen.setdefault(text[start:end], i)  # ascending i: the first occurrence wins
    del unsure, seen, long, tail

    is_first = first == token
    del token
    separator = (lengths == 1) & (head <= 1)  # b"\x00" and b"\x01", whose keys are 0 and 1
    is_first[separator] = False
    ids: IndexArray = np.cumsum(is_first, dtype=index)
    ids += 1  # the first word is 2
    ids = ids[first]
    ids[separator] = head[separator]
    new = np.flatnonzero(is_first)
    distinct = [text[start:end] for start, end in zip(starts[new].tolist(), ends[new].tolist(), strict=True)]
    return ids.astype(np.int32, copy=False), [_TITLE_END, _DOC_END, *distinct]


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
    # The same counts by column, for single-word phrases: built with `counts`, so never converted.
    counts_by_word: sparse.csc_matrix
    # Inverted index: `positions[word_start[w]:word_start[w + 1]]` are the token positions of word w,
    # ascending. Phrase matching starts from these instead of scanning all tokens once per phrase.
    word_start: IntArray
    positions: IndexArray

    def _column(self, column: int) -> FloatArray:
        return _dense_column(self.counts_by_word, column, self.n_docs)

    def _starts(self, word_id: int) -> IndexArray:
        """Token positions of a word, ascending."""
        return self.positions[self.word_start[word_id] : self.word_start[word_id + 1]]

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
            return self._column(column), _dense_column(self.title_counts, column, self.n_docs)
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


def _dense_column(by_column: sparse.csc_matrix, column: int, n_rows: int) -> FloatArray:
    """One column of a canonical CSC matrix as a dense vector, read straight from its arrays (sparse
    slicing builds a whole new matrix per call, which dominated single-word phrase lookups)."""
    dense = np.zeros(n_rows)
    span = slice(by_column.indptr[column], by_column.indptr[column + 1])
    dense[by_column.indices[span]] = by_column.data[span]
    return dense


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


def _index_words(
    columns: Int32Array, doc_start: IntArray, n_columns: int
) -> tuple[IntArray, IndexArray, sparse.csc_matrix]:
    """The inverted index (`word_start`, `positions`) and the papers × words counts by column, from
    one counting sort of the token positions by word.

    `columns` is every token's word id, separators given the extra id `n_columns`. A CSR matrix with
    one row per token, converted to CSC, is that sort: O(tokens + words) and stable, so each word's
    positions (the row numbers) come out ascending; the matrix's values are each token's paper, so
    they come out alongside, ascending too. A paper's count of a word is then the length of a run of
    equal papers within the word's column. The result equals `_count_matrix` over the same tokens
    (same integer counts, sorted indices), which tests/test_ranking_speed_equivalence.py checks."""
    n_docs, n_tokens = len(doc_start), len(columns)
    paper_of_token = np.repeat(np.arange(n_docs, dtype=np.int32), np.diff(doc_start, append=n_tokens))
    row = np.int32 if n_tokens < np.iinfo(np.int32).max else np.int64
    one_per_token = sparse.csr_matrix(
        (paper_of_token, columns, np.arange(n_tokens + 1, dtype=row)),
        shape=(n_tokens, n_columns + 1),
    )
    del paper_of_token
    by_word = one_per_token.tocsc()
    del one_per_token
    word_start = by_word.indptr[: n_columns + 1].astype(np.int64)  # the separators' column dropped
    n_words = int(word_start[-1])
    positions: IndexArray = by_word.indices[:n_words]
    papers = by_word.data[:n_words]
    new_run = np.ones(n_words, dtype=bool)
    if n_words:
        np.not_equal(papers[1:], papers[:-1], out=new_run[1:])
        new_run[word_start[:-1][word_start[:-1] < n_words]] = True  # a word's first paper
    run_start = np.flatnonzero(new_run)
    del new_run
    run_length = np.diff(run_start, append=n_words).astype(np.float64)
    counts_by_word = sparse.csc_matrix(
        (run_length, papers[run_start], np.searchsorted(run_start, word_start)),
        shape=(n_docs, n_columns),
    )
    return word_start, positions, counts_by_word


def _framed(titles: Sequence[str], abstracts: Sequence[str]) -> bytes:
    """b" title \\x00 abstract \\x01" for each paper, then `_PADDING`: the framing `_number_tokens`
    needs, so it need not copy the text. Each text is encoded on its own (a plain copy for ASCII)
    and the bytes joined: one joined str would take 2–4 bytes a character as soon as one paper has a
    character beyond Latin-1, and cost twice as long to build and encode."""
    if len(titles) != len(abstracts):
        raise ValueError(f"{len(titles)} titles but {len(abstracts)} abstracts")
    n = len(titles)
    parts = [b" \x00 "] * (4 * n + 1)  # per paper: opening, title, " \x00 ", abstract
    parts[0 : 4 * n : 4] = [b" \x01 "] * n  # each paper's opening closes the one before
    parts[1 : 4 * n : 4] = [t.encode("utf-8", "replace") for t in titles]
    parts[3 : 4 * n : 4] = [a.encode("utf-8", "replace") for a in abstracts]
    parts[0] = b" "
    parts[-1] = (b" \x01" if n else b" ") + _PADDING
    return b"".join(parts)


def build_corpus(titles: Sequence[str], abstracts: Sequence[str]) -> Corpus:
    """Tokenise all papers at once: the joined text is numbered token by token in numpy passes
    (`_number_tokens`), and only the distinct words are folded in Python."""
    n_docs = len(titles)
    joined = _framed(titles, abstracts)
    if joined.count(_TITLE_END) != n_docs or joined.count(_DOC_END) != n_docs:
        # Our two separators must only come from us: blank any in the papers' own text. (In UTF-8
        # the bytes 0 and 1 only ever encode these two characters.)
        blank = str.maketrans({"\x00": " ", "\x01": " "})
        joined = _framed([t.translate(blank) for t in titles], [a.translate(blank) for a in abstracts])
    raw_ids, raw_words = _number_tokens(joined)
    del joined
    # Fold the (much smaller) vocabulary rather than every token, then remap ids with one lookup.
    vocabulary: dict[str, int] = {}
    remap = np.empty(len(raw_words), dtype=np.int64)
    remap[0] = remap[1] = SEPARATOR
    for raw_id, word in enumerate(raw_words[2:], start=2):
        remap[raw_id] = vocabulary.setdefault(fold(word.decode("utf-8", "replace")), len(vocabulary))
    tokens = remap[raw_ids] if raw_ids.size else np.empty(0, dtype=np.int64)
    n_columns = max(len(vocabulary), 1)
    remap[:2] = n_columns  # for the index: separators as one extra word, dropped there
    columns = remap.astype(np.int32)[raw_ids]

    doc_ends = np.flatnonzero(raw_ids == 1)
    title_ends = np.flatnonzero(raw_ids == 0)
    del raw_ids
    doc_start = np.concatenate(([0], doc_ends[:-1] + 1)).astype(np.int64) if n_docs else doc_ends
    word_start, positions, counts_by_word = _index_words(columns, doc_start, n_columns)
    del columns
    counts = counts_by_word.tocsr()
    # Each paper is: title words, title separator, abstract words, paper separator.
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
        counts_by_word=counts_by_word,
        word_start=word_start,
        positions=positions,
    )


def extend_corpus(base: Corpus, titles: Sequence[str], abstracts: Sequence[str]) -> Corpus:
    """`build_corpus` of `base`'s papers followed by these, without tokenising `base` again.

    A month's corpus is shared by every audience's ranking (`rank.prepare_month`); each ranking
    appends its own few documents (topic texts, example papers from other months). The result equals
    `build_corpus` over all the texts field for field (tests/test_ranking_shared.py checks it): words
    are numbered by first occurrence, so `base`'s words keep their columns and the new words follow in
    the order they first occur in the new papers; the counts are stacked, and each word's token
    positions are the base's followed by the new papers' (shifted past the base's tokens)."""
    if not titles:
        return base
    if not base.vocabulary:
        # The base papers have no words at all: their texts count as empty.
        return build_corpus([*[""] * base.n_docs, *titles], [*[""] * base.n_docs, *abstracts])
    extra = build_corpus(titles, abstracts)
    vocabulary = dict(base.vocabulary)
    remap = np.fromiter(
        (vocabulary.setdefault(word, len(vocabulary)) for word in extra.vocabulary),
        dtype=np.int64,
        count=len(extra.vocabulary),
    )
    n_base, n_words = len(base.vocabulary), len(vocabulary)
    offset = len(base.tokens)
    tokens = np.concatenate((base.tokens, np.where(extra.tokens >= 0, remap[extra.tokens], SEPARATOR)))
    shape = (base.n_docs + extra.n_docs, n_words)

    def stacked(own: sparse.csr_matrix, new: sparse.csr_matrix) -> sparse.csr_matrix:
        own = sparse.csr_matrix((own.data, own.indices, own.indptr), shape=(own.shape[0], n_words))
        new = sparse.csr_matrix((new.data, remap[new.indices], new.indptr), shape=(new.shape[0], n_words))
        new.sort_indices()
        both = sparse.csr_matrix(sparse.vstack((own, new), format="csr"))
        both.sort_indices()
        return both

    counts = stacked(base.counts, extra.counts[:, : len(extra.vocabulary)])
    title_counts = stacked(
        sparse.csr_matrix(base.title_counts)[:, :n_base], sparse.csr_matrix(extra.title_counts)
    )
    # The inverted index, merged: each word's base positions, then its new ones.
    base_sizes = np.zeros(n_words, dtype=np.int64)
    base_sizes[:n_base] = np.diff(base.word_start)[:n_base]
    extra_sizes = np.diff(extra.word_start)[: len(extra.vocabulary)]
    new_sizes = np.zeros(n_words, dtype=np.int64)
    np.add.at(new_sizes, remap, extra_sizes)
    word_start = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(base_sizes + new_sizes, out=word_start[1:])
    positions = np.empty(int(word_start[-1]), dtype=np.int64)
    own_word = np.repeat(np.arange(n_base), base_sizes[:n_base])
    own_at = np.arange(own_word.size) - base.word_start[own_word] + word_start[own_word]
    positions[own_at] = base.positions[: own_word.size]
    new_word = np.repeat(np.arange(len(extra.vocabulary)), extra_sizes)
    merged = remap[new_word]
    new_at = np.arange(new_word.size) - extra.word_start[new_word] + word_start[merged] + base_sizes[merged]
    positions[new_at] = extra.positions[: new_word.size] + offset
    return Corpus(
        n_docs=shape[0],
        vocabulary=vocabulary,
        tokens=tokens,
        doc_start=np.concatenate((base.doc_start, extra.doc_start + offset)),
        title_end=np.concatenate((base.title_end, extra.title_end + offset)),
        counts=counts,
        title_counts=title_counts.tocsc(),
        lengths=np.concatenate((base.lengths, extra.lengths)),
        counts_by_word=counts.tocsc(),
        word_start=word_start,
        positions=positions.astype(base.positions.dtype, copy=False),
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
