"""Saving and loading models: one file per model, written atomically, checked before it is read.

A model file (``model.joblib`` or ``model.skops``) is a zip archive of three
stored (uncompressed) members:

- ``metadata.json``: the format version, the library versions the model was
  saved with, its labels and thresholds, the hash of its training data, the
  sha256 of the two other members, and its metrics;
- ``compiled.npz``: the compiled form, plain numpy arrays read without pickle,
  which is all that ``classify`` and the command line ever read;
- ``estimator.joblib`` (a pickle: loading it runs whatever code it holds, so
  ``load_model`` unpickles one only when told ``trusted=True``) or
  ``estimator.skops`` (for sharing: loaded with an explicit list of trusted
  types, nothing trusted blindly).

Writing takes a lock file beside the model (``.model.joblib.lock``), so that
writers are serialised and the one that finds it taken is told so; the archive
goes to a temporary file beside the model, is flushed to disk, and is switched
in by one rename. A reader opens the file once and reads everything from that
handle, so it sees the old model or the new one, never a mix, and a crash or a
full disk at any point leaves the previous model in place. A replaced model is
kept as ``model.joblib.bak``.

Loading checks, before any member is parsed: a regular file under the size
limit, a zip of exactly the expected members, a known format version, and
each member's sha256 against the metadata (a changed or truncated member never
runs). The hash is integrity, not trust: whoever supplies a model supplies its
metadata too. A model saved with another scikit-learn minor series is refused
with the command that retrains it (patch releases only warn).

Models of invitecls 0.1's three-file layout (``model.joblib`` with
``model.joblib.npz`` and ``model.joblib.json`` beside it) are refused with the
command that converts them: ``python -m invitecls._persist upgrade PATH``
repacks the three files after checking their sha256, unpickling nothing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import platform
import re
import secrets
import stat
import struct
import threading
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from invitecls._compiled import CompiledModel
    from invitecls._model import InviteClassifier

__all__ = [
    "DEFAULT_MODEL_NAME",
    "FORMAT_VERSION",
    "MAX_MODEL_BYTES",
    "ModelError",
    "ModelLockedError",
    "ModelVersionWarning",
    "SavedModel",
    "backup_path",
    "load_compiled",
    "load_model",
    "lock_path",
    "model_writer",
    "read_metadata",
    "save_model",
    "upgrade_model",
]

FORMAT_VERSION = 2
DEFAULT_MODEL_NAME = "invitecls-default.joblib"
#: Largest model file read (the shipped one is about 5 MB): bounds the memory a hostile file can take.
MAX_MODEL_BYTES = 1 << 30
_MAX_METADATA_BYTES = 1 << 20
_RETRAIN = "invitecls train YOUR_DATA.csv --output {path} --force"
_UPGRADE = "python -m invitecls._persist upgrade {path}"

METADATA_MEMBER = "metadata.json"
COMPILED_MEMBER = "compiled.npz"
_ESTIMATOR_MEMBERS = {"joblib": "estimator.joblib", "skops": "estimator.skops"}
_ZIP_MAGIC = b"PK\x03\x04"

# Types a .skops model of invitecls may contain beyond what skops trusts by default.
TRUSTED_TYPES = (
    "invitecls._model.InviteClassifier",
    "invitecls._features.InviteFeatures",
    "invitecls._features.WordAnalyzer",
    "invitecls._templates.Template",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
)


class ModelError(RuntimeError):
    """A model file that cannot be loaded or written safely."""


class ModelLockedError(ModelError):
    """Another writer holds the model's lock: nothing was written."""


class ModelVersionWarning(UserWarning):
    """A model saved with a different (patch) version of a library."""


@dataclass(frozen=True)
class SavedModel:
    """Where a model was written, and where the model it replaced is kept.

    Attributes
    ----------
    path : Path
        The model file.
    backup : Path or None
        The replaced model (``model.joblib.bak``); None when nothing was replaced.
    """

    path: Path
    backup: Path | None = None


def backup_path(path: str | os.PathLike[str]) -> Path:
    """Where the model a save replaces is kept (``model.joblib`` -> ``model.joblib.bak``).

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    Path
    """
    model = Path(path)
    return model.with_name(model.name + ".bak")


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of a model's writers (``model.joblib`` -> ``.model.joblib.lock``).

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    Path
    """
    model = Path(path)
    return model.with_name(f".{model.name}.lock")


def _legacy_paths(path: Path) -> tuple[Path, Path]:
    """The metadata and compiled files of invitecls 0.1's three-file layout."""
    return path.with_name(path.name + ".json"), path.with_name(path.name + ".npz")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str]:
    import nltk
    import numpy
    import scipy
    import sklearn

    from invitecls import __version__

    return {
        "invitecls": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "nltk": nltk.__version__,
        "python": platform.python_version(),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, bool, type(None))):
        return value
    if isinstance(value, (int, float)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


# ------------------------------------------------------------------ locking

# Lock files this process holds: a second writer in the same process is refused
# even where the file system's locks are per process (NFS emulates flock so).
_held: set[str] = set()
_held_guard = threading.Lock()


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _locked_error(target: Path, lock: Path) -> ModelLockedError:
    holder = ""
    with suppress(OSError, ValueError):
        pid = int(lock.read_bytes()[:20].decode("ascii").strip())
        holder = f" (process {pid})" if pid != os.getpid() else " (this process)"
    return ModelLockedError(
        f"{target}: another writer{holder} is writing this model; nothing was written. "
        f"Try again when it has finished (its lock file is {lock.name})"
    )


def _acquire(target: Path, lock: Path) -> int:
    """Lock ``lock`` (an OS lock, released by the OS if the process dies); the file descriptor."""
    for _ in range(100):
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                raise _locked_error(target, lock)
            # The previous holder deletes the file on release: the lock counts only
            # if it is on the file that is still there.
            try:
                current = os.stat(lock)
            except FileNotFoundError:
                current = None
            mine = os.fstat(fd)
            if current is not None and (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise _locked_error(target, lock)


def _release(lock: Path, fd: int) -> None:
    # Deleted while still held, so that a writer who opened it meanwhile sees it is gone.
    with suppress(OSError):
        os.unlink(lock)
    os.close(fd)


def _remove_stale_temporaries(target: Path) -> None:
    """Temporary files of writers to ``target`` that died (only ever called under its lock)."""
    pattern = re.compile(re.escape(f".{target.name}.") + r"[0-9a-f]{12}\.tmp")
    with suppress(OSError):
        for entry in os.scandir(target.parent):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with suppress(OSError):
                    os.unlink(entry.path)


def _check_suffix(target: Path) -> str:
    suffix = target.suffix.lower()
    if suffix not in (".joblib", ".skops"):
        raise ValueError(f"{target}: a model file must end in .joblib or .skops")
    return suffix[1:]


@contextmanager
def model_writer(path: str | os.PathLike[str]) -> Iterator[ModelWriter]:
    """Hold the lock of a model file while preparing and saving it.

    Another writer to the same file, in this process or another, gets
    ``ModelLockedError`` until the block ends; the lock is the operating
    system's, so a writer that dies releases it.

    Parameters
    ----------
    path : str or path-like
        The model file (``*.joblib`` or ``*.skops``).

    Yields
    ------
    ModelWriter
        Its ``save`` writes the model under this lock.

    Raises
    ------
    ModelLockedError
        Another writer holds the lock.
    """
    target = Path(path)
    _check_suffix(target)
    created = [p for p in reversed(target.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path(target)
    key = os.path.normcase(os.path.abspath(lock))
    with _held_guard:
        if key in _held:
            raise _locked_error(target, lock)
        _held.add(key)
    try:
        fd = _acquire(target, lock)
        try:
            _remove_stale_temporaries(target)
            yield ModelWriter(target)
        finally:
            _release(lock, fd)
    finally:
        with _held_guard:
            _held.discard(key)
        for folder in reversed(created):  # folders made for a model that was never written
            with suppress(OSError):
                folder.rmdir()


class ModelWriter:
    """Writes one model file; made by ``model_writer``, which holds the file's lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(
        self, model: InviteClassifier, *, overwrite: bool = False, training_info: Mapping[str, Any] | None = None
    ) -> SavedModel:
        """Write ``model``; the replaced model is kept as a backup.

        Parameters
        ----------
        model : InviteClassifier
            A fitted model.
        overwrite : bool, default=False
            Replace an existing file.
        training_info : mapping, optional
            What the model was trained on, stored in its metadata
            (``Training.info``; see ``save_model``).

        Returns
        -------
        SavedModel
            The model file, and its backup if one was replaced.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(model, "logreg_")
        serialization = _check_suffix(self.path)
        if not overwrite and (self.path.exists() or self.path.is_symlink()):
            raise FileExistsError(f"{self.path} exists; pass overwrite=True (or --force) to replace it")
        return self._switch(_members(model, serialization, self.path.name, training_info or {}), keep_backup=True)

    def _switch(self, members: Sequence[tuple[str, bytes]], *, keep_backup: bool) -> SavedModel:
        """Write the archive beside the model, keep the old one, then rename the new one over it."""
        target = self.path
        if target.is_dir():
            raise ModelError(f"{target}: a folder, not a model file")
        tmp = _temporary(target)
        try:
            _write_archive(tmp, members, _mode(target), target)
            backup, legacy = None, False
            if keep_backup and (target.exists() or target.is_symlink()):
                backup, legacy = _keep_backup(target)
            os.replace(tmp, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        _sync_folder(target.parent)
        if legacy:
            _drop_legacy(target)
        return SavedModel(path=target, backup=backup)


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")


def _mode(target: Path) -> int:
    if target.exists():
        return target.stat().st_mode & 0o777
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _open_for_writing(path: Path) -> io.BufferedWriter:
    """The temporary file an archive is written to (tests put a full disk behind it)."""
    return open(path, "xb")


def _write_archive(path: Path, members: Sequence[tuple[str, bytes]], mode: int, target: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    try:
        with _open_for_writing(path) as handle:
            handle.write(buffer.getbuffer())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, mode)
    except OSError as err:
        if isinstance(err, FileExistsError):
            raise
        raise ModelError(
            f"{target}: could not write the model ({err.strerror or err}); the previous model, if any, is unchanged"
        ) from err


def _keep_backup(target: Path) -> tuple[Path, bool]:
    """Keep the current model as ``.bak`` before the switch; whether it was of the three-file layout."""
    backup = backup_path(target)
    if backup.is_dir():
        raise ModelError(f"{backup} is a folder: cannot keep the model it would replace there")
    legacy = None
    with suppress(ModelError, OSError):
        legacy = _legacy_members(target)
    with suppress(OSError):
        if legacy is None and os.path.samefile(target, backup):
            return backup, False  # kept already (a writer died between keeping it and the switch)
    tmp = _temporary(target)
    try:
        if legacy is not None:
            # A model of the three-file layout: its backup is one file too.
            _write_archive(tmp, legacy, _mode(target), backup)
        else:
            try:
                os.link(target, tmp)
            except OSError:  # a file system without hard links
                import shutil

                shutil.copy2(target, tmp)
        os.replace(tmp, backup)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return backup, legacy is not None


def _drop_legacy(target: Path) -> None:
    """After the switch: the ``.json`` and ``.npz`` of a three-file model it replaced (kept in the backup)."""
    for stale in _legacy_paths(target):
        with suppress(OSError):
            if stale.is_file():
                os.unlink(stale)


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the folder is on disk (POSIX; elsewhere a no-op).
    with suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _members(
    model: InviteClassifier, serialization: str, name: str, info: Mapping[str, Any]
) -> list[tuple[str, bytes]]:
    if serialization == "skops":
        import skops.io

        estimator = skops.io.dumps(model)
    else:
        import joblib

        buffer = io.BytesIO()
        joblib.dump(model, buffer, compress=3)
        estimator = buffer.getvalue()
    buffer = io.BytesIO()
    model._compiled().save(buffer)
    compiled = buffer.getvalue()
    metadata = {
        "format": "invitecls-model",
        "format_version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "serialization": serialization,
        "model_file": name,
        "model_sha256": _sha256(estimator),
        "compiled_sha256": _sha256(compiled),
        "versions": _versions(),
        "labels": [str(c) for c in model.classes_],
        "default_task": bool(model.is_default_task_),
        "thresholds": {
            "label": model.threshold_,
            "accept": model.accept_threshold_,
            "decline": model.decline_threshold_,
        },
        "calibration": {"slope": model.calibration_[0], "intercept": model.calibration_[1]},
        "training_data": info.get("data", {}),
        # What ``invitecls.train`` added beneath one's labels, their weight, and its report on them.
        "base": info.get("base"),
        "weight": info.get("weight"),
        "metrics": {"cross_validation": dict(model.cv_scores_), **info.get("metrics", {})},
        "report": info.get("report"),
        "params": model.get_params(),
    }
    return _pack(metadata, compiled, estimator)


def _pack(metadata: dict[str, Any], compiled: bytes, estimator: bytes) -> list[tuple[str, bytes]]:
    text = json.dumps(_jsonable(metadata), indent=2, ensure_ascii=False) + "\n"
    return [
        (METADATA_MEMBER, text.encode("utf-8")),
        (COMPILED_MEMBER, compiled),
        (_ESTIMATOR_MEMBERS[metadata["serialization"]], estimator),
    ]


def save_model(
    model: InviteClassifier,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    training_info: Mapping[str, Any] | None = None,
) -> Path:
    """Write a fitted model, its compiled form and its metadata as one file, atomically.

    Parameters
    ----------
    model : InviteClassifier
        A fitted model.
    path : str or path-like
        ``*.joblib`` (for your own use) or ``*.skops`` (safe to share).
    overwrite : bool, default=False
        Replace an existing file. Readers see the old model until the new one
        is completely written and switched in by one rename; the old one is
        then kept as ``path + ".bak"`` (replacing an earlier backup).
    training_info : mapping, optional
        What the model was trained on and how it did, as
        ``train_with_report`` returns it in ``Training.info`` (``Training.save``
        passes it): stored in the metadata as ``training_data``, ``base``,
        ``weight``, ``metrics`` and ``report``. Without it these record only
        the model's own cross-validation.

    Returns
    -------
    Path
        The model file.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    ModelLockedError
        Another writer is writing ``path``: nothing was written.
    ModelError
        The file could not be written (a full disk, say); the previous model is unchanged.

    See Also
    --------
    load_model : Read the estimator back.
    read_metadata : Read the metadata back.
    invitecls.classify_many : Classify with the saved file (its compiled form; nothing unpickled).
    """
    with model_writer(path) as writer:
        return writer.save(model, overwrite=overwrite, training_info=training_info).path


# ------------------------------------------------------------------ reading


def _minor(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _check_metadata(where: str, metadata: Any, version: int = FORMAT_VERSION) -> dict[str, Any]:
    """The metadata if every field that loading relies on has the right type; else a ``ModelError``."""
    if not isinstance(metadata, dict) or metadata.get("format") != "invitecls-model":
        raise ModelError(f"{where}: not invitecls model metadata")
    found = metadata.get("format_version")
    if found != version:
        raise ModelError(
            f"{where}: unknown model format version {repr(found)[:40]} (this invitecls reads version {version}); "
            "upgrade invitecls or retrain the model"
        )
    problems = []
    if metadata.get("serialization") not in _ESTIMATOR_MEMBERS:
        problems.append("serialization must be 'joblib' or 'skops'")
    for key in ("model_sha256", "compiled_sha256"):
        if not _is_sha256(metadata.get(key)):
            problems.append(f"{key} must be 64 hexadecimal digits")
    versions = metadata.get("versions")
    if not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values()):
        problems.append(f"versions must be an object of version strings, not {type(versions).__name__}")
    labels = metadata.get("labels")
    if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
        problems.append("labels must be a list of strings")
    if problems:
        raise ModelError(f"{where}: field {problems[0]}")
    return metadata


def _legacy_error(file: Path) -> ModelError:
    meta, compiled = _legacy_paths(file)
    return ModelError(
        f"{file}: a model of invitecls 0.1's three-file layout ({file.name}, {compiled.name}, {meta.name}), "
        f"which cannot be written atomically; convert it once (nothing is unpickled): {_UPGRADE.format(path=file)}"
    )


@dataclass(frozen=True)
class _Read:
    metadata: dict[str, Any]
    compiled: bytes
    estimator: bytes | None


def _read(file: Path, *, estimator: bool) -> _Read:
    """Read and check a model file through one handle: what it holds is one version, never a mix."""
    if file.is_dir():
        raise ModelError(f"{file}: a folder, not a model file (name the .joblib or .skops file in it)")
    try:
        # Non-blocking, so that a FIFO is refused instead of waited on.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ModelError(f"{file}: no such model file") from None
    except OSError as err:
        raise ModelError(f"{file}: cannot read it ({err.strerror or err})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ModelError(f"{file}: not a regular file, not a model file")
        if info.st_size > MAX_MODEL_BYTES:
            raise ModelError(f"{file}: {info.st_size} bytes, more than a model file can be ({MAX_MODEL_BYTES})")
        if handle.read(4) != _ZIP_MAGIC:
            raise _not_a_model(file)
        handle.seek(0)
        try:
            with zipfile.ZipFile(handle) as archive:
                return _read_members(file, archive, estimator=estimator)
        except ModelError:
            raise
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, struct.error) as err:
            # zipfile's own errors on a damaged or hand-made archive
            raise ModelError(f"{file}: a damaged model file ({str(err)[:200]})") from None


def _not_a_model(file: Path) -> ModelError:
    if _legacy_paths(file)[0].is_file():
        return _legacy_error(file)
    return ModelError(f"{file}: not an invitecls model file (invitecls writes a model as one zip archive)")


def _read_members(file: Path, archive: zipfile.ZipFile, *, estimator: bool) -> _Read:
    infos = archive.infolist()
    names = [i.filename for i in infos]
    if METADATA_MEMBER not in names:
        raise _not_a_model(file)
    allowed = {METADATA_MEMBER, COMPILED_MEMBER, *_ESTIMATOR_MEMBERS.values()}
    odd = [n for n in names if n not in allowed] + [n for n in set(names) if names.count(n) > 1]
    if odd:
        raise ModelError(f"{file}: unexpected member {odd[0][:100]!r} in the model file; refusing to load it")
    for i in infos:
        # Stored as written: a member's size on disk is its size in memory (no zip bombs).
        if i.compress_type != zipfile.ZIP_STORED or i.file_size != i.compress_size or i.flag_bits & 1:
            raise ModelError(f"{file}: member {i.filename[:100]!r} is compressed or encrypted, never written so")
    meta_info = archive.getinfo(METADATA_MEMBER)
    if meta_info.file_size > _MAX_METADATA_BYTES:
        raise ModelError(f"{file}: its metadata is larger than {_MAX_METADATA_BYTES} bytes")
    try:
        metadata = json.loads(archive.read(METADATA_MEMBER).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"{file}: its metadata is not valid JSON ({err})") from None
    metadata = _check_metadata(str(file), metadata)
    if COMPILED_MEMBER not in names:
        # Never fall back to unpickling the estimator: a classifying path runs no code from a model file.
        raise ModelError(
            f"{file}: no compiled model in it (the {COMPILED_MEMBER} that classifying reads); re-save the model "
            f"from a trusted copy: load_model({str(file)!r}, trusted=True).save(path, overwrite=True)"
        )
    compiled = _member(file, archive, COMPILED_MEMBER, metadata["compiled_sha256"])
    if not estimator:
        return _Read(metadata, compiled, None)
    name = _ESTIMATOR_MEMBERS[metadata["serialization"]]
    if name not in names:
        raise ModelError(f"{file}: no estimator in it ({name}, as its metadata says)")
    return _Read(metadata, compiled, _member(file, archive, name, metadata["model_sha256"]))


def _member(file: Path, archive: zipfile.ZipFile, name: str, expected: str) -> bytes:
    data = archive.read(name)
    actual = _sha256(data)
    if actual != expected:
        raise ModelError(
            f"{file}: sha256 of {name} {actual[:12]}… does not match its metadata ({expected[:12]}…); "
            "the file was changed or damaged, refusing to load it"
        )
    return data


def read_metadata(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The checked metadata of a model file: what ``metadata.json`` in it holds.

    Nothing is unpickled: reading the metadata of any file is safe.

    Parameters
    ----------
    path : str, path-like or None, default=None
        A ``.joblib`` or ``.skops`` model file; None reads the shipped model's.

    Returns
    -------
    dict
        ``format_version``, ``created``, ``versions`` (of invitecls,
        scikit-learn, numpy, scipy, nltk and Python at saving), ``labels``,
        ``default_task``, ``thresholds``, ``calibration``, ``training_data``,
        ``base``, ``weight``, ``metrics`` (``cross_validation``), ``report``,
        ``params``, and the sha256 of the other members.

    Raises
    ------
    ModelError
        Not a model file, an unknown format, a member changed since it was saved.

    See Also
    --------
    load_model : The estimator itself.

    Examples
    --------
    >>> import invitecls
    >>> meta = invitecls.read_metadata()
    >>> meta["labels"], meta["training_data"]["split"]
    (['genuine', 'spam'], 'train')
    """
    if path is None:
        with _shipped() as shipped:
            return read_metadata(shipped)
    return _read(Path(path), estimator=False).metadata


@contextmanager
def _shipped() -> Iterator[Path]:
    from invitecls._data import shipped_file

    with shipped_file("invitecls._models", DEFAULT_MODEL_NAME) as shipped:
        yield shipped


def load_model(
    path: str | os.PathLike[str] | None = None,
    *,
    trusted: bool = False,
    allow_version_mismatch: bool = False,
) -> InviteClassifier:
    """Load a model saved with ``save``, as a full estimator; None gives the shipped default model.

    Classifying needs none of this: ``classify`` and the command line read the
    model's compiled form, plain arrays read without pickle. Load the
    estimator only to refit, inspect or re-save it.

    Parameters
    ----------
    path : str, path-like or None
        A ``.joblib`` or ``.skops`` model file.
    trusted : bool, default=False
        A ``.joblib`` model holds a pickle: unpickling runs whatever code it
        holds, and the sha256 in its metadata proves only that the parts
        belong together, not who made them. It is loaded only with
        ``trusted=True``, for a file you made yourself. A ``.skops`` model
        needs no flag (it is loaded with a list of trusted types), nor does
        the shipped model (it is part of the installed package).
    allow_version_mismatch : bool, default=False
        Load a model saved with another scikit-learn minor series anyway (with
        a warning). Its predictions may be wrong: retrain instead.

    Returns
    -------
    InviteClassifier
        The fitted estimator as it was saved.

    Raises
    ------
    ModelError
        Not a model file, an unknown format, a changed file, or another
        scikit-learn minor series.

    See Also
    --------
    read_metadata : The file's metadata: versions, training data, metrics, report.
    load_compiled : The compiled form, which is all that classifying needs.
    save_model : Write a model.
    """
    if path is None:
        with _shipped() as shipped:
            return _load(shipped, allow_version_mismatch, trusted=True)
    return _load(Path(path), allow_version_mismatch, trusted=trusted)


def _load(file: Path, allow_version_mismatch: bool, *, trusted: bool) -> InviteClassifier:
    # One read: the serialization checked is that of the bytes loaded.
    read = _read(file, estimator=True)
    metadata = read.metadata
    if metadata["serialization"] == "joblib" and not trusted:
        raise ModelError(
            f"{file}: its estimator is a pickle; loading it runs whatever code it holds, and its sha256 only shows "
            "that it matches the metadata in it. Load it with load_model(path, trusted=True) only if you made it "
            "yourself; to share a model, save it as .skops. (Classifying needs no unpickling: pass the path "
            "to classify.)"
        )
    import sklearn

    saved = str(metadata["versions"].get("scikit-learn", "unknown"))
    retrain = _RETRAIN.format(path=file)
    if _minor(saved) != _minor(sklearn.__version__):
        message = (
            f"{file} was saved with scikit-learn {saved} but {sklearn.__version__} is installed; "
            f"its predictions cannot be trusted. Retrain it: {retrain}"
        )
        if not allow_version_mismatch:
            raise ModelError(message)
        warnings.warn(message, ModelVersionWarning, stacklevel=3)
    assert read.estimator is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if metadata["serialization"] == "skops":
            model = _load_skops(file, read.estimator)
        else:
            import joblib

            model = joblib.load(io.BytesIO(read.estimator))
    for warning in caught:
        if type(warning.message).__name__ == "InconsistentVersionWarning":
            warnings.warn(
                f"{file} was saved with scikit-learn {saved}, {sklearn.__version__} is installed "
                f"(same minor series). If its predictions look wrong, retrain it: {retrain}",
                ModelVersionWarning,
                stacklevel=3,
            )
            break
    else:
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    # By name: the model layer saves through this one, so this one does not import it (no import circle);
    # unpickling has imported the class already if it is one.
    if not any(f"{c.__module__}.{c.__qualname__}" == "invitecls._model.InviteClassifier" for c in type(model).__mro__):
        raise ModelError(f"{file}: holds a {type(model).__name__}, not an invitecls model")
    fitted: InviteClassifier = model
    return fitted


def load_compiled(path: str | os.PathLike[str] | None = None) -> CompiledModel:
    """The compiled form of a saved model (what ``classify`` runs); None gives the shipped one.

    It holds plain arrays and is read without pickle, so loading it runs no
    code and needs no scikit-learn. Its sha256 is checked against the
    metadata first.

    Parameters
    ----------
    path : str, path-like or None, default=None
        A ``.joblib`` or ``.skops`` model file.

    Returns
    -------
    CompiledModel
        What ``classify`` and ``classify_many`` run.

    Raises
    ------
    ModelError
        No such file, not a model file, a changed file, or arrays that do not
        make a model.
    """
    from invitecls._compiled import CompiledModel

    if path is None:
        with _shipped() as shipped:
            return load_compiled(shipped)
    file = Path(path)
    read = _read(file, estimator=False)
    try:
        return CompiledModel.load(io.BytesIO(read.compiled))
    except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ModelError(f"{file}: its compiled model is not valid ({str(err)[:300]})") from None


def _load_skops(file: Path, data: bytes) -> Any:
    # A .skops file is a zip with a schema.json: junk is told apart before skops is imported.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            valid = "schema.json" in archive.namelist()
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error):
        valid = False
    if not valid:
        raise ModelError(f"{file}: its estimator is not a valid .skops file (not a skops zip archive)")
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception as err:  # skops raises whatever its parsers raise on junk
        raise ModelError(f"{file}: its estimator is not a valid .skops file ({type(err).__name__})") from None
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(
            f"{file}: contains types invitecls does not trust ({', '.join(unexpected)}); refusing to load it"
        )
    try:
        return skops.io.loads(data, trusted=[t for t in untrusted if t in TRUSTED_TYPES])
    except Exception as err:
        raise ModelError(f"{file}: its estimator is not a valid .skops file ({type(err).__name__})") from None


# ------------------------------------------------------------------ upgrading


def _legacy_members(file: Path) -> list[tuple[str, bytes]]:
    """The members of a three-file model, each checked against its metadata (nothing unpickled)."""
    meta_file, compiled_file = _legacy_paths(file)
    if not meta_file.is_file():
        raise ModelError(f"{file}: no {meta_file.name} beside it: not a model of the three-file layout")
    try:
        metadata = json.loads(meta_file.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"{meta_file}: not valid JSON ({err})") from None
    metadata = _check_metadata(str(meta_file), metadata, version=1)
    parts = {}
    for part, key in ((file, "model_sha256"), (compiled_file, "compiled_sha256")):
        if not part.is_file() or part.stat().st_size > MAX_MODEL_BYTES:
            raise ModelError(f"{part}: missing or too large; cannot convert {file.name}")
        data = part.read_bytes()
        if _sha256(data) != metadata[key]:
            raise ModelError(f"{part}: sha256 does not match {meta_file.name}; the file was changed or damaged")
        parts[key] = data
    from invitecls._compiled import CompiledModel

    try:
        CompiledModel.load(io.BytesIO(parts["compiled_sha256"]))
    except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ModelError(f"{compiled_file}: not a valid compiled model ({str(err)[:300]})") from None
    metadata = {k: v for k, v in metadata.items() if k != "compiled_file"}
    metadata["format_version"] = FORMAT_VERSION
    return _pack(metadata, parts["compiled_sha256"], parts["model_sha256"])


def upgrade_model(path: str | os.PathLike[str]) -> Path:
    """Convert a model of invitecls 0.1's three-file layout into one file, unpickling nothing.

    The ``.joblib`` (or ``.skops``), its ``.npz`` and ``.json`` are checked
    against the sha256 in the ``.json``, packed byte for byte into one archive
    that replaces the model file in one rename, and the ``.npz`` and ``.json``
    are then removed.

    Parameters
    ----------
    path : str or path-like
        The model file of the three-file layout (its ``.npz`` and ``.json``
        beside it); a model already of one file is left as it is.

    Returns
    -------
    Path
        The model file.

    Raises
    ------
    ModelError
        A file missing, too large, or changed since it was saved.
    """
    file = Path(path)
    with model_writer(file) as writer:
        if file.is_file():
            with open(file, "rb") as handle:
                if handle.read(4) == _ZIP_MAGIC:
                    with suppress(ModelError):
                        read_metadata(file)
                        return file  # already one file
        writer._switch(_legacy_members(file), keep_backup=False)
        _drop_legacy(file)
    return file


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m invitecls._persist",
        description="Convert models of invitecls 0.1's three-file layout into one file (nothing is unpickled).",
    )
    parser.add_argument("command", choices=["upgrade"])
    parser.add_argument("models", nargs="+", metavar="MODEL", help="a .joblib or .skops model file")
    args = parser.parse_args(argv)
    status = 0
    for model in args.models:
        try:
            upgrade_model(model)
        except (ModelError, OSError, ValueError) as err:
            sys.stderr.write(f"error: {err}\n")
            status = 2
        else:
            sys.stdout.write(f"{model}: one file\n")
    return status


if __name__ == "__main__":
    raise SystemExit(_main())
