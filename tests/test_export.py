"""LinkedIn exports: triage, review and prune on fixtures with every quirk."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from invitecls._cli import main
from invitecls._export import ExportError, open_export, parse_sent_at
from invitecls._output import write_rows
from invitecls._prune import prune
from invitecls._review import append_labels, review_candidates
from invitecls._triage import (
    DEFAULT_REPLY,
    TRIAGE_COLUMNS,
    TriageSummary,
    check_reply_template,
    read_mutual_counts,
    triage,
)

FIXTURE = Path(__file__).parent / "fixtures" / "export"


@pytest.fixture(scope="module")
def export_zip(tmp_path_factory) -> Path:
    """The same export as LinkedIn ships it: a zip, files inside a folder."""
    path = tmp_path_factory.mktemp("zip") / "Basic_LinkedInDataExport_01-30-2026.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("Invitations.csv", "Connections.csv", "messages.csv"):
            archive.write(FIXTURE / name, f"Basic_LinkedInDataExport/{name}")
    return path


def test_the_fixture_has_the_quirks() -> None:
    raw = (FIXTURE / "Invitations.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    assert b"webinar on rolling forecasts yesterday.\nCould" in raw  # a quoted newline
    assert (FIXTURE / "Connections.csv").read_text("utf-8").startswith("Notes:")
    assert "IS MESSAGE DRAFT" in (FIXTURE / "messages.csv").read_text("utf-8")


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_invitations_are_read_as_they_are(kind: str, export_zip: Path) -> None:
    export = open_export(FIXTURE if kind == "folder" else export_zip)
    rows = list(export.invitations())
    assert len(rows) == 13
    assert sum(r.direction == "INCOMING" for r in rows) == 11
    first = rows[0]
    assert first.sender == "Marta Kowalczyk" and first.message == ""
    assert first.sent_at == "2026-01-29T14:37:00"
    assert "\nCould we continue" in rows[2].message
    assert rows[-1].sender_url == ""


def test_sent_at_formats() -> None:
    assert parse_sent_at("1/29/26, 2:37 PM") == "2026-01-29T14:37:00"
    assert parse_sent_at("12/31/2025, 11:59\u202fPM") == "2025-12-31T23:59:00"
    assert parse_sent_at("not a date") == "not a date"


def test_triage_rows_and_summary() -> None:
    rows = list(triage(open_export(FIXTURE)))
    assert len(rows) == 11  # received invitations only
    by_sender = {r.sender: r for r in rows}
    assert by_sender["Kevin Sloane"].label == "spam" and by_sender["Kevin Sloane"].action == "decline"
    assert by_sender["Priya Raman"].label == "genuine" and by_sender["Priya Raman"].action == "accept"
    assert by_sender["Ravi Iyer"].label == "genuine"
    assert by_sender["Dr. Emily Carter"].action == "decline"
    # With the count unknown, no note and the default text are asked about, never declined.
    for sender in ("Marta Kowalczyk", "Tom Hughes", "Ingrid Sørensen"):
        assert by_sender[sender].action == "ask"
        assert by_sender[sender].reply == DEFAULT_REPLY.format(first_name=sender.split()[0])
    assert by_sender["Priya Raman"].reply == ""
    assert by_sender["Jonas Weber"].signals  # hidden character and a Cyrillic letter
    # The summary line, against counts made here from the rows themselves.
    summary = TriageSummary()
    for row in rows:
        summary.labels[row.label] += 1
        summary.actions[row.action] += 1
    actions = [r.action for r in rows]
    spam = sum(r.label == "spam" for r in rows)
    expected = (
        f"11 invitations: {actions.count('accept')} accept, {actions.count('ask')} ask, "
        f"{actions.count('decline')} decline ({round(100 * spam / 11)}% spam; {11 - spam} genuine, {spam} spam)"
    )
    assert summary.line() == expected
    assert TriageSummary().line() == "0 invitations"


def test_mutual_counts_change_the_verdict() -> None:
    counts = read_mutual_counts(FIXTURE / "mutual.csv")
    rows = {r.sender: r for r in triage(open_export(FIXTURE), mutual=counts)}
    assert rows["Marta Kowalczyk"].mutual_connections == 87  # matched despite a trailing slash
    assert rows["Marta Kowalczyk"].label == "genuine" and rows["Marta Kowalczyk"].action == "accept"
    assert rows["Tom Hughes"].action == "decline"  # 0 shared: the default text is spam
    assert rows["Kevin Sloane"].label == "spam"  # a pitch with 25 shared is still spam
    assert rows["Priya Raman"].mutual_connections is None


def test_mutual_by_name(tmp_path: Path) -> None:
    path = tmp_path / "by_name.csv"
    path.write_text("name,mutual_connections\nmette larsen,40\n", encoding="utf-8")
    rows = {r.sender: r for r in triage(open_export(FIXTURE), mutual=read_mutual_counts(path))}
    assert rows["Mette Larsen"].mutual_connections == 40
    assert rows["Mette Larsen"].label == "genuine"


def test_all_directions(capsys) -> None:
    rows = list(triage(open_export(FIXTURE), all_directions=True))
    assert len(rows) == 13
    sent = [r for r in rows if r.direction == "OUTGOING"]
    assert len(sent) == 2
    # One's own sent invitations are listed, never acted on or answered.
    assert all(r.action is None and r.reply == "" for r in sent)
    assert all(r.action is not None for r in rows if r.direction == "INCOMING")
    from invitecls._cli import main

    assert main(["triage", str(FIXTURE), "--all-directions"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("direction\taction\t")
    assert out[-1].startswith("11 invitations: ") and out[-1].endswith("; 2 sent invitations listed, not counted")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_output_round_trip(tmp_path: Path, suffix: str) -> None:
    rows = list(triage(open_export(FIXTURE)))
    path = tmp_path / f"triage{suffix}"
    assert write_rows(rows, path, TRIAGE_COLUMNS) == len(rows)
    if suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            back = list(csv.DictReader(handle))
        assert [b["note"] for b in back] == [r.note for r in rows]  # quoted newlines survive
        assert [b["reasons"] for b in back] == ["; ".join(r.reasons) for r in rows]
        assert list(back[0]) == list(TRIAGE_COLUMNS)
    else:
        back = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        assert back == [r.as_record() for r in rows]


def test_cli_triage(tmp_path: Path, capsys) -> None:
    out = tmp_path / "result.csv"
    assert main(["triage", str(FIXTURE), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"wrote {out}"
    assert printed[1].startswith("11 invitations: ")
    assert out.exists()
    assert main(["triage", str(FIXTURE), "--reply", "Hello {first_name}, why connect?"]) == 0
    assert "Hello Tom, why connect?" in capsys.readouterr().out


@pytest.mark.slow  # seconds: the quick suite must stay under 2 minutes
def test_triage_streams_with_flat_memory(tmp_path: Path, monkeypatch) -> None:
    """Memory does not grow with the number of invitations (it is a stream)."""
    import invitecls._triage

    monkeypatch.setattr(invitecls._triage, "CHUNK", 256)  # many chunks from a small file
    header = "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\n"
    notes = ["", "Let's connect!", "We help CFOs cut close time by 40%. Demo?", "Loved your talk at NDC about Rust"]

    def export(n: int) -> Path:
        folder = tmp_path / f"export_{n}"
        folder.mkdir()
        with open(folder / "Invitations.csv", "w", encoding="utf-8") as handle:
            handle.write(header)
            for i in range(n):
                handle.write(f'Person {i},Me,"1/2/26, 3:04 PM","{notes[i % 4]} #{i}",INCOMING,,\n')
        return folder

    def peak(folder: Path) -> int:
        tracemalloc.start()
        count = sum(1 for _ in triage(open_export(folder)))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count > 0
        return top

    small, large = export(1_500), export(6_000)
    # Once through first: the model and the bounded stem cache fill once, whatever the file's size.
    assert sum(1 for _ in triage(open_export(large))) == 6_000
    assert peak(large) < 1.5 * peak(small)


def test_review_list_and_loop(tmp_path: Path, monkeypatch, capsys) -> None:
    labels = tmp_path / "my_labels.csv"
    notes = [(i.message, None) for i in open_export(FIXTURE).invitations() if i.direction == "INCOMING"]
    candidates = review_candidates(notes, labels_file=labels, n=5)
    assert len(candidates) == 5
    assert len({c.message for c in candidates}) == 5

    assert main(["review", str(FIXTURE), "--to", str(labels), "-n", "3", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("p_spam") and len(listed) == 4
    assert not labels.exists()

    monkeypatch.setattr(sys, "stdin", io.StringIO("s\nmaybe\ng\nk\nq\n"))
    assert main(["review", str(FIXTURE), "--to", str(labels), "-n", "5"]) == 0
    assert "please answer s, g, k or q" in capsys.readouterr().out
    with open(labels, encoding="utf-8", newline="") as handle:
        saved = list(csv.DictReader(handle))
    assert [r["label"] for r in saved] == ["spam", "genuine"]
    assert saved[0]["message"] == candidates[0].message

    # Labelled notes are never offered or written twice.
    again = review_candidates(notes, labels_file=labels, n=20)
    assert not {c.message for c in again} & {r["message"] for r in saved}
    assert append_labels(labels, [(saved[0]["message"], None, "spam")]) == 0
    with open(labels, encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 2


def test_review_offers_the_unsure_before_the_sure(tmp_path: Path, corpus) -> None:
    # The threshold is far from 0.5, so "least sure" must be measured in log-odds: a note at
    # p(spam) = 0.999 is surer than one at 0.4, though it is closer to a threshold of 0.8.
    import invitecls

    notes = [
        (m, c) for m, c, s in zip(corpus.messages, corpus.mutual_connections, corpus.columns["split"]) if s == "test"
    ]
    p_spam = {n: p.probabilities["spam"] for n, p in zip(notes, invitecls.classify_many(*zip(*notes)))}
    unsure = [n for n, p in p_spam.items() if 0.3 <= p <= 0.9]
    sure = [n for n, p in p_spam.items() if p >= 0.999]
    assert len(unsure) >= 10 and len(sure) >= 10
    picked = review_candidates(unsure[:10] + sure[:10], labels_file=tmp_path / "none.csv", n=10)
    assert sorted((c.message, c.mutual_connections) for c in picked) == sorted(unsure[:10])


def test_prune_known_answers() -> None:
    report = prune(open_export(FIXTURE, needs=("Connections.csv",)), months=12, today=dt.date(2026, 2, 1))
    names = [r.name for r in report.rows]
    # Oldest first. Peter wrote after connecting, Aiko (no URL) was matched by
    # name, Lise and Sara connected less than a year ago; Hans and Nora only
    # exchanged messages before connecting.
    assert names == ["Ben Okafor", "Hans Müller", "Carlos Mendes", "Nora Quist"]
    assert {r.matched_by for r in report.rows} == {"profile URL"}
    assert report.skipped_unnamed == 1
    assert report.rows[0].connected_on == "2018-06-18" and report.rows[0].months == 91
    older = prune(open_export(FIXTURE), months=60, today=dt.date(2026, 2, 1))
    assert [r.name for r in older.rows] == ["Ben Okafor", "Hans Müller"]


def test_prune_matches_by_name_when_there_is_no_url(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    (folder / "messages.csv").write_text(
        "FROM,TO,DATE,CONTENT\nAnders Berg,Someone Else,2025-01-01 10:00:00 UTC,hi\n", encoding="utf-8"
    )
    report = prune(open_export(folder), months=12, today=dt.date(2026, 2, 1))
    aiko = [r for r in report.rows if r.name == "Aiko Tanaka"]
    assert aiko and aiko[0].matched_by == "name"


def test_prune_cli(capsys) -> None:
    assert main(["prune", str(FIXTURE), "--today", "2026-02-01"]) == 0
    out = capsys.readouterr().out
    assert "4 connections with no contact since connecting at least 12 months ago" in out
    assert "skipped 1 without name or URL" in out


@pytest.mark.parametrize(
    ("setup", "pattern"),
    [
        ("missing", "no such file or folder"),
        ("not_export", "not a LinkedIn export"),
        ("empty_folder", r"has no Invitations\.csv"),
        ("zip_without", r"zip file has no Invitations\.csv \(found: notes\.csv\)"),
        ("missing_column", r"Invitations\.csv: missing column Direction"),
    ],
)
def test_broken_exports_give_clear_errors(tmp_path: Path, setup: str, pattern: str) -> None:
    path = tmp_path / "export"
    if setup == "not_export":
        path = tmp_path / "photo.png"
        path.write_bytes(b"\x89PNG not an export")
    elif setup == "empty_folder":
        path.mkdir()
    elif setup == "zip_without":
        path = tmp_path / "export.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("export/notes.csv", "a,b\n1,2\n")
    elif setup == "missing_column":
        path.mkdir()
        (path / "Invitations.csv").write_text("From,To,Sent At,Message\nA,B,1/1/26, 1:00 PM,hi\n", encoding="utf-8")
    with pytest.raises(ExportError, match=pattern):
        list(triage(open_export(path)))


def test_cli_errors_are_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "invitecls", "triage", "/no/such/export.zip"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "invitecls triage: error: /no/such/export.zip: no such file or folder"


def test_reply_templates_and_mutual_files_are_checked(tmp_path: Path) -> None:
    assert check_reply_template("Hi {first_name}!") == "Hi {first_name}!"
    with pytest.raises(ValueError, match=r"unknown placeholder \{name\}"):
        check_reply_template("Hi {name}!")
    bad = tmp_path / "bad.csv"
    bad.write_text("profile_url,mutual_connections\nx,lots\n", encoding="utf-8")
    with pytest.raises(ExportError, match="line 2, field mutual_connections: 'lots'"):
        read_mutual_counts(bad)
    bad.write_text("who,mutual_connections\nx,3\n", encoding="utf-8")
    with pytest.raises(ExportError, match="missing column profile_url or name"):
        read_mutual_counts(bad)
