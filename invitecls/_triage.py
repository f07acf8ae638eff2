"""A careful networker's routine over a LinkedIn export: triage, review, prune.

- ``triage``: classify every received invitation, suggest an action, and for
  the unsure ones a polite reply asking why the sender wants to connect;
- ``review_candidates`` and ``append_labels``: the notes the model is least
  sure about, labelled by the user into a training file;
- ``prune``: connections with whom there has been no contact since connecting.

Everything streams: invitations are classified in vectorised chunks and written
as they come, so memory stays flat however long the export.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import string
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from invitecls._export import Connection, Export, ExportError, normalize_name, normalize_url, open_export
from invitecls._io import atomic_write

__all__ = [
    "DEFAULT_REPLY",
    "PruneRow",
    "TriageRow",
    "TriageSummary",
    "append_labels",
    "check_reply_template",
    "prune",
    "read_mutual_counts",
    "review_candidates",
    "triage",
]

DEFAULT_REPLY = (
    "Hi {first_name}, thank you for your invitation to connect. As we don't know each other, "
    "may I ask why you want to be part of my network?"
)
TRIAGE_COLUMNS = (
    "sender", "profile_url", "sent_at", "note", "mutual_connections", "label", "probability", "action",
    "reasons", "reply", "signals",
)  # fmt: skip
CHUNK = 4096


@dataclass(frozen=True)
class TriageRow:
    """The verdict on one received invitation."""

    sender: str
    profile_url: str
    sent_at: str
    note: str
    mutual_connections: int | None
    label: str
    probability: float
    action: str | None
    reasons: tuple[str, ...]
    reply: str
    signals: tuple[str, ...]

    def as_record(self) -> dict[str, Any]:
        """Plain data for CSV or JSON output."""
        return {
            "sender": self.sender,
            "profile_url": self.profile_url,
            "sent_at": self.sent_at,
            "note": self.note,
            "mutual_connections": self.mutual_connections,
            "label": self.label,
            "probability": round(self.probability, 4),
            "action": self.action,
            "reasons": list(self.reasons),
            "reply": self.reply,
            "signals": list(self.signals),
        }


@dataclass
class TriageSummary:
    """Counts per action and label."""

    actions: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Invitations classified."""
        return sum(self.labels.values())

    def line(self) -> str:
        """``11 invitations: 4 accept, 3 ask, 4 decline (36% spam)``."""
        n = self.total
        if n == 0:
            return "0 invitations"
        parts = ", ".join(f"{self.actions[a]} {a}" for a in ("accept", "ask", "decline"))
        share = 100 * self.labels["spam"] / n
        word = "invitation" if n == 1 else "invitations"
        labels = ", ".join(f"{self.labels[k]} {k}" for k in sorted(self.labels))
        return f"{n} {word}: {parts} ({share:.0f}% spam; {labels})"


def check_reply_template(template: str) -> str:
    """Refuse a reply template with placeholders other than ``{first_name}``."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as err:
        raise ValueError(f"reply template: {err}") from None
    unknown = fields - {"first_name"}
    if unknown:
        raise ValueError(f"reply template: unknown placeholder {{{sorted(unknown)[0]}}}; only {{first_name}} is filled")
    return template


def _first_name(sender: str) -> str:
    parts = sender.split()
    return parts[0] if parts else "there"


def read_mutual_counts(path: str | os.PathLike[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Shared-connection counts from a small CSV: by profile URL and by name.

    The file has a ``mutual_connections`` column and either ``profile_url`` or
    ``name`` (or ``first_name`` and ``last_name``).

    Returns
    -------
    by_url, by_name : dict
    """
    file = Path(path)
    if not file.exists():
        raise ExportError(f"{file}: no such file")
    by_url: dict[str, int] = {}
    by_name: dict[str, int] = {}
    with open(file, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = {c.strip().casefold(): c for c in reader.fieldnames or []}
        if "mutual_connections" not in columns:
            raise ExportError(f"{file}: missing column mutual_connections")
        if not ({"profile_url", "name"} & set(columns) or {"first_name", "last_name"} <= set(columns)):
            raise ExportError(f"{file}: missing column profile_url or name")
        for row in reader:
            raw = (row.get(columns["mutual_connections"]) or "").strip()
            if not raw:
                continue
            if not raw.isdigit():
                raise ExportError(
                    f"{file}, line {reader.line_num}, field mutual_connections: {raw!r} is not a whole number >= 0"
                )
            count = int(raw)
            url = (row.get(columns.get("profile_url", ""), "") or "").strip()
            if url:
                by_url[normalize_url(url)] = count
            name = (row.get(columns.get("name", ""), "") or "").strip()
            if not name and "first_name" in columns:
                name = f"{row.get(columns['first_name'], '')} {row.get(columns.get('last_name', ''), '')}"
            if name.strip():
                by_name[normalize_name(name)] = count
    return by_url, by_name


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def triage(
    export: Export,
    *,
    model: Any = None,
    mutual: tuple[dict[str, int], dict[str, int]] | None = None,
    all_directions: bool = False,
    reply_template: str = DEFAULT_REPLY,
    progress: Callable[[int], None] | None = None,
) -> Iterator[TriageRow]:
    """Classify the received invitations of an export, streaming.

    Parameters
    ----------
    export : Export
        From ``open_export``.
    model : InviteClassifier, path or None
        None uses the shipped model.
    mutual : (by_url, by_name), optional
        Shared-connection counts (``read_mutual_counts``); unknown otherwise.
    all_directions : bool
        Also classify sent (``OUTGOING``) invitations.
    reply_template : str
        Reply suggested for ``ask``; ``{first_name}`` is filled in.
    progress : callable, optional
        Called with the number of invitations done after each chunk.

    Yields
    ------
    TriageRow
    """
    from invitecls._api import _resolve, classify_many

    resolved = _resolve(model)
    check_reply_template(reply_template)
    by_url, by_name = mutual or ({}, {})
    received = (i for i in export.invitations() if all_directions or i.direction == "INCOMING")
    done = 0
    for chunk in _chunks(received, CHUNK):
        counts: list[int | None] = []
        for invitation in chunk:
            count = by_url.get(normalize_url(invitation.sender_url)) if invitation.sender_url else None
            if count is None:
                count = by_name.get(normalize_name(invitation.sender))
            counts.append(count)
        predictions = classify_many([i.message for i in chunk], counts, model=resolved)
        for invitation, count, prediction in zip(chunk, counts, predictions):
            reply = (
                reply_template.format(first_name=_first_name(invitation.sender)) if prediction.action == "ask" else ""
            )
            yield TriageRow(
                sender=invitation.sender,
                profile_url=invitation.sender_url,
                sent_at=invitation.sent_at,
                note=invitation.message,
                mutual_connections=count,
                label=prediction.label,
                probability=prediction.probability,
                action=prediction.action,
                reasons=prediction.reasons,
                reply=reply,
                signals=prediction.signals,
            )
        done += len(chunk)
        if progress is not None:
            progress(done)


def write_rows(rows: Iterable[Any], path: str | os.PathLike[str], columns: tuple[str, ...]) -> int:
    """Write records (with ``as_record``) to CSV or JSON Lines, atomically; returns the count."""
    target = Path(path)
    suffix = target.suffix.casefold()
    if suffix not in (".csv", ".jsonl", ".json", ".ndjson"):
        raise ValueError(f"{target}: the output must end in .csv or .jsonl")
    n = 0
    with atomic_write(target, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n") if suffix == ".csv" else None
        if writer is not None:
            writer.writeheader()
        for row in rows:
            record = row.as_record()
            if writer is not None:
                flat = {k: "; ".join(v) if isinstance(v, list) else ("" if v is None else v) for k, v in record.items()}
                writer.writerow(flat)
            else:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


class Progress:
    """A one-line progress counter on standard error, only on a terminal."""

    def __init__(self, label: str, stream: IO[str] | None = None, quiet: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.label = label
        self.shown = False

    def __call__(self, done: int) -> None:
        if self.enabled:
            self.stream.write(f"\r{self.label}: {done:,} invitations")
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        """End the progress line."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------- prune


@dataclass(frozen=True)
class PruneRow:
    """A connection with no contact since connecting."""

    name: str
    profile_url: str
    company: str
    position: str
    connected_on: str
    months: int
    matched_by: str

    def as_record(self) -> dict[str, Any]:
        """Plain data for CSV or JSON output."""
        return {
            "name": self.name,
            "profile_url": self.profile_url,
            "company": self.company,
            "position": self.position,
            "connected_on": self.connected_on,
            "months": self.months,
            "matched_by": self.matched_by,
        }


PRUNE_COLUMNS = ("name", "profile_url", "company", "position", "connected_on", "months", "matched_by")


def _months_between(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


@dataclass
class PruneReport:
    """Candidates, oldest first, and what could not be checked."""

    rows: list[PruneRow]
    skipped_unnamed: int
    skipped_undated: int


def prune(export: Export, *, months: int = 12, today: dt.date | None = None) -> PruneReport:
    """Connections made at least ``months`` ago with no message since, oldest first.

    A connection is matched to messages by profile URL when it has one, else by
    name. It only reports; nothing is changed.
    """
    if months < 0:
        raise ValueError("--months must be >= 0")
    today = today or dt.date.today()
    last_url: dict[str, dt.datetime] = {}
    last_name: dict[str, dt.datetime] = {}
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    if export.has("messages.csv"):
        for message in export.messages():
            when = message.date or epoch
            for url in (message.sender_url, *message.recipient_urls):
                if url:
                    key = normalize_url(url)
                    last_url[key] = max(last_url.get(key, epoch), when)
            for name in (message.sender, *message.recipients):
                if name:
                    key = normalize_name(name)
                    last_name[key] = max(last_name.get(key, epoch), when)
    rows: list[tuple[dt.date, PruneRow]] = []
    unnamed = undated = 0
    for connection in export.connections():
        if not connection.url and not connection.name:
            unnamed += 1
            continue
        if connection.connected_on is None:
            undated += 1
            continue
        age = _months_between(connection.connected_on, today)
        if age < months:
            continue
        since = dt.datetime.combine(connection.connected_on, dt.time(), tzinfo=dt.timezone.utc)
        matched_by, last = _last_contact(connection, last_url, last_name)
        if last is not None and last >= since:
            continue
        rows.append(
            (
                connection.connected_on,
                PruneRow(
                    name=connection.name,
                    profile_url=connection.url,
                    company=connection.company,
                    position=connection.position,
                    connected_on=connection.connected_on.isoformat(),
                    months=age,
                    matched_by=matched_by,
                ),
            )
        )
    rows.sort(key=lambda pair: (pair[0], pair[1].name))
    return PruneReport(rows=[r for _, r in rows], skipped_unnamed=unnamed, skipped_undated=undated)


def _last_contact(
    connection: Connection, by_url: dict[str, dt.datetime], by_name: dict[str, dt.datetime]
) -> tuple[str, dt.datetime | None]:
    if connection.url:
        return "profile URL", by_url.get(normalize_url(connection.url))
    return "name", by_name.get(normalize_name(connection.name))


# ---------------------------------------------------------------- review


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

    if path.exists():
        # A user's unlabeled file: only the message (and count) matter here.
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix.casefold() in (".jsonl", ".ndjson", ".json"):
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            records = list(csv.DictReader(text.splitlines()))
        if records and "message" not in records[0]:
            raise ExportError(f"{path}: missing column message")
        out = []
        for record in records:
            raw = record.get("mutual_connections")
            count = int(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()) else None
            out.append((record.get("message") or "", count))
        return out
    read_labeled(path)  # raises the clear "no such file" error
    return []


def _known(labels_file: Path) -> set[tuple[str, int | None]]:
    if not labels_file.exists():
        return set()
    with open(labels_file, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "message" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise ExportError(f"{labels_file}: expected the training format (message, mutual_connections, label)")
        known = set()
        for row in reader:
            raw = (row.get("mutual_connections") or "").strip()
            known.add((row["message"], int(raw) if raw.isdigit() else None))
        return known


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def review_candidates(
    notes: list[tuple[str, int | None]], *, labels_file: str | os.PathLike[str], n: int = 20, model: Any = None
) -> list[Candidate]:
    """The ``n`` notes the model is least sure about, leaving out those already labelled."""
    from invitecls._api import _resolve, classify_many

    resolved = _resolve(model)
    known = _known(Path(labels_file))
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
    existing = target.read_text(encoding="utf-8-sig") if target.exists() else ""
    added = 0
    with atomic_write(target, "w", newline="") as handle:
        if existing:
            handle.write(existing if existing.endswith("\n") else existing + "\n")
            with open(target, encoding="utf-8-sig", newline="") as old:
                fieldnames = next(csv.reader(old))
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
