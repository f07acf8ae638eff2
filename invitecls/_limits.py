"""Bounds on what invitecls reads from disk and quotes back, so hostile input costs little.

An export, a data file or standard input may be broken or built to hurt: a
zip bomb, a symlink to ``/dev/zero``, a named pipe that never ends, a row with
one endless quoted field, gigabytes of blank rows. Every reader checks these
bounds as it goes and stops with one line naming the file (and line, field)
instead of growing without end. The README's security section lists them.
"""

from __future__ import annotations

import csv
import os
import stat
import zipfile
from typing import IO

__all__ = [
    "BLANK_ROWS",
    "MAX_FIELD_CHARS",
    "MAX_FILE_BYTES",
    "MAX_HEADER_ROWS",
    "MAX_QUOTED",
    "MAX_RATIO",
    "MAX_READ_BYTES",
    "MAX_ROW_CHARS",
    "RATIO_FREE_BYTES",
    "LimitError",
    "check_member",
    "csv_problem",
    "decode_text",
    "open_regular",
    "read_regular",
    "shorten",
    "size_text",
    "sniff_encoding",
]

#: A CSV file of an export, in a folder or uncompressed from a zip (it is streamed).
MAX_FILE_BYTES = 1 << 30
#: A file read whole: labelled data, notes to review, a labels file being added to.
MAX_READ_BYTES = 256 << 20
#: Uncompressed over compressed size of a zip member, checked above RATIO_FREE_BYTES
#: (text compresses 3-20 times; a bomb 1,000 times).
MAX_RATIO = 100
RATIO_FREE_BYTES = 1 << 20
#: One CSV row, quoted line breaks included: an unclosed quote stops here.
MAX_ROW_CHARS = 1_000_000
#: One field (a note is read up to 2,000 characters; a LinkedIn message is shorter than this).
MAX_FIELD_CHARS = 100_000
#: Rows before the header (``Connections.csv`` has a short preamble).
MAX_HEADER_ROWS = 1_000
#: A file stops once it has read this many blank rows and they outnumber the others.
BLANK_ROWS = 10_000
#: Characters of user input an error message quotes.
MAX_QUOTED = 200

# The compression methods whose decompression zipfile bounds by the bytes asked for;
# bzip2 and LZMA members are inflated a whole chunk at a time (gigabytes from kilobytes).
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_OTHER_METHODS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "deflate64", 99: "AES encryption"}


class LimitError(ValueError):
    """Input beyond a bound or of the wrong kind; the caller adds the file's name."""


def shorten(value: object, limit: int = MAX_QUOTED, *, quote: bool = False) -> str:
    """``str(value)`` (``repr`` with ``quote``), cut to ``limit`` characters with a note of the full length."""
    text = repr(value) if quote else str(value)
    if len(text) <= limit:
        return text
    length = len(value) if isinstance(value, str) else len(text)
    return f"{text[:limit]}... ({length:,} characters)"


def size_text(n: int) -> str:
    """``1073741824`` -> ``1 GiB``: sizes in error messages and the README alike."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> IO[bytes]:
    """Open a regular file of at most ``limit`` bytes for reading, in binary.

    Opened without blocking and checked on the open descriptor, so a named
    pipe neither blocks nor slips in between the check and the read.

    Raises
    ------
    LimitError
        A pipe, device, socket or folder (symlinks followed), or a larger file.
    OSError
        When the file cannot be opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LimitError(f"{_kind(info.st_mode)}, not a regular file; refusing to read it")
        if info.st_size > limit:
            raise LimitError(f"{info.st_size:,} bytes; invitecls reads files of up to {size_text(limit)}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see ``open_regular``)."""
    with open_regular(path, limit) as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:  # it grew after the check
        raise LimitError(f"more than {size_text(limit)}; invitecls reads files of up to {size_text(limit)}")
    return raw


def check_member(info: zipfile.ZipInfo) -> None:
    """Refuse a zip member that is encrypted, oddly compressed, too large or a likely bomb.

    The sizes are those of the zip's directory; zipfile stops inflating at the
    declared size (and then fails on the checksum), so a member cannot lie its
    way past them.
    """
    if info.flag_bits & 0x1:
        raise LimitError("encrypted; LinkedIn's exports are not: unzip it yourself and give the folder")
    if info.compress_type not in _METHODS:
        method = _OTHER_METHODS.get(info.compress_type, f"method {info.compress_type}")
        raise LimitError(
            f"compressed with {method}, which invitecls does not read (LinkedIn uses deflate); "
            "unzip it yourself and give the folder"
        )
    if info.file_size > MAX_FILE_BYTES:
        raise LimitError(
            f"{info.file_size:,} bytes uncompressed; invitecls reads files of up to {size_text(MAX_FILE_BYTES)}"
        )
    if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        raise LimitError(
            f"compressed {ratio:,.0f} to 1 ({size_text(info.file_size)} from {size_text(info.compress_size)}), "
            f"more than {MAX_RATIO} to 1: a zip bomb, not an export"
        )


def sniff_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes: UTF-8 unless they say UTF-16 or UTF-32."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    # Excel's "Unicode text" and some editors write UTF-16 without a byte-order
    # mark: text in Latin letters then has a zero in every other byte.
    if len(head) >= 4 and head.count(0) >= len(head) // 4:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 2 * even:
            return "utf-16-le"
        if even > 2 * odd:
            return "utf-16-be"
    return "utf-8-sig"


def decode_text(raw: bytes) -> str:
    """The text of a file's bytes (see ``sniff_encoding``).

    Raises
    ------
    LimitError
        For bytes that are not UTF-8, naming the line and column.
    """
    encoding = sniff_encoding(raw[:512])
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        if encoding != "utf-8-sig":
            raise LimitError(f"not valid {encoding.upper()} text ({err.reason}); save the file as UTF-8") from None
        line = raw[: err.start].count(b"\n") + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise LimitError(
            f"line {line}, column {column}: not UTF-8 (byte 0x{raw[err.start]:02x}); save the file as UTF-8"
        ) from None


def csv_problem(err: csv.Error) -> str:
    """What a ``csv.Error`` means, in words a user can act on."""
    text = str(err)
    if "unexpected end of data" in text:
        return "a quote opened on this row is never closed"
    if "expected after" in text:
        return f"text after the closing quote of a field (a quote left open?) ({shorten(text)})"
    if "field larger than field limit" in text:
        return f"a field longer than {min(MAX_FIELD_CHARS, csv.field_size_limit()):,} characters"
    return f"not valid CSV ({shorten(text)})"
