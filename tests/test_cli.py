"""The command line: a thin layer over the API, with clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from invitecls._cli import main

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
    fields = "label probability probabilities action template_similarity matched_template reasons signals"
    assert set(lines[0]) == set(fields.split())


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
    trained = run("train", str(data), "--output", str(model))
    assert trained.returncode == 0, trained.stderr
    assert "grouped 5-fold cross-validation: macro-F1" in trained.stdout
    assert model.exists() and model.with_name("mine.joblib.json").exists()

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
    refused = run("train", str(poisoned_file), "--output", str(model), "--holdout", str(holdout))
    assert refused.returncode == 2, refused.stdout
    assert "flags more held-out genuine notes" in refused.stderr and "--force" in refused.stderr
    assert model.read_bytes() == before
    forced = run("train", str(poisoned_file), "--output", str(model), "--holdout", str(holdout), "--force")
    assert forced.returncode == 0, forced.stderr
    assert model.read_bytes() != before
    # A model trained on the good labels again is no worse: it replaces the poisoned one.
    again = run("train", str(data), "--output", str(model), "--holdout", str(holdout))
    assert again.returncode == 0, again.stderr
    assert "held-out genuine notes flagged" in again.stdout

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
