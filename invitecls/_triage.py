"""Triage of a LinkedIn export's invitations: a label, an action and, for the unsure, a polite reply.

``triage`` classifies every received invitation, weighs what the export knows
about the sender (``invitecls._history``), suggests an action, and for the
unsure ones a reply asking why the sender wants to connect. (Labelling is in
``invitecls._review``, ``prune`` in ``invitecls._prune``.)

Everything streams: invitations are classified in vectorised chunks and written
as they come, so memory stays flat however long the export.
"""

from __future__ import annotations

import os
import string
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invitecls._export import Export, ExportError, Invitation, normalize_name, normalize_url, read_table, table_field
from invitecls._history import EVIDENCE_COLUMNS, Evidence, History, decide, load_history
from invitecls._limits import shorten
from invitecls._validation import MAX_MUTUAL, parse_count

if TYPE_CHECKING:
    from invitecls._api import Prediction

__all__ = [
    "DEFAULT_REPLY",
    "TRIAGE_COLUMNS",
    "TriageRow",
    "TriageSummary",
    "check_reply_template",
    "read_mutual_counts",
    "triage",
]

DEFAULT_REPLY = (
    "Hi {first_name}, thank you for your invitation to connect. As we don't know each other, "
    "may I ask why you want to be part of my network?"
)
TRIAGE_COLUMNS = (
    "sender", "profile_url", "sent_at", "direction", "note", "mutual_connections", "label", "probability", "action",
    "reasons", "reply", "signals", *EVIDENCE_COLUMNS,
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
    evidence: Evidence = field(default_factory=Evidence)
    #: ``INCOMING`` (received) or ``OUTGOING`` (sent: no action, no reply; ``--all-directions``).
    direction: str = "INCOMING"

    def as_record(self) -> dict[str, Any]:
        """Plain data for CSV or JSON output."""
        return {
            "sender": self.sender,
            "profile_url": self.profile_url,
            "sent_at": self.sent_at,
            "direction": self.direction,
            "note": self.note,
            "mutual_connections": self.mutual_connections,
            "label": self.label,
            "probability": round(self.probability, 4),
            "action": self.action,
            "reasons": list(self.reasons),
            "reply": self.reply,
            "signals": list(self.signals),
            **self.evidence.as_record(),
        }


@dataclass
class TriageSummary:
    """Counts per action and label."""

    actions: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    #: Sent invitations listed beside the received ones (``--all-directions``), not counted above.
    sent: int = 0

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
        tail = f"; {self.sent} sent invitation{'' if self.sent == 1 else 's'} listed, not counted" if self.sent else ""
        return f"{n} {word}: {parts} ({share:.0f}% spam; {labels}){tail}"


#: Longest reply template: LinkedIn's own limit on a message is 8,000 characters.
MAX_REPLY_CHARS = 8_000


def check_reply_template(template: str) -> str:
    """Refuse a reply template with anything but the literal ``{first_name}`` placeholder.

    A format spec or conversion (``{first_name:>1000000000}``, ``{first_name!r}``),
    an attribute or an index would let a template pad, inspect or blow up the
    replies; ``{{`` and ``}}`` stay literal braces.
    """
    if not isinstance(template, str):
        raise TypeError(f"reply template must be a str, not {type(template).__name__}")
    if len(template) > MAX_REPLY_CHARS:
        raise ValueError(f"reply template: {len(template):,} characters; at most {MAX_REPLY_CHARS:,}")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as err:
        raise ValueError(f"reply template: {err}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name != "first_name":
            shown = shorten("{" + name + "}", 60)
            raise ValueError(f"reply template: unknown placeholder {shown}; only {{first_name}} is filled")
        if spec or conversion:
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            shown = shorten("{" + written + "}", 60)
            raise ValueError(f"reply template: {shown} has a format; write {{first_name}} alone")
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

    Raises
    ------
    ExportError
        Naming the file, line and field: a count that is not a whole number
        from 0 to ``MAX_MUTUAL``, a missing or repeated column, a file that is
        not a regular one or breaks the bounds of ``invitecls._limits``.
    """
    file = Path(path)
    if not file.exists():
        raise ExportError(f"{file}: no such file")
    by_url: dict[str, int] = {}
    by_name: dict[str, int] = {}
    rows, columns = read_table(file, ("mutual_connections", "profile_url", "name", "first_name", "last_name"))
    if "mutual_connections" not in columns:
        raise ExportError(f"{file}: missing column mutual_connections")
    if not ({"profile_url", "name"} & set(columns) or {"first_name", "last_name"} <= set(columns)):
        raise ExportError(f"{file}: missing column profile_url or name")

    for line, row in rows:
        raw = table_field(row, columns, "mutual_connections").strip()
        if not raw:
            continue
        count = parse_count(raw)
        if count is None:
            raise ExportError(
                f"{file}, line {line}, field mutual_connections: {shorten(raw, quote=True)} is not a whole number "
                f"from 0 to {MAX_MUTUAL:,}"
            )
        url = table_field(row, columns, "profile_url").strip()
        if url:
            by_url[normalize_url(url)] = count
        name = table_field(row, columns, "name").strip()
        if not name and "first_name" in columns:
            name = f"{table_field(row, columns, 'first_name')} {table_field(row, columns, 'last_name')}"
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
    history: History | bool = True,
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
    history : History or bool
        What the export knows about each sender (``invitecls._history``): True
        reads it from the export's other files (each optional), False ignores
        it. It adds reasons and columns, and may change the action (see
        ``invitecls._history.decide``); the label and probability stay the note's.

    Yields
    ------
    TriageRow
    """
    from invitecls._api import _resolve, classify_many

    resolved = _resolve(model)
    check_reply_template(reply_template)
    by_url, by_name = mutual or ({}, {})
    # Read before the first invitation: the history files are small beside Invitations.csv and bounded.
    known = history if isinstance(history, History) else load_history(export) if history else History()
    received = (i for i in export.invitations() if all_directions or i.direction == "INCOMING")
    done = 0
    for chunk in _chunks(received, CHUNK):
        counts = [_count_of(invitation, by_url, by_name) for invitation in chunk]
        predictions = classify_many([i.message for i in chunk], counts, model=resolved)
        for invitation, count, prediction in zip(chunk, counts, predictions):
            yield _row(invitation, count, prediction, known, reply_template)
        done += len(chunk)
        if progress is not None:
            progress(done)


def _count_of(invitation: Invitation, by_url: dict[str, int], by_name: dict[str, int]) -> int | None:
    """The sender's shared-connection count: by profile URL, else by name, else unknown."""
    count = by_url.get(normalize_url(invitation.sender_url)) if invitation.sender_url else None
    return by_name.get(normalize_name(invitation.sender)) if count is None else count


def _row(
    invitation: Invitation, count: int | None, prediction: Prediction, known: History, reply_template: str
) -> TriageRow:
    """One invitation's row: the note's verdict, the export's evidence, the action and the reply."""
    # One's own sent invitations are classified for the record, never acted on.
    incoming = invitation.direction == "INCOMING"
    evidence = known.evidence(invitation.message, invitation.sender, invitation.sender_url) if incoming else Evidence()
    action = decide(prediction.action, invitation.message, evidence) if incoming else None
    # Nothing to ask someone already connected: the invitation is a duplicate.
    asks = action == "ask" and not evidence.already_connected
    return TriageRow(
        sender=invitation.sender,
        profile_url=invitation.sender_url,
        sent_at=invitation.sent_at,
        note=invitation.message,
        mutual_connections=count,
        label=prediction.label,
        probability=prediction.probability,
        action=action,
        reasons=(*evidence.reasons(invitation.sender), *prediction.reasons),
        reply=reply_template.format(first_name=_first_name(invitation.sender)) if asks else "",
        signals=prediction.signals,
        evidence=evidence,
        direction=invitation.direction or "INCOMING",
    )
