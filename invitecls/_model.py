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

import weakref
from collections import Counter
from collections.abc import Mapping
from os import PathLike
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from invitecls._compiled import KNOWN_SENDER_COUNT, CompiledModel
from invitecls._features import BLOCK_NAMES, InviteFeatures
from invitecls._prepare import Batch, prepare
from invitecls._validation import as_notes

__all__ = [
    "DEFAULT_BLOCK_WEIGHTS",
    "DEFAULT_LABELS",
    "KNOWN_SENDER_COUNT",
    "InviteClassifier",
    "cv_metrics",
    "decision_threshold",
    "grouped_folds",
    "platt_scaling",
    "sigmoid",
]

#: Weight of each feature block unless ``block_weights`` says otherwise (1 for the others).
DEFAULT_BLOCK_WEIGHTS: Mapping[str, float] = MappingProxyType({"style": 0.0})

#: The labels of the default task, as defined in the data card.
DEFAULT_LABELS = ("genuine", "spam")
_COMPILED: weakref.WeakKeyDictionary[Any, CompiledModel] = weakref.WeakKeyDictionary()


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

    The smallest probability of spam, and at least 0.5, at or above which at
    most ``max_genuine_flagged`` of the genuine notes fall, on out-of-fold
    calibrated probabilities.
    """
    return float(max(0.5, _threshold_for_rate(p_spam[~is_spam], max_genuine_flagged)))


def grouped_folds(y: np.ndarray, group_ids: np.ndarray, n_splits: int, random_state: int) -> list[tuple[Any, Any]]:
    """The folds of the internal cross-validation: stratified, grouped, shuffled with a seed."""
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(folds.split(np.zeros(len(y)), y, group_ids))


def cv_metrics(y: np.ndarray, p_spam: np.ndarray, threshold: float) -> dict[str, float]:
    """Metrics of the default task from probabilities of spam."""
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
    similarity to generic templates, shared connections, note-level signals),
    with calibrated probabilities and decision thresholds chosen on grouped
    out-of-fold predictions.

    Parameters
    ----------
    word_ngram_range, char_ngram_range, min_df, max_features, sublinear_tf, templates
        Passed to ``InviteFeatures``.
    C : float, default=32.0
        Inverse regularisation strength of the logistic regression.
    class_weight : "balanced" or None, default="balanced"
        Class weights of the logistic regression.
    max_iter : int, default=3000
        Iterations of the solver.
    cv : int, default=5
        Folds of the internal grouped cross-validation (binary tasks). 0 or 1
        turns it off: no calibration, threshold 0.5.
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
    classes_ : ndarray of str
    features_ : InviteFeatures
    logreg_ : LogisticRegression
        Fitted on all the data; its coefficients include the calibration.
    threshold_ : float
        Probability of the positive class (``classes_[1]``, "spam" in the default
        task) at or above which a note gets that label.
    accept_threshold_, decline_threshold_ : float or None
        The "ask" band of the default task; None for other tasks.
    calibration_ : tuple of float
        Slope and intercept of the Platt scaling ((1, 0) when off).
    cv_scores_ : dict
        Grouped cross-validation metrics of the default task (empty otherwise).
    surface_ : dict
        A readable word for each stem, for explanations.

    Examples
    --------
    >>> from invitecls import InviteClassifier, load_corpus
    >>> corpus = load_corpus()
    >>> train = corpus[corpus.split == "train"]  # doctest: +SKIP
    >>> model = InviteClassifier().fit(train[["message", "mutual_connections"]], train.label,
    ...                                groups=train.group)  # doctest: +SKIP
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

    def _fit_once(self, batch: Batch, y: np.ndarray) -> tuple[InviteFeatures, LogisticRegression]:
        # The solver's path depends on how many threads BLAS sums with: one
        # thread makes training reproducible on any machine setting.
        with threadpool_limits(limits=1):
            return self._fit_once_unthreaded(batch, y)

    def _fit_once_unthreaded(self, batch: Batch, y: np.ndarray) -> tuple[InviteFeatures, LogisticRegression]:
        features = self._make_features().fit_batch(batch)
        matrix = features.transform_batch(batch)[0]
        n_sparse = features.n_word_features_ + features.n_char_features_
        scale = np.ones(matrix.shape[1])
        if len(np.unique(y)) == 2 and self.nb_scaling:
            # NB-weighted logistic regression (Wang & Manning, 2012): scale each
            # n-gram by how unevenly the two classes use it.
            scale[:n_sparse] = _nb_scale(matrix, y == np.unique(y)[1], n_sparse=n_sparse)[:n_sparse]
        blocks = features.get_feature_blocks_out()
        for block, weight in {**DEFAULT_BLOCK_WEIGHTS, **(self.block_weights or {})}.items():
            scale[blocks == block] *= weight
        if np.all(scale == 1.0):
            return features, self._make_logreg().fit(matrix, y)
        # Fit on the scaled features, then fold the scale into the coefficients
        # so that the model reads the plain features.
        logreg = self._make_logreg().fit(matrix @ sp.diags(scale), y)
        logreg.coef_ = logreg.coef_ * scale
        return features, logreg

    def fit(self, X: Any, y: Any, groups: Any = None) -> InviteClassifier:
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
        groups : array-like of shape (n_notes,), optional
            Group ids for the internal cross-validation: variants of one note
            share a group and never straddle folds. By default notes that are
            identical after normalisation (names masked) share a group.

        Returns
        -------
        self
        """
        self._check_block_weights()
        messages, mutual = as_notes(X)
        y_arr = np.asarray(y, dtype=object).reshape(-1)
        if len(y_arr) != len(messages):
            raise ValueError(f"X has {len(messages)} notes but y has {len(y_arr)} labels")
        if any(label is None or (isinstance(label, float) and np.isnan(label)) for label in y_arr):
            raise ValueError("y contains missing labels")
        y_arr = y_arr.astype(str)
        classes = np.unique(y_arr)
        if len(classes) < 2:
            raise ValueError(f"need at least two classes to fit, got {len(classes)}: {list(classes)}")
        batch = prepare(messages, mutual)
        self.classes_ = classes
        self.is_default_task_ = tuple(classes) == DEFAULT_LABELS
        slope, intercept = 1.0, 0.0
        self.threshold_ = 0.5
        self.accept_threshold_: float | None = None
        self.decline_threshold_: float | None = None
        self.cv_scores_: dict[str, float] = {}
        if len(classes) == 2 and self.cv and self.cv >= 2:
            oof = self._out_of_fold(batch, y_arr, groups)
            if oof is not None:
                positive = y_arr == classes[1]
                if self.calibrate:
                    slope, intercept = platt_scaling(oof, positive)
                p = sigmoid(slope * oof + intercept)
                if self.is_default_task_:
                    self._set_thresholds(p, positive)
                    self.cv_scores_ = cv_metrics(y_arr, p, self.threshold_)
                    self.cv_scores_["n_splits"] = float(self._n_splits_used)
        elif self.is_default_task_:
            self.accept_threshold_ = self.decline_threshold_ = self.threshold_
        if self.is_default_task_ and self.accept_threshold_ is None:
            self.accept_threshold_ = self.decline_threshold_ = self.threshold_
        self.features_, self.logreg_ = self._fit_once(batch, y_arr)
        if slope != 1.0 or intercept != 0.0:
            # Fold the Platt scaling into the model: still one logistic regression.
            self.logreg_.coef_ = self.logreg_.coef_ * slope
            self.logreg_.intercept_ = self.logreg_.intercept_ * slope + intercept
        self.calibration_ = (float(slope), float(intercept))
        self.surface_ = self._surface_words(batch)
        self.stems_ = self._training_stems(batch)
        return self

    def _out_of_fold(self, batch: Batch, y: np.ndarray, groups: Any) -> np.ndarray | None:
        if groups is None:
            group_ids = np.unique(np.asarray(batch.canon, dtype=object), return_inverse=True)[1]
        else:
            group_ids = np.unique(np.asarray(groups, dtype=str).reshape(-1), return_inverse=True)[1]
            if len(group_ids) != len(y):
                raise ValueError(f"groups has {len(group_ids)} entries, X has {len(y)} notes")
        smallest = min(Counter(y).values())
        n_splits = min(int(self.cv), smallest, len(np.unique(group_ids)))
        self._n_splits_used = n_splits
        if n_splits < 2:
            return None
        oof = np.zeros(len(y))
        for train_idx, test_idx in grouped_folds(y, group_ids, n_splits, self.random_state):
            if len(np.unique(y[train_idx])) < 2:
                return None
            features, logreg = self._fit_once(batch.take(train_idx), y[train_idx])
            oof[test_idx] = logreg.decision_function(features.transform_batch(batch.take(test_idx))[0])
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

    def transform_batch(self, batch: Batch) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Features, template similarity and best template of a prepared batch."""
        self._check()
        return self.features_.transform_batch(batch)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities.

        Returns
        -------
        ndarray of shape (n_notes, n_classes)
            Columns in the order of ``classes_``.
        """
        self._check()
        matrix = self.features_.transform_batch(prepare(*as_notes(X)))[0]
        return self.logreg_.predict_proba(matrix)  # type: ignore[no-any-return]

    def decision_function(self, X: Any) -> np.ndarray:
        """Calibrated log-odds of ``classes_[1]`` (binary) or per class."""
        self._check()
        matrix = self.features_.transform_batch(prepare(*as_notes(X)))[0]
        return self.logreg_.decision_function(matrix)  # type: ignore[no-any-return]

    def labels_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """Labels from probabilities, applying ``threshold_`` to binary tasks."""
        return self.compiled().labels(proba)

    def predict(self, X: Any) -> np.ndarray:
        """Labels of the notes (the binary threshold applied).

        Returns
        -------
        ndarray of shape (n_notes,)
        """
        return self.labels_from_proba(self.predict_proba(X))

    def actions_for(self, batch: Batch, matrix: sp.csr_matrix, proba: np.ndarray) -> list[str | None]:
        """``accept``, ``ask`` or ``decline`` per note (see ``CompiledModel.actions``)."""
        return self.compiled().actions(batch, matrix, proba)

    def compiled(self) -> CompiledModel:
        """This model compiled for fast prediction (built once per fit)."""
        self._check()
        compiled = _COMPILED.get(self.logreg_)
        if compiled is None:
            compiled = CompiledModel.from_estimator(self)
            _COMPILED[self.logreg_] = compiled
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
        """Names of the features the logistic regression weighs."""
        self._check()
        return self.features_.get_feature_names_out()

    def save(self, path: str | PathLike[str], *, overwrite: bool = False) -> None:
        """Write the model and its JSON metadata atomically (see ``invitecls.save_model``)."""
        from invitecls._persist import save_model

        save_model(self, path, overwrite=overwrite)


def _nb_scale(matrix: sp.csr_matrix, positive: np.ndarray, n_sparse: int, alpha: float = 1.0) -> np.ndarray:
    """1 + |log-count ratio| of each n-gram; 1 for the dense features."""
    p = np.asarray(matrix[positive].sum(axis=0)).ravel()[:n_sparse] + alpha
    q = np.asarray(matrix[~positive].sum(axis=0)).ravel()[:n_sparse] + alpha
    ratio = np.log((p / p.sum()) / (q / q.sum()))
    return np.concatenate([1.0 + np.abs(ratio), np.ones(matrix.shape[1] - n_sparse)])


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, safe from overflow."""
    result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
    return result


def platt_scaling(scores: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """Slope and intercept mapping out-of-fold scores to calibrated log-odds (Platt scaling)."""
    with threadpool_limits(limits=1):
        model = LogisticRegression(C=1e6, max_iter=1000).fit(scores.reshape(-1, 1), positive.astype(int))
    slope = float(model.coef_[0, 0])
    if not np.isfinite(slope) or slope <= 0:
        return 1.0, 0.0
    return slope, float(model.intercept_[0])
