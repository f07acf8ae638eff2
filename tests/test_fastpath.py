"""The one prediction path: the numpy TF-IDF equals scikit-learn's on any text; reasons wait until read."""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from invitecls import _api, _explain, _fast, classify, classify_many
from invitecls._api import GATHER_LATE_MAX, _resolve
from invitecls._cues import CUE_NAMES, PITCH_CONCEPTS, PITCH_FEATURE_CONCEPTS, cue_counts
from invitecls._fast import (
    CharTable,
    WordTable,
    char_block,
    char_tfidf,
    side_by_side,
    unseen_share,
    word_block,
    word_tfidf,
)
from invitecls._features import WordAnalyzer
from invitecls._prepare import DENSE_NAMES, dense_features, prepare

# Fixed examples, no database: the same couple of seconds on every run.
SETTINGS = settings(
    max_examples=60, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Pieces that normalisation and the n-gram windows must survive: odd characters,
# long runs, emoji (joined, flagged, skin-toned), combining marks, every kind of
# space, controls and NUL, look-alike letters, and plain words the vocabulary knows.
PIECES = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.text(alphabet=st.characters(categories=["Mn", "Me", "Cf", "Zs", "Cc"]), max_size=8),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\t\n\r\u3000\u00a0\u2028",
            "e\u0301",
            "\u0410\u0412\u0421",  # Cyrillic look-alikes of "ABC"
            "👩‍💻",
            "🇩🇰",
            "👍🏽",
            "🙂" * 40,
            "a" * 300,
            "ha" * 120,
            "!!!???",
            "https://example.com/x?y=1",
            "Hi Anders, I'd like to connect with you on LinkedIn.",
            "Great meeting you at PyData Berlin! Could I ask about your talk?",
            "We help CFOs cut close time by 40%. 15 minutes next week?",
        ]
    ),
)
NOTES = st.lists(PIECES, max_size=6).map("".join)
BATCHES = st.lists(NOTES, min_size=1, max_size=5)


@pytest.fixture(scope="module")
def reference(shipped):
    """The shipped model's scikit-learn vectorizers (the reference) and the fast path's tables."""
    features = shipped.features_
    words, chars = features._fast_tables()
    return features.word_vectorizer_, features.char_vectorizer_, words, chars


def same_matrix(fast, slow) -> None:
    assert fast.shape == slow.shape
    np.testing.assert_array_equal(fast.indptr, slow.indptr)
    np.testing.assert_array_equal(fast.indices, slow.indices)
    np.testing.assert_array_equal(fast.data, slow.data)


@SETTINGS
@given(BATCHES)
def test_the_fast_tfidf_equals_scikit_learns_on_any_text(reference, notes: list[str]) -> None:
    word_vectorizer, char_vectorizer, words, chars = reference
    batch = prepare(notes, np.full(len(notes), np.nan))
    # What the fast path relies on: normalisation leaves no NUL (the separator
    # of a batch) and no run of whitespace (which scikit-learn would fold).
    assert not any("\x00" in text or "  " in text or text != " ".join(text.split()) for text in batch.canon)
    same_matrix(char_tfidf(chars, batch.canon), char_vectorizer.transform(batch.canon))
    same_matrix(word_tfidf(words, batch.stems), word_vectorizer.transform(batch.stems))
    # One note alone takes the same path as a batch, and gets the same row.
    for i in range(len(notes)):
        same_matrix(char_tfidf(chars, batch.canon[i : i + 1]), char_vectorizer.transform(batch.canon[i : i + 1]))


@SETTINGS
@given(BATCHES)
def test_the_cues_matched_while_preparing_are_cue_counts(notes: list[str]) -> None:
    batch = prepare(notes, np.zeros(len(notes)))
    np.testing.assert_array_equal(batch.cues, cue_counts(batch.canon))


@pytest.mark.parametrize("radix_min", [0, 10**9])
def test_both_sorts_of_pairs_give_scikit_learns_matrices(reference, monkeypatch, radix_min: int) -> None:
    """Many pairs are sorted by radix (0: always), few as 64-bit keys (10**9: always)."""
    monkeypatch.setattr(_fast, "_RADIX_MIN", radix_min)
    word_vectorizer, char_vectorizer, words, chars = reference
    batch = prepare(["Hi Anders, I'd like to connect.", "", "Great meeting you at PyData Berlin!"], np.zeros(3))
    same_matrix(char_tfidf(chars, batch.canon), char_vectorizer.transform(batch.canon))
    same_matrix(word_tfidf(words, batch.stems), word_vectorizer.transform(batch.stems))


def test_no_n_gram_runs_across_two_notes_of_a_batch(reference) -> None:
    _, char_vectorizer, _, chars = reference
    # Joined, the halves would spell n-grams of the vocabulary ("ell", "llo", "lo ").
    notes = ["hel", "lo there", "connect with yo", "u on linkedin"]
    assert {"llo", "you", "u o"} <= set(char_vectorizer.vocabulary_)
    same_matrix(char_tfidf(chars, notes), char_vectorizer.transform(notes))


def test_an_empty_batch_and_empty_notes(reference) -> None:
    word_vectorizer, char_vectorizer, words, chars = reference
    assert char_tfidf(chars, []).shape == (0, chars.n_features) and word_tfidf(words, []).nnz == 0
    for notes in ([""], ["", "", "hi"], ["ab"]):
        same_matrix(char_tfidf(chars, notes), char_vectorizer.transform(notes))
        stems = [n.split() for n in notes]
        same_matrix(word_tfidf(words, stems), word_vectorizer.transform(stems))


# Stems as the fast path may meet them: empty (a stemmer may return ""), repeated,
# beyond the Basic Multilingual Plane, or the placeholders of masked spans.
STEMS = st.lists(
    st.sampled_from(["", "a", "ab", "meet", "you", "\U0001d518nicod", "\u00e6bl", "_name_", "1"]), max_size=9
)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 3), (2, 3), (3, 5), (1, 11)])
@SETTINGS
@given(fitted_on=st.lists(STEMS, min_size=1, max_size=8), notes=st.lists(STEMS, min_size=1, max_size=6))
def test_word_n_grams_of_any_range_equal_scikit_learns(
    ngram_range: tuple[int, int], fitted_on: list[list[str]], notes: list[list[str]]
) -> None:
    vectorizer = TfidfVectorizer(analyzer=WordAnalyzer(ngram_range), sublinear_tf=True)
    try:
        vectorizer.fit(fitted_on)
    except ValueError:  # no n-gram at all: an empty vocabulary
        return
    table = WordTable.from_vectorizer(vectorizer)
    same_matrix(word_tfidf(table, notes), vectorizer.transform(notes))
    # The share of unseen words, read from the lookups of single words (or, without them, counted).
    np.testing.assert_array_equal(word_block(table, notes)[1], unseen_share(vectorizer.vocabulary_, notes))


@pytest.mark.parametrize("ngram_range", [(1, 1), (9, 12)])
@SETTINGS
@given(fitted_on=st.lists(NOTES, min_size=1, max_size=6), notes=BATCHES)
def test_character_n_grams_of_any_range_equal_scikit_learns(
    ngram_range: tuple[int, int], fitted_on: list[str], notes: list[str]
) -> None:
    canon = prepare(notes, np.zeros(len(notes))).canon
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=ngram_range, lowercase=False, sublinear_tf=True)
    try:
        vectorizer.fit(prepare(fitted_on, np.zeros(len(fitted_on))).canon)
    except ValueError:  # no n-gram at all: an empty vocabulary
        return
    same_matrix(char_tfidf(CharTable.from_vectorizer(vectorizer), canon), vectorizer.transform(canon))


def test_a_word_table_sent_to_another_process_hashes_there(reference) -> None:
    """Stems are hashed with Python's string hash, which each process seeds anew."""
    _, _, words, _ = reference
    stems = [["great", "meet", "you"], [], ["thank", "you", "for", "connect"]]
    here = word_tfidf(words, stems)  # the table's hashes are computed in this process
    code = (
        "import pickle, sys\n"
        "from invitecls._fast import word_tfidf\n"
        "table, stems = pickle.load(sys.stdin.buffer)\n"
        "pickle.dump(word_tfidf(table, stems), sys.stdout.buffer)\n"
    )
    there = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps((words, stems)),
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": str(hash("seed") % 4_000_000_000 + 1)},
    )
    assert here.nnz > 0
    same_matrix(pickle.loads(there.stdout), here)


def table_of(hashes: list[int]) -> CharTable:
    """A vocabulary of the given hashes, the i-th in column i."""
    n = len(hashes)
    return CharTable(np.array(hashes, np.uint64), np.arange(n), n, (1, 1), _fast._Tfidf(np.ones(n), False, False))


# Hashes whose top bits (their first slot) fall on a few values crowd the table:
# terms move to their second slots and evict each other.
CROWDED = st.one_of(
    st.tuples(st.integers(0, 3), st.integers(0, 2**24)).map(lambda t: t[0] << 62 | t[1]),
    st.integers(0, 2**64 - 1),
)


@SETTINGS
@given(hashes=st.lists(CROWDED, min_size=1, max_size=60), others=st.lists(CROWDED, max_size=30))
def test_the_vocabulary_table_finds_each_term_and_nothing_else(hashes: list[int], others: list[int]) -> None:
    expected: dict[int, int] = {}
    for column, h in enumerate(hashes):
        expected.setdefault(h, column)  # a hash twice: the first term's column
    queries = hashes + others + [0]
    found = _fast._lookup(table_of(hashes), np.array(queries, np.uint64))
    assert found.tolist() == [expected.get(h, -1) for h in queries]


def terms_by_second_slot() -> dict[int, list[int]]:
    """Hashes 1 to 9,999 (first slot 0 in the smallest table, of 16 slots) by their second slot there."""
    by_second: dict[int, list[int]] = {}
    for h in range(1, 10_000):
        by_second.setdefault(int(_fast._second_slot(np.array([h], np.uint64), np.uint64(60))[0]), []).append(h)
    return by_second


def test_a_term_evicted_moves_to_its_other_slot() -> None:
    """1 takes slot 0 first; two terms share slot 0 and a second slot: the last evicts 1 to 1's second slot."""
    by_second = terms_by_second_slot()
    of_one = next(slot for slot, hashes in by_second.items() if 1 in hashes)
    pair = next(hashes[:2] for slot, hashes in by_second.items() if slot != of_one and len(hashes) >= 2)
    table = table_of([1, *pair])
    assert _fast._lookup(table, np.array([1, *pair, 10_001], np.uint64)).tolist() == [0, 1, 2, -1]
    assert _fast._slots(table)[2] == 4  # settled without growing


def test_a_table_whose_evictions_run_in_a_cycle_grows() -> None:
    """Three terms with one first slot and one second slot: two slots cannot hold them."""
    three = next(hashes[:3] for hashes in terms_by_second_slot().values() if len(hashes) >= 3)
    table = table_of(three)
    assert _fast._lookup(table, np.array([*three, 10_001], np.uint64)).tolist() == [0, 1, 2, -1]
    assert _fast._slots(table)[2] > 4


@SETTINGS
@given(notes=BATCHES, picks=st.lists(st.integers(0, 4), max_size=7))
def test_rows_taken_from_a_block_are_scipys_rows(reference, notes: list[str], picks: list[int]) -> None:
    _, _, _, chars = reference
    block = char_block(chars, prepare(notes, np.zeros(len(notes))).canon)
    rows = np.array([p % len(notes) for p in picks], dtype=np.int64)  # repeats, any order, or none
    taken = block.take(rows)
    same_matrix(taken.to_csr(), block.to_csr()[rows])
    np.testing.assert_array_equal(taken.rows, np.repeat(np.arange(len(rows)), np.diff(taken.indptr)))


@SETTINGS
@given(BATCHES)
def test_the_assembled_rows_are_scipys_hstack(notes: list[str]) -> None:
    model = _resolve(None)
    features = model.features(prepare(notes, np.full(len(notes), np.nan)))
    blocks = [features.words.to_csr(), features.chars.to_csr(), sp.csr_matrix(features.dense)]
    same_matrix(side_by_side([features.words, features.chars], features.dense).to_csr(), sp.hstack(blocks, "csr"))


@SETTINGS
@given(BATCHES)
def test_log_odds_are_the_sparse_products_to_the_last_bit(shipped, notes: list[str]) -> None:
    """Scoring adds each row's entries without building a scipy matrix, and gets scipy's sums, bit for bit."""
    model = _resolve(None)
    features = model.features(prepare(notes, np.full(len(notes), np.nan)))
    log_odds = model.decision_function(features.assembled)
    np.testing.assert_array_equal(log_odds, np.asarray(features.matrix @ model.coef.T).ravel() + model.intercept)
    np.testing.assert_array_equal(log_odds, shipped.decision_function(notes))  # scikit-learn's own path
    np.testing.assert_array_equal(model.decision_function(features.matrix), log_odds)


# ------------------------------------------------------------ reasons


NOTE = "We help CFOs cut close time by 40%. 15 minutes next week?"


@pytest.fixture
def explained(monkeypatch):
    """Count the chunks explained."""
    calls = []
    real = _explain.reasons_of

    def counting(evidence):
        calls.append(len(evidence))
        return real(evidence)

    monkeypatch.setattr(_explain, "reasons_of", counting)
    return calls


def test_reasons_are_explained_when_first_read_once_per_chunk(explained) -> None:
    predictions = classify_many([NOTE, "hi", ""] * 3, [0, None, 5] * 3)
    assert explained == []  # classified, nothing explained yet
    first = predictions[4].reasons
    assert explained == [9]  # the whole chunk at once
    assert [p.reasons for p in predictions] and explained == [9]
    assert first is predictions[4].reasons and first == classify("hi", None).reasons
    assert classify_many([NOTE], reasons=False)[0].reasons == () and explained == [9, 1]


def test_reasons_read_late_are_the_reasons_read_at_once(explained) -> None:
    notes, counts = [NOTE, "hi", "", "Great talk at PyData!"], [0, None, 5, 2]
    late = classify_many(notes, counts)
    eager = [classify(n, c) for n, c in zip(notes, counts)]
    for prediction in eager:
        assert prediction.reasons  # read at once
    assert late == eager
    assert [p.to_dict() for p in late] == [p.to_dict() for p in eager]
    # And both are what explaining the batch in one go gives.
    model = _resolve(None)
    batch = prepare(notes, np.array([np.nan if c is None else c for c in counts], dtype=float))
    features = model.features(batch)
    labels = model.labels(model.predict_proba(features.matrix))
    assert _explain.explain(model, features, labels, batch) == [p.reasons for p in late]


def test_reasons_read_from_many_threads_are_explained_once(explained) -> None:
    predictions = classify_many([NOTE, "hi", "Great talk at PyData!"] * 50)
    start = threading.Barrier(8)
    seen: list[list[tuple[str, ...]]] = []

    def read() -> None:
        start.wait()
        seen.append([p.reasons for p in predictions])

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert explained == [150]
    assert all(all(a is b for a, b in zip(reasons, seen[0])) for reasons in seen)


def test_a_prediction_pickles_copies_and_replaces_with_its_reasons(explained) -> None:
    prediction = classify(NOTE, 0)
    restored = pickle.loads(pickle.dumps(prediction))
    assert explained == [1]  # pickling reads the reasons: what travels is plain data
    assert restored == prediction and restored.reasons == prediction.reasons and restored.reasons
    assert copy.copy(prediction).reasons is prediction.reasons
    assert dataclasses.replace(prediction, reasons=()).reasons == ()
    assert dataclasses.asdict(prediction)["reasons"] == prediction.reasons
    assert "reasons=(" in repr(classify("hi", 3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        prediction.reasons = ()  # type: ignore[misc]


def test_a_few_notes_are_weighed_when_read_a_large_chunk_as_it_is_classified(monkeypatch) -> None:
    """A single note keeps its features until its reasons are read (cheap); a large chunk only their gist."""
    gathered: list[int] = []
    real = _api.gather
    monkeypatch.setattr(
        _api,
        "gather",
        lambda model, features, labels, batch, *rest: (
            gathered.append(len(batch)) or real(model, features, labels, batch, *rest)
        ),
    )
    one = classify(NOTE, 0)
    assert gathered == []
    assert one.reasons == classify_many([NOTE] * (GATHER_LATE_MAX + 1), [0] * (GATHER_LATE_MAX + 1))[-1].reasons
    assert gathered == [1, GATHER_LATE_MAX + 1]  # the large chunk was weighed before anything was read


def test_an_explained_chunk_lets_go_of_its_evidence() -> None:
    prediction = classify(NOTE, 0)
    pending = type(prediction).reasons.slot.__get__(prediction)  # the stored value, unread
    assert pending.chunk._evidence is not None
    assert prediction.reasons
    assert pending.chunk._evidence is None
    assert type(prediction).reasons.slot.__get__(prediction) is prediction.reasons  # no longer tied to the chunk


# ------------------------------------------------------------- pitches


def test_the_two_pitch_sets_differ_by_scam_stories_only_and_on_purpose() -> None:
    """The model's pitch feature was fitted without scam stories; the export's evidence counts them."""
    from invitecls._history import PITCH_CONCEPTS as HISTORY_PITCH
    from invitecls._history import is_pitch

    assert HISTORY_PITCH == PITCH_CONCEPTS == (*PITCH_FEATURE_CONCEPTS, "scam_story")
    # A scam story beside a shared context: a pitch for the evidence, no pitch for the feature.
    note = "We met at the PyData conference. I write about the dormant account of a late client with your surname."
    batch = prepare([note], np.array([np.nan]))
    found = {name for name, value in zip(CUE_NAMES, batch.cues[0]) if value}
    assert found == {"event", "past_interaction", "scam_story"}
    assert is_pitch(note)
    assert dense_features(batch, np.zeros(1), np.zeros(1), np.zeros(1))[0, DENSE_NAMES.index("pitch_x_context")] == 0.0
