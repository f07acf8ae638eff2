"""The concept lexicons: they match what they name, in every corpus language, and lean the way the guide says."""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from invitecls._cues import CUE_NAMES, cue_counts
from invitecls._normalize import normalize_one
from invitecls._prepare import DENSE_NAMES, dense_features, prepare

ROOT = Path(__file__).resolve().parents[1]
GENUINE_CONCEPTS = ("event", "past_interaction", "shared", "content", "referral", "purpose")
SPAM_CONCEPTS = tuple(c for c in CUE_NAMES if c not in GENUINE_CONCEPTS)


def concepts(note: str) -> set[str]:
    counts = cue_counts([normalize_one(note)[0]])[0]
    return {name for name, value in zip(CUE_NAMES, counts) if value}


def test_the_lexicon_file_lists_the_concepts_in_order() -> None:
    data = json.loads(resources.files("invitecls._resources").joinpath("cues.json").read_text("utf-8"))
    assert tuple(k for k in data if not k.startswith("_")) == CUE_NAMES
    assert all(len(data[name]) >= 300 for name in CUE_NAMES), {n: len(data[n]) for n in CUE_NAMES}


@pytest.mark.parametrize(
    ("note", "concept"),
    [
        ("Maja Eriksson suggested I reach out about the pump project.", "referral"),
        ("Anna Berg hat mir empfohlen, Sie zu kontaktieren.", "referral"),
        ("We both studied at Politecnico di Milano, same year.", "shared"),
        ("Ho letto il tuo articolo sulla logistica inversa.", "content"),
        ("Great chatting at the booth yesterday!", "past_interaction"),
        ("Olemme tavanneet messuilla viime viikolla.", "event"),
        # Thanks for a real meeting is a past interaction; thanks for one's time is courtesy (below).
        ("Tack för samtalet i fredags om lagerrobotarna!", "past_interaction"),
        ("Merci pour l'échange de ce matin sur le salon VivaTech.", "past_interaction"),
        ("Grazie per la chiacchierata di ieri al convegno.", "past_interaction"),
        ("We supply smart water meters to utilities in 40 countries.", "pitch_offer"),
        ("Zarabiaj z domu, pasywny dochód każdego dnia!", "money_scheme"),
        (
            "Je recrute pour plusieurs postes passionnants, êtes-vous ouvert à de nouvelles opportunités ?",
            "recruiting_vague",
        ),
    ],
)
def test_a_cue_in_each_language_finds_its_concept(note: str, concept: str) -> None:
    assert concept in concepts(note), concepts(note)


@pytest.mark.parametrize(
    "note",
    [
        "Hi Joe, would love to connect!",
        "Looking forward to connecting. Best regards, Tom",
        "Hallo Jonas, würde mich freuen, uns zu vernetzen!",
        "Bonjour, ravi de rejoindre votre réseau.",
    ],
)
def test_courtesy_alone_names_no_concept(note: str) -> None:
    assert not concepts(note) & set(GENUINE_CONCEPTS), concepts(note)


def test_no_courtesy_of_the_corpus_material_names_a_context() -> None:
    # Courtesy is said to anyone ("Bonne journée", "Tack för din tid!", "Thanks for your time"):
    # a context cue that fires on it would make courtesy a reason to connect.
    material = json.loads((ROOT / "data" / "material" / "material.json").read_text(encoding="utf-8"))["courtesy"]
    pieces = [
        piece.format(name="Ana", sender="Eva")
        for parts in material.values()
        for part in ("greetings", "openers", "closers", "signoffs")
        for piece in parts[part]
    ]
    assert len(pieces) >= 1000
    named = [(piece, concepts(piece) & set(GENUINE_CONCEPTS)) for piece in pieces]
    assert not [item for item in named if item[1]]


def test_each_concept_leans_the_way_the_guide_says_on_the_training_split(corpus) -> None:
    # Checked on the training split only; a concept whose notes were mostly of
    # the other label would teach the model the opposite of the guide.
    train = [i for i, s in enumerate(corpus.columns["split"]) if s == "train"]
    canon = [normalize_one(corpus.messages[i])[0] for i in train]
    spam = np.asarray([corpus.labels[i] == "spam" for i in train])
    counts = cue_counts(canon) > 0
    for j, name in enumerate(CUE_NAMES):
        hits = counts[:, j]
        assert hits.sum() >= 50, name
        # Balanced for the label sizes: the share of each label's notes that match.
        share = hits[spam].mean() / (hits[spam].mean() + hits[~spam].mean())
        if name in GENUINE_CONCEPTS:
            assert share < 0.5, (name, share)
        else:
            assert share > 0.5, (name, share)


def test_no_context_marks_notes_without_a_reason_and_meets_the_count() -> None:
    notes = ["Hello, hope you are well, happy to connect!", "We met at the Nordic AI meetup in Oslo.", ""]
    batch = prepare(notes, np.array([np.nan, np.nan, 3.0]))
    dense = dense_features(batch, np.zeros(3), np.zeros(3), np.zeros(3))
    column = {name: dense[:, i] for i, name in enumerate(DENSE_NAMES)}
    assert column["no_context"].tolist() == [1.0, 0.0, 0.0]  # an empty note is "empty", not "no context"
    assert column["no_context_x_mutual_unknown"].tolist() == [1.0, 0.0, 0.0]
    one = dense_features(batch.take(np.array([0])), np.zeros(1), np.zeros(1), np.zeros(1))
    assert np.array_equal(one[0], dense[0])


def test_many_shared_connections_go_to_pitches_and_other_notes_apart() -> None:
    notes = ["Hello, hope you are well, happy to connect!", "We help CFOs close their books 40% faster. Demo?", ""]
    counts = [None, 0, 5, 10, 60]
    batch = prepare([n for n in notes for _ in counts], np.array([np.nan if c is None else c for c in counts] * 3))
    pitch = np.repeat([0.25, 0.875, 0.5], len(counts))  # the first stage's probabilities, given
    dense = dense_features(batch, np.zeros(len(batch)), np.zeros(len(batch)), pitch)
    many = np.array([0.0, 0.0, 0.0, 1.0, 1.0] * 3)
    assert dense[:, DENSE_NAMES.index("pitch_x_mutual_10_plus")].tolist() == (pitch * many).tolist()
    assert dense[:, DENSE_NAMES.index("no_pitch_x_mutual_10_plus")].tolist() == ((1 - pitch) * many).tolist()


def test_the_count_columns_are_the_guides_bands() -> None:
    counts = [None, 0, 1, 5, 6, 9, 10, 49, 50, 10_000]
    mutual = np.array([np.nan if c is None else c for c in counts])
    batch = prepare(["Hi, I'd like to connect."] * len(counts), mutual)
    similarity = np.linspace(0.1, 1.0, len(counts))
    dense = dense_features(batch, similarity, np.zeros(len(counts)), np.zeros(len(counts)))
    column = {name: dense[:, i] for i, name in enumerate(DENSE_NAMES)}
    known = ~np.isnan(mutual)
    m = np.where(known, mutual, 0)
    bands = {
        "mutual_unknown": ~known,
        "mutual_0": known & (m == 0),
        "mutual_1_5": known & (m >= 1) & (m <= 5),
        "mutual_6_9": known & (m >= 6) & (m <= 9),
        "mutual_10_49": known & (m >= 10) & (m <= 49),
        "mutual_50_plus": known & (m >= 50),
    }
    for name, expected in bands.items():
        assert column[name].tolist() == expected.astype(float).tolist(), name
    assert column["mutual_log1p"].tolist() == np.log1p(m).tolist()
    generic = column["generic"]
    assert generic.tolist() == similarity.tolist()
    assert column["generic_x_mutual_log1p"].tolist() == (generic * np.log1p(m)).tolist()
    assert column["generic_x_mutual_10_plus"].tolist() == (generic * (known & (m >= 10))).tolist()
    assert column["generic_x_mutual_0_5"].tolist() == (generic * (known & (m <= 5))).tolist()
    assert column["generic_x_mutual_unknown"].tolist() == (generic * ~known).tolist()
    no_context = column["no_context"]
    assert no_context.tolist() == [1.0] * len(counts)
    assert column["no_context_x_mutual_0_5"].tolist() == (known & (m <= 5)).astype(float).tolist()
    assert column["no_context_x_mutual_10_plus"].tolist() == (known & (m >= 10)).astype(float).tolist()


def _reference_cue_counts(canon: list[str]) -> np.ndarray:
    """The plain scan: every phrase that starts with a word is tried there, longest first."""
    from invitecls._cues import _cue_index

    index = _cue_index()

    def concepts_of(word: str) -> list[int]:
        # Whole-word cues, and cues that start the word.
        hits = set(index.words.get(word, ()))
        for end in range(1, len(word) + 1):
            hits.update(index.prefixes.get(word[:end], ()))
        return sorted(hits)

    flat = {
        first: sorted(
            [*f.any_word, *(p for v in f.exact.values() for p in v), *(p for v in f.prefix.values() for p in v)],
            key=lambda phrase: -len(phrase[0]),
        )
        for first, f in index.phrases.items()
    }
    out = np.zeros((len(canon), len(CUE_NAMES)))
    for row, text in enumerate(canon):
        tokens = text.split(" ") if text else []
        counts, free = [0] * len(CUE_NAMES), [0] * len(CUE_NAMES)
        for i, token in enumerate(tokens):
            for concept in concepts_of(token):
                if i >= free[concept]:
                    counts[concept], free[concept] = counts[concept] + 1, i + 1
            for parts, last_is_prefix, concept in flat.get(token, ()):
                size = len(parts)
                if i < free[concept] or i + size > len(tokens):
                    continue
                last = tokens[i + size - 1]
                if not (parts[-1] == "*" or (last.startswith(parts[-1]) if last_is_prefix else last == parts[-1])):
                    continue
                if all(p == "*" or p == tokens[i + k] for k, p in enumerate(parts[1:-1], start=1)):
                    counts[concept], free[concept] = counts[concept] + 1, i + size
        out[row] = [math.log1p(c) for c in counts]
    return out


def test_the_indexed_matcher_equals_the_plain_scan_on_the_corpus(corpus) -> None:
    canon = sorted({normalize_one(m)[0] for m in corpus.messages[::5]})
    np.testing.assert_array_equal(cue_counts(canon), _reference_cue_counts(canon))


def test_counts_past_the_table_of_logarithms() -> None:
    from invitecls._cues import _cue_index

    word = sorted(_cue_index().words)[0]  # a whole-word cue: each repeat is one match
    canon = [" ".join([word] * n) for n in (1, 63, 64, 200)]
    np.testing.assert_array_equal(cue_counts(canon), _reference_cue_counts(canon))
    assert cue_counts(canon).max() == math.log1p(200)


def test_the_indexed_matcher_equals_the_plain_scan_on_cue_words_in_any_order() -> None:
    # Notes made of the cues' own words (and bits of them), shuffled: where phrases meet, overlap and nest.
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from invitecls._cues import _cue_index

    index = _cue_index()
    vocabulary = sorted(
        {w for first, f in index.phrases.items() for v in f.exact.values() for p in v for w in p[0] if w != "*"}
        | {w[: max(1, len(w) - 2)] for first in index.phrases for w in [first]}
        | {k for f in index.phrases.values() for k in f.prefix}
    )
    words = st.sampled_from(vocabulary[:: max(1, len(vocabulary) // 3000)] + list(index.phrases)[:400])

    @settings(max_examples=120, deadline=None, derandomize=True)
    @given(st.lists(st.lists(words, min_size=1, max_size=14).map(" ".join), min_size=1, max_size=5))
    def check(canon: list[str]) -> None:
        np.testing.assert_array_equal(cue_counts(canon), _reference_cue_counts(canon))

    check()
