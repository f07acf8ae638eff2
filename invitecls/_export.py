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
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from invitecls._limits import (
    BLANK_ROWS,
    MAX_FIELD_CHARS,
    MAX_FILE_BYTES,
    MAX_HEADER_ROWS,
    MAX_READ_BYTES,
    MAX_ROW_CHARS,
    LimitError,
    check_member,
    csv_problem,
    decode_text,
    open_regular,
    read_regular,
    shorten,
    size_text,
    sniff_encoding,
)

__all__ = [
    "Connection",
    "CsvRows",
    "Export",
    "ExportError",
    "Invitation",
    "Message",
    "Person",
    "normalize_name",
    "normalize_url",
    "open_export",
    "read_table",
    "table_field",
]

INVITATIONS, CONNECTIONS, MESSAGES = "Invitations.csv", "Connections.csv", "messages.csv"
ENDORSEMENTS_RECEIVED, ENDORSEMENTS_GIVEN = "Endorsement_Received_Info.csv", "Endorsement_Given_Info.csv"
RECOMMENDATIONS_RECEIVED, RECOMMENDATIONS_GIVEN = "Recommendations_Received.csv", "Recommendations_Given.csv"
#: The address book: LinkedIn has named it both ways.
CONTACTS = ("Contacts.csv", "ImportedContacts.csv")
POSITIONS, EDUCATION = "Positions.csv", "Education.csv"
# What reading a damaged zip member (or a file the system will not read) raises.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError)


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


@dataclass(frozen=True)
class Person:
    """Someone named in a row of an endorsement, recommendation or address-book file."""

    name: str
    url: str
    line: int


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
        """Open one of the export's CSV files as text (byte-order mark removed, UTF-16 read as such).

        Raises
        ------
        ExportError
            A file that is not a regular one (a pipe, a device), larger than
            the bounds of ``invitecls._limits``, or a zip member that is
            encrypted, compressed otherwise than LinkedIn does, or damaged.
        """
        inner = self._members.get(name.casefold())
        if inner is None:
            raise ExportError(f"{self.path}: no {name} in this export")
        where = self.where(name)
        raw: IO[bytes] | None = None
        try:
            if self._archive is not None:
                info = self._archive.getinfo(inner)
                check_member(info)
                raw = self._archive.open(info)
            else:
                raw = open_regular(self.path / inner, MAX_FILE_BYTES)
            encoding = _encoding(raw)
        except LimitError as err:
            raise ExportError(f"{where}: {err}") from None
        except _ZIP_ERRORS as err:
            if raw is not None:
                raw.close()
            if self._archive is None and isinstance(err, OSError):
                raise ExportError(f"{where}: cannot read it ({shorten(err.strerror or err)})") from None
            raise ExportError(f"{where}: cannot read it, the file is damaged ({shorten(str(err))})") from None
        try:
            yield io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        finally:
            raw.close()

    def rows(
        self, name: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> Iterator[tuple[int, dict[str, str]]]:
        """Stream the rows of a file as dicts keyed by the wanted column names.

        The header is the first row that holds every required column (matched
        without regard to case or surrounding spaces): preambles are skipped.
        Reading stays bounded (see ``CsvRows``).

        Raises
        ------
        ExportError
            When no such header exists, naming the file and the missing column;
            a wanted column named twice; a quote never closed; a row or field
            too long; a file of mostly blank rows; damaged zip data.
        """
        where = self.where(name)
        with self.open(name) as handle:
            rows = CsvRows(handle, where)
            header_index: dict[str, int] | None = None
            best: list[str] = []
            wanted = {c.casefold() for c in (*required, *optional)}
            for start, row in rows:
                if header_index is not None:
                    record = {c: (row[i] if i < len(row) else "") for c, i in header_index.items()}
                    yield rows.line_num, record
                    continue
                cells = [c.strip().casefold() for c in row]
                missing = [c for c in required if c.casefold() not in cells]
                if not missing:
                    header_index = _header_index(cells, required, optional, f"{where}, line {start}")
                    rows.names = {i: c for c, i in header_index.items()}
                    continue
                if len(set(cells) & wanted) > len(best):
                    best = missing
                if rows.filled >= MAX_HEADER_ROWS:
                    raise ExportError(
                        f"{where}: missing column {', '.join(best or required)} "
                        f"(no header in the first {MAX_HEADER_ROWS:,} rows)"
                    )
            if header_index is None:
                raise ExportError(f"{where}: missing column {', '.join(best or required)}")

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

    def endorsements(self, *, received: bool) -> Iterator[Person]:
        """Who endorsed the user (``received``), or whom the user endorsed."""
        role, name = ("Endorser", ENDORSEMENTS_RECEIVED) if received else ("Endorsee", ENDORSEMENTS_GIVEN)
        required = (f"{role} First Name", f"{role} Last Name")
        for line, r in self.rows(name, required, (f"{role} Public Url",)):
            yield _person(r[required[0]], r[required[1]], r.get(f"{role} Public Url", ""), line)

    def recommendations(self, *, received: bool) -> Iterator[Person]:
        """Who recommended the user (``received``), or whom the user recommended (names only)."""
        name = RECOMMENDATIONS_RECEIVED if received else RECOMMENDATIONS_GIVEN
        for line, r in self.rows(name, ("First Name", "Last Name")):
            yield _person(r["First Name"], r["Last Name"], "", line)

    def contacts(self) -> Iterator[Person]:
        """The address book the user imported (``Contacts.csv`` or ``ImportedContacts.csv``), streamed."""
        for name in CONTACTS:
            if not self.has(name):
                continue
            for line, r in self.rows(name, ("FirstName", "LastName"), ("FullName", "Profiles")):
                # Profiles lists any web profiles; only a LinkedIn one identifies the person here.
                urls = [u for u in re.split(r"[\s,;]+", r.get("Profiles", "")) if "linkedin.com/" in u.casefold()]
                person = _person(r["FirstName"], r["LastName"], urls[0] if urls else "", line)
                if not person.name and r.get("FullName", "").strip():
                    person = Person(" ".join(r["FullName"].split()), person.url, line)
                yield person

    def employers(self) -> Iterator[str]:
        """The companies of the user's own positions (``Positions.csv``)."""
        for _, r in self.rows(POSITIONS, ("Company Name",)):
            if r["Company Name"].strip():
                yield " ".join(r["Company Name"].split())

    def schools(self) -> Iterator[str]:
        """The schools of the user's own education (``Education.csv``)."""
        for _, r in self.rows(EDUCATION, ("School Name",)):
            if r["School Name"].strip():
                yield " ".join(r["School Name"].split())


def _person(first: str, last: str, url: str, line: int) -> Person:
    return Person(name=" ".join(f"{first} {last}".split()), url=url.strip(), line=line)


def _encoding(raw: IO[bytes]) -> str:
    """The text encoding of a CSV file, from its first bytes."""
    peek = getattr(raw, "peek", None)
    return sniff_encoding(peek(512)[:512] if peek is not None else b"")


def _header_index(cells: list[str], required: Sequence[str], optional: Sequence[str], where: str) -> dict[str, int]:
    """Where each wanted column is in a header of case-folded ``cells``; a wanted column named twice is an error."""
    for column in (*required, *optional):
        if cells.count(column.casefold()) > 1:
            raise ExportError(f"{where}: column {column} appears {cells.count(column.casefold())} times in the header")
    return {c: cells.index(c.casefold()) for c in (*required, *optional) if c.casefold() in cells}


class CsvRows:
    """The non-blank rows of a CSV text stream, with the line each begins on, read within bounds.

    A row (its quoted line breaks included) may not exceed ``MAX_ROW_CHARS``,
    a field ``MAX_FIELD_CHARS``, the whole ``MAX_FILE_BYTES``; a quote still
    open at the end is an error (``strict``), and so is a file whose blank
    rows pass ``BLANK_ROWS`` and outnumber the others. Each breach is an
    ``ExportError`` naming the file, the line and, once ``names`` is set
    (column names by position), the field.
    """

    def __init__(self, handle: IO[str], where: str) -> None:
        self.handle = handle
        self.where = where
        self.names: dict[int, str] = {}
        self.line_num = 0  # the last line read
        self.start = 1  # the line the row being read began on
        self.filled = 0
        self.blank = 0
        self._row_chars = 0
        self._total = 0

    def _lines(self) -> Iterator[str]:
        while True:
            try:
                line = self.handle.readline(MAX_ROW_CHARS + 1)
            except _ZIP_ERRORS as err:
                raise ExportError(f"{self.where}: cannot read it, the file is damaged ({shorten(str(err))})") from None
            if not line:
                return
            self.line_num += 1
            self._row_chars += len(line)
            self._total += len(line)
            if self._row_chars > MAX_ROW_CHARS:
                raise ExportError(
                    f"{self.where}, line {self.start}: a row longer than {MAX_ROW_CHARS:,} characters "
                    "(a quote never closed?)"
                )
            if self._total > MAX_FILE_BYTES:  # a file that grows while it is read
                raise ExportError(f"{self.where}: more than {size_text(MAX_FILE_BYTES)}; stopped reading")
            yield line

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        # strict: a quote left open at the end is an error, not the rest of the file swallowed into one field.
        reader = csv.reader(self._lines(), strict=True)
        try:
            for row in reader:
                start, self.start, self._row_chars = self.start, self.line_num + 1, 0
                if not any(cell.strip() for cell in row):
                    self.blank += 1
                    if self.blank >= BLANK_ROWS and self.blank > self.filled:
                        raise ExportError(
                            f"{self.where}, line {start}: {self.blank:,} blank rows and {self.filled:,} with data; "
                            "stopped reading a damaged or padded file"
                        )
                    continue
                self.filled += 1
                for i, cell in enumerate(row):
                    if len(cell) > MAX_FIELD_CHARS:
                        field = f"field {self.names[i]}" if i in self.names else f"column {i + 1}"
                        raise ExportError(
                            f"{self.where}, line {start}, {field}: longer than {MAX_FIELD_CHARS:,} characters"
                        )
                yield start, row
        except csv.Error as err:
            raise ExportError(f"{self.where}, line {self.start}: {csv_problem(err)}") from None


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
    else:
        archive = _open_zip(root)
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.filename.lower().endswith(".csv") and not info.is_dir():
                members.setdefault(Path(info.filename).name.casefold(), info.filename)
    export = Export(root, members, archive)
    missing = [name for name in needs if not export.has(name)]
    if missing:
        kind = "zip file" if archive else "folder"
        found = shorten(", ".join(sorted(Path(m).name for m in members.values())) or "no CSV files", 300)
        raise ExportError(f"{root}: this {kind} has no {', '.join(missing)} (found: {found}); is it a LinkedIn export?")
    return export


def _open_zip(root: Path) -> zipfile.ZipFile:
    """The zip file at ``root``, told apart from a damaged zip and from something else."""
    try:
        # Any size: only the zip's directory and the members needed are read.
        handle = open_regular(root, 1 << 62)
    except LimitError as err:
        raise ExportError(f"{root}: {err}") from None
    except OSError as err:
        raise ExportError(f"{root}: cannot read it ({err.strerror or err})") from None
    try:
        looks_zipped = handle.read(2) == b"PK" or root.suffix.casefold() == ".zip"
        handle.seek(0)
        if not zipfile.is_zipfile(handle):
            if looks_zipped:
                raise ExportError(
                    f"{root}: a damaged or incomplete zip file (its directory is missing); download the export again"
                )
            raise ExportError(f"{root}: not a LinkedIn export (expected a folder or a .zip file)")
        return zipfile.ZipFile(handle)
    except ExportError:
        handle.close()
        raise
    except (*_ZIP_ERRORS, ValueError) as err:
        handle.close()
        raise ExportError(f"{root}: a damaged zip file ({shorten(str(err))}); download the export again") from None


def read_table(file: Path, wanted: tuple[str, ...]) -> tuple[Iterator[tuple[int, list[str]]], dict[str, int]]:
    """A small CSV file read within bounds: its rows after the header, and where each column is.

    Column names are matched case-folded and stripped; one of ``wanted`` named
    twice is an error (which would be meant?).
    """
    try:
        text = decode_text(read_regular(file, MAX_READ_BYTES))
    except LimitError as err:
        raise ExportError(f"{file}: {err}") from None
    except OSError as err:
        raise ExportError(f"{file}: cannot read it ({err.strerror or err})") from None
    table = CsvRows(io.StringIO(text, newline=""), str(file))
    rows = iter(table)
    first = next(rows, None)
    if first is None:
        return iter(()), {}
    line, header = first
    cells = [c.strip().casefold() for c in header]
    columns: dict[str, int] = {}
    for i, name in enumerate(cells):
        if name in wanted and name in columns:
            raise ExportError(f"{file}, line {line}: column {name} appears {cells.count(name)} times in the header")
        columns.setdefault(name, i)
    table.names = {i: name for name, i in columns.items()}
    return rows, columns


def table_field(row: list[str], columns: dict[str, int], name: str) -> str:
    """The cell of column ``name`` in a row of ``read_table`` ("" when absent)."""
    i = columns.get(name)
    return row[i] if i is not None and i < len(row) else ""
