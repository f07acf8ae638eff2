"""Reasons: the largest contributions to a decision, in words a user understands.

A logistic regression's log-odds are a sum of ``weight * value`` over the
features. We group those terms into units a person recognises (a word, the
nearest template, the shared connections, a signal such as hidden characters),
rank the units by how much they push towards the predicted label, and phrase
the top ones.
"""

from __future__ import annotations

import json
import math
import weakref
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from invitecls._cues import CUE_NAMES
from invitecls._prepare import DENSE_NAMES, Batch

if TYPE_CHECKING:
    from invitecls._compiled import CompiledModel

__all__ = ["explain"]

MAX_REASONS = 5
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
_DENSE_INDEX = {name: i for i, name in enumerate(DENSE_NAMES)}
_UNIT_MEMBERS = tuple(tuple(_DENSE_INDEX[m] for m in members) for members in _UNITS.values())


def _count_words(count: float) -> str:
    if math.isnan(count):
        return "shared connections unknown"
    n = int(count)
    if n == 0:
        return "no shared connections"
    return f"{n} shared connection" + ("" if n == 1 else "s")


def _phrase(unit: str, toward: str, row: int, model: CompiledModel, batch: Batch, sim: float, best: int) -> str:
    signals = batch.signals[row]
    spam_side = toward == "spam"
    if unit == "template":
        template = model.templates[best]
        if spam_side or sim >= 0.5:
            return f"close to {template.describe()} ({sim:.2f})"
        return f"unlike any generic template (closest {sim:.2f})"
    if unit == "empty":
        return "no note"
    if unit == "mutual":
        return _count_words(float(batch.mutual[row]))
    if unit == "length":
        n = len(batch.canon[row])
        return "short note" if n < 80 else "detailed note"
    if unit == "emoji":
        n = int(signals[3])
        return f"{n} emoji"
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
        return "names no shared context, event, work, referrer or purpose"
    if unit in _CUE_WORDS:
        return _CUE_WORDS[unit]
    if unit == "chars":
        return f"wording typical of {toward} notes"
    return unit


def explain(
    model: CompiledModel,
    matrix: sp.csr_matrix,
    labels: np.ndarray,
    similarity: np.ndarray,
    best: np.ndarray,
    batch: Batch,
) -> list[tuple[str, ...]]:
    """Reasons for each row of a feature matrix, given its predicted labels.

    Returns
    -------
    list of tuple of str
        Three to five reasons per note, strongest first.
    """
    n_rows = matrix.shape[0]
    if n_rows == 1:
        return [_explain_one(model, matrix, str(labels[0]), float(similarity[0]), int(best[0]), batch)]
    n_words, n_chars = model.n_word_features, model.n_char_features
    classes = list(model.classes)
    coef = model.coef
    if coef.shape[0] == 1:
        # Binary: positive weights push towards classes_[1].
        sign = np.where(labels == classes[1], 1.0, -1.0)
        row_class = np.zeros(n_rows, dtype=int)
    else:
        sign = np.ones(n_rows)
        row_class = np.searchsorted(np.asarray(model.classes), labels)
    first_dense = n_words + n_chars
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    entry_rows = np.repeat(np.arange(n_rows), np.diff(indptr))
    is_word = indices < n_words
    is_dense = indices >= first_dense
    is_char = ~is_word & ~is_dense
    dense = np.zeros((n_rows, len(DENSE_NAMES)))
    dense[entry_rows[is_dense], indices[is_dense] - first_dense] = data[is_dense]
    terms = dense * coef[:, first_dense:][row_class]
    # For a note with no note at all, "generic" means "empty": say so once.
    empty_rows = dense[:, _DENSE_INDEX["empty"]] > 0
    terms[empty_rows, _DENSE_INDEX["empty"]] += terms[empty_rows, _DENSE_INDEX["generic"]]
    terms[empty_rows, _DENSE_INDEX["generic"]] = 0.0
    terms[empty_rows, _DENSE_INDEX["template_similarity"]] = 0.0
    # Each unit's terms added left to right (as _explain_one adds them).
    units = np.empty((n_rows, len(_UNIT_MEMBERS)))
    for u, members in enumerate(_UNIT_MEMBERS):
        total = terms[:, members[0]].copy()
        for member in members[1:]:
            total += terms[:, member]
        units[:, u] = total * sign
    # A faint resemblance to a template explains nothing.
    faint = (similarity < 0.3) & (units[:, _TEMPLATE_UNIT] > 0)
    units[faint, _TEMPLATE_UNIT] = 0.0
    char_rows = entry_rows[is_char]
    char_terms = data[is_char] * coef[row_class[char_rows], indices[is_char]]
    char_sum = np.bincount(char_rows, weights=char_terms, minlength=n_rows)
    units = np.column_stack([units, char_sum * sign])
    unit_rows, unit_cols = np.nonzero(np.abs(units) > _EPS)
    unit_values = units[unit_rows, unit_cols]
    unit_bounds = np.searchsorted(unit_rows, np.arange(n_rows + 1))

    # The few strongest words of each row, in one vectorised pass.
    word_rows = entry_rows[is_word]
    word_cols = indices[is_word]
    word_starts = np.searchsorted(word_rows, np.arange(n_rows + 1))
    contrib = data[is_word] * coef[row_class[word_rows], word_cols] * sign[word_rows]
    contrib[_function_columns(model)[word_cols]] = 0.0
    order = np.lexsort((-np.abs(contrib), word_rows))
    rank = np.arange(len(order)) - word_starts[word_rows[order]]
    kept = order[(rank < MAX_REASONS) & (np.abs(contrib[order]) > _EPS)]
    kept_rows = word_rows[kept]
    kept_values = contrib[kept].tolist()
    kept_names = [model.word_names[c] for c in word_cols[kept].tolist()]
    word_bounds = np.searchsorted(kept_rows, np.arange(n_rows + 1))

    unit_cols_list = unit_cols.tolist()
    unit_values_list = unit_values.tolist()
    unit_bounds_list = unit_bounds.tolist()
    word_bounds_list = word_bounds.tolist()
    labels_list = [str(label) for label in labels]
    # The same phrases recur across notes: keep one copy of each in memory.
    shared: dict[str, str] = {}
    out: list[tuple[str, ...]] = []
    for i in range(n_rows):
        a, b = unit_bounds_list[i], unit_bounds_list[i + 1]
        candidates = [(unit_values_list[k], _ALL_UNITS[unit_cols_list[k]]) for k in range(a, b)]
        a, b = word_bounds_list[i], word_bounds_list[i + 1]
        candidates += [(kept_values[k], "word:" + kept_names[k]) for k in range(a, b)]
        reasons = _reasons(candidates, labels_list[i], model, batch, i, float(similarity[i]), int(best[i]))
        out.append(tuple(shared.setdefault(r, r) for r in reasons))
    return out


def _reasons(
    candidates: list[tuple[float, str]],
    toward: str,
    model: CompiledModel,
    batch: Batch,
    row: int,
    similarity: float,
    best: int,
) -> tuple[str, ...]:
    """The strongest contributions towards the label, phrased; opposing ones if too few."""
    candidates.sort(key=lambda c: -c[0])
    supporting = [c for c in candidates if c[0] > 0][:MAX_REASONS]
    reasons = [_render(name, toward, row, model, batch, similarity, best) for _, name in supporting]
    if len(reasons) < MIN_REASONS:
        opposing = sorted((c for c in candidates if c[0] <= 0), key=lambda c: c[0])
        other = _other_label(list(model.classes), toward)
        for _, name in opposing[: MIN_REASONS - len(reasons)]:
            reasons.append("despite " + _render(name, other, row, model, batch, similarity, best))
    return tuple(dict.fromkeys(reasons))


def _explain_one(
    model: CompiledModel, matrix: sp.csr_matrix, label: str, similarity: float, best: int, batch: Batch
) -> tuple[str, ...]:
    """``explain`` for one note, in plain floats: the same sums in the same order."""
    classes = model.classes
    n_words, n_chars = model.n_word_features, model.n_char_features
    first_dense = n_words + n_chars
    if model.coef.shape[0] == 1:
        row_class, sign = 0, (1.0 if label == classes[1] else -1.0)
    else:
        row_class, sign = classes.index(label), 1.0
    coef = _coef_rows(model)[row_class]
    indices, data = matrix.indices, matrix.data
    is_char = (indices >= n_words) & (indices < first_dense)
    # The same sum of the same products, in the same order, as the batch path.
    char_sum = float(
        np.bincount(
            np.zeros(int(is_char.sum()), dtype=np.int64),
            weights=data[is_char] * model.coef[row_class, indices[is_char]],
            minlength=1,
        )[0]
    )
    terms = [0.0] * len(DENSE_NAMES)
    dense = [0.0] * len(DENSE_NAMES)
    words: list[tuple[float, int]] = []
    function_words = _function_columns(model)
    is_other = ~is_char
    for column, value in zip(indices[is_other].tolist(), data[is_other].tolist()):
        if column >= first_dense:
            dense[column - first_dense] = value
        else:
            words.append((0.0 if function_words[column] else value * coef[column] * sign, column))
    for k in range(len(DENSE_NAMES)):
        terms[k] = dense[k] * coef[first_dense + k]
    if dense[_DENSE_INDEX["empty"]] > 0:
        terms[_DENSE_INDEX["empty"]] += terms[_DENSE_INDEX["generic"]]
        terms[_DENSE_INDEX["generic"]] = 0.0
        terms[_DENSE_INDEX["template_similarity"]] = 0.0
    candidates: list[tuple[float, str]] = []
    for u, members in enumerate(_UNIT_MEMBERS):
        total = terms[members[0]]
        for member in members[1:]:
            total += terms[member]
        total *= sign
        if u == _TEMPLATE_UNIT and similarity < 0.3 and total > 0:
            total = 0.0
        if abs(total) > _EPS:
            candidates.append((total, _ALL_UNITS[u]))
    char_sum *= sign
    if abs(char_sum) > _EPS:
        candidates.append((char_sum, "chars"))
    ranked = sorted(words, key=lambda w: -abs(w[0]))[:MAX_REASONS]
    candidates += [(v, "word:" + model.word_names[c]) for v, c in ranked if abs(v) > _EPS]
    return tuple(dict.fromkeys(_reasons(candidates, label, model, batch, 0, similarity, best)))


_COEF_ROWS: weakref.WeakKeyDictionary[Any, list[list[float]]] = weakref.WeakKeyDictionary()


def _coef_rows(model: CompiledModel) -> list[list[float]]:
    rows = _COEF_ROWS.get(model)
    if rows is None:
        rows = model.coef.tolist()
        _COEF_ROWS[model] = rows
    return rows


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


def _render(name: str, toward: str, row: int, model: CompiledModel, batch: Batch, similarity: float, best: int) -> str:
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
    return _phrase(name, toward, row, model, batch, similarity, best)
