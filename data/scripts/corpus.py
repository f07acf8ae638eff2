"""Build, describe and check the labeled corpus ``data/invitations.csv``.

    python data/scripts/corpus.py generate   # write data/invitations.csv
    python data/scripts/corpus.py stats      # print the counts tables (Markdown)
    python data/scripts/corpus.py card       # refresh the tables in data/README.md
    python data/scripts/corpus.py check      # regenerate in memory, compare with the file

The corpus is the hand-written notes in ``data/written/*.jsonl`` (origin
``written``) plus rows made here (origin ``generated``) by recombining written
material (``data/material/material.json`` and the default texts in
``invitecls/_resources/templates.tsv``): greetings, bodies, sign-offs, names,
companies, events, typos and evasions. Everything random comes from one seeded
generator, so running the script twice gives the same file.

Groups: a written note and its variants share a group; so does every row made
from one template or frame; and any two notes whose character 5-gram sets have
a Jaccard similarity of 0.8 or more (after folding case and whitespace) are put
in one group. The fixed split assigns whole groups to ``train`` or ``test``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[2]
WRITTEN = ROOT / "data" / "written"
MATERIAL = ROOT / "data" / "material" / "material.json"
TEMPLATES = ROOT / "invitecls" / "_resources" / "templates.tsv"
OUT = ROOT / "data" / "invitations.csv"
CARD = ROOT / "data" / "README.md"
SEED = 20261126
TEST_FRACTION = 0.25
COLUMNS = ["message", "mutual_connections", "label", "kind", "lang", "origin", "group", "split"]
KINDS = [
    "colleague", "classmate", "event", "content", "collaboration", "question", "referral",
    "recruiter", "sales", "flattery", "generic", "empty", "scam",
]  # fmt: skip
Row = dict[str, Any]


# ---------------------------------------------------------------- sampling


def genuine_count(rng: random.Random) -> int:
    """Shared connections of someone who knows the recipient: 10-500, log-uniform."""
    return round(math.exp(rng.uniform(math.log(10), math.log(500))))


def stranger_count(rng: random.Random) -> int:
    """Shared connections of a stranger: mostly 0-2, at most 5."""
    return rng.choices([0, 1, 2, 3, 4, 5], weights=[40, 22, 14, 10, 8, 6])[0]


def pitch_count(rng: random.Random) -> int | None:
    """Pitchers and open networkers: anywhere from 0 to 500, often many."""
    r = rng.random()
    if r < 0.15:
        return None
    if r < 0.45:
        return stranger_count(rng)
    return round(math.exp(rng.uniform(math.log(6), math.log(500))))


# ---------------------------------------------------------------- edits

_GREETING_AT_START = re.compile(
    r"^(?:hi|hii|hello|hey|dear|hallo|hej|hei|hoi|moin|servus|bonjour|salut|ciao|buongiorno|gentile|hola|"
    r"buenas|estimad[oa]|olá|ola|oi|prezad[oa]|beste|kære|cześć|czesc|dzień dobry|dzien dobry|witam|"
    r"good morning|guten tag|liebe|lieber|sehr geehrte[r]?)\b[^,!\n:—–-]{0,32}[,!\n:—–-]+\s*",
    re.IGNORECASE,
)


def regreet(text: str, lang: str, material: dict[str, Any], rng: random.Random) -> str:
    greetings = material["greetings"].get(lang)
    if not greetings:
        return text
    greeting = rng.choice(greetings).format(name=rng.choice(material["names"]))
    body = _GREETING_AT_START.sub("", text, count=1)
    if body == text and rng.random() < 0.5:
        return text  # keep notes without greeting as they are half the time
    return f"{greeting} {body}" if not greeting.endswith("\n") else greeting + body


def sign(text: str, lang: str, material: dict[str, Any], rng: random.Random) -> str:
    signoffs = material["signoffs"].get(lang)
    if not signoffs or text.rstrip()[-1:] not in ".!?)":
        return text
    signoff = rng.choice(signoffs).format(sender=rng.choice(material["senders"]))
    return text.rstrip() + rng.choice(["\n", " ", "\n\n"]) + signoff


_NEIGHBOURS = {
    "a": "sqz", "e": "wrd", "i": "uok", "o": "ipl", "n": "bm", "t": "ry", "s": "adw",
    "r": "et", "l": "k", "c": "xv", "u": "yi", "m": "n", "d": "sf", "h": "gj",
}  # fmt: skip


def typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    for i in rng.sample(candidates, k=min(len(candidates), rng.choice([1, 1, 2, 3]))):
        word = words[i]
        j = rng.randrange(1, len(word) - 1)
        op = rng.choice(["swap", "drop", "double", "near"])
        if op == "swap":
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif op == "drop":
            word = word[:j] + word[j + 1 :]
        elif op == "double":
            word = word[:j] + word[j] + word[j:]
        elif word[j].lower() in _NEIGHBOURS:
            word = word[:j] + rng.choice(_NEIGHBOURS[word[j].lower()]) + word[j + 1 :]
        words[i] = word
    return " ".join(words)


def vary(row: Row, material: dict[str, Any], rng: random.Random) -> str:
    """A variant of a written note: new greeting or name, sign-off, typos, casing, emoji."""
    text = row["message"]
    ops = rng.sample(["greet", "sign", "typo", "lower", "emoji", "typo2"], k=rng.choice([1, 2, 2, 3]))
    for op in ops:
        if op == "greet":
            text = regreet(text, row["lang"], material, rng)
        elif op == "sign":
            text = sign(text, row["lang"], material, rng)
        elif op in ("typo", "typo2"):
            text = typo(text, rng)
        elif op == "lower":
            text = text.lower()
        elif op == "emoji":
            text = text.rstrip() + " " + rng.choice(material["emoji"])
    return text


def evade(text: str, material: dict[str, Any], rng: random.Random) -> str:
    """Dress a generic note up to slip past a filter (one or two tricks)."""
    tricks = rng.sample(["invisible", "homoglyph", "spaced", "dotted", "emoji", "leet", "case", "fullwidth"], k=2)
    for trick in tricks[: rng.choice([1, 2])]:
        words = text.split(" ")
        long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()] or [0]
        if trick == "invisible":
            chars = list(text)
            for _ in range(rng.randint(2, 6)):
                chars.insert(rng.randrange(1, max(2, len(chars))), rng.choice(material["invisible"]))
            text = "".join(chars)
        elif trick == "homoglyph":
            glyphs = material["homoglyphs"]
            text = "".join(glyphs[c] if c in glyphs and rng.random() < 0.5 else c for c in text)
        elif trick in ("spaced", "dotted"):
            sep = " " if trick == "spaced" else rng.choice([".", "-", "*"])
            for i in rng.sample(long_words, k=min(2, len(long_words))):
                words[i] = sep.join(words[i])
            text = ("  " if trick == "spaced" else " ").join(words)
        elif trick == "emoji":
            for i in sorted(rng.sample(range(1, max(2, len(words))), k=min(3, max(1, len(words) - 1))), reverse=True):
                words.insert(i, rng.choice(material["emoji"]))
            text = " ".join(words)
        elif trick == "leet":
            table = material["leet"]
            text = "".join(table[c] if c in table and rng.random() < 0.6 else c for c in text)
        elif trick == "case":
            text = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)
        elif trick == "fullwidth":
            i = rng.choice(long_words)
            words[i] = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in words[i])
            text = " ".join(words)
    return text


# ---------------------------------------------------------------- sources


def load_written() -> list[Row]:
    rows: list[Row] = []
    for path in sorted(WRITTEN.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                rows.append(
                    {
                        "message": record["message"],
                        "mutual_connections": record["mutual_connections"],
                        "label": record["label"],
                        "kind": record["kind"],
                        "lang": record["lang"],
                        "origin": "written",
                        "group": f"w-{path.stem}-{number:04d}",
                    }
                )
    return rows


def load_default_texts() -> list[tuple[str, str]]:
    texts = []
    for line in TEMPLATES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            kind, lang, text = line.split("\t")
            if kind == "default" and "_name_" not in text:
                texts.append((lang, text))
    return texts


def label_generic(count: int | None) -> str:
    return "genuine" if count is not None and count >= 10 else "spam"


# ---------------------------------------------------------------- build


def generate_rows(written: list[Row], material: dict[str, Any]) -> list[Row]:
    """The generated rows, before grouping and splitting."""
    rng = random.Random(SEED)
    out: list[Row] = []

    def add(message: str, count: int | None, label: str, kind: str, lang: str, group: str) -> None:
        if len(message) <= 300:
            out.append(
                {
                    "message": message,
                    "mutual_connections": count,
                    "label": label,
                    "kind": kind,
                    "lang": lang,
                    "origin": "generated",
                    "group": group,
                }
            )

    # 1. Variants of written notes, in the same group as their source.
    for row in written:
        if rng.random() >= 0.35:
            continue
        text = vary(row, material, rng)
        if " ".join(text.lower().split()) == " ".join(row["message"].lower().split()):
            continue
        count = row["mutual_connections"]
        label = row["label"]
        if row["kind"] == "generic":
            count = None if count is None else (genuine_count(rng) if label == "genuine" else stranger_count(rng))
        elif row["kind"] == "flattery":
            count = None if rng.random() < 0.3 else stranger_count(rng)
        elif rng.random() < 0.3:
            count = None
        elif count is not None:
            count = max(0, count + rng.randint(-2, 2)) if count <= 5 else max(10, int(count * rng.uniform(0.7, 1.4)))
        add(text, count, label, row["kind"], row["lang"], row["group"])

    # 2. LinkedIn's default texts, personalised with a name only, in every language.
    for k, (lang, base) in enumerate(load_default_texts()):
        group = f"t-default-{lang}-{k:02d}"
        for _ in range(10):
            r = rng.random()
            name = rng.choice(material["names"])
            if r < 0.25:
                text = base
            elif r < 0.8:
                text = rng.choice(material["greetings"][lang]).format(name=name) + " " + base
            else:
                text = f"{name}, {base[0].lower()}{base[1:]}"
            if rng.random() < 0.15:
                text = sign(text, lang, material, rng)
            if rng.random() < 0.1:
                text = text.lower()
            count: int | None
            count = genuine_count(rng) if rng.random() < 0.45 else None if rng.random() < 0.4 else stranger_count(rng)
            add(text, count, label_generic(count), "generic", lang, group)

    # 3. Requests with no note.
    for i in range(820):
        r = rng.random()
        count = stranger_count(rng) if r < 0.4 else None if r < 0.6 else genuine_count(rng)
        add("", count, label_generic(count), "empty", "und", f"e-{i:04d}")

    # 4. Mass pitches with merge fields, often with many shared connections.
    for lang, frames in sorted(material["pitch_frames"].items()):
        for k, frame in enumerate(frames):
            for _ in range(6 if lang == "en" else 5):
                body = frame.format(
                    name=rng.choice(material["names"]),
                    company=rng.choice(material["companies"]),
                    title=rng.choice(material["titles"]),
                    city=rng.choice(material["cities"]),
                )
                if rng.random() < 0.6:
                    body = (
                        rng.choice(material["greetings"][lang]).format(name=rng.choice(material["names"])) + " " + body
                    )
                if rng.random() < 0.4:
                    body = sign(body, lang, material, rng)
                add(body, pitch_count(rng), "spam", "sales", lang, f"p-{lang}-{k:02d}")

    # 5. Flattery that fits anyone.
    for lang, frames in sorted(material["flattery_frames"].items()):
        for k, frame in enumerate(frames):
            for _ in range(6 if lang == "en" else 4):
                body = frame
                if rng.random() < 0.7:
                    body = (
                        rng.choice(material["greetings"][lang]).format(name=rng.choice(material["names"])) + " " + body
                    )
                if rng.random() < 0.3:
                    body = sign(body, lang, material, rng)
                count = None if rng.random() < 0.3 else stranger_count(rng)
                add(body, count, "spam", "flattery", lang, f"f-{lang}-{k:02d}")

    # 6. Evasions of generic notes, in the group of the note they dress up.
    sources = [
        r for r in written + out if r["label"] == "spam" and r["kind"] in ("generic", "flattery") and r["message"]
    ]
    for source in rng.sample(sources, k=min(330, len(sources))):
        text = evade(source["message"], material, rng)
        add(text, source["mutual_connections"], "spam", source["kind"], source["lang"], source["group"])
    return out


def _dedupe(rows: list[Row]) -> list[Row]:
    seen: set[tuple[str, Any, str]] = set()
    kept = []
    for row in rows:
        key = (row["message"], row["mutual_connections"], row["label"])
        # Requests with no note are separate requests even when their counts match.
        if row["message"] == "" or key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def shingles(text: str) -> set[str]:
    """Character 5-grams after folding case and whitespace."""
    folded = " ".join(text.lower().split())
    if len(folded) < 5:
        return {folded} if folded else set()
    return {folded[i : i + 5] for i in range(len(folded) - 4)}


def near_duplicate_pairs(messages: list[str], threshold: float = 0.8) -> list[tuple[int, int]]:
    """Pairs of non-empty notes whose 5-gram Jaccard similarity is >= threshold."""
    index: dict[str, int] = {}
    rows, cols = [], []
    sizes = np.zeros(len(messages))
    for i, message in enumerate(messages):
        grams = shingles(message)
        sizes[i] = len(grams)
        for gram in grams:
            rows.append(i)
            cols.append(index.setdefault(gram, len(index)))
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(messages), max(1, len(index))))
    pairs = []
    for start in range(0, len(messages), 512):
        block = (matrix[start : start + 512] @ matrix.T).tocoo()
        i, j, inter = block.row + start, block.col, block.data
        keep = (i < j) & (sizes[i] > 0)
        i, j, inter = i[keep], j[keep], inter[keep]
        jaccard = inter / (sizes[i] + sizes[j] - inter)
        pairs.extend(zip(i[jaccard >= threshold].tolist(), j[jaccard >= threshold].tolist()))
    return sorted(pairs)


def _merge_groups(rows: list[Row]) -> None:
    parent: dict[str, str] = {}

    def find(g: str) -> str:
        while parent.get(g, g) != g:
            parent[g] = parent.get(parent[g], parent[g])
            g = parent[g]
        return g

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            low, high = sorted((ra, rb))
            parent[high] = low

    for i, j in near_duplicate_pairs([r["message"] for r in rows]):
        union(rows[i]["group"], rows[j]["group"])
    for row in rows:
        row["group"] = find(row["group"])


def _stratum(row: Row) -> tuple[str, str, str, bool]:
    return (row["label"], row["kind"], row["lang"], row["mutual_connections"] is None)


def _assign_splits(rows: list[Row]) -> None:
    by_group: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_group[row["group"]].append(row)

    def order(group: str) -> tuple[int, str]:
        return (-len(by_group[group]), hashlib.sha256(f"{SEED}:{group}".encode()).hexdigest())

    seen: Counter[tuple[str, str, str, bool]] = Counter()
    in_test: Counter[tuple[str, str, str, bool]] = Counter()
    limit = max(25, int(0.02 * len(rows)))
    for group in sorted(by_group, key=order):
        members = by_group[group]
        strata = Counter(_stratum(r) for r in members)
        if len(members) > limit:
            split = "train"  # a very large family would swing the test split
        else:
            deficit = sum(n * (TEST_FRACTION * (seen[s] + n) - in_test[s]) for s, n in strata.items())
            split = "test" if deficit > 0 else "train"
        for s, n in strata.items():
            seen[s] += n
            if split == "test":
                in_test[s] += n
        for row in members:
            row["split"] = split


def _ambiguous_rows(rows: list[Row], rng: random.Random) -> list[Row]:
    """Generic notes with 6-9 shared connections: the guide's ambiguous band, train only.

    Nothing else in the note tells, so the guide's default applies: spam.
    """
    candidates = [r for r in rows if r["split"] == "train" and r["kind"] == "generic" and r["origin"] == "generated"]
    extra = []
    for source in rng.sample(candidates, k=min(20, len(candidates))):
        extra.append({**source, "mutual_connections": rng.randint(6, 9), "label": "spam"})
    for i in range(20):
        extra.append(
            {
                "message": "",
                "mutual_connections": rng.randint(6, 9),
                "label": "spam",
                "kind": "empty",
                "lang": "und",
                "origin": "generated",
                "group": f"e-ambiguous-{i:02d}",
                "split": "train",
            }
        )
    return extra


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _first_sentence(text: str) -> str | None:
    body = _GREETING_AT_START.sub("", text, count=1).strip()
    sentence = _SENTENCE_END.split(body, maxsplit=1)[0].strip()
    return sentence if 25 <= len(sentence) <= 150 and sentence[-1:] in ".!" else None


def _pretext_pitches(rows: list[Row], material: dict[str, Any], rng: random.Random) -> list[Row]:
    """A friendly opener taken from a genuine note, then a pitch: still spam (train only).

    The guide says a pitch stays spam even when it names a shared context. These
    rows teach that rule with the corpus's own material; they are made only from
    training rows and stay in the training split, so no test note is echoed.
    """
    train = [r for r in rows if r["split"] == "train" and r["origin"] == "written"]
    openers: dict[str, list[str]] = defaultdict(list)
    for row in train:
        if row["label"] == "genuine" and row["kind"] in ("content", "event"):
            sentence = _first_sentence(row["message"])
            if sentence:
                openers[row["lang"]].append(sentence)
    pitches = [r for r in train if r["kind"] in ("sales", "recruiter") and r["label"] == "spam"]
    out = []
    for source in rng.sample(pitches, k=min(500, len(pitches))):
        lang = source["lang"]
        if not openers.get(lang) or lang not in material["connectors"]:
            continue
        pitch = _GREETING_AT_START.sub("", source["message"], count=1).strip()
        if not pitch:
            continue
        text = f"{rng.choice(openers[lang])} {rng.choice(material['connectors'][lang])} {pitch[0].lower()}{pitch[1:]}"
        if rng.random() < 0.5 and lang in material["greetings"]:
            text = rng.choice(material["greetings"][lang]).format(name=rng.choice(material["names"])) + " " + text
        if len(text) <= 300:
            out.append(
                {
                    **source,
                    "message": text,
                    "mutual_connections": pitch_count(rng),
                    "origin": "generated",
                    "split": "train",
                }
            )
    return out


def build() -> list[Row]:
    """The whole corpus, deterministic."""
    material = json.loads(MATERIAL.read_text(encoding="utf-8"))
    written = load_written()
    rows = _dedupe(written + generate_rows(written, material))
    _merge_groups(rows)
    _assign_splits(rows)
    extra = _ambiguous_rows(rows, random.Random(SEED + 1)) + _pretext_pitches(rows, material, random.Random(SEED + 2))
    rows = _dedupe(rows + extra)
    rows.sort(key=lambda r: (r["split"] != "train", r["group"], r["origin"] != "written"))
    return rows


def to_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        count = row["mutual_connections"]
        writer.writerow({**{c: row[c] for c in COLUMNS}, "mutual_connections": "" if count is None else count})
    return buffer.getvalue()


def read_csv(path: Path = OUT) -> list[Row]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            {**r, "mutual_connections": int(r["mutual_connections"]) if r["mutual_connections"] else None}
            for r in csv.DictReader(handle)
        ]


# ---------------------------------------------------------------- stats


def _table(title: str, counter: dict[tuple[str, str], int], rows: list[str], cols: list[str]) -> str:
    lines = [f"**{title}**", "", "| | " + " | ".join(cols) + " | total |", "|---" * (len(cols) + 2) + "|"]
    for r in rows:
        values = [counter.get((r, c), 0) for c in cols]
        lines.append(f"| {r} | " + " | ".join(str(v) for v in values) + f" | {sum(values)} |")
    totals = [sum(counter.get((r, c), 0) for r in rows) for c in cols]
    lines.append("| total | " + " | ".join(str(v) for v in totals) + f" | {sum(totals)} |")
    return "\n".join(lines)


def stats(rows: list[Row]) -> str:
    """Counts tables in Markdown, as the data card shows them."""
    labels = ["genuine", "spam"]
    parts = []
    n = len(rows)
    written = sum(r["origin"] == "written" for r in rows)
    unknown = sum(r["mutual_connections"] is None for r in rows)
    empty = sum(r["message"] == "" for r in rows)
    non_english = sum(r["lang"] not in ("en", "und") for r in rows)
    parts.append(
        f"{n} rows: {written} written, {n - written} generated; "
        f"{empty} empty notes ({100 * empty / n:.1f}%); "
        f"{unknown} with unknown shared connections ({100 * unknown / n:.1f}%); "
        f"{non_english} not in English ({100 * non_english / n:.1f}%)."
    )
    for title, key, order in (
        ("By split and label", "split", ["train", "test"]),
        ("By origin and label", "origin", ["written", "generated"]),
        ("By kind and label", "kind", KINDS),
        ("By language and label", "lang", sorted({r["lang"] for r in rows}, key=lambda x: (x != "en", x))),
    ):
        counter = Counter((r[key], r["label"]) for r in rows)
        parts.append(_table(title, counter, order, labels))
    counter = Counter(
        ("unknown" if r["mutual_connections"] is None else "known", f"{r['split']}/{r['label']}") for r in rows
    )
    cols = [f"{s}/{lab}" for s in ("train", "test") for lab in labels]
    parts.append(_table("Shared connections known or unknown, by split and label", counter, ["known", "unknown"], cols))
    groups = Counter(r["group"] for r in rows)
    parts.append(
        f"{len(groups)} groups; the largest has {max(groups.values())} rows. "
        f"Test split: {sum(r['split'] == 'test' for r in rows)} rows in "
        f"{len({r['group'] for r in rows if r['split'] == 'test'})} groups."
    )
    return "\n\n".join(parts) + "\n"


LEXICON = ROOT / "invitecls" / "_resources" / "lexicon.txt"


def lexicon(rows: list[Row]) -> str:
    """Words used at least twice in the training split: what leetspeak decodes into."""
    counts: Counter[str] = Counter()
    for row in rows:
        if row["split"] == "train" and row["origin"] == "written":
            folded = re.sub(r"(?<=\w)'(?=\w{1,2}\b)", "", row["message"].lower())
            counts.update(w for w in re.findall(r"[^\W\d_]{2,}", folded))
    words = sorted(w for w, n in counts.items() if n >= 2)
    header = "# Frequent words of the training split, written by data/scripts/corpus.py lexicon\n"
    return header + "\n".join(words) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["generate", "stats", "card", "check", "lexicon"])
    args = parser.parse_args(argv)
    if args.command == "generate":
        text = to_csv(build())
        tmp = OUT.with_suffix(".csv.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(OUT)
        print(f"wrote {OUT.relative_to(ROOT)} ({text.count(chr(10)) - 1} lines)")
    elif args.command == "lexicon":
        LEXICON.write_text(lexicon(read_csv()), encoding="utf-8")
        print(f"wrote {LEXICON.relative_to(ROOT)}")
    elif args.command == "stats":
        sys.stdout.write(stats(read_csv()))
    elif args.command == "card":
        card = CARD.read_text(encoding="utf-8")
        begin, end = "<!-- stats:begin -->", "<!-- stats:end -->"
        head, _, rest = card.partition(begin)
        _, _, tail = rest.partition(end)
        CARD.write_text(f"{head}{begin}\n{stats(read_csv())}{end}{tail}", encoding="utf-8")
        print(f"refreshed the tables in {CARD.relative_to(ROOT)}")
    else:
        same = to_csv(build()) == OUT.read_text(encoding="utf-8")
        print("data/invitations.csv is reproducible" if same else "data/invitations.csv differs from a fresh build")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
