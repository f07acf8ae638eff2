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

Groups: a written note and its variants and counterfactual twins share a
group; so does every row made from one template or frame; and any two notes
whose character 5-gram sets, taken from invitecls's canonical text (what the
model reads), have a Jaccard similarity of 0.8 or more are put in one group.
The fixed split assigns whole groups to ``train`` or ``test`` by a hash of the
group's key, so adding notes never moves an existing one; the held-out default
texts go to ``test``. Every random choice is keyed on the item it is made for.
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
sys.path.insert(0, str(ROOT))
from invitecls._cues import CUE_NAMES, cue_counts  # noqa: E402
from invitecls._normalize import normalize_one  # noqa: E402  (the model's own canonical text)

WRITTEN = ROOT / "data" / "written"
MATERIAL = ROOT / "data" / "material" / "material.json"
CONTEXT_REMOVED = ROOT / "data" / "material" / "context_removed.jsonl"
TEMPLATES = ROOT / "invitecls" / "_resources" / "templates.tsv"
OUT = ROOT / "data" / "invitations.csv"
CARD = ROOT / "data" / "README.md"
SEED = 20261126
TEST_FRACTION = 0.25
COURTESY_SHARE = {"genuine": 0.7, "spam": 0.7}  # written notes that get a courteous twin
PITCH_APPENDED_SHARE = 0.05  # genuine notes that get a pitch appended (a flip)
HOOK_SHARE = 0.1  # pitches and scams that get a borrowed "specific" hook
VAGUE_PER_BODY = 3  # courteous notes made from each vague body
CONTEXT_PER_ITEM = 4  # courteous notes made from each specific context of the material
NAMES = ["Anna", "Ben", "Carla", "Dev", "Emil", "Fatima", "Greta", "Hugo", "Ines", "Jakub", "Kaisa", "Leo", "Maja"]
SENDERS = ["Alex", "Bea", "Chris", "Dana", "Erik", "Fran", "Gil", "Hana"]
N_EMPTY = 2200  # requests without a note (about 5% of the corpus)
TEMPLATE_HOLDOUT = 0.25  # share of each language's default texts whose rows are test-only
EVASION_SHARE = 0.14  # share of generic spam notes that get an evasion variant
# Hard cases are over-represented in the test split: a larger share of its
# pitches get a pretext, and of its (held-out) templates an ambiguous count.
PRETEXT_SHARE = {"train": 0.3, "test": 0.45}  # written pitches that get a friendly pretext (and a genuine twin)
AMBIGUOUS_SHARE = {"template": 0.12, "held-out-template": 0.4}  # template rows copied with 6-9 connections
COLUMNS = ["message", "mutual_connections", "label", "kind", "lang", "origin", "recipe", "group", "split"]
KINDS = [
    "colleague", "classmate", "event", "content", "collaboration", "question", "referral",
    "recruiter", "sales", "flattery", "generic", "empty", "scam",
]  # fmt: skip
Row = dict[str, Any]
RECIPES = [
    "written", "variant", "courtesy-twin", "hook-twin", "context-removed", "pitch-appended", "vague-courtesy",
    "template", "held-out-template", "empty", "pitch-frame", "flattery-frame", "evasion", "ambiguous",
    "pretext-pitch", "genuine-twin",
]  # fmt: skip


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
                        "recipe": "written",
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


# ---------------------------------------------------------------- stable randomness
# Every random choice is keyed on the item it is made for (a written note's
# group, a template's text, a frame's text), never drawn from one shared
# stream: adding notes to the corpus then changes no existing row.


def _key(*parts: object) -> str:
    return f"{SEED}:" + ":".join(str(p) for p in parts)


def _rng(*parts: object) -> random.Random:
    return random.Random(_key(*parts))


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    return int(hashlib.sha256(_key(*parts).encode()).hexdigest()[:13], 16) / 16**13


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def company(material: dict[str, Any], rng: random.Random) -> str:
    """A merge-field company name made for one row (no name recurs enough to be learned)."""
    parts = material["company_parts"]
    name = f"{rng.choice(parts['first'])}{rng.choice(parts['second'])} {rng.choice(parts['industries'])}"
    suffix = rng.choice(parts["suffixes"])
    return f"{name} {suffix}" if suffix else name


def held_out_templates(texts: list[tuple[str, str]]) -> set[str]:
    """The default texts whose rows all go to the test split: a quarter per language, at least one."""
    by_lang: dict[str, list[str]] = defaultdict(list)
    for lang, text in texts:
        by_lang[lang].append(text)
    held = set()
    for lang, group in by_lang.items():
        ranked = sorted(group, key=lambda t: _unit("template", lang, t))
        held.update(ranked[: max(1, round(TEMPLATE_HOLDOUT * len(ranked)))])
    return held


# ---------------------------------------------------------------- build


def _row(message: str, count: int | None, label: str, kind: str, lang: str, group: str, recipe: str) -> Row:
    return {
        "message": message,
        "mutual_connections": count,
        "label": label,
        "kind": kind,
        "lang": lang,
        "origin": "generated",
        "group": group,
        "recipe": recipe,
    }


def _variants(written: list[Row], material: dict[str, Any]) -> list[Row]:
    """Variants of a third of the written notes, in the group of their source."""
    out = []
    for row in written:
        rng = _rng("variant", row["group"])
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
        out.append(_row(text, count, label, row["kind"], row["lang"], row["group"], "variant"))
    return out


def _default_texts(material: dict[str, Any]) -> list[Row]:
    """LinkedIn's default texts, bare or with a name only, in every language."""
    texts = load_default_texts()
    held = held_out_templates(texts)
    out = []
    for lang, base in texts:
        key = _digest(f"{lang}:{base}")
        rng = _rng("default", key)
        recipe = "held-out-template" if base in held else "template"
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
            out.append(_row(text, count, label_generic(count), "generic", lang, f"t-default-{lang}-{key}", recipe))
    return out


def _empty_notes() -> list[Row]:
    out = []
    for i in range(N_EMPTY):
        rng = _rng("empty", i)
        r = rng.random()
        count = stranger_count(rng) if r < 0.4 else None if r < 0.6 else genuine_count(rng)
        out.append(_row("", count, label_generic(count), "empty", "und", f"e-{i:04d}", "empty"))
    return out


def _greet(body: str, lang: str, material: dict[str, Any], rng: random.Random) -> str:
    return rng.choice(material["greetings"][lang]).format(name=rng.choice(material["names"])) + " " + body


def _frames(material: dict[str, Any]) -> list[Row]:
    """Mass pitches with merge fields (often many shared connections), and flattery that fits anyone."""
    out = []
    for lang, frames in sorted(material["pitch_frames"].items()):
        for frame in frames:
            key = _digest(frame)
            rng = _rng("pitch", key)
            for _ in range(6 if lang == "en" else 5):
                body = frame.format(
                    name=rng.choice(material["names"]),
                    company=company(material, rng),
                    title=rng.choice(material["titles"]),
                    city=rng.choice(material["cities"]),
                )
                if rng.random() < 0.6:
                    body = _greet(body, lang, material, rng)
                if rng.random() < 0.4:
                    body = sign(body, lang, material, rng)
                out.append(_row(body, pitch_count(rng), "spam", "sales", lang, f"p-{lang}-{key}", "pitch-frame"))
    for lang, frames in sorted(material["flattery_frames"].items()):
        for frame in frames:
            key = _digest(frame)
            rng = _rng("flattery", key)
            for _ in range(6 if lang == "en" else 4):
                body = frame
                if rng.random() < 0.7:
                    body = _greet(body, lang, material, rng)
                if rng.random() < 0.3:
                    body = sign(body, lang, material, rng)
                count = None if rng.random() < 0.3 else stranger_count(rng)
                out.append(_row(body, count, "spam", "flattery", lang, f"f-{lang}-{key}", "flattery-frame"))
    return out


def _evasions(sources: list[Row], material: dict[str, Any]) -> list[Row]:
    """Generic notes dressed up to slip past a filter, in the group of the note they dress up."""
    out = []
    for source in sources:
        if not (source["label"] == "spam" and source["kind"] in ("generic", "flattery") and source["message"]):
            continue
        if _unit("evade", source["group"], source["message"]) >= EVASION_SHARE:
            continue
        text = evade(source["message"], material, _rng("evade", source["group"], source["message"]))
        out.append(
            _row(text, source["mutual_connections"], "spam", source["kind"], source["lang"], source["group"], "evasion")
        )
    return out


# ---------------------------------------------------------------- counterfactual pairs
# Minimal rewrites of written notes, each in its source's group (so both sides
# of a pair land in one split): the label must follow what a note says, not how
# politely it says it.

CONTEXT_KINDS = ("colleague", "classmate", "event", "content", "referral", "question", "collaboration", "recruiter")


def _courteous(text: str, lang: str, courtesy: dict[str, list[str]], rng: random.Random) -> str:
    """``text`` with one to three pieces of courtesy that carry no information."""
    body = _GREETING_AT_START.sub("", text, count=1).strip()
    parts = rng.sample(["greeting", "opener", "closer", "signoff", "emoji", "year"], k=rng.randint(1, 3))
    if not {"opener", "closer"} & set(parts):
        parts.append(rng.choice(["opener", "closer"]))
    name, sender = rng.choice(NAMES), rng.choice(SENDERS)
    if "opener" in parts:
        body = f"{rng.choice(courtesy['openers'])} {body[:1].upper()}{body[1:]}"
    greeting = text[: len(text) - len(_GREETING_AT_START.sub("", text, count=1))].strip()
    if "greeting" in parts or greeting:
        greeting = rng.choice(courtesy["greetings"]).format(name=name) if "greeting" in parts else greeting
        body = f"{greeting} {body}"
    if "year" in parts:
        # A year says nothing about a shared context ("Happy 2025!", "(2021)").
        year = rng.choice([2019, 2021, 2023, 2024, 2025, 2026])
        body = f"{body.rstrip()} ({year})" if rng.random() < 0.5 else f"{body.rstrip()} {year}!"
    if "closer" in parts:
        body = f"{body.rstrip()} {rng.choice(courtesy['closers'])}"
    if "emoji" in parts:
        body = f"{body.rstrip()} {rng.choice(['🙂', '👋', '🙏', '😊', '🤝'])}"
    if "signoff" in parts:
        body = f"{body.rstrip()}\n{rng.choice(courtesy['signoffs']).format(sender=sender)}"
    return body


def _counterfactuals(written: list[Row], material: dict[str, Any]) -> list[Row]:
    """Pairs that keep the label (courtesy added; a borrowed hook before a pitch) or flip it.

    Flips: a genuine note with its specific context removed (rewritten by a
    writer, ``material/context_removed.jsonl``) is spam from someone sharing
    few or unknown connections; a genuine note with a pitch, a scam or a vague
    recruiting offer appended is spam.
    """
    courtesy = material["courtesy"]
    removed = {}
    for line in CONTEXT_REMOVED.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        removed[record["source_group"]] = record["message"]
    out = []
    for row in written:
        lang, group, label = row["lang"], row["group"], row["label"]
        if lang not in courtesy:
            continue
        c = courtesy[lang]
        rng = _rng("counterfactual", group)
        if label == "genuine" and row["kind"] in CONTEXT_KINDS:
            if _unit("courtesy", group) < COURTESY_SHARE["genuine"]:
                count = None if rng.random() < 0.3 else row["mutual_connections"]
                text = _courteous(row["message"], lang, c, rng)
                out.append(_row(text, count, "genuine", row["kind"], lang, group, "courtesy-twin"))
            if _unit("pitch-appended", group) < PITCH_APPENDED_SHARE:
                kind, part = rng.choice([("sales", "pitches"), ("scam", "scams"), ("recruiter", "vague_recruiting")])
                addition = rng.choice(c[part]).format(company=company(material, rng))
                text = f"{row['message'].rstrip()} {addition}"
                out.append(_row(text, pitch_count(rng), "spam", kind, lang, group, "pitch-appended"))
            if group in removed:
                count = row["mutual_connections"]
                count = count if count is None or count <= 5 else (None if rng.random() < 0.5 else stranger_count(rng))
                out.append(_row(removed[group], count, "spam", "generic", lang, group, "context-removed"))
        elif label == "spam" and row["kind"] != "generic":
            if _unit("courtesy", group) < COURTESY_SHARE["spam"]:
                text = _courteous(row["message"], lang, c, rng)
                out.append(_row(text, row["mutual_connections"], "spam", row["kind"], lang, group, "courtesy-twin"))
            if row["kind"] in ("sales", "scam") and _unit("hook", group) < HOOK_SHARE:
                hook = rng.choice(c["hooks"]).format(company=company(material, rng), mutual=rng.choice(NAMES))
                body = _body(row["message"])
                text = f"{hook} {body}" if body else hook
                out.append(_row(text, pitch_count(rng), "spam", row["kind"], lang, group, "hook-twin"))
    return out


def _vague_courtesy(material: dict[str, Any]) -> list[Row]:
    """Courtesy around a body that fits anyone, in every language: spam from few or unknown connections.

    The courteous counterpart of a specific note, built from the writers'
    vague bodies (no school, employer, event, person or topic).
    """
    out = []
    for lang, c in sorted(material["courtesy"].items()):
        for body in c["vague_bodies"]:
            key = _digest(f"{lang}:{body}")
            rng = _rng("vague", key)
            for _ in range(VAGUE_PER_BODY):
                count = None if rng.random() < 0.5 else stranger_count(rng)
                text = _courteous(body, lang, c, rng)
                out.append(_row(text, count, "spam", "generic", lang, f"v-{lang}-{key}", "vague-courtesy"))
    return out


_KIND_OF_CONCEPT = {
    "referral": "referral",
    "content": "content",
    "event": "event",
    "past_interaction": "event",
    "purpose": "question",
    "shared": "colleague",
}


def context_kind(text: str) -> str:
    """The guide's kind of a written context, read from the first concept of invitecls's lexicons it names."""
    counts = cue_counts([normalize_one(text)[0]])[0]
    for concept in _KIND_OF_CONCEPT:
        if counts[CUE_NAMES.index(concept)]:
            return _KIND_OF_CONCEPT[concept]
    return "colleague"


def _context_courtesy(material: dict[str, Any]) -> list[Row]:
    """Courtesy around a specific context (genuine), and the same context before a pitch (spam).

    The genuine counterpart of ``_vague_courtesy``: the same greetings,
    openers, closers and sign-offs around a sentence that names a shared
    school, employer, event, referrer or the recipient's own work, with any
    count (a specific reason needs no shared connections). The context with a
    pitch, a scam or a vague recruiting offer after it is spam: a context does
    not excuse a pitch. Every row of one context shares its group.
    """
    out = []
    for lang, c in sorted(material["courtesy"].items()):
        for item in c["contexts"]:
            key = _digest(f"{lang}:{item}")
            rng = _rng("context", key)
            group, kind = f"c-{lang}-{key}", context_kind(item)
            for _ in range(CONTEXT_PER_ITEM):
                # Colleagues share many connections; an event contact or a referral may share none.
                known = (
                    genuine_count(rng) if kind == "colleague" else rng.choice([stranger_count(rng), genuine_count(rng)])
                )
                count = None if rng.random() < 0.5 else known
                text = _courteous(item, lang, c, rng)
                out.append(_row(text, count, "genuine", kind, lang, group, "context-courtesy"))
            kind, part = rng.choice([("sales", "pitches"), ("scam", "scams"), ("recruiter", "vague_recruiting")])
            addition = rng.choice(c[part]).format(company=company(material, rng))
            text = _courteous(f"{item.rstrip()} {addition}", lang, c, rng)
            out.append(_row(text, pitch_count(rng), "spam", kind, lang, group, "context-pitch"))
    return out


def generate_rows(written: list[Row], material: dict[str, Any]) -> list[Row]:
    """The generated rows that need no split, before grouping."""
    out = _variants(written, material) + _default_texts(material) + _empty_notes() + _frames(material)
    out += _counterfactuals(written, material) + _vague_courtesy(material) + _context_courtesy(material)
    out += _evasions(written + out, material)
    return [r for r in out if len(r["message"]) <= 300]  # LinkedIn's limit


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


def model_text(message: str) -> str:
    """What the model reads of a note: invitecls's canonical text (names masked, case and spacing folded)."""
    return normalize_one(message)[0]


def shingles(text: str) -> set[str]:
    """Character 5-grams of a note's canonical text."""
    folded = model_text(text)
    if len(folded) < 5:
        return {folded} if folded else set()
    return {folded[i : i + 5] for i in range(len(folded) - 4)}


def near_duplicate_pairs(messages: list[str], threshold: float = 0.8) -> list[tuple[int, int]]:
    """Pairs of notes whose canonical 5-gram Jaccard similarity is >= threshold (empty ones excluded)."""
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


def split_of_group(group: str) -> str:
    """The split of a group, fixed by its key alone: adding notes never moves an old one."""
    return "test" if _unit("split", group) < TEST_FRACTION else "train"


def _assign_splits(rows: list[Row]) -> None:
    """By the group's key, except for templates.

    A group with a row that contains a held-out default text goes to test (so
    no training row shows it); a group made from any other default text, to
    train.
    """
    held = [model_text(t) for t in held_out_templates(load_default_texts())]
    to_test, to_train = set(), set()
    for row in rows:
        text = model_text(row["message"])
        if row["recipe"] == "held-out-template" or any(t in text for t in held):
            to_test.add(row["group"])
        elif row["recipe"] == "template":
            to_train.add(row["group"])
    for row in rows:
        group = row["group"]
        row["split"] = "test" if group in to_test else "train" if group in to_train else split_of_group(group)


def _ambiguous_rows(rows: list[Row]) -> list[Row]:
    """Generic notes and empty requests with 6-9 shared connections: the guide's ambiguous band.

    Nothing else in the note tells, so the guide's default applies: spam. Both
    splits get them; evaluations report them apart from the headline figures.
    """
    extra = []
    for source in rows:
        share = AMBIGUOUS_SHARE.get(source["recipe"], 0.0)
        if _unit("ambiguous", source["message"]) < share:
            count = _rng("ambiguous", source["message"]).randint(6, 9)
            extra.append({**source, "mutual_connections": count, "label": "spam", "recipe": "ambiguous"})
    for i in range(80):
        group = f"e-ambiguous-{i:02d}"
        row = _row("", _rng("ambiguous-empty", i).randint(6, 9), "spam", "empty", "und", group, "ambiguous")
        extra.append({**row, "split": split_of_group(group)})
    return extra


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _first_sentence(text: str) -> str | None:
    body = _GREETING_AT_START.sub("", text, count=1).strip()
    sentence = _SENTENCE_END.split(body, maxsplit=1)[0].strip()
    return sentence if 25 <= len(sentence) <= 150 and sentence[-1:] in ".!" else None


def _body(text: str) -> str:
    body = _GREETING_AT_START.sub("", text, count=1).strip()
    return f"{body[0].lower()}{body[1:]}" if body else ""


def _pick(options: list[str], *key: object) -> str:
    """The option with the smallest keyed hash: stable when options are added elsewhere."""
    return min(options, key=lambda o: _unit(*key, o))


def _two_part_notes(rows: list[Row], material: dict[str, Any]) -> list[Row]:
    """A friendly opening sentence from a genuine note, a connector, then a pitch (spam) or a question (genuine).

    The guide says a pitch stays spam behind a shared context: the pretext
    pitches teach that. The genuine twins use the same openers and connectors
    before a real question, so that neither an opener nor a connector tells the
    label. Each row is built from notes of one split and stays in that split.
    """
    out = []
    for split in ("train", "test"):
        written = [r for r in rows if r["split"] == split and r["origin"] == "written"]
        openers: dict[str, list[str]] = defaultdict(list)
        questions: dict[str, list[Row]] = defaultdict(list)
        for row in written:
            if row["label"] == "genuine" and row["kind"] in ("content", "event"):
                sentence = _first_sentence(row["message"])
                if sentence:
                    openers[row["lang"]].append(sentence)
            if (
                row["label"] == "genuine"
                and row["kind"] in ("question", "collaboration")
                and len(row["message"]) <= 150
            ):
                questions[row["lang"]].append(row)
        for source in written:
            lang = source["lang"]
            if not (source["kind"] in ("sales", "recruiter") and source["label"] == "spam"):
                continue
            if not openers.get(lang) or not questions.get(lang) or lang not in material["connectors"]:
                continue
            if _unit("pretext", source["group"], source["message"]) >= PRETEXT_SHARE[split]:
                continue
            rng = _rng("pretext", source["group"], source["message"])
            connector = rng.choice(material["connectors"][lang]) if rng.random() < 0.5 else ""
            greeting = _greet("", lang, material, rng) if rng.random() < 0.5 and lang in material["greetings"] else ""
            question = min(questions[lang], key=lambda q: _unit("twin", source["group"], q["group"]))
            pair = []
            for made_from, recipe in ((source, "pretext-pitch"), (question, "genuine-twin")):
                opener = _pick(openers[lang], "opener", recipe, source["group"])
                text = " ".join(p for p in (greeting.strip(), opener, connector, _body(made_from["message"])) if p)
                count = pitch_count(rng) if recipe == "pretext-pitch" else made_from["mutual_connections"]
                row = _row(text, count, made_from["label"], made_from["kind"], lang, made_from["group"], recipe)
                pair.append({**row, "split": split})
            if all(len(r["message"]) <= 300 and _body(r["message"]) for r in pair):
                out.extend(pair)
    return out


def build(written: list[Row] | None = None) -> list[Row]:
    """The whole corpus, deterministic (``written``: the written notes, by default all of ``data/written``)."""
    material = json.loads(MATERIAL.read_text(encoding="utf-8"))
    written = load_written() if written is None else written
    rows = _dedupe(written + generate_rows(written, material))
    _merge_groups(rows)
    _assign_splits(rows)
    rows = _dedupe(rows + _ambiguous_rows(rows) + _two_part_notes(rows, material))
    rows.sort(key=lambda r: (r["split"] != "train", r["group"], r["origin"] != "written", r["message"]))
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
    counter = Counter((r["recipe"], r["split"]) for r in rows)
    parts.append(
        _table(
            "By recipe and split (the hard cases are in the test split at least in their share)",
            counter,
            RECIPES,
            ["train", "test"],
        )
    )
    for title, key, order in (
        ("By split and label", "split", ["train", "test"]),
        ("By origin and label", "origin", ["written", "generated"]),
        ("By recipe and label", "recipe", RECIPES),
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
