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
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from invitecls._prepare import CUE_NAMES, DENSE_NAMES, Batch

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
}
_CUE_WORDS = {
    "cue_event": "mentions a specific event",
    "cue_past_interaction": "refers to a past meeting or conversation",
    "cue_shared": "mentions a shared workplace, school or project",
    "cue_content": "refers to the recipient's own work",
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
_DENSE_INDEX = {name: i for i, name in enumerate(DENSE_NAMES)}
_UNIT_OF_DENSE = np.zeros((len(DENSE_NAMES), len(_UNITS)))
for _u, (_unit, _members) in enumerate(_UNITS.items()):
    for _member in _members:
        _UNIT_OF_DENSE[_DENSE_INDEX[_member], _u] = 1.0


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
    csr = sp.csr_matrix(matrix)
    chars = slice(n_words, n_words + n_chars)
    dense = csr[:, n_words + n_chars :].toarray()
    terms = dense * coef[:, n_words + n_chars :][row_class]
    # For a note with no note at all, "generic" means "empty": say so once.
    empty_rows = dense[:, _DENSE_INDEX["empty"]] > 0
    terms[empty_rows, _DENSE_INDEX["empty"]] += terms[empty_rows, _DENSE_INDEX["generic"]]
    terms[empty_rows, _DENSE_INDEX["generic"]] = 0.0
    terms[empty_rows, _DENSE_INDEX["template_similarity"]] = 0.0
    units = (terms @ _UNIT_OF_DENSE) * sign[:, None]
    char_all = np.asarray(csr[:, chars] @ coef[:, chars].T).reshape(n_rows, -1)
    char_sum = char_all[np.arange(n_rows), row_class] * sign
    coef_rows = coef
    row_weight_index = row_class

    vocab_names = model.word_names
    function_words = _function_words()
    surface = model.surface
    word_block = csr[:, :n_words]
    out: list[tuple[str, ...]] = []
    for i in range(n_rows):
        toward = str(labels[i])
        candidates: list[tuple[float, str]] = []
        for u, name in enumerate(_UNIT_NAMES):
            value = units[i, u]
            if name == "template" and value > 0 and similarity[i] < 0.3:
                continue  # a faint resemblance to a template explains nothing
            if abs(value) > _EPS:
                candidates.append((value, name))
        if abs(char_sum[i]) > _EPS:
            candidates.append((char_sum[i], "chars"))
        start, end = word_block.indptr[i], word_block.indptr[i + 1]
        if end > start:
            idx = word_block.indices[start:end]
            contrib = word_block.data[start:end] * coef_rows[row_weight_index[i], idx] * sign[i]
            top = np.argsort(-np.abs(contrib))[:MAX_REASONS]
            for k in top:
                name = str(vocab_names[idx[k]])
                if abs(contrib[k]) > _EPS and not _is_function_gram(name, surface, function_words):
                    candidates.append((contrib[k], "word:" + name))
        candidates.sort(key=lambda c: -c[0])
        supporting = [c for c in candidates if c[0] > 0][:MAX_REASONS]
        reasons = [_render(name, toward, i, model, batch, similarity, best, surface) for _, name in supporting]
        if len(reasons) < MIN_REASONS:
            opposing = sorted((c for c in candidates if c[0] <= 0), key=lambda c: c[0])
            for _, name in opposing[: MIN_REASONS - len(reasons)]:
                other = _other_label(classes, toward)
                reasons.append("despite " + _render(name, other, i, model, batch, similarity, best, surface))
        out.append(tuple(dict.fromkeys(reasons)))
    return out


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


def _render(
    name: str,
    toward: str,
    row: int,
    model: CompiledModel,
    batch: Batch,
    similarity: np.ndarray,
    best: np.ndarray,
    surface: dict[str, str],
) -> str:
    if name.startswith("word:"):
        gram = " ".join(surface.get(part, part) for part in name[5:].split(" "))
        gram = gram.replace("_name_", "<name>").replace("_url_", "<link>")
        gram = gram.replace("_email_", "<e-mail>").replace("_handle_", "<@handle>")
        return f'uses "{gram}"'
    return _phrase(name, toward, row, model, batch, float(similarity[row]), int(best[row]))
