"""Text normalisation: one canonical form per note, whatever its dress.

A spammer who wants a generic note to slip past a filter changes how it looks,
not what it says: invisible characters, look-alike letters from other scripts,
full-width forms, s p a c e d or p.u.n.c.t.u.a.t.e.d letters, leetspeak,
emoji between words, random casing, combining marks stacked on letters, text
reversed behind a right-to-left override. The normaliser undoes all of these,
so that the word and character features of the model see the same text, and it
counts what it undid: hidden characters and mixed scripts are signals in their
own right.

It also masks what makes a template look personal without making it so: the
recipient's name in the greeting, URLs, e-mail addresses and @handles.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import NamedTuple

__all__ = ["MAX_CHARS", "SIGNAL_NAMES", "NormalizedNote", "mostly_disguised", "normalize"]

#: Only this many characters of a note are read. LinkedIn caps notes at 300
#: characters; the cap bounds the work on hostile input, not the answer.
MAX_CHARS = 2000

#: Placeholders that replace masked spans; they survive tokenisation intact.
NAME, URL, EMAIL, HANDLE = "_name_", "_url_", "_email_", "_handle_"

#: Names of the signals returned next to the canonical text, in order.
SIGNAL_NAMES = (
    "n_chars",
    "n_invisible",
    "n_mixed_script",
    "n_emoji",
    "n_links",
    "has_question",
    "n_exclaim",
    "has_money",
    "has_percent",
    "n_numbers",
)


@dataclass(frozen=True)
class NormalizedNote:
    """A note in canonical form, with the signals found while normalising.

    Attributes
    ----------
    text : str
        Canonical text: lower case, look-alikes folded, years dropped, names, links and
        addresses masked, punctuation and emoji removed, whitespace collapsed.
    n_chars : int
        Length of the note as received (capped at ``MAX_CHARS``).
    n_invisible : int
        Hidden characters removed: invisible, format, control, private-use
        and unassigned characters, and combining marks that are not part of a
        letter (a mark of the letter's own script, or an accent written
        decomposed in an ordinary text, is kept and composed).
    n_mixed_script : int
        Words that mixed letters of several scripts, or look-alike letters
        that were folded in a Latin-script note.
    n_emoji : int
        Emoji and pictographs.
    n_links : int
        URLs, e-mail addresses and @handles masked.
    has_question : bool
        The note asks something (``?`` or ``¿``).
    n_exclaim : int
        Exclamation marks.
    n_lines : int
        Line breaks.
    upper_ratio : float
        Share of upper-case letters among letters.
    has_money : bool
        A currency sign or amount.
    has_percent : bool
        A percentage.
    n_proper : int
        Capitalised words inside sentences: names of people, places, events,
        products (specific notes have many, generic ones few).
    n_numbers : int
        Numbers.
    """

    text: str
    n_chars: int
    n_invisible: int
    n_mixed_script: int
    n_emoji: int
    n_links: int
    has_question: bool
    n_exclaim: int
    n_lines: int
    upper_ratio: float
    has_money: bool
    has_percent: bool
    n_proper: int
    n_numbers: int


def normalize(message: str | None) -> NormalizedNote:
    """Return the canonical form of a note and the signals found in it.

    Parameters
    ----------
    message : str or None
        The note; ``None`` and ``""`` stand for a request without a note.

    Returns
    -------
    NormalizedNote
        The canonical text and the signals found while normalising.

    See Also
    --------
    InviteFeatures : The features read from the canonical text.

    Examples
    --------
    >>> normalize("Hi Anders, I'd like to connect with you on LinkedIn.").text
    'hi _name_ id like to connect with you on linkedin'
    >>> normalize("I'd l\u200bike to c o n n e c t").text
    'id like to connect'
    """
    text, signals = normalize_one(message)
    (n_chars, n_inv, n_mixed, n_emoji, n_links, has_q, n_excl, money, pct, numbers) = signals
    # Not model features (they change with case or layout), but useful to look at.
    # CRLF is one line break, as normalize_one reads it.
    raw = (message or "")[:MAX_CHARS].replace("\r\n", "\n").translate(_tables().strip)
    letters = [ch for ch in raw if ch.isalpha()]
    upper_ratio = sum(ch.isupper() for ch in letters) / len(letters) if letters else 0.0
    return NormalizedNote(
        text=text,
        n_chars=int(n_chars),
        n_invisible=int(n_inv),
        n_mixed_script=int(n_mixed),
        n_emoji=int(n_emoji),
        n_links=int(n_links),
        has_question=bool(has_q),
        n_exclaim=int(n_excl),
        n_lines=raw.count("\n"),
        upper_ratio=float(upper_ratio),
        has_money=bool(money),
        has_percent=bool(pct),
        n_proper=_count_proper(raw) if upper_ratio < 0.5 else 0,
        n_numbers=int(numbers),
    )


# --------------------------------------------------------------------------
# Tables, built once on first use (import does no work).


def _invisible_codepoints() -> list[int]:
    points = [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFFA0, 0xFEFF]
    points += list(range(0x180B, 0x1810))  # Mongolian variation selectors and free variation
    points += list(range(0x200B, 0x2010))  # zero-width space .. right-to-left mark
    points += list(range(0x202A, 0x202F))  # bidirectional embeddings and overrides
    points += list(range(0x2060, 0x2070))  # word joiner, invisible operators, bidi isolates
    points += list(range(0xFFF0, 0xFFFC))  # specials and interlinear annotation controls
    points += list(range(0x1BCA0, 0x1BCA4))  # shorthand format controls
    points += list(range(0x1D173, 0x1D17B))  # musical formatting characters
    points += list(range(0xE0000, 0xE0080))  # tag characters
    points += list(range(0xD800, 0xE000))  # lone surrogates
    points += [c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]
    points += list(range(0x7F, 0xA0))
    return points


# Joiners and variation selectors are part of ordinary emoji: removed but not counted.
_SILENT = [0x200D, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]


class _Tables(NamedTuple):
    """The character tables of the normaliser, built once on first use."""

    strip: dict[int, str | None]  # removed (None) or replaced characters
    counted: dict[int, str | None]  # those of them counted as hidden
    apostrophes: dict[int, str]
    fold: dict[int, str]  # look-alike letters to their Latin letter
    # Most notes hold none of these characters: one regex scan finds out,
    # cheaper than translating the note through a large table.
    strip_search: re.Pattern[str]
    apostrophe_search: re.Pattern[str]
    foldable: re.Pattern[str]  # finds the characters folding changes (and the astral ones but emoji)
    suspect_search: re.Pattern[str]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    invisible = dict.fromkeys(_invisible_codepoints())
    silent = dict.fromkeys(_SILENT)
    # Control characters that Python counts as whitespace separate words: keep them as spaces.
    whitespace = {c: " " for c in range(0x100) if chr(c).isspace() and c != 0x0A}
    whitespace.update({0x0D: "\n", 0x2028: "\n", 0x2029: "\n", 0x85: "\n"})
    strip_table: dict[int, str | None] = {**invisible, **silent, **whitespace}
    count_table: dict[int, str | None] = {k: v for k, v in invisible.items() if k not in silent and k not in whitespace}
    apostrophes = {ord(c): "'" for c in "\u2018\u2019\u201b\u02bc\u02bb\u0060\u00b4\u2032\uff07"}
    # The table is applied after case folding, so it is keyed by case-folded
    # characters: one mapping per letter whatever its case (a note must not
    # change when its case does). Where the small letter has a look-alike of
    # its own it wins (Greek ν looks like v, though Ν looks like N); otherwise
    # the capital's (Η is an H, and η alone looks like nothing Latin).
    chosen: dict[str, tuple[bool, str]] = {}
    text = resources.files("invitecls._resources").joinpath("confusables.tsv").read_text("utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, target = line.split("\t")
            char = chr(int(code, 16))
            key = char.casefold()
            if len(key) != 1 or key.isascii():
                continue
            small = char == key
            if key not in chosen or (small and not chosen[key][0]):
                chosen[key] = (small, target)
    fold = {ord(key): target for key, (_, target) in chosen.items()}
    # Characters that may need work beyond NFKC: those of the strip table,
    # combining marks, and characters that are not printable (format,
    # control, private-use, unassigned), but for line breaks and the spaces
    # NFKC turns into " ". Above U+FFFF, all but the emoji blocks: a class
    # with the many small ranges there is slow on every text, and the few
    # notes with historic scripts, math letters or rare ideographs can take
    # the slow path.
    suspect = [c for c in strip_table if strip_table[c] != chr(c)]
    suspect += (c for c in range(0x80, 0x10000) if _suspect(chr(c)))
    astral = [(0x10000, _EMOJI_BLOCKS[0] - 1), (_EMOJI_BLOCKS[1] + 1, 0x10FFFF)]
    return _Tables(
        strip=strip_table,
        counted=count_table,
        apostrophes=apostrophes,
        fold=fold,
        strip_search=_char_class(k for k, v in strip_table.items() if v != chr(k)),
        apostrophe_search=_char_class(apostrophes),
        foldable=_char_class((k for k, v in fold.items() if v != chr(k) and k < 0x10000), astral),
        suspect_search=_char_class((c for c in suspect if c < 0x10000), astral),
    )


_MARKS = frozenset({"Mn", "Mc", "Me"})
_YPOGEGRAMMENI = "\u0345"
# Emoji newer than this Python's Unicode data are unassigned to it: kept, as emoji.
_EMOJI_BLOCKS = (0x1F000, 0x1FAFF)
# Controls of the bidirectional algorithm: embeddings, overrides and isolates.
_LRE, _RLE, _PDF, _LRO, _RLO = "\u202a\u202b\u202c\u202d\u202e"
_LRI, _RLI, _FSI, _PDI = "\u2066\u2067\u2068\u2069"
_MIRROR = str.maketrans("()[]{}<>«»‹›", ")(][}{><»«›‹")


def _suspect(ch: str) -> bool:
    """Whether a BMP character may need work beyond NFKC (see ``suspect_search``)."""
    if ch.isprintable():
        return unicodedata.category(ch) in _MARKS
    return unicodedata.category(ch) != "Zs" or unicodedata.normalize("NFKC", ch) != " "


def _char_class(codes: Iterable[int], spans: Iterable[tuple[int, int]] = ()) -> re.Pattern[str]:
    """A regex matching any one of ``codes`` or of the inclusive ranges ``spans``."""
    ranges: list[list[int]] = []
    for code in sorted(set(codes)):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    ranges += ([a, b] for a, b in spans)
    parts = (re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile("[" + "".join(parts) + "]")


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    """Words that leetspeak is decoded into.

    The shipped word list (frequent words of the corpus's training split, in
    all its languages) plus the words of the templates and concept lexicons.
    """
    from invitecls._templates import template_texts

    words: set[str] = set(resources.files("invitecls._resources").joinpath("lexicon.txt").read_text("utf-8").split())
    for text in template_texts():
        words.update(re.findall(r"[^\W\d_]+", text.lower().replace("'", "")))
    cues = json.loads(resources.files("invitecls._resources").joinpath("cues.json").read_text("utf-8"))
    for key, values in cues.items():
        if not key.startswith("_"):
            for value in values:
                words.update(re.findall(r"[^\W\d_]+", value))
    words.update(
        "hello please accept request network professional profile impressive connect connecting opportunity "
        "opportunities business investment income money free offer linkedin you your love like would great "
        "amazing".split()
    )
    return frozenset(w for w in words if len(w) >= 2)


_EMOJI_CHARS = (
    "\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_EMOJI = re.compile(f"[{_EMOJI_CHARS}]")
_MONEY = re.compile(r"[$€£¥₹₽₩]|\b\d+(?:[.,]\d+)?\s*(?:k|m|usd|eur|gbp|dollars?|euros?)\b", re.I)
_PERCENT = re.compile(r"\d\s*%|\bpercent\b|\bprozent\b|\bpour\s*cent\b|\bpor\s*ciento\b", re.I)
_GENERIC_DOMAINS = "com|net|org|io|co|ly|me|ai|app|xyz|info|biz|gl|gg|to|link|site|online|shop"
_COUNTRY_DOMAINS = "de|fr|it|es|pt|nl|be|se|dk|no|pl|fi|uk|eu|ch|at|br|mx|ie|ca|au|in|ng"
_LINKS = re.compile(
    r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<url>(?:https?://|www\.)\S+"
    rf"|\b[\w-]+(?:\.[\w-]+)*\.(?:{_GENERIC_DOMAINS})(?:/\S*)?(?!\w)"
    # A country's domain is a link when its name has a hyphen or a path
    # follows ("konto-tarkistus.fi", "bank.pl/login"): its letters are words
    # too, and "great.It was" is a missing space, not a link.
    rf"|\b\w+(?:-\w+)+(?:\.[\w-]+)*\.(?:{_COUNTRY_DOMAINS})(?:/\S*)?(?!\w)"
    rf"|\b[\w-]+(?:\.[\w-]+)*\.(?:{_COUNTRY_DOMAINS})/\S*)"
    r"|(?P<handle>(?<![\w@])@[\w.]{2,})",
    re.I,
)
# Letters written apart: c o n n e c t, c.o.n.n.e.c.t, c - o - n ... (three or more).
# A match may mix separators; _join_spaced joins only the stretches that keep one.
_SPACED = re.compile(r"(?<![^\W_])[^\W_](?:(?:\s+|\s*[.\-_*·•|~+,'/]\s*)[^\W_]){2,}(?![^\W_])")
_ONE_LETTER = re.compile(r"([^\W_])")
_LEET_ONE_TABLE = str.maketrans("03457", "oeast")
_LEET_TOKEN = re.compile(r"(?<![\w@$!|'])(?=[\w@$!|']*[^\W\d_])(?=[\w@$!|']*[013457@$!|])[\w@$!|']+\w")
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
_LEET_TABLE = str.maketrans(_LEET)
# One-letter words of the corpus's languages (English a, Spanish y, Polish w, Norwegian å...).
_ONE_LETTER_WORDS = frozenset("aiyoeuwzàèéóòå")
_INTERIOR_LEET = re.compile(r"[^\W\d_][013457][^\W\d_]")
_WORD = re.compile(r"\w+")
# Emoji with the spaces around them: "[ \t]*(?:EMOJI[ \t]*)+", written to start
# with one class, so that a scan skips to the spaces and emoji instead of
# trying the pattern at every position.
_EMOJI_RUN = re.compile(
    rf"[ \t{_EMOJI_CHARS}](?:(?<=[{_EMOJI_CHARS}])[ \t]*(?:[{_EMOJI_CHARS}][ \t]*)*|[ \t]*(?:[{_EMOJI_CHARS}][ \t]*)+)"
)
# Punctuation put between words to break up a known phrase ("like ~ to ~ connect").
# (The lookahead lets a position that starts no separator fail at once: twice as fast.)
_SEPARATORS = re.compile(
    r"(?=[~|•·*=+^#<>\[\]{}\\/.…!?,\s])(?:[~|•·*=+^#<>\[\]{}\\/]+|\.{2,}|…|[!?]{2,}|,{2,}|\s[-–—]+(?=\s))"
)
# This and _NUMBER and _YEAR start with the character they look for, then look
# behind it: a scan skips at once the positions where it is not (a leading
# lookbehind would be tried at every position).
_CONTRACTION = re.compile(r"'(?<=\w')(?=\w{1,2}\b)")
_DIGIT = re.compile(r"\d")
_CURRENCY = re.compile(r"[$€£¥₹₽₩]")
_AMOUNT = re.compile(r"\d\s*(?:k|m|usd|eur|gbp|dollars?|euros?)\b", re.I)
_LEET_CHAR = re.compile(r"[013457@$|]")  # a quick scan before the slower alternation below
# A digit or symbol next to a letter; starting with the rare symbol makes the scan fast.
_LEET_ADJACENT = re.compile(r"[013457@$|](?:(?=[a-z])|(?<=[a-z][013457@$|]))")
_TLD = re.compile(
    rf"\.(?:{_GENERIC_DOMAINS})(?!\w)"
    rf"|-\w+\.(?:{_COUNTRY_DOMAINS})(?!\w)|\.(?:{_COUNTRY_DOMAINS})/"
)
_LEET_HINT = re.compile(
    r"[^\W\d_][013457@$!|]+[^\W\d_]|(?<![\w@$!|'])[013457@$|][^\W\d_]|[^\W\d_][013457@$|](?![\w@$!|'])"
)
_SPACED_MARKS = frozenset(".-_*·•|~+,'/")
_NO_SIGNALS = (0.0,) * 10
_WORDS = re.compile(r"\S+")
_NUMBER = re.compile(r"\d(?<![\w.,]\d)\d*(?:[.,]\d+)*")
# A year says when, not what: "(2021)" or "class of 2017" must not move a verdict.
_YEAR = re.compile(
    r"(?:19|20)(?<![\w.,]\d\d)\d\d(?![\w.,]\d)(?!\s*(?:[€$£%]|eur|usd|gbp|chf|pln|zł|kr|k\b|dollar|euro))"
)

_GREETINGS = (
    "hi|hii|hiya|hello|hallo|hey|heya|hej|hejsan|hei|hoi|moin|servus|yo|dear|greetings|good morning|"
    "good afternoon|good evening|good day|gruezi|grüezi|guten tag|guten morgen|liebe|lieber|"
    "sehr geehrte|sehr geehrter|bonjour|bonsoir|salut|cher|chère|chers|ciao|salve|buongiorno|buonasera|"
    "gentile|gentilissima|gentilissimo|egregio|caro|cara|hola|buenos días|buenos dias|buenas tardes|"
    "buenas|estimado|estimada|querido|querida|olá|ola|oi|bom dia|boa tarde|prezado|prezada|"
    "goedemorgen|goedemiddag|goedendag|beste|hallå|tjena|god morgon|god dag|kære|kaere|goddag|"
    "dzień dobry|dzien dobry|cześć|czesc|witam|witaj|szanowny|szanowna|szanowni|"
    # Greetings the corpus's writers use in every language (from data/material/material.json).
    "morning|afternoon|respected|howya|guten abend|grüss gott|grüss dich|griass di|sali|davs|god aften|"
    "god eftermiddag|godmorgen|halløj|halløjsa|hejsa|apreciado|apreciada|buen día|buen dia|cordial saludo|"
    "muy buenos días|qué onda|que onda|qué tal|que tal|saludos|holaa|heippa|heissan|huomenta|hyvä|"
    "hyvää huomenta|hyvää päivää|moi|moi moi|moikka|morjens|moro|päivää|terve|allô|allo|bjr|bon matin|"
    "coucou|buon pomeriggio|buondì|carissima|carissimo|ehi|dag|geachte|goedenavond|goeiemiddag|"
    "goeiemorgen|hallokes|hallootjes|heey|god ettermiddag|god formiddag|god kveld|god morgen|halla|hallais|"
    "heia|heisann|kjære|morn|dobry wieczór|hejka|siema|boa noite|caríssimo|caríssima|e aí|fala|oii|"
    "bästa|god kväll|kära|morrn|tja|tjabba|tjenare"
)
_TITLES = (
    "mr|mrs|ms|miss|dr|prof|professor|sir|madam|herr|frau|mme|madame|monsieur|mlle|sr|sra|srta|"
    "dott|dottssa|dott ssa|dottoressa|ing|avv|doña|dona|pan|pani|fru|hr|mevrouw|meneer|dhr|mevr|"
    "señor|señora|senhor|senhora|mx"
)
_GREETING = re.compile(rf"^[¡¿]?(?:{_GREETINGS})(?:\s+(?:{_TITLES})\b\.?)?(?=\s|[,!:.]|$)")
_NAME_WORD = re.compile(r"\s*([^\W\d_][\w'\-]*)")
_NAME_END = re.compile(r"\s*(?:[,!:;.\n]|[-–—]|$)")
# Words that start a sentence: a greeting followed by one of them has no name.
_STARTERS = frozenset(
    "i id im ive ill we my our hope its it is thank thanks just please would saw came "
    "ich wir je j nous jag vi jeg ik wij io noi yo eu nós nos i'd i'm i've i'll it's".split()
)


def _mask_name(text: str) -> str:
    """Mask the recipient's name after a greeting ("hi anders," -> "hi _name_,")."""
    match = _GREETING.match(text)
    if match is None:
        return text
    pos = match.end()
    words: list[tuple[int, int]] = []
    while len(words) < 3:
        word = _NAME_WORD.match(text, pos)
        if word is None or word.group(1) in _STARTERS or word.group(1).startswith("_"):
            break
        words.append(word.span(1))
        pos = word.end()
        if _NAME_END.match(text, pos):
            return text[: words[0][0]] + NAME + text[words[-1][1] :]
    if words and len(words) <= 2 and _NAME_WORD.match(text, pos) and text[pos:].split()[0] in _STARTERS:
        # "hi anders i'd like to connect": no punctuation, but a sentence starts.
        return text[: words[0][0]] + NAME + text[words[-1][1] :]
    return text


def _emoji_gap(match: re.Match[str]) -> str:
    return " " if match.group(0).count(" ") + match.group(0).count("\t") <= 2 else "  "


def _decode_leet(match: re.Match[str]) -> str:
    token = match.group(0)
    lexicon = _lexicon()
    candidates = [token.translate(_LEET_TABLE)]
    if "1" in token:
        candidates = [c.replace("1", letter) for c in candidates for letter in "il"]
    for candidate in candidates:
        word = candidate.replace("'", "")
        # Two letters are too easy to hit by chance ("5g" is not "sg"): only
        # the short words of the templates count.
        if word in lexicon and (len(word) > 2 or word in _short_words()):
            return candidate
    # A word the lexicon does not know is still decoded when a digit sits
    # between letters ("c0nn3cta"): names like web3, covid19 or b2b have none.
    if len(token) >= 4 and _INTERIOR_LEET.search(token):
        return candidates[0]
    return token


@lru_cache(maxsize=1)
def _short_words() -> frozenset[str]:
    from invitecls._templates import template_texts

    words = {w for text in template_texts() for w in re.findall(r"[^\W\d_]+", text.casefold().replace("'", ""))}
    return frozenset(w for w in words if len(w) <= 2)


def _segment(text: str, lexicon: frozenset[str]) -> list[str] | None:
    """Split a string of joined words into lexicon words (fewest pieces), or None."""
    n = len(text)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 24), end):
            head = best[start]
            piece = text[start:end]
            if head is not None and (piece in lexicon or (len(piece) == 1 and piece in _ONE_LETTER_WORDS)):
                candidate = [*head, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[n]


def _join_spaced(match: re.Match[str]) -> str:
    """A run of letters written apart, with each stretch that keeps one separator joined.

    "c o n n e c t" is one stretch; "I'm a" (an apostrophe, then a space),
    "S.A. w" or "sp. z o.o." have none, and stay words; "s*i*c*h j*e*d*e*r*z*e*i*t"
    has two, set apart by the space between them.
    """
    parts = _ONE_LETTER.split(match.group(0))  # "", letter, separator, letter, ..., letter, ""
    letters = parts[1::2]
    after = [*parts[2:-1:2], ""]  # the separator after each letter
    out: list[str] = []
    position = 0  # the first letter not yet written out
    kinds = [_separator_kind(s) for s in after[:-1]]
    for first, last in _stretches(kinds):
        out += [letters[i] + after[i] for i in range(position, first)]
        written = "".join(letters[i] + after[i] for i in range(first, last)) + letters[last]
        joined = _join_letters("".join(letters[first : last + 1]), written, words=kinds[first][0] == "")
        out += [joined, after[last]]
        position = last + 1
    out += [letters[i] + after[i] for i in range(position, len(letters))]
    return "".join(out)


def _separator_kind(separator: str) -> tuple[str, bool, bool]:
    """The mark and whether whitespace stands before and after it: how much whitespace does not matter."""
    return separator.strip(), separator[0].isspace(), separator[-1].isspace()


def _stretches(kinds: list[tuple[str, bool, bool]]) -> list[tuple[int, int]]:
    """The first and last letter of each stretch of three or more letters with one kind of separator.

    Two runs of separators next to each other share a letter: see ``_claim``.
    """
    runs: list[list[int]] = []  # separator indices, first and last, of runs of one kind
    for i, kind in enumerate(kinds):
        if runs and kinds[runs[-1][1]] == kind:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    claims = [_claim(run, kinds) for run in runs]
    for (left, right), (held, wanted) in zip(pairwise(runs), pairwise(claims)):
        if held < wanted:
            left[1] -= 1
        else:
            right[0] += 1
    # Separators first .. last join letters first .. last + 1.
    return [(first, last + 1) for first, last in runs if last - first >= 1]


def _claim(run: list[int], kinds: list[tuple[str, bool, bool]]) -> int:
    """How strongly a run of separators holds the letters at its two ends.

    Marked letters ("r.e.d.e") outrank spaced ones ("m i n h a  r.e.d.e"),
    since whitespace also sets words apart; a lone mark ("system. Message",
    "S.A. w") is punctuation, and holds least. Of two equal runs, the first
    keeps the letter they share.
    """
    if kinds[run[0]][0] == "":
        return 1
    return 2 if run[1] > run[0] else 0


def _join_letters(joined: str, written: str, words: bool) -> str:
    """Letters written apart, as words.

    ``joined`` are the letters, ``written`` the stretch as written; ``words``
    when whitespace parts them, which may also part words ("y o u r  r e c e n t").
    """
    # Initials and numbers ("1.2.3", "a/b") are not evasions: need letters.
    if sum(ch.isalpha() for ch in joined) < 3:
        return written
    lexicon = _lexicon()
    # A mark between letters ("j*e*d*e*r*z*e*i*t") dresses up one word, known or not.
    if not words or joined in lexicon or len(joined) > 60:
        return joined
    # Whole words written apart lose their word boundaries ("connectwithyou"):
    # find them again with the lexicon, also through leetspeak digits.
    candidates = [joined]
    if any(ch.isdigit() for ch in joined):
        decoded = joined.translate(_LEET_ONE_TABLE)
        candidates += [decoded.replace("1", "i"), decoded.replace("1", "l")]
    for candidate in candidates:
        pieces = _segment(candidate, lexicon)
        if pieces:
            return " ".join(pieces)
    return joined


def _may_be_spaced(text: str) -> bool:
    """Cheap test: are there letters written apart (three pieces such as "c", "o," in a row, or c.o.n)?"""
    pieces = 0  # short pieces in a row
    marks = _SPACED_MARKS
    for word in text.split():
        n = len(word)  # once: this loop runs over every word of every note
        if n < 3:
            if n == 1 or not word.isalnum():
                pieces += 1
                if pieces >= 3:
                    return True
                continue
        elif n >= 5 and ((word[1] in marks and word[3] in marks) or (n >= 6 and word[2] in marks and word[4] in marks)):
            return True
        pieces = 0
    return False


@lru_cache(maxsize=4096)
def _is_latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


def _fold_scripts(text: str, fold: dict[int, str], foldable: re.Pattern[str]) -> tuple[str, int]:
    """Fold look-alike letters to ASCII; return the text and the mixed-script count.

    In a note written mostly in Latin letters every look-alike is folded. In a
    note mostly in another script (a Greek or Russian note) only the words that
    mix scripts are folded, so that honest text in that script is left alone.
    """
    # Folding changes a text only through ``foldable`` characters; most notes have none.
    if foldable.search(text) is None:
        return text, 0
    foreign = [ch for ch in set(text) if not ch.isascii() and ch.isalpha() and not _is_latin(ch)]
    if not foreign:
        # Latin letters (accents included) and symbols only: just the few
        # Latin-script look-alikes (dotless i, script g) to fold.
        folded = text.translate(fold)
        if folded == text:
            return text, 0
        return folded, sum(1 for word in text.split() if word.translate(fold) != word)
    other_set = set(foreign)
    other = sum(1 for ch in text if ch in other_set)
    latin = sum(1 for ch in text if ch.isalpha()) - other
    if latin >= other:
        folded = text.translate(fold)
        changed = sum(1 for a, b in zip(text, folded) if a != b) if len(folded) == len(text) else 1
        mixed = sum(1 for word in text.split() if word.translate(fold) != word)
        return folded, max(mixed, 1 if changed else 0)
    words = text.split(" ")
    mixed = 0
    for i, word in enumerate(words):
        has_latin = any(ch.isascii() and ch.isalpha() for ch in word)
        if has_latin and word.translate(fold) != word:
            words[i] = word.translate(fold)
            mixed += 1
    return " ".join(words), mixed


def _resolve_overrides(text: str) -> str:
    """Put text written behind a bidi override in the order a reader sees it.

    An override forces the direction of every character up to its PDF (or
    PDI, or the end of the paragraph): left-to-right letters behind a
    right-to-left override are shown reversed, so a note stored as
    "nIdekniL no tcennoc" reads "connect on LinkedIn". Such a span is
    reversed (brackets mirrored, nested spans kept whole, as the display
    does); so is right-to-left text behind a left-to-right override.
    Embeddings and isolates do not reorder the letters of a word: they are
    left to be removed. The controls themselves stay, to be counted.
    """
    # Each frame: its opening control, the pieces (characters or closed spans)
    # inside it and the bidi classes seen in them (kept as it goes: linear time).
    stack: list[tuple[str, list[str], set[str]]] = [("", [], set())]

    def close() -> None:
        kind, pieces, classes = stack.pop()
        inner = pieces[1:]  # pieces[0] is the control itself
        rtl = "R" in classes or "AL" in classes
        if (kind == _RLO and not rtl) or (kind == _LRO and rtl and "L" not in classes):
            inner = [piece.translate(_MIRROR) if len(piece) == 1 else piece for piece in reversed(inner)]
        stack[-1][1].append(pieces[0] + "".join(inner))
        stack[-1][2].update(classes)

    for ch in text:
        if ch in "\u202a\u202b\u202d\u202e\u2066\u2067\u2068":
            if len(stack) <= 125:  # the algorithm's maximum depth; deeper controls are ignored
                stack.append((ch, [ch], set()))
                continue
        elif ch == _PDF and stack[-1][0] in (_LRE, _RLE, _LRO, _RLO):
            close()
        elif ch == _PDI and any(frame[0] in (_LRI, _RLI, _FSI) for frame in stack):
            while stack[-1][0] not in (_LRI, _RLI, _FSI):
                close()
            close()
        elif ch in "\n\r\u2029\x1c\x1d\x1e\x85":
            while len(stack) > 1:
                close()
        stack[-1][1].append(ch)
        stack[-1][2].add(unicodedata.bidirectional(ch))
    while len(stack) > 1:
        close()
    return "".join(stack[0][1])


def _known_words(text: str) -> int:
    lexicon = _lexicon()
    return sum(1 for word in re.findall(r"[^\W\d_]+", text.casefold()) if word in lexicon)


def _drop_unprintable(text: str) -> tuple[str, int]:
    """Remove format, control, private-use, surrogate and unassigned characters; count them.

    Separators become spaces or line breaks. Only notes holding a character
    that is not printable (other than a line break) come here, before NFKC:
    a character removed between a letter and its accent must not keep them
    apart.
    """
    out = []
    removed = 0
    for ch in text:
        if ch.isprintable() or ch == "\n":
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Zs":
            out.append(" ")
        elif category in ("Zl", "Zp"):
            out.append("\n")
        elif category == "Cn" and _EMOJI_BLOCKS[0] <= ord(ch) <= _EMOJI_BLOCKS[1]:
            out.append(ch)
        else:
            removed += 1
    return "".join(out), removed


@lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    """First word of a character's name: its script, near enough ("" for the marks named
    COMBINING, which belong to no script)."""
    name = unicodedata.name(ch, "")
    return "" if name.startswith("COMBINING") else name.split(" ", 1)[0]


def _strip_marks(text: str) -> tuple[str, int]:
    """Remove the combining marks that are not part of a letter; count them.

    Runs before NFKC, which composes the accents of text typed decomposed
    ("e" and a combining acute make "é"). A mark after a letter is kept when
    it belongs to the letter's script (Devanagari vowel signs, Hebrew points,
    Arabic vowels, Thai tone marks), or when it composes with the letter into
    an accented letter of the European alphabets (``_alphabet_letter``) and
    such marks follow fewer than half the letters: written languages put them
    on at most a third (Finnish typed decomposed), a disguise on most. Any
    other mark after a letter is disguise. After a symbol, enclosing marks and
    marks that compose with it stay (keycaps, "≠").
    """
    # Pieces: a base character and the marks after it.
    pieces: list[tuple[str, list[str]]] = [("", [])]
    letters = foreign = 0
    for ch in text:
        if unicodedata.category(ch) in _MARKS:
            base = pieces[-1][0]
            pieces[-1][1].append(ch)
            if base.isalpha() and not _same_script(ch, base):
                foreign += 1
        else:
            pieces.append((ch, []))
            letters += ch.isalpha()
    disguised = 2 * foreign >= letters
    out = []
    removed = 0
    for base, marks in pieces:
        out.append(base)
        if not marks:
            continue
        if base.isalpha():
            out.extend(m for m in marks if _same_script(m, base))
            other = "".join(m for m in marks if not _same_script(m, base))
            composed = unicodedata.normalize("NFC", base + other) if other else ""
            if other and not disguised and len(composed) == 1 and _alphabet_letter(composed):
                out.append(other)
            else:
                removed += len(other)
        elif len(unicodedata.normalize("NFC", base + "".join(marks))) == 1 or all(
            unicodedata.category(m) == "Me" for m in marks
        ):
            out.extend(marks)
        else:
            removed += len(marks)
    return "".join(out), removed


def _same_script(mark: str, letter: str) -> bool:
    script = _script(mark)
    return bool(script) and script == _script(letter)


def _alphabet_letter(ch: str) -> bool:
    """An accented letter of the European alphabets: Latin-1 and Latin Extended-A
    (and Romanian ș ț), Greek, Cyrillic; or kana with a voicing mark."""
    code = ord(ch)
    return (
        0xC0 <= code <= 0x17F
        or 0x218 <= code <= 0x21B
        or 0x370 <= code <= 0x4FF
        or 0x1F00 <= code <= 0x1FFF
        or 0x3040 <= code <= 0x30FF
    )


def mostly_disguised(n_hidden: float, text: str) -> bool:
    """Whether a note's letters are mostly disguised.

    Parameters
    ----------
    n_hidden : float
        Hidden characters and stray marks removed (the ``n_invisible`` signal).
    text : str
        The canonical text.

    Returns
    -------
    bool
        True when at least five were removed and they number at least half
        the letters left: one after most letters.

    Examples
    --------
    >>> mostly_disguised(normalize("H\u200be\u200bl\u200bl\u200bo\u200b").n_invisible, "hello")
    True
    >>> mostly_disguised(1, "hello")
    False
    """
    if n_hidden < 5:
        return False
    return 2 * n_hidden >= sum(1 for ch in text if ch.isalpha())


def _count_proper(text: str) -> int:
    count = 0
    previous = "."
    for word in _WORDS.findall(text):
        first = word[0]
        if first.isupper() and len(word) > 1 and previous[-1] not in ".!?:\n" and not word.isupper():
            count += 1
        elif first.isupper() and word.isupper() and 2 <= len(word) <= 6 and previous[-1] not in ".!?:":
            count += 1  # acronyms: PyCon's CFP, ACCA, UPM
        previous = word
    return count


def normalize_one(message: str | None) -> tuple[str, tuple[float, ...]]:
    """Canonical text and signal values (in ``SIGNAL_NAMES`` order) of one note.

    Each step reads what the one before left: a disguise is undone before the
    signals are counted, and the note is folded to lower case and Latin
    letters before links, spaced-out words and the greeting's name are looked
    for. Every step is guarded by a cheap test, because most notes need few of
    them: this runs once per note and dominates the cost of a large batch.

    Parameters
    ----------
    message : str or None
        The note; None and ``""`` stand for a request without one. Only its
        first ``MAX_CHARS`` characters are read.

    Returns
    -------
    text : str
        The canonical text (``normalize(message).text``).
    signals : tuple of float
        The value of each of ``SIGNAL_NAMES``, in order.

    Examples
    --------
    >>> text, signals = normalize_one("Hi Anders, are you at PyData?")
    >>> text, dict(zip(SIGNAL_NAMES, signals))["has_question"]
    ('hi _name_ are you at pydata', 1.0)
    """
    if not message:
        return "", _NO_SIGNALS
    raw = message[:MAX_CHARS]
    text, n_invisible, ascii_only = _reveal(raw)
    n_emoji, has_question, n_exclaim, n_numbers, has_money, has_percent = _count_signals(text, ascii_only)
    text, n_mixed = _fold_letters(text, ascii_only)
    text, n_links = _mask_links(text)
    text = _undo_word_disguises(text, n_emoji)
    text = _mask_greeting(text.strip())
    text = _words_only(text, n_numbers)
    signals = (
        float(len(raw)),
        float(n_invisible),
        float(n_mixed),
        float(n_emoji),
        float(n_links),
        float(has_question),
        float(n_exclaim),
        float(has_money),
        float(has_percent),
        float(n_numbers),
    )
    return sys.intern(text) if len(text) < 64 else text, signals


def _reveal(raw: str) -> tuple[str, int, bool]:
    """The note as a reader sees it, the number of hidden characters taken out, and whether it is ASCII.

    Line breaks become ``\\n``; hidden characters and stray combining marks go
    (counted); text behind a right-to-left override is read in the order shown;
    the rest is NFKC-normalised, with every apostrophe as ``'``.
    """
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n")
    if raw.isascii() and raw.isprintable():
        text, n_invisible, ascii_only = raw, 0, True
    else:
        text, n_invisible = _remove_hidden(raw)
        ascii_only = text.isascii()
        if not ascii_only:
            text = unicodedata.normalize("NFKC", text)
            tables = _tables()
            if tables.apostrophe_search.search(text) is not None:
                text = text.translate(tables.apostrophes)
    if "`" in text:
        text = text.replace("`", "'")
    return text, n_invisible, ascii_only


def _remove_hidden(raw: str) -> tuple[str, int]:
    """Overrides resolved, then invisible, unprintable characters and stray marks removed; how many."""
    tables = _tables()
    suspect: re.Pattern[str] = tables.suspect_search
    if suspect.search(raw) is None:
        return raw, 0
    n_invisible = 0
    text = raw
    if tables.strip_search.search(raw) is not None:
        if _RLO in raw or _LRO in raw:
            # What a reader sees; unless overrides stacked up scramble it
            # while the stored order reads as words (then that is the message).
            shown = _resolve_overrides(raw)
            strip = tables.strip
            if _known_words(shown.translate(strip)) >= _known_words(raw.translate(strip)):
                raw = shown
        # Invisible characters: counted, then removed.
        n_invisible = len(raw) - len(raw.translate(tables.counted))
        text = raw.translate(tables.strip)
    if not text.isascii():
        # Before NFKC, which would compose a disguising accent with its letter.
        if not text.replace("\n", "").isprintable():
            text, removed = _drop_unprintable(text)
            n_invisible += removed
        if _YPOGEGRAMMENI in text:
            # The one mark with case: upper case makes it the letter "Ι". It is
            # that letter's small form, so a verdict cannot depend on case.
            text = text.replace(_YPOGEGRAMMENI, "ι")
        if any(unicodedata.category(ch) in _MARKS for ch in suspect.findall(text)):
            text, removed = _strip_marks(text)
            n_invisible += removed
    return text, n_invisible


def _count_signals(text: str, ascii_only: bool) -> tuple[int, bool, int, int, bool, bool]:
    """Emoji, question, exclamation marks, numbers, money, percentages: read before case and masks change the text."""
    n_emoji = len(_EMOJI.findall(text)) if not ascii_only and _EMOJI.search(text) is not None else 0
    has_question = "?" in text or "¿" in text
    n_exclaim = text.count("!") + text.count("¡")
    n_numbers = len(_NUMBER.findall(text)) if _DIGIT.search(text) else 0
    has_money = _CURRENCY.search(text) is not None or (n_numbers > 0 and _AMOUNT.search(text) is not None)
    has_percent = "%" in text or (("cent" in text or "rozent" in text) and _PERCENT.search(text) is not None)
    return n_emoji, has_question, n_exclaim, n_numbers, has_money, has_percent


def _fold_letters(text: str, ascii_only: bool) -> tuple[str, int]:
    """Lower case, and look-alike letters of other scripts as Latin ones; the number of mixed-script words."""
    # casefold, not lower: "Straße" and "STRASSE" must meet.
    text = text.casefold()
    if ascii_only:
        return text, 0
    tables = _tables()
    return _fold_scripts(text, tables.fold, tables.foldable)


def _link_placeholder(match: re.Match[str]) -> str:
    kind = match.lastgroup
    return f" {EMAIL if kind == 'email' else URL if kind == 'url' else HANDLE} "


def _mask_links(text: str) -> tuple[str, int]:
    """URLs, e-mail addresses and @handles replaced by placeholders; how many."""
    if "@" in text or "://" in text or "www." in text or _TLD.search(text):
        return _LINKS.subn(_link_placeholder, text)
    return text, 0


def _undo_word_disguises(text: str, n_emoji: int) -> str:
    """Words put back together: emoji between letters, s p a c e d letters, leetspeak."""
    if n_emoji:
        # An emoji between letters is one separator; between words it stays a
        # word boundary (spaced-out words are set apart by two spaces).
        text = _EMOJI_RUN.sub(_emoji_gap, text)
    if _may_be_spaced(text):
        text = _SPACED.sub(_join_spaced, text)
    if _LEET_CHAR.search(text) and _LEET_ADJACENT.search(text):
        text = _LEET_TOKEN.sub(_decode_leet, text)
    return text


def _mask_greeting(text: str) -> str:
    """The name after an opening greeting masked."""
    if not _GREETING.match(text):
        return text
    # Punctuation put between words must not hide the name after a greeting.
    head, tail = text[:80], text[80:]
    return _mask_name(_one_space(_SEPARATORS.sub(" ", head))) + tail


def _one_space(text: str) -> str:
    """Each run of whitespace as one space: ``re.sub(r"\\s+", " ", text)``, without a regex."""
    words = " ".join(text.split())
    lead = " " if text[:1].isspace() else ""
    trail = " " if words and text[-1].isspace() else ""
    return lead + words + trail


def _words_only(text: str, n_numbers: int) -> str:
    """Contractions joined, years dropped, punctuation and symbols gone, one space between words."""
    if "'" in text:
        text = _CONTRACTION.sub("", text)
    if n_numbers:
        text = _YEAR.sub(" ", text)
    return " ".join(_WORD.findall(text))
