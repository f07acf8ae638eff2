"""Check a writer's file before it joins the corpus.

    python data/scripts/check_written.py data/written/NAME.jsonl

Checks the record format, the label rules that a kind implies, the ambiguous
band, and near-copies (character 5-gram Jaccard >= 0.6, stricter than the
split's 0.8) of any other written note or of another row of the same file.
Prints the counts and either OK or the problems; exits 1 on a problem.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

WRITTEN = Path(__file__).resolve().parents[1] / "written"
FIELDS = {"message", "mutual_connections", "label", "kind", "lang", "voice"}
KINDS = {
    "colleague",
    "classmate",
    "event",
    "content",
    "collaboration",
    "question",
    "referral",
    "recruiter",
    "sales",
    "flattery",
    "generic",
    "scam",
}
GENUINE_ONLY = {"colleague", "classmate", "event", "content"}
SPAM_ONLY = {"sales", "flattery", "scam"}
LANGS = {"en", "de", "fr", "es", "pt", "it", "nl", "sv", "da", "no", "pl", "fi"}
CLOSE = 0.6


def grams(text: str) -> set[str]:
    text = re.sub(r"\s+", " ", text.lower()).strip()
    return {text[i : i + 5] for i in range(max(len(text) - 4, 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(len(a | b), 1)


def row_problems(n: int, row: dict[str, object]) -> list[str]:
    if set(row) != FIELDS:
        return [f"line {n}: fields {sorted(row)}, expected {sorted(FIELDS)}"]
    message, count, label, kind = row["message"], row["mutual_connections"], row["label"], row["kind"]
    out = []
    if not isinstance(message, str) or not message.strip() or len(message) > 300:
        out.append(f"line {n}: message must be 1 to 300 characters")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        out.append(f"line {n}: mutual_connections must be an integer >= 0 or null")
    if label not in ("spam", "genuine"):
        out.append(f"line {n}: label {label!r}")
    if kind not in KINDS:
        out.append(f"line {n}: kind {kind!r}")
    if row["lang"] not in LANGS:
        out.append(f"line {n}: lang {row['lang']!r}")
    if kind in GENUINE_ONLY and label != "genuine":
        out.append(f"line {n}: kind {kind} is always genuine")
    if kind in SPAM_ONLY and label != "spam":
        out.append(f"line {n}: kind {kind} is always spam")
    if kind == "flattery" and isinstance(count, int) and count > 5:
        out.append(f"line {n}: flattery is kept at 0-5 shared connections or unknown")
    if kind == "generic":
        if isinstance(count, int) and 6 <= count <= 9:
            out.append(f"line {n}: a generic note with 6-9 shared connections is ambiguous: avoid")
        elif label != ("genuine" if isinstance(count, int) and count >= 10 else "spam"):
            out.append(f"line {n}: a generic note with {count} shared connections has the other label")
    return out


def main(path: Path) -> int:
    others = [
        (p.name, json.loads(line)["message"])
        for p in sorted(WRITTEN.glob("*.jsonl"))
        if p.resolve() != path.resolve()
        for line in p.open(encoding="utf-8")
        if line.strip()
    ]
    other_grams = [grams(m) for _, m in others]
    index: dict[str, list[int]] = {}
    for i, g in enumerate(other_grams):
        for gram in g:
            index.setdefault(gram, []).append(i)

    problems: list[str] = []
    rows: list[dict[str, object]] = []
    mine: list[set[str]] = []
    for n, line in enumerate(path.open(encoding="utf-8"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"line {n}: not JSON ({error})")
            continue
        rows.append(row)
        problems += row_problems(n, row)
        g = grams(str(row.get("message", "")))
        shared: Counter[int] = Counter()
        for gram in g:
            shared.update(index.get(gram, ()))
        for i, inter in shared.items():
            if inter / (len(g) + len(other_grams[i]) - inter) >= CLOSE:
                problems.append(f"line {n}: too close to a note in {others[i][0]}: {others[i][1][:70]!r}")
                break
        for j, earlier in enumerate(mine):
            if jaccard(g, earlier) >= CLOSE:
                problems.append(f"line {n}: a near-copy of row {j + 1} of this file")
                break
        mine.append(g)

    print(f"{len(rows)} rows:", dict(Counter((r.get("lang"), r.get("label")) for r in rows)))
    print("kinds:", dict(Counter(r.get("kind") for r in rows)))
    print("unknown counts:", sum(r.get("mutual_connections") is None for r in rows))
    print("\n".join(problems[:40]) if problems else "OK")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
