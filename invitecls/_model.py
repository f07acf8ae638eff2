"""The classifier: features, a logistic regression, calibration and thresholds.

``InviteClassifier`` is one scikit-learn estimator. ``fit`` normalises each
note once, then (for a binary task) runs a grouped cross-validation inside the
training data to get out-of-fold scores. Those scores serve three purposes:
they calibrate the probabilities (a Platt scaling folded back into the
logistic regression, so the model stays a single logistic regression), they
choose the decision threshold that keeps genuine notes flagged as spam at or
below a target rate, and they give the cross-validated metrics reported by
``invitecls train``.
"""

from __future__ import annotations

import dataclasses
import logging
import weakref
from collections import Counter
from collections.abc import Mapping
from numbers import Integral, Real
from os import PathLike
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from invitecls._compiled import KNOWN_SENDER_COUNT, CompiledModel
from invitecls._fast import sigmoid
from invitecls._features import BLOCK_NAMES, InviteFeatures, group_ids
from invitecls._io import DEFAULT_LABELS
from invitecls._prepare import Batch, prepare
from invitecls._validation import as_notes, check_pitch

__all__ = [
    "DEFAULT_BLOCK_WEIGHTS",
    "DEFAULT_LABELS",
    "KNOWN_SENDER_COUNT",
    "InviteClassifier",
    "cv_metrics",
    "decision_threshold",
    "grouped_folds",
    "platt_scaling",
]

#: Weight of each feature block unless ``block_weights`` says otherwise (1 for the others).
DEFAULT_BLOCK_WEIGHTS: Mapping[str, float] = MappingProxyType({"style": 0.0})

# Attributes that invitecls 0.1 set outside ``fit`` (``train`` and ``load_model``):
# their content is in the saved model's metadata (``read_metadata``), and an
# unpickled model of that version drops them.
_LEGACY_ATTRIBUTES = ("training_info_", "metadata_")
# The compiled form of each fitted logistic regression, with the coefficient
# arrays it was built from: rebuilt when they are replaced.
_COMPILED: weakref.WeakKeyDictionary[Any, tuple[tuple[int, int], CompiledModel]] = weakref.WeakKeyDictionary()
# Training reports its stages here; the command line shows them on a terminal.
_LOG = logging.getLogger("invitecls")


def _threshold_for_rate(scores: np.ndarray, rate: float) -> float:
    """Smallest threshold t such that mean(scores >= t) <= rate."""
    if len(scores) == 0:
        return 0.5
    ordered = np.sort(scores)[::-1]
    allowed = int(np.floor(rate * len(ordered)))
    if allowed >= len(ordered):
        return 0.0
    return float(np.nextafter(ordered[allowed], np.inf))


def decision_threshold(p_spam: np.ndarray, is_spam: np.ndarray, max_genuine_flagged: float) -> float:
    """The default task's threshold rule, shared with the benchmarks' baselines.

    Parameters
    ----------
    p_spam : ndarray of shape (n_notes,)
        Calibrated out-of-fold probabilities of spam.
    is_spam : ndarray of bool, shape (n_notes,)
        The true labels (True: spam).
    max_genuine_flagged : float
        The largest share of genuine notes that may be labelled spam.

    Returns
    -------
    float
        The smallest probability, and at least 0.5, at or above which at most
        ``max_genuine_flagged`` of the genuine notes fall.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0.1, 0.55, 0.7, 0.9, 0.95])
    >>> is_spam = np.array([False, False, False, True, True])
    >>> t = decision_threshold(p, is_spam, max_genuine_flagged=0.0)  # just above the likeliest genuine note
    >>> 0.7 < t < 0.7 + 1e-9
    True
    """
    return float(max(0.5, _threshold_for_rate(p_spam[~is_spam], max_genuine_flagged)))


def grouped_folds(y: np.ndarray, group_ids: np.ndarray, n_splits: int, random_state: int) -> list[tuple[Any, Any]]:
    """The folds of the internal cross-validation: stratified, grouped, shuffled with a seed.

    Parameters
    ----------
    y : ndarray of shape (n_notes,)
        Labels, for the stratification.
    group_ids : ndarray of shape (n_notes,)
        Group of each note: a group never straddles two folds.
    n_splits : int
        Number of folds, at least 2.
    random_state : int
        Seed of the shuffle.

    Returns
    -------
    list of (ndarray, ndarray)
        The training and test indices of each fold.

    See Also
    --------
    sklearn.model_selection.StratifiedGroupKFold : The splitter used.
    """
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros(len(y)), y, group_ids))


def cv_metrics(y: np.ndarray, p_spam: np.ndarray, threshold: float) -> dict[str, float]:
    """Metrics of the default task from probabilities of spam.

    Parameters
    ----------
    y : ndarray of str, shape (n_notes,)
        The labels, ``"spam"`` or ``"genuine"``.
    p_spam : ndarray of shape (n_notes,)
        Probabilities of spam.
    threshold : float
        A note is labelled spam when its probability is at or above it.

    Returns
    -------
    dict of str to float
        ``macro_f1``, ``genuine_flagged`` (share of genuine notes labelled
        spam), ``spam_caught`` (share of spam labelled spam), ``accuracy``, and
        ``roc_auc`` when both labels occur.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array(["genuine", "genuine", "spam", "spam"])
    >>> metrics = cv_metrics(y, np.array([0.2, 0.6, 0.7, 0.9]), threshold=0.5)
    >>> metrics["genuine_flagged"], metrics["spam_caught"], metrics["roc_auc"]
    (0.5, 1.0, 1.0)
    """
    from sklearn.metrics import f1_score, roc_auc_score

    is_spam = y == "spam"
    predicted = p_spam >= threshold
    genuine = ~is_spam
    out = {
        "macro_f1": float(f1_score(is_spam, predicted, average="macro")),
        "genuine_flagged": float(predicted[genuine].mean()) if genuine.any() else float("nan"),
        "spam_caught": float(predicted[is_spam].mean()) if is_spam.any() else float("nan"),
        "accuracy": float((predicted == is_spam).mean()),
    }
    if is_spam.any() and genuine.any():
        out["roc_auc"] = float(roc_auc_score(is_spam, p_spam))
    return out


class InviteClassifier(ClassifierMixin, BaseEstimator):
    """Tell a genuine connection request from a generic, spammy one.

    A logistic regression over ``InviteFeatures`` (word and character TF-IDF,
    similarity to generic templates, shared connections and whether the note
    reads like a pitch, note-level signals), with calibrated probabilities and
    decision thresholds chosen on grouped out-of-fold predictions.

    Parameters
    ----------
    word_ngram_range : tuple of (int, int), default=(1, 2)
        Smallest and largest number of words in a word n-gram. The words are
        the Snowball stems of the normalised note's words.
    char_ngram_range : tuple of (int, int), default=(3, 5)
        Smallest and largest length of a character n-gram of the normalised
        note; n-grams run across word boundaries.
    min_df : int or float, default=2
        Keep an n-gram found in at least this many training notes (int) or
        this share of them (float). An int larger than the number of notes
        with text is read as 1 (``features_.min_df_`` is the value used).
    max_features : int or None, default=60000
        Keep at most this many n-grams per block, the most frequent; None
        keeps them all.
    sublinear_tf : bool, default=True
        Count an n-gram found ``tf`` times in a note as ``1 + log(tf)``.
    templates : sequence of str or None, default=None
        Generic notes: a note's similarity to the nearest is a feature, and an
        explanation names it. None uses the shipped list
        (``invitecls.default_templates``).
    C : float, default=32.0
        Inverse regularisation strength of the logistic regression.
    class_weight : "balanced", dict or None, default="balanced"
        Class weights of the logistic regression.
    max_iter : int, default=3000
        Iterations of the solver.
    cv : int, default=5
        Folds of the internal grouped cross-validation (binary tasks), fewer
        when a class or the groups are too few. 0 or 1 turns it off: no
        calibration, threshold 0.5.
    calibrate : bool, default=True
        Platt-scale the probabilities on the out-of-fold scores.
    max_genuine_flagged : float, default=0.02
        Default task: the decision threshold keeps at most this share of the
        genuine training notes (out of fold) labelled spam.
    max_genuine_declined : float, default=0.005
        Default task: above ``decline_threshold_`` at most this share of the
        genuine notes falls (``action == "decline"``).
    max_spam_accepted : float, default=0.05
        Default task: below ``accept_threshold_`` at most this share of the spam
        notes falls (``action == "accept"``); between the two is ``"ask"``.
    nb_scaling : bool, default=True
        Binary tasks: weight each n-gram by its naive-Bayes log-count ratio
        before the logistic regression (NBSVM-style), then fold the weights
        into the coefficients.
    block_weights : dict of str to float, or None, default=None
        Scale of each block of features before fitting, by block name
        (``word``, ``char``, ``template``, ``counts``, ``style``,
        ``concepts``; see ``InviteFeatures.get_feature_blocks_out``). Below 1
        regularises a block more, so that the model leans on it less; 0 drops
        it. Folded into the coefficients like ``nb_scaling``. A block left out
        keeps its default weight: 1, except
        ``style`` (length, emoji, "!", numbers, unusual words), which is 0 so
        that a verdict never rests on how a note is written; pass
        ``{"style": 1.0}`` to let a model read it.
    random_state : int, default=0
        Seed of the fold assignment.

    Attributes
    ----------
    classes_ : ndarray of str of shape (n_classes,)
        The labels, sorted; ``classes_[1]`` is the positive class of a binary
        task.
    is_default_task_ : bool
        Whether the labels are exactly ``"genuine"`` and ``"spam"``: then the
        thresholds and the accept / ask / decline bands are learnt.
    features_ : InviteFeatures
        The features, fitted on all the training notes.
    logreg_ : sklearn.linear_model.LogisticRegression
        Fitted on all the training notes; its coefficients include the
        naive-Bayes and block weights and the calibration.
    threshold_ : float
        Probability of the positive class (``classes_[1]``, "spam" in the default
        task) at or above which a note gets that label.
    accept_threshold_ : float or None
        Default task: below this probability of spam a note is accepted
        (``action == "accept"``); None for other tasks.
    decline_threshold_ : float or None
        Default task: from this probability of spam on a note is declined
        (``action == "decline"``); between the two it is ``"ask"``. None for
        other tasks.
    calibration_ : tuple of (float, float)
        Slope and intercept of the Platt scaling ((1, 0) when off).
    cv_scores_ : dict of str to float
        Default task: the grouped cross-validation's ``macro_f1``,
        ``genuine_flagged``, ``spam_caught``, ``accuracy``, ``roc_auc`` and
        ``n_splits`` (see ``cv_metrics``); empty for other tasks or without
        cross-validation.
    cv_proba_ : ndarray of shape (n_notes,) or None
        Binary tasks: the calibrated out-of-fold probability of ``classes_[1]``
        of each training note (what the thresholds and ``cv_scores_`` were
        computed from); None when no cross-validation ran.
    surface_ : dict of str to str
        The usual training word of each stem that differs from it, for
        explanations.
    stems_ : dict of str to dict of str to str
        For each Snowball stemmer, the stem of every training word: predicting
        them needs no nltk.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients of the logistic regression (``logreg_.coef_``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Its intercept (``logreg_.intercept_``).

    See Also
    --------
    InviteFeatures : The features on their own.
    invitecls.train : Fit on a labelled file, by default on top of the shipped corpus.
    invitecls.train_with_report : The same, with the report on one's own notes.
    invitecls.save_model : Write a fitted model as one file.
    invitecls.classify_many : Classify notes with a fitted or saved model.

    Notes
    -----
    ``fit`` takes ``groups``, ``sample_weight`` and ``pitch``. Inside
    scikit-learn's model selection (``GridSearchCV``, ``cross_validate``) with
    metadata routing on (``sklearn.set_config(enable_metadata_routing=True)``),
    ask for them with ``set_fit_request(groups=True, sample_weight=True,
    pitch=True)``: each fit then gets the groups, weights and pitches of its
    training notes. Without routing,
    ``groups`` given to those tools reaches only their splitter, and each fit
    groups identical notes itself.

    Examples
    --------
    >>> from invitecls import InviteClassifier
    >>> notes = [("Hi Anders, I'd like to connect with you on LinkedIn.", 0),
    ...          ("I'd like to add you to my professional network.", 1),
    ...          ("Great meeting you at PyData Oslo! Can I send you the slides?", 2),
    ...          ("Thanks for the talk on wind turbine blades, could we compare inspection data?", 14)]
    >>> labels = ["spam", "spam", "genuine", "genuine"]
    >>> model = InviteClassifier(min_df=1, cv=0).fit(notes, labels)
    >>> model.classes_.tolist(), model.threshold_
    (['genuine', 'spam'], 0.5)
    >>> model.predict([("Hi Maja, I'd like to connect with you on LinkedIn.", 0),
    ...                ("Great meeting you at the PyData sprint, can I send you my notes?", 3)]).tolist()
    ['spam', 'genuine']

    A real model trains on thousands of notes, with the internal
    cross-validation on (``cv=5``) and groups of near-copies
    (``fit(X, y, groups=...)``): see ``invitecls.train``.
    """

    # Checked at ``fit``, as scikit-learn's own estimators do: a wrong value fails
    # at once with the parameter's name, not deep inside the solver.
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "word_ngram_range": [tuple],
        "char_ngram_range": [tuple],
        "min_df": [Interval(Integral, 1, None, closed="left"), Interval(RealNotInt, 0, 1, closed="both")],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "sublinear_tf": ["boolean"],
        "templates": [tuple, list, None],
        "C": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 0, None, closed="left")],
        "calibrate": ["boolean"],
        "max_genuine_flagged": [Interval(Real, 0, 1, closed="both")],
        "max_genuine_declined": [Interval(Real, 0, 1, closed="both")],
        "max_spam_accepted": [Interval(Real, 0, 1, closed="both")],
        "nb_scaling": ["boolean"],
        "block_weights": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (3, 5),
        min_df: int | float = 2,
        max_features: int | None = 60_000,
        sublinear_tf: bool = True,
        templates: tuple[str, ...] | None = None,
        C: float = 32.0,
        class_weight: str | None = "balanced",
        max_iter: int = 3000,
        cv: int = 5,
        calibrate: bool = True,
        max_genuine_flagged: float = 0.02,
        max_genuine_declined: float = 0.005,
        max_spam_accepted: float = 0.05,
        nb_scaling: bool = True,
        block_weights: dict[str, float] | None = None,
        random_state: int = 0,
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.templates = templates
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.cv = cv
        self.calibrate = calibrate
        self.max_genuine_flagged = max_genuine_flagged
        self.max_genuine_declined = max_genuine_declined
        self.max_spam_accepted = max_spam_accepted
        self.nb_scaling = nb_scaling
        self.block_weights = block_weights
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__({k: v for k, v in state.items() if k not in _LEGACY_ATTRIBUTES})

    # ------------------------------------------------------------------ fit

    def _make_features(self) -> InviteFeatures:
        return InviteFeatures(
            word_ngram_range=self.word_ngram_range,
            char_ngram_range=self.char_ngram_range,
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
            templates=self.templates,
        )

    def _check_block_weights(self) -> None:
        for block, weight in (self.block_weights or {}).items():
            if block not in BLOCK_NAMES:
                raise ValueError(f"block_weights: unknown block {block!r}; the blocks are {', '.join(BLOCK_NAMES)}")
            if not (isinstance(weight, (int, float)) and np.isfinite(weight) and weight >= 0):
                raise ValueError(f"block_weights[{block!r}] must be a finite number >= 0, got {weight!r}")

    def _make_logreg(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)

    def _fit_once(
        self, batch: Batch, y: np.ndarray, weight: np.ndarray | None, pitch: np.ndarray | None, groups: np.ndarray
    ) -> tuple[InviteFeatures, LogisticRegression]:
        # The solver's path depends on how many threads BLAS sums with: one
        # thread makes training reproducible on any machine setting.
        with threadpool_limits(limits=1):
            return self._fit_once_unthreaded(batch, y, weight, pitch, groups)

    def _fit_once_unthreaded(
        self, batch: Batch, y: np.ndarray, weight: np.ndarray | None, pitch: np.ndarray | None, groups: np.ndarray
    ) -> tuple[InviteFeatures, LogisticRegression]:
        features = self._make_features()
        matrix = features._fit_transform_batch(batch, pitch, groups)
        n_sparse = features.n_word_features_ + features.n_char_features_
        scale = np.ones(matrix.shape[1])
        if len(np.unique(y)) == 2 and self.nb_scaling:
            # NB-weighted logistic regression (Wang & Manning, 2012): scale each
            # n-gram by how unevenly the two classes use it.
            scale[:n_sparse] = _nb_scale(matrix, y == np.unique(y)[1], n_sparse=n_sparse)
        blocks = features.get_feature_blocks_out()
        for block, block_weight in {**DEFAULT_BLOCK_WEIGHTS, **(self.block_weights or {})}.items():
            scale[blocks == block] *= block_weight
        if np.all(scale == 1.0):
            return features, self._make_logreg().fit(matrix, y, sample_weight=weight)
        # Fit on the scaled features, then fold the scale into the coefficients
        # so that the model reads the plain features.
        logreg = self._make_logreg().fit(matrix @ sp.diags(scale), y, sample_weight=weight)
        logreg.coef_ = logreg.coef_ * scale
        return features, logreg

    def fit(self, X: Any, y: Any, groups: Any = None, sample_weight: Any = None, pitch: Any = None) -> InviteClassifier:
        """Fit the model.

        Parameters
        ----------
        X : DataFrame, sequence of (message, mutual_connections) pairs, or sequence of str
            The notes. A DataFrame needs a ``message`` column and may have a
            ``mutual_connections`` column (NaN or None: unknown). A plain
            sequence of notes means every count is unknown.
        y : array-like of shape (n_notes,)
            Labels: any two or more classes. With exactly ``"genuine"`` and
            ``"spam"`` the model also learns the decision thresholds of the
            default task.
        groups : array-like of shape (n_notes,), default=None
            Group ids for the internal cross-validation: variants of one note
            share a group and never straddle folds. None: notes that are
            identical after normalisation (names masked) share a group. With
            scikit-learn's metadata routing on, request it with
            ``set_fit_request(groups=True)``.
        sample_weight : array-like of shape (n_notes,), default=None
            Weight of each note in the logistic regression's loss (for
            example, one's own labels counted more than a base corpus's). The
            vocabulary, the naive-Bayes ratios, the calibration and the
            thresholds count every note once. None: all notes weigh the same.
            With metadata routing on, request it with
            ``set_fit_request(sample_weight=True)``.
        pitch : array-like of shape (n_notes,) of bool or None, default=None
            Which notes are pitches, scams or vague recruiting offers, for the
            features' first stage (see ``InviteFeatures.fit``); None, or None
            for a note: the lexicon tells. ``invitecls.train`` derives it from
            a ``kind`` column. With metadata routing on, request it with
            ``set_fit_request(pitch=True)``.

        Returns
        -------
        self : InviteClassifier
            Fitted.

        Raises
        ------
        ValueError
            A parameter out of its range, fewer than two classes, a missing
            label, ``groups``, ``sample_weight`` or ``pitch`` of another
            length than ``X``, or notes that are all empty.
        """
        self._validate_params()
        self._check_block_weights()
        messages, mutual = as_notes(X)
        y_arr = _check_labels(y, len(messages))
        weight = _check_weight(sample_weight, len(y_arr))
        pitch_arr = check_pitch(pitch, len(y_arr))
        _LOG.info("features: normalising %d notes", len(y_arr))
        batch = prepare(messages, mutual)
        groups_of_notes = group_ids(batch, groups)
        self.classes_ = np.unique(y_arr)
        self.is_default_task_ = tuple(self.classes_) == DEFAULT_LABELS
        slope, intercept = self._calibrate_and_choose_thresholds(batch, y_arr, groups_of_notes, weight, pitch_arr)
        _LOG.info("final fit on all %d notes", len(y_arr))
        self.features_, self.logreg_ = self._fit_once(batch, y_arr, weight, pitch_arr, groups_of_notes)
        if slope != 1.0 or intercept != 0.0:
            # Fold the Platt scaling into the model: still one logistic regression.
            self.logreg_.coef_ = self.logreg_.coef_ * slope
            self.logreg_.intercept_ = self.logreg_.intercept_ * slope + intercept
        self.calibration_ = (float(slope), float(intercept))
        self.surface_ = self._surface_words(batch)
        self.stems_ = self._training_stems(batch)
        return self

    def _calibrate_and_choose_thresholds(
        self, batch: Batch, y: np.ndarray, group_ids: np.ndarray, weight: np.ndarray | None, pitch: np.ndarray | None
    ) -> tuple[float, float]:
        """Out-of-fold scores of a binary task: the Platt scaling (returned), thresholds, metrics."""
        slope, intercept = 1.0, 0.0
        self.threshold_ = 0.5
        self.accept_threshold_: float | None = None
        self.decline_threshold_: float | None = None
        self.cv_scores_: dict[str, float] = {}
        self.cv_proba_: np.ndarray | None = None
        binary = len(self.classes_) == 2 and self.cv >= 2
        oof = self._out_of_fold(batch, y, group_ids, weight, pitch) if binary else None
        if oof is not None:
            positive = y == self.classes_[1]
            _LOG.info("calibration and thresholds")
            if self.calibrate:
                slope, intercept = platt_scaling(oof, positive)
            self.cv_proba_ = sigmoid(slope * oof + intercept)
            if self.is_default_task_:
                self._set_thresholds(self.cv_proba_, positive)
                self.cv_scores_ = cv_metrics(y, self.cv_proba_, self.threshold_)
                self.cv_scores_["n_splits"] = float(self._n_splits_used)
        if self.is_default_task_ and self.accept_threshold_ is None:
            self.accept_threshold_ = self.decline_threshold_ = self.threshold_
        return slope, intercept

    def _out_of_fold(
        self, batch: Batch, y: np.ndarray, group_ids: np.ndarray, weight: np.ndarray | None, pitch: np.ndarray | None
    ) -> np.ndarray | None:
        smallest = min(Counter(y).values())
        n_splits = min(int(self.cv), smallest, len(np.unique(group_ids)))
        self._n_splits_used = n_splits
        if n_splits < 2:
            return None
        oof = np.zeros(len(y))
        for k, (train_idx, test_idx) in enumerate(grouped_folds(y, group_ids, n_splits, self.random_state), 1):
            # A fold that cannot be fitted (one class, or no note with text) leaves the model uncalibrated.
            if len(np.unique(y[train_idx])) < 2 or not any(batch.canon[i] for i in train_idx):
                return None
            _LOG.info("fold %d of %d", k, n_splits)
            fold_weight = None if weight is None else weight[train_idx]
            fold_pitch = None if pitch is None else pitch[train_idx]
            fold = (batch.take(train_idx), y[train_idx], fold_weight, fold_pitch, group_ids[train_idx])
            features, logreg = self._fit_once(*fold)
            oof[test_idx] = logreg.decision_function(features._transform_batch(batch.take(test_idx))[0])
        return oof

    def _set_thresholds(self, p_spam: np.ndarray, is_spam: np.ndarray) -> None:
        genuine, spam = p_spam[~is_spam], p_spam[is_spam]
        threshold = decision_threshold(p_spam, is_spam, self.max_genuine_flagged)
        decline = max(threshold, _threshold_for_rate(genuine, self.max_genuine_declined))
        ordered = np.sort(spam)
        allowed = int(np.floor(self.max_spam_accepted * len(ordered)))
        accept = float(ordered[allowed]) if allowed < len(ordered) else threshold
        self.threshold_ = float(threshold)
        self.decline_threshold_ = float(min(decline, 1.0))
        self.accept_threshold_ = float(min(accept, threshold))

    def _surface_words(self, batch: Batch) -> dict[str, str]:
        vocabulary = self.features_.word_vectorizer_.vocabulary_
        counts: dict[str, Counter[str]] = {}
        for tokens, stems in zip(batch.tokens, batch.stems):
            for token, stemmed in zip(tokens, stems):
                if stemmed in vocabulary:
                    counts.setdefault(stemmed, Counter())[token] += 1
        # Only stems whose usual word differs need a lookup; the rest read as they are.
        surface = {s: c.most_common(1)[0][0] for s, c in counts.items()}
        return {s: w for s, w in surface.items() if s != w}

    @staticmethod
    def _training_stems(batch: Batch) -> dict[str, dict[str, str]]:
        """Stems of the training words, per stemmer: predicting them needs no nltk."""
        stems: dict[str, dict[str, str]] = {}
        for name, tokens, stemmed in zip(batch.stemmers, batch.tokens, batch.stems):
            if name is not None:
                stems.setdefault(name, {}).update(zip(tokens, stemmed))
        return {name: dict(sorted(mapping.items())) for name, mapping in sorted(stems.items())}

    # -------------------------------------------------------------- predict

    def _check(self) -> None:
        check_is_fitted(self, "logreg_")

    def _transform_batch(self, batch: Batch) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Features, template similarity and best template of a prepared batch."""
        self._check()
        return self.features_._transform_batch(batch)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities.

        Parameters
        ----------
        X : DataFrame, sequence of (message, mutual_connections) pairs, or sequence of str
            The notes, in any of the forms ``fit`` takes.

        Returns
        -------
        ndarray of shape (n_notes, n_classes)
            Columns in the order of ``classes_``.
        """
        self._check()
        matrix = self.features_._transform_batch(prepare(*as_notes(X)))[0]
        return self.logreg_.predict_proba(matrix)  # type: ignore[no-any-return]

    def decision_function(self, X: Any) -> np.ndarray:
        """Calibrated log-odds of ``classes_[1]`` (binary) or per class.

        Parameters
        ----------
        X : DataFrame, sequence of (message, mutual_connections) pairs, or sequence of str
            The notes, in any of the forms ``fit`` takes.

        Returns
        -------
        ndarray of shape (n_notes,) or (n_notes, n_classes)
        """
        self._check()
        matrix = self.features_._transform_batch(prepare(*as_notes(X)))[0]
        return self.logreg_.decision_function(matrix)  # type: ignore[no-any-return]

    def _labels_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """Labels from probabilities, applying ``threshold_`` to binary tasks."""
        return self._compiled().labels(proba)

    def predict(self, X: Any) -> np.ndarray:
        """Labels of the notes (the binary threshold applied).

        Parameters
        ----------
        X : DataFrame, sequence of (message, mutual_connections) pairs, or sequence of str
            The notes, in any of the forms ``fit`` takes.

        Returns
        -------
        ndarray of shape (n_notes,)
            A binary task labels a note ``classes_[1]`` when its probability
            is at or above ``threshold_``; other tasks, the most probable class.
        """
        return self._labels_from_proba(self.predict_proba(X))

    def _compiled(self) -> CompiledModel:
        """This model compiled for fast prediction.

        Built once per fit; the thresholds are read from the estimator on
        every call, so that a changed ``threshold_`` (or ``accept_threshold_``,
        ``decline_threshold_``) takes effect at once, in ``predict`` and in
        ``save`` alike.
        """
        self._check()
        arrays = (id(self.logreg_.coef_), id(self.logreg_.intercept_))
        cached = _COMPILED.get(self.logreg_)
        if cached is None or cached[0] != arrays:
            cached = (arrays, CompiledModel.from_estimator(self))
            _COMPILED[self.logreg_] = cached
        compiled = cached[1]
        thresholds = (self.threshold_, self.accept_threshold_, self.decline_threshold_)
        if thresholds != (compiled.threshold, compiled.accept_threshold, compiled.decline_threshold):
            compiled = dataclasses.replace(
                compiled,
                threshold=float(self.threshold_),
                accept_threshold=None if self.accept_threshold_ is None else float(self.accept_threshold_),
                decline_threshold=None if self.decline_threshold_ is None else float(self.decline_threshold_),
            )
            _COMPILED[self.logreg_] = (arrays, compiled)
        return compiled

    # ------------------------------------------------------------ inspect

    @property
    def coef_(self) -> np.ndarray:
        """Coefficients of the (calibrated) logistic regression."""
        self._check()
        return self.logreg_.coef_  # type: ignore[no-any-return]

    @property
    def intercept_(self) -> np.ndarray:
        """Intercept of the (calibrated) logistic regression."""
        self._check()
        return self.logreg_.intercept_  # type: ignore[no-any-return]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the features the logistic regression weighs.

        Parameters
        ----------
        input_features : None
            Ignored; there for the scikit-learn API (the input is text).

        Returns
        -------
        ndarray of str of shape (n_features,)
            Aligned with the columns of ``coef_``; see
            ``InviteFeatures.get_feature_names_out``.
        """
        self._check()
        return self.features_.get_feature_names_out()

    def save(self, path: str | PathLike[str], *, overwrite: bool = False) -> None:
        """Write the model and its JSON metadata as one file, atomically.

        Parameters
        ----------
        path : str or path-like
            ``*.joblib`` (for your own use) or ``*.skops`` (safe to share).
        overwrite : bool, default=False
            Replace an existing file (kept as ``path + ".bak"``).

        See Also
        --------
        invitecls.save_model : The same, with what was trained on in the metadata.
        invitecls.load_model : Read it back.
        """
        from invitecls._persist import save_model

        save_model(self, path, overwrite=overwrite)


def _check_labels(y: Any, n: int) -> np.ndarray:
    """``y`` as strings, one per note, of two or more classes; else a ``ValueError`` saying what is wrong."""
    labels = np.asarray(y, dtype=object).reshape(-1)
    if len(labels) != n:
        raise ValueError(f"X has {n} notes but y has {len(labels)} labels")
    if any(label is None or (isinstance(label, float) and np.isnan(label)) for label in labels):
        raise ValueError("y contains missing labels")
    labels = labels.astype(str)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(f"need at least two classes to fit, got {len(classes)}: {list(classes)}")
    return labels


def _check_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    """``sample_weight`` as finite non-negative floats, one per note (None: all equal)."""
    if sample_weight is None:
        return None
    weight = np.asarray(sample_weight, dtype=float).reshape(-1)
    if len(weight) != n:
        raise ValueError(f"sample_weight has {len(weight)} entries, X has {n} notes")
    if not (np.isfinite(weight).all() and (weight >= 0).all() and weight.sum() > 0):
        raise ValueError("sample_weight must be finite, >= 0 and not all 0")
    return weight


def _nb_scale(matrix: sp.csr_matrix, positive: np.ndarray, n_sparse: int, alpha: float = 1.0) -> np.ndarray:
    """1 + |log-count ratio| of each of the first ``n_sparse`` columns (the n-grams)."""
    p = np.asarray(matrix[positive].sum(axis=0)).ravel()[:n_sparse] + alpha
    q = np.asarray(matrix[~positive].sum(axis=0)).ravel()[:n_sparse] + alpha
    scale: np.ndarray = 1.0 + np.abs(np.log((p / p.sum()) / (q / q.sum())))
    return scale


def platt_scaling(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """Slope and intercept mapping out-of-fold scores to calibrated log-odds (Platt scaling).

    Parameters
    ----------
    scores : ndarray of shape (n_notes,)
        Out-of-fold log-odds of the positive class.
    positive : ndarray of bool, shape (n_notes,)
        The true labels (True: the positive class).

    Returns
    -------
    slope, intercept : float
        Calibrated log-odds are ``slope * scores + intercept``; (1, 0) when
        the fitted slope is not positive and finite.
    """
    with threadpool_limits(limits=1):
        model = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), positive.astype(int))
    slope = float(model.coef_[0, 0])
    if not np.isfinite(slope) or slope <= 0:
        return 1.0, 0.0
    return slope, float(model.intercept_[0])
