"""Model files: atomic, verified before they are unpickled, versioned, shareable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import invitecls
from invitecls import ModelError, ModelVersionWarning, load_model
from invitecls._persist import FORMAT_VERSION, metadata_path

NOTES = [
    ("Hi Anders, I'd like to connect with you on LinkedIn.", 0),
    ("Great meeting you at the Aarhus wind summit, can I ask about your blade inspection drones?", 1),
    ("", None),
    ("We help CFOs cut close time by 40%. Demo?", 120),
]


@pytest.fixture
def saved(tmp_path: Path, small_model) -> Path:
    path = tmp_path / "model.joblib"
    small_model.save(path)
    return path


def test_round_trip_gives_identical_probabilities(saved: Path, small_model) -> None:
    loaded = load_model(saved, trusted=True)
    np.testing.assert_array_equal(loaded.predict_proba(NOTES), small_model.predict_proba(NOTES))
    assert invitecls.classify_many([m for m, _ in NOTES], model=saved) == invitecls.classify_many(
        [m for m, _ in NOTES], model=small_model
    )


def test_metadata_records_what_it_should(saved: Path, small_model) -> None:
    meta = json.loads(metadata_path(saved).read_text())
    assert meta["format_version"] == FORMAT_VERSION
    assert set(meta["versions"]) >= {"invitecls", "scikit-learn", "numpy", "python"}
    assert meta["labels"] == ["genuine", "spam"]
    assert meta["thresholds"]["label"] == small_model.threshold_
    assert len(meta["model_sha256"]) == 64
    assert meta["created"].endswith("+00:00")
    assert "macro_f1" in meta["metrics"]["cross_validation"]
    assert load_model(saved, trusted=True).metadata_["model_sha256"] == meta["model_sha256"]


def test_changed_file_is_refused_before_unpickling(saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its metadata"):
        load_model(saved, trusted=True)


def test_missing_or_unknown_metadata_is_refused(saved: Path) -> None:
    meta_file = metadata_path(saved)
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(ModelError, match="unknown model format version 99"):
        load_model(saved, trusted=True)
    meta_file.unlink()
    with pytest.raises(ModelError, match="no metadata file"):
        load_model(saved, trusted=True)


def test_another_scikit_learn_minor_series_is_refused_with_the_fix(saved: Path) -> None:
    meta_file = metadata_path(saved)
    meta = json.loads(meta_file.read_text())
    meta["versions"]["scikit-learn"] = "1.4.2"
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"saved with scikit-learn 1\.4\.2.*invitecls train"):
        load_model(saved, trusted=True)
    with pytest.warns(ModelVersionWarning, match="invitecls train"):
        load_model(saved, trusted=True, allow_version_mismatch=True)


def test_save_refuses_to_overwrite_and_is_atomic(saved: Path, small_model, monkeypatch) -> None:
    before = saved.read_bytes()
    with pytest.raises(FileExistsError):
        small_model.save(saved)

    import joblib

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        small_model.save(saved, overwrite=True)
    assert saved.read_bytes() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.joblib", "model.joblib.json", "model.joblib.npz"]
    load_model(saved, trusted=True)


@pytest.mark.slow
def test_skops_round_trip(tmp_path: Path, small_model) -> None:
    path = tmp_path / "shared.skops"
    small_model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(NOTES), small_model.predict_proba(NOTES))


class Payload:
    """Stands for an object an attacker slipped into a shared model."""


@pytest.mark.slow
def test_skops_refuses_types_it_does_not_trust(tmp_path: Path, small_model) -> None:
    import copy

    tampered = copy.copy(small_model)
    tampered.extra_ = Payload()
    path = tmp_path / "tampered.skops"
    tampered.save(path)
    with pytest.raises(ModelError, match=r"does not trust.*Payload"):
        load_model(path)


def test_the_shipped_model_matches_the_installed_scikit_learn(shipped) -> None:
    import sklearn

    saved = shipped.metadata_["versions"]["scikit-learn"]
    assert saved.split(".")[:2] == sklearn.__version__.split(".")[:2]
    assert shipped.metadata_["default_task"] is True
    assert shipped.metadata_["training_data"]["split"] == "train"


def test_bad_paths(tmp_path: Path, small_model) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "none.joblib", trusted=True)
    with pytest.raises(ValueError, match=r"\.joblib or \.skops"):
        small_model.save(tmp_path / "model.pkl")


def test_compiled_form_is_checked_and_needs_no_pickle(saved: Path, small_model) -> None:
    from invitecls._persist import compiled_path, load_compiled
    from invitecls._prepare import prepare

    compiled = load_compiled(saved)
    batch = prepare([m for m, _ in NOTES], np.array([np.nan if c is None else c for _, c in NOTES], dtype=float))
    np.testing.assert_array_equal(
        compiled.predict_proba(compiled.transform(batch)[0]), small_model.predict_proba(NOTES)
    )
    with np.load(compiled_path(saved), allow_pickle=False) as archive:
        assert all(archive[key].dtype != object for key in archive.files)
    data = bytearray(compiled_path(saved).read_bytes())
    data[-100] ^= 0xFF
    compiled_path(saved).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its metadata"):
        load_compiled(saved)
