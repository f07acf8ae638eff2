"""A model file is code until proven otherwise: no classifying path unpickles one.

Each test plants a pickle whose only effect is to create a marker file in a
temporary folder, forges the sha256 in the metadata beside it (whoever
supplies a model supplies that file too), and checks that the path under test
refuses the model with a clear error and that the marker was never written.

| attempt (issue 12, items 1 and 5) | expected |
|---|---|
| ``classify``: the JSON names a missing ``compiled_file``, a ``.npz`` is beside it | ``ModelError``, no code runs |
| ``classify`` with the ``.npz`` deleted | ``ModelError``, no code runs |
| ``classify`` with ``compiled_file`` outside the model's folder | ``ModelError`` |
| ``invitecls classify/triage/review --model`` on such a model | exit 2, one line, no code runs |
| ``invitecls train --output X`` (no ``--force``), X a planted pickle | the guard reads X's ``.npz`` |
| ``load_model(X)`` | refused unless ``trusted=True`` |
| ``triage``/``prune --out`` inside the export, even with ``--force`` | exit 2, nothing written |
| ``triage``/``prune --out`` on a user's file | exit 2 unless ``--force`` |
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest

import invitecls
from invitecls import ModelError, load_model
from invitecls._cli import main
from invitecls._persist import metadata_path

ROOT = Path(__file__).resolve().parents[1]


class _Touch:
    """Unpickling this creates ``path``: the stand-in for an attacker's code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.path,))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def planted(tmp_path: Path, small_model) -> tuple[Path, Path]:
    """A model whose ``.joblib`` is a payload with a forged, matching hash; and the marker path."""
    model = tmp_path / "model.joblib"
    small_model.save(model)
    marker = tmp_path / "code-ran"
    model.write_bytes(pickle.dumps(_Touch(marker)))
    meta = json.loads(metadata_path(model).read_text())
    meta["model_sha256"] = _sha256(model)
    metadata_path(model).write_text(json.dumps(meta))
    return model, marker


def _set_compiled_file(model: Path, name: str) -> None:
    meta = json.loads(metadata_path(model).read_text())
    meta["compiled_file"] = name
    metadata_path(model).write_text(json.dumps(meta))


def test_the_payload_would_run_if_unpickled(planted) -> None:
    # The test's own premise: trusting the file runs the payload.
    model, marker = planted
    with pytest.raises(ModelError):
        load_model(model, trusted=True)  # it is not an invitecls model, but the code already ran
    assert marker.exists()


def test_a_valid_npz_classifies_without_unpickling(planted) -> None:
    model, marker = planted
    assert invitecls.classify("We help CFOs close faster. Demo?", 0, model=model).label in ("spam", "genuine")
    assert not marker.exists()


@pytest.mark.parametrize("how", ["missing compiled_file", "npz deleted"])
def test_classify_never_falls_back_to_the_pickle(planted, how: str) -> None:
    model, marker = planted
    if how == "missing compiled_file":
        _set_compiled_file(model, "other.npz")
    else:
        model.with_name(model.name + ".npz").unlink()
    with pytest.raises(ModelError, match="no compiled model"):
        invitecls.classify("hello", model=model)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../elsewhere.npz", "/tmp/x.npz", "model.joblib"])
def test_compiled_file_must_be_an_npz_beside_the_model(planted, name: str) -> None:
    model, marker = planted
    _set_compiled_file(model, name)
    with pytest.raises(ModelError, match=r"compiled_file must name an \.npz file beside the model"):
        invitecls.classify("hello", model=model)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["classify", "triage", "review"])
def test_the_command_line_refuses_in_one_line(planted, command: str, capsys) -> None:
    model, marker = planted
    model.with_name(model.name + ".npz").unlink()
    export = ROOT / "tests" / "fixtures" / "export"
    argv = {
        "classify": ["classify", "hello", "--model", str(model)],
        "triage": ["triage", str(export), "--model", str(model), "--out", str(model.parent / "out.csv")],
        "review": ["review", str(export), "--model", str(model), "--to", str(model.parent / "labels.csv"), "--list"],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "no compiled model" in err and "\n" not in err
    assert not marker.exists()


def test_the_replace_guard_reads_the_compiled_form(planted, tmp_path: Path, capsys) -> None:
    model, marker = planted
    labels = ROOT / "data" / "example_my_labels.csv"
    code = main(["train", str(labels), "--output", str(model), "--holdout", str(labels)])
    captured = capsys.readouterr()
    assert code in (0, 2)  # replaced or refused on its merits
    # The guard compared the models (it read the existing one's .npz) and no code from the file ran.
    assert "held-out genuine notes flagged" in captured.out, captured.err
    assert not marker.exists()


def test_load_model_unpickles_only_when_told(planted, small_model) -> None:
    model, marker = planted
    with pytest.raises(ModelError, match=r"is a pickle.*trusted=True"):
        load_model(model)
    assert not marker.exists()
    assert isinstance(invitecls.default_model(), invitecls.InviteClassifier)  # the package's own model


# Issue 12, item 5: outputs never overwrite inputs or files invitecls did not write.
def _export_copy(tmp_path: Path) -> Path:
    import shutil

    export = tmp_path / "export"
    shutil.copytree(ROOT / "tests" / "fixtures" / "export", export)
    return export


@pytest.mark.parametrize(
    ("command", "target"),
    [("triage", "Invitations.csv"), ("prune", "Connections.csv"), ("triage", "new.csv"), ("prune", "sub/x.csv")],
)
def test_an_output_inside_the_export_is_refused(tmp_path: Path, command: str, target: str, capsys) -> None:
    export = _export_copy(tmp_path)
    before = {p: p.read_bytes() for p in export.rglob("*") if p.is_file()}
    assert main([command, str(export), "--out", str(export / target), "--force"]) == 2
    assert "an input" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in export.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("command", ["triage", "prune"])
def test_a_users_file_is_replaced_only_with_force(tmp_path: Path, command: str, capsys) -> None:
    export = _export_copy(tmp_path)
    labels = tmp_path / "my_labels.csv"
    labels.write_text("message,label\nhello,genuine\n", encoding="utf-8")
    assert main([command, str(export), "--out", str(labels)]) == 2
    assert "add --force" in capsys.readouterr().err
    assert labels.read_text(encoding="utf-8") == "message,label\nhello,genuine\n"
    # An earlier output of the same command may be written again; --force replaces anything.
    fresh = tmp_path / "out.jsonl"
    assert main([command, str(export), "--out", str(fresh)]) == 0
    assert main([command, str(export), "--out", str(fresh)]) == 0
    assert main([command, str(export), "--out", str(labels), "--force"]) == 0
    assert labels.read_text(encoding="utf-8") != "message,label\nhello,genuine\n"
