"""Reading a LinkedIn data export ("Get a copy of your data"), as it really is.

The export is a folder or the downloaded zip file. Its CSV files carry
quirks: a byte-order mark, CRLF line ends, a ``Notes:`` preamble before the
header of ``Connections.csv``, quoted newlines inside messages, columns added,
dropped or reordered between export versions, rows with blank names. Headers
are found by their column names, never by line number, and files are read as
streams so that a million invitations take no more memory than ten.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = [
    "Connection",
    "Export",
    "ExportError",
    "Invitation",
    "Message",
    "normalize_name",
    "normalize_url",
    "open_export",
]

INVITATIONS, CONNECTIONS, MESSAGES = "Invitations.csv", "Connections.csv", "messages.csv"
# Rows longer than this are not notes: refuse to buffer a broken file forever.
csv.field_size_limit(10_000_000)


class ExportError(ValueError):
    """An export that cannot be read: names the file and what is wrong."""


@dataclass(frozen=True)
class Invitation:
    """One row of ``Invitations.csv``."""

    sender: str
    recipient: str
    sent_at: str
    message: str
    direction: str
    sender_url: str
    line: int


@dataclass(frozen=True)
class Connection:
    """One row of ``Connections.csv``."""

    first_name: str
    last_name: str
    url: str
    email: str
    company: str
    position: str
    connected_on: dt.date | None
    line: int

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class Message:
    """The participants and date of one row of ``messages.csv``."""

    sender: str
    sender_url: str
    recipients: tuple[str, ...]
    recipient_urls: tuple[str, ...]
    date: dt.datetime | None


def normalize_url(url: str) -> str:
    """A profile URL reduced to what identifies it (scheme, query and case dropped)."""
    url = url.strip().casefold()
    url = re.sub(r"^https?://", "", url)
    url = re.sub(r"^(?:[a-z]{2,3}\.)?(?:www\.)?linkedin\.com", "linkedin.com", url)
    return url.split("?")[0].split("#")[0].rstrip("/")


def normalize_name(name: str) -> str:
    """A person's name for matching: case, spacing and punctuation folded."""
    return " ".join(re.sub(r"[^\w\s]", " ", name.casefold()).split())


_SENT_AT_FORMATS = (
    "%m/%d/%y, %I:%M %p",
    "%m/%d/%Y, %I:%M %p",
    "%m/%d/%y, %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)


def parse_sent_at(value: str) -> str:
    """``1/29/26, 2:37 PM`` -> ``2026-01-29T14:37:00`` (no time zone: the export has none)."""
    text = " ".join(value.replace("\u202f", " ").split())
    for fmt in _SENT_AT_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).isoformat()
        except ValueError:
            continue
    return text


def parse_connected_on(value: str) -> dt.date | None:
    """``15 Nov 2025`` -> a date (None when empty or unreadable)."""
    text = value.strip()
    for fmt in ("%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%m/%d/%y", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_message_date(value: str) -> dt.datetime | None:
    """``2025-11-17 22:05:06 UTC`` -> an aware datetime (None when unreadable)."""
    text = value.strip().removesuffix(" UTC").removesuffix("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None


class Export:
    """A LinkedIn export: a folder or a zip file, with its CSV files found by name."""

    def __init__(self, path: Path, members: dict[str, str], archive: zipfile.ZipFile | None) -> None:
        self.path = path
        self._members = members  # lower-case base name -> path inside the export
        self._archive = archive

    def has(self, name: str) -> bool:
        """Whether the export holds a file of this name (any case, any folder)."""
        return name.casefold() in self._members

    def where(self, name: str) -> str:
        """A readable location of a file, for error messages."""
        inner = self._members.get(name.casefold(), name)
        return f"{self.path}:{inner}" if self._archive else str(self.path / inner)

    @contextmanager
    def open(self, name: str) -> Iterator[IO[str]]:
        """Open one of the export's CSV files as text (byte-order mark removed)."""
        inner = self._members.get(name.casefold())
        if inner is None:
            raise ExportError(f"{self.path}: no {name} in this export")
        if self._archive is not None:
            raw: IO[bytes] = self._archive.open(inner)
        else:
            raw = open(self.path / inner, "rb")  # noqa: SIM115 - closed below
        try:
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        finally:
            raw.close()

    def rows(
        self, name: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> Iterator[tuple[int, dict[str, str]]]:
        """Stream the rows of a file as dicts keyed by the wanted column names.

        The header is the first row that holds every required column (matched
        without regard to case or surrounding spaces): preambles are skipped.

        Raises
        ------
        ExportError
            When no such header exists, naming the file and the missing column.
        """
        with self.open(name) as handle:
            reader = csv.reader(handle)
            header_index: dict[str, int] | None = None
            best: list[str] = []
            for row in reader:
                cells = [c.strip().casefold() for c in row]
                missing = [c for c in required if c.casefold() not in cells]
                if not missing:
                    header_index = {
                        c: cells.index(c.casefold()) for c in (*required, *optional) if c.casefold() in cells
                    }
                    break
                if len(set(cells) & {c.casefold() for c in (*required, *optional)}) > len(best):
                    best = [c for c in required if c.casefold() not in cells]
            if header_index is None:
                missing_names = ", ".join(best or required)
                raise ExportError(f"{self.where(name)}: missing column {missing_names}")
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                record = {c: (row[i] if i < len(row) else "") for c, i in header_index.items()}
                yield reader.line_num, record

    def invitations(self) -> Iterator[Invitation]:
        """The rows of ``Invitations.csv``, streamed."""
        optional = ("To", "Sent At", "inviterProfileUrl")
        for line, r in self.rows(INVITATIONS, ("From", "Message", "Direction"), optional):
            yield Invitation(
                sender=r["From"].strip(),
                recipient=r.get("To", "").strip(),
                sent_at=parse_sent_at(r.get("Sent At", "")),
                message=r["Message"],
                direction=r["Direction"].strip().upper(),
                sender_url=r.get("inviterProfileUrl", "").strip(),
                line=line,
            )

    def connections(self) -> Iterator[Connection]:
        """The rows of ``Connections.csv``, streamed (preamble skipped)."""
        required = ("First Name", "Last Name", "Connected On")
        optional = ("URL", "Email Address", "Company", "Position")
        for line, r in self.rows(CONNECTIONS, required, optional):
            yield Connection(
                first_name=r["First Name"].strip(),
                last_name=r["Last Name"].strip(),
                url=r.get("URL", "").strip(),
                email=r.get("Email Address", "").strip(),
                company=r.get("Company", "").strip(),
                position=r.get("Position", "").strip(),
                connected_on=parse_connected_on(r["Connected On"]),
                line=line,
            )

    def messages(self) -> Iterator[Message]:
        """Who wrote to whom and when, from ``messages.csv`` (content is not kept)."""
        required = ("FROM", "TO", "DATE")
        optional = ("SENDER PROFILE URL", "RECIPIENT PROFILE URLS")
        for _, r in self.rows(MESSAGES, required, optional):
            sender = html.unescape(r["FROM"]).strip()
            yield Message(
                sender="" if sender.casefold() == "linkedin member" else sender,
                sender_url=r.get("SENDER PROFILE URL", "").strip(),
                recipients=tuple(n.strip() for n in html.unescape(r["TO"]).split(",") if n.strip()),
                recipient_urls=tuple(u for u in re.split(r"[\s,;]+", r.get("RECIPIENT PROFILE URLS", "")) if u),
                date=parse_message_date(r["DATE"]),
            )


def open_export(path: str | os.PathLike[str], *, needs: Sequence[str] = (INVITATIONS,)) -> Export:
    """Open an export folder or zip file.

    Parameters
    ----------
    path : str or path-like
        The folder LinkedIn's zip was unpacked into, or the zip itself.
    needs : sequence of str
        Files the caller will read; their absence is an error now rather than later.

    Raises
    ------
    ExportError
        A missing path, a file that is neither a folder nor a zip, or a needed
        file the export lacks.
    """
    root = Path(path)
    if not root.exists():
        raise ExportError(f"{root}: no such file or folder")
    archive: zipfile.ZipFile | None = None
    members: dict[str, str] = {}
    if root.is_dir():
        for file in sorted(root.rglob("*.csv")):
            members.setdefault(file.name.casefold(), str(file.relative_to(root)))
    elif zipfile.is_zipfile(root):
        archive = zipfile.ZipFile(root)
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.filename.lower().endswith(".csv") and not info.is_dir():
                members.setdefault(Path(info.filename).name.casefold(), info.filename)
    else:
        raise ExportError(f"{root}: not a LinkedIn export (expected a folder or a .zip file)")
    export = Export(root, members, archive)
    missing = [name for name in needs if not export.has(name)]
    if missing:
        kind = "zip file" if archive else "folder"
        found = ", ".join(sorted(Path(m).name for m in members.values())) or "no CSV files"
        raise ExportError(f"{root}: this {kind} has no {', '.join(missing)} (found: {found}); is it a LinkedIn export?")
    return export
