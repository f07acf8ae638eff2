"""The shipped model: its quality, its card, its reproducibility, its wheel."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import invitecls

ROOT = Path(__file__).resolve().parents[1]


def test_quality_on_the_grouped_test_split(shipped) -> None:
    # The split holds the hard cases in at least their share (pretext pitches,
    # counterfactual flips, held-out default texts, evasions), which the split
    # before it kept in training: 0.95 there is about 0.93 here. The costly
    # error stays at the bar the threshold is chosen for.
    report = invitecls.evaluate(invitecls.load_corpus(split="test"))
    assert report.n_ambiguous >= 30  # reported apart
    assert report.macro_f1 >= 0.92
    assert report.genuine_flagged is not None and report.genuine_flagged <= 0.02


@pytest.mark.parametrize("round_two", [False, True], ids=["whole set", "second round"])
def test_quality_on_the_independent_real_style_set(shipped, round_two: bool) -> None:
    # The second round was written to be hard (see the data card): it must meet the bars on its own.
    card = load_script("model_card")
    figures = card.realstyle_figures(shipped, round_two=round_two)
    assert figures["n"] >= (600 if round_two else 1200) and figures["languages"] == 12
    assert figures["macro_f1"] >= 0.92
    assert figures["genuine_flagged"] <= 0.05
    assert figures["genuine_declined"] <= 0.01


@pytest.mark.parametrize("count", [0, 3, 12, 30])
def test_default_texts_in_every_language_are_judged_by_the_count(shipped, count: int) -> None:
    # The guide: the default text is spam from 5 or fewer shared connections,
    # genuine (never declined) from 10 or more. Finnish has no default text of
    # LinkedIn's own (its interface has no Finnish): its speakers type the
    # translations, kept as generic phrasings.
    defaults = [t for t in invitecls.default_templates() if t.kind == "default" or t.lang == "fi"]
    texts = [t.text.replace("_name_", "Anders") for t in defaults]
    assert len(texts) >= 45
    predictions = invitecls.classify_many(texts, [count] * len(texts))
    wrong = [(text, p.label, p.action) for text, p in zip(texts, predictions) if (p.label == "spam") != (count <= 5)]
    declined = [text for text, p in zip(texts, predictions) if count >= 10 and p.action == "decline"]
    assert not wrong and not declined, wrong or declined


def test_a_pitch_stays_spam_however_many_connections_the_sender_shares(shipped) -> None:
    # The guide: pitches, scams and vague recruiting are spam whatever the count.
    # The behavioural suite's phrases (new wording: not corpus material), in twelve languages.
    probes = json.loads((ROOT / "tests" / "fixtures" / "probe_phrases.json").read_text(encoding="utf-8"))
    fields = {"name": "Ana", "sender": "Tom", "company": "Ostrava Logistics", "mutual": "Pavel Novak"}
    pitches = [
        text.format(**fields)
        for phrases in probes.values()
        for part in ("pitches", "scams", "vague_recruiting")
        for text in phrases[part]
    ]
    assert len(pitches) >= 200

    def spam_share(count: int) -> float:
        return float(np.mean([p.label == "spam" for p in invitecls.classify_many(pitches, [count] * len(pitches))]))

    from_strangers = spam_share(0)
    from_many = np.mean([spam_share(count) for count in (12, 40, 150)])
    assert from_strangers >= 0.9
    assert from_many >= from_strangers - 0.025, (from_strangers, from_many)


def test_unknown_counts_are_judged_from_the_text(shipped) -> None:
    test = invitecls.load_corpus(split="test")
    unknown = [i for i, c in enumerate(test.mutual_connections) if c is None]
    labels = [test.labels[i] for i in unknown]
    assert min(labels.count("spam"), labels.count("genuine")) >= 300  # both labels well represented
    predictions = invitecls.classify_many([test.messages[i] for i in unknown])
    y = np.asarray(labels) == "spam"
    flagged = np.array([p.label == "spam" for p in predictions])
    assert flagged[~y].mean() <= 0.025  # genuine notes with an unknown count are not taken for spam
    assert flagged[y].mean() >= 0.85


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_card_figures_are_current(shipped) -> None:
    card = load_script("model_card")
    block, _ = card.figures()
    text = (ROOT / "models" / "README.md").read_text(encoding="utf-8")
    assert text.split(card.BEGIN, 1)[1].split(card.END, 1)[0] == f"\n{block}"


def test_readme_figures_are_current(shipped) -> None:
    card = load_script("model_card")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.split(card.README_BEGIN, 1)[1].split(card.README_END, 1)[0] == f"\n{card.summary()}"


def test_readme_examples_are_true(shipped) -> None:
    from invitecls._cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    p = invitecls.classify("Hi Anders, I'd like to connect with you on LinkedIn.", mutual_connections=0)
    shown = readme.split(">>> p.label, p.action, p.reasons\n", 1)[1].split("\n", 1)[0]
    assert shown.startswith(f"('{p.label}', '{p.action}', ({p.reasons[0]!r}, {p.reasons[1]!r}, ")
    assert invitecls.classify("Hi Anders, I'd like to connect with you on LinkedIn.", mutual_connections=40).label == (
        readme.split("mutual_connections=40).label\n", 1)[1].split("\n", 1)[0].strip("'")
    )
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["triage", str(ROOT / "tests" / "fixtures" / "export"), "--quiet"])
    # What it prints, whole: the table (tab-separated) and the summary line.
    assert f"$ invitecls triage tests/fixtures/export\n{out.getvalue()}```" in readme


def test_metadata_matches_the_files(shipped) -> None:
    import hashlib
    import json
    import zipfile

    # One file: the metadata, the compiled form and the estimator are members of one archive.
    with zipfile.ZipFile(ROOT / "models" / "invitecls-default.joblib") as archive:
        meta = json.loads(archive.read("metadata.json"))
        for name, key in (("estimator.joblib", "model_sha256"), ("compiled.npz", "compiled_sha256")):
            assert hashlib.sha256(archive.read(name)).hexdigest() == meta[key]
    corpus = (ROOT / "data" / "invitations.csv").read_bytes()
    assert meta["training_data"]["sha256"] == hashlib.sha256(corpus).hexdigest()


def assert_the_same_model_up_to_float_drift(again, shipped, test: invitecls.LabeledData) -> None:
    """``again`` is ``shipped``, but for the drift of a fit whose sums end in other last bits.

    On the machines of earlier CI runs, retraining gave it bit for bit.
    Where OpenBLAS picks another kernel for the CPU (AVX2 or AVX-512, say), its sums
    end in other last bits; the optimiser's steps drift from there, and a note near
    a steep stretch of the model moves by a few hundredths or more.
    """
    p_again, p_shipped = again.predict_proba(test.X)[:, 1], shipped.predict_proba(test.X)[:, 1]
    assert np.median(np.abs(p_again - p_shipped)) < 0.005
    assert np.mean(again.predict(test.X) == shipped.predict(test.X)) >= 0.99
    assert again.threshold_ == pytest.approx(shipped.threshold_, abs=0.01)


@pytest.mark.slow
def test_retraining_with_the_documented_command_gives_the_shipped_model(tmp_path: Path, shipped) -> None:
    output = tmp_path / "again.joblib"
    command = [sys.executable, "-m", "invitecls", "train", str(ROOT / "data" / "invitations.csv"), "--split", "train",
               "--output", str(output)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, text=True)
    again = invitecls.load_model(output, trusted=True)
    assert_the_same_model_up_to_float_drift(again, shipped, invitecls.load_corpus(split="test"))


@pytest.mark.slow
def test_the_wheel_contains_the_model_and_the_data(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            "-q",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = tmp_path.glob("invitecls-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "invitecls/_models/invitecls-default.joblib",
        "invitecls/_models/README.md",
        "invitecls/_corpus/invitations.csv",
        "invitecls/_corpus/example_my_labels.csv",
        "invitecls/_resources/templates.tsv",
        "invitecls/_resources/confusables.tsv",
        "invitecls/_resources/lexicon.txt",
        "invitecls/py.typed",
    ):
        assert required in names, required
    assert not [n for n in names if n.startswith("invitecls/_corpus/written/")]


@pytest.mark.parametrize(
    ("package", "name"), [("invitecls._models", "invitecls-default.joblib"), ("invitecls._corpus", "invitations.csv")]
)
def test_a_clone_without_the_data_subpackages_reads_the_source_tree(monkeypatch, package: str, name: str) -> None:
    # After a non-editable install, `import invitecls` in the clone finds the source folder, which has
    # no invitecls._models or invitecls._corpus: the files come from models/ and data/ beside it.
    from importlib import resources

    from invitecls import _data

    def missing(anchor: str) -> None:
        raise ModuleNotFoundError(f"No module named {anchor!r}")

    monkeypatch.setattr(resources, "files", missing)
    with _data.shipped_file(package, name) as path:
        assert path == ROOT / _data.SOURCE_FOLDERS[package] / name
        assert path.is_file()
