"""Training on one's own labels: the base corpus beneath them, their weight, the report on them, the replace guard.

A few dozen labels are too few to learn the task from, and enough to correct
it: by default one's labels are added to the shipped corpus's training split,
counted ``weight`` times each. Whether that helped is measured on one's own
notes only, out of fold (every note predicted by a model that never saw its
group), against the shipped model on the same notes, with paired bootstrap
intervals (``invitecls._compare``). The same comparison, extended with a
held-out set, decides whether a new model may replace an existing file.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from invitecls._api import ModelLike
from invitecls._compare import Comparison, compare
from invitecls._evaluation import load_corpus, score_notes
from invitecls._io import DataError, LabeledData, read_labeled, training_problems
from invitecls._normalize import normalize_one

if TYPE_CHECKING:
    from invitecls._model import InviteClassifier

__all__ = [
    "Replacement",
    "Training",
    "TrainingReport",
    "check_replacement",
    "default_weight",
    "refusals",
    "train",
    "train_with_report",
]

BaseLike = Union[str, "os.PathLike[str]", LabeledData, None]

#: Below this many notes of each label, a report says the labels are too few to tell.
MIN_PER_LABEL = 20
#: A difference of macro-F1 is "told" when its interval is at most this wide on either side.
TELL_WIDTH = 0.05
#: The most one of one's notes counts, in corpus notes (``default_weight``).
MAX_WEIGHT = 10.0
#: How much worse than the model it replaces a new one may be on a measure (``refusals``).
TOLERANCE = 0.005

_LOG = logging.getLogger("invitecls")


@dataclass(frozen=True)
class TrainingReport:
    """How a model trained on one's labels does on them, beside the shipped model.

    Attributes
    ----------
    base : str
        What the labels were added to (``"corpus"``, a file name, or ``"none"``).
    n_base : int
        Notes of the base used (those that one labelled otherwise left out).
    n_own : int
        One's own notes.
    weight : float
        How many base notes each of one's notes counts for.
    comparison : Comparison or None
        Shipped (old) against new on one's notes, out of fold; None for a task
        other than spam / genuine, or when no cross-validation could run.
    sentence : str
        The verdict in one sentence.
    warnings : tuple of str
        What the user must know: a one-class model, a model worse than the
        shipped one, too few labels to tell.
    """

    base: str
    n_base: int
    n_own: int
    weight: float
    comparison: Comparison | None
    sentence: str
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (stored in the model's metadata as ``report``).

        Returns
        -------
        dict
            The attributes by name; ``comparison`` as ``Comparison.to_dict()``
            and ``warnings`` as a list.
        """
        return {
            "base": self.base,
            "n_base": self.n_base,
            "n_own": self.n_own,
            "weight": self.weight,
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
            "sentence": self.sentence,
            "warnings": list(self.warnings),
        }


def default_weight(n_base: int, n_own: int) -> float:
    """How many base notes one of one's own notes counts for, by default.

    Each of one's notes counts as ``MAX_WEIGHT`` (10) base notes, less when
    one's notes would then carry more than a tenth of the total weight, never
    less than 1. One's labels describe one's own inbox, so they should move the
    model; ten is the most a single note may count, so that a few dozen notes
    cannot outweigh the task the corpus teaches.

    Parameters
    ----------
    n_base : int
        Notes of the base (the corpus's training split, by default).
    n_own : int
        One's own notes.

    Returns
    -------
    float
        Between 1 and ``MAX_WEIGHT``, rounded to one decimal.

    Examples
    --------
    >>> default_weight(23_513, 40), default_weight(23_513, 5_000), default_weight(0, 40)
    (10.0, 1.0, 1.0)
    """
    if n_base == 0 or n_own == 0:
        return 1.0
    return float(min(MAX_WEIGHT, max(1.0, round(n_base / (9 * n_own), 1))))


def train(
    data: str | os.PathLike[str] | LabeledData,
    *,
    label_column: str = "label",
    split: str | None = None,
    base: BaseLike = "corpus",
    weight: float | None = None,
    **params: Any,
) -> InviteClassifier:
    """Train a model on labeled notes, by default on top of the shipped corpus.

    ``train_with_report`` trains the same way and returns the report on
    one's own notes too; saving its result keeps the report and what was
    trained on in the model file.

    Parameters
    ----------
    data : path or LabeledData
        One's labeled notes: columns ``message``, ``mutual_connections``
        (optional) and the label column; a ``group`` column keeps variants of
        one note in one fold (a row that leaves it empty is its own group).
    label_column : str, default="label"
        ``label`` is the default task (spam / genuine); any other column gives
        a model of its classes (for example ``kind``), trained on ``data``
        alone.
    split : str, optional
        Use only rows of ``data`` whose ``split`` column has this value.
    base : "corpus", path, LabeledData or None, default="corpus"
        Labeled notes trained on beneath one's own: ``"corpus"`` is the shipped
        corpus's training split (the default task only), None trains on
        ``data`` alone. Base notes identical to one of one's notes but labelled
        otherwise are left out (one's own label wins); ``data`` that is the
        shipped corpus file itself gets no base.
    weight : float, optional
        How many base notes each of one's notes counts for in the logistic
        regression's loss; ``default_weight`` when not given.
    **params
        Parameters of ``InviteClassifier``.

    Returns
    -------
    InviteClassifier
        Fitted on the base (if any) and ``data``; ``cv_scores_`` holds the
        grouped cross-validation metrics over all the notes.

    Raises
    ------
    DataError
        When a data file has problems (each named with its line and field).

    See Also
    --------
    train_with_report : The same training, with the report on one's notes.
    InviteClassifier : The estimator, for scikit-learn's own tools.
    invitecls.read_labeled : Check a labeled file before training.
    """
    return train_with_report(data, label_column=label_column, split=split, base=base, weight=weight, **params).model


@dataclass(frozen=True)
class Training:
    """What ``train_with_report`` returns: the model, its report, and what the replace guard needs.

    Attributes
    ----------
    model : InviteClassifier
        The fitted model.
    report : TrainingReport
        How it does on one's own notes, beside the shipped model.
    own : LabeledData
        One's own notes.
    own_groups : list of str
        Their groups.
    own_flagged : ndarray of bool or None
        The new model's out-of-fold labels of them (True: spam); None when no
        cross-validation ran or the task is not spam / genuine.
    info : dict
        What the model was trained on and how it did, as ``save`` stores it
        in the model's metadata: ``data`` (``file``, ``sha256``, ``rows``,
        ``split``, ``label_column``, ``class_counts``), ``base`` (``name``,
        ``rows``, ``sha256``), ``weight``, ``metrics``
        (``cross_validation``: ``model.cv_scores_``) and ``report``
        (``report.to_dict()``).
    """

    model: InviteClassifier
    report: TrainingReport
    own: LabeledData
    own_groups: list[str]
    own_flagged: np.ndarray | None
    info: Mapping[str, Any]

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the model as one file, with ``info`` in its metadata (as ``invitecls train`` does).

        Parameters
        ----------
        path : str or path-like
            ``*.joblib`` (for your own use) or ``*.skops`` (safe to share).
        overwrite : bool, default=False
            Replace an existing file (kept as ``path + ".bak"``).

        Returns
        -------
        Path
            The model file.

        See Also
        --------
        invitecls.save_model : Saving, in full.
        invitecls.read_metadata : Read the metadata back.
        """
        from invitecls._persist import save_model

        return save_model(self.model, path, overwrite=overwrite, training_info=self.info)


def train_with_report(
    data: str | os.PathLike[str] | LabeledData,
    *,
    label_column: str = "label",
    split: str | None = None,
    base: BaseLike = "corpus",
    weight: float | None = None,
    **params: Any,
) -> Training:
    """Train a model as ``train`` does, and report how it does on one's own notes.

    Each of one's notes is predicted out of fold (by a model of the internal
    cross-validation that never saw its group) and compared with the shipped
    model on the same notes, with paired bootstrap intervals.

    Parameters
    ----------
    data : path or LabeledData
        One's labeled notes: columns ``message``, ``mutual_connections``
        (optional) and the label column; a ``group`` column keeps variants of
        one note in one fold (a row that leaves it empty is its own group).
    label_column : str, default="label"
        ``label`` is the default task (spam / genuine); any other column gives
        a model of its classes, trained on ``data`` alone.
    split : str, optional
        Use only rows of ``data`` whose ``split`` column has this value.
    base : "corpus", path, LabeledData or None, default="corpus"
        Labeled notes trained on beneath one's own (see ``train``).
    weight : float, optional
        How many base notes each of one's notes counts for;
        ``default_weight`` when not given.
    **params
        Parameters of ``InviteClassifier``.

    Returns
    -------
    Training
        The fitted ``model``, the ``report`` on one's notes, and ``info``:
        what ``Training.save`` stores in the model's metadata.

    Raises
    ------
    DataError
        When a data file has problems (each named with its line and field).
    ValueError
        A ``weight`` that is not a finite number > 0, or a parameter of
        ``InviteClassifier`` out of its range.

    See Also
    --------
    train : The model alone.
    check_replacement : Whether the new model may replace an existing one.
    """
    from invitecls._model import DEFAULT_LABELS, InviteClassifier

    own = (
        data
        if isinstance(data, LabeledData)
        else read_labeled(data, label_column=label_column, split=split, for_training=False)
    )
    resolved = _resolve_base(base, own, set(own.labels) <= set(DEFAULT_LABELS))
    if resolved.notes is None:
        _check_trainable_alone(own, label_column)
    base_data = _without_conflicts(resolved.notes, own) if resolved.notes is not None else None
    n_base = 0 if base_data is None else len(base_data)
    weight = _checked_weight(weight, n_base, len(own))
    _LOG.info("training on %d notes of yours (weight %g) and %d of %s", len(own), weight, n_base, resolved.name)
    own_groups = _groups(own, "own")
    X, y, groups, sample_weight, pitch = _combined(base_data, own, own_groups, weight)
    model = InviteClassifier(**params).fit(X, y, groups=groups, sample_weight=sample_weight, pitch=pitch)
    own_flagged = None
    if model.is_default_task_ and model.cv_proba_ is not None:
        own_flagged = model.cv_proba_[n_base:] >= model.threshold_
    report = _report(model, own, own_groups, own_flagged, resolved, n_base, weight)
    info = _training_info(model, own, split, label_column, base_data, report)
    return Training(model, report, own, own_groups, own_flagged, info)


def _check_trainable_alone(own: LabeledData, label_column: str) -> None:
    """Raise ``DataError`` if one's notes cannot train a model without a base."""
    # With a base, one's labels need not train a model alone: the base may supply a class.
    problems = training_problems(own.labels, label_column)
    if not any(normalize_one(message)[0] for message in own.messages):
        problems.append("field message: every note is empty; training needs notes with text")
    if problems:
        raise DataError(own.path, problems)


def _checked_weight(weight: float | None, n_base: int, n_own: int) -> float:
    """The weight of each of one's notes: as given (a finite number > 0), else ``default_weight``."""
    if weight is None:
        return default_weight(n_base, n_own)
    if not (math.isfinite(weight) and weight > 0):
        raise ValueError(f"weight must be a finite number > 0, got {weight!r}")
    return weight


def _training_info(
    model: InviteClassifier,
    own: LabeledData,
    split: str | None,
    label_column: str,
    base: LabeledData | None,
    report: TrainingReport,
) -> dict[str, Any]:
    """What the model was trained on and how it did: ``Training.info``, stored in the saved metadata."""
    return {
        "data": {
            "file": Path(own.path).name,
            "sha256": own.sha256,
            "rows": len(own),
            "split": split,
            "label_column": label_column,
            "class_counts": {c: int(own.labels.count(c)) for c in sorted(set(own.labels))},
        },
        "base": {"name": report.base, "rows": report.n_base, "sha256": None if base is None else base.sha256},
        "weight": report.weight,
        "metrics": {"cross_validation": dict(model.cv_scores_)},
        "report": report.to_dict(),
    }


def _combined(
    base: LabeledData | None, own: LabeledData, own_groups: list[str], weight: float
) -> tuple[list[tuple[str, int | None]], list[str], list[str], np.ndarray | None, list[bool | None]]:
    """Notes, labels, groups, weights and pitches of the base (first) and one's own notes (last)."""
    if base is None:
        return own.X, own.labels, own_groups, None, own.pitch()
    weights = np.concatenate([np.ones(len(base)), np.full(len(own), weight)])
    groups = _groups(base, "base") + own_groups
    return base.X + own.X, base.labels + own.labels, groups, weights, base.pitch() + own.pitch()


@dataclass(frozen=True)
class _Base:
    """The notes one's own are trained on top of (None: one's notes alone), and how the report names them."""

    notes: LabeledData | None
    name: str
    #: One's data is the shipped corpus's own file, which the shipped model was trained on.
    is_shipped_corpus: bool = False


def _resolve_base(base: BaseLike, own: LabeledData, default_task: bool) -> _Base:
    """The base notes and how to name them."""
    if base is None or base == "none":
        return _Base(None, "none")
    if isinstance(base, LabeledData):
        return _Base(base, Path(base.path).name)
    if base == "corpus":
        if not default_task:
            return _Base(None, "none (the corpus's labels are spam and genuine)")
        corpus = load_corpus(split="train")
        if corpus.sha256 == own.sha256:
            return _Base(None, "none (the data is the shipped corpus itself)", is_shipped_corpus=True)
        return _Base(corpus, "corpus")
    labeled = read_labeled(base, for_training=False, labels=sorted(set(own.labels)))
    return _Base(labeled, Path(base).name)


def _without_conflicts(base: LabeledData, own: LabeledData) -> LabeledData:
    """The base without its notes that one labelled otherwise: one's own label wins."""
    mine = dict(zip(zip(own.messages, own.mutual_connections), own.labels))
    keep = [
        i
        for i, note in enumerate(zip(base.messages, base.mutual_connections))
        if mine.get(note, base.labels[i]) == base.labels[i]
    ]
    return base if len(keep) == len(base) else base.subset(keep)


def _groups(data: LabeledData, prefix: str) -> list[str]:
    """Group ids that cannot collide with another file's; notes without one are grouped by their canonical text."""
    if data.groups is not None:
        return [f"{prefix}:{g}" for g in data.groups]
    return [f"{prefix}~{normalize_one(m)[0]}" for m in data.messages]


def _report(
    model: InviteClassifier,
    own: LabeledData,
    own_groups: list[str],
    own_flagged: np.ndarray | None,
    base: _Base,
    n_base: int,
    weight: float,
) -> TrainingReport:
    """The new model against the shipped one on one's own notes, in a sentence and warnings."""
    base_name, alone = base.name, base.notes is None
    if base.is_shipped_corpus:
        # The shipped model was fitted on these very notes: its in-sample
        # scores against the new model's out-of-fold ones would call any new
        # model worse.
        sentence = "No comparison with the shipped model: the data is the shipped corpus, which it was trained on."
        return TrainingReport(base_name, n_base, len(own), weight, None, sentence)
    if own_flagged is None:
        why = "the task is not spam / genuine" if not model.is_default_task_ else "no cross-validation could run"
        return TrainingReport(base_name, n_base, len(own), weight, None, f"No report on your notes: {why}.")
    _LOG.info("comparing with the shipped model on your %d notes", len(own))
    is_spam = np.asarray(own.labels) == "spam"
    shipped = score_notes(None, own.messages, own.mutual_connections)[1] == "spam"
    comparison = compare(is_spam, shipped, own_flagged, own_groups)
    warnings = _warnings(comparison, is_spam, alone)
    if alone:
        warnings += _general_warnings(model)
    sentence = (
        {
            "better": "The new model is better than the shipped one on your notes: ",
            "worse": "The new model is worse than the shipped one on your notes: ",
            "indistinguishable": "The new model and the shipped one cannot be told apart on your notes: ",
        }[comparison.verdict]
        + comparison.describe("macro_f1")
        + "."
    )
    return TrainingReport(base_name, n_base, len(own), weight, comparison, sentence, warnings)


def _general_warnings(model: InviteClassifier) -> tuple[str, ...]:
    """A model trained on one's notes alone, against the shipped one on the corpus's test split."""
    _LOG.info("comparing with the shipped model on the corpus's test split")
    held = _unambiguous(load_corpus(split="test"))
    is_spam = np.asarray(held.labels) == "spam"
    shipped = score_notes(None, held.messages, held.mutual_connections)[1] == "spam"
    new = score_notes(model, held.messages, held.mutual_connections)[1] == "spam"
    worse = refusals(compare(is_spam, shipped, new, _groups(held, "held")), float(model.max_genuine_flagged))
    if not worse:
        return ()
    return (
        "trained on your notes alone, the new model is worse than the shipped one on the corpus's test split in "
        + "; ".join(worse)
        + "; train on top of the corpus (--base corpus)",
    )


def _unambiguous(held: LabeledData) -> LabeledData:
    """Spam and genuine notes outside the guide's ambiguous band."""
    ambiguous = held.ambiguous()
    return held.subset([i for i, label in enumerate(held.labels) if label in ("genuine", "spam") and not ambiguous[i]])


def _warnings(comparison: Comparison, is_spam: np.ndarray, alone: bool) -> tuple[str, ...]:
    """A one-class model, a worse model, too few labels to tell (``alone``: trained on one's notes alone)."""
    warnings: list[str] = []
    truth_majority = max(is_spam.mean(), 1 - is_spam.mean())
    if comparison.new_majority_share >= 0.95 and truth_majority < 0.9:
        warnings.append(
            f"the new model gives {comparison.new_majority_share:.0%} of your notes the same label, "
            f"where your labels give {truth_majority:.0%} of them their most common one"
            + ("; train on top of the corpus (--base corpus)" if alone else "")
        )
    if comparison.verdict == "worse":
        warnings.append("the new model is worse than the shipped one on your notes; keep the shipped model")
    for measure in ("genuine_flagged", "spam_caught"):
        if comparison.worse(measure) and comparison.verdict != "worse":
            warnings.append(f"the new model is worse on your notes in {comparison.describe(measure)}")
    diff = comparison.difference["macro_f1"]
    half_width = (diff.high - diff.low) / 2
    n_least = int(min(is_spam.sum(), (~is_spam).sum()))
    if comparison.verdict == "indistinguishable" and (half_width > TELL_WIDTH or n_least < MIN_PER_LABEL):
        needed = max(2 * MIN_PER_LABEL, math.ceil(comparison.n * (half_width / TELL_WIDTH) ** 2 / 10) * 10)
        warnings.append(
            f"too few labels to tell the models apart ({comparison.n} notes, {n_least} of the rarer label): "
            f"about {needed} labelled notes, at least {MIN_PER_LABEL} of each label, would narrow the "
            f"interval of the difference to ±{TELL_WIDTH}"
        )
    return tuple(warnings)


@dataclass(frozen=True)
class Replacement:
    """Whether a new model may replace an existing one.

    Attributes
    ----------
    comparison : Comparison
        Old against new on held-out notes: one's own notes out of fold plus a
        held-out set (by default the corpus's test split).
    refused : tuple of str
        The measures on which the new model is worse beyond the interval, in
        words; empty when it may replace the old one.
    """

    comparison: Comparison
    refused: tuple[str, ...]

    @property
    def acceptable(self) -> bool:
        """No measure is worse beyond its interval."""
        return not self.refused


def check_replacement(trained: Training, old: ModelLike, holdout: LabeledData | None = None) -> Replacement:
    """Compare a freshly trained model with the model it would replace.

    The new model is judged on one's own notes out of fold (as the report) and
    on ``holdout`` (default: the corpus's test split); the old one on the same
    notes. It is refused when macro-F1 or spam caught is lower beyond the
    interval of the difference, or when genuine flagged is higher beyond it
    and also above the new model's own target (``max_genuine_flagged``): a
    model that flags nothing flags no genuine note, and must not be kept for
    it.

    Parameters
    ----------
    trained : Training
        The new model, as ``train_with_report`` returns it.
    old : InviteClassifier, CompiledModel, path or None
        The model it would replace (None: the shipped one). A path is read
        as its compiled form: nothing is unpickled.
    holdout : LabeledData, optional
        Held-out labeled notes; the corpus's test split when not given. The
        notes of the labelling guide's ambiguous band are left out.

    Returns
    -------
    Replacement
        The comparison, and the measures on which the new model is worse.

    See Also
    --------
    refusals : The rule, on a comparison.
    """
    held = _unambiguous(holdout if holdout is not None else load_corpus(split="test"))
    is_spam = np.asarray(held.labels) == "spam"
    new_flagged = score_notes(trained.model, held.messages, held.mutual_connections)[1] == "spam"
    old_flagged = score_notes(old, held.messages, held.mutual_connections)[1] == "spam"
    groups = _groups(held, "held")
    if trained.own_flagged is not None:
        own = trained.own
        is_spam = np.concatenate([is_spam, np.asarray(own.labels) == "spam"])
        new_flagged = np.concatenate([new_flagged, trained.own_flagged])
        old_own = score_notes(old, own.messages, own.mutual_connections)[1] == "spam"
        old_flagged = np.concatenate([old_flagged, old_own])
        groups = groups + trained.own_groups
    comparison = compare(is_spam, old_flagged, new_flagged, groups)
    return Replacement(comparison, refusals(comparison, float(trained.model.max_genuine_flagged)))


def refusals(comparison: Comparison, genuine_budget: float, tolerance: float = TOLERANCE) -> tuple[str, ...]:
    """The replace guard's rule: the measures on which the new model is worse, in words.

    Parameters
    ----------
    comparison : Comparison
        Old against new on held-out notes.
    genuine_budget : float
        The new model's target share of genuine notes flagged: a rise of
        genuine flagged that stays within it is no reason to refuse (else a
        model that flags nothing could never be replaced).
    tolerance : float, default=TOLERANCE
        A difference must exceed this (0.005: half a point of a rate, 0.005 of
        macro-F1) beyond its interval: on thousands of notes the paired
        bootstrap tells apart models that differ on a handful of notes.

    Returns
    -------
    tuple of str
        Empty when the new model may replace the old one.

    Examples
    --------
    >>> from invitecls._compare import compare
    >>> truth = [True] * 200 + [False] * 200
    >>> flags_nothing = [False] * 400
    >>> good = [True] * 150 + [False] * 50 + [True] * 2 + [False] * 198
    >>> refusals(compare(truth, flags_nothing, good), genuine_budget=0.02)
    ()
    >>> refusals(compare(truth, good, flags_nothing), genuine_budget=0.02)[0][:8]
    'macro-F1'
    """
    return tuple(
        comparison.describe(m)
        for m in ("macro_f1", "spam_caught", "genuine_flagged")
        if comparison.worse(m, tolerance) and (m != "genuine_flagged" or comparison.new[m].value > genuine_budget)
    )
