"""Reasons: the largest contributions to a decision, in words a user understands.

A logistic regression's log-odds are a sum of ``weight * value`` over the
features. We group those terms into units a person recognises (a word, the
nearest template, the shared connections, a signal such as hidden characters),
rank the units by how much they push towards the predicted label, and phrase
the top ones.

``explain`` is two steps, so that the costly one can wait until someone reads
a reason: ``gather`` weighs and ranks every note's candidates with a few
vectorised operations (done while classifying a large chunk; it keeps a few
hundred bytes a note), and ``reasons_of`` phrases them, note by note in
Python (most of the work). ``DeferredReasons`` runs the second step for a
whole chunk the first time one of its notes' reasons is read, and the first
too for a small chunk, whose features cost little to keep.
"""

from __future__ import annotations

import json
import math
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from invitecls._cues import CUE_NAMES
from invitecls._fast import SparseRows
from invitecls._normalize import SIGNAL_NAMES
from invitecls._prepare import DENSE_INDEX, DENSE_NAMES, Batch

if TYPE_CHECKING:
    from invitecls._compiled import CompiledModel, Features

__all__ = ["DeferredReasons", "Evidence", "explain", "gather", "reasons_of"]

MAX_REASONS = 5
_MANY = 10  # shared connections from which the guide lets the count speak for a sender
MIN_REASONS = 3
_EPS = 1e-6

# Dense features grouped into units; each unit is phrased by one function.
_UNITS: dict[str, tuple[str, ...]] = {
    "template": ("template_similarity", "generic"),
    "empty": ("empty",),
    "mutual": (
        "mutual_log1p",
        "mutual_unknown",
        "mutual_0",
        "mutual_1_5",
        "mutual_6_9",
        "mutual_10_49",
        "mutual_50_plus",
        "generic_x_mutual_log1p",
        "generic_x_mutual_10_plus",
        "generic_x_mutual_0_5",
        "generic_x_mutual_unknown",
        "pitch_x_mutual_10_plus",
        "no_pitch_x_mutual_10_plus",
    ),
    "length": ("length_log1p", "words_log1p"),
    "emoji": ("emoji_log1p",),
    "links": ("links",),
    "question": ("question",),
    "exclaim": ("exclaim_log1p",),
    "money": ("money",),
    "percent": ("percent",),
    "specific": ("numbers_log1p", "unseen_words"),
    **{f"cue_{name}": (f"cue_{name}",) for name in CUE_NAMES},
    "pitch_x_context": ("pitch_x_context",),
    "no_context": (
        "no_context",
        "no_context_x_mutual_0_5",
        "no_context_x_mutual_unknown",
        "no_context_x_mutual_10_plus",
    ),
}
_CUE_WORDS = {
    "cue_event": "mentions a specific event",
    "cue_past_interaction": "refers to a past meeting or conversation",
    "cue_shared": "mentions a shared workplace, school or project",
    "cue_content": "refers to the recipient's own work",
    "cue_referral": "names who suggested the contact",
    "cue_purpose": "states a concrete question or purpose",
    "cue_pitch_offer": "offers a product or service",
    "cue_call_to_action": "asks for a call, a demo or a reply",
    "cue_outcome_claims": "promises results (revenue, leads, savings)",
    "cue_money_scheme": "talks of easy money or investments",
    "cue_scam_story": "tells a story typical of scams (inheritance, dormant funds)",
    "cue_recruiting_vague": "vague job opportunities",
    "cue_flattery": "flattery that fits anyone",
    "cue_networking_vague": "generic networking phrases",
}
_UNIT_NAMES = tuple(_UNITS)
_ALL_UNITS = (*_UNIT_NAMES, "chars")
_TEMPLATE_UNIT = _UNIT_NAMES.index("template")
_UNIT_MEMBERS = tuple(tuple(DENSE_INDEX[m] for m in members) for members in _UNITS.values())
# The members as a table, one row per unit, padded with the index of a column
# of zeros (len(DENSE_NAMES)): every unit is summed in one vectorised pass.
_MEMBER_TABLE = np.array(
    [[*members, *[len(DENSE_NAMES)] * (max(map(len, _UNIT_MEMBERS)) - len(members))] for members in _UNIT_MEMBERS]
)


def _count_words(count: float) -> str:
    if math.isnan(count):
        return "shared connections unknown"
    n = int(count)
    if n == 0:
        return "no shared connections"
    return f"{n} shared connection" + ("" if n == 1 else "s")


def _phrase(unit: str, toward: str, evidence: Evidence, row: int) -> str:
    spam_side = toward == "spam"
    if unit == "template":
        sim = float(evidence.similarity[row])
        template = evidence.model.templates[int(evidence.best[row])]
        if spam_side or sim >= 0.5:
            return f"close to {template.describe()} ({sim:.2f})"
        return f"unlike any generic template (closest {sim:.2f})"
    if unit == "empty":
        return "no note"
    if unit == "mutual":
        count = float(evidence.mutual[row])
        # Many shared connections push toward spam only a note that reads like a pitch.
        if spam_side and count >= _MANY:
            return f"reads like a pitch despite {_count_words(count)}"
        return _count_words(count)
    if unit == "length":
        return "short note" if evidence.length[row] < 80 else "detailed note"
    if unit == "emoji":
        return f"{int(evidence.n_emoji[row])} emoji"
    if unit == "links":
        return "contains a link or address"
    if unit == "question":
        return "asks a question"
    if unit == "exclaim":
        return "exclamation marks"
    if unit == "money":
        return "mentions money"
    if unit == "percent":
        return "mentions a percentage"
    if unit == "specific":
        return "nothing specific or unusual" if spam_side else "specific names or details"
    if unit == "pitch_x_context":
        return "a pitch behind a friendly opener" if spam_side else "a shared context around an offer"
    if unit == "no_context":
        # Many shared connections make up for naming none (the guide): said as such on the genuine side.
        if not spam_side and float(evidence.mutual[row]) >= _MANY:
            return "names no shared context, as is usual among people with many shared connections"
        return "names no shared context, event, work, referrer or purpose"
    if unit in _CUE_WORDS:
        return _CUE_WORDS[unit]
    if unit == "chars":
        return f"wording typical of {toward} notes"
    return unit


def explain(
    model: CompiledModel, features: Features, labels: np.ndarray, batch: Batch, on_count: np.ndarray | None = None
) -> list[tuple[str, ...]]:
    """Reasons for each note of a batch, given its features and predicted labels.

    Parameters
    ----------
    model : CompiledModel
    features : Features
        The batch's features, as ``CompiledModel.features`` gives them.
    labels : ndarray of str
        The predicted label of each note.
    batch : Batch
        The prepared notes.
    on_count : ndarray of bool or None, default=None
        The notes asked about, not declined, because their verdict rests on
        the count (``CompiledModel.actions``): their first reason says so.

    Returns
    -------
    list of tuple of str
        Three to five reasons per note, strongest first.
    """
    return reasons_of(gather(model, features, labels, batch, on_count))


@dataclass(frozen=True)
class Evidence:
    """Each note's candidate reasons, ranked by weight but not yet phrased: what ``reasons_of`` reads.

    A few hundred bytes a note, and no reference to the features: the
    reasons may be read long after classifying, or never.
    """

    model: CompiledModel
    labels: list[str]
    unit_bounds: np.ndarray  # note i's units are unit_columns[unit_bounds[i]:unit_bounds[i + 1]]
    unit_columns: np.ndarray  # indices into _ALL_UNITS
    unit_values: np.ndarray  # each unit's push towards the note's label
    word_bounds: np.ndarray  # likewise for the note's strongest words, strongest first
    word_columns: np.ndarray  # word features
    word_values: np.ndarray
    similarity: np.ndarray  # what the phrases read: the nearest template, the count, emoji, length
    best: np.ndarray
    mutual: np.ndarray
    n_emoji: np.ndarray
    length: np.ndarray
    on_count: np.ndarray  # asked about, not declined, because the verdict rests on the count

    def __len__(self) -> int:
        return len(self.labels)


def gather(
    model: CompiledModel, features: Features, labels: np.ndarray, batch: Batch, on_count: np.ndarray | None = None
) -> Evidence:
    """Weigh each note's candidate reasons (vectorised, cheap): all but the phrasing.

    Parameters
    ----------
    model : CompiledModel
    features : Features
        The batch's features, as ``CompiledModel.features`` gives them.
    labels : ndarray of str
        The predicted label of each note.
    batch : Batch
        The prepared notes.
    on_count : ndarray of bool or None, default=None
        As in ``explain``.

    Returns
    -------
    Evidence
    """
    row_class, sign = _direction(model, labels)
    units = _unit_totals(model, features, row_class, sign)
    unit_bounds, unit_columns, unit_values = _nonzero_by_row(units)
    word_bounds, word_columns, word_values = _strongest_words(model, features.words, row_class, sign)
    return Evidence(
        model=model,
        labels=[str(label) for label in labels],
        unit_bounds=unit_bounds,
        unit_columns=unit_columns,
        unit_values=unit_values,
        word_bounds=word_bounds,
        word_columns=word_columns,
        word_values=word_values,
        similarity=features.similarity,
        best=features.best,
        mutual=batch.mutual.copy(),
        n_emoji=batch.signals[:, SIGNAL_NAMES.index("n_emoji")].copy(),
        length=np.fromiter(map(len, batch.canon), dtype=np.int64, count=len(batch)),
        on_count=np.zeros(len(batch), dtype=bool) if on_count is None else np.asarray(on_count, dtype=bool),
    )


def reasons_of(evidence: Evidence) -> list[tuple[str, ...]]:
    """Phrase each note's strongest reasons: three to five, strongest first (a Python loop: most of the work).

    Parameters
    ----------
    evidence : Evidence
        From ``gather``.

    Returns
    -------
    list of tuple of str
    """
    unit_bounds = evidence.unit_bounds.tolist()
    unit_values = evidence.unit_values.tolist()
    unit_names = [_ALL_UNITS[u] for u in evidence.unit_columns.tolist()]
    word_bounds = evidence.word_bounds.tolist()
    word_values = evidence.word_values.tolist()
    names = evidence.model.word_names
    word_names = ["word:" + names[c] for c in evidence.word_columns.tolist()]
    # The same phrases recur across notes: keep one copy of each in memory.
    shared: dict[str, str] = {}
    out: list[tuple[str, ...]] = []
    for i in range(len(evidence)):
        a, b = unit_bounds[i], unit_bounds[i + 1]
        candidates = list(zip(unit_values[a:b], unit_names[a:b]))
        a, b = word_bounds[i], word_bounds[i + 1]
        candidates += zip(word_values[a:b], word_names[a:b])
        reasons = _reasons(candidates, evidence.labels[i], evidence, i)
        if evidence.on_count[i]:
            # Why the note is asked about rather than declined comes first.
            counted = _count_words(float(evidence.mutual[i]))
            others = (r for r in reasons if r != counted)
            reasons = (counted + ": ask, not decline", *others)[:MAX_REASONS]
        out.append(tuple(shared.setdefault(r, r) for r in reasons))
    return out


class DeferredReasons:
    """The reasons of a chunk of notes, phrased the first time any of them is read, then kept.

    Thread-safe: the chunk is phrased once, whichever thread reads first.
    """

    __slots__ = ("_evidence", "_lock", "_reasons")

    def __init__(
        self, evidence: Evidence | Callable[[], Evidence] | None, reasons: list[tuple[str, ...]] | None = None
    ) -> None:
        # Gathered already, or a call that gathers (for a chunk whose features
        # are worth keeping until read); None once phrased.
        self._evidence: Evidence | Callable[[], Evidence] | None = evidence
        self._lock = threading.Lock()
        self._reasons: list[tuple[str, ...]] | None = reasons

    def __reduce__(self) -> tuple[Any, ...]:
        # A lock does not cross processes, and the features should not: a
        # worker sends the gathered evidence (or the phrased reasons).
        with self._lock:
            if self._reasons is None and not isinstance(self._evidence, Evidence):
                assert self._evidence is not None
                self._evidence = self._evidence()
            return (DeferredReasons, (self._evidence, self._reasons))

    def row(self, i: int) -> tuple[str, ...]:
        """The reasons of note ``i`` of the chunk."""
        reasons = self._reasons
        if reasons is None:
            with self._lock:
                if self._reasons is None:
                    evidence = self._evidence
                    assert evidence is not None
                    self._reasons = reasons_of(evidence if isinstance(evidence, Evidence) else evidence())
                    self._evidence = None  # phrased: the evidence (or the features) no longer needed
                reasons = self._reasons
        return reasons[i]


# ----------------------------------------------------------------- gather


def _direction(model: CompiledModel, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's row of coefficients, and the sign that makes its terms point towards its label."""
    n_rows = len(labels)
    if model.coef.shape[0] == 1:
        # Binary: positive weights push towards classes[1].
        return np.zeros(n_rows, dtype=int), np.where(labels == model.classes[1], 1.0, -1.0)
    return np.searchsorted(np.asarray(model.classes), labels), np.ones(n_rows)


def _unit_totals(model: CompiledModel, features: Features, row_class: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """Each unit's push towards the label: its terms added left to right; the character block last."""
    dense = features.dense
    terms = np.zeros((len(dense), len(DENSE_NAMES) + 1))  # a last column of zeros pads _MEMBER_TABLE
    terms[:, :-1] = dense * model.coef[:, -len(DENSE_NAMES) :][row_class]
    # For a request with no note at all, "generic" means "empty": say so once.
    empty_rows = dense[:, DENSE_INDEX["empty"]] > 0
    terms[empty_rows, DENSE_INDEX["empty"]] += terms[empty_rows, DENSE_INDEX["generic"]]
    terms[empty_rows, DENSE_INDEX["generic"]] = 0.0
    terms[empty_rows, DENSE_INDEX["template_similarity"]] = 0.0
    # Left to right: each unit's first members, plus its second members, and
    # so on (the padding adds 0.0, which changes no sum).
    members = terms.take(_MEMBER_TABLE.T.ravel(), axis=1).reshape(len(dense), *_MEMBER_TABLE.T.shape)
    totals = members[:, 0].copy()
    for rank in range(1, members.shape[1]):
        totals += members[:, rank]
    units = np.empty((len(dense), len(_UNIT_MEMBERS) + 1))
    units[:, :-1] = totals * sign[:, None]
    # A faint resemblance to a template explains nothing.
    faint = (features.similarity < 0.3) & (units[:, _TEMPLATE_UNIT] > 0)
    units[faint, _TEMPLATE_UNIT] = 0.0
    # Single character n-grams mean little to a person: the block is one unit.
    chars = features.chars
    char_terms = chars.data * _weights(model, model.n_word_features, row_class, chars)
    units[:, -1] = np.bincount(chars.rows, weights=char_terms, minlength=len(dense)) * sign
    return units


def _weights(model: CompiledModel, first: int, row_class: np.ndarray, block: SparseRows) -> np.ndarray:
    """The weight of each entry of a block whose columns start at ``first``, for its row's class."""
    coef = model.coef[:, first : first + block.n_columns]
    # Binary: one row of weights for every note (the same values, fewer gathers).
    weights: np.ndarray = coef[0][block.indices] if len(coef) == 1 else coef[row_class[block.rows], block.indices]
    return weights


def _nonzero_by_row(units: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The units that push either way (not ~0), row by row: bounds, columns, values."""
    rows, columns = np.nonzero(np.abs(units) > _EPS)
    bounds = np.searchsorted(rows, np.arange(len(units) + 1)).astype(np.int32)
    return bounds, columns.astype(np.int8), units[rows, columns]


def _strongest_words(
    model: CompiledModel, words: SparseRows, row_class: np.ndarray, sign: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``MAX_REASONS`` strongest words but function words: bounds, columns, values, strongest first."""
    rows, columns = words.rows, words.indices
    terms = words.data * _weights(model, 0, row_class, words) * sign[rows]
    worth = (~_function_columns(model)[columns] & (np.abs(terms) > _EPS)).nonzero()[0]
    rows, columns, terms = rows[worth], columns[worth], terms[worth]
    # By row, then by strength; stable sorts keep ties in column order. Two
    # passes, as ``np.lexsort((-np.abs(terms), rows))`` makes them, the second
    # a radix sort where the rows fit 16 bits.
    order = np.argsort(-np.abs(terms), kind="stable")
    by_row = rows.astype(np.uint16) if len(row_class) <= 2**16 else rows
    order = order[np.argsort(by_row[order], kind="stable")]
    starts = np.searchsorted(rows, np.arange(len(row_class) + 1))
    kept = order[np.arange(len(order)) - starts[rows[order]] < MAX_REASONS]
    bounds = np.searchsorted(rows[kept], np.arange(len(row_class) + 1)).astype(np.int32)
    return bounds, columns[kept].astype(np.int32), terms[kept]


# ------------------------------------------------------------- reasons_of


def _reasons(candidates: list[tuple[float, str]], toward: str, evidence: Evidence, row: int) -> tuple[str, ...]:
    """The strongest contributions towards the label, phrased; opposing ones if too few."""
    candidates.sort(key=lambda c: -c[0])
    supporting = [c for c in candidates if c[0] > 0][:MAX_REASONS]
    reasons = [_render(name, toward, evidence, row) for _, name in supporting]
    if len(reasons) < MIN_REASONS:
        opposing = sorted((c for c in candidates if c[0] <= 0), key=lambda c: c[0])
        other = _other_label(list(evidence.model.classes), toward)
        for _, name in opposing[: MIN_REASONS - len(reasons)]:
            # "but" reads with every phrase, verb or noun ("but asks a question", "but 3 shared connections").
            reasons.append("but " + _render(name, other, evidence, row))
    return tuple(dict.fromkeys(reasons))


_FUNCTION_COLUMNS: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def _function_columns(model: CompiledModel) -> np.ndarray:
    """Which word features are only function words (never worth a reason)."""
    mask = _FUNCTION_COLUMNS.get(model)
    if mask is None:
        words = _function_words()
        mask = np.fromiter(
            (_is_function_gram(n, model.surface, words) for n in model.word_names),
            dtype=bool,
            count=len(model.word_names),
        )
        _FUNCTION_COLUMNS[model] = mask
    return mask


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    """Words too common to explain anything (function words of every language, placeholders)."""
    data = json.loads(resources.files("invitecls._resources").joinpath("languages.json").read_text("utf-8"))
    words = {w for lang, spec in data.items() if not lang.startswith("_") for w in spec["words"]}
    return frozenset(words | {"_name_"})


def _is_function_gram(gram: str, surface: dict[str, str], function_words: frozenset[str]) -> bool:
    return all(part in function_words or surface.get(part, part) in function_words for part in gram.split(" "))


def _other_label(classes: list[str], label: str) -> str:
    others = [c for c in classes if c != label]
    return others[0] if len(others) == 1 else "other"


_WORD_PHRASES: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def _render(name: str, toward: str, evidence: Evidence, row: int) -> str:
    model = evidence.model
    if name.startswith("word:"):
        # A word's phrase depends on the model only: the same words recur in every batch.
        phrases = _WORD_PHRASES.get(model)
        if phrases is None:
            phrases = _WORD_PHRASES.setdefault(model, {})
        phrase = phrases.get(name)
        if phrase is None:
            surface = model.surface
            gram = " ".join(surface.get(part, part) for part in name[5:].split(" "))
            gram = gram.replace("_name_", "<name>").replace("_url_", "<link>")
            gram = gram.replace("_email_", "<e-mail>").replace("_handle_", "<@handle>")
            phrase = phrases[name] = f'uses "{gram}"'
        return phrase
    return _phrase(name, toward, evidence, row)
