"""The command line: a thin layer over the API, with clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import invitecls
from invitecls._cli import main

EXPORT = Path(__file__).resolve().parent / "fixtures" / "export"
DEFAULT_TEXT = "Hi Anders, I'd like to connect with you on LinkedIn."


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invitecls", *args], input=stdin, capture_output=True, text=True, timeout=600
    )


def test_classify_one_note(capsys) -> None:
    assert main(["classify", DEFAULT_TEXT, "--mutual", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("spam ")
    assert "decline" in out and "default text" in out


def test_classify_json_and_stdin() -> None:
    result = run("classify", "--json", "--mutual", "60", stdin=f"{DEFAULT_TEXT}\n\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["label"] for line in lines] == ["genuine", "genuine"]
    fields = "note label probability probabilities action template_similarity matched_template reasons signals"
    assert set(lines[0]) == set(fields.split())
    assert [line["note"] for line in lines] == [DEFAULT_TEXT, ""]


def test_classify_echoes_each_note_read_from_standard_input_and_shows_the_spam_probability() -> None:
    notes = [DEFAULT_TEXT, "We met at the PyData Oslo sprint, I was the one fixing the docs build."]
    result = run("classify", stdin="\n".join(notes) + "\n")
    assert result.returncode == 0, result.stderr
    echoed = [line[2:] for line in result.stdout.splitlines() if line.startswith("> ")]
    assert echoed == notes
    verdicts = [line for line in result.stdout.splitlines() if line.split("  ")[0] in ("spam", "genuine")]
    assert len(verdicts) == 2 and all("spam probability " in v for v in verdicts)


def test_console_script_and_module_agree() -> None:
    script = Path(sys.executable).with_name("invitecls")
    if not script.exists():
        pytest.skip("console script not installed in this environment")
    a = subprocess.run([str(script), "classify", "Let's connect!", "--json"], capture_output=True, text=True)
    b = run("classify", "Let's connect!", "--json")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_usage_errors_exit_2_with_one_line() -> None:
    result = run("classify", "hi", "--mutual", "-3")
    assert result.returncode == 2
    assert "is negative" in result.stderr
    missing = run("evaluate", "/no/such/file.csv")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "invitecls evaluate: error: /no/such/file.csv: no such file"
    assert "Traceback" not in missing.stderr


@pytest.mark.slow
def test_train_and_evaluate(tmp_path: Path, small_train) -> None:
    data = tmp_path / "mine.csv"
    frame = small_train.to_pandas()[["message", "mutual_connections", "label", "group"]]
    frame.to_csv(data, index=False)
    model = tmp_path / "mine.joblib"
    trained = run("train", str(data), "--output", str(model), "--base", "none")
    assert trained.returncode == 0, trained.stderr
    assert f"grouped 5-fold cross-validation over all {len(frame)} notes: macro-F1" in trained.stdout
    assert model.exists() and not model.with_name("mine.joblib.json").exists()  # one file

    before = model.read_bytes()
    holdout = tmp_path / "holdout.csv"
    frame.iloc[::3].to_csv(holdout, index=False)
    # Poisoned labels (most genuine notes marked spam) make a model that flags
    # genuine notes: it must not replace the current one.
    poisoned = frame.copy()
    genuine = poisoned.index[poisoned["label"] == "genuine"]
    poisoned.loc[genuine[: int(0.7 * len(genuine))], "label"] = "spam"
    poisoned_file = tmp_path / "poisoned.csv"
    poisoned.to_csv(poisoned_file, index=False)
    refused = run("train", str(poisoned_file), "--output", str(model), "--holdout", str(holdout), "--base", "none")
    assert refused.returncode == 2, refused.stdout
    assert "worse than" in refused.stderr and "genuine flagged" in refused.stderr and "--force" in refused.stderr
    assert model.read_bytes() == before
    forced = run("train", str(poisoned_file), "-o", str(model), "--holdout", str(holdout), "--force", "--base", "none")
    assert forced.returncode == 0, forced.stderr
    assert model.read_bytes() != before
    # A model trained on the good labels again is no worse: it replaces the poisoned one.
    again = run("train", str(data), "--output", str(model), "--holdout", str(holdout), "--base", "none")
    assert again.returncode == 0, again.stderr
    assert "on held-out notes: holdout.csv and your notes out of fold (" in again.stdout

    report = run("evaluate", str(data), "--model", str(model), "--json")
    assert report.returncode == 0, report.stderr
    metrics = json.loads(report.stdout)
    assert metrics["n"] == len(frame)
    assert set(metrics["confusion"]) == {"genuine", "spam"}
    assert 0.5 < metrics["macro_f1"] <= 1.0

    text = run("evaluate", str(data), "--model", str(model))
    assert "genuine notes flagged as spam:" in text.stdout
    assert "confusion (rows: true, columns: predicted)" in text.stdout


def test_train_refuses_bad_data_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("message,mutual_connections,label\nhi,1,spam\nyo,x,genuine\n", encoding="utf-8")
    model = tmp_path / "out.joblib"
    result = run("train", str(data), "--output", str(model))
    assert result.returncode == 2
    assert "line 3, field mutual_connections: 'x'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not model.exists()
    assert list(tmp_path.iterdir()) == [data]


def test_evaluate_says_when_training_rows_are_included_and_lists_the_splits(tmp_path: Path, capsys) -> None:
    data = tmp_path / "split.csv"
    rows = [f"note number {i},,{'spam' if i % 2 else 'genuine'},{'train' if i < 6 else 'test'}" for i in range(10)]
    data.write_text("message,mutual_connections,label,split\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert main(["evaluate", str(data)]) == 0
    every = capsys.readouterr()
    assert "no --split was chosen" in every.err and "(test, train)" in every.err
    assert main(["evaluate", str(data), "--split", "test"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["evaluate", str(data), "--split", "tset"]) == 2
    typo = capsys.readouterr().err
    assert typo.strip().endswith("no notes with split 'tset'; the file's splits are 'test', 'train'")


def test_labels_of_another_column_get_a_hint(tmp_path: Path) -> None:
    data = tmp_path / "kinds.csv"
    rows = [f"note {i},,{'spam' if i % 2 else 'genuine'},{'pitch' if i % 2 else 'colleague'}" for i in range(8)]
    data.write_text("message,mutual_connections,label,kind\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(invitecls.DataError, match="the labels look like column 'kind': add --label-column kind"):
        invitecls.read_labeled(data, for_training=False, labels=["colleague", "pitch"])


def test_review_lists_notes_from_standard_input_without_a_labels_file(tmp_path: Path, monkeypatch, capsys) -> None:
    import io

    notes = "hello there\nWe met at PyCon Lithuania, at the booth.\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(notes.encode())))
    assert main(["review", "-", "--list", "-n", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "p_spam\tlabel\tmutual_connections\tnote" and len(lines) == 3
    assert main(["review", "-", "--to", str(tmp_path / "labels.csv")]) == 2
    assert "add --list" in capsys.readouterr().err
    assert main(["review", str(EXPORT)]) == 2
    assert "--to LABELS.csv is needed" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_out_file_in_a_missing_folder_is_refused_not_created(tmp_path: Path, capsys) -> None:
    target = tmp_path / "no" / "such" / "out.csv"
    assert main(["triage", str(EXPORT), "--out", str(target)]) == 2
    assert "there is no folder" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_a_note_cannot_drive_the_terminal(capsys, monkeypatch) -> None:
    import io

    note = "hi \x1b[2J\x1b[31mred\u200b text"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(note.encode() + b"\n")))
    assert main(["classify"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u200b" not in out
    assert out.startswith("> hi \\u001b[2J\\u001b[31mred\\u200b text\n")


def test_the_readme_synopsis_matches_the_parser() -> None:
    import argparse
    import re

    from invitecls._cli import build_parser

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("is a thin layer over the API:\n\n```\n", 1)[1].split("```", 1)[0]
    shown: dict[str, set[str]] = {}
    command = ""
    for line in block.splitlines():
        if line.startswith("invitecls "):
            command = line.split()[1]
        shown.setdefault(command, set()).update(re.findall(r"(?<![\w-])(--[A-Za-z-]+|-n)\b", line.split("#")[0]))
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        options = {
            max(action.option_strings, key=len)
            for action in sub._actions
            if action.option_strings and action.help != argparse.SUPPRESS and "--help" not in action.option_strings
        }
        assert shown.get(name) == options, name


def test_a_skops_output_without_skops_stops_before_training(tmp_path: Path, monkeypatch, capsys) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "skops" else real(name, *a))
    data = tmp_path / "mine.csv"
    data.write_text("message,label\nhi,spam\n", encoding="utf-8")
    assert main(["train", str(data), "--output", str(tmp_path / "m.skops")]) == 2
    err = capsys.readouterr().err
    assert 'python -m pip install "invitecls[skops]"' in err and "\n" not in err.strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv"]
