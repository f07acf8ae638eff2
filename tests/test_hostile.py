"""Hostile or broken input: bounded time and memory, one clear line (issue 12, item 6).

Every fixture is made here, in a temporary folder, and is small on disk: zip
bombs are a few kilobytes (or a forged size in the zip's directory), large
files are sparse. Each attempt must end in an ``ExportError``/``DataError``
(``ValueError``/``TypeError`` in the API, exit 2 and one line on the command
line) naming the file and, where it has one, the line and field.

| attempt | expected |
|---|---|
| zip member declaring 3 GiB (the 6 MB zip of 4 GiB of blank rows) | refused before reading: size |
| zip member compressed 1,000 to 1 (a bomb) | refused before reading: ratio |
| zip member lying about its size | stops at the declared size, then "damaged" (CRC) |
| zip member: encrypted, bzip2/LZMA, unknown method | refused, names the member |
| zip member: corrupt deflate data, bad CRC-32 | "cannot read it, the file is damaged" |
| truncated zip; junk named ``.zip`` | "a damaged or incomplete zip file", not "not a LinkedIn export" |
| ``Invitations.csv`` a symlink to ``/dev/zero``, a FIFO, a folder; the export a FIFO | refused at once, never blocks |
| export file larger than 1 GiB (sparse) | refused before reading |
| a 20 MB field; a 150 KB field (also with ``csv.field_size_limit`` raised) | too long: names line (and field) |
| a 1M-column header; an error quoting it | row too long; error lines stay short |
| 200,000 blank rows; blank rows only; 5,000 rows without a header | stops early, names the line |
| UTF-16 export, with and without byte-order mark | read as UTF-16 |
| duplicate header (export, training file, ``--mutual`` file) | refused, names the column |
| unterminated quote | "a quote opened on this row is never closed", names the line |
| count 10**400 (API, ``--mutual``, ``--mutual`` CSV, training CSV/JSONL) | ``ValueError``, no ``OverflowError`` |
| count ``²`` (``--mutual`` CSV, review file, labels file) | error naming file and line, or unknown; never a traceback |
| ``--reply "{first_name:>1000000000000}"`` and other formats | refused: only the literal ``{first_name}`` |
| invalid UTF-8 on standard input | "standard input, line N, column C: not UTF-8" |
| ``classify_stream("hello")`` | ``TypeError`` at the call |
| ``--max-genuine-flagged 5`` / ``-1`` / ``nan`` | refused by the parser |
| ``import invitecls._export`` | leaves ``csv.field_size_limit`` alone |
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import invitecls
from invitecls._cli import build_parser, main
from invitecls._export import ExportError, open_export
from invitecls._io import DataError, read_labeled
from invitecls._limits import BLANK_ROWS, MAX_FIELD_CHARS, MAX_ROW_CHARS
from invitecls._review import load_notes, review_candidates
from invitecls._triage import check_reply_template, read_mutual_counts

HEADER = "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\r\n"
ROW = 'Ada Lovelace,Me,"1/2/26, 3:04 PM",Loved your talk on engines,INCOMING,,\r\n'
posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")


def _folder(tmp_path: Path, body: str | bytes, name: str = "Invitations.csv") -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    return folder


def _zip(tmp_path: Path, body: bytes, method: int = zipfile.ZIP_DEFLATED) -> Path:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        archive.writestr("Basic_LinkedInDataExport/Invitations.csv", body)
    return path


def _patch_directory(path: Path, offset: int, fmt: str, value: int) -> None:
    """Forge one field of the (single) entry of a zip's central directory."""
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, data.rindex(b"PK\x01\x02") + offset, value)
    path.write_bytes(bytes(data))


def _invitations(path: Path) -> list[Any]:
    return list(open_export(path).invitations())


def _one_line(err: BaseException, limit: int = 600) -> str:
    text = str(err)
    assert "\n" not in text and len(text) < limit, text[:300]
    return text


# ---------------------------------------------------------------- zip files


def test_a_member_declaring_gigabytes_is_refused_before_reading(tmp_path: Path) -> None:
    path = _zip(tmp_path, (HEADER + "\r\n" * 1000).encode())
    _patch_directory(path, 24, "<I", 3 << 30)  # the uncompressed size, as a bomb declares it
    with pytest.raises(
        ExportError, match=r"export\.zip:.*Invitations\.csv: 3,221,225,472 bytes uncompressed; .* up to 1 GiB"
    ):
        _invitations(path)


def test_a_zip_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    body = (HEADER + "\r\n" * (8 << 20)).encode()  # 16 MiB of blank rows, a few KB compressed
    path = _zip(tmp_path, body)
    assert path.stat().st_size < 100_000
    with pytest.raises(ExportError, match=r"compressed [\d,]+ to 1 .*more than 100 to 1: a zip bomb") as caught:
        _invitations(path)
    _one_line(caught.value)


@pytest.mark.parametrize("declared", [2_000, 100_000])
def test_a_member_lying_about_its_size_stops_there(tmp_path: Path, declared: int) -> None:
    path = _zip(tmp_path, (HEADER + ROW * 15_000).encode())
    _patch_directory(path, 24, "<I", declared)  # holds 1 MB
    with pytest.raises(ExportError, match=r"Invitations\.csv: cannot read it, the file is damaged \(Bad CRC-32"):
        _invitations(path)


@pytest.mark.parametrize(
    ("offset", "value", "pattern"),
    [
        (8, 0x1, r"Invitations\.csv: encrypted; LinkedIn's exports are not"),
        (10, 12, r"Invitations\.csv: compressed with bzip2, which invitecls does not read"),
        (10, 14, r"compressed with LZMA"),
        (10, 97, r"compressed with method 97"),
        (16, 0xDEADBEEF, r"Invitations\.csv: cannot read it, the file is damaged \(Bad CRC-32"),
    ],
)
def test_odd_or_damaged_members_give_one_line(tmp_path: Path, offset: int, value: int, pattern: str) -> None:
    path = _zip(tmp_path, (HEADER + ROW * 3).encode())
    _patch_directory(path, offset, "<H" if offset < 16 else "<I", value)
    with pytest.raises(ExportError, match=pattern) as caught:
        _invitations(path)
    _one_line(caught.value)


def test_a_real_bzip2_member_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path, (HEADER + ROW).encode(), method=zipfile.ZIP_BZIP2)
    with pytest.raises(ExportError, match="compressed with bzip2"):
        _invitations(path)


@pytest.mark.parametrize("where", ["start", "middle"])
def test_corrupt_deflate_data(tmp_path: Path, where: str) -> None:
    plain = (HEADER + ROW * 12_000).encode()  # under 1 MiB: no ratio check
    half = 0 if where == "start" else len(plain) // 2
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = packer.compress(plain[:half]) + packer.flush(zlib.Z_FULL_FLUSH)
    stream += b"\xff" * 16  # at a block boundary: a deflate block of the reserved type
    stream += packer.compress(plain[half:]) + packer.flush()
    # Stored first, then marked as deflated with the plain text's size and checksum.
    path = _zip(tmp_path, stream, method=zipfile.ZIP_STORED)
    _patch_directory(path, 10, "<H", zipfile.ZIP_DEFLATED)
    _patch_directory(path, 16, "<I", zlib.crc32(plain))
    _patch_directory(path, 24, "<I", len(plain))
    with pytest.raises(ExportError, match=r"cannot read it, the file is damaged \(Error -3 while decompressing") as err:
        _invitations(path)
    _one_line(err.value)


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("export.zip", "truncated", "a damaged or incomplete zip file"),
        ("export.zip", b"this is no zip at all", "a damaged or incomplete zip file"),
        ("download", b"PK\x03\x04 and then nothing", "a damaged or incomplete zip file"),
        ("photo.png", b"\x89PNG not an export", "not a LinkedIn export"),
    ],
)
def test_an_unreadable_zip_is_not_called_a_foreign_file(
    tmp_path: Path, name: str, content: str | bytes, pattern: str
) -> None:
    path = tmp_path / name
    if content == "truncated":
        whole = _zip(tmp_path, (HEADER + ROW * 100).encode()).read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    with pytest.raises(ExportError, match=pattern):
        open_export(path)


# ---------------------------------------------------------------- files that are not files


def _within(seconds: float, call: Callable[[], Any], unblock: Callable[[], None] = lambda: None) -> BaseException:
    """Run ``call`` in a thread; it must raise within ``seconds`` (a FIFO must never block)."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as err:
            outcome.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        unblock()
        thread.join(5)
        pytest.fail(f"still reading after {seconds} s")
    assert outcome, "no error raised"
    return outcome[0]


def _open_writer(fifo: Path) -> Callable[[], None]:
    def unblock() -> None:
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    return unblock


@posix
def test_a_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Invitations.csv").symlink_to("/dev/zero")
    err = _within(10, lambda: _invitations(folder))
    assert isinstance(err, ExportError)
    assert "Invitations.csv: a device, not a regular file; refusing to read it" in _one_line(err)


@posix
@pytest.mark.parametrize("where", ["member", "export"])
def test_a_fifo_never_blocks(tmp_path: Path, where: str) -> None:
    if where == "member":
        folder = tmp_path / "export"
        folder.mkdir()
        fifo = folder / "Invitations.csv"
        os.mkfifo(fifo)
        target = folder
    else:
        fifo = tmp_path / "export.zip"
        os.mkfifo(fifo)
        target = fifo
    err = _within(10, lambda: _invitations(target), _open_writer(fifo))
    assert isinstance(err, ExportError)
    assert "a named pipe (FIFO), not a regular file" in _one_line(err)


@posix
@pytest.mark.parametrize("reader", ["mutual", "review", "labels", "training"])
def test_other_inputs_refuse_devices(tmp_path: Path, reader: str) -> None:
    link = tmp_path / "input.csv"
    link.symlink_to("/dev/zero")
    calls: dict[str, Callable[[], Any]] = {
        "mutual": lambda: read_mutual_counts(link),
        "review": lambda: load_notes(link),
        "labels": lambda: review_candidates([("hi", None)], labels_file=link),
        "training": lambda: read_labeled(link),
    }
    err = _within(10, calls[reader])
    assert isinstance(err, (ExportError, DataError))
    assert "a device, not a regular file" in _one_line(err)


def test_a_folder_named_like_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    (folder / "Invitations.csv").mkdir(parents=True)
    with pytest.raises(ExportError, match=r"Invitations\.csv: a folder, not a regular file"):
        _invitations(folder)


def test_a_file_beyond_the_size_bound_is_not_read(tmp_path: Path) -> None:
    folder = _folder(tmp_path, HEADER)
    with open(folder / "Invitations.csv", "r+b") as handle:
        handle.truncate((1 << 30) + 1)  # sparse: nothing written
    with pytest.raises(
        ExportError, match=r"Invitations\.csv: 1,073,741,825 bytes; invitecls reads files of up to 1 GiB"
    ):
        _invitations(folder)
    data = tmp_path / "big.csv"
    with open(data, "wb") as handle:
        handle.truncate((256 << 20) + 1)
    with pytest.raises(DataError, match=r"big\.csv: 268,435,457 bytes; invitecls reads files of up to 256 MiB"):
        read_labeled(data)


# ---------------------------------------------------------------- rows, fields, blank rows


def test_a_huge_field_is_one_line_in_triage_review_and_prune(tmp_path: Path, capsys) -> None:
    huge = "x" * (20 << 20)
    folder = _folder(tmp_path, HEADER + f'A,Me,"1/2/26, 3:04 PM","{huge}",INCOMING,,\r\n')
    with pytest.raises(ExportError, match=r"Invitations\.csv, line 2: a row longer than 1,000,000 characters"):
        _invitations(folder)
    _folder(
        tmp_path,
        f'First Name,Last Name,URL,Company,Position,Connected On\r\nAda,"{huge}",,,,15 Nov 2020\r\n',
        "Connections.csv",
    )
    notes = tmp_path / "notes.csv"
    notes.write_text(f'message\n"{huge}"\n', encoding="utf-8")
    for argv in (["prune", str(folder)], ["review", str(notes), "--to", str(tmp_path / "l.csv"), "--list"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and len(err) < 300, err[:300]
        assert "line 2: a row longer than 1,000,000 characters" in err


@pytest.mark.parametrize("raised", [False, True])
def test_a_long_field_names_its_line_and_field(tmp_path: Path, raised: bool) -> None:
    folder = _folder(tmp_path, HEADER + ROW + f'B,Me,"1/2/26, 3:04 PM",{"y" * 150_000},INCOMING,,\r\n')
    before = csv.field_size_limit()
    # Another library may raise the csv module's process-wide limit; invitecls's own bound still holds.
    csv.field_size_limit(10**9 if raised else before)
    try:
        with pytest.raises(ExportError) as caught:
            _invitations(folder)
    finally:
        csv.field_size_limit(before)
    if raised:
        assert "Invitations.csv, line 3, field Message: longer than 100,000 characters" in str(caught.value)
    else:
        assert "Invitations.csv, line 3: a field longer than 100,000 characters" in str(caught.value)
    data = tmp_path / "data.csv"
    data.write_text(f"message,label\n{'z' * (MAX_FIELD_CHARS + 1)},spam\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2: field message is longer than 100,000 characters"):
        read_labeled(data, for_training=False)


def test_importing_leaves_the_csv_module_alone() -> None:
    code = "import csv; d = csv.field_size_limit(); import invitecls._export, invitecls._io, invitecls._triage; "
    code += "print(csv.field_size_limit() == d)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr


def test_a_million_column_header_gives_short_errors(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(1_000_000))
    folder = _folder(tmp_path, header + "\r\n" + ROW)
    with pytest.raises(ExportError, match=r"line 1: a row longer than 1,000,000 characters") as caught:
        _invitations(folder)
    _one_line(caught.value)
    data = tmp_path / "wide.csv"
    data.write_text(header + "\n1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing column message, label \(found: c0, c1, .*characters\)") as caught:
        read_labeled(data)
    _one_line(caught.value)


def test_blank_rows_stop_early(tmp_path: Path) -> None:
    folder = _folder(tmp_path, HEADER + ROW + "\r\n" * 200_000 + ROW)
    with pytest.raises(ExportError, match=r"line (\d+): 10,000 blank rows and 2 with data") as caught:
        _invitations(folder)
    assert f"line {BLANK_ROWS + 2}:" in str(caught.value)  # stopped there, not at line 200,003
    only_blank = _folder(tmp_path, ",,,,\r\n" * 50_000)
    with pytest.raises(ExportError, match="blank rows and 0 with data"):
        _invitations(only_blank)
    data = tmp_path / "data.csv"
    data.write_text("message,label\nhi,spam\n" + "\n" * 50_000, encoding="utf-8")
    with pytest.raises(DataError, match=r"line 10,?\d+: 10,000 blank rows and 1 with data"):
        read_labeled(data, for_training=False)


def test_no_header_in_the_first_thousand_rows(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "junk,row\r\n" * 5_000 + HEADER + ROW)
    with pytest.raises(ExportError, match=r"missing column From, Message, Direction \(no header in the first 1,000"):
        _invitations(folder)


# ---------------------------------------------------------------- misleading or silent


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_utf16_export_is_read(tmp_path: Path, encoding: str) -> None:
    folder = _folder(tmp_path, (HEADER + ROW + ROW.replace("Ada", "Émile")).encode(encoding))
    rows = _invitations(folder)
    assert [r.sender for r in rows] == ["Ada Lovelace", "Émile Lovelace"]
    assert rows[0].message == "Loved your talk on engines"


def test_duplicate_headers_are_refused(tmp_path: Path) -> None:
    twice = HEADER.replace("inviteeProfileUrl", "Message")
    with pytest.raises(ExportError, match=r"Invitations\.csv, line 1: column Message appears 2 times in the header"):
        _invitations(_folder(tmp_path, twice + ROW))
    data = tmp_path / "data.csv"
    data.write_text("message,label,label\nhi,spam,genuine\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 1: column 'label' appears 2 times"):
        read_labeled(data, for_training=False)
    mutual = tmp_path / "mutual.csv"
    mutual.write_text("name,mutual_connections,mutual_connections\nAda,3,40\n", encoding="utf-8")
    with pytest.raises(ExportError, match="line 1: column mutual_connections appears 2 times"):
        read_mutual_counts(mutual)


@pytest.mark.parametrize(
    ("after", "problem"),
    [
        ("", "a quote opened on this row is never closed"),  # open to the end of the file
        (ROW * 5, "text after the closing quote of a field (a quote left open?)"),  # closed by the next row's quote
        ("x" * 1_100_000, "a row longer than 1,000,000 characters (a quote never closed?)"),
    ],
)
def test_an_unterminated_quote_names_its_line(tmp_path: Path, after: str, problem: str, capsys) -> None:
    folder = _folder(tmp_path, HEADER + ROW + 'Bob,Me,"1/2/26, 3:04 PM","Hello there,INCOMING,,\r\n' + after)
    with pytest.raises(ExportError, match=r"Invitations\.csv, line 3: ") as caught:
        _invitations(folder)
    assert problem in _one_line(caught.value)
    assert main(["triage", str(folder), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"line 3: {problem}" in err and "0 invitations" not in err


def test_classify_stream_refuses_a_string() -> None:
    with pytest.raises(TypeError, match="messages must be an iterable, not a single str; use classify"):
        invitecls.classify_stream("hello")  # raised at the call, before any iteration
    with pytest.raises(TypeError, match="mutual_connections must be an iterable"):
        invitecls.classify_stream(["hello"], "5")


@pytest.mark.parametrize("value", ["5", "-1", "nan", "1.5", "lots"])
def test_max_genuine_flagged_is_a_share(value: str, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["train", "data.csv", "-o", "m.joblib", "--max-genuine-flagged", value])
    assert caught.value.code == 2
    assert "is not a share from 0 to 1" in capsys.readouterr().err
    args = build_parser().parse_args(["train", "d.csv", "-o", "m.joblib", "--max-genuine-flagged", "0.05"])
    assert args.max_genuine_flagged == 0.05


def test_invalid_utf8_on_standard_input_names_the_line(monkeypatch, capsys) -> None:
    data = b"Loved your talk on Rust\ncaf\xe9 au lait\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert main(["classify"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "invitecls classify: error: standard input, line 2, column 4: not UTF-8 (byte 0xe9)\n"


def test_a_line_longer_than_the_bound_on_standard_input(monkeypatch, capsys) -> None:
    data = b"x" * (MAX_ROW_CHARS + 10) + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert main(["classify"]) == 2
    assert "standard input, line 1: longer than 1,000,000 bytes" in capsys.readouterr().err


# ---------------------------------------------------------------- counts


HUGE = 10**400


@pytest.mark.parametrize(
    "call",
    [
        lambda: invitecls.classify("hi", HUGE),
        lambda: invitecls.classify_many(["hi"], [HUGE]),
        lambda: list(invitecls.classify_stream(["hi"], [HUGE])),
        lambda: invitecls.classify("hi", 1e300),
    ],
)
def test_a_huge_count_is_a_value_error(call: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match=r"mutual_connections.*must be at most 1,000,000,000, got a \d+-digit number"):
        call()


def test_a_huge_count_on_the_command_line_and_in_files(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["classify", "hi", "--mutual", str(HUGE)])
    err = capsys.readouterr().err
    assert "is not a whole number from 0 to 1,000,000,000" in err and len(err) < 800
    mutual = tmp_path / "mutual.csv"
    mutual.write_text(f"name,mutual_connections\nAda,3\nBob,{HUGE}\n", encoding="utf-8")
    with pytest.raises(ExportError, match=r"mutual\.csv, line 3, field mutual_connections: '1000.*characters\)"):
        read_mutual_counts(mutual)
    data = tmp_path / "data.csv"
    data.write_text(f"message,mutual_connections,label\nhi,{HUGE},spam\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2, field mutual_connections: '1000"):
        read_labeled(data, for_training=False)
    lines = tmp_path / "data.jsonl"
    lines.write_text(f'{{"message": "hi", "mutual_connections": {HUGE}, "label": "spam"}}\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 1, field mutual_connections: more than 1,000,000,000"):
        read_labeled(lines, for_training=False)


def test_a_superscript_digit_is_no_traceback(tmp_path: Path) -> None:
    mutual = tmp_path / "mutual.csv"
    mutual.write_text("name,mutual_connections\nAda,²\n", encoding="utf-8")
    with pytest.raises(ExportError, match=r"mutual\.csv, line 2, field mutual_connections: '²' is not a whole number"):
        read_mutual_counts(mutual)
    notes = tmp_path / "notes.csv"
    notes.write_text("message,mutual_connections\nhello,²\nhi,12\n", encoding="utf-8")
    assert load_notes(notes) == [("hello", None), ("hi", 12)]
    labels = tmp_path / "labels.csv"
    labels.write_text("message,mutual_connections,label\nhello,²,spam\n", encoding="utf-8")
    assert [c.message for c in review_candidates([("hello", None), ("new", 3)], labels_file=labels)] == ["new"]


def test_a_review_file_with_a_non_text_note(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"message": "hi"}\n{"message": 12}\nnot json\n', encoding="utf-8")
    with pytest.raises(ExportError, match=r"notes\.jsonl, line 2, field message: expected text, got int"):
        load_notes(notes)


# ---------------------------------------------------------------- reply templates


@pytest.mark.parametrize(
    ("template", "pattern"),
    [
        ("{first_name:>1000000000000}", r"\{first_name:>1000000000000\} has a format; write \{first_name\} alone"),
        ("{first_name:>100000000}", "has a format"),
        ("{first_name!r}", "has a format"),
        ("{first_name.__class__}", r"unknown placeholder \{first_name\.__class__\}"),
        ("{first_name[0]}", "unknown placeholder"),
        ("{0}", "unknown placeholder"),
        ("Hi {" + "x" * 5000 + "}", r"unknown placeholder \{xxx.*characters\)"),
        ("Hi {first_name}! " * 1000, "at most 8,000"),
    ],
)
def test_a_reply_template_takes_only_the_literal_placeholder(template: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern) as caught:
        check_reply_template(template)
    _one_line(caught.value, 300)


def test_literal_braces_and_the_placeholder_pass(tmp_path: Path, capsys) -> None:
    assert check_reply_template("Hi {first_name} {{not a field}}") == "Hi {first_name} {{not a field}}"
    folder = _folder(tmp_path, HEADER + ROW)
    assert main(["triage", str(folder), "--quiet", "--reply", "{first_name:>1000000000000}"]) == 2
    assert "has a format" in capsys.readouterr().err
