"""Triage weighs what the export knows about each sender: the fixture's history and every rule of ``decide``."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from invitecls._cli import main
from invitecls._export import ExportError, open_export
from invitecls._history import EVIDENCE_COLUMNS, Evidence, decide, find_claims, is_pitch, load_history
from invitecls._output import write_rows
from invitecls._triage import DEFAULT_REPLY, TRIAGE_COLUMNS, triage

FIXTURE = Path(__file__).parent / "fixtures" / "export"
DEFAULT_TEXT = "Hi Anders, I'd like to connect with you on LinkedIn."
PITCH = "Hi Anders, I help finance leaders at companies like Maersk cut reporting time by 40%. Open to a quick call?"
HISTORY_FILES = (
    "messages.csv", "Endorsement_Received_Info.csv", "Endorsement_Given_Info.csv", "Recommendations_Received.csv",
    "Recommendations_Given.csv", "Contacts.csv", "Connections.csv", "Positions.csv", "Education.csv",
)  # fmt: skip


@pytest.fixture(scope="module")
def fixture_rows() -> dict[str, object]:
    return {r.sender: r for r in triage(open_export(FIXTURE))}


def test_the_fixture_history_has_the_quirks() -> None:
    for name in ("Endorsement_Received_Info.csv", "Recommendations_Received.csv", "Contacts.csv", "Positions.csv"):
        assert (FIXTURE / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    assert b"\r\n" in (FIXTURE / "Contacts.csv").read_bytes()
    assert (FIXTURE / "Connections.csv").read_text("utf-8").startswith("Notes:")
    assert "Company" not in (FIXTURE / "Recommendations_Given.csv").read_text("utf-8")  # a missing column
    assert "Activities" not in (FIXTURE / "Education.csv").read_text("utf-8")
    assert "www.linkedin.com/in/kevin" in (FIXTURE / "Endorsement_Received_Info.csv").read_text("utf-8-sig")


def test_each_relation_is_found_and_said(fixture_rows) -> None:
    rows = fixture_rows
    priya = rows["Priya Raman"]
    assert (priya.evidence.messages_exchanged, priya.evidence.replied) == (3, True)
    assert priya.reasons[0] == "you exchanged 3 messages with Priya Raman"
    olu = rows["Olu Adeyemi"]  # two messages, never answered: no conversation
    assert (olu.evidence.messages_exchanged, olu.evidence.replied, olu.action) == (2, False, "decline")
    assert "Olu Adeyemi sent you 2 messages; you never replied" in olu.reasons
    kevin = rows["Kevin Sloane"]  # endorsed by URL written without a scheme
    assert kevin.evidence.endorsement == "received" and "Kevin Sloane endorsed you" in kevin.reasons
    mette = rows["Mette Larsen"]  # no profile URL: matched by name
    assert mette.evidence.recommendation == "received" and "Mette Larsen recommended you" in mette.reasons
    ingrid = rows["Ingrid Sørensen"]
    assert ingrid.evidence.in_contacts is True and "Ingrid Sørensen is in your address book" in ingrid.reasons
    sophie = rows["Sophie Martin"]  # Connections.csv has her URL with a trailing slash
    assert sophie.evidence.already_connected is True
    assert sophie.reasons[0] == "already connected since 2026-01-25: a duplicate invitation"
    ravi = rows["Ravi Iyer"]  # "Ørsted" in the note, "Ørsted A/S" on the profile
    assert ravi.evidence.profile_claim == "on profile: Ørsted A/S"
    assert "names Ørsted A/S, which is on your profile" in ravi.reasons
    marta = rows["Marta Kowalczyk"]
    assert marta.evidence.as_record() == {
        "messages_exchanged": 0, "replied": False, "endorsement": "", "recommendation": "", "in_contacts": False,
        "already_connected": False, "profile_claim": "",
    }  # fmt: skip


def test_the_fixture_actions_follow_the_rules(fixture_rows) -> None:
    rows = fixture_rows
    # A recommendation turns a generic note into accept; without the history it is asked about.
    assert rows["Mette Larsen"].action == "accept" and rows["Mette Larsen"].reply == ""
    plain = {r.sender: r for r in triage(open_export(FIXTURE), history=False)}
    assert plain["Mette Larsen"].action == "ask" and plain["Mette Larsen"].evidence == Evidence()
    # A pitch that names the user's employer, from someone who endorsed the user, is still declined.
    assert rows["Kevin Sloane"].evidence.profile_claim == "on profile: Maersk"
    assert rows["Kevin Sloane"].action == "decline"
    # The address book alone does not accept a note-less invitation.
    assert rows["Ingrid Sørensen"].action == "ask"
    assert rows["Ingrid Sørensen"].reply == DEFAULT_REPLY.format(first_name="Ingrid")


# ------------------------------------------------------------ the rules of decide, one by one

TWO_WAY = Evidence(messages_exchanged=14, replied=True, they_wrote=8)


@pytest.mark.parametrize(
    "evidence",
    [
        TWO_WAY,
        Evidence(recommendation="received"),
        Evidence(recommendation="given"),
        Evidence(already_connected=True),
    ],
    ids=["two-way", "recommended-you", "you-recommended", "connected"],
)
@pytest.mark.parametrize("note", ["", DEFAULT_TEXT, "Let's connect!"])
@pytest.mark.parametrize("action", ["ask", "decline"])
def test_strong_evidence_accepts_a_generic_or_empty_note(evidence: Evidence, note: str, action: str) -> None:
    assert decide(action, note, evidence) == "accept"


@pytest.mark.parametrize("evidence", [TWO_WAY, Evidence(recommendation="both"), Evidence(already_connected=True)])
def test_strong_evidence_never_accepts_a_pitch(evidence: Evidence) -> None:
    assert is_pitch(PITCH)
    assert decide("decline", PITCH, evidence) == "ask"  # worth a question, not a yes
    assert decide("ask", PITCH, evidence) == "ask"


@pytest.mark.parametrize(
    "evidence",
    [
        Evidence(endorsement="received"),
        Evidence(endorsement="given"),
        Evidence(in_contacts=True),
        Evidence(messages_exchanged=2, replied=True, they_wrote=0),  # you wrote, they never answered
        Evidence(profile_claim="on profile: TU Delft", claimed=True),
    ],
    ids=["endorsed-you", "you-endorsed", "address-book", "you-wrote", "verified-claim"],
)
def test_weak_evidence_asks_instead_of_declining(evidence: Evidence) -> None:
    assert decide("decline", DEFAULT_TEXT, evidence) == "ask"
    assert decide("ask", DEFAULT_TEXT, evidence) == "ask"  # never as far as accept
    assert decide("decline", PITCH, evidence) == "decline"  # a pitch stays declined


def test_what_changes_nothing() -> None:
    one_way = Evidence(messages_exchanged=5, replied=False, they_wrote=5)
    mention = Evidence(profile_claim="on profile: Maersk", claimed=False)
    for evidence in (one_way, mention, Evidence()):
        for action in ("accept", "ask", "decline"):
            assert decide(action, DEFAULT_TEXT, evidence) == action
    assert decide(None, DEFAULT_TEXT, TWO_WAY) is None  # a model of another task has no actions


def test_a_claim_the_profile_does_not_list_is_asked_about() -> None:
    note = "We both worked at Heineken, would be great to reconnect."
    false_claim = Evidence(profile_claim="not on profile: Heineken", claimed=True)
    assert decide("accept", note, false_claim) == "ask"
    assert decide("decline", note, false_claim) == "decline"
    # A real conversation outweighs a profile that may be incomplete.
    both = Evidence(messages_exchanged=4, replied=True, they_wrote=2, profile_claim="not on profile: Heineken")
    assert decide("ask", note, both) == "accept"


@pytest.mark.parametrize(
    ("note", "claims"),
    [
        ("We both worked at Heineken, would be great to reconnect.", ["Heineken"]),
        ("Fellow TU Delft alumnus here, would love to connect.", ["TU Delft"]),
        ("Hi, we were colleagues at Maersk back in 2015.", ["Maersk"]),
        ("Ex-colleague from Novo Nordisk here!", ["Novo Nordisk"]),
        ("I'm an alumnus of the University of Copenhagen.", ["University of Copenhagen"]),
        ("Great meeting you at the FP&A Trends webinar yesterday.", []),
        (PITCH, []),
        ("", []),
    ],
)
def test_claims_are_found_simply(note: str, claims: list[str]) -> None:
    assert find_claims(note) == claims


# ------------------------------------------------------------ end to end on a made-up export


def _export(tmp_path: Path, invitations: list[tuple[str, str, str]], **files: str) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    with open(folder / "Invitations.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["From", "To", "Sent At", "Message", "Direction", "inviterProfileUrl"])
        for sender, url, note in invitations:
            writer.writerow([sender, "Anders Berg", "1/29/26, 2:37 PM", note, "INCOMING", url])
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def _messages(pairs: list[tuple[str, str, int]]) -> str:
    """``(sender, recipient, how many)`` as rows of messages.csv."""
    lines = ["FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,CONTENT"]
    urls = {"Anders Berg": "https://www.linkedin.com/in/anders-berg"}
    for sender, recipient, n in pairs:
        for i in range(n):
            url_from = urls.get(sender, f"https://www.linkedin.com/in/{sender.split()[0].lower()}")
            url_to = urls.get(recipient, f"https://www.linkedin.com/in/{recipient.split()[0].lower()}")
            lines.append(f"{sender},{url_from},{recipient},{url_to},2025-0{1 + i % 9}-02 10:00:00 UTC,hello")
    return "\n".join(lines) + "\n"


def test_end_to_end(tmp_path: Path) -> None:
    folder = _export(
        tmp_path,
        [
            ("Lars Nielsen", "https://www.linkedin.com/in/lars", DEFAULT_TEXT),
            ("Eva Holt", "https://www.linkedin.com/in/eva", DEFAULT_TEXT),
            ("Kim Berg", "https://www.linkedin.com/in/kim", PITCH),
            ("Jo Smit", "https://www.linkedin.com/in/jo", "Fellow TU Delft alumnus, would love to connect."),
            ("Bo Dahl", "https://www.linkedin.com/in/bo", DEFAULT_TEXT),
        ],
        messages=_messages([("Lars Nielsen", "Anders Berg", 8), ("Anders Berg", "Lars Nielsen", 6)]),
        Endorsement_Received_Info=(
            "Endorser First Name,Endorser Last Name,Endorser Public Url\nEva,Holt,www.linkedin.com/in/eva\n"
        ),
        Recommendations_Given="First Name,Last Name\nKim,Berg\n",
        Connections=(
            "Notes:\nsome text\n\n"
            "First Name,Last Name,URL,Connected On\nBo,Dahl,https://linkedin.com/in/bo/,1 Feb 2024\n"
        ),
        Education="School Name\nTU Delft\n",
    )
    none_shared = ({}, dict.fromkeys(("lars nielsen", "eva holt", "kim berg", "bo dahl"), 0))
    plain = {r.sender: r for r in triage(open_export(folder), mutual=none_shared, history=False)}
    assert {plain[n].action for n in ("Lars Nielsen", "Eva Holt", "Kim Berg", "Bo Dahl")} == {"decline"}
    rows = {r.sender: r for r in triage(open_export(folder), mutual=none_shared)}
    lars = rows["Lars Nielsen"]
    assert lars.reasons[0] == "you exchanged 14 messages with Lars Nielsen"
    assert lars.action == "accept" and lars.label == plain["Lars Nielsen"].label  # the label stays the note's
    assert rows["Eva Holt"].action == "ask" and rows["Eva Holt"].reply.startswith("Hi Eva,")
    assert rows["Kim Berg"].action == "ask" and "you recommended Kim Berg" in rows["Kim Berg"].reasons
    assert rows["Jo Smit"].reasons[0] == "claims TU Delft, which is on your profile"
    bo = rows["Bo Dahl"]
    assert bo.action == "accept" and bo.reply == "" and bo.evidence.already_connected
    # Files the export lacks are unknown (None), not "no".
    assert lars.evidence.in_contacts is None and lars.evidence.already_connected is False


def test_a_claim_not_on_the_profile_is_said_and_asked(tmp_path: Path) -> None:
    note = "We both worked at Heineken on the brewery finance team; would be great to reconnect about FP&A."
    folder = _export(tmp_path, [("Jo Smit", "", note)], Positions="Company Name,Title\nMaersk,CFO\n")
    (row,) = triage(open_export(folder), mutual=({}, {"jo smit": 60}))
    (plain,) = triage(open_export(folder), mutual=({}, {"jo smit": 60}), history=False)
    assert plain.action == "accept"
    assert row.evidence.profile_claim == "not on profile: Heineken"
    assert "claims a shared past at Heineken, which is not on your profile" in row.reasons
    assert row.action == "ask"


def test_an_already_connected_ask_gets_no_reply_even_for_a_pitch(tmp_path: Path) -> None:
    folder = _export(
        tmp_path,
        [("Kim Berg", "https://www.linkedin.com/in/kim", PITCH)],
        Connections="First Name,Last Name,URL,Connected On\nKim,Berg,https://www.linkedin.com/in/kim,1 Feb 2024\n",
    )
    (row,) = triage(open_export(folder), mutual=({}, {"kim berg": 0}))
    assert row.action == "ask" and row.reply == ""
    assert row.reasons[0] == "already connected since 2024-02-01: a duplicate invitation"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_the_evidence_columns_are_written(tmp_path: Path, suffix: str, fixture_rows) -> None:
    rows = list(fixture_rows.values())
    path = tmp_path / f"triage{suffix}"
    write_rows(rows, path, TRIAGE_COLUMNS)
    assert TRIAGE_COLUMNS[-len(EVIDENCE_COLUMNS) :] == EVIDENCE_COLUMNS
    if suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            back = {r["sender"]: r for r in csv.DictReader(handle)}
        assert back["Priya Raman"]["messages_exchanged"] == "3" and back["Priya Raman"]["replied"] == "True"
        assert back["Sophie Martin"]["already_connected"] == "True"
    else:
        back = {r["sender"]: r for r in map(json.loads, path.read_text("utf-8").splitlines())}
        assert back["Kevin Sloane"]["endorsement"] == "received"
        assert back["Kevin Sloane"]["profile_claim"] == "on profile: Maersk"
        assert back["Mette Larsen"]["recommendation"] == "received"


def test_a_zip_export_carries_its_history(tmp_path: Path, fixture_rows) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in FIXTURE.glob("*.csv"):
            archive.write(file, f"Basic_LinkedInDataExport/{file.name}")
    rows = {r.sender: r for r in triage(open_export(path))}
    assert {s: r.evidence for s, r in rows.items()} == {s: r.evidence for s, r in fixture_rows.items()}


# ------------------------------------------------------------ broken history files


@pytest.mark.parametrize(
    ("name", "text", "pattern"),
    [
        ("Endorsement_Received_Info", "Skill Name,Endorser Public Url\nx,y\n", r"missing column Endorser First Name"),
        ("Recommendations_Received", 'First Name,Last Name,Text\nMette,Larsen,"open\n', r"line 2: a quote"),
        ("Positions", "Company Name,Title\n" + "x" * 100_001 + ",CFO\n", r"line 2, field Company Name: longer"),
        ("Contacts", "FirstName,LastName,FirstName\na,b,c\n", r"column FirstName appears 2 times"),
        ("messages", "FROM,TO\na,b\n", r"messages\.csv: missing column DATE"),
    ],
)
def test_a_malformed_history_file_is_one_line(tmp_path: Path, name: str, text: str, pattern: str) -> None:
    folder = _export(tmp_path, [("Jo Smit", "", "hi")], **{name: text})
    with pytest.raises(ExportError, match=pattern) as info:
        load_history(open_export(folder))
    assert f"{name}.csv" in str(info.value) and "\n" not in str(info.value)
    result = subprocess.run(
        [sys.executable, "-m", "invitecls", "triage", str(folder)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert f"{name}.csv" in result.stderr and "Traceback" not in result.stderr


def test_missing_history_is_fine(tmp_path: Path) -> None:
    folder = _export(tmp_path, [("Jo Smit", "", "hi")])
    (row,) = triage(open_export(folder))
    assert row.evidence == Evidence() and row.evidence.as_record()["messages_exchanged"] is None
    # An optional column missing: matched by name instead of URL.
    folder = tmp_path / "more"
    shutil.copytree(tmp_path / "export", folder)
    (folder / "Endorsement_Given_Info.csv").write_text(
        "Endorsee First Name,Endorsee Last Name\nJo,Smit\n", encoding="utf-8"
    )
    (row,) = triage(open_export(folder))
    assert row.evidence.endorsement == "given" and "you endorsed Jo Smit" in row.reasons


def test_cli_writes_the_columns(tmp_path: Path, capsys) -> None:
    out = tmp_path / "result.csv"
    assert main(["triage", str(FIXTURE), "--out", str(out), "--quiet"]) == 0
    with open(out, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[-len(EVIDENCE_COLUMNS) :] == list(EVIDENCE_COLUMNS)
    capsys.readouterr()
