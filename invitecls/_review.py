"""Labelling one's own notes: those the model is least sure about, and one's answers appended to a training file."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invitecls._export import ExportError, open_export, read_table, table_field
from invitecls._io import atomic_write
from invitecls._limits import MAX_READ_BYTES, MAX_ROW_CHARS, LimitError, decode_text, read_regular, shorten
from invitecls._validation import MAX_MUTUAL, parse_count

__all__ = ["Candidate", "append_labels", "load_notes", "review_candidates"]


@dataclass(frozen=True)
class Candidate:
    """A note the model is unsure about."""

    message: str
    mutual_connections: int | None
    label: str
    probability_spam: float
    reasons: tuple[str, ...]


def load_notes(source: str | os.PathLike[str]) -> list[tuple[str, int | None]]:
    """Notes to review: an export (folder or zip) or a CSV/JSONL file with a ``message`` column."""
    path = Path(source)
    if path.is_dir() or path.suffix.casefold() == ".zip":
        export = open_export(path)
        return [(i.message, None) for i in export.invitations() if i.direction == "INCOMING"]
    from invitecls._io import read_labeled

    if not path.exists():
        read_labeled(path)  # raises the clear "no such file" error
        return []
    # A user's unlabeled file: only the message (and count) matter here.
    if path.suffix.casefold() in (".jsonl", ".ndjson", ".json"):
        return [_note(record, path, line) for line, record in _json_records(path)]
    rows, columns = read_table(path, ("message", "mutual_connections"))
    if columns and "message" not in columns:
        raise ExportError(f"{path}: missing column message")
    out = []
    for line, row in rows:
        record = {name: table_field(row, columns, name) for name in ("message", "mutual_connections")}
        out.append(_note(record, path, line))
    return out


def _json_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = decode_text(read_regular(path, MAX_READ_BYTES))
    except LimitError as err:
        raise ExportError(f"{path}: {err}") from None
    first = True
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_ROW_CHARS:
            raise ExportError(f"{path}, line {number}: longer than {MAX_ROW_CHARS:,} characters")
        try:
            record = json.loads(line)
        except ValueError as err:
            raise ExportError(f"{path}, line {number}: not valid JSON ({shorten(err)})") from None
        if not isinstance(record, dict):
            raise ExportError(f"{path}, line {number}: not a JSON object")
        if first and "message" not in record:
            raise ExportError(f"{path}: missing column message")
        first = False
        yield number, record


def _note(record: dict[str, Any], path: Path, line: int) -> tuple[str, int | None]:
    """``(message, count)`` of one record of a file to review; an unreadable count is unknown."""
    message = record.get("message") or ""
    if not isinstance(message, str):
        raise ExportError(f"{path}, line {line}, field message: expected text, got {type(message).__name__}")
    raw = record.get("mutual_connections")
    count = None
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= MAX_MUTUAL:
        count = raw
    elif isinstance(raw, str):
        count = parse_count(raw)
    return message, count


def _known(labels_file: Path) -> set[tuple[str, int | None]]:
    if not labels_file.exists():
        return set()
    rows, columns = read_table(labels_file, ("message", "mutual_connections", "label"))
    if "message" not in columns or "label" not in columns:
        raise ExportError(f"{labels_file}: expected the training format (message, mutual_connections, label)")
    return {
        (table_field(row, columns, "message"), parse_count(table_field(row, columns, "mutual_connections")))
        for _, row in rows
    }


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def review_candidates(
    notes: list[tuple[str, int | None]],
    *,
    labels_file: str | os.PathLike[str] | None,
    n: int = 20,
    model: Any = None,
) -> list[Candidate]:
    """The ``n`` notes the model is least sure about, leaving out those already labelled."""
    from invitecls._api import _resolve, classify_many

    resolved = _resolve(model)
    known = _known(Path(labels_file)) if labels_file is not None else set()
    seen: set[tuple[str, int | None]] = set()
    unique = []
    for note in notes:
        if note not in known and note not in seen:
            seen.add(note)
            unique.append(note)
    predictions = classify_many([m for m, _ in unique], [c for _, c in unique], model=resolved)
    threshold = resolved.threshold
    scored = []
    for (message, count), prediction in zip(unique, predictions):
        p_spam = prediction.probabilities.get("spam", math.nan)
        # Distance in log-odds: with a threshold of 0.8, p = 0.99 is surer than p = 0.2 on that scale, not less.
        distance = abs(_logit(p_spam) - _logit(threshold)) if not math.isnan(p_spam) else 1 - prediction.probability
        scored.append((distance, Candidate(message, count, prediction.label, p_spam, prediction.reasons)))
    scored.sort(key=lambda pair: pair[0])
    return [c for _, c in scored[:n]]


def append_labels(labels_file: str | os.PathLike[str], labelled: list[tuple[str, int | None, str]]) -> int:
    """Add labelled notes to a training file (created if absent), never twice; atomic.

    Returns
    -------
    int
        Notes added.
    """
    target = Path(labels_file)
    known = _known(target)
    # _known has read it within bounds already; this reads the same regular file.
    existing = decode_text(read_regular(target, MAX_READ_BYTES)) if target.exists() else ""
    added = 0
    with atomic_write(target, "w", newline="") as handle:
        if existing:
            handle.write(existing if existing.endswith("\n") else existing + "\n")
            fieldnames = next(csv.reader(io.StringIO(existing, newline="")))
        else:
            fieldnames = ["message", "mutual_connections", "label"]
            csv.writer(handle, lineterminator="\n").writerow(fieldnames)
        writer = csv.DictWriter(handle, fieldnames=fieldnames, lineterminator="\n", extrasaction="ignore")
        for message, count, label in labelled:
            if (message, count) in known:
                continue
            known.add((message, count))
            writer.writerow({"message": message, "mutual_connections": "" if count is None else count, "label": label})
            added += 1
    return added
