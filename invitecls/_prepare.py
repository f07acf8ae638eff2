"""Notes prepared once, and the features that need no fitting.

``prepare`` normalises, tokenises and stems a batch of notes once; every fold
of a cross-validation and every block of features reuses the result.
``dense_features`` computes the block of features that no vectorizer learns:
template similarity and the probability of a pitch (both given), emptiness,
shared connections, note-level signals and concept counts
(``invitecls._cues``). This module imports neither scikit-learn nor nltk (nltk
loads only to stem a word not seen before), so that classifying a note with a
compiled model starts fast.

Every feature here is computed from the canonical text or from signals that do
not depend on letter case, extra whitespace or hidden characters, so none of
these moves the score. Hidden characters and look-alike letters are counted by
the normaliser and reported with each prediction instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from invitecls._cues import CONTEXT_CONCEPTS, CUE_NAMES, PITCH_CONCEPTS, PITCH_FEATURE_CONCEPTS, cues_of_tokens
from invitecls._normalize import SIGNAL_NAMES, normalize_one
from invitecls._tokenize import guess_language, stem, stemmer_name, tokenize

__all__ = [
    "BLOCK_NAMES",
    "DENSE_BLOCKS",
    "DENSE_INDEX",
    "DENSE_NAMES",
    "Batch",
    "dense_features",
    "names_a_pitch",
    "prepare",
]

DENSE_NAMES = (
    "template_similarity",
    "empty",
    "generic",
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
    "length_log1p",
    "words_log1p",
    "emoji_log1p",
    "links",
    "question",
    "exclaim_log1p",
    "money",
    "percent",
    "numbers_log1p",
    "unseen_words",
    *(f"cue_{name}" for name in CUE_NAMES),
    "pitch_x_context",
    "no_context",
    "no_context_x_mutual_0_5",
    "no_context_x_mutual_unknown",
    "no_context_x_mutual_10_plus",
    "pitch_x_mutual_10_plus",
    "no_pitch_x_mutual_10_plus",
)
#: The column of each dense feature in the dense block.
DENSE_INDEX = {name: i for i, name in enumerate(DENSE_NAMES)}
_CONCEPT_FEATURES = ("pitch_x_context", "no_context", "links", "money", "percent")
#: The block of each dense feature, in ``DENSE_NAMES`` order (see ``BLOCK_NAMES``).
DENSE_BLOCKS = tuple(
    "template"
    if name in ("template_similarity", "empty", "generic")
    else "counts"
    if name.startswith(("mutual_", "generic_x_", "no_context_x_", "pitch_x_mutual_", "no_pitch_x_"))
    else "concepts"
    if name.startswith("cue_") or name in _CONCEPT_FEATURES
    else "style"
    for name in DENSE_NAMES
)
#: Feature blocks, in matrix order: the two n-gram blocks, then the dense ones.
#: ``style`` is how a note is written (length, emoji, "!", "?", numbers, unusual
#: words); ``concepts`` is what it says (lexicon concepts, links, money).
BLOCK_NAMES = ("word", "char", "template", "counts", "style", "concepts")
_PITCH_INDEX = [CUE_NAMES.index(c) for c in PITCH_FEATURE_CONCEPTS]
_ANY_PITCH_INDEX = [CUE_NAMES.index(c) for c in PITCH_CONCEPTS]
_CONTEXT_INDEX = [CUE_NAMES.index(c) for c in CONTEXT_CONCEPTS]
_SIGNAL = {name: i for i, name in enumerate(SIGNAL_NAMES)}


@dataclass
class Batch:
    """Notes normalised once, reused by every fold and every feature block."""

    canon: list[str]
    tokens: list[list[str]]
    stems: list[list[str]]
    signals: np.ndarray
    mutual: np.ndarray
    stemmers: list[str | None]
    cues: np.ndarray  # cue_counts of canon, matched from tokens

    def __len__(self) -> int:
        return len(self.canon)

    def take(self, index: np.ndarray) -> Batch:
        """Rows ``index`` of the batch."""
        return Batch(
            canon=[self.canon[i] for i in index],
            tokens=[self.tokens[i] for i in index],
            stems=[self.stems[i] for i in index],
            stemmers=[self.stemmers[i] for i in index],
            signals=self.signals[index],
            mutual=self.mutual[index],
            cues=self.cues[index],
        )


def prepare(messages: list[str], mutual: np.ndarray) -> Batch:
    """Normalise, tokenise and stem a list of notes."""
    canon: list[str] = []
    token_lists: list[list[str]] = []
    stems: list[list[str]] = []
    stemmers: list[str | None] = []
    signals: list[tuple[float, ...]] = []
    # Identical notes (no note, the default text) are common: normalise each once.
    seen: dict[str, tuple[str, tuple[float, ...], list[str], list[str], str | None]] = {}
    for message in messages:
        hit = seen.get(message)
        if hit is None:
            text, sig = normalize_one(message)
            tokens = tokenize(text)
            lang = guess_language(tokens)
            hit = (text, sig, tokens, stem(tokens, lang), stemmer_name(lang))
            if len(seen) < 100_000:
                seen[message] = hit
        canon.append(hit[0])
        signals.append(hit[1])
        token_lists.append(hit[2])
        stems.append(hit[3])
        stemmers.append(hit[4])
    return Batch(
        canon=canon,
        tokens=token_lists,
        stems=stems,
        # One array from all the tuples: filling its rows one by one costs a numpy call each.
        signals=np.array(signals, dtype=float).reshape(len(messages), len(SIGNAL_NAMES)),
        mutual=np.asarray(mutual, dtype=float),
        stemmers=stemmers,
        # The words are split once, above; matched in a pass of their own, the
        # lexicon's tables stay in the CPU's caches (half the time of matching
        # each note as it is normalised).
        cues=cues_of_tokens(token_lists),
    )


_LOG1P_TABLE_SIZE = 4096


def names_a_pitch(batch: Batch) -> np.ndarray:
    """Whether each note names a concept of ``PITCH_CONCEPTS`` (an offer, a call to action, a scam story...).

    What the first stage learns to tell where the labels do not say which
    notes are pitches (see ``InviteFeatures.fit``).
    """
    named: np.ndarray = batch.cues[:, _ANY_PITCH_INDEX].sum(axis=1) > 0
    return named


@lru_cache(maxsize=1)
def _log1p_table() -> np.ndarray:
    return np.log1p(np.arange(_LOG1P_TABLE_SIZE, dtype=np.float64))


def log1p_counts(values: np.ndarray) -> np.ndarray:
    """log1p of non-negative whole numbers, by table where it can.

    The compiled model and scikit-learn's path take their logarithms of
    counts from here, so that a note gets the same features to the last bit
    however it is classified.
    """
    table = _log1p_table()
    values = np.asarray(values, dtype=np.float64)
    small = values < _LOG1P_TABLE_SIZE
    if small.all():
        looked_up: np.ndarray = table[values.astype(np.int64)]
        return looked_up
    out: np.ndarray = np.log1p(values)
    out[small] = table[values[small].astype(np.int64)]
    return out


def dense_features(batch: Batch, similarity: np.ndarray, unseen: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """The dense block, in ``DENSE_NAMES`` order.

    ``similarity`` is each note's similarity to the nearest template,
    ``unseen`` its share of words never seen in training, and ``pitch`` the
    learnt probability that it is a pitch, a scam or a vague recruiting offer
    (``InviteFeatures``' first stage).
    """
    n = len(batch)
    out = np.empty((n, len(DENSE_NAMES)))
    # For one note, each numpy call costs more than its work: the columns are
    # filled by slices, and the count's indicators come from one table lookup.
    empty = np.fromiter((not t for t in batch.canon), dtype=float, count=n)
    generic = np.maximum(similarity, empty)
    band = _count_bands(batch.mutual)
    out[:, DENSE_INDEX["template_similarity"]] = similarity
    out[:, DENSE_INDEX["empty"]] = empty
    out[:, DENSE_INDEX["generic"]] = generic
    out[:, DENSE_INDEX["mutual_log1p"] : DENSE_INDEX["mutual_50_plus"] + 1] = band[:, :7]
    out[:, DENSE_INDEX["generic_x_mutual_log1p"] : DENSE_INDEX["generic_x_mutual_unknown"] + 1] = (
        generic[:, None] * band[:, _GENERIC_BY_COUNT]
    )
    _note_level(batch, out)
    out[:, DENSE_INDEX["unseen_words"]] = unseen
    cues = batch.cues
    out[:, DENSE_INDEX[_FIRST_CUE] : DENSE_INDEX[_FIRST_CUE] + cues.shape[1]] = cues
    named_pitch = cues[:, _PITCH_INDEX].sum(axis=1)
    context = cues[:, _CONTEXT_INDEX].sum(axis=1)
    # A pitch stays a pitch when it names a shared context: the product lets
    # the model learn that a context does not excuse a pitch.
    out[:, DENSE_INDEX["pitch_x_context"]] = named_pitch * context
    # A note that names no context at all, however politely, gives no reason.
    no_context = ((context == 0) & (empty == 0)).astype(float)
    out[:, DENSE_INDEX["no_context"]] = no_context
    # Like a generic note, a note without a reason is judged by who sends it.
    out[:, DENSE_INDEX["no_context_x_mutual_0_5"] : DENSE_INDEX["no_context_x_mutual_10_plus"] + 1] = (
        no_context[:, None] * band[:, _NO_CONTEXT_BY_COUNT]
    )
    # Many shared connections speak for a sender only when the note pitches
    # nothing: a pitch stays spam whatever the count (the guide's rule), so the
    # count's pull is learnt apart for pitches and for the rest. What a pitch
    # is comes from the learnt probability, not the lexicon: senders pitch in
    # more words than any lexicon lists.
    ten_plus = band[:, _TEN_PLUS]
    out[:, DENSE_INDEX["pitch_x_mutual_10_plus"]] = pitch * ten_plus
    out[:, DENSE_INDEX["no_pitch_x_mutual_10_plus"]] = (1.0 - pitch) * ten_plus
    return out


# The count's columns: log1p of the count (0 when unknown), the guide's bands
# (unknown, 0, 1-5, 6-9, 10-49, 50+), then "10 or more" and "5 or fewer".
_BAND_TABLE = np.array(
    [
        [0, 1, 0, 0, 0, 0, 0, 0, 0],  # unknown
        [0, 0, 1, 0, 0, 0, 0, 0, 1],  # 0
        [0, 0, 0, 1, 0, 0, 0, 0, 1],  # 1-5
        [0, 0, 0, 0, 1, 0, 0, 0, 0],  # 6-9
        [0, 0, 0, 0, 0, 1, 0, 1, 0],  # 10-49
        [0, 0, 0, 0, 0, 0, 1, 1, 0],  # 50+
    ],
    dtype=float,
)
_BAND_EDGES = np.array([0.5, 5.5, 9.5, 49.5])  # counts are whole numbers: the edges fall between them
_GENERIC_BY_COUNT = [0, 7, 8, 1]  # generic_x_mutual_: log1p, 10_plus, 0_5, unknown
_NO_CONTEXT_BY_COUNT = [8, 1, 7]  # no_context_x_mutual_: 0_5, unknown, 10_plus
_TEN_PLUS = 7  # the band table's "10 or more" column
_FIRST_CUE = f"cue_{CUE_NAMES[0]}"


def _count_bands(mutual: np.ndarray) -> np.ndarray:
    """Each note's row of the count's columns (``_BAND_TABLE``'s)."""
    known = ~np.isnan(mutual)
    counts = np.where(known, mutual, 0.0)
    table = _BAND_TABLE[np.where(known, np.searchsorted(_BAND_EDGES, counts) + 1, 0)]
    table[:, 0] = log1p_counts(counts)
    return table


def _note_level(batch: Batch, out: np.ndarray) -> None:
    """Fill the columns read from the note as written: lengths, emoji, links, punctuation, numbers, money."""
    n = len(batch)
    sig = batch.signals
    n_words = np.fromiter((len(s) for s in batch.stems), dtype=float, count=n)
    # Lengths of the canonical text: case, extra whitespace and hidden
    # characters must not move the score.
    n_chars = np.fromiter((len(t) for t in batch.canon), dtype=float, count=n)
    # The logarithms of all counts in one lookup.
    counts = np.array([n_chars, n_words, *(sig[:, _SIGNAL[s]] for s in ("n_emoji", "n_exclaim", "n_numbers"))])
    log_chars, log_words, log_emoji, log_exclaim, log_numbers = log1p_counts(counts)
    out[:, DENSE_INDEX["length_log1p"]] = log_chars
    out[:, DENSE_INDEX["words_log1p"]] = log_words
    out[:, DENSE_INDEX["emoji_log1p"]] = log_emoji
    out[:, DENSE_INDEX["links"]] = np.minimum(sig[:, _SIGNAL["n_links"]], 1.0)
    out[:, DENSE_INDEX["question"]] = sig[:, _SIGNAL["has_question"]]
    out[:, DENSE_INDEX["exclaim_log1p"]] = log_exclaim
    out[:, DENSE_INDEX["money"]] = sig[:, _SIGNAL["has_money"]]
    out[:, DENSE_INDEX["percent"]] = sig[:, _SIGNAL["has_percent"]]
    out[:, DENSE_INDEX["numbers_log1p"]] = log_numbers
