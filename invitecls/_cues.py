"""The concept lexicons and their matcher: which concepts (context, event, pitch, scam…) a note names, how often.

Each concept of ``CUE_NAMES`` is a list of cues in ``_resources/cues.json``, in
the corpus's languages: words matched at the start of a word (``$``: the whole
word), and phrases of several words (``*``: any one word). The lexicon is
indexed once by first and second word, so that matching is linear in a note's
length whatever the size of the lexicon.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from invitecls._normalize import normalize_one

__all__ = ["CONTEXT_CONCEPTS", "CUE_NAMES", "PITCH_CONCEPTS", "PITCH_FEATURE_CONCEPTS", "cue_counts", "cues_of_tokens"]

#: Concept lexicons in ``_resources/cues.json``; each gives one count feature.
CUE_NAMES = (
    "event",
    "past_interaction",
    "shared",
    "content",
    "referral",
    "purpose",
    "pitch_offer",
    "call_to_action",
    "outcome_claims",
    "money_scheme",
    "scam_story",
    "recruiting_vague",
    "flattery",
    "networking_vague",
)

# Two pitch sets, different on purpose: one is a feature of the trained model,
# the other a rule of the export's evidence.

#: Concepts whose counts add up to the model's ``pitch`` (in ``pitch_x_context``).
#: The trained model's coefficients were fitted to this sum: changing the set
#: changes the features. A scam story is not in it; the model weighs scam
#: stories through their own count (``cue_scam_story``).
PITCH_FEATURE_CONCEPTS = ("pitch_offer", "call_to_action", "outcome_claims", "money_scheme", "recruiting_vague")
#: Concepts that make a note a pitch or a scam for the export's evidence
#: (``_history.is_pitch``): no history with the sender makes such a note
#: accepted, and a scam story least of all, so it is in this set. Where the
#: training labels do not say which notes are pitches, the features' first
#: stage learns this set's verdict (``InviteFeatures.fit``).
PITCH_CONCEPTS = (*PITCH_FEATURE_CONCEPTS, "scam_story")
#: Concepts that name a shared context or a reason (``no_context``, ``pitch_x_context``).
CONTEXT_CONCEPTS = ("event", "past_interaction", "shared", "content", "referral", "purpose")


Phrase = tuple[tuple[str, ...], bool, int]  # (words, last word may continue, concept)


@dataclass(frozen=True)
class _Followers:
    """The phrases that start with one word, indexed by their second word.

    Common first words ("your", "je", "our") start hundreds of phrases; looking
    the next word up, instead of trying each phrase, keeps matching linear in
    the note's length.
    """

    exact: dict[str, tuple[Phrase, ...]]  # second word as it must be
    prefix: dict[str, tuple[Phrase, ...]]  # two-word phrases whose second word may continue
    any_word: tuple[Phrase, ...]  # second word "*"
    longest_prefix: int


@dataclass(frozen=True)
class _CueIndex:
    prefixes: dict[str, tuple[int, ...]]  # one-word cues matched at the start of a word
    words: dict[str, tuple[int, ...]]  # one-word cues that must be the whole word ($)
    phrases: dict[str, _Followers]  # first word -> the phrases it starts
    longest_prefix: int


def _followers(phrases: set[Phrase]) -> _Followers:
    exact: dict[str, list[Phrase]] = {}
    prefix: dict[str, list[Phrase]] = {}
    any_word: list[Phrase] = []
    for phrase in phrases:
        parts, last_is_prefix, _ = phrase
        if parts[1] == "*":
            any_word.append(phrase)
        elif len(parts) == 2 and last_is_prefix:
            prefix.setdefault(parts[1], []).append(phrase)
        else:
            exact.setdefault(parts[1], []).append(phrase)
    return _Followers(
        exact={k: tuple(v) for k, v in exact.items()},
        prefix={k: tuple(v) for k, v in prefix.items()},
        any_word=tuple(any_word),
        longest_prefix=max(map(len, prefix), default=0),
    )


@lru_cache(maxsize=1)
def _cue_index() -> _CueIndex:
    data = json.loads(resources.files("invitecls._resources").joinpath("cues.json").read_text("utf-8"))
    if tuple(k for k in data if not k.startswith("_")) != CUE_NAMES:
        raise ValueError("cues.json does not list the concepts of CUE_NAMES in order")
    prefixes: dict[str, set[int]] = {}
    words: dict[str, set[int]] = {}
    phrases: dict[str, set[Phrase]] = {}
    for concept, name in enumerate(CUE_NAMES):
        for cue in data[name]:
            whole = cue.endswith("$")
            parts: list[str] = []
            for part in cue.rstrip("$").split():
                parts.extend(["*"] if part == "*" else normalize_one(part)[0].split())
            if not parts or parts[0] == "*":
                continue
            if len(parts) == 1:
                (words if whole else prefixes).setdefault(parts[0], set()).add(concept)
            else:
                phrases.setdefault(parts[0], set()).add((tuple(parts), not whole, concept))
    return _CueIndex(
        prefixes={k: tuple(sorted(v)) for k, v in prefixes.items()},
        words={k: tuple(sorted(v)) for k, v in words.items()},
        phrases={k: _followers(v) for k, v in phrases.items()},
        longest_prefix=max(map(len, prefixes), default=0),
    )


# A phrase that may start at a word, given the next word, as the checks left to
# make: (concept, size, last word, how it must match, words inside it).
Check = tuple[int, int, str, int, tuple[tuple[int, str], ...]]
_EXACT, _PREFIX, _ANY = 0, 1, 2  # how the last word must match
_pair_candidates: dict[tuple[str, str], tuple[Check, ...]] = {}


def _candidates(first: str, followers: _Followers, after: str) -> tuple[Check, ...]:
    """The phrases that may start at ``first``, given the next word, longest first (cached: word pairs recur)."""
    found = _pair_candidates.get((first, after))
    if found is None:
        found = _find_candidates(followers, after)
        if len(_pair_candidates) > 200_000:
            _pair_candidates.clear()
        _pair_candidates[(first, after)] = found
    return found


def _find_candidates(followers: _Followers, after: str) -> tuple[Check, ...]:
    found = list(followers.any_word)
    found.extend(followers.exact.get(after, ()))
    if followers.prefix:
        for end in range(1, min(len(after), followers.longest_prefix) + 1):
            found.extend(followers.prefix.get(after[:end], ()))
    # Longest first: where two phrases of a concept start at one word, the longer counts.
    found.sort(key=lambda phrase: -len(phrase[0]))
    return tuple(_check(phrase) for phrase in found)


def _check(phrase: Phrase) -> Check:
    """What is left to check of a phrase found by its first two words (the second matched already)."""
    parts, last_is_prefix, concept = phrase
    size = len(parts)
    # The second word is matched already; so is the last of a two-word phrase.
    how = _ANY if size == 2 or parts[-1] == "*" else _PREFIX if last_is_prefix else _EXACT
    inside = tuple((k, word) for k, word in enumerate(parts[2:-1], start=2) if word != "*")
    return concept, size, parts[-1], how, inside


# What each word starts: the concepts it names alone, and the phrases it may open.
_word_cues: dict[str, tuple[tuple[int, ...], _Followers | None]] = {}
_NOTHING: tuple[tuple[int, ...], _Followers | None] = ((), None)  # half of all words: skipped at once


def _cues_of_word(word: str, index: _CueIndex) -> tuple[tuple[int, ...], _Followers | None]:
    found = _word_cues.get(word)
    if found is None:
        hits: set[int] = set(index.words.get(word, ()))
        for end in range(1, min(len(word), index.longest_prefix) + 1):
            hits.update(index.prefixes.get(word[:end], ()))
        followers = index.phrases.get(word)
        found = (tuple(sorted(hits)), followers) if hits or followers is not None else _NOTHING
        if len(_word_cues) > 200_000:
            _word_cues.clear()
        _word_cues[word] = found
    return found


def cue_counts(canon: list[str]) -> np.ndarray:
    """log1p of how often each concept of ``CUE_NAMES`` occurs in each note.

    A cue matches at the start of a word; a phrase matches whole words but for
    its last, which may continue ("our clients" matches "our clientele"); ``*``
    stands for any one word. Matches of one concept do not overlap.
    """
    index = _cue_index()
    # Identical notes (the default text) recur within a batch: match each once.
    seen: dict[str, list[int]] = {}
    counts: list[list[int] | tuple[int, ...]] = []
    for text in canon:
        found = seen.get(text) if text else _NO_COUNTS
        if found is None:
            found = seen[text] = _match_cues(text.split(" "), index)
        counts.append(found)
    return _log1p(counts)


def cues_of_tokens(token_lists: list[list[str]]) -> np.ndarray:
    """``cue_counts`` of notes given as their words (``text.split(" ")``, ``[]`` for no note).

    ``prepare`` passes the words it has split already. Identical notes share
    one list of words there, and each list is matched once.
    """
    index = _cue_index()
    seen: dict[int, list[int]] = {}
    counts: list[list[int] | tuple[int, ...]] = []
    for tokens in token_lists:
        found = seen.get(id(tokens)) if tokens else _NO_COUNTS  # the lists outlive this loop: an id is not reused
        if found is None:
            found = seen[id(tokens)] = _match_cues(tokens, index)
        counts.append(found)
    return _log1p(counts)


_NO_COUNTS = (0,) * len(CUE_NAMES)
_LOG1P = np.array([math.log1p(count) for count in range(64)])


def _log1p(counts: list[list[int] | tuple[int, ...]]) -> np.ndarray:
    """log1p of each note's counts, one row per note: math.log1p's values (numpy's may differ in the last bit)."""
    table = np.array(counts, dtype=np.int64).reshape(len(counts), len(CUE_NAMES))
    out: np.ndarray = _LOG1P[np.minimum(table, len(_LOG1P) - 1)]
    large = table >= len(_LOG1P)
    if large.any():
        out[large] = [math.log1p(count) for count in table[large].tolist()]
    return out


def _match_cues(tokens: list[str], index: _CueIndex) -> list[int]:
    """How often each concept matches in one canonical text, split into its words."""
    known = _word_cues.get
    pair_candidates = _pair_candidates.get
    n = len(tokens)
    counts = [0] * len(CUE_NAMES)
    free = [0] * len(CUE_NAMES)  # first position a new match of each concept may start at
    for i, token in enumerate(tokens):
        cues = known(token)
        if cues is _NOTHING:
            continue
        concepts, followers = cues if cues is not None else _cues_of_word(token, index)
        for concept in concepts:
            if i >= free[concept]:
                counts[concept] += 1
                free[concept] = i + 1
        if followers is None or i + 1 >= n:
            continue
        pair = (token, tokens[i + 1])
        candidates = pair_candidates(pair)  # the cache, without a call per word (half the words start phrases)
        if candidates is None:
            candidates = _candidates(token, followers, pair[1])
        for concept, size, last, how, inside in candidates:
            if i < free[concept] or i + size > n:
                continue
            if how == _EXACT:
                if tokens[i + size - 1] != last:
                    continue
            elif how == _PREFIX and not tokens[i + size - 1].startswith(last):
                continue
            if inside and not all(tokens[i + k] == word for k, word in inside):
                continue
            counts[concept] += 1
            free[concept] = i + size
    return counts
