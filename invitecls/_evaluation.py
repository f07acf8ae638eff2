"""Measuring a model on labelled notes, and the labelled corpus shipped with invitecls."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from invitecls._api import CHUNK_SIZE, ModelLike, _resolve
from invitecls._compiled import CompiledModel
from invitecls._io import LabeledData, read_labeled
from invitecls._prepare import prepare

__all__ = ["Evaluation", "evaluate", "load_corpus", "score_notes"]


def score_notes(
    model: ModelLike, messages: Sequence[str], mutual_connections: Sequence[int | None]
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and labels of many notes, without explanations.

    Parameters
    ----------
    model : InviteClassifier, CompiledModel, path or None
        None uses the shipped model; a path is read in its compiled form.
    messages : sequence of str
    mutual_connections : sequence of int or None

    Returns
    -------
    proba : ndarray of shape (n_notes, n_classes)
    labels : ndarray of str, shape (n_notes,)
    """
    resolved = _resolve(model)
    resolved.prepare_stems()
    proba = np.zeros((len(messages), len(resolved.classes)))
    for start in range(0, len(messages), CHUNK_SIZE):
        stop = start + CHUNK_SIZE
        counts = np.asarray([np.nan if c is None else c for c in mutual_connections[start:stop]], dtype=float)
        proba[start:stop] = resolved.predict_proba(resolved.transform(prepare(list(messages[start:stop]), counts))[0])
    return proba, resolved.labels(proba).astype(str)


@dataclass(frozen=True)
class Evaluation:
    """Quality of a model on labeled notes.

    Attributes
    ----------
    n : int
        Notes evaluated.
    accuracy, macro_f1 : float
    roc_auc : float or None
        Default and binary tasks with both classes present.
    genuine_flagged : float or None
        Default task: share of genuine notes labelled spam (the costly error).
    spam_caught : float or None
        Default task: share of spam notes labelled spam.
    per_class : dict
        Precision, recall, F1 and support of each class.
    confusion : dict
        ``confusion[true][predicted]`` counts.
    labels : tuple of str
    n_ambiguous : int
        Notes of the labelling guide's ambiguous band (a generic note or none,
        6 to 9 shared connections; known from a ``kind`` column), left out of
        every figure above.
    splits : tuple of str
        When no ``split`` was chosen, the values of the file's ``split``
        column (empty without one): more than one means training rows were
        evaluated too.
    """

    n: int
    accuracy: float
    macro_f1: float
    roc_auc: float | None
    genuine_flagged: float | None
    spam_caught: float | None
    per_class: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    labels: tuple[str, ...]
    n_ambiguous: int = 0
    splits: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "roc_auc": self.roc_auc,
            "genuine_flagged": self.genuine_flagged,
            "spam_caught": self.spam_caught,
            "per_class": self.per_class,
            "confusion": self.confusion,
            "labels": list(self.labels),
            "n_ambiguous": self.n_ambiguous,
            "splits": list(self.splits),
        }


def evaluate(
    data: str | os.PathLike[str] | LabeledData,
    *,
    model: ModelLike = None,
    label_column: str = "label",
    split: str | None = None,
) -> Evaluation:
    """Measure a model on labeled notes.

    Parameters
    ----------
    data : path or LabeledData
        Labeled notes in the training format.
    model : InviteClassifier, path or None
        None uses the shipped model.
    label_column, split
        As in ``train``.

    Returns
    -------
    Evaluation
        Figures over every note except those of the guide's ambiguous band
        (``LabeledData.ambiguous``), which are counted in ``n_ambiguous``.
    """
    from sklearn.metrics import f1_score

    resolved = _resolve(model)
    classes = list(resolved.classes)
    labeled = (
        data
        if isinstance(data, LabeledData)
        else read_labeled(data, label_column=label_column, split=split, for_training=False, labels=classes)
    )
    splits = tuple(sorted(set(labeled.columns.get("split", ())))) if split is None else ()
    ambiguous = labeled.ambiguous()
    labeled = labeled.subset([i for i, a in enumerate(ambiguous) if not a])
    y = np.asarray(labeled.labels)
    proba, predicted = score_notes(resolved, labeled.messages, labeled.mutual_connections)
    present = [c for c in classes if (y == c).any()]
    genuine_flagged, spam_caught = _default_task_rates(resolved, y, proba)
    return Evaluation(
        n=len(y),
        accuracy=float((predicted == y).mean()),
        macro_f1=float(f1_score(y, predicted, labels=present, average="macro", zero_division=0)),
        roc_auc=_roc_auc(y, proba, classes),
        genuine_flagged=genuine_flagged,
        spam_caught=spam_caught,
        per_class=_per_class(y, predicted, classes),
        confusion=_confusion(y, predicted, classes),
        labels=tuple(classes),
        n_ambiguous=sum(ambiguous),
        splits=splits,
    )


def _roc_auc(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> float | None:
    """ROC-AUC of a binary task whose notes hold both classes; None otherwise."""
    from sklearn.metrics import roc_auc_score

    if len(classes) != 2 or not all((y == c).any() for c in classes):
        return None
    return float(roc_auc_score(y == classes[1], proba[:, 1]))


def _default_task_rates(model: CompiledModel, y: np.ndarray, proba: np.ndarray) -> tuple[float | None, float | None]:
    """Genuine notes flagged and spam caught at the model's threshold (None without notes of that label)."""
    from invitecls._model import cv_metrics

    if not model.default_task:
        return None, None
    scores = cv_metrics(y, proba[:, 1], model.threshold)
    return (
        scores["genuine_flagged"] if (y == "genuine").any() else None,
        scores["spam_caught"] if (y == "spam").any() else None,
    )


def _per_class(y: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each class."""
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(y, predicted, labels=classes, zero_division=0)
    return {
        c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for c, p, r, f, s in zip(classes, precision, recall, f1, support)
    }


def _confusion(y: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict[str, dict[str, int]]:
    """How many notes of each true class (outer key) got each predicted class (inner key)."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y, predicted, labels=classes)
    return {t: {p: int(matrix[i, j]) for j, p in enumerate(classes)} for i, t in enumerate(classes)}


def load_corpus(split: str | None = None) -> LabeledData:
    """The labeled corpus shipped with invitecls (the default model's data).

    Parameters
    ----------
    split : {"train", "test"}, optional
        Only that part of the fixed, grouped split.

    Returns
    -------
    LabeledData
        ``columns`` holds ``kind``, ``lang``, ``origin`` and ``split``;
        ``to_pandas()`` gives a DataFrame.
    """
    from invitecls._data import shipped_file

    with shipped_file("invitecls._corpus", "invitations.csv") as path:
        return read_labeled(path, split=split, for_training=False)
