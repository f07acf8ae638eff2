"""Labeled data on disk: reading, validating, and writing files atomically.

The training format is a UTF-8 CSV (or JSON Lines) file with the columns
``message``, ``mutual_connections`` (optional; empty means unknown) and a label
column (``label`` by default). ``group`` and ``split`` columns are used when
present; any other column is ignored. Every problem found is reported with the
file, line and field, so a user can fix it in one go.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from invitecls._limits import (
    BLANK_ROWS,
    MAX_FIELD_CHARS,
    MAX_READ_BYTES,
    MAX_ROW_CHARS,
    LimitError,
    csv_problem,
    decode_text,
    read_regular,
    shorten,
)
from invitecls._validation import MAX_MUTUAL

__all__ = [
    "DEFAULT_LABELS",
    "MIN_PER_CLASS",
    "PITCH_KINDS",
    "DataError",
    "LabeledData",
    "atomic_write",
    "read_labeled",
    "training_problems",
]

DEFAULT_LABELS = ("genuine", "spam")
#: Training refuses a class with fewer notes than this.
MIN_PER_CLASS = 20
#: Kinds whose spam notes are pitches (a sale, a scam, a vague job offer, or a
#: pitch dressed as a referral, a collaboration or a question): spam whatever
#: the count, by the guide. The spam of the other kinds (generic, flattery, no
#: note) is boilerplate, genuine from someone sharing 10 or more connections.
#: What the features' first stage learns to tell (``LabeledData.pitch``).
PITCH_KINDS = ("sales", "scam", "recruiter", "referral", "collaboration", "question")
_SHOWN = 5
_MESSAGE_LIMIT = 300


class DataError(ValueError):
    """A data file that cannot be used, with every problem found.

    Attributes
    ----------
    path : str
        The file.
    problems : list of str
        One entry per problem, each naming the line and field.
    """

    def __init__(self, path: str | os.PathLike[str], problems: Sequence[str]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        shown = "; ".join(self.problems[:_SHOWN])
        more = len(self.problems) - _SHOWN
        tail = f"; and {more} more" if more > 0 else ""
        count = f"{len(self.problems)} problems: " if len(self.problems) > 1 else ""
        super().__init__(f"{self.path}: {count}{shown}{tail}")


@dataclass(frozen=True)
class LabeledData:
    """Labeled notes read from a file.

    Attributes
    ----------
    path : str
        Where they came from.
    messages : list of str
        The notes ("" for no note).
    mutual_connections : list of int or None
        Shared-connection counts, None where unknown.
    labels : list of str
        The labels.
    groups : list of str or None
        The ``group`` column, if the file has one; a row that leaves it empty
        is a group of its own.
    lines : list of int
        The line of each note in the file.
    sha256 : str
        Hash of the whole file, for the model's metadata.
    columns : dict
        The other columns, by name, for analysis (e.g. ``kind``, ``lang``).
    """

    path: str
    messages: list[str]
    mutual_connections: list[int | None]
    labels: list[str]
    groups: list[str] | None
    lines: list[int]
    sha256: str
    columns: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def X(self) -> list[tuple[str, int | None]]:  # noqa: N802 - scikit-learn's name
        """``(message, mutual_connections)`` pairs, the estimator's input."""
        return list(zip(self.messages, self.mutual_connections))

    def subset(self, rows: Sequence[int]) -> LabeledData:
        """The notes at ``rows`` (positions, in that order), with all their columns.

        Parameters
        ----------
        rows : sequence of int
            Positions of the notes to keep.

        Returns
        -------
        LabeledData
            Same file, hash and column names; only those notes.
        """
        return LabeledData(
            path=self.path,
            messages=[self.messages[i] for i in rows],
            mutual_connections=[self.mutual_connections[i] for i in rows],
            labels=[self.labels[i] for i in rows],
            groups=[self.groups[i] for i in rows] if self.groups is not None else None,
            lines=[self.lines[i] for i in rows],
            sha256=self.sha256,
            columns={name: [values[i] for i in rows] for name, values in self.columns.items()},
        )

    def ambiguous(self) -> list[bool]:
        """Which notes are in the labelling guide's ambiguous band.

        The guide calls a generic note (or no note) from someone sharing 6 to 9
        connections ambiguous and keeps such notes out of evaluations: they are
        reported apart. Telling a generic note needs the ``kind`` column
        (``generic`` or ``empty``); without it no note is in the band.

        Returns
        -------
        list of bool
        """
        from invitecls._validation import AMBIGUOUS_BAND

        kinds = self.columns.get("kind")
        if kinds is None:
            return [False] * len(self)
        low, high = AMBIGUOUS_BAND
        return [
            kind in ("generic", "empty") and count is not None and low <= count <= high
            for kind, count in zip(kinds, self.mutual_connections)
        ]

    def pitch(self) -> list[bool | None]:
        """Which notes are pitches, scams or vague recruiting offers, as the ``kind`` column tells.

        A note labelled spam whose kind is one of ``PITCH_KINDS`` is one (the
        spam that no count of shared connections makes genuine), any other
        note with a kind is not; without a
        ``kind`` column (or where a row leaves it empty) it is not known
        (None), and the features' first stage asks the lexicon instead
        (``InviteClassifier.fit``'s ``pitch``).

        Returns
        -------
        list of bool or None
        """
        kinds = self.columns.get("kind")
        if kinds is None:
            return [None] * len(self)
        return [
            None if not kind else label == "spam" and kind in PITCH_KINDS for kind, label in zip(kinds, self.labels)
        ]

    def to_pandas(self) -> Any:
        """The data as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                "message": self.messages,
                "mutual_connections": pd.array(self.mutual_connections, dtype="Int64"),
                "label": self.labels,
                **self.columns,
            }
        )
        if self.groups is not None:
            frame["group"] = self.groups
        return frame


def _decode(path: Path, raw: bytes) -> str:
    try:
        return decode_text(raw)  # UTF-8, or UTF-16/32 as its byte-order mark says
    except LimitError as err:
        raise DataError(path, [str(err)]) from None


def _records_csv(path: Path, text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, Any], str | None]]]:
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(path, ["empty file"]) from None
    except csv.Error as err:
        raise DataError(path, [f"line 1: not a CSV header ({csv_problem(err)})"]) from None
    header = [h.strip() for h in header]
    counts = Counter(h for h in header if h)
    twice = next((h for h, n in counts.items() if n > 1), None)
    if twice is not None:
        raise DataError(path, [f"line 1: column {shorten(twice, quote=True)} appears {counts[twice]} times"])

    def rows() -> Iterator[tuple[int, dict[str, Any], str | None]]:
        previous_end = reader.line_num
        blank = filled = 0
        while True:
            start = previous_end + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield start, {}, f"malformed CSV ({csv_problem(err)})"
                return
            previous_end = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                blank += 1
                if blank >= BLANK_ROWS and blank > filled:
                    yield start, {}, f"{blank:,} blank rows and {filled:,} with data; stopped reading"
                    return
                continue
            filled += 1
            long = next((i for i, cell in enumerate(row) if len(cell) > MAX_FIELD_CHARS), None)
            if long is not None:
                name = header[long] if long < len(header) else f"column {long + 1}"
                yield start, {}, f"field {name} is longer than {MAX_FIELD_CHARS:,} characters"
                continue
            if len(row) != len(header):
                yield start, {}, f"has {len(row)} fields, the header has {len(header)}"
                continue
            yield start, dict(zip(header, row)), None

    return header, rows()


def _records_jsonl(path: Path, text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, Any], str | None]]]:
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise DataError(path, ["empty file"])
    keys: list[str] = []
    for line in lines:
        if line.strip():
            try:
                first = json.loads(line)
            except json.JSONDecodeError:
                first = {}
            keys = list(first) if isinstance(first, dict) else []
            break

    def rows() -> Iterator[tuple[int, dict[str, Any], str | None]]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if len(line) > MAX_ROW_CHARS:
                yield number, {}, f"longer than {MAX_ROW_CHARS:,} characters"
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield number, {}, f"not valid JSON ({err.msg})"
                continue
            if not isinstance(record, dict):
                yield number, {}, "not a JSON object"
                continue
            yield number, record, None

    return keys, rows()


def _parse_count(value: Any) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, f"{value!r} is not a whole number >= 0"
    if isinstance(value, int):
        if value > MAX_MUTUAL:
            return None, f"more than {MAX_MUTUAL:,}"
        return (value, None) if value >= 0 else (None, "negative; counts are whole numbers >= 0")
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and 0 <= value <= MAX_MUTUAL:
            return int(value), None
        return None, f"{value!r} is not a whole number >= 0"
    text = str(value).strip()
    if text == "" or text.lower() in ("na", "nan", "null", "none", "unknown"):
        return None, None
    shown = shorten(text, quote=True)
    try:
        number = float(text)
    except ValueError:
        return None, f"{shown} is not a whole number >= 0 (leave it empty when unknown)"
    if not math.isfinite(number) or number != int(number) or number < 0:
        return None, f"{shown} is not a whole number >= 0 (leave it empty when unknown)"
    if number > MAX_MUTUAL:
        return None, f"{shown} is more than {MAX_MUTUAL:,}"
    return int(number), None


def training_problems(labels: Sequence[str], label_column: str = "label") -> list[str]:
    """What keeps these labels from training a model: one class, or a class under ``MIN_PER_CLASS`` notes.

    Parameters
    ----------
    labels : sequence of str
    label_column : str, default="label"
        Named in the problems.

    Returns
    -------
    list of str
        Empty when the labels can train a model on their own.
    """
    problems = []
    tally = Counter(labels)
    if len(tally) < 2:
        problems.append(f"field {label_column}: only one class ({', '.join(tally)}); training needs two or more")
    for label, n in sorted(tally.items()):
        if n < MIN_PER_CLASS:
            problems.append(
                f"field {label_column}: class {label!r} has {n} notes; training needs at least {MIN_PER_CLASS}"
            )
    return problems


def read_labeled(
    path: str | os.PathLike[str],
    *,
    label_column: str = "label",
    split: str | None = None,
    for_training: bool = True,
    labels: Sequence[str] | None = None,
) -> LabeledData:
    """Read and validate a labeled CSV or JSON Lines file.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` file, or a ``.jsonl`` / ``.ndjson`` file with one object per line.
    label_column : str, default="label"
        The column holding the labels. With ``"label"`` the values must be
        ``spam`` or ``genuine`` (the default task); any other column may hold
        any two or more classes.
    split : str, optional
        Keep only the rows whose ``split`` column has this value (e.g. "train").
    for_training : bool, default=True
        Also require two or more classes with at least 20 notes each.
    labels : sequence of str, optional
        The allowed label values (default: spam and genuine for ``label``).

    Returns
    -------
    LabeledData

    Raises
    ------
    DataError
        Naming the file, the line and the field of every problem found.
    """
    file = Path(path)
    raw = _read_bytes(file)
    is_json = file.suffix.lower() in (".jsonl", ".ndjson", ".json")
    header, records = (_records_jsonl if is_json else _records_csv)(file, _decode(file, raw))
    _check_columns(file, header, label_column, split, is_json)
    allowed = set(labels) if labels is not None else (set(DEFAULT_LABELS) if label_column == "label" else None)
    rows = _Rows(label_column, allowed, split, [c for c in header if c not in (*_KNOWN_COLUMNS, label_column)])
    for line, record, error in records:
        rows.add(line, record, error, is_json)
    problems = rows.hint() + rows.problems + rows.file_problems()
    if for_training and not problems:
        problems.extend(training_problems(rows.labels, label_column))
    if problems:
        raise DataError(file, problems)
    return LabeledData(
        path=str(file),
        messages=rows.messages,
        mutual_connections=rows.counts,
        labels=rows.labels,
        # A row that leaves its group empty is a group of its own; the others keep theirs.
        groups=[g or f"(line {n})" for g, n in zip(rows.groups, rows.lines)] if "group" in header else None,
        lines=rows.lines,
        sha256=hashlib.sha256(raw).hexdigest(),
        columns=rows.extra,
    )


_KNOWN_COLUMNS = ("message", "mutual_connections", "group")


def _read_bytes(file: Path) -> bytes:
    """The file's bytes: a regular file within the bounds, not empty."""
    if not file.exists():
        raise DataError(file, ["no such file"])
    if file.is_dir():
        raise DataError(file, ["is a folder, not a data file"])
    try:
        raw = read_regular(file, MAX_READ_BYTES)  # no pipe, no device, no file beyond the bound
    except LimitError as err:
        raise DataError(file, [str(err)]) from None
    if not raw.strip():
        raise DataError(file, ["empty file"])
    return raw


def _check_columns(file: Path, header: list[str], label_column: str, split: str | None, is_json: bool) -> None:
    missing = [c for c in ("message", label_column) if c not in header]
    if split is not None and "split" not in header:
        missing.append("split")
    if missing and not is_json:
        names = ", ".join(missing)
        found = shorten(", ".join(header) or "nothing")
        raise DataError(file, [f"line 1: missing column {names} (found: {found})"])


@dataclass
class _Rows:
    """The rows of a labeled file as they are read, and the problems found in them."""

    label_column: str
    allowed: set[str] | None
    split: str | None
    extra_names: list[str]
    problems: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    counts: list[int | None] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)
    splits_seen: set[str] = field(default_factory=set)

    def add(self, line: int, record: dict[str, Any], error: str | None, is_json: bool) -> None:
        """Check one record and keep it (unless it is of another split, or unreadable)."""
        if error is not None:
            self.problems.append(f"line {line}: {error}")
            return
        if is_json and (absent := [c for c in ("message", self.label_column) if c not in record]):
            self.problems.append(f"line {line}: missing field {', '.join(absent)}")
            return
        if self.split is not None:
            row_split = str(record.get("split", "")).strip()
            self.splits_seen.add(row_split)
            if row_split != self.split:
                return
        message = record.get("message")
        if message is None:
            message = ""
        if not isinstance(message, str):
            self.problems.append(f"line {line}, field message: expected text, got {type(message).__name__}")
            return
        count, count_error = _parse_count(record.get("mutual_connections"))
        if count_error:
            self.problems.append(f"line {line}, field mutual_connections: {count_error}")
        label = self._label(line, record.get(self.label_column))
        self.messages.append(message)
        self.counts.append(count)
        self.labels.append(label)
        self.groups.append(str(record.get("group", "")))
        self.lines.append(line)
        for name in self.extra_names:
            self.extra.setdefault(name, []).append(str(record.get(name, "")))

    def _label(self, line: int, value: Any) -> str:
        label = "" if value is None else str(value).strip()
        if not label:
            self.problems.append(f"line {line}, field {self.label_column}: empty label")
        elif self.allowed is not None and label not in self.allowed:
            expected = shorten(" or ".join(sorted(self.allowed)))
            self.problems.append(
                f"line {line}, field {self.label_column}: {shorten(label, quote=True)} is not {expected}"
            )
        return label

    def hint(self) -> list[str]:
        """Labels not of the expected classes but another column's values: say which column fits (first)."""
        if self.allowed is None or not any(" is not " in p for p in self.problems):
            return []
        fitting = [name for name, values in self.extra.items() if values and set(values) <= self.allowed]
        return [f"the labels look like column {fitting[0]!r}: add --label-column {fitting[0]}"] if fitting else []

    def file_problems(self) -> list[str]:
        """Problems of the file as a whole: no notes, one note labelled twice."""
        problems = []
        if not self.messages and not self.problems:
            if self.split is not None and self.splits_seen:
                known = ", ".join(shorten(v, quote=True) for v in sorted(self.splits_seen)[:10])
                problems.append(f"no notes with split {shorten(self.split, quote=True)}; the file's splits are {known}")
            else:
                where = f" with split {self.split!r}" if self.split is not None else ""
                problems.append(f"no notes{where} (header only)")
        seen: dict[tuple[str, int | None], tuple[str, int]] = {}
        for message, count, label, line in zip(self.messages, self.counts, self.labels, self.lines):
            key = (message.strip(), count)
            if key in seen and seen[key][0] != label and label:
                first_label, first_line = seen[key]
                problems.append(
                    f"line {line}, field {self.label_column}: same note and count as line {first_line} "
                    f"but labelled {label!r}, not {first_label!r}"
                )
            seen.setdefault(key, (label, line))
        return problems


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO[Any]]:
    """Write a file atomically: a temporary file beside it, flushed, then renamed.

    An interrupted or failed write leaves the previous file untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    # mkstemp makes the file private; give it the mode a plain open() would.
    mode_bits = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
    os.chmod(tmp, mode_bits)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
