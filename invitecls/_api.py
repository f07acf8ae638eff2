"""Classifying notes: one, many or a stream, with the shipped model or another."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import islice, pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from invitecls._compiled import CompiledModel, Features
from invitecls._explain import DeferredReasons, gather
from invitecls._normalize import SIGNAL_NAMES, mostly_disguised
from invitecls._persist import load_compiled, load_model
from invitecls._prepare import Batch, prepare
from invitecls._validation import check_message, check_mutual

if TYPE_CHECKING:
    from invitecls._model import InviteClassifier

__all__ = [
    "Prediction",
    "classify",
    "classify_many",
    "classify_stream",
    "default_model",
]

ModelLike = Union["InviteClassifier", CompiledModel, str, "os.PathLike[str]", None]

#: Notes per vectorised chunk in ``classify_many``. It bounds memory, and it
#: keeps a chunk's largest temporary arrays under 4 MB for notes of usual
#: length: numpy asks the kernel for huge pages above that size, and on a
#: busy machine each such array may stall while memory is compacted (chunks
#: of 1,024 notes ran slower than 512 here; measured in the closing note of
#: issue 15, and by ``benchmarks/speed.py`` as a whole).
CHUNK_SIZE = 512

_default_lock = threading.Lock()
_default: InviteClassifier | None = None
_default_compiled: CompiledModel | None = None
_loaded: dict[str, CompiledModel] = {}


@dataclass(frozen=True, slots=True)
class Prediction:
    """The verdict on one connection request.

    Attributes
    ----------
    label : str
        ``"spam"`` or ``"genuine"`` with the default model (any class of a
        retrained model).
    probability : float
        Calibrated probability of ``label``.
    probabilities : dict of str to float
        Probability of every class; they sum to 1.
    action : str or None
        ``"accept"``, ``"ask"`` (unsure: ask why they want to connect) or
        ``"decline"``; None for models of other tasks.
    template_similarity : float
        Cosine similarity (0-1) to the nearest generic template.
    matched_template : str or None
        That template's text, with ``<name>`` where the recipient's name goes
        (as in ``reasons``; None for an empty note).
    reasons : tuple of str
        The largest contributions to the decision, in words: three to five
        for a note; two (the missing note and the count) for a request
        without one; empty when ``classify_many(..., reasons=False)``.
        When too few push toward the label, the strongest against it follow,
        each starting with "but".
        Explained when first read (for the whole chunk of notes classified
        with it), so a caller that never reads them does not pay for them.
    signals : tuple of str
        Tricks found in the note that the score ignores on purpose (it sees
        through them): hidden characters, look-alike letters from other
        alphabets. Worth knowing, and evidence of intent.
    """

    label: str
    probability: float
    probabilities: dict[str, float]
    action: str | None
    template_similarity: float
    matched_template: str | None
    reasons: tuple[str, ...]
    signals: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The prediction as plain JSON-ready data."""
        return {
            "label": self.label,
            "probability": self.probability,
            "probabilities": dict(self.probabilities),
            "action": self.action,
            "template_similarity": self.template_similarity,
            "matched_template": self.matched_template,
            "reasons": list(self.reasons),
            "signals": list(self.signals),
        }


class _PendingReasons:
    """A prediction's reasons before they are read: row ``row`` of a chunk's ``DeferredReasons``."""

    __slots__ = ("chunk", "row")

    def __init__(self, chunk: DeferredReasons, row: int) -> None:
        self.chunk = chunk
        self.row = row


class _ReasonsField:
    """``Prediction.reasons``: a slot that holds a tuple, or ``_PendingReasons`` until first read.

    Everything that reads the field (attribute access, ``==``, ``repr``,
    ``to_dict``, ``dataclasses.replace``, pickling) sees the tuple, so the
    deferral is invisible but for its cost. Two threads reading at once get
    the same tuple (``DeferredReasons`` explains a chunk once).
    """

    def __init__(self, slot: Any) -> None:
        self.slot = slot  # the member descriptor that stores the field

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        value = self.slot.__get__(instance, owner)
        if type(value) is _PendingReasons:
            value = value.chunk.row(value.row)
            self.slot.__set__(instance, value)
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        self.slot.__set__(instance, value)


# The dataclass made ``reasons`` a slot; the field wraps that slot's descriptor.
Prediction.reasons = _ReasonsField(Prediction.__dict__["reasons"])  # type: ignore[misc,assignment]


_HIDDEN, _MIXED = SIGNAL_NAMES.index("n_invisible"), SIGNAL_NAMES.index("n_mixed_script")


def _signals(hidden: int, mixed: int, text: str) -> tuple[str, ...]:
    found = []
    if hidden:
        found.append(f"{hidden} hidden character" + ("" if hidden == 1 else "s"))
    if mostly_disguised(hidden, text):
        found.append("most letters disguised (hidden characters or combining marks after them): never accepted")
    if mixed:
        found.append(f"look-alike letters from other alphabets ({mixed} word" + ("" if mixed == 1 else "s") + ")")
    return tuple(found)


def default_model() -> InviteClassifier:
    """The shipped model as a scikit-learn estimator, loaded on first use and cached.

    ``classify`` does not need it (it runs the compiled form, without
    scikit-learn); use it to inspect the model, evaluate it or build on it.
    """
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load_model(None)
    return _default


def _default_fast() -> CompiledModel:
    global _default_compiled
    if _default_compiled is None:
        with _default_lock:
            if _default_compiled is None:
                _default_compiled = load_compiled(None)
    return _default_compiled


def _stamp(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return "-"
    return f"{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_size}"


def _resolve(model: ModelLike) -> CompiledModel:
    if model is None:
        return _default_fast()
    if isinstance(model, CompiledModel):
        return model
    if isinstance(model, (str, os.PathLike)):
        path = Path(model).resolve()
        # Keyed by modification time too, so a model retrained in place is reloaded.
        key = f"{path}|{_stamp(path)}"
        if key not in _loaded:
            compiled_model = load_compiled(model)
            for old in [k for k in _loaded if k.startswith(f"{path}|")]:
                del _loaded[old]
            _loaded[key] = compiled_model
        return _loaded[key]
    # Duck-typed, so that classifying with the shipped model never imports scikit-learn.
    compiled = getattr(model, "_compiled", None)
    if callable(compiled):
        return compiled()  # type: ignore[no-any-return]
    raise TypeError(f"model must be an InviteClassifier, a path or None, not {type(model).__name__}")


def classify(
    message: str | None,
    mutual_connections: int | None = None,
    *,
    model: ModelLike = None,
) -> Prediction:
    """Classify one connection request.

    Parameters
    ----------
    message : str or None
        The note; None or "" for a request without one.
    mutual_connections : int or None, default=None
        Connections shared with the sender; None when unknown (LinkedIn's
        data export has no counts).
    model : InviteClassifier, path or None
        None uses the shipped model.

    Returns
    -------
    Prediction

    Examples
    --------
    >>> from invitecls import classify
    >>> classify("Hi Anders, I'd like to connect with you on LinkedIn.", 0).label
    'spam'
    >>> classify("Hi Anders, I'd like to connect with you on LinkedIn.", 40).label
    'genuine'
    """
    text = check_message(message)
    count = check_mutual(mutual_connections)
    return _predict(_resolve(model), [text], np.asarray([count]))[0]


def _as_list(values: Any, name: str) -> tuple[list[Any], bool]:
    """Materialise a batch argument; the flag says NaN means 'missing' in it."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence, not a single {type(values).__name__}; use classify()")
    if hasattr(values, "to_numpy") or isinstance(values, np.ndarray):
        return list(values.tolist()), True
    if isinstance(values, Sequence):
        return list(values), False
    if isinstance(values, Iterable):
        return list(values), False
    raise TypeError(f"{name} must be a list, an iterable, an array or a Series, not {type(values).__name__}")


def classify_many(
    messages: Iterable[str | None],
    mutual_connections: Iterable[int | None] | None = None,
    *,
    model: ModelLike = None,
    n_jobs: int | None = None,
    reasons: bool = True,
) -> list[Prediction]:
    """Classify many connection requests at once.

    The notes are normalised, vectorised and scored in vectorised chunks, not
    one by one; the result is the same as calling ``classify`` on each.

    Parameters
    ----------
    messages : iterable of str or None
        A list, any iterable, a numpy array or a pandas Series (where NaN is
        taken as "no note").
    mutual_connections : iterable of int or None, optional
        One count per note (None or NaN when unknown), or None when all are
        unknown.
    model : InviteClassifier, path or None
        None uses the shipped model.
    n_jobs : int or None, default=None
        Worker processes for a large batch (-1: one per core). None or 1 works
        in this process; so does any batch under 20,000 notes, where starting
        workers costs more than it saves.
    reasons : bool, default=True
        Explain each verdict in ``reasons``: weighed while classifying, worded
        when first read (for the whole chunk at once). A platform that stores
        only the labels and probabilities passes False: ``reasons`` is then
        ``()``, and the predictions keep nothing for them.

    Returns
    -------
    list of Prediction
        In the order of ``messages``.
    """
    items, nan_is_missing = _as_list(messages, "messages")
    texts = [check_message(m, i, allow_missing=nan_is_missing) for i, m in enumerate(items)]
    if mutual_connections is None:
        counts = np.full(len(texts), math.nan)
    else:
        values, _ = _as_list(mutual_connections, "mutual_connections")
        if len(values) != len(texts):
            raise ValueError(f"{len(texts)} messages but {len(values)} mutual_connections")
        counts = np.asarray([check_mutual(v, i) for i, v in enumerate(values)], dtype=float)
    resolved = _resolve(model)
    workers = _workers(n_jobs, len(texts))
    if workers > 1:
        from joblib import Parallel, delayed

        bounds = np.linspace(0, len(texts), workers + 1).astype(int)
        parts = Parallel(n_jobs=workers)(
            delayed(_score_all)(resolved, texts[a:b], counts[a:b], reasons) for a, b in pairwise(bounds)
        )
        return [p for part in parts for scored in part for p in scored.predictions(resolved)]
    return _predict_all(resolved, texts, counts, reasons)


def classify_stream(
    messages: Iterable[str | None],
    mutual_connections: Iterable[int | None] | None = None,
    *,
    model: ModelLike = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Prediction]:
    """Classify notes as they come, in vectorised chunks: memory stays flat.

    Parameters
    ----------
    messages : iterable of str or None
        Read lazily, ``chunk_size`` at a time (a generator over a huge file is fine).
    mutual_connections : iterable of int or None, optional
        Read alongside ``messages``; None when all counts are unknown.
    model : InviteClassifier, path or None
        None uses the shipped model.
    chunk_size : int, default=512
        Notes classified together.

    Returns
    -------
    iterator of Prediction
        In the order of ``messages``.

    Raises
    ------
    TypeError
        At once, for a single ``str`` (a note, not a stream of notes: use
        ``classify``); later, for a note or count of the wrong type.
    """
    for name, values in (("messages", messages), ("mutual_connections", mutual_connections)):
        if isinstance(values, (str, bytes)):
            raise TypeError(f"{name} must be an iterable, not a single {type(values).__name__}; use classify()")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    return _stream(_resolve(model), messages, mutual_connections, chunk_size)


def _stream(
    resolved: CompiledModel,
    messages: Iterable[str | None],
    mutual_connections: Iterable[int | None] | None,
    chunk_size: int,
) -> Iterator[Prediction]:
    notes = iter(messages)
    counts = iter(mutual_connections) if mutual_connections is not None else None
    position = 0
    while True:
        chunk = list(islice(notes, chunk_size))
        if not chunk:
            if counts is not None and next(counts, _END) is not _END:
                raise ValueError(f"more mutual_connections than messages (after {position})")
            return
        texts = [check_message(m, position + i, allow_missing=True) for i, m in enumerate(chunk)]
        if counts is None:
            values = np.full(len(texts), math.nan)
        else:
            raw = list(islice(counts, len(texts)))
            if len(raw) != len(texts):
                raise ValueError(f"fewer mutual_connections than messages (at position {position + len(raw)})")
            values = np.asarray([check_mutual(v, position + i) for i, v in enumerate(raw)], dtype=float)
        yield from _predict(resolved, texts, values)
        position += len(texts)


_END = object()

#: Below this many notes, classify_many stays in one process.
PARALLEL_MIN = 20_000


def _workers(n_jobs: int | None, n: int) -> int:
    if n_jobs is None or n_jobs == 1 or n < PARALLEL_MIN:
        return 1
    cores = os.cpu_count() or 1
    wanted = cores if n_jobs < 0 else n_jobs
    return max(1, min(wanted, cores, n // CHUNK_SIZE))


def _predict_all(model: CompiledModel, texts: list[str], counts: np.ndarray, reasons: bool) -> list[Prediction]:
    return [p for scored in _score_all(model, texts, counts, reasons) for p in scored.predictions(model)]


def _score_all(model: CompiledModel, texts: list[str], counts: np.ndarray, reasons: bool) -> list[_Scored]:
    """Each chunk's verdicts as columns: what one process classifies, and what a worker sends back."""
    return [
        _score(model, texts[start : start + CHUNK_SIZE], counts[start : start + CHUNK_SIZE], reasons)
        for start in range(0, len(texts), CHUNK_SIZE)
    ]


#: Up to this many notes, a chunk keeps its features until its reasons are read (a
#: single note's features take a few kB); a larger one keeps only the few terms
#: that explaining needs, gathered as it is classified.
GATHER_LATE_MAX = 64


def _deferred_reasons(
    model: CompiledModel, features: Features, labels: np.ndarray, batch: Batch, on_count: np.ndarray
) -> DeferredReasons:
    """A chunk's reasons, explained when first read."""
    if len(batch) <= GATHER_LATE_MAX:
        return DeferredReasons(partial(gather, model, features, labels, batch, on_count))
    return DeferredReasons(gather(model, features, labels, batch, on_count))


@dataclass(frozen=True)
class _Scored:
    """A chunk's verdicts as columns, before they become ``Prediction`` objects.

    A worker process sends these back: arrays pickle in a fraction of the
    time that a ``Prediction`` per note takes.
    """

    label_index: np.ndarray  # into the model's classes
    proba: np.ndarray
    actions: list[str | None]
    similarity: np.ndarray
    best: np.ndarray  # the nearest template
    signals: list[tuple[str, ...]]
    reasons: DeferredReasons | None

    def predictions(self, model: CompiledModel) -> list[Prediction]:
        """One ``Prediction`` per note, in order."""
        classes = list(model.classes)
        displays = model.template_displays
        chunk, actions, signals = self.reasons, self.actions, self.signals
        # Plain Python numbers, converted once per chunk rather than once per field.
        rows = zip(self.label_index.tolist(), self.proba.tolist(), self.similarity.tolist(), self.best.tolist())
        return [
            Prediction(
                label=classes[label],
                probability=row[label],
                probabilities=dict(zip(classes, row)),
                action=actions[i],
                template_similarity=sim,
                matched_template=displays[nearest] if sim > 0 else None,
                reasons=() if chunk is None else _PendingReasons(chunk, i),  # type: ignore[arg-type]
                signals=signals[i],
            )
            for i, (label, row, sim, nearest) in enumerate(rows)
        ]


def _predict(model: CompiledModel, texts: list[str], counts: np.ndarray, reasons: bool = True) -> list[Prediction]:
    return _score(model, texts, counts, reasons).predictions(model) if texts else []


def _score(model: CompiledModel, texts: list[str], counts: np.ndarray, reasons: bool) -> _Scored:
    model.prepare_stems()
    batch = prepare(texts, counts)
    features = model.features(batch)
    proba = model.predict_proba(features.assembled)
    label_index = model.label_indices(proba)
    labels = np.asarray(model.classes, dtype=object)[label_index]
    actions, on_count = model.actions(batch, features, proba)
    hidden = batch.signals[:, _HIDDEN].astype(int).tolist()
    mixed = batch.signals[:, _MIXED].astype(int).tolist()
    return _Scored(
        label_index=label_index,
        proba=proba,
        actions=actions,
        similarity=features.similarity,
        best=features.best,
        signals=[_signals(h, m, text) for h, m, text in zip(hidden, mixed, batch.canon)],
        reasons=_deferred_reasons(model, features, labels, batch, on_count) if reasons else None,
    )
