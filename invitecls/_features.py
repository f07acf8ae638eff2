"""Features of a connection request: one transformer, one pass over the text.

``InviteFeatures`` turns notes and shared-connection counts into one sparse
matrix with these blocks, in order:

- ``word:``  TF-IDF of word 1-2 grams over Snowball stems of nltk tokens;
- ``char:``  TF-IDF of character n-grams of the normalised note;
- dense features: the cosine similarity to the nearest generic template,
  computed in the character space that the previous block already built (the
  note is vectorised once); whether the note is empty; the shared-connection
  count (log1p, buckets, an indicator for unknown) and its interactions with
  genericness, with a note that names no context, and with the probability
  that the note is a pitch (many shared connections speak for a sender only
  when it is not), learnt by a first stage from the two n-gram blocks;
  cheap note-level signals (length, question, links, emoji, numbers, money,
  words never seen in training); and counts of concepts from
  multilingual lexicons (events, past meetings, the recipient's work, offers,
  calls to action, scam stories, vague recruiting, flattery...).

The parameter-free parts live in ``invitecls._prepare``; the fast path that
computes the TF-IDF blocks of a batch at once lives in ``invitecls._fast``.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from invitecls._cues import CUE_NAMES
from invitecls._fast import (
    CharTable,
    WordTable,
    char_tfidf,
    nearest_template,
    pitch_probability,
    sigmoid,
    template_scores,
    templates_by_feature,
    unseen_share,
    word_tfidf,
)
from invitecls._normalize import normalize_one
from invitecls._prepare import BLOCK_NAMES, DENSE_BLOCKS, DENSE_NAMES, Batch, dense_features, names_a_pitch, prepare
from invitecls._templates import Template, default_templates
from invitecls._tokenize import word_ngrams
from invitecls._validation import as_notes, check_pitch

__all__ = ["BLOCK_NAMES", "CUE_NAMES", "DENSE_NAMES", "Batch", "InviteFeatures", "WordAnalyzer", "group_ids", "prepare"]

# The first stage's regularisation. In grouped folds of the corpus's training
# split a tighter fit (0.25) told pitches apart worse, and a looser one (4)
# made the whole model no better.
_PITCH_C = 1.0
# Folds of the first stage's cross-fitting (``InviteFeatures.fit_transform``).
_PITCH_FOLDS = 5
# Fast-path tables per fitted word vectorizer: built on first use, never pickled.
_TABLES: weakref.WeakKeyDictionary[Any, tuple[WordTable, CharTable]] = weakref.WeakKeyDictionary()


class WordAnalyzer:
    """Analyzer of the word block: a note's stems in, its word n-grams out.

    A class rather than a closure, so that a fitted vectorizer pickles.

    Parameters
    ----------
    ngram_range : tuple of (int, int)
        Smallest and largest number of stems in an n-gram.

    Examples
    --------
    >>> WordAnalyzer((1, 2))(["great", "meet", "you"])
    ['great', 'meet', 'you', 'great meet', 'meet you']
    """

    def __init__(self, ngram_range: tuple[int, int]) -> None:
        self.ngram_range = tuple(ngram_range)

    def __call__(self, stems: list[str]) -> list[str]:
        """The n-grams of ``stems``, shortest first, each joined by spaces."""
        return word_ngrams(stems, self.ngram_range)  # type: ignore[arg-type]


class InviteFeatures(TransformerMixin, BaseEstimator):
    """Turn connection requests into word, character, template and count features.

    ``fit`` learns two TF-IDF vocabularies from the normalised notes, and a
    first stage: a logistic regression over the two n-gram blocks that tells
    how likely a note is a pitch, a scam or a vague recruiting offer. That
    probability decides which of two features many shared connections go to
    (a pitch stays spam whatever the count). The other features need no
    fitting. The output has the blocks of the module
    docstring, in order: word n-grams, character n-grams, then the dense
    features (``get_feature_blocks_out`` names the block of each column).

    Parameters
    ----------
    word_ngram_range : tuple of (int, int), default=(1, 2)
        Smallest and largest number of words in a word n-gram. The words are
        the Snowball stems of the normalised note's words, in the note's
        guessed language.
    char_ngram_range : tuple of (int, int), default=(3, 5)
        Smallest and largest length of a character n-gram of the normalised
        note; n-grams run across word boundaries ("d like" is one).
    min_df : int or float, default=2
        Keep an n-gram found in at least this many notes (int) or this share
        of the notes (float). An int larger than the number of notes with
        text fitted on is read as 1, so that a fit on a handful of notes keeps
        its vocabulary; the value used is ``min_df_``.
    max_features : int or None, default=60000
        Keep at most this many n-grams per block, the most frequent. The cap
        keeps the model small and fast at no cost in accuracy on the corpus;
        None keeps them all.
    sublinear_tf : bool, default=True
        Count an n-gram found ``tf`` times in a note as ``1 + log(tf)``, in
        both TF-IDF blocks.
    templates : sequence of str or Template, or None, default=None
        Generic notes to measure the similarity to (a ``str`` is a template of
        kind ``"generic"``). None uses the shipped list: LinkedIn's default
        texts in eleven languages, generic and flattering phrasings (for
        Finnish, the default texts' translations).

    Attributes
    ----------
    min_df_ : int or float
        The minimum document frequency used (see ``min_df``).
    word_vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        The word block: ``vocabulary_`` maps each n-gram of stems (joined by
        spaces) to its column, ``idf_`` holds the weights.
    char_vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        The character block, likewise.
    templates_ : tuple of Template
        The templates, in the order of the rows of ``template_matrix_``.
    template_matrix_ : scipy.sparse.csr_matrix of shape (n_templates, n_char_features_)
        Character TF-IDF of each template's normalised text.
    n_word_features_ : int
        Columns of the word block (the first columns of the output).
    n_char_features_ : int
        Columns of the character block (right after the word block).
    pitch_coef_ : ndarray of shape (n_word_features_ + n_char_features_,)
        The first stage's weights of the word, then the character columns.
    pitch_intercept_ : float
        Its intercept: the probability of a pitch is
        ``expit(ngrams @ pitch_coef_ + pitch_intercept_)`` (``fit_transform``
        gives the training notes cross-fitted ones).

    See Also
    --------
    InviteClassifier : The classifier that reads these features.
    invitecls.normalize : The canonical text that the n-grams are read from.
    invitecls.default_templates : The shipped templates.

    Notes
    -----
    The n-gram vocabularies and their idf are those scikit-learn's
    ``TfidfVectorizer`` learns from the notes with text; an empty note (no
    note, or nothing left once normalised) has no n-gram and is read by the
    template and count features. Fitting needs at least one note with text.

    Examples
    --------
    >>> from invitecls import InviteFeatures
    >>> notes = [("Hi Anders, I'd like to connect with you on LinkedIn.", 0),
    ...          ("Great meeting you at PyData Oslo! Can I send you our slides?", 2)] * 2
    >>> features = InviteFeatures(min_df=1).fit(notes)
    >>> features.transform(notes).shape[0]
    4
    """

    def __init__(
        self,
        *,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (3, 5),
        min_df: int | float = 2,
        max_features: int | None = 60_000,
        sublinear_tf: bool = True,
        templates: tuple[str, ...] | None = None,
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.templates = templates

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags

    def _template_objects(self) -> tuple[Template, ...]:
        if self.templates is None:
            return default_templates()
        return tuple(
            t if isinstance(t, Template) else Template(kind="generic", lang="und", text=str(t)) for t in self.templates
        )

    def fit(self, X: Any, y: Any = None, pitch: Any = None) -> InviteFeatures:
        """Learn the vocabularies, IDF weights and the first stage.

        Parameters
        ----------
        X : DataFrame, sequence of (message, mutual_connections) pairs, or sequence of str
            The notes. A DataFrame needs a ``message`` column and may have a
            ``mutual_connections`` column (NaN or None: unknown); a plain
            sequence of notes means every count is unknown.
        y : None
            Ignored; there for the scikit-learn API.
        pitch : array-like of shape (n_notes,) of bool or None, default=None
            Which notes are pitches, scams or vague recruiting offers: what
            the first stage learns. For a note given as None (or every note,
            when ``pitch`` is None) the lexicon answers: whether the note
            names an offer, a call to action, a promised outcome, a money
            scheme, a vague job offer or a scam story. ``invitecls.train``
            derives it from a ``kind`` column (``LabeledData.pitch``: spam
            that no count of shared connections makes genuine).

        Returns
        -------
        self : InviteFeatures
            Fitted.

        Raises
        ------
        ValueError
            No notes, every note empty, no n-gram kept (see ``min_df``), or a
            ``pitch`` of another length than ``X``.
        """
        batch = prepare(*as_notes(X))
        return self._fit_batch(batch, check_pitch(pitch, len(batch)))

    def _fit_batch(self, batch: Batch, pitch: np.ndarray | None = None) -> InviteFeatures:
        """Fit on notes already normalised with ``prepare`` (``pitch``: 1, 0 or NaN for unknown)."""
        self._fit_vocabularies(batch)
        ngrams = sp.hstack(self._ngram_blocks(batch), format="csr")
        self.pitch_coef_, self.pitch_intercept_ = _fit_stage(ngrams, _pitch_target(batch, pitch))
        return self

    def _fit_transform_batch(
        self, batch: Batch, pitch: np.ndarray | None = None, groups: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Fit, then the features of the same notes with the first stage's probabilities cross-fitted.

        The notes of a group (None: identical normalised notes) share a fold.
        """
        self._fit_vocabularies(batch)
        words, chars = self._ngram_blocks(batch)  # once, for the first stage and the output
        ngrams = sp.hstack([words, chars], format="csr")
        target = _pitch_target(batch, pitch)
        self.pitch_coef_, self.pitch_intercept_ = _fit_stage(ngrams, target)
        cross_fitted = _cross_fitted(ngrams, target, group_ids(batch, None) if groups is None else groups)
        return self._assemble(batch, words, chars, cross_fitted)[0]

    def _fit_vocabularies(self, batch: Batch) -> None:
        """The two TF-IDF blocks and the templates in their character space."""
        if len(batch) == 0:
            raise ValueError("cannot fit on zero notes")
        with_text = sum(1 for canon in batch.canon if canon)
        if with_text == 0:
            raise ValueError(f"cannot fit on {len(batch)} notes that are all empty: the features need notes with text")
        common = {"min_df": self.min_df, "max_features": self.max_features, "sublinear_tf": self.sublinear_tf}
        # Said in the docstring and kept as an attribute, not done silently.
        self.min_df_ = self.min_df if isinstance(self.min_df, float) or with_text >= self.min_df else 1
        common["min_df"] = self.min_df_
        self.word_vectorizer_ = TfidfVectorizer(
            analyzer=WordAnalyzer(tuple(self.word_ngram_range)),  # type: ignore[arg-type]
            dtype=np.float64,
            **common,  # type: ignore[arg-type]
        )
        self.char_vectorizer_ = TfidfVectorizer(
            analyzer="char",
            ngram_range=tuple(self.char_ngram_range),  # type: ignore[arg-type]
            lowercase=False,
            dtype=np.float64,
            **common,  # type: ignore[arg-type]
        )
        # An empty note has no n-gram to learn: the vocabularies and their idf
        # are scikit-learn's on the notes with text.
        _fit_vocabulary(self.word_vectorizer_, [s for s in batch.stems if s], "word", self.min_df_)
        _fit_vocabulary(self.char_vectorizer_, [c for c in batch.canon if c], "character", self.min_df_)
        # The pruned-term sets can be large and are only kept for inspection.
        self.word_vectorizer_.stop_words_ = None
        self.char_vectorizer_.stop_words_ = None
        self.templates_ = self._template_objects()
        template_canon = [normalize_one(t.text)[0] for t in self.templates_]
        self.template_matrix_ = sp.csr_matrix(self.char_vectorizer_.transform(template_canon))
        self.n_word_features_ = len(self.word_vectorizer_.vocabulary_)
        self.n_char_features_ = len(self.char_vectorizer_.vocabulary_)

    def fit_transform(self, X: Any, y: Any = None, pitch: Any = None) -> sp.csr_matrix:
        """Fit, then the features of the same notes, with the first stage cross-fitted.

        Like scikit-learn's ``TargetEncoder``, ``fit_transform`` is not
        ``fit(X).transform(X)``: each note's probability of a pitch comes from
        a first stage fitted on the other folds (5, of groups of identical
        normalised notes), because a stage is surer of the notes it was fitted
        on than of any other. ``InviteClassifier`` trains on these features.

        Parameters
        ----------
        X : DataFrame, sequence of (message, mutual_connections) pairs, or sequence of str
            The notes, in any of the forms ``fit`` takes.
        y : None
            Ignored; there for the scikit-learn API.
        pitch : array-like of shape (n_notes,) of bool or None, default=None
            As in ``fit``.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_notes, n_features)
            Columns named by ``get_feature_names_out``.
        """
        batch = prepare(*as_notes(X))
        return self._fit_transform_batch(batch, check_pitch(pitch, len(batch)))

    def transform(self, X: Any) -> sp.csr_matrix:
        """Return the feature matrix of the notes.

        Parameters
        ----------
        X : DataFrame, sequence of (message, mutual_connections) pairs, or sequence of str
            The notes, in any of the forms ``fit`` takes.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_notes, n_features)
            Columns named by ``get_feature_names_out``.
        """
        return self._transform_batch(prepare(*as_notes(X)))[0]

    def _transform_batch(self, batch: Batch, *, fast: bool = True) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Features, template similarity and best template index of a batch.

        ``fast=False`` runs scikit-learn's own ``transform`` for the two TF-IDF
        blocks; the default fast path gives the same matrices, faster.
        """
        check_is_fitted(self, "pitch_coef_")
        words, chars = self._ngram_blocks(batch, fast=fast)
        return self._assemble(
            batch, words, chars, pitch_probability(words, chars, self.pitch_coef_, self.pitch_intercept_)
        )

    def _assemble(
        self, batch: Batch, words: sp.csr_matrix, chars: sp.csr_matrix, pitch: np.ndarray
    ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """The n-gram blocks, then the dense block computed from them and the probability of a pitch."""
        similarity, best = self.template_similarity_from_chars(chars)
        unseen = unseen_share(self.word_vectorizer_.vocabulary_, batch.stems)
        dense = dense_features(batch, similarity, unseen, pitch)
        matrix = sp.hstack([words, chars, sp.csr_matrix(dense)], format="csr")
        return matrix, similarity, best

    def _ngram_blocks(self, batch: Batch, *, fast: bool = True) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The word and character TF-IDF blocks (``fast=False``: scikit-learn's ``transform``)."""
        if not fast:
            return self.word_vectorizer_.transform(batch.stems), self.char_vectorizer_.transform(batch.canon)
        words_table, chars_table = self._fast_tables()
        return word_tfidf(words_table, batch.stems), char_tfidf(chars_table, batch.canon)

    def _fast_tables(self) -> tuple[WordTable, CharTable]:
        """The vocabularies as the fast path reads them (built once per fit)."""
        check_is_fitted(self, "template_matrix_")
        tables = _TABLES.get(self.word_vectorizer_)
        if tables is None:
            tables = (
                WordTable.from_vectorizer(self.word_vectorizer_),
                CharTable.from_vectorizer(self.char_vectorizer_),
            )
            _TABLES[self.word_vectorizer_] = tables
        return tables

    def template_similarity_from_chars(self, chars: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
        """Cosine similarity to the nearest template, from the character block.

        Parameters
        ----------
        chars : sparse matrix of shape (n_notes, n_char_features_)
            The character block of the notes (l2-normalised TF-IDF rows).

        Returns
        -------
        similarity : ndarray of shape (n_notes,)
            Cosine similarity to the nearest template, clipped to 0-1.
        best : ndarray of int, shape (n_notes,)
            Index of that template in ``templates_``.
        """
        chars = sp.csr_matrix(chars)
        rows = np.repeat(np.arange(chars.shape[0]), np.diff(chars.indptr))
        by_feature = templates_by_feature(self.template_matrix_)
        return nearest_template(template_scores(rows, chars.indices, chars.data, chars.shape[0], by_feature))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output features: ``word:…``, ``char:…``, then the dense block.

        Parameters
        ----------
        input_features : None
            Ignored; there for the scikit-learn API (the input is text).

        Returns
        -------
        ndarray of str of shape (n_features,)
        """
        check_is_fitted(self, "template_matrix_")
        words = [f"word:{w}" for w in self.word_vectorizer_.get_feature_names_out()]
        chars = [f"char:{c}" for c in self.char_vectorizer_.get_feature_names_out()]
        return np.asarray(words + chars + list(DENSE_NAMES), dtype=object)

    def get_feature_blocks_out(self) -> np.ndarray:
        """The block of each output feature, one of ``BLOCK_NAMES``.

        ``word`` and ``char`` are the two n-gram blocks; the dense features
        fall into ``template`` (similarity to generic notes, emptiness),
        ``counts`` (shared connections and their interactions), ``style``
        (length, emoji, punctuation, numbers, unusual words: how a note is
        written) and ``concepts`` (lexicon concepts, links, money, percentages:
        what it says).

        Returns
        -------
        ndarray of str of shape (n_features,)
            Aligned with ``get_feature_names_out()``.
        """
        check_is_fitted(self, "template_matrix_")
        blocks = ["word"] * self.n_word_features_ + ["char"] * self.n_char_features_ + list(DENSE_BLOCKS)
        return np.asarray(blocks, dtype=object)


def group_ids(batch: Batch, groups: Any) -> np.ndarray:
    """Integer group of each note: ``groups``'s, or (None) one per distinct normalised note."""
    if groups is None:
        ids: np.ndarray = np.unique(np.asarray(batch.canon, dtype=object), return_inverse=True)[1]
        return ids
    ids = np.unique(np.asarray(groups, dtype=str).reshape(-1), return_inverse=True)[1]
    if len(ids) != len(batch):
        raise ValueError(f"groups has {len(ids)} entries, X has {len(batch)} notes")
    return ids


def _pitch_target(batch: Batch, pitch: np.ndarray | None) -> np.ndarray:
    """What the first stage learns: ``pitch`` (1 or 0), and the lexicon's verdict where it is NaN or None."""
    named = names_a_pitch(batch).astype(float)
    return named if pitch is None else np.where(np.isnan(pitch), named, pitch)


def _cross_fitted(ngrams: sp.csr_matrix, target: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each note's probability of a pitch from a first stage fitted without its fold (of whole groups).

    A stage's probabilities on its own training notes are surer than on any
    note it never saw: the model is trained on these instead.
    """
    n_splits = min(_PITCH_FOLDS, len(np.unique(groups)))
    if n_splits < 2:
        return _stage_probability(ngrams, *_fit_stage(ngrams, target))
    probability = np.empty(len(target))
    for train, test in GroupKFold(n_splits=n_splits).split(ngrams, target, groups):
        probability[test] = _stage_probability(ngrams[test], *_fit_stage(ngrams[train], target[train]))
    return probability


def _fit_stage(ngrams: sp.csr_matrix, target: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and intercept of the first stage on these notes."""
    if len(np.unique(target)) < 2:
        # Nothing to tell apart: every note gets the share (smoothed), no n-gram weighs.
        share = float(np.log((target.sum() + 0.5) / (len(target) - target.sum() + 0.5)))
        return np.zeros(ngrams.shape[1]), share
    stage = LogisticRegression(C=_PITCH_C, max_iter=2000).fit(ngrams, target)
    return np.asarray(stage.coef_[0], dtype=np.float64), float(stage.intercept_[0])


def _stage_probability(ngrams: sp.csr_matrix, coef: np.ndarray, intercept: float) -> np.ndarray:
    """The first stage's probabilities of notes given as one n-gram matrix (for training only)."""
    return sigmoid(ngrams @ coef + intercept)


def _fit_vocabulary(vectorizer: TfidfVectorizer, notes: list[Any], block: str, min_df: float) -> None:
    """Fit one n-gram block; a block left without n-grams is a ``ValueError`` that says why."""
    try:
        vectorizer.fit(notes)
    except ValueError as err:
        why = (
            f"no {block} n-gram is in at least min_df={min_df} of them; lower min_df"
            if "no terms remain" in str(err)
            else f"none has a {block} n-gram (too short)"
        )
        raise ValueError(f"cannot learn the {block} n-grams of {len(notes)} notes: {why}") from err
