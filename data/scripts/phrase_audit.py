"""Phrase audit: no courtesy or boilerplate phrase decides a label in the training split.

    python data/scripts/phrase_audit.py            # the table; exit 1 if a phrase fails
    python data/scripts/phrase_audit.py --all      # also the phrases seen fewer than 30 times

For each phrase of ``data/phrases.tsv`` (courtesy and boilerplate phrases in
every corpus language, gathered from the facts about real notes in the data
card), count the training rows *of its language* that contain it and their
spam share, balanced for the label sizes: ``(s/S) / (s/S + g/G)`` with ``s``,
``g`` the rows of each label that contain the phrase and ``S``, ``G`` the label
totals in that language. A phrase seen
30 times or more must keep that share within 0.15 of the share the facts
document for it, or within 0.25-0.75 where they document none: a phrase that
real senders of both kinds use must not tell the label here.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PHRASES = ROOT / "data" / "phrases.tsv"
CORPUS = ROOT / "data" / "invitations.csv"
MIN_ROWS = 30
BAND = (0.25, 0.75)
TOLERANCE = 0.15


@dataclass(frozen=True)
class PhraseResult:
    lang: str
    phrase: str
    documented: float | None
    spam_rows: int
    genuine_rows: int
    share: float  # balanced spam share; 0.5 when the phrase is absent
    allowed: tuple[float, float]

    @property
    def rows(self) -> int:
        return self.spam_rows + self.genuine_rows

    @property
    def ok(self) -> bool:
        return self.rows < MIN_ROWS or self.allowed[0] <= self.share <= self.allowed[1]


def fold(text: str) -> str:
    """Lower case, typographic apostrophes straightened, whitespace collapsed."""
    return " ".join(text.casefold().replace("\u2019", "'").split())


def read_phrases(path: Path = PHRASES) -> list[tuple[str, str, float | None]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            (r["lang"], r["phrase"], float(r["documented_spam_share"]) if r["documented_spam_share"] else None)
            for r in csv.DictReader(handle, delimiter="\t")
        ]


def audit(rows: list[dict[str, str]], phrases: list[tuple[str, str, float | None]]) -> list[PhraseResult]:
    """The audit of the training rows among ``rows`` (dicts with message, label, split)."""
    # A phrase is audited in its own language: "connecte" is Danish courtesy and a French verb.
    train: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        if r["split"] == "train":
            train.setdefault(r["lang"], []).append((fold(r["message"]), r["label"]))
    results = []
    for lang, phrase, documented in phrases:
        notes = train.get(lang, [])
        totals = Counter(label for _, label in notes)
        pattern = re.compile(r"(?<!\w)" + re.escape(fold(phrase)) + r"(?!\w)")
        hits = Counter(label for text, label in notes if pattern.search(text))
        spam = hits["spam"] / totals["spam"] if totals["spam"] else 0.0
        genuine = hits["genuine"] / totals["genuine"] if totals["genuine"] else 0.0
        share = spam / (spam + genuine) if spam + genuine else 0.5
        allowed = BAND if documented is None else (documented - TOLERANCE, documented + TOLERANCE)
        results.append(PhraseResult(lang, phrase, documented, hits["spam"], hits["genuine"], share, allowed))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="also list phrases seen fewer than 30 times")
    args = parser.parse_args(argv)
    with open(CORPUS, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    results = audit(rows, read_phrases())
    print("| lang | phrase | training rows (spam / genuine) | balanced spam share | allowed | |")
    print("|---|---|---|---|---|---|")
    for r in sorted(results, key=lambda r: (-r.rows, r.lang, r.phrase)):
        if args.all or r.rows >= MIN_ROWS:
            mark = "ok" if r.ok else "FAILS"
            print(
                f"| {r.lang} | {r.phrase} | {r.rows} ({r.spam_rows} / {r.genuine_rows}) | {r.share:.2f} | "
                f"{r.allowed[0]:.2f}-{r.allowed[1]:.2f} | {mark if r.rows >= MIN_ROWS else 'rare'} |"
            )
    failed = [r for r in results if not r.ok]
    audited = sum(r.rows >= MIN_ROWS for r in results)
    print(f"\n{len(results)} phrases, {audited} seen {MIN_ROWS}+ times in training rows; {len(failed)} fail")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
