"""A fitted model compiled for prediction: numpy arrays, no scikit-learn, no pickle.

``CompiledModel`` holds what prediction needs of a fitted ``InviteClassifier``
(vocabularies, IDF weights, template matrix, the first stage's and the
logistic regression's coefficients, thresholds) and
computes the same probabilities as the estimator's scikit-learn path, entry for
entry. It is what ``classify`` and ``classify_many`` run: it loads in a
fraction of a second from a ``.npz`` archive read with ``allow_pickle=False``
(so loading it runs no code), and it never imports scikit-learn.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from invitecls._fast import (
    CharTable,
    SparseRows,
    WordTable,
    _Tfidf,
    char_block,
    nearest_template,
    pitch_probability,
    row_sums,
    side_by_side,
    template_scores,
    templates_by_feature,
    word_block,
)
from invitecls._normalize import SIGNAL_NAMES, mostly_disguised
from invitecls._prepare import DENSE_INDEX, DENSE_NAMES, Batch, dense_features
from invitecls._templates import Template
from invitecls._tokenize import seed_stems
from invitecls._validation import AMBIGUOUS_BAND

if TYPE_CHECKING:
    from invitecls._model import InviteClassifier

__all__ = ["COMPILED_FORMAT", "KNOWN_SENDER_COUNT", "CompiledModel", "Features"]

COMPILED_FORMAT = 1
#: A shared-connection count that marks the sender as someone the recipient
#: knows (the guide's threshold is 10; colleagues typically share dozens).
KNOWN_SENDER_COUNT = 50


def _expit(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(z)  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class Features:
    """A batch's features: the matrix the model reads, and its blocks as they were before assembly."""

    assembled: SparseRows  # the matrix's entries, row by row
    words: SparseRows
    chars: SparseRows
    dense: np.ndarray  # zeros included, in DENSE_NAMES order
    similarity: np.ndarray  # to the nearest template
    best: np.ndarray  # the index of that template
    pitch: np.ndarray  # the first stage's probability of a pitch

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """The feature matrix as scipy's (built when first read: scoring needs only ``assembled``)."""
        return self.assembled.to_csr()


_ACTIONS = np.array(["accept", "ask", "decline"], dtype=object)


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """Everything prediction needs of a fitted ``InviteClassifier``."""

    classes: tuple[str, ...]
    default_task: bool
    threshold: float
    accept_threshold: float | None
    decline_threshold: float | None
    words: WordTable
    chars: CharTable
    word_names: tuple[str, ...]
    templates: tuple[Template, ...]
    template_matrix: sp.csr_matrix
    coef: np.ndarray
    intercept: np.ndarray
    pitch_coef: np.ndarray  # the first stage (``InviteFeatures.pitch_coef_``)
    pitch_intercept: float
    surface: dict[str, str]
    stems: dict[str, dict[str, str]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"CompiledModel(classes={self.classes}, threshold={self.threshold:.3f}, "
            f"n_word_features={self.n_word_features}, n_char_features={self.n_char_features})"
        )

    # ------------------------------------------------------------- build

    @classmethod
    def from_estimator(cls, model: InviteClassifier) -> CompiledModel:
        """Compile a fitted ``InviteClassifier``."""
        features = model.features_
        words, chars = features._fast_tables()
        names = features.word_vectorizer_.get_feature_names_out()
        return cls(
            classes=tuple(str(c) for c in model.classes_),
            default_task=bool(model.is_default_task_),
            threshold=float(model.threshold_),
            accept_threshold=None if model.accept_threshold_ is None else float(model.accept_threshold_),
            decline_threshold=None if model.decline_threshold_ is None else float(model.decline_threshold_),
            words=words,
            chars=chars,
            word_names=tuple(str(n) for n in names),
            templates=tuple(features.templates_),
            template_matrix=sp.csr_matrix(features.template_matrix_),
            coef=np.asarray(model.logreg_.coef_, dtype=np.float64),
            intercept=np.asarray(model.logreg_.intercept_, dtype=np.float64),
            pitch_coef=np.asarray(features.pitch_coef_, dtype=np.float64),
            pitch_intercept=float(features.pitch_intercept_),
            surface=dict(model.surface_),
            stems={k: dict(v) for k, v in getattr(model, "stems_", {}).items()},
        )

    @property
    def n_word_features(self) -> int:
        """Columns of the word block."""
        return len(self.words.vocabulary)

    @property
    def n_char_features(self) -> int:
        """Columns of the character block."""
        return self.chars.n_features

    # ----------------------------------------------------------- predict

    def prepare_stems(self) -> None:
        """Put the training words' stems in the stem cache: their notes need no nltk."""
        if self.stems:
            seed_stems(self.stems)

    def transform(self, batch: Batch) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Feature matrix, template similarity and nearest template of a batch (of one note or many)."""
        features = self.features(batch)
        return features.matrix, features.similarity, features.best

    def features(self, batch: Batch) -> Features:
        """``transform``, with the blocks that explaining reads."""
        words, unseen = word_block(self.words, batch.stems)
        chars = char_block(self.chars, batch.canon)
        scores = template_scores(chars.rows, chars.indices, chars.data, len(batch), self.templates_by_feature)
        similarity, best = nearest_template(scores)
        pitch = pitch_probability(words, chars, self.pitch_coef, self.pitch_intercept)
        dense = dense_features(batch, similarity, unseen, pitch)
        return Features(side_by_side([words, chars], dense), words, chars, dense, similarity, best, pitch)

    @property
    def templates_by_feature(self) -> sp.csr_matrix:
        """The template matrix transposed (features x templates), computed once."""
        cached: sp.csr_matrix | None = getattr(self, "_templates_t", None)
        if cached is None:
            cached = templates_by_feature(self.template_matrix)
            object.__setattr__(self, "_templates_t", cached)  # a cache, not a field
        return cached

    @property
    def template_displays(self) -> tuple[str, ...]:
        """Each template's ``display`` text, computed once (every prediction shares these strings)."""
        cached: tuple[str, ...] | None = getattr(self, "_displays", None)
        if cached is None:
            cached = tuple(template.display for template in self.templates)
            object.__setattr__(self, "_displays", cached)  # a cache, not a field
        return cached

    def decision_function(self, matrix: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Log-odds, as the logistic regression computes them (to the last bit)."""
        if len(self.coef) == 1:
            binary: np.ndarray = row_sums(matrix, self.coef[0]) + self.intercept[0]
            return binary
        return np.column_stack([row_sums(matrix, coef) + b for coef, b in zip(self.coef, self.intercept)])

    def predict_proba(self, matrix: sp.csr_matrix | SparseRows) -> np.ndarray:
        """Class probabilities, with the logistic regression's own arithmetic."""
        decision = self.decision_function(matrix)
        if decision.ndim == 1:
            p = _expit(decision)
            binary: np.ndarray = np.vstack([1 - p, p]).T
            return binary
        shifted = decision - decision.max(axis=1).reshape(-1, 1)
        exp = np.exp(shifted)
        softmax: np.ndarray = exp / exp.sum(axis=1).reshape(-1, 1)
        return softmax

    def labels(self, proba: np.ndarray) -> np.ndarray:
        """Labels, applying the stored threshold to a binary task."""
        chosen: np.ndarray = np.asarray(self.classes, dtype=object)[self.label_indices(proba)]
        return chosen

    def label_indices(self, proba: np.ndarray) -> np.ndarray:
        """``labels`` as indices into ``classes``."""
        if len(self.classes) == 2:
            return (proba[:, 1] >= self.threshold).astype(np.intp)
        chosen: np.ndarray = np.argmax(proba, axis=1)
        return chosen

    def actions(self, batch: Batch, features: Features, proba: np.ndarray) -> tuple[list[str | None], np.ndarray]:
        """``accept``, ``ask`` or ``decline`` per note (None outside the default task), and which rest on the count.

        Below the accept threshold a note is accepted, from the decline
        threshold on it is declined, in between the user is advised to ask why
        the sender wants to connect. When the count is unknown, or in the
        labelling guide's ambiguous band (6 to 9), and the note would be
        genuine from someone sharing many connections (a generic note, or no
        note), the verdict rests on the count, not on the text: such a note is
        never declined, only asked about. A note whose letters are mostly
        disguised (``mostly_disguised``) is never accepted: asked about at best.
        The second array marks the notes asked about, not declined, because
        their verdict rests on the count: their reasons say so.
        """
        on_count = np.zeros(len(proba), dtype=bool)
        if not self.default_task:
            return [None] * len(proba), on_count
        p = proba[:, 1]
        # Numbers compared, then one lookup of the words: cheaper than choosing among strings.
        choice = np.where(p >= self.decline_threshold, 2, (p >= self.accept_threshold).astype(np.intp))
        actions = _ACTIONS[choice]
        unsure_count = np.isnan(batch.mutual) | (
            (batch.mutual >= AMBIGUOUS_BAND[0]) & (batch.mutual <= AMBIGUOUS_BAND[1])
        )
        rows = np.flatnonzero(unsure_count & (actions == "decline"))
        if len(rows):
            known = batch.take(rows)
            known.mutual = np.full(len(rows), float(KNOWN_SENDER_COUNT))
            n_dense = len(DENSE_NAMES)
            current = features.dense[rows]
            # Each row's log-odds is its own sum: the same whichever other rows are computed with it.
            logit = self.decision_function(features.assembled.take(rows))
            counterfactual = dense_features(
                known,
                current[:, DENSE_INDEX["template_similarity"]],
                current[:, DENSE_INDEX["unseen_words"]],
                features.pitch[rows],
            )
            shifted = logit + (counterfactual - current) @ self.coef[0, -n_dense:]
            rests_on_count = _expit(np.asarray(shifted).reshape(-1)) < self.threshold
            actions[rows[rests_on_count]] = "ask"
            on_count[rows[rests_on_count]] = True
        hidden = batch.signals[:, SIGNAL_NAMES.index("n_invisible")]
        for row in np.flatnonzero(hidden >= 1):
            if actions[row] == "accept" and mostly_disguised(hidden[row], batch.canon[row]):
                actions[row] = "ask"
        return list(actions), on_count

    # ----------------------------------------------------------- storage

    def save(self, path: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write the model as a compressed ``.npz`` archive of plain arrays (a path or a binary file)."""
        meta = {
            "format": COMPILED_FORMAT,
            "classes": list(self.classes),
            "default_task": self.default_task,
            "threshold": self.threshold,
            "accept_threshold": self.accept_threshold,
            "decline_threshold": self.decline_threshold,
            "word_ngram_range": list(self.words.ngram_range),
            "char_ngram_range": list(self.chars.ngram_range),
            "n_char_features": self.chars.n_features,
            "word_tfidf": {"sublinear_tf": self.words.tfidf.sublinear_tf, "l2": self.words.tfidf.l2},
            "char_tfidf": {"sublinear_tf": self.chars.tfidf.sublinear_tf, "l2": self.chars.tfidf.l2},
            "templates": [[t.kind, t.lang, t.text] for t in self.templates],
            "template_shape": list(self.template_matrix.shape),
            "pitch_intercept": self.pitch_intercept,
            "surface": self.surface,
            "stems": self.stems,
        }
        vocabulary = sorted(self.words.vocabulary.items(), key=lambda kv: kv[1])
        arrays = {
            "meta": _text(json.dumps(meta, ensure_ascii=False)),
            "word_terms": _text("\n".join(term for term, _ in vocabulary)),
            "word_names": _text("\n".join(self.word_names)),
            "word_idf": self.words.tfidf.idf,
            "char_terms": _text("\n".join(self.chars.terms)),
            "char_hashes": self.chars.hashes,
            "char_columns": self.chars.columns,
            "char_idf": self.chars.tfidf.idf,
            "template_data": self.template_matrix.data,
            "template_indices": self.template_matrix.indices,
            "template_indptr": self.template_matrix.indptr,
            "coef": self.coef,
            "intercept": self.intercept,
            "pitch_coef": self.pitch_coef,
        }
        if hasattr(path, "write"):
            np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
            return
        with open(path, "wb") as handle:  # type: ignore[arg-type]
            np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, source: str | os.PathLike[str] | IO[bytes]) -> CompiledModel:
        """Read a ``.npz`` written by ``save``, a path or a binary file (no pickle: nothing in it can run).

        Raises
        ------
        ValueError or KeyError
            Arrays that do not make a model (a missing array, an array larger
            than its share of the file, shapes that disagree, one class): what
            ``predict_proba`` and ``labels`` index is checked here, once.
        """
        with np.load(source if hasattr(source, "read") else Path(source), allow_pickle=False) as archive:  # type: ignore[arg-type]
            _check_arrays(archive)
            data = {key: archive[key] for key in archive.files}
        meta: dict[str, Any] = json.loads(_untext(data["meta"]))
        if not isinstance(meta, dict) or meta.get("format") != COMPILED_FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else meta
            raise ValueError(f"unknown compiled-model format {found!r}")
        terms = _untext(data["word_terms"]).split("\n") if data["word_terms"].size else []
        words = WordTable(
            vocabulary={term: i for i, term in enumerate(terms)},
            ngram_range=tuple(meta["word_ngram_range"]),  # type: ignore[arg-type]
            tfidf=_Tfidf(idf=data["word_idf"], **meta["word_tfidf"]),
        )
        chars = CharTable(
            hashes=data["char_hashes"],
            columns=data["char_columns"],
            n_features=int(meta["n_char_features"]),
            ngram_range=tuple(meta["char_ngram_range"]),  # type: ignore[arg-type]
            tfidf=_Tfidf(idf=data["char_idf"], **meta["char_tfidf"]),
            terms=tuple(_untext(data["char_terms"]).split("\n")) if data["char_terms"].size else (),
        )
        template_matrix = sp.csr_matrix(
            (data["template_data"], data["template_indices"], data["template_indptr"]),
            shape=tuple(meta["template_shape"]),
        )
        names = _untext(data["word_names"]).split("\n") if data["word_names"].size else []
        if "pitch_coef" not in data or not isinstance(meta.get("pitch_intercept"), (int, float)):
            # Models of invitecls before the first stage have neither.
            raise ValueError(
                "pitch_coef: the model has no first stage (what tells a pitch): it was trained by another "
                "version; retrain it with `invitecls train`"
            )
        model = cls(
            classes=tuple(meta["classes"]),
            default_task=bool(meta["default_task"]),
            threshold=float(meta["threshold"]),
            accept_threshold=meta["accept_threshold"],
            decline_threshold=meta["decline_threshold"],
            words=words,
            chars=chars,
            word_names=tuple(names),
            templates=tuple(Template(kind=k, lang=lang, text=t) for k, lang, t in meta["templates"]),
            template_matrix=template_matrix,
            coef=data["coef"],
            intercept=data["intercept"],
            pitch_coef=data["pitch_coef"],
            pitch_intercept=float(meta["pitch_intercept"]),
            surface=dict(meta["surface"]),
            stems={k: dict(v) for k, v in meta["stems"].items()},
        )
        model._check()
        return model

    def _check(self) -> None:
        """Raise ``ValueError`` unless every array has the shape and type prediction relies on."""
        classes = self.classes
        if len(classes) < 2 or len(set(classes)) != len(classes) or not all(isinstance(c, str) for c in classes):
            raise ValueError(f"classes {list(classes)[:5]!r}: a model needs two or more distinct class names")
        n_words, n_chars = self.n_word_features, self.n_char_features
        rows = 1 if len(classes) == 2 else len(classes)
        n_dense = self.coef.shape[-1] - n_words - n_chars if self.coef.ndim == 2 else len(DENSE_NAMES)
        if n_dense != len(DENSE_NAMES):
            # The usual cause is a model trained by another version of invitecls, whose note-level features differ.
            raise ValueError(
                f"coef: the model weighs {n_dense} note-level features, this version of invitecls computes "
                f"{len(DENSE_NAMES)}: it was trained by another version; retrain it with `invitecls train`"
            )
        expected = {
            "coef": (self.coef, (rows, n_words + n_chars + len(DENSE_NAMES))),
            "intercept": (self.intercept, (rows,)),
            "pitch_coef": (self.pitch_coef, (n_words + n_chars,)),
            "pitch_intercept": (np.asarray(self.pitch_intercept), ()),
            "word_idf": (self.words.tfidf.idf, (n_words,)),
            "char_idf": (self.chars.tfidf.idf, (n_chars,)),
            "char_columns": (self.chars.columns, self.chars.hashes.shape),
            "template_data": (self.template_matrix.data, None),
        }
        for name, (array, shape) in expected.items():
            if array.dtype.kind not in "fiu" or (shape is not None and array.shape != shape):
                raise ValueError(f"{name}: {array.dtype} array of shape {array.shape}, expected numbers of {shape}")
            if not np.isfinite(array).all():
                raise ValueError(f"{name}: not every value is finite")
        if self.chars.hashes.ndim != 1 or self.chars.hashes.dtype != np.uint64:
            raise ValueError("char_hashes: expected a flat uint64 array")
        if self.chars.columns.size and (self.chars.columns.min() < 0 or self.chars.columns.max() >= n_chars):
            raise ValueError("char_columns: a column outside the character block")
        if self.chars.terms and len(self.chars.terms) != n_chars:
            raise ValueError(f"char_terms: {len(self.chars.terms)} terms for {n_chars} columns")
        if len(self.word_names) != n_words or sorted(self.words.vocabulary.values()) != list(range(n_words)):
            raise ValueError(f"word_names: {len(self.word_names)} names for {n_words} words")
        for name, (low, high) in (("word", self.words.ngram_range), ("char", self.chars.ngram_range)):
            if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= 10):
                raise ValueError(f"{name}_ngram_range: {[low, high]!r} is not 1 <= low <= high <= 10")
        matrix = self.template_matrix
        if matrix.shape != (len(self.templates), n_chars):
            raise ValueError(f"template_shape: {matrix.shape}, expected {(len(self.templates), n_chars)}")
        matrix.check_format(full_check=True)
        thresholds = [self.threshold]
        if self.default_task:
            if len(classes) != 2 or self.accept_threshold is None or self.decline_threshold is None:
                raise ValueError("default_task: needs two classes and accept and decline thresholds")
            thresholds += [self.accept_threshold, self.decline_threshold]
        if not all(isinstance(t, (int, float)) and 0.0 <= t <= 1.0 for t in thresholds):
            raise ValueError(f"thresholds {thresholds!r}: each must be a number from 0 to 1")


#: Largest sum of uncompressed array sizes read from a compiled model (the shipped one holds about 40 MB).
MAX_ARRAY_BYTES = 1 << 30


def _check_arrays(archive: Any) -> None:
    """Refuse, before reading any array, an archive whose arrays would take more memory than the file allows."""
    import math

    from numpy.lib import format as npy

    total = 0
    for info in archive.zip.infolist():
        total += info.file_size
        if total > MAX_ARRAY_BYTES:
            raise ValueError(f"its arrays hold more than {MAX_ARRAY_BYTES} bytes")
        with archive.zip.open(info) as member:
            version = npy.read_magic(member)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"{info.filename}: unknown .npy version {version}")
            read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape, _, dtype = read_header(member)
        # A header may claim any shape; reading it would allocate that much before finding the data short.
        if dtype.hasobject or math.prod(shape) * dtype.itemsize > info.file_size:
            raise ValueError(f"{info.filename}: its header claims more data than the archive holds")


def _text(value: str) -> np.ndarray:
    return np.frombuffer(value.encode("utf-8"), dtype=np.uint8)


def _untext(array: np.ndarray) -> str:
    return bytes(array.astype(np.uint8)).decode("utf-8")
