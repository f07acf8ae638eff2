"""Retraining on one's own labels: the base beneath them, the report on them, the replace guard, groups, progress.

Issue 13. The guard's rule and the paired bootstrap are checked on made-up
labels (fast, exact); the whole path on small fits; the done criteria with the
240 example labels on top of the corpus in the slow suite.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

import invitecls
import invitecls._training
from invitecls._cli import _stages, main
from invitecls._compare import compare
from invitecls._training import check_replacement, default_weight, refusals, train_with_report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example_my_labels.csv"


# ------------------------------------------------------------ the comparison


def test_the_measures_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(1, 40))
        truth, flagged = rng.random(n) < rng.random(), rng.random(n) < rng.random()
        c = compare(truth, flagged, flagged)
        present = sorted(set(truth.tolist()))
        assert c.new["macro_f1"].value == pytest.approx(
            f1_score(truth, flagged, labels=present, average="macro", zero_division=0)
        )
        if (~truth).any():
            assert c.new["genuine_flagged"].value == pytest.approx(flagged[~truth].mean())
        if truth.any():
            assert c.new["spam_caught"].value == pytest.approx(flagged[truth].mean())


def test_the_bootstrap_resamples_whole_groups() -> None:
    rng = np.random.default_rng(1)
    truth, old, new = (rng.random(60) < 0.5 for _ in range(3))
    alone = compare(truth, old, new, seed=3)
    # Each note copied 7 times, the copies one group: drawing groups is drawing notes.
    copies = compare(
        np.repeat(truth, 7), np.repeat(old, 7), np.repeat(new, 7), np.repeat([f"{i:02d}" for i in range(60)], 7), seed=3
    )
    assert copies.n == 420 and copies.n_groups == 60
    for measure in ("macro_f1", "spam_caught"):
        assert copies.difference[measure].low == pytest.approx(alone.difference[measure].low, abs=1e-6)
        assert copies.difference[measure].high == pytest.approx(alone.difference[measure].high, abs=1e-6)
    # Copies taken as notes of their own would give a narrower, false interval.
    naive = compare(np.repeat(truth, 7), np.repeat(old, 7), np.repeat(new, 7), seed=3)
    width = naive.difference["macro_f1"].high - naive.difference["macro_f1"].low
    assert width < 0.6 * (copies.difference["macro_f1"].high - copies.difference["macro_f1"].low)


def _labels(n_spam: int, n_genuine: int, spam_caught: float, genuine_flagged: float) -> tuple[np.ndarray, np.ndarray]:
    truth = np.array([True] * n_spam + [False] * n_genuine)
    flagged = np.array(
        [i < round(spam_caught * n_spam) for i in range(n_spam)]
        + [i < round(genuine_flagged * n_genuine) for i in range(n_genuine)]
    )
    return truth, flagged


def test_the_guard_refuses_a_model_trained_on_half_relabelled_spam() -> None:
    # Issue 13's case: the current model catches 48% of spam and flags 1.6% of
    # genuine notes; the poisoned one catches 1.5% and flags none.
    truth, old = _labels(4000, 3700, 0.48, 0.016)
    _, new = _labels(4000, 3700, 0.015, 0.0)
    refused = refusals(compare(truth, old, new), genuine_budget=0.02)
    assert any(r.startswith("spam caught") for r in refused)
    assert any(r.startswith("macro-F1") for r in refused)


def test_the_guard_accepts_a_good_model_replacing_one_that_flags_nothing() -> None:
    truth, useless = _labels(4000, 3700, 0.0, 0.0)
    _, good = _labels(4000, 3700, 0.6, 0.015)
    comparison = compare(truth, useless, good)
    assert comparison.worse("genuine_flagged")  # one number says "worse" ...
    assert refusals(comparison, genuine_budget=0.02) == ()  # ... the guard does not stop there


def test_the_guard_refuses_more_genuine_flagged_beyond_the_budget() -> None:
    truth, old = _labels(4000, 3700, 0.6, 0.01)
    _, new = _labels(4000, 3700, 0.62, 0.05)
    refused = refusals(compare(truth, old, new), genuine_budget=0.02)
    assert any(r.startswith("genuine flagged 5.0% against 1.0%") for r in refused), refused


def test_a_difference_inside_the_noise_is_no_reason_to_refuse() -> None:
    truth, old = _labels(300, 300, 0.6, 0.01)
    _, new = _labels(300, 300, 0.59, 0.01)
    comparison = compare(truth, old, new)
    assert comparison.verdict == "indistinguishable"
    assert refusals(comparison, genuine_budget=0.02) == ()


# ------------------------------------------------------------ groups, weights


def test_an_empty_group_is_a_group_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    rows = [("a note", "g1"), ("another note", "g1"), ("third", ""), ("fourth", ""), ("fifth", "g2")]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["message", "label", "group"])
        writer.writerows([(m, "spam" if i % 2 else "genuine", g) for i, (m, g) in enumerate(rows)])
    groups = invitecls.read_labeled(path, for_training=False).groups
    assert groups is not None
    assert groups[0] == groups[1] == "g1" and groups[4] == "g2"
    assert len({groups[2], groups[3], "g1", "g2"}) == 4


def test_the_default_weight_is_between_one_and_ten_and_falls_for_large_files() -> None:
    weights = [default_weight(23_513, n) for n in (1, 30, 240, 1_000, 3_000, 10_000, 100_000)]
    assert weights[0] == 10.0 and weights[-1] == 1.0
    assert all(1.0 <= w <= 10.0 for w in weights)
    assert weights == sorted(weights, reverse=True)
    assert default_weight(0, 40) == 1.0


# ------------------------------------------------------------ the whole path, small


@pytest.fixture(scope="module")
def small_base(corpus: invitecls.LabeledData) -> invitecls.LabeledData:
    rows = [i for i, split in enumerate(corpus.columns["split"]) if split == "train"][::40]
    return corpus.subset(rows)


@pytest.fixture(scope="module")
def mine40(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 20 genuine and the first 20 spam notes of the example labels."""
    with EXAMPLE.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    chosen = [r for r in rows if r["label"] == "genuine"][:20] + [r for r in rows if r["label"] == "spam"][:20]
    path = tmp_path_factory.mktemp("labels") / "mine40.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(chosen)
    return path


@pytest.fixture(scope="module")
def own_with_overlap(small_base, mine40: Path) -> invitecls.LabeledData:
    """The 40 labels plus one note of the base with the other label."""
    own = invitecls.read_labeled(mine40, for_training=False)
    overlap = small_base.subset([0])
    flipped = "spam" if overlap.labels[0] == "genuine" else "genuine"
    return dataclasses.replace(
        own,
        messages=[*own.messages, overlap.messages[0]],
        mutual_connections=[*own.mutual_connections, overlap.mutual_connections[0]],
        labels=[*own.labels, flipped],
        groups=None,
        lines=[*own.lines, 999],
        columns={},
    )


@pytest.fixture(scope="module")
def trained(own_with_overlap, small_base) -> invitecls._training.Training:
    return train_with_report(own_with_overlap, base=small_base, cv=2)


def test_train_on_a_base_weights_ones_own_notes_and_reports_on_them(trained, own_with_overlap, small_base) -> None:
    own = own_with_overlap
    # The note that is also in the base, labelled otherwise, left it: one's own label wins.
    info = trained.info
    note = (own.messages[-1], own.mutual_connections[-1])
    same = sum(1 for n in zip(small_base.messages, small_base.mutual_connections) if n == note)
    assert same >= 1
    assert info["base"]["rows"] == len(small_base) - same == trained.report.n_base
    assert info["weight"] == default_weight(len(small_base) - same, len(own)) == trained.report.weight
    assert info["metrics"]["cross_validation"] == trained.model.cv_scores_
    assert trained.model.cv_scores_["macro_f1"] > 0.5 and trained.model.cv_scores_["n_splits"] == 2
    report = info["report"]
    assert report["n_own"] == len(own) and report["comparison"]["n"] == len(own)
    assert trained.own_flagged is not None and len(trained.own_flagged) == len(own)
    assert trained.report.sentence.startswith("The new model")
    # The model saw the weighted notes: it is a different model from the unweighted one.
    unweighted = train_with_report(own, base=small_base, weight=1.0, cv=2).model
    assert not np.allclose(unweighted.coef_, trained.model.coef_)


def test_the_report_is_saved_with_the_model_and_not_set_on_it(trained, tmp_path: Path) -> None:
    # Fitted attributes come from fit alone: the report is in the result and, once saved, in the metadata.
    assert not hasattr(trained.model, "training_info_")
    path = trained.save(tmp_path / "mine.joblib")
    meta = invitecls.read_metadata(path)
    assert meta["training_data"] == trained.info["data"] and meta["training_data"]["rows"] == len(trained.own)
    assert meta["base"] == trained.info["base"] and meta["weight"] == trained.report.weight
    assert meta["report"]["sentence"] == trained.report.sentence
    assert meta["report"]["comparison"]["n"] == trained.report.comparison.n
    assert meta["metrics"]["cross_validation"] == trained.model.cv_scores_
    # Saved without it, the model records its own cross-validation only.
    trained.model.save(tmp_path / "bare.joblib")
    assert invitecls.read_metadata(tmp_path / "bare.joblib")["report"] is None


def test_own_labels_alone_need_20_of_each_class_but_not_on_a_base(tmp_path: Path, small_base) -> None:
    path = tmp_path / "few.csv"
    path.write_text("message,label\n" + "".join(f"note {i},{'spam' if i % 2 else 'genuine'}\n" for i in range(12)))
    with pytest.raises(invitecls.DataError, match="training needs at least 20"):
        train_with_report(path, base=None)
    trained = train_with_report(path, base=small_base, cv=2)
    assert trained.report.n_own == 12
    assert any("too few labels" in w for w in trained.report.warnings)


def test_a_label_set_other_than_spam_and_genuine_trains_on_the_file_alone(small_base) -> None:
    kinds = small_base.subset(range(300))
    kinds = dataclasses.replace(kinds, labels=["colleague" if i % 2 else "pitch" for i in range(300)])
    trained = train_with_report(kinds, cv=2)
    assert trained.report.n_base == 0 and trained.report.base.startswith("none")
    assert trained.report.comparison is None


def test_the_guard_on_models_accepts_a_good_model_replacing_one_that_flags_nothing(trained, small_base) -> None:
    flags_nothing = dataclasses.replace(trained.model._compiled(), threshold=1.01)
    holdout = small_base  # any labelled notes
    replacement = check_replacement(trained, flags_nothing, holdout)
    assert replacement.acceptable, replacement.refused
    assert replacement.comparison.n == len(holdout) - sum(holdout.ambiguous()) + len(trained.own)
    assert replacement.comparison.old["spam_caught"].value == 0.0


# ------------------------------------------------------------ progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_training_shows_its_stages_on_a_terminal_unless_quiet_and_warns_without_a_base(mine40: Path) -> None:
    shown, hidden, piped = _Terminal(), _Terminal(), io.StringIO()
    with _stages(quiet=False, stream=shown):
        trained = train_with_report(mine40, base=None, cv=2)
    for quiet, stream in ((True, hidden), (False, piped)):
        with _stages(quiet=quiet, stream=stream):
            logging.getLogger("invitecls").info("fold 1 of 2")
    lines = shown.getvalue().splitlines()
    stages = [line.split("] ", 1)[1] for line in lines]
    assert stages[0].startswith("training on 40 notes of yours")
    assert [s for s in stages if s.startswith("fold")] == ["fold 1 of 2", "fold 2 of 2"]
    assert stages.index("calibration and thresholds") < stages.index("final fit on all 40 notes")
    assert stages[-1] == "comparing with the shipped model on the corpus's test split"
    assert all(line.startswith("[") and "s] " in line for line in lines)
    assert hidden.getvalue() == "" and piped.getvalue() == ""
    assert not logging.getLogger("invitecls").handlers

    # Trained on 40 notes alone, the model is worse than the shipped one on the general task: it says so.
    assert trained.report.n_base == 0 and trained.report.base == "none"
    assert any("worse than the shipped one on the corpus's test split in" in w for w in trained.report.warnings)
    assert trained.info["report"]["warnings"] == list(trained.report.warnings)


# ------------------------------------------------------------ the command line, the done criteria


@pytest.mark.slow
def test_a_poisoned_retrain_does_not_replace_the_model(tmp_path: Path, small_base, capsys) -> None:
    # Issue 12, item 3: 30% of the spam relabelled genuine.
    frame = small_base.to_pandas()[["message", "mutual_connections", "label", "group"]]
    clean, poisoned, model = tmp_path / "clean.csv", tmp_path / "poisoned.csv", tmp_path / "m.joblib"
    frame.to_csv(clean, index=False)
    spam = frame.index[frame["label"] == "spam"]
    frame.loc[spam[: int(0.3 * len(spam))], "label"] = "genuine"
    frame.to_csv(poisoned, index=False)
    assert main(["train", str(clean), "-o", str(model), "--base", "none", "-q"]) == 0
    before = model.read_bytes()
    capsys.readouterr()
    assert main(["train", str(poisoned), "-o", str(model), "--base", "none", "-q"]) == 2
    err = capsys.readouterr().err
    assert "spam caught" in err and "Kept the current model" in err and "--force" in err
    assert model.read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("subset", [False, True])
def test_the_example_labels_on_top_of_the_corpus_are_no_worse_than_the_shipped_model(
    subset: bool, mine40: Path, tmp_path: Path, capsys
) -> None:
    data = mine40 if subset else EXAMPLE
    assert main(["train", str(data), "-o", str(tmp_path / "mine.joblib"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "on top of" in out and "notes of the shipped corpus's training split; each of yours counts as 10" in out
    assert "on your " in out and "shipped" in out
    verdict = next(line for line in out.splitlines() if line.startswith("The new model"))
    assert "worse" not in verdict, out


@pytest.mark.slow
def test_the_40_labels_alone_print_a_warning(mine40: Path, tmp_path: Path, capsys) -> None:
    assert main(["train", str(mine40), "-o", str(tmp_path / "mine.joblib"), "--base", "none", "-q"]) == 0
    out = capsys.readouterr().out
    assert "alone (base: none)" in out
    assert "warning: " in out


def test_a_model_that_gives_one_label_to_almost_everything_is_named() -> None:
    from invitecls._training import _warnings

    truth, good = _labels(60, 60, 0.9, 0.05)
    everything = np.ones(120, dtype=bool)
    named = _warnings(compare(truth, good, everything), truth, alone=True)
    assert any("gives 100% of your notes the same label" in w and "--base corpus" in w for w in named)
    assert not any("same label" in w for w in _warnings(compare(truth, everything, good), truth, alone=True))


def test_retraining_on_the_shipped_corpus_is_not_compared_with_the_model_it_trained() -> None:
    # The shipped model was fitted on the corpus's own notes: its in-sample scores there
    # would make any new model look worse than it.
    from invitecls._training import _report, _resolve_base

    shipped = invitecls.load_corpus(split="train")
    base = _resolve_base("corpus", shipped, default_task=True)
    assert base.is_shipped_corpus and base.notes is None
    own = invitecls.read_labeled(ROOT / "data" / "example_my_labels.csv")
    report = _report(None, own, ["g"] * len(own), np.zeros(len(own), bool), base, 0, 1.0)  # type: ignore[arg-type]
    assert report.comparison is None and not report.warnings
    assert report.sentence.startswith("No comparison with the shipped model")
