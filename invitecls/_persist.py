"""Saving and loading models, with metadata that makes them safe to reuse.

Every model file has a JSON metadata file beside it (``model.joblib`` ->
``model.joblib.json``) recording the format version, the library versions it
was saved with, its labels and thresholds, the hash of its training data and
of the model file itself, and its metrics. Loading checks that file first:

- an unknown format version is refused;
- a model file whose sha256 differs from the metadata is refused before it is
  read (a changed or truncated file never runs). The hash is integrity, not
  trust: whoever supplies a model supplies the metadata beside it;
- a model saved with another scikit-learn minor series is refused with the
  command that retrains it (patch releases only warn).

Two formats for the estimator: ``.joblib`` (pickle; loading runs whatever code
the file holds, so ``load_model`` unpickles one only when told
``trusted=True``) and ``.skops`` (for sharing: loaded with an explicit list of
trusted types, nothing trusted blindly). Beside either, ``save`` writes the
compiled form (``model.joblib.npz``): plain numpy arrays read without pickle,
which is all that ``classify`` and the command line ever read; a missing or
changed ``.npz`` is an error, never a reason to unpickle the estimator.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invitecls._io import atomic_write

if TYPE_CHECKING:
    from invitecls._compiled import CompiledModel
    from invitecls._model import InviteClassifier

__all__ = [
    "DEFAULT_MODEL_NAME",
    "FORMAT_VERSION",
    "ModelError",
    "ModelVersionWarning",
    "compiled_path",
    "load_compiled",
    "load_model",
    "metadata_path",
    "save_model",
]

FORMAT_VERSION = 1
DEFAULT_MODEL_NAME = "invitecls-default.joblib"
_RETRAIN = "invitecls train YOUR_DATA.csv --output {path} --force"

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
    """A model file that cannot be loaded safely."""


class ModelVersionWarning(UserWarning):
    """A model saved with a different (patch) version of a library."""


def compiled_path(path: str | os.PathLike[str]) -> Path:
    """The compiled form of a model file (``model.joblib`` -> ``model.joblib.npz``)."""
    model = Path(path)
    return model.with_name(model.name + ".npz")


def metadata_path(path: str | os.PathLike[str]) -> Path:
    """The metadata file of a model file (``model.joblib`` -> ``model.joblib.json``)."""
    model = Path(path)
    return model.with_name(model.name + ".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def save_model(model: InviteClassifier, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a fitted model and its metadata, atomically.

    Parameters
    ----------
    model : InviteClassifier
        A fitted model.
    path : str or path-like
        ``*.joblib`` (for your own use) or ``*.skops`` (safe to share).
    overwrite : bool, default=False
        Replace an existing file. The old file stays intact until the new one
        is completely written.

    Returns
    -------
    Path
        The metadata file.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "logreg_")
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".joblib", ".skops"):
        raise ValueError(f"{target}: a model file must end in .joblib or .skops")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True (or --force) to replace it")
    if suffix == ".skops":
        import skops.io

        payload = skops.io.dumps(model)
        with atomic_write(target, "wb") as handle:
            handle.write(payload)
    else:
        import joblib

        with atomic_write(target, "wb") as handle:
            joblib.dump(model, handle, compress=3)
    compiled_file = compiled_path(target)
    with atomic_write(compiled_file, "wb") as handle:
        model.compiled().save(handle)
    info = getattr(model, "training_info_", {}) or {}
    metadata = {
        "format": "invitecls-model",
        "format_version": FORMAT_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "serialization": suffix[1:],
        "model_file": target.name,
        "model_sha256": _sha256(target),
        "compiled_file": compiled_file.name,
        "compiled_sha256": _sha256(compiled_file),
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
        "metrics": {"cross_validation": dict(model.cv_scores_), **info.get("metrics", {})},
        "params": model.get_params(),
    }
    meta = metadata_path(target)
    with atomic_write(meta, "w") as handle:
        json.dump(_jsonable(metadata), handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    return meta


def _minor(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the metadata of a model file."""
    meta = metadata_path(path)
    if not meta.exists():
        raise ModelError(f"{path}: no metadata file {meta.name} beside it; cannot check the model, refusing to load")
    try:
        metadata = json.loads(meta.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"{meta}: not valid JSON ({err})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != "invitecls-model":
        raise ModelError(f"{meta}: not invitecls model metadata")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(
            f"{path}: unknown model format version {version!r} (this invitecls reads version {FORMAT_VERSION}); "
            "upgrade invitecls or retrain the model"
        )
    return metadata


def load_model(
    path: str | os.PathLike[str] | None = None,
    *,
    trusted: bool = False,
    allow_version_mismatch: bool = False,
) -> InviteClassifier:
    """Load a model saved with ``save``, as a full estimator; None gives the shipped default model.

    Classifying needs none of this: ``classify`` and the command line read the
    compiled ``.npz`` beside the model, plain arrays read without pickle. Load
    the estimator only to refit, inspect or re-save it.

    Parameters
    ----------
    path : str, path-like or None
        A ``.joblib`` or ``.skops`` file with its ``.json`` metadata beside it.
    trusted : bool, default=False
        A ``.joblib`` file is a pickle: unpickling runs whatever code it holds,
        and the sha256 in the metadata beside it proves only that the two
        files belong together, not who made them. It is loaded only with
        ``trusted=True``, for a file you made yourself. A ``.skops`` file
        needs no flag (it is loaded with a list of trusted types), nor does
        the shipped model (it is part of the installed package).
    allow_version_mismatch : bool, default=False
        Load a model saved with another scikit-learn minor series anyway (with
        a warning). Its predictions may be wrong: retrain instead.

    Returns
    -------
    InviteClassifier
        With its metadata in ``metadata_``.

    Raises
    ------
    ModelError
        Unknown format, changed file, or another scikit-learn minor series.
    """
    if path is None:
        from importlib import resources

        with resources.as_file(resources.files("invitecls._models").joinpath(DEFAULT_MODEL_NAME)) as shipped:
            return _load(Path(shipped), allow_version_mismatch, trusted=True)
    return _load(Path(path), allow_version_mismatch, trusted=trusted)


def _load(file: Path, allow_version_mismatch: bool, *, trusted: bool) -> InviteClassifier:
    if not file.exists():
        raise ModelError(f"{file}: no such model file")
    if file.suffix.lower() == ".joblib" and not trusted:
        raise ModelError(
            f"{file} is a pickle: loading it runs whatever code it holds, and its sha256 only shows that it "
            "matches the metadata beside it. Load it with load_model(path, trusted=True) only if you made it "
            "yourself; to share a model, save it as .skops. (Classifying needs no unpickling: pass the path to "
            "classify.)"
        )
    metadata = read_metadata(file)
    actual = _sha256(file)
    if actual != metadata.get("model_sha256"):
        raise ModelError(
            f"{file}: sha256 {actual[:12]}… does not match its metadata ({str(metadata.get('model_sha256'))[:12]}…); "
            "the file was changed or damaged, refusing to load it"
        )
    import sklearn

    saved = str(metadata.get("versions", {}).get("scikit-learn", "unknown"))
    retrain = _RETRAIN.format(path=file)
    if _minor(saved) != _minor(sklearn.__version__):
        message = (
            f"{file} was saved with scikit-learn {saved} but {sklearn.__version__} is installed; "
            f"its predictions cannot be trusted. Retrain it: {retrain}"
        )
        if not allow_version_mismatch:
            raise ModelError(message)
        warnings.warn(message, ModelVersionWarning, stacklevel=3)
    suffix = file.suffix.lower()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if suffix == ".skops":
            model = _load_skops(file)
        elif suffix == ".joblib":
            import joblib

            model = joblib.load(file)
        else:
            raise ModelError(f"{file}: a model file must end in .joblib or .skops")
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
    from invitecls._model import InviteClassifier

    if not isinstance(model, InviteClassifier):
        raise ModelError(f"{file}: holds a {type(model).__name__}, not an invitecls model")
    model.metadata_ = metadata
    return model


def load_compiled(path: str | os.PathLike[str] | None = None) -> CompiledModel:
    """The compiled form of a saved model (what ``classify`` runs); None gives the shipped one.

    The ``.npz`` file beside the model holds plain arrays and is read without
    pickle, so loading it runs no code and needs no scikit-learn. Its sha256 is
    checked against the metadata first.
    """
    from invitecls._compiled import CompiledModel

    if path is None:
        from importlib import resources

        with resources.as_file(resources.files("invitecls._models").joinpath(DEFAULT_MODEL_NAME)) as shipped:
            return load_compiled(Path(shipped))
    file = Path(path)
    metadata = read_metadata(file)
    name = str(metadata.get("compiled_file") or compiled_path(file).name)
    if Path(name).name != name or not name.endswith(".npz"):
        raise ModelError(f"{metadata_path(file)}: compiled_file must name an .npz file beside the model, not {name!r}")
    compiled = file.with_name(name)
    if not compiled.is_file():
        # Never fall back to unpickling the estimator: a classifying path runs no code from a model file.
        raise ModelError(
            f"{compiled}: no compiled model (the .npz that classifying reads); re-save the model from a "
            f"trusted copy: load_model({str(file)!r}, trusted=True).save(path, overwrite=True)"
        )
    actual = _sha256(compiled)
    if actual != metadata.get("compiled_sha256"):
        raise ModelError(
            f"{compiled}: sha256 {actual[:12]}… does not match its metadata "
            f"({str(metadata.get('compiled_sha256'))[:12]}…); the file was changed or damaged, refusing to load it"
        )
    try:
        return CompiledModel.load(compiled)
    except (ValueError, KeyError, OSError) as err:
        raise ModelError(f"{compiled}: not a compiled invitecls model ({err})") from None


def _load_skops(file: Path) -> Any:
    import skops.io

    untrusted = skops.io.get_untrusted_types(file=file)
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(
            f"{file}: contains types invitecls does not trust ({', '.join(unexpected)}); refusing to load it"
        )
    return skops.io.load(file, trusted=[t for t in untrusted if t in TRUSTED_TYPES])
