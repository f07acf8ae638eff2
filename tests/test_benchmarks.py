"""The benchmarks' baselines get what invitecls gets: the count, and the same threshold rule."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import invitecls

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def baselines():
    return load("baselines")


@pytest.fixture(scope="module")
def few_notes(small_train):
    """A third of the small training set: enough to fit each baseline, in a few seconds for the slowest."""
    return small_train.subset(list(range(0, len(small_train), 3)))


@pytest.fixture(scope="module", params=["a", "b", "c", "d"])
def fitted(request, baselines, few_notes):
    return baselines.Baseline(request.param, cv=3).fit(few_notes.X, few_notes.labels, groups=few_notes.groups)


@pytest.mark.slow
def test_every_baseline_reads_the_count(fitted) -> None:
    names = fitted.model_.named_steps["features"].get_feature_names_out()
    assert {"counts__log1p_count", "counts__count_unknown", "counts__count_10_49"} <= set(names)
    # By the guide an empty note is decided by the count alone: the baseline can tell.
    p = fitted.predict_proba([("", 0), ("", 80), ("", None)])[:, 1]
    assert len(set(p.round(12))) == 3
    if fitted.kind in ("a", "b"):  # the text models learn the guide's direction
        assert p[0] > p[1]


@pytest.mark.slow
def test_every_baseline_uses_invitecls_threshold_rule(fitted, few_notes) -> None:
    # The same calibrated out-of-fold probabilities, thresholded by the
    # estimator invitecls ships: the same threshold.
    is_spam = np.asarray(few_notes.labels) == "spam"
    reference = invitecls.InviteClassifier(max_genuine_flagged=fitted.max_genuine_flagged)
    reference._set_thresholds(fitted.oof_p_, is_spam)
    assert fitted.threshold_ == reference.threshold_
    assert fitted.max_genuine_flagged == invitecls.InviteClassifier().max_genuine_flagged
    assert (fitted.oof_p_[~is_spam] >= fitted.threshold_).mean() <= fitted.max_genuine_flagged
    labels = fitted.predict(few_notes.X)
    assert set(labels) <= {"spam", "genuine"}
    assert (labels == np.where(fitted.predict_proba(few_notes.X)[:, 1] >= fitted.threshold_, "spam", "genuine")).all()


def test_the_benchmark_runs_every_baseline_that_way(baselines) -> None:
    run = load("run")
    made = [run.make_baseline(kind) for kind in run.BASELINE_KINDS]
    assert {m.kind for m in made} >= {"a", "b", "c", "d"}
    assert all(isinstance(m, baselines.Baseline) for m in made)
    ours = invitecls.InviteClassifier()
    assert all(m.cv == ours.cv and m.max_genuine_flagged == ours.max_genuine_flagged for m in made)
    assert all(m.random_state == ours.random_state for m in made)
