"""A model file is code until proven otherwise: no classifying path unpickles one.

Each test plants a pickle whose only effect is to create a marker file in a
temporary folder, forges the sha256 in the metadata inside the model file
(whoever supplies a model supplies its metadata too), and checks that the path under test
refuses the model with a clear error and that the marker was never written.

| attempt (issue 12, items 1 and 5) | expected |
|---|---|
| ``classify``: the compiled member renamed (``other.npz``) | ``ModelError``, no code runs |
| ``classify`` with the compiled member removed | ``ModelError``, no code runs |
| ``classify`` with a member named outside the archive (``../elsewhere.npz``) | ``ModelError`` |
| ``invitecls classify/triage/review --model`` on such a model | exit 2, one line, no code runs |
| ``invitecls train --output X`` (no ``--force``), X a planted pickle | the guard reads X's compiled form |
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
from conftest import model_members, write_model_members

import invitecls
from invitecls import ModelError, load_model
from invitecls._cli import main

ROOT = Path(__file__).resolve().parents[1]


class _Touch:
    """Unpickling this creates ``path``: the stand-in for an attacker's code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.path,))


@pytest.fixture
def planted(saved: Path) -> tuple[Path, Path]:
    """A model whose estimator is a payload with a forged, matching hash; and the marker path."""
    marker = saved.parent / "code-ran"
    members = model_members(saved)
    members["estimator.joblib"] = pickle.dumps(_Touch(marker))
    meta = json.loads(members["metadata.json"])
    meta["model_sha256"] = hashlib.sha256(members["estimator.joblib"]).hexdigest()
    members["metadata.json"] = json.dumps(meta).encode()
    write_model_members(saved, members)
    return saved, marker


def _rename_compiled(model: Path, name: str | None) -> None:
    """Rename the compiled member (None: remove it)."""
    members = model_members(model)
    data = members.pop("compiled.npz")
    if name is not None:
        members[name] = data
    write_model_members(model, members)


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


@pytest.mark.parametrize(("name", "message"), [("other.npz", "unexpected member"), (None, "no compiled model")])
def test_classify_never_falls_back_to_the_pickle(planted, name: str | None, message: str) -> None:
    model, marker = planted
    _rename_compiled(model, name)
    with pytest.raises(ModelError, match=message):
        invitecls.classify("hello", model=model)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../elsewhere.npz", "/tmp/x.npz", "model.joblib"])
def test_a_model_file_holds_only_its_own_members(planted, name: str) -> None:
    model, marker = planted
    _rename_compiled(model, name)
    with pytest.raises(ModelError, match="unexpected member"):
        invitecls.classify("hello", model=model)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["classify", "triage", "review"])
def test_the_command_line_refuses_in_one_line(planted, command: str, capsys) -> None:
    model, marker = planted
    _rename_compiled(model, None)
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


@pytest.mark.slow  # seconds: the quick suite must stay under 2 minutes
def test_the_replace_guard_reads_the_compiled_form(planted, tmp_path: Path, capsys) -> None:
    model, marker = planted
    labels = ROOT / "data" / "example_my_labels.csv"
    code = main(["train", str(labels), "--output", str(model), "--holdout", str(labels), "--base", "none"])
    captured = capsys.readouterr()
    assert code in (0, 2)  # replaced or refused on its merits
    # The guard compared the models (it read the existing one's compiled form) and no code from the file ran.
    assert "on held-out notes" in captured.out, captured.err
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
