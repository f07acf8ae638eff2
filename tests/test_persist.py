"""Model files: one file, switched in atomically, locked while written, verified before it is read.

| attempt (issue 12, items 4 and 6) | expected |
|---|---|
| a crash (exception, or the process killed) at each write, sync, link, rename of a save | a model loads |
| a full disk while the compiled arrays are written | ``ModelError``; the previous model unchanged |
| two writers to one new file, threads or processes | one writes it, the other is told why not |
| a reader loading in a loop while another process replaces the model | never an error |
| replacing a model (``overwrite=True``, ``train --force``) | the old one kept as ``model.joblib.bak`` |
| metadata ``versions`` a string; a forged one-class ``.npz``; a junk ``.skops`` | ``ModelError``, one line |
| ``--model`` naming a folder, or a file that does not exist | ``ModelError`` saying which |
| a model of invitecls 0.1's three-file layout | ``ModelError`` with the command that converts it |

"A model loads": the previous one, or the new one once the switch is done, never a mix;
and the next save works (the dead writer's lock is free, its temporary file removed).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import model_members, write_model_members

import invitecls
from invitecls import ModelError, ModelVersionWarning, _persist, load_model
from invitecls._persist import (
    FORMAT_VERSION,
    ModelLockedError,
    backup_path,
    load_compiled,
    lock_path,
    model_writer,
    read_metadata,
    save_model,
)

NOTES = [
    ("Hi Anders, I'd like to connect with you on LinkedIn.", 0),
    ("Great meeting you at the Aarhus wind summit, can I ask about your blade inspection drones?", 1),
    ("", None),
    ("We help CFOs cut close time by 40%. Demo?", 120),
]


def _forge(path: Path, *, rehash: bool = True, **changes: Any) -> None:
    """Change members and metadata fields of a model file, with matching hashes (whoever forges one can)."""
    members = model_members(path)
    metadata = json.loads(members["metadata.json"])
    for name in [n for n in changes if "." in n]:
        data = changes.pop(name)
        if data is None:
            del members[name]
        else:
            members[name] = data
    if rehash:
        estimator = "estimator.joblib" if "estimator.joblib" in members else "estimator.skops"
        for name, key in ((estimator, "model_sha256"), ("compiled.npz", "compiled_sha256")):
            if name in members:
                metadata[key] = hashlib.sha256(members[name]).hexdigest()
    metadata.update(changes)
    members["metadata.json"] = json.dumps(metadata).encode()
    write_model_members(path, members)


@pytest.fixture(scope="module")
def tiny(corpus) -> tuple[invitecls.InviteClassifier, invitecls.InviteClassifier]:
    """Two different models fitted on 60 notes: an old one and its replacement, each saved in milliseconds."""
    spam = [i for i, label in enumerate(corpus.labels) if label == "spam"][::300][:30]
    genuine = [i for i, label in enumerate(corpus.labels) if label == "genuine"][::300][:30]
    data = corpus.subset(spam + genuine)
    old = invitecls.InviteClassifier(cv=2).fit(data.X, data.labels, groups=data.groups)
    new = invitecls.InviteClassifier(cv=2, C=0.5).fit(data.X, data.labels, groups=data.groups)
    assert not np.array_equal(old._compiled().coef, new._compiled().coef)
    return old, new


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each model serialised once: the tests of writing run many saves of two models."""
    members = _persist._members
    cache: dict[tuple[int, str], Any] = {}

    def cached(model: Any, serialization: str, name: str, info: Any) -> Any:
        key = (id(model), serialization)
        if key not in cache:
            cache[key] = members(model, serialization, name, info)
        return cache[key]

    monkeypatch.setattr(_persist, "_members", cached)


def _which(path: Path, old: Any, new: Any) -> str:
    """``old`` or ``new``: the model at ``path``, loaded and classifying (never a mix of the two)."""
    compiled = load_compiled(path)
    assert invitecls.classify("We help CFOs close faster. Demo?", 0, model=compiled).label in ("spam", "genuine")
    for name, model in (("old", old), ("new", new)):
        if np.array_equal(compiled.coef, model._compiled().coef):
            return name
    raise AssertionError("neither model")


# ------------------------------------------------------------------ round trip and metadata


def test_round_trip_gives_identical_probabilities(saved: Path, small_model) -> None:
    loaded = load_model(saved, trusted=True)
    np.testing.assert_array_equal(loaded.predict_proba(NOTES), small_model.predict_proba(NOTES))
    assert invitecls.classify_many([m for m, _ in NOTES], model=saved) == invitecls.classify_many(
        [m for m, _ in NOTES], model=small_model
    )


def test_a_model_is_one_file(saved: Path) -> None:
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.joblib"]
    with zipfile.ZipFile(saved) as archive:
        assert archive.namelist() == ["metadata.json", "compiled.npz", "estimator.joblib"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())


def test_metadata_records_what_it_should(saved: Path, small_model) -> None:
    meta = read_metadata(saved)
    assert meta["format_version"] == FORMAT_VERSION
    assert set(meta["versions"]) >= {"invitecls", "scikit-learn", "numpy", "python"}
    assert meta["labels"] == ["genuine", "spam"]
    assert meta["thresholds"]["label"] == small_model.threshold_
    assert meta["model_sha256"] == hashlib.sha256(model_members(saved)["estimator.joblib"]).hexdigest()
    assert meta["created"].endswith("+00:00")
    assert "macro_f1" in meta["metrics"]["cross_validation"]
    # Saved without a training report: the model's own cross-validation, nothing on what it was trained on.
    assert meta["training_data"] == {} and meta["report"] is None and meta["base"] is None
    assert meta["metrics"]["cross_validation"] == small_model.cv_scores_


def test_loading_sets_no_attribute_outside_fit(saved: Path, small_model) -> None:
    # scikit-learn's convention: fitted attributes (a trailing underscore) come from fit alone.
    loaded = load_model(saved, trusted=True)
    fitted = {k for k in vars(small_model) if k.endswith("_")}
    assert {k for k in vars(loaded) if k.endswith("_")} == fitted
    assert not {"metadata_", "training_info_"} & fitted


def test_a_model_pickled_with_attributes_set_outside_fit_loads_without_them(small_model) -> None:
    # invitecls 0.1 set training_info_ in train() and metadata_ in load_model(): the shipped model's pickle has one.
    import copy
    import pickle

    old = copy.copy(small_model)
    old.training_info_ = {"data": {"rows": 1}}
    old.metadata_ = {"labels": ["genuine", "spam"]}
    loaded = pickle.loads(pickle.dumps(old))
    assert not hasattr(loaded, "training_info_") and not hasattr(loaded, "metadata_")
    np.testing.assert_array_equal(loaded.coef_, small_model.coef_)


def test_training_info_is_written_into_the_metadata(tmp_path: Path, small_model) -> None:
    info = {
        "data": {"file": "mine.csv", "rows": 40},
        "base": {"name": "corpus", "rows": 100, "sha256": None},
        "weight": 2.5,
        "metrics": {"cross_validation": {"macro_f1": 0.5}},
        "report": {"sentence": "The new model is better."},
    }
    path = save_model(small_model, tmp_path / "model.joblib", training_info=info)
    meta = read_metadata(path)
    assert meta["training_data"] == info["data"] and meta["base"] == info["base"] and meta["weight"] == 2.5
    assert meta["report"] == info["report"] and meta["metrics"]["cross_validation"] == {"macro_f1": 0.5}


def test_a_changed_member_is_refused_before_unpickling(saved: Path) -> None:
    members = model_members(saved)
    data = bytearray(members["estimator.joblib"])
    data[len(data) // 2] ^= 0xFF
    members["estimator.joblib"] = bytes(data)
    write_model_members(saved, members)  # a consistent zip: only the sha256 in the metadata tells
    with pytest.raises(ModelError, match="does not match its metadata"):
        load_model(saved, trusted=True)


def test_a_damaged_file_is_refused(saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"damaged|does not match its metadata"):
        load_model(saved, trusted=True)
    saved.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ModelError, match=r"damaged|not an invitecls model file"):
        load_compiled(saved)


def test_missing_or_unknown_metadata_is_refused(saved: Path) -> None:
    _forge(saved, format_version=99)
    with pytest.raises(ModelError, match="unknown model format version 99"):
        load_model(saved, trusted=True)
    members = model_members(saved)
    del members["metadata.json"]
    write_model_members(saved, members)
    with pytest.raises(ModelError, match="not an invitecls model file"):
        load_compiled(saved)


def test_another_scikit_learn_minor_series_is_refused_with_the_fix(saved: Path) -> None:
    meta = read_metadata(saved)
    _forge(saved, versions={**meta["versions"], "scikit-learn": "1.4.2"})
    with pytest.raises(ModelError, match=r"saved with scikit-learn 1\.4\.2.*invitecls train"):
        load_model(saved, trusted=True)
    with pytest.warns(ModelVersionWarning, match="invitecls train"):
        load_model(saved, trusted=True, allow_version_mismatch=True)


# ------------------------------------------------------------------ item 6: forged and broken model files


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("versions", "1.7.2", "field versions must be an object of version strings, not str"),
        ("labels", "spam", "field labels must be a list of strings"),
        ("serialization", "pickle", "field serialization must be 'joblib' or 'skops'"),
        ("model_sha256", 42, "field model_sha256 must be 64 hexadecimal digits"),
    ],
)
def test_metadata_of_the_wrong_type_is_one_clear_error(saved: Path, field: str, value: Any, message: str) -> None:
    _forge(saved, **{field: value})
    for load in (lambda: load_model(saved, trusted=True), lambda: load_compiled(saved)):
        with pytest.raises(ModelError, match=message) as caught:
            load()
        assert str(saved) in str(caught.value) and "\n" not in str(caught.value)


def _npz(model: Any, **changes: Any) -> bytes:
    """The compiled form of ``model`` with arrays or meta fields replaced."""
    buffer = io.BytesIO()
    model._compiled().save(buffer)
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(bytes(arrays["meta"]).decode())
    for key, value in changes.items():
        if key in meta:
            meta[key] = value
        else:
            arrays[key] = value
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"classes": ["spam"]}, "two or more distinct class names"),
        ({"classes": ["spam", "spam"]}, "two or more distinct class names"),
        ({"coef": np.zeros((1, 3))}, "coef"),
        ({"intercept": np.zeros(2)}, "intercept"),
        ({"pitch_coef": np.zeros(3)}, "pitch_coef"),
        ({"pitch_intercept": float("nan")}, "pitch_intercept: not every value is finite"),
        ({"char_columns": np.zeros(1, dtype=np.int64)}, "char_columns"),
        ({"threshold": "high"}, "could not convert|threshold"),
        ({"template_shape": [1, 1]}, "index pointer size"),
        ({"word_ngram_range": [1, 10**9]}, "word_ngram_range"),
    ],
)
def test_a_forged_compiled_model_is_one_clear_error(saved: Path, small_model, changes: dict, message: str) -> None:
    # Before the check, a one-class .npz classified its way into an IndexError.
    _forge(saved, **{"compiled.npz": _npz(small_model, **changes)})
    with pytest.raises(ModelError, match=message) as caught:
        invitecls.classify("hello", model=load_compiled(saved))
    assert str(saved) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("older", ["a feature fewer", "no first stage"])
def test_a_model_of_another_feature_set_asks_to_be_retrained(saved: Path, small_model, older: str) -> None:
    if older == "a feature fewer":  # a model trained before a note-level feature was added
        coef = small_model._compiled().coef
        npz = _npz(small_model, coef=coef[:, :-1])
    else:  # a model trained before the features had a first stage that tells a pitch
        with np.load(io.BytesIO(_npz(small_model)), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files if key != "pitch_coef"}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        npz = buffer.getvalue()
    _forge(saved, **{"compiled.npz": npz})
    with pytest.raises(ModelError, match=r"trained by another version; retrain it with `invitecls train`"):
        load_compiled(saved)


def test_an_array_claiming_more_than_the_file_holds_is_refused_before_it_is_allocated(saved: Path) -> None:
    members = model_members(saved)
    with zipfile.ZipFile(io.BytesIO(members["compiled.npz"])) as npz:
        arrays = {name: npz.read(name) for name in npz.namelist()}
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }"
    header += b" " * (117 - len(header)) + b"\n"
    arrays["coef.npy"] = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\x00" * 64
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as npz:
        for name, data in arrays.items():
            npz.writestr(name, data)
    _forge(saved, **{"compiled.npz": buffer.getvalue()})
    with pytest.raises(ModelError, match="claims more data than the archive holds"):
        load_compiled(saved)


@pytest.mark.parametrize("where", ["member", "file"])
def test_a_junk_skops_model_is_one_clear_error(tmp_path: Path, saved: Path, where: str) -> None:
    junk = tmp_path / "junk.skops"
    if where == "member":  # a model file whose estimator is junk, with forged hashes
        junk.write_bytes(saved.read_bytes())
        _forge(junk, serialization="skops", **{"estimator.joblib": None, "estimator.skops": b"PK\x03\x04junk"})
        match = "its estimator is not a valid .skops file"
    else:
        junk.write_bytes(b"PK\x03\x04 not a zip at all")
        match = "damaged model file"
    with pytest.raises(ModelError, match=match):
        load_model(junk)


def test_bad_paths(tmp_path: Path, small_model) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "none.joblib", trusted=True)
    with pytest.raises(ModelError, match="no such model file"):
        load_compiled(tmp_path / "mdoel.joblib")
    with pytest.raises(ModelError, match="a folder, not a model file"):
        load_compiled(tmp_path)
    (tmp_path / "notes.joblib").write_text("hello")
    with pytest.raises(ModelError, match="not an invitecls model file"):
        load_compiled(tmp_path / "notes.joblib")
    with pytest.raises(ValueError, match=r"\.joblib or \.skops"):
        small_model.save(tmp_path / "model.pkl")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "model.joblib"
    os.mkfifo(fifo)
    with pytest.raises(ModelError, match="not a regular file"):
        load_compiled(fifo)


@pytest.mark.parametrize("argv", [["classify", "hi"], ["evaluate", "DATA"]])
@pytest.mark.parametrize("model", ["folder", "typo"])
def test_the_command_line_names_a_bad_model_path(tmp_path: Path, argv: list[str], model: str, capsys) -> None:
    from invitecls._cli import main

    data = tmp_path / "data.csv"
    data.write_text("message,label\nhi,spam\n", encoding="utf-8")
    given = tmp_path if model == "folder" else tmp_path / "mdoel.joblib"
    argv = [str(data) if a == "DATA" else a for a in argv]
    assert main([*argv, "--model", str(given)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.endswith(f"{given}: a folder, not a model file (name the .joblib or .skops file in it)") or err.endswith(
        f"{given}: no such model file"
    )


def test_the_compiled_form_is_checked_and_needs_no_pickle(saved: Path, small_model) -> None:
    from invitecls._prepare import prepare

    compiled = load_compiled(saved)
    batch = prepare([m for m, _ in NOTES], np.array([np.nan if c is None else c for _, c in NOTES], dtype=float))
    np.testing.assert_array_equal(
        compiled.predict_proba(compiled.transform(batch)[0]), small_model.predict_proba(NOTES)
    )
    with np.load(io.BytesIO(model_members(saved)["compiled.npz"]), allow_pickle=False) as archive:
        assert all(archive[key].dtype != object for key in archive.files)
    _forge(saved, rehash=False, **{"compiled.npz": _npz(small_model, threshold=0.01)})
    with pytest.raises(ModelError, match="does not match its metadata"):
        load_compiled(saved)


def test_load_model_reads_the_serialization_from_the_file_not_its_name(tmp_path: Path, saved: Path) -> None:
    renamed = tmp_path / "shared.skops"
    renamed.write_bytes(saved.read_bytes())
    with pytest.raises(ModelError, match=r"is a pickle.*trusted=True"):
        load_model(renamed)


# ------------------------------------------------------------------ item 4: one atomic unit


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
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.joblib"]
    load_model(saved, trusted=True)


class _Steps:
    """Every write, sync, hard link and rename of a save, counted; ``fail`` runs at step ``at``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: int, fail: Any) -> None:
        self.names: list[str] = []
        self.at, self.fail = at, fail
        for name in ("replace", "link", "fsync"):
            monkeypatch.setattr(os, name, self._wrap(name, getattr(os, name)))
        opener = _persist._open_for_writing
        monkeypatch.setattr(_persist, "_open_for_writing", lambda path: _Handle(opener(path), self.step))

    def step(self, name: str = "write") -> None:
        self.names.append(name)
        if len(self.names) == self.at:
            self.fail()

    def _wrap(self, name: str, function: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.step(name)
            return function(*args, **kwargs)

        return wrapped


class _Handle:
    """A file whose every write first calls ``before``."""

    def __init__(self, raw: Any, before: Any) -> None:
        self._raw, self._before = raw, before

    def write(self, data: bytes) -> int:
        self._before()
        return int(self._raw.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __enter__(self) -> _Handle:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()


def _steps_of_a_replacement(tmp_path: Path, model: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """How many steps replacing a model takes, and which one is the rename that switches it."""
    path = tmp_path / "count" / "model.joblib"
    save_model(model, path)
    with monkeypatch.context() as patch:
        steps = _Steps(patch, at=0, fail=None)
        save_model(model, path, overwrite=True)
    # The archive's write and sync, the backup's link and rename, the switch, the folder's sync.
    assert steps.names == ["write", "fsync", "link", "replace", "replace", "fsync"]
    return len(steps.names), 5


def test_an_exception_at_any_step_leaves_a_model_that_loads(tmp_path: Path, tiny, quick, monkeypatch) -> None:
    old, new = tiny
    n, switch = _steps_of_a_replacement(tmp_path, old, monkeypatch)
    outcomes = []
    for at in range(1, n + 1):
        path = tmp_path / f"at{at}" / "model.joblib"
        save_model(old, path)

        def fail() -> None:
            raise OSError(errno.EIO, "injected failure")

        failed = False
        with monkeypatch.context() as patch:
            _Steps(patch, at, fail)
            try:
                save_model(new, path, overwrite=True)
            except (OSError, ModelError):
                failed = True
        outcomes.append((failed, _which(path, old, new)))
        # Nothing left behind but the model and perhaps its backup; the lock is free again.
        assert {p.name for p in path.parent.iterdir()} <= {"model.joblib", "model.joblib.bak"}
        save_model(new, path, overwrite=True)
        assert _which(path, old, new) == "new" and _which(backup_path(path), old, new) in ("old", "new")
    # A save that fails changes nothing; one that reports success has switched. (A failed hard link
    # falls back to a copy, a failed sync of the folder comes after the switch: those saves succeed.)
    assert all((which == "old") == failed for failed, which in outcomes), outcomes
    assert sum(failed for failed, _ in outcomes) >= n - 2
    assert all(failed for failed, _ in outcomes[switch - 1 : switch])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a forked writer")
def test_a_writer_killed_at_any_step_leaves_a_model_that_loads(tmp_path: Path, tiny, quick, monkeypatch) -> None:
    # os._exit in a forked writer is kill -9 as the file system sees it: no cleanup, no finally.
    old, new = tiny
    n, switch = _steps_of_a_replacement(tmp_path, old, monkeypatch)
    for at in range(1, n + 1):
        path = tmp_path / f"at{at}" / "model.joblib"
        save_model(old, path)
        pid = os.fork()
        if pid == 0:  # the writer
            try:
                _Steps(monkeypatch, at, lambda: os._exit(17))
                save_model(new, path, overwrite=True)
            finally:
                os._exit(0)
        assert os.waitpid(pid, 0)[1] >> 8 == 17
        assert _which(path, old, new) == ("old" if at <= switch else "new")
        # The dead writer's lock is free (the OS released it); its temporary file goes with the next save.
        save_model(new, path, overwrite=True)
        assert _which(path, old, new) == "new"
        assert {p.name for p in path.parent.iterdir()} == {"model.joblib", "model.joblib.bak"}


@pytest.mark.parametrize("where", ["start", "compiled.npz", "end"])
def test_a_full_disk_leaves_the_previous_model(tmp_path: Path, tiny, quick, monkeypatch, where: str) -> None:
    old, new = tiny
    path = tmp_path / "model.joblib"
    save_model(old, path)
    before = path.read_bytes()
    scratch = tmp_path / "scratch" / "new.joblib"
    save_model(new, scratch)
    with zipfile.ZipFile(scratch) as archive:
        offsets = {"start": 0, "compiled.npz": archive.getinfo("compiled.npz").header_offset + 1000}
    offsets["end"] = scratch.stat().st_size - 10
    room = offsets[where]
    scratch.unlink()
    scratch.parent.rmdir()
    opener = _persist._open_for_writing

    class Full(_Handle):
        written = 0

        def write(self, data: bytes) -> int:
            if self.written + len(data) > room:
                self._raw.write(data[: room - self.written])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.written += len(data)
            return int(self._raw.write(data))

    monkeypatch.setattr(_persist, "_open_for_writing", lambda p: Full(opener(p), None))
    with pytest.raises(ModelError, match=r"could not write the model \(No space left on device\)") as caught:
        save_model(new, path, overwrite=True)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.joblib"]
    assert _which(path, old, new) == "old"


@pytest.mark.parametrize("os_lock", ["per open file", "per process"])
def test_two_writers_to_one_new_file_one_wins_the_other_is_told(
    tmp_path: Path, tiny, quick, monkeypatch, os_lock: str
) -> None:
    if os_lock == "per process":
        # As on NFS, where flock is emulated per process: the process's own record of its locks decides.
        monkeypatch.setattr(_persist, "_try_lock", lambda fd: True)
    old, new = tiny
    path = tmp_path / "model.joblib"
    inside, done = threading.Event(), threading.Event()

    def first() -> None:
        with model_writer(path) as writer:
            inside.set()
            done.wait(10)
            writer.save(old)

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(10)
    with pytest.raises(ModelLockedError, match=r"another writer \(this process\) is writing this model"):
        save_model(new, path)
    done.set()
    thread.join()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_model(new, path)  # the path exists now: without overwrite, never replaced
    assert _which(path, old, new) == "old"
    assert not lock_path(path).exists()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks writers")
def test_the_lock_holds_across_processes(tmp_path: Path, tiny, quick) -> None:
    old, new = tiny
    path = tmp_path / "model.joblib"
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            with model_writer(path) as writer:
                os.write(ready_w, b"1")
                os.read(go_r, 1)
                writer.save(old)
        finally:
            os._exit(0)
    os.read(ready_r, 1)
    try:
        with pytest.raises(ModelLockedError, match=rf"another writer \(process {pid}\)"):
            save_model(new, path)
    finally:
        os.write(go_w, b"1")
        os.waitpid(pid, 0)
    assert _which(path, old, new) == "old"
    # Two processes racing for a new file: exactly one writes it, the other is told why not.
    for round_ in range(4):
        target = tmp_path / f"race{round_}.joblib"
        start_r, start_w = os.pipe()
        pids = []
        for model in (old, new):
            child = os.fork()
            if child == 0:
                code = 1
                try:
                    os.read(start_r, 1)
                    save_model(model, target)
                    code = 0
                except ModelLockedError:
                    code = 3
                except FileExistsError:
                    code = 4
                finally:
                    os._exit(code)
            pids.append(child)
        os.write(start_w, b"12")
        codes = sorted(os.waitpid(child, 0)[1] >> 8 for child in pids)
        assert codes[0] == 0 and codes[1] in (3, 4), codes
        _which(target, old, new)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a writer")
def test_a_reader_never_sees_a_model_being_replaced(tmp_path: Path, tiny, quick) -> None:
    old, new = tiny
    path = tmp_path / "model.joblib"
    save_model(old, path)
    # The reader reports every finished read; after each save the writer waits for two reads
    # that began after it, so the reader sees both models whatever the scheduler does.
    read_r, read_w = os.pipe()
    os.set_blocking(read_w, False)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_w)
            for i in range(30):
                save_model(new if i % 2 == 0 else old, path, overwrite=True)
                _after_two_more_reads(read_r)
            code = 0
        finally:
            os._exit(code)
    os.close(read_r)
    seen, errors = set(), []
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        try:
            seen.add(_which(path, old, new))
        except Exception as err:
            errors.append(repr(err))
        with contextlib.suppress(BlockingIOError, BrokenPipeError):  # a full pipe, or the writer is done
            os.write(read_w, b"r")
    os.close(read_w)
    assert status >> 8 == 0
    assert errors == []
    assert seen == {"old", "new"}


def _after_two_more_reads(read_r: int) -> None:
    """Return once the reader has finished two reads, the second wholly after this call."""
    os.set_blocking(read_r, False)
    with contextlib.suppress(BlockingIOError):
        while os.read(read_r, 4096):
            pass
    os.set_blocking(read_r, True)
    for _ in range(2):
        os.read(read_r, 1)


def test_a_replaced_model_is_kept_as_a_backup(tmp_path: Path, tiny, quick) -> None:
    old, new = tiny
    path = tmp_path / "model.joblib"
    assert save_model(old, path) == path
    with model_writer(path) as writer:
        saved = writer.save(new, overwrite=True)
    assert saved.backup == backup_path(path) == tmp_path / "model.joblib.bak"
    assert _which(path, old, new) == "new"
    assert _which(saved.backup, old, new) == "old"
    save_model(old, path, overwrite=True)  # one backup: the model just replaced
    assert _which(saved.backup, old, new) == "new"


# ------------------------------------------------------------------ the three-file layout of invitecls 0.1


def _legacy(model: Any, path: Path) -> None:
    """Write ``model`` as invitecls 0.1 did: three files renamed one after another."""
    import joblib

    joblib.dump(model, path, compress=3)
    npz = path.with_name(path.name + ".npz")
    model._compiled().save(npz)
    meta = _persist._jsonable(
        {
            "format": "invitecls-model",
            "format_version": 1,
            "serialization": "joblib",
            "model_file": path.name,
            "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "compiled_file": npz.name,
            "compiled_sha256": hashlib.sha256(npz.read_bytes()).hexdigest(),
            "versions": _persist._versions(),
            "labels": list(model.classes_),
        }
    )
    path.with_name(path.name + ".json").write_text(json.dumps(meta))


def test_a_three_file_model_is_refused_with_the_command_that_converts_it(tmp_path: Path, tiny, capsys) -> None:
    old, new = tiny
    path = tmp_path / "old.joblib"
    _legacy(old, path)
    pickle_bytes = path.read_bytes()
    with pytest.raises(ModelError, match=r"three-file layout.*python -m invitecls\._persist upgrade"):
        load_compiled(path)
    assert _persist._main(["upgrade", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: one file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.joblib"]
    assert model_members(path)["estimator.joblib"] == pickle_bytes  # repacked, not re-pickled
    assert _which(path, old, new) == "old"
    assert _persist._main(["upgrade", str(path)]) == 0  # already one file: nothing to do


def test_the_conversion_refuses_changed_files_and_leaves_them(tmp_path: Path, tiny, capsys) -> None:
    old, _ = tiny
    path = tmp_path / "old.joblib"
    _legacy(old, path)
    npz = path.with_name("old.joblib.npz")
    npz.write_bytes(npz.read_bytes()[:-10])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert _persist._main(["upgrade", str(path)]) == 2
    assert "sha256 does not match" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_replacing_a_three_file_model_keeps_all_of_it_in_the_backup(tmp_path: Path, tiny) -> None:
    old, new = tiny
    path = tmp_path / "old.joblib"
    _legacy(old, path)
    save_model(new, path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.joblib", "old.joblib.bak"]
    assert _which(path, old, new) == "new"
    assert _which(backup_path(path), old, new) == "old"


# ------------------------------------------------------------------ sharing, and the shipped model


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

    meta = invitecls.read_metadata()  # None: the shipped model's
    saved = meta["versions"]["scikit-learn"]
    assert saved.split(".")[:2] == sklearn.__version__.split(".")[:2]
    assert meta["default_task"] is True
    assert meta["training_data"]["split"] == "train"
    assert meta["thresholds"]["label"] == shipped.threshold_
    assert not hasattr(shipped, "metadata_") and not hasattr(shipped, "training_info_")


# ------------------------------------------------------------------ the command line


def test_train_stops_before_training_while_another_writer_holds_the_model(tmp_path: Path, capsys) -> None:
    from invitecls._cli import main

    path = tmp_path / "model.joblib"
    with model_writer(path):
        assert main(["train", "/no/such/data.csv", "--output", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"invitecls train: error: {path}: another writer (this process) is writing this model; nothing was written. "
        "Try again when it has finished (its lock file is .model.joblib.lock)"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # training's report scores the corpus's test split: seconds
def test_train_force_keeps_the_replaced_model_as_a_backup(tmp_path: Path, corpus, tiny, capsys) -> None:
    from invitecls._cli import main

    old, new = tiny
    spam = [i for i, label in enumerate(corpus.labels) if label == "spam"][::200][:25]
    genuine = [i for i, label in enumerate(corpus.labels) if label == "genuine"][::200][:25]
    data = tmp_path / "mine.csv"
    corpus.subset(spam + genuine).to_pandas()[["message", "mutual_connections", "label", "group"]].to_csv(
        data, index=False
    )
    path = tmp_path / "model.joblib"
    save_model(old, path)
    assert main(["train", str(data), "--output", str(path), "--force", "--base", "none"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {path}\nkept the model it replaced as {path}.bak\n" in out
    assert _which(backup_path(path), old, new) == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv", "model.joblib", "model.joblib.bak"]
    assert read_metadata(path)["training_data"]["file"] == "mine.csv"
