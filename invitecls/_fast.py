"""The fast path: TF-IDF blocks of a batch of notes, one note or thousands, without scikit-learn.

scikit-learn's ``TfidfVectorizer.transform`` builds every n-gram of every note
as a Python string and counts it in a dict. Here the n-grams of a whole batch
are hashed with numpy, without building their strings, looked up in a hash
table of the vocabulary's hashes, and counted by sorting: character n-grams by a
polynomial hash over code points, word n-grams by a polynomial over their
stems' own string hashes. The counts then go through the very same steps as
scikit-learn's TF-IDF (``log + 1``, ``* idf``, l2 normalisation with the same
sums in the same order), so the matrices are identical, entry for entry; the
tests check it, on the corpus and on any text (``tests/test_fastpath.py``).
scikit-learn's vectorizers stay the reference.

One code path serves a batch of one note and a batch of thousands: the blocks
are plain CSR arrays (``SparseRows``) until the whole row is assembled, because
building a scipy matrix costs more than all the arithmetic of one note.

A 64-bit hash could collide: an n-gram outside the vocabulary would then be
counted as one inside. With vocabularies of ~10^5 n-grams and ~10^6 windows per
batch the chance is ~10^-8 per batch (for each of the two blocks).

This module imports numpy and scipy only, so a compiled model classifies
without loading scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CharTable",
    "SparseRows",
    "WordTable",
    "char_block",
    "char_tfidf",
    "nearest_template",
    "pitch_probability",
    "row_sums",
    "side_by_side",
    "sigmoid",
    "template_scores",
    "templates_by_feature",
    "unseen_share",
    "word_block",
    "word_tfidf",
]

_MULT = np.uint64(0x9E3779B97F4A7C15)
_ONE = np.uint64(1)
#: The second slot's multiplier: odd, and unrelated to ``_MULT``.
_MULT_SECOND = np.uint64(0xD6E8FEB86659FD93)


@dataclass(frozen=True)
class _Tfidf:
    idf: np.ndarray
    sublinear_tf: bool
    l2: bool


@dataclass(frozen=True)
class CharTable:
    """A character vocabulary as sorted hashes, with its TF-IDF weights."""

    hashes: np.ndarray  # uint64, sorted
    columns: np.ndarray  # int64, the column of each hash
    n_features: int
    ngram_range: tuple[int, int]
    tfidf: _Tfidf
    terms: tuple[str, ...] = ()  # the n-grams by column: kept with the model, to read it

    @classmethod
    def from_terms(
        cls, terms: list[str], columns: np.ndarray, ngram_range: tuple[int, int], tfidf: _Tfidf
    ) -> CharTable:
        """Hash the vocabulary's n-grams exactly as ``char_tfidf`` hashes a note's."""
        hashes = np.empty(len(terms), dtype=np.uint64)
        lengths = np.fromiter((len(t) for t in terms), dtype=np.int64, count=len(terms))
        for n in np.unique(lengths):
            chosen = np.flatnonzero(lengths == n)
            raw = np.frombuffer("".join(terms[i] for i in chosen).encode("utf-32-le"), dtype=np.uint32)
            hashes[chosen] = _row_hashes(raw.astype(np.uint64).reshape(len(chosen), int(n)) + _ONE)
        order = np.argsort(hashes, kind="stable")
        by_column = [""] * len(terms)
        for term, column in zip(terms, np.asarray(columns).tolist()):
            by_column[column] = term
        return cls(
            hashes=hashes[order],
            columns=np.asarray(columns, dtype=np.int64)[order],
            n_features=len(terms),
            ngram_range=(int(ngram_range[0]), int(ngram_range[1])),
            tfidf=tfidf,
            terms=tuple(by_column),
        )

    @classmethod
    def from_vectorizer(cls, vectorizer: Any) -> CharTable:
        """From a fitted ``TfidfVectorizer(analyzer="char", lowercase=False)``."""
        if vectorizer.analyzer != "char" or vectorizer.lowercase or vectorizer.preprocessor is not None:
            raise ValueError("the fast path reproduces analyzer='char' without lowercase or preprocessor only")
        terms = list(vectorizer.vocabulary_)
        columns = np.fromiter((vectorizer.vocabulary_[t] for t in terms), dtype=np.int64, count=len(terms))
        return cls.from_terms(terms, columns, vectorizer.ngram_range, tfidf_of(vectorizer))


@dataclass(frozen=True)
class WordTable:
    """A word n-gram vocabulary with its TF-IDF weights."""

    vocabulary: dict[str, int]
    ngram_range: tuple[int, int]
    tfidf: _Tfidf

    @property
    def hashes(self) -> np.ndarray:
        """The vocabulary's n-grams hashed as ``word_block`` hashes a note's (computed once per process)."""
        cached: np.ndarray | None = getattr(self, "_hashes", None)
        if cached is None:
            cached = _gram_hashes_of_terms(list(self.vocabulary))
            object.__setattr__(self, "_hashes", cached)  # a cache, not a field
        return cached

    @property
    def columns(self) -> np.ndarray:
        """The column of each of ``hashes``."""
        return np.fromiter(self.vocabulary.values(), dtype=np.int64, count=len(self.vocabulary))

    def __getstate__(self) -> dict[str, Any]:
        # The hashes build on Python's string hashes, which differ from one
        # process to the next: another process computes its own.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    @classmethod
    def from_vectorizer(cls, vectorizer: Any) -> WordTable:
        """From the fitted word vectorizer of ``InviteFeatures``."""
        return cls(
            vocabulary=dict(vectorizer.vocabulary_),
            ngram_range=tuple(vectorizer.analyzer.ngram_range),  # type: ignore[arg-type]
            tfidf=tfidf_of(vectorizer),
        )


def tfidf_of(vectorizer: Any) -> _Tfidf:
    """The TF-IDF settings of a fitted vectorizer."""
    if vectorizer.binary or not vectorizer.use_idf or vectorizer.norm not in ("l2", None):
        raise ValueError("the fast path reproduces TF-IDF with idf and l2 (or no) norm only")
    return _Tfidf(
        idf=np.asarray(vectorizer.idf_), sublinear_tf=bool(vectorizer.sublinear_tf), l2=vectorizer.norm == "l2"
    )


@dataclass(frozen=True)
class SparseRows:
    """Rows of a sparse block as CSR arrays, with the row of each entry."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    rows: np.ndarray  # the row of each entry (what the template scores and the assembly need)
    n_columns: int

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns, as a scipy matrix's."""
        return len(self), self.n_columns

    def take(self, rows: np.ndarray) -> SparseRows:
        """Rows ``rows`` of the block, in that order (each row's entries as they were)."""
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        entries = _ranges(starts, lengths)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        lengths.cumsum(out=indptr[1:])
        return SparseRows(
            indptr=indptr,
            indices=self.indices[entries],
            data=self.data[entries],
            rows=np.arange(len(rows)).repeat(lengths),
            n_columns=self.n_columns,
        )

    def to_csr(self) -> sp.csr_matrix:
        """The block as a scipy matrix."""
        # scipy keeps int32 indices that fit: given as int32, they are neither checked nor copied.
        index_type = np.int32 if max(len(self), self.n_columns, len(self.data)) < 2**31 else np.int64
        return sp.csr_matrix(
            (self.data, self.indices.astype(index_type), self.indptr.astype(index_type)),
            shape=self.shape,
        )


def templates_by_feature(template_matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The templates' character matrix transposed: one row per n-gram, its templates in columns."""
    transposed = sp.csr_matrix(template_matrix.T)
    transposed.sort_indices()
    return transposed


def template_scores(
    rows: np.ndarray, columns: np.ndarray, values: np.ndarray, n_rows: int, by_feature: sp.csr_matrix
) -> np.ndarray:
    """Dot products of notes' character vectors with every template.

    The entries (``rows``, ``columns``, ``values``) are a CSR matrix's, row by
    row. Each product is added in entry order, starting from zero, as scipy's
    sparse product adds them (``bincount`` adds its weights in order), so that
    the scikit-learn path and the compiled one agree to the last bit. For one
    note, these gathers cost a fraction of building scipy matrices; for a
    thousand, scipy's product would take about half the time of this step
    (a few percent of classifying): one path for both is worth that.
    """
    n_templates = by_feature.shape[1]
    indptr = by_feature.indptr
    # Most n-grams are in no template: keep the entries that meet one, in order.
    hit = (indptr[columns + 1] != indptr[columns]).nonzero()[0]
    met = columns[hit]
    starts = indptr[met]
    lengths = indptr[met + 1] - starts
    # Each entry meets the templates of its n-gram: by_feature's entries starts .. starts + lengths - 1.
    entry = hit.repeat(lengths)
    position = _ranges(starts, lengths)
    products = values[entry] * by_feature.data[position]
    cells = rows[entry] * n_templates + by_feature.indices[position]
    sums = np.bincount(cells, weights=products, minlength=n_rows * n_templates)
    return sums.reshape(n_rows, n_templates)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``starts[0] .. starts[0] + lengths[0] - 1``, then the next range, and so on, in one array."""
    flat: np.ndarray = np.arange(int(lengths.sum())) + (starts - lengths.cumsum() + lengths).repeat(lengths)
    return flat


def nearest_template(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Similarity to the nearest template (clipped to 0-1) and its index."""
    if scores.shape[1] == 0:
        return np.zeros(scores.shape[0]), np.zeros(scores.shape[0], dtype=int)
    best = scores.argmax(axis=1)
    return np.clip(scores[np.arange(scores.shape[0]), best], 0.0, 1.0), best


#: From this many (row, column) pairs on, they are sorted by numpy's radix sort
#: where rows and columns fit 16 bits: faster for a chunk's thousands, slower for a note's few.
_RADIX_MIN = 4096


def _tfidf_rows(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int, tfidf: _Tfidf) -> SparseRows:
    """(row, col) occurrences -> the TF-IDF rows, with scikit-learn's arithmetic."""
    # The occurrences sorted by row, then column, are the count matrix that
    # scikit-learn builds: each row's columns in order, a run of equal pairs per count.
    rows, cols = _by_row_and_column(rows, cols, n_rows, n_cols)
    first = np.empty(len(rows) + 1, dtype=bool)
    first[0] = first[-1] = True
    np.not_equal(cols[1:], cols[:-1], out=first[1:-1])
    first[1:-1] |= rows[1:] != rows[:-1]
    bounds = first.nonzero()[0]  # where each run of equal pairs starts, and the end
    data = (bounds[1:] - bounds[:-1]).astype(np.float64)
    entry_rows = rows[bounds[:-1]].astype(np.int64)
    indices = cols[bounds[:-1]].astype(np.int64)
    if tfidf.sublinear_tf:
        np.log(data, data)
        data += 1.0
    data *= tfidf.idf[indices]
    if tfidf.l2:
        # scikit-learn sums each row's squares from left to right, from zero;
        # bincount adds its weights in the same order.
        norms = np.sqrt(np.bincount(entry_rows, weights=data * data, minlength=n_rows))
        norms[norms == 0.0] = 1.0
        data /= norms[entry_rows]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.bincount(entry_rows, minlength=n_rows).cumsum(out=indptr[1:])
    return SparseRows(indptr=indptr, indices=indices, data=data, rows=entry_rows, n_columns=n_cols)


def _by_row_and_column(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs sorted by row, then by column."""
    if len(rows) >= _RADIX_MIN and n_rows <= 2**16 and n_cols <= 2**16:
        # Two stable passes of a radix sort, by column and then by row.
        rows16, cols16 = rows.astype(np.uint16), cols.astype(np.uint16)
        order = np.argsort(cols16, kind="stable")
        order = order[np.argsort(rows16[order], kind="stable")]
        return rows16[order], cols16[order]
    keys = rows.astype(np.int64) * n_cols + cols
    keys.sort()
    return keys // n_cols, keys % n_cols


def _window_hashes(values: np.ndarray, low: int, high: int) -> dict[int, np.ndarray]:
    """Hashes of every window of ``low`` to ``high`` values (code points + 1, or stems' hashes), by size.

    ``h = h * M + value`` over the window, then ``h * M + size``, modulo 2**64
    (arrays of unsigned integers wrap around silently), as ``from_terms``
    hashes a term. The hash of a window of n + 1 values extends the state of
    the window of n, so each size costs one step, not n.
    """
    out: dict[int, np.ndarray] = {}
    state = values
    for n in range(1, high + 1):
        count = len(values) - n + 1
        if count <= 0:
            break
        if n > 1:
            state = state[:count] * _MULT
            state += values[n - 1 : n - 1 + count]
        if n >= low:
            out[n] = state * _MULT + np.uint64(n)
    return out


_EMPTY = np.int32(-1)


def _slots(table: CharTable | WordTable) -> tuple[np.ndarray, np.ndarray, int]:
    """A two-choice (cuckoo) hash table of the vocabulary, built once per table.

    Each term sits in one of two slots: its first (the hash's top bits) or its
    second (the top bits of the hash times another constant). A lookup is then
    two gathers at most, for one note as for thousands. With linear probing,
    a few hashes of almost every note went on probing round after round, and
    each round is a handful of numpy calls.
    """
    cached: tuple[np.ndarray, np.ndarray, int] | None = getattr(table, "_slot_table", None)
    if cached is not None:
        return cached
    # A hash that two terms share (64 bits: never seen) answers with the first term's column.
    terms, first = np.unique(table.hashes, return_index=True)
    term_columns = np.asarray(table.columns)[first]
    bits = max(4, int(len(terms) * 4).bit_length())
    while (result := _cuckoo(terms, term_columns, bits)) is None:
        bits += 1  # a cycle of evictions: a table twice the size breaks it
    object.__setattr__(table, "_slot_table", result)  # a cache, not a field
    return result


def _second_slot(h: np.ndarray, shift: np.uint64) -> np.ndarray:
    slot: np.ndarray = ((h * _MULT_SECOND) >> shift).astype(np.intp)  # wraps around, modulo 2**64
    return slot


def _cuckoo(terms: np.ndarray, term_columns: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The table of 2**bits slots, or None when evictions run in a cycle.

    Most terms are placed in two vectorised rounds (first slots, then second
    slots); the rest by evictions, one term at a time. A slot once taken is
    never emptied, so a term in its second slot always finds its first one
    taken: a lookup that finds a first slot empty stops there.
    """
    size = 1 << bits
    shift = np.uint64(64 - bits)
    columns = np.full(size, _EMPTY, dtype=np.int32)
    hashes = np.zeros(size, dtype=np.uint64)
    pending = np.arange(len(terms))
    for slot_of in ((terms >> shift).astype(np.intp), _second_slot(terms, shift)):
        slot = slot_of[pending]
        free = np.flatnonzero(columns[slot] == _EMPTY)
        taken, first = np.unique(slot[free], return_index=True)  # of several terms wanting one slot, the first
        chosen = pending[free[first]]
        columns[taken] = term_columns[chosen]
        hashes[taken] = terms[chosen]
        placed = np.zeros(len(pending), dtype=bool)
        placed[free[first]] = True
        pending = pending[~placed]
    for i in pending.tolist():
        if not _evict_into(columns, hashes, int(terms[i]), int(term_columns[i]), bits):
            return None
    return hashes, columns, bits


def _evict_into(columns: np.ndarray, hashes: np.ndarray, h: int, column: int, bits: int) -> bool:
    """Place a term whose two slots are taken: it takes its first, the term there moves to its other slot, and so on."""
    shift = np.uint64(64 - bits)
    slot = h >> int(shift)
    for _ in range(2 * bits + 8):  # more evictions than this is a cycle, or as good as one
        column, columns[slot] = int(columns[slot]), column
        h, hashes[slot] = int(hashes[slot]), h
        if column == _EMPTY:
            return True
        first = h >> int(shift)
        slot = int(_second_slot(np.array([h], np.uint64), shift)[0]) if slot == first else first
    return False


def _lookup(table: CharTable | WordTable, h: np.ndarray) -> np.ndarray:
    """The column of each hash in the vocabulary, or -1."""
    hashes, columns, bits = _slots(table)
    shift = np.uint64(64 - bits)
    home = (h >> shift).astype(np.intp)
    # The first slots settle most hashes: read for all of them, without indexing.
    stored = columns[home]
    occupied = stored != _EMPTY
    hit = occupied & (hashes[home] == h)
    out: np.ndarray = np.where(hit, stored, _EMPTY)
    pending = (occupied & ~hit).nonzero()[0]
    if len(pending):
        wanted = h[pending]
        slot = _second_slot(wanted, shift)
        stored = columns[slot]
        hit = (stored != _EMPTY) & (hashes[slot] == wanted)
        out[pending[hit]] = stored[hit]
    return out


def char_block(table: CharTable, docs: list[str]) -> SparseRows:
    """Character n-gram TF-IDF of a batch, as ``TfidfVectorizer(analyzer="char").transform`` computes it.

    ``docs`` are normalised notes: no NUL, no run of whitespace (scikit-learn
    would first fold such a run into one space).
    """
    low, high = table.ngram_range
    # Notes are joined by NUL, which never occurs in a normalised note, so no
    # n-gram of the vocabulary holds one: a window across two notes is looked
    # up and not found, like any unknown n-gram.
    codes = np.frombuffer("\x00".join(docs).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    note_of = (codes == 0).cumsum()  # NULs up to each position: the note a window starting there is in
    windows = list(_window_hashes(codes + _ONE, low, high).values())
    if not windows:
        return _tfidf_rows(np.zeros(0, np.int64), np.zeros(0, np.int64), len(docs), table.n_features, table.tfidf)
    columns = _lookup(table, np.concatenate(windows))
    found = (columns != _EMPTY).nonzero()[0]
    rows = np.concatenate([note_of[: len(h)] for h in windows])
    return _tfidf_rows(rows[found], columns[found], len(docs), table.n_features, table.tfidf)


def word_block(table: WordTable, stem_lists: list[list[str]]) -> tuple[SparseRows, np.ndarray]:
    """Word n-gram TF-IDF of a batch of stemmed notes, as the word vectorizer's ``transform`` computes it,
    and each note's ``unseen_share``.

    Stems are words of normalised notes: they hold no space. The share of
    words the vocabulary lacks comes from the lookups of the single words,
    where the n-grams start with them (else from ``unseen_share``).
    """
    hashes, rows = _gram_hashes(stem_lists, table.ngram_range)
    columns = _lookup(table, hashes)
    found = (columns != _EMPTY).nonzero()[0]
    block = _tfidf_rows(rows[found], columns[found], len(stem_lists), len(table.vocabulary), table.tfidf)
    if table.ngram_range[0] != 1:
        return block, unseen_share(table.vocabulary, stem_lists)
    # _gram_hashes puts the single words first: every word of the batch, in order.
    n_words = np.fromiter(map(len, stem_lists), dtype=np.int64, count=len(stem_lists))
    total = int(n_words.sum())
    unseen = np.bincount(rows[:total][columns[:total] == _EMPTY], minlength=len(stem_lists))
    # int / int in Python and in numpy: the same correctly rounded quotient.
    return block, np.divide(unseen, n_words, out=np.zeros(len(stem_lists)), where=n_words > 0)


def _gram_hashes(stem_lists: list[list[str]], ngram_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The hash and the note of every word n-gram of a batch.

    An n-gram's hash is a polynomial over its stems' own hashes: Python's
    ``hash`` of a string, which each string object computes once and keeps
    (a batch's stems are a few thousand objects, reused from the stem cache).
    No string is built per n-gram.
    """
    low, high = ngram_range
    flat = stem_lists[0] if len(stem_lists) == 1 else list(chain.from_iterable(stem_lists))
    words = np.fromiter(map(hash, flat), dtype=np.int64, count=len(flat)).view(np.uint64)
    notes = np.arange(len(stem_lists)).repeat(np.fromiter(map(len, stem_lists), np.int64, len(stem_lists)))
    hashes, rows = [np.zeros(0, np.uint64)], [np.zeros(0, np.int64)]
    for n, window in _window_hashes(words, low, high).items():
        within = (notes[: len(window)] == notes[n - 1 :]).nonzero()[0]  # not across two notes
        hashes.append(window[within])
        rows.append(notes[within])
    return np.concatenate(hashes), np.concatenate(rows)


def _gram_hashes_of_terms(terms: list[str]) -> np.ndarray:
    """A word vocabulary's n-grams ("stem stem") hashed as ``_gram_hashes`` hashes a note's."""
    parts = [term.split(" ") for term in terms]
    sizes = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    hashes = np.empty(len(terms), dtype=np.uint64)
    for n in np.unique(sizes).tolist():
        chosen = (sizes == n).nonzero()[0]
        flat = chain.from_iterable(parts[i] for i in chosen.tolist())
        words = np.fromiter(map(hash, flat), dtype=np.int64, count=len(chosen) * n).view(np.uint64)
        hashes[chosen] = _row_hashes(words.reshape(len(chosen), n))
    return hashes


def _row_hashes(values: np.ndarray) -> np.ndarray:
    """Each row of ``values`` hashed as ``_window_hashes`` hashes a window of that many values (terms' side)."""
    state = np.zeros(len(values), dtype=np.uint64)
    for k in range(values.shape[1]):
        state = state * _MULT + values[:, k]  # wraps around, modulo 2**64
    hashes: np.ndarray = state * _MULT + np.uint64(values.shape[1])
    return hashes


def char_tfidf(table: CharTable, docs: list[str]) -> sp.csr_matrix:
    """``char_block`` as a scipy matrix: ``TfidfVectorizer(analyzer="char").transform(docs)``."""
    return char_block(table, docs).to_csr()


def word_tfidf(table: WordTable, stem_lists: list[list[str]]) -> sp.csr_matrix:
    """``word_block``'s matrix, as a scipy matrix."""
    return word_block(table, stem_lists)[0].to_csr()


def unseen_share(vocabulary: dict[str, int], stem_lists: list[list[str]]) -> np.ndarray:
    """Share of each note's words never seen in training: specific notes name new things.

    The reference for ``word_block``'s second value, and the estimator's.
    """
    known = vocabulary.__contains__  # mapped in C, without a Python step per word
    shares = [(len(stems) - sum(map(known, stems))) / len(stems) if stems else 0.0 for stems in stem_lists]
    return np.array(shares, dtype=float).reshape(len(stem_lists))


def side_by_side(blocks: list[SparseRows], dense: np.ndarray) -> SparseRows:
    """The blocks and the nonzero entries of ``dense`` side by side, as ``sp.hstack(..., format="csr")`` puts them."""
    blocks = [*blocks, _nonzero_rows(dense)]
    if len(dense) == 1:
        # One note (classify): its entries are each block's, one block after
        # the other, joined in fewer numpy calls than the general case makes.
        offsets = np.cumsum([0] + [block.n_columns for block in blocks])
        indices = np.concatenate([block.indices + offset for block, offset in zip(blocks, offsets)])
        indptr = np.array([0, len(indices)])
        data = np.concatenate([block.data for block in blocks])
        return SparseRows(indptr, indices, data, np.zeros(len(indices), np.int64), int(offsets[-1]))
    counts = [np.diff(block.indptr) for block in blocks]
    per_row = sum(counts[1:], counts[0])
    indptr = np.zeros(len(dense) + 1, dtype=np.int64)
    per_row.cumsum(out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    data = np.empty(indptr[-1])
    # A row holds its entries of the first block, then of the second, and so
    # on: each entry's place is known, without sorting.
    start = indptr[:-1].copy()  # where each row's entries of the next block go
    offset = 0  # the first column of the next block
    for block, count in zip(blocks, counts):
        place = (start - block.indptr[:-1])[block.rows] + np.arange(len(block.data))
        indices[place] = block.indices + offset
        data[place] = block.data
        start += count
        offset += block.n_columns
    rows = np.arange(len(dense)).repeat(per_row)
    return SparseRows(indptr=indptr, indices=indices, data=data, rows=rows, n_columns=offset)


def _nonzero_rows(dense: np.ndarray) -> SparseRows:
    """The nonzero entries of a dense block, row by row."""
    rows, columns = np.nonzero(dense)
    indptr = np.zeros(len(dense) + 1, dtype=np.int64)
    np.bincount(rows, minlength=len(dense)).cumsum(out=indptr[1:])
    return SparseRows(indptr=indptr, indices=columns, data=dense[rows, columns], rows=rows, n_columns=dense.shape[1])


def row_sums(matrix: SparseRows | sp.csr_matrix, weights: np.ndarray) -> np.ndarray:
    """``matrix @ weights`` for a vector of weights, added as scipy's sparse product adds.

    Each row's products are added in entry order, starting from zero, as
    scipy's product adds them (``bincount`` adds its weights in order): the
    same log-odds to the last bit, without building a scipy matrix for a
    batch that only needs its scores.
    """
    if isinstance(matrix, SparseRows):
        rows = matrix.rows
    else:
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    sums: np.ndarray = np.bincount(rows, weights=matrix.data * weights[matrix.indices], minlength=matrix.shape[0])
    return sums


def pitch_probability(
    words: SparseRows | sp.csr_matrix, chars: SparseRows | sp.csr_matrix, coef: np.ndarray, intercept: float
) -> np.ndarray:
    """The first stage's probability that each note is a pitch, from its two n-gram blocks.

    ``coef`` weighs the word columns, then the character columns. The same
    sums in the same order for scipy's matrices and for ``SparseRows``, so
    the estimator and a compiled model agree to the last bit.
    """
    n_words = words.shape[1]
    return sigmoid(row_sums(words, coef[:n_words]) + row_sums(chars, coef[n_words:]) + intercept)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, safe from overflow.

    Parameters
    ----------
    z : ndarray
        Log-odds.

    Returns
    -------
    ndarray
        ``1 / (1 + exp(-z))``, elementwise, with ``z`` clipped to +-500.
    """
    result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
    return result
