"""InviteClassifier and InviteFeatures behave as scikit-learn estimators."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.utils import estimator_checks as checks

import invitecls
from invitecls import InviteClassifier, InviteFeatures

# The scikit-learn checks that do not feed numeric arrays apply to a text
# estimator as they are; the data-driven ones are restated below on notes.
DATA_FREE_CHECKS = [
    checks.check_estimator_cloneable,
    checks.check_estimator_repr,
    checks.check_estimator_tags_renamed,
    checks.check_valid_tag_types,
    checks.check_no_attributes_set_in_init,
    checks.check_parameters_default_constructible,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_do_not_raise_errors_in_init_or_set_params,
    checks.check_mixin_order,
    checks.check_estimators_unfitted,
    checks.check_get_feature_names_out_error,
]


@pytest.mark.parametrize("estimator", [InviteClassifier(), InviteFeatures()], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=lambda c: c.__name__)
def test_scikit_learn_checks(estimator, check) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", checks.SkipTestWarning)
        check(type(estimator).__name__, estimator)


@pytest.fixture(scope="module")
def notes(small_train):
    return small_train.X, np.asarray(small_train.labels), np.asarray(small_train.groups)


@pytest.fixture(scope="module")
def few_notes(small_train):
    """A quarter of ``notes`` (about 650): for checks of a fit's form that need no accuracy."""
    few = small_train.subset(range(0, len(small_train), 4))
    return few.X, np.asarray(few.labels), np.asarray(few.groups)


def test_fit_returns_self_and_leaves_params_alone(few_notes) -> None:
    X, y, groups = few_notes
    model = InviteClassifier(cv=2, C=2.0)
    before = model.get_params()
    assert model.fit(X, y, groups=groups) is model
    assert model.get_params() == before
    public = {k for k in vars(model) if not k.startswith("_")}
    assert all(k in before or k.endswith("_") for k in public)


@pytest.mark.slow
def test_fit_is_idempotent_and_deterministic(notes) -> None:
    X, y, groups = notes
    model = InviteClassifier(cv=2)
    first = model.fit(X, y, groups=groups).predict_proba(X[:50])
    again = model.fit(X, y, groups=groups).predict_proba(X[:50])
    other = clone(model).fit(X, y, groups=groups).predict_proba(X[:50])
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, other)


def test_unfitted_raises(notes) -> None:
    with pytest.raises(NotFittedError):
        InviteClassifier().predict(notes[0][:3])


def test_predictions_do_not_depend_on_batch_or_order(small_model, notes) -> None:
    X = notes[0][:60]
    full = small_model.predict_proba(X)
    np.testing.assert_allclose(small_model.predict_proba(X[10:20]), full[10:20], rtol=0, atol=1e-12)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(small_model.predict_proba([X[i] for i in order]), full[order], rtol=0, atol=1e-12)


def test_probability_and_decision_agree(small_model, notes) -> None:
    X = notes[0][:80]
    proba = small_model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    decision = small_model.decision_function(X)
    # The probability is the logistic function of the decision, to rounding.
    np.testing.assert_allclose(1 / (1 + np.exp(-decision)), proba[:, 1], rtol=0, atol=1e-12)
    labels = small_model.predict(X)
    assert set(labels) <= {"spam", "genuine"}
    np.testing.assert_array_equal(labels == "spam", proba[:, 1] >= small_model.threshold_)


def test_accepts_dataframe_pairs_arrays_and_plain_notes(small_model, notes) -> None:
    X = notes[0][:20]
    pairs = small_model.predict_proba(X)
    frame = pd.DataFrame(X, columns=["message", "mutual_connections"])
    np.testing.assert_allclose(small_model.predict_proba(frame), pairs)
    array = np.asarray(X, dtype=object)
    np.testing.assert_allclose(small_model.predict_proba(array), pairs)
    plain = small_model.predict_proba([m for m, _ in X])
    unknown = small_model.predict_proba([(m, None) for m, _ in X])
    np.testing.assert_allclose(plain, unknown)
    with pytest.raises(TypeError, match="single str"):
        small_model.predict("just one note")
    with pytest.raises(ValueError, match="position 1"):
        small_model.predict([("a", 1), ("b", -4)])


def test_pickle_round_trip(small_model, notes) -> None:
    X = notes[0][:40]
    restored = pickle.loads(pickle.dumps(small_model))
    np.testing.assert_array_equal(restored.predict_proba(X), small_model.predict_proba(X))


def test_classes_one_label_and_integer_labels(few_notes) -> None:
    X, y, _ = few_notes
    with pytest.raises(ValueError, match="at least two classes"):
        InviteClassifier(cv=2).fit(X[:30], ["spam"] * 30)
    numeric = InviteClassifier(cv=0).fit(X, (y == "spam").astype(int))
    assert list(numeric.classes_) == ["0", "1"]
    assert numeric.accept_threshold_ is None and numeric.threshold_ == 0.5


@pytest.mark.slow
def test_multiclass_on_kind(small_train) -> None:
    kinds = small_train.columns["kind"]
    model = InviteClassifier(cv=0).fit(small_train.X, kinds)
    assert len(model.classes_) == len(set(kinds)) >= 10
    proba = model.predict_proba(small_train.X[:5])
    assert proba.shape == (5, len(model.classes_))
    predictions = invitecls.classify_many([m for m, _ in small_train.X[:5]], model=model)
    assert all(p.action is None for p in predictions)
    assert all(p.label in model.classes_ for p in predictions)


@pytest.mark.slow  # seconds: the quick suite must stay under 2 minutes
def test_thresholds_are_ordered_and_meet_the_target(notes) -> None:
    X, y, groups = notes
    model = InviteClassifier(cv=3, max_genuine_flagged=0.05).fit(X, y, groups=groups)
    assert 0 < model.accept_threshold_ <= model.threshold_ <= model.decline_threshold_ <= 1
    assert model.threshold_ >= 0.5
    assert model.cv_scores_["genuine_flagged"] <= 0.05
    assert set(model.cv_scores_) >= {"macro_f1", "roc_auc", "genuine_flagged", "spam_caught"}


@pytest.mark.slow  # fits a dozen models (7 s)
def test_grid_search_and_cross_validation(notes) -> None:
    X, y, groups = notes
    search = GridSearchCV(InviteClassifier(cv=0), {"C": [1.0, 8.0]}, cv=GroupKFold(n_splits=2), scoring="f1_macro")
    search.fit(X, y, groups=groups)
    assert search.best_params_["C"] in (1.0, 8.0)
    scores = cross_val_score(InviteClassifier(cv=0), X, y, groups=groups, cv=GroupKFold(n_splits=2))
    assert scores.shape == (2,) and np.all(scores > 0.6)


def test_feature_names_match_the_matrix(small_model, notes) -> None:
    names = small_model.get_feature_names_out()
    matrix = small_model.features_.transform(notes[0][:5])
    assert matrix.shape[1] == len(names) == small_model.coef_.shape[1]
    assert names[0].startswith("word:")
    assert any(n.startswith("char:") for n in names)
    from invitecls._prepare import DENSE_NAMES

    assert list(names[-len(DENSE_NAMES) :]) == list(DENSE_NAMES)
    assert DENSE_NAMES[:3] == ("template_similarity", "empty", "generic")


def test_feature_blocks_label_every_column(small_model) -> None:
    from invitecls._prepare import BLOCK_NAMES

    names = small_model.get_feature_names_out()
    blocks = small_model.features_.get_feature_blocks_out()
    assert len(blocks) == len(names) and set(blocks) == set(BLOCK_NAMES)
    assert all(b == n.split(":")[0] for b, n in zip(blocks, names) if b in ("word", "char"))
    by_name = dict(zip(names, blocks))
    assert by_name["cue_pitch_offer"] == by_name["money"] == "concepts"
    assert by_name["exclaim_log1p"] == by_name["emoji_log1p"] == "style"
    assert by_name["mutual_unknown"] == "counts" and by_name["template_similarity"] == "template"


@pytest.mark.slow
@pytest.mark.parametrize("block", ["word", "style", "concepts"])
def test_a_block_weighted_zero_is_not_read(few_notes, block) -> None:
    X, y, groups = few_notes
    model = InviteClassifier(cv=0, block_weights={block: 0.0}).fit(X, y, groups=groups)
    blocks = model.features_.get_feature_blocks_out()
    assert np.all(model.coef_[0, blocks == block] == 0)
    assert np.any(model.coef_[0, blocks != block] != 0)


@pytest.mark.parametrize(
    ("weights", "message"),
    [({"signal": 1.0}, "unknown block 'signal'"), ({"word": -1.0}, "finite number >= 0"), ({"char": "x"}, "finite")],
)
def test_block_weights_are_validated_at_fit(notes, weights, message) -> None:
    X, y, groups = notes
    with pytest.raises(ValueError, match=message):
        InviteClassifier(cv=0, block_weights=weights).fit(X, y, groups=groups)


def test_features_standalone() -> None:
    notes = [
        ("Hi Anders, I'd like to connect with you on LinkedIn.", 0),
        ("Great meeting you at PyData Oslo! Can I send you our slides?", 2),
    ] * 3
    features = InviteFeatures(min_df=1).fit(notes)
    matrix = features.transform(notes)
    assert matrix.shape == (6, len(features.get_feature_names_out()))
    similarity, best = features.template_similarity_from_chars(
        features.char_vectorizer_.transform(["hi _name_ id like to connect with you on linkedin"])
    )
    assert similarity[0] == pytest.approx(1.0)
    assert "connect with you" in features.templates_[best[0]].text


def test_each_note_is_vectorised_once(small_model, monkeypatch) -> None:
    import invitecls._compiled

    calls = []
    original = invitecls._compiled.char_block

    def counting(table, docs):
        calls.append(len(docs))
        return original(table, docs)

    monkeypatch.setattr(invitecls._compiled, "char_block", counting)
    invitecls.classify_many(["note one", "note two", "Let's connect!"], model=small_model)
    assert calls == [3]  # the template similarity reuses the character block


def test_custom_templates(few_notes) -> None:
    X, y, _groups = few_notes
    model = InviteClassifier(cv=0, templates=("Join my crypto signals group",)).fit(X, y)
    prediction = invitecls.classify("Join my crypto signals group!!", model=model)
    assert prediction.matched_template == "Join my crypto signals group"
    assert prediction.template_similarity > 0.9


def test_fast_path_equals_the_scikit_learn_path(small_model, notes) -> None:
    """The batched TF-IDF and the compiled model compute exactly what scikit-learn computes."""
    from invitecls._prepare import prepare

    X = notes[0][:400]
    batch = prepare([m for m, _ in X], np.array([np.nan if c is None else c for _, c in X], dtype=float))
    fast = small_model.features_._transform_batch(batch, fast=True)[0]
    slow = small_model.features_._transform_batch(batch, fast=False)[0]
    assert (fast != slow).nnz == 0
    np.testing.assert_array_equal(fast.indptr, slow.indptr)
    np.testing.assert_array_equal(fast.indices, slow.indices)
    np.testing.assert_array_equal(fast.data, slow.data)
    compiled = small_model._compiled()
    proba = compiled.predict_proba(compiled.transform(batch)[0])
    np.testing.assert_array_equal(proba, small_model.predict_proba(X))


def test_compiled_model_round_trip(tmp_path, small_model, notes) -> None:
    from invitecls._compiled import CompiledModel
    from invitecls._prepare import prepare

    path = tmp_path / "model.npz"
    small_model._compiled().save(path)
    loaded = CompiledModel.load(path)
    X = notes[0][:100]
    batch = prepare([m for m, _ in X], np.array([np.nan if c is None else c for _, c in X], dtype=float))
    np.testing.assert_array_equal(loaded.predict_proba(loaded.transform(batch)[0]), small_model.predict_proba(X))
    assert loaded.classes == tuple(small_model.classes_)
    assert loaded.threshold == small_model.threshold_


@pytest.mark.parametrize(
    "params",
    [
        {"max_genuine_flagged": 5.0},
        {"max_spam_accepted": -1},
        {"max_genuine_declined": 1.5},
        {"cv": "x"},
        {"C": 0},
        {"min_df": 0},
        {"class_weight": "even"},
        {"calibrate": "yes"},
    ],
    ids=lambda p: next(iter(p)),
)
def test_parameters_are_validated_at_fit_with_their_name(notes, params) -> None:
    from sklearn.utils._param_validation import InvalidParameterError

    X, y, groups = notes
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of InviteClassifier"):
        InviteClassifier(**params).fit(X, y, groups=groups)


def test_a_changed_threshold_takes_effect_in_predict_and_in_save(tmp_path, small_model, notes) -> None:
    from invitecls._persist import load_compiled, read_metadata

    X = notes[0][:300]
    model = pickle.loads(pickle.dumps(small_model))  # the session's model stays as it is
    proba = model.predict_proba(X)[:, 1]
    assert (model.predict(X) == "spam").tolist() == (proba >= model.threshold_).tolist()
    model.threshold_ = 0.999
    assert (model.predict(X) == "spam").tolist() == (proba >= 0.999).tolist()
    assert (proba >= 0.999).sum() < (proba >= small_model.threshold_).sum()  # the change is visible
    path = tmp_path / "m.joblib"
    model.save(path)
    assert load_compiled(path).threshold == 0.999
    assert read_metadata(path)["thresholds"]["label"] == 0.999  # the metadata inside the model file


# Offers the lexicon knows ("wholesale") and notes of colleagues. Told the
# opposite of the lexicon, the first stage must learn what it is told.
_BULBS = [
    "Tulip bulbs wholesale, twenty varieties, shipped from Lisse each autumn.",
    "Our tulip bulbs wholesale catalogue has the new fringed varieties.",
    "Tulip bulbs wholesale for garden centres, with the autumn list.",
    "Bulbs wholesale from our own fields in Lisse, tulip and narcissus.",
]
_COLLEAGUES = [
    "We sat next to each other in the Utrecht office for two years.",
    "Good to see you again at the Utrecht office quiz last Friday.",
    "You ran the onboarding week for my team in the Utrecht office.",
    "We both moved from the Utrecht office to the Delft site in May.",
]


def _pitch_probability(features: InviteFeatures, note: str) -> float:
    """The first stage's probability, read off the two count columns at 20 shared connections."""
    row = features.transform([(note, 20)]).toarray()[0]
    names = list(features.get_feature_names_out())
    pitch, other = row[names.index("pitch_x_mutual_10_plus")], row[names.index("no_pitch_x_mutual_10_plus")]
    assert pitch + other == pytest.approx(1.0)
    return float(pitch)


def test_the_first_stage_learns_the_pitches_it_is_given() -> None:
    notes = _BULBS + _COLLEAGUES
    bulbs, office = "Tulip bulbs wholesale, shipped each autumn.", "We met in the Utrecht office."
    # Untold, the lexicon answers: the offers are the pitches.
    untold = InviteFeatures(min_df=1).fit(notes)
    assert _pitch_probability(untold, bulbs) > 0.5 > _pitch_probability(untold, office)
    # Told the opposite, the first stage learns what it is told.
    told = InviteFeatures(min_df=1).fit(notes, pitch=[False] * 4 + [True] * 4)
    assert _pitch_probability(told, office) > 0.5 > _pitch_probability(told, bulbs)
    # A note left unknown (None) is asked of the lexicon, note by note: half the offers told
    # "not a pitch" and half unknown make the offers likelier pitches than all told "not".
    partly = InviteFeatures(min_df=1).fit(notes, pitch=[False, False, None, None] + [True] * 4)
    assert _pitch_probability(partly, bulbs) > _pitch_probability(told, bulbs)
    # Nothing to tell apart: no n-gram weighs, and every note gets the same probability.
    none = InviteFeatures(min_df=1).fit(notes, pitch=[False] * 8)
    assert not none.pitch_coef_.any()
    assert _pitch_probability(none, bulbs) == _pitch_probability(none, office) < 0.5


@pytest.mark.parametrize(
    ("pitch", "message"),
    [([True], r"pitch has 1 entries, X has 8 notes"), (["yes"] * 8, r"pitch\[0\]: expected True, False or None")],
    ids=["length", "value"],
)
def test_pitch_is_checked_at_fit(pitch, message) -> None:
    with pytest.raises(ValueError, match=message):
        InviteClassifier(cv=0, min_df=1).fit(_BULBS + _COLLEAGUES, ["spam"] * 4 + ["genuine"] * 4, pitch=pitch)


def test_train_tells_the_first_stage_the_pitches_of_the_kind_column(small_train) -> None:
    pitch = small_train.pitch()
    kinds, labels = small_train.columns["kind"], small_train.labels
    # The spam that no count makes genuine is a pitch; boilerplate spam (generic, flattery, no note) is not.
    assert {(k, lab) for k, lab, p in zip(kinds, labels, pitch) if p} == {
        (k, "spam") for k in ("sales", "scam", "recruiter", "referral", "collaboration", "question")
    }
    assert not any(p for k, p in zip(kinds, pitch) if k in ("generic", "flattery", "empty"))
    assert any(k == "recruiter" and lab == "genuine" and p is False for k, lab, p in zip(kinds, labels, pitch))
    unknown = small_train.subset(range(3))
    del unknown.columns["kind"]
    assert unknown.pitch() == [None, None, None]


@pytest.mark.slow
def test_fit_transform_cross_fits_the_first_stage(small_train) -> None:
    few = small_train.subset(range(0, len(small_train), 3))
    X, pitch = few.X, few.pitch()
    crossed = InviteFeatures().fit_transform(X, pitch=pitch)
    features = InviteFeatures().fit(X, pitch=pitch)
    plain = features.transform(X)
    names = list(features.get_feature_names_out())
    pitch_columns = [names.index(n) for n in ("pitch_x_mutual_10_plus", "no_pitch_x_mutual_10_plus")]
    others = np.setdiff1d(np.arange(len(names)), pitch_columns)
    assert (crossed[:, others] != plain[:, others]).nnz == 0  # the same fit
    # The probability of a pitch, where the count columns carry it (10 or more shared connections).
    many = np.array([count is not None and count >= 10 for _, count in X])
    own, cross = (m[:, pitch_columns[0]].toarray().ravel()[many] for m in (plain, crossed))
    # A stage is surer of the notes it was fitted on than of notes it never saw.
    is_pitch = np.array(pitch, dtype=float)[many]
    assert np.abs(own - is_pitch).mean() < np.abs(cross - is_pitch).mean()
