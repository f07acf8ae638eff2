"""The fast path: TF-IDF blocks of a whole batch at once, without scikit-learn.

scikit-learn's ``TfidfVectorizer.transform`` builds every n-gram of every note
as a Python string and counts it in a dict. Here the character n-grams of a
whole batch are hashed with numpy (a polynomial hash over code points), looked
up in a sorted table of the vocabulary's hashes, and counted by one COO -> CSR
conversion; word n-grams are looked up in the vocabulary in one pass. The
counts then go through the very same steps as scikit-learn's TF-IDF
(``log + 1``, ``* idf``, l2 normalisation with the same sums in the same
order), so the matrices are identical, entry for entry; the tests check it.

A 64-bit hash could collide: an n-gram outside the vocabulary would then be
counted as one inside. With vocabularies of ~10^5 n-grams and ~10^6 n-grams per
batch the chance is ~10^-8 per batch.

This module imports numpy and scipy only, so a compiled model classifies
without loading scikit-learn.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from invitecls._tokenize import word_ngrams

__all__ = [
    "CharTable",
    "WordTable",
    "char_row",
    "char_tfidf",
    "l2_normalize",
    "nearest_template",
    "template_scores",
    "templates_by_feature",
    "unseen_share",
    "word_row",
    "word_tfidf",
]

_MULT = np.uint64(0x9E3779B97F4A7C15)


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
    terms: tuple[str, ...] = ()  # the n-grams by column, for one note at a time

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
            codes = raw.astype(np.uint64).reshape(len(chosen), int(n))
            h = np.zeros(len(chosen), dtype=np.uint64)
            with np.errstate(over="ignore"):
                for k in range(int(n)):
                    h = h * _MULT + codes[:, k] + np.uint64(1)
                h = h * _MULT + np.uint64(n)
            hashes[chosen] = h
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


def l2_normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Divide each row by its l2 norm, in place, exactly as scikit-learn does.

    scikit-learn sums the squares of a row from left to right and divides by
    the square root; a CSR product with a vector of ones sums in the same order.
    """
    squares = sp.csr_matrix((matrix.data * matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape)
    norms = np.sqrt(squares @ np.ones(matrix.shape[1]))
    norms[norms == 0.0] = 1.0
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
    return matrix


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
    row. Each product is added in entry order, as a sparse matrix product adds
    them, and one function serves every path, so that the same note gets the
    same similarity to the last bit however it is classified.
    """
    if n_rows == 1:
        # One note: numpy's gathers cost less than building sparse matrices.
        # bincount adds the products in entry order too: the same sums.
        n_templates = by_feature.shape[1]
        starts, ends = by_feature.indptr[columns], by_feature.indptr[columns + 1]
        lengths = ends - starts
        entry = np.repeat(np.arange(len(columns)), lengths)
        position = starts[entry] + np.arange(len(entry)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        products = values[entry] * by_feature.data[position]
        return np.bincount(by_feature.indices[position], weights=products, minlength=n_templates)[None, :]
    # scipy's CSR product adds each output's products in entry order, starting
    # from zero: the sums of the docstring, computed in C.
    indptr = np.searchsorted(rows, np.arange(n_rows + 1))
    notes = sp.csr_matrix((values, columns, indptr), shape=(n_rows, by_feature.shape[0]))
    scores: np.ndarray = (notes @ by_feature).toarray()
    return scores


def nearest_template(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Similarity to the nearest template (clipped to 0-1) and its index."""
    if scores.shape[1] == 0:
        return np.zeros(scores.shape[0]), np.zeros(scores.shape[0], dtype=int)
    best = scores.argmax(axis=1)
    return np.clip(scores[np.arange(scores.shape[0]), best], 0.0, 1.0), best


def _finish(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int, tfidf: _Tfidf) -> sp.csr_matrix:
    """(row, col) occurrences -> the TF-IDF matrix, with scikit-learn's arithmetic."""
    # COO -> CSR sums the duplicates into counts and sorts each row's columns:
    # the count matrix that scikit-learn builds.
    ones = np.ones(len(rows), dtype=np.float64)
    matrix = sp.coo_matrix((ones, (rows, cols)), shape=(n_rows, n_cols)).tocsr()
    matrix.sum_duplicates()
    if tfidf.sublinear_tf:
        np.log(matrix.data, matrix.data)
        matrix.data += 1.0
    matrix.data *= tfidf.idf[matrix.indices]
    return l2_normalize(matrix) if tfidf.l2 else matrix


def _window_hashes(codes: np.ndarray, low: int, high: int) -> dict[int, np.ndarray]:
    """Hashes of every window of ``low`` to ``high`` code points, as ``from_terms`` hashes a term.

    The hash of a window of n + 1 code points extends the state of the window
    of n, so each size costs one step, not n.
    """
    out: dict[int, np.ndarray] = {}
    state = codes + np.uint64(1)
    with np.errstate(over="ignore"):
        for n in range(1, high + 1):
            count = len(codes) - n + 1
            if count <= 0:
                break
            if n > 1:
                state = state[:count] * _MULT + codes[n - 1 : n - 1 + count] + np.uint64(1)
            if n >= low:
                out[n] = state * _MULT + np.uint64(n)
    return out


_EMPTY = np.int64(-1)


def _slots(table: CharTable) -> tuple[np.ndarray, np.ndarray, int, int]:
    """An open-addressing hash table of the vocabulary (built once per table).

    A lookup is then a few gathers instead of a binary search of the sorted
    hashes: slot = top bits of the hash, linear probing on collision.
    """
    cached: tuple[np.ndarray, np.ndarray, int, int] | None = getattr(table, "_slot_table", None)
    if cached is not None:
        return cached
    bits = max(4, int(len(table.hashes) * 4).bit_length())
    size = 1 << bits
    shift = np.uint64(64 - bits)
    columns = np.full(size, _EMPTY, dtype=np.int64)
    hashes = np.zeros(size, dtype=np.uint64)
    home = (table.hashes >> shift).astype(np.int64)
    pending = np.arange(len(table.hashes))
    probe = 0
    while len(pending):
        slot = (home[pending] + probe) & (size - 1)
        free = np.flatnonzero(columns[slot] == _EMPTY)
        # Of several terms wanting one free slot, the first takes it; an item
        # placed at probe p found slots home .. home + p - 1 taken, as lookups
        # expect.
        taken, first = np.unique(slot[free], return_index=True)
        chosen = pending[free[first]]
        columns[taken] = table.columns[chosen]
        hashes[taken] = table.hashes[chosen]
        placed = np.zeros(len(pending), dtype=bool)
        placed[free[first]] = True
        pending = pending[~placed]
        probe += 1
    result = (hashes, columns, bits, probe)
    object.__setattr__(table, "_slot_table", result)  # a cache, not a field
    return result


def _lookup(table: CharTable, h: np.ndarray) -> np.ndarray:
    """The column of each hash in the vocabulary, or -1."""
    hashes, columns, bits, max_probe = _slots(table)
    mask = (1 << bits) - 1
    home = (h >> np.uint64(64 - bits)).astype(np.int64)
    out = np.full(len(h), _EMPTY, dtype=np.int64)
    pending = np.arange(len(h))
    for probe in range(max_probe):
        slot = (home[pending] + probe) & mask
        stored = columns[slot]
        occupied = stored != _EMPTY
        hit = occupied & (hashes[slot] == h[pending])
        out[pending[hit]] = stored[hit]
        pending = pending[occupied & ~hit]
        if not len(pending):
            break
    return out


def char_tfidf(table: CharTable, docs: list[str]) -> sp.csr_matrix:
    """Character n-gram TF-IDF of a batch: ``TfidfVectorizer(analyzer="char").transform``."""
    low, high = table.ngram_range
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    # Notes are joined by NUL, which never occurs in a normalised note; a
    # window that covers a NUL crosses two notes and is dropped.
    codes = np.frombuffer("\x00".join(docs).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    doc_of = np.repeat(np.arange(len(docs)), lengths + 1)[: len(codes)]
    separators = np.concatenate([[0], np.cumsum(codes == 0)])
    rows_parts, cols_parts = [], []
    for n, h in _window_hashes(codes, low, high).items():
        begin = np.arange(len(h))
        valid = separators[begin + n] == separators[begin]
        h, begin = h[valid], begin[valid]
        columns = _lookup(table, h)
        found = columns != _EMPTY
        rows_parts.append(doc_of[begin[found]])
        cols_parts.append(columns[found])
    rows = np.concatenate(rows_parts) if rows_parts else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols_parts) if cols_parts else np.zeros(0, dtype=np.int64)
    return _finish(rows, cols, len(docs), table.n_features, table.tfidf)


def word_tfidf(table: WordTable, stem_lists: list[list[str]]) -> sp.csr_matrix:
    """Word n-gram TF-IDF of a batch of stemmed notes."""
    get = table.vocabulary.get
    ngram_range = table.ngram_range
    cols: list[int] = []
    per_note: list[int] = []
    for stems in stem_lists:
        found = [c for c in map(get, word_ngrams(stems, ngram_range)) if c is not None]
        cols.extend(found)
        per_note.append(len(found))
    return _finish(
        np.repeat(np.arange(len(stem_lists), dtype=np.int64), per_note),
        np.asarray(cols, dtype=np.int64),
        len(stem_lists),
        len(table.vocabulary),
        table.tfidf,
    )


def unseen_share(vocabulary: dict[str, int], stem_lists: list[list[str]]) -> np.ndarray:
    """Share of each note's words never seen in training: specific notes name new things."""
    out = np.zeros(len(stem_lists))
    for i, stems in enumerate(stem_lists):
        if stems:
            out[i] = sum(1 for s in stems if s not in vocabulary) / len(stems)
    return out


# ---------------------------------------------------------------- one note
#
# Classifying one note at a time, numpy's per-call overhead outweighs the work.
# These compute the same row as the batch functions above, with the same
# arithmetic in the same order (counts, log + 1, * idf, squares summed left to
# right, one square root, one division per entry), so that ``classify`` and
# ``classify_many`` agree to the last bit.


def _row(counts: Counter[int], tfidf: _Tfidf) -> tuple[np.ndarray, np.ndarray]:
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    ordered = sorted(counts.items())
    columns = np.array([c for c, _ in ordered], dtype=np.int64)
    data = np.array([n for _, n in ordered], dtype=np.float64)
    if tfidf.sublinear_tf:
        np.log(data, data)
        data += 1.0
    data *= tfidf.idf[columns]
    if tfidf.l2:
        total = 0.0
        for square in (data * data).tolist():
            total += square
        if total != 0.0:
            data /= np.sqrt(total)
    return columns, data


def char_row(table: CharTable, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Columns and values of one note's character block."""
    index: dict[str, int] | None = getattr(table, "_index", None)
    if index is None:
        index = {term: column for column, term in enumerate(table.terms)}
        object.__setattr__(table, "_index", index)  # a cache, not a field
    low, high = table.ngram_range
    get = index.get
    found = [get(text[i : i + n]) for n in range(low, min(high, len(text)) + 1) for i in range(len(text) - n + 1)]
    return _row(Counter(c for c in found if c is not None), table.tfidf)


def word_row(table: WordTable, stems: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Columns and values of one note's word block."""
    get = table.vocabulary.get
    found = [get(gram) for gram in word_ngrams(stems, table.ngram_range)]
    return _row(Counter(c for c in found if c is not None), table.tfidf)
