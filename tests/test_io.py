"""Labeled data files: every problem named with file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from invitecls import DataError, read_labeled
from invitecls._io import atomic_write

HEADER = "message,mutual_connections,label\n"


def rows(n_spam: int = 25, n_genuine: int = 25) -> str:
    lines = [f'"Buy our tool number {i}, 50% off!",{i % 5},spam' for i in range(n_spam)]
    lines += [f'"We met at the Oslo meetup {i}, can I ask about your talk?",{i},genuine' for i in range(n_genuine)]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file(tmp_path: Path) -> None:
    data = read_labeled(write(tmp_path, HEADER + rows()))
    assert len(data) == 50
    assert data.labels.count("spam") == 25
    assert data.mutual_connections[:3] == [0, 1, 2]
    assert data.lines[0] == 2
    assert len(data.sha256) == 64


def test_unknown_counts_and_extra_columns(tmp_path: Path) -> None:
    text = "note_id,message,label,mutual_connections,kind\n"
    text += "".join(f'{i},"Hello there {i}",spam,,generic\n' for i in range(20))
    text += "".join(f'{i},"Your PyCon talk {i} on typing",genuine,NA,content\n' for i in range(20))
    data = read_labeled(write(tmp_path, text))
    assert data.mutual_connections == [None] * 40
    assert data.columns["kind"][0] == "generic"


def test_subset_keeps_rows_aligned(tmp_path: Path) -> None:
    text = "message,label,mutual_connections,kind\n"
    text += "".join(f'"Note {i}",{"spam" if i % 2 else "genuine"},{i},k{i}\n' for i in range(40))
    data = read_labeled(write(tmp_path, text))
    part = data.subset([5, 2, 38])
    assert part.messages == ["Note 5", "Note 2", "Note 38"]
    assert part.labels == ["spam", "genuine", "genuine"]
    assert part.mutual_connections == [5, 2, 38]
    assert part.lines == [7, 4, 40]
    assert part.columns["kind"] == ["k5", "k2", "k38"]
    assert (part.path, part.sha256, part.groups) == (data.path, data.sha256, None)


def test_quoted_newlines_keep_line_numbers(tmp_path: Path) -> None:
    text = HEADER + '"two\nlines",1,spam\n"bad",many,spam\n'
    with pytest.raises(DataError, match=r"line 4, field mutual_connections: 'many'"):
        read_labeled(write(tmp_path, text), for_training=False)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("", "empty file"),
        ("   \n", "empty file"),
        (HEADER, "no notes"),
        ("text,label\nhi,spam\n", "line 1: missing column message"),
        ("message,mutual_connections\nhi,3\n", "missing column label"),
        (HEADER + "hi,3,maybe\n", "line 2, field label: 'maybe' is not genuine or spam"),
        (HEADER + "hi,3,\n", "line 2, field label: empty label"),
        (HEADER + "hi,-2,spam\n", "line 2, field mutual_connections: '-2'"),
        (HEADER + "hi,2.5,spam\n", "line 2, field mutual_connections: '2.5'"),
        (HEADER + "hi,3,spam,extra\n", "line 2: has 4 fields, the header has 3"),
    ],
)
def test_problems_are_named(tmp_path: Path, content: str, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern) as info:
        read_labeled(write(tmp_path, content), for_training=False)
    assert str(info.value).startswith(str(tmp_path / "data.csv"))


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_labeled(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_labeled(tmp_path)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    raw = (HEADER + "fine,1,spam\n").encode() + "caf\xe9,1,spam\n".encode("latin-1")
    with pytest.raises(DataError, match=r"line 3, column 4: not UTF-8 \(byte 0xe9\)"):
        read_labeled(write(tmp_path, raw))


def test_training_needs_two_classes_of_twenty(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="only one class"):
        read_labeled(write(tmp_path, HEADER + rows(30, 0)))
    with pytest.raises(DataError, match="class 'genuine' has 5 notes; training needs at least 20"):
        read_labeled(write(tmp_path, HEADER + rows(30, 5)))
    assert len(read_labeled(write(tmp_path, HEADER + rows(30, 5)), for_training=False)) == 35


def test_many_problems_show_a_handful_then_a_count(tmp_path: Path) -> None:
    text = HEADER + "".join(f"note {i},lots,spam\n" for i in range(12))
    with pytest.raises(DataError) as info:
        read_labeled(write(tmp_path, text), for_training=False)
    message = str(info.value)
    assert "12 problems" in message
    assert message.count("field mutual_connections") == 5
    assert message.endswith("and 7 more")
    assert len(info.value.problems) == 12


def test_conflicting_duplicates_are_reported(tmp_path: Path) -> None:
    text = HEADER + "Let's connect!,0,spam\nLet's connect!,0,genuine\nLet's connect!,40,genuine\n"
    with pytest.raises(DataError, match="line 3, field label: same note and count as line 2"):
        read_labeled(write(tmp_path, text), for_training=False)
    # The same note with another count is no conflict: the count decides.
    ok = HEADER + "Let's connect!,0,spam\nLet's connect!,40,genuine\n"
    assert len(read_labeled(write(tmp_path, ok), for_training=False)) == 2


def test_other_label_columns_take_any_classes(tmp_path: Path) -> None:
    text = "message,kind\n" + "".join(f"note {i},{'sales' if i % 2 else 'event'}\n" for i in range(40))
    data = read_labeled(write(tmp_path, text), label_column="kind")
    assert set(data.labels) == {"sales", "event"}


def test_split_column_filters(tmp_path: Path) -> None:
    text = "message,label,split\n" + "".join(f"n{i},spam,{'test' if i < 3 else 'train'}\n" for i in range(10))
    assert len(read_labeled(write(tmp_path, text), split="test", for_training=False)) == 3
    with pytest.raises(DataError, match="missing column split"):
        read_labeled(write(tmp_path, HEADER + "a,1,spam\n"), split="test", for_training=False)


def test_jsonl(tmp_path: Path) -> None:
    records = [{"message": f"note {i}", "mutual_connections": None, "label": "spam"} for i in range(3)]
    text = "\n".join(json.dumps(r) for r in records) + "\n{broken\n[1, 2]\n" + json.dumps({"label": "spam"}) + "\n"
    with pytest.raises(DataError) as info:
        read_labeled(write(tmp_path, text, "data.jsonl"), for_training=False)
    problems = info.value.problems
    assert problems[0].startswith("line 4: not valid JSON")
    assert problems[1] == "line 5: not a JSON object"
    assert problems[2] == "line 6: missing field message"
    good = "\n".join(json.dumps(r) for r in records) + "\n"
    assert read_labeled(write(tmp_path, good, "data.jsonl"), for_training=False).messages[2] == "note 2"


def test_bom_and_crlf(tmp_path: Path) -> None:
    text = ("\ufeff" + HEADER + "hello,1,spam\n").replace("\n", "\r\n")
    data = read_labeled(write(tmp_path, text), for_training=False)
    assert data.messages == ["hello"]


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def interrupted_write() -> None:
        with atomic_write(target) as handle:
            handle.write("new, half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted_write()
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
    with atomic_write(target) as handle:
        handle.write("new")
    assert target.read_text() == "new"
