"""InviteClassifier follows scikit-learn's conventions: routed metadata, fitted attributes from fit, its vocabularies.

| convention (issue 15) | checked by |
|---|---|
| ``groups``, ``sample_weight`` and ``pitch`` follow metadata routing in a grid search | each fit gets its fold's |
| ``clone`` keeps the parameters and the requests, and nothing fitted | ``clone`` of a fitted, routed model |
| empty notes add no n-gram, the rest fitted as scikit-learn would | scikit-learn's vectorizer, same notes |
| no note with text, or a class of empty notes | a one-line error, or a model that works |
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, GroupKFold

import invitecls
from invitecls import InviteClassifier, InviteFeatures
from invitecls._cli import main
from invitecls._prepare import prepare


class _Recording(InviteClassifier):
    """An InviteClassifier that records the groups, weights and pitches each fit gets."""

    calls: ClassVar[list[tuple[int, tuple[str, ...] | None, float | None, int | None]]] = []

    def fit(self, X: Any, y: Any, groups: Any = None, sample_weight: Any = None, pitch: Any = None) -> _Recording:
        self.calls.append(
            (
                len(y),
                None if groups is None else tuple(groups),
                None if sample_weight is None else sum(sample_weight),
                None if pitch is None else int(sum(pitch)),
            )
        )
        return super().fit(X, y, groups=groups, sample_weight=sample_weight, pitch=pitch)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def few(small_train) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """About 120 training notes with their groups: a grid search over them takes a second or two."""
    data = small_train.subset(range(0, len(small_train), 16))
    return data.X, np.asarray(data.labels), np.asarray(data.groups)


def test_groups_and_weights_are_routed_to_each_fit_of_a_grid_search(few) -> None:
    X, y, groups = few
    weight = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)
    pitch = np.arange(len(y)) % 4 == 0
    splitter = GroupKFold(n_splits=2)
    _Recording.calls.clear()
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = _Recording(cv=2).set_fit_request(groups=True, sample_weight=True, pitch=True)
        search = GridSearchCV(estimator, {"C": [1.0, 8.0]}, cv=splitter, scoring="f1_macro")
        search.fit(X, y, groups=groups, sample_weight=weight, pitch=pitch)
    # Every fit of every fold got the groups, weights and pitches of its own training notes, then the refit all.
    expected = {
        (len(train), tuple(groups[train]), weight[train].sum(), int(pitch[train].sum()))
        for train, _ in splitter.split(X, y, groups)
    }
    assert set(_Recording.calls[:-1]) == expected and len(_Recording.calls) == 2 * len(expected) + 1
    assert _Recording.calls[-1] == (len(y), tuple(groups), weight.sum(), int(pitch.sum()))
    # The refit is the model fit directly with them; their groups, not the default ones, made its folds.
    best = search.best_estimator_
    direct = InviteClassifier(cv=2, C=search.best_params_["C"]).fit(
        X, y, groups=groups, sample_weight=weight, pitch=pitch
    )
    np.testing.assert_array_equal(best.coef_, direct.coef_)
    np.testing.assert_array_equal(best.cv_proba_, direct.cv_proba_)
    ungrouped = InviteClassifier(cv=2, C=search.best_params_["C"]).fit(X, y, sample_weight=weight, pitch=pitch)
    assert not np.array_equal(ungrouped.cv_proba_, direct.cv_proba_)


def test_without_routing_groups_reach_only_the_splitter(few) -> None:
    X, y, groups = few
    _Recording.calls.clear()
    GridSearchCV(_Recording(cv=0), {"C": [8.0]}, cv=GroupKFold(n_splits=2)).fit(X, y, groups=groups)
    assert [call[1] for call in _Recording.calls] == [None, None, None]


def test_clone_keeps_parameters_and_requests_and_nothing_fitted(small_model) -> None:
    with sklearn.config_context(enable_metadata_routing=True):
        routed = clone(small_model).set_params(C=4.0).set_fit_request(groups=True)
        copy = clone(routed)
        assert copy.get_metadata_routing().fit.requests == {"groups": True, "sample_weight": None, "pitch": None}
    assert copy.get_params() == routed.get_params() and copy.C == 4.0
    assert not [name for name in vars(copy) if name.endswith("_")]


# ------------------------------------------------------------ empty notes


NOTES = [
    ("", 0),
    ("Great meeting you at PyData Oslo! Can I send you our slides?", 2),
    (None, None),
    ("Hi Anders, I'd like to connect with you on LinkedIn.", 0),
    ("   ", 40),
    ("Thanks for the talk on wind turbine blades at PyData.", 3),
]


def test_empty_notes_add_no_n_gram_and_the_rest_are_fitted_as_scikit_learn_would() -> None:
    features = InviteFeatures(min_df=1).fit(NOTES)
    batch = prepare([m for m, _ in NOTES], np.array([np.nan if c is None else c for _, c in NOTES], dtype=float))
    assert sum(1 for text in batch.canon if not text) == 3
    # scikit-learn's vectorizer on the same normalised notes that have text.
    reference = TfidfVectorizer(analyzer="char", ngram_range=(3, 5), lowercase=False, sublinear_tf=True).fit(
        [text for text in batch.canon if text]
    )
    assert features.char_vectorizer_.vocabulary_ == reference.vocabulary_
    np.testing.assert_array_equal(features.char_vectorizer_.idf_, reference.idf_)
    assert "_empty_" not in features.word_vectorizer_.vocabulary_
    assert not any("emp" in term for term in features.char_vectorizer_.vocabulary_)
    # The fast path reads the same vocabularies: the same matrix as scikit-learn's transform,
    # in which an empty note has no n-gram.
    fast, slow = (features._transform_batch(batch, fast=f)[0] for f in (True, False))
    assert (fast != slow).nnz == 0 and fast[[0, 2, 4], : features.n_word_features_ + features.n_char_features_].nnz == 0


def test_notes_that_are_all_empty_are_one_clear_error() -> None:
    with pytest.raises(ValueError, match="cannot fit on 3 notes that are all empty"):
        InviteFeatures().fit(["", None, " \u200b "])
    with pytest.raises(ValueError, match="all empty"):
        InviteClassifier(cv=2).fit([("", 0), ("", 40)] * 5, ["spam", "genuine"] * 5)


def test_the_command_line_says_so_in_one_line(tmp_path: Path, capsys) -> None:
    data = tmp_path / "empty.csv"
    data.write_text(
        "message,mutual_connections,label\n" + "".join(f",{i},{'spam' if i % 2 else 'genuine'}\n" for i in range(40))
    )
    assert main(["train", str(data), "--output", str(tmp_path / "m.joblib"), "--base", "none", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{data}: field message: every note is empty" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv"]


def test_a_class_of_empty_notes_trains_and_predicts() -> None:
    genuine = [(f"Great meeting you at the PyData sprint {i}, could I send you the notes?", i) for i in range(12)]
    spam = [("", i % 3) for i in range(12)]
    model = InviteClassifier(cv=2, min_df=1).fit(genuine + spam, ["genuine"] * 12 + ["spam"] * 12)
    assert model.predict(
        [("", 1), ("Great meeting you at the PyData sprint, could I send you the notes?", 2)]
    ).tolist() == [
        "spam",
        "genuine",
    ]
    assert invitecls.classify("", 1, model=model).label == "spam"
