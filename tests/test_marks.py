"""Invisible characters, combining marks and bidi overrides cannot turn spam genuine.

The sweep inserts one character after every letter of a spam note: every code
point of categories Mn (but U+0345, below), Mc, Me, Cf, Cc, Zs, Zl and Zp, and a seeded sample of
private-use, surrogate and unassigned code points, the notes taken in turn.
Every label must stay spam, and the whole batch is classified at once.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter

import pytest

import invitecls
from invitecls._normalize import _resolve_overrides, _strip_marks, mostly_disguised, normalize_one

#: Generic notes and pitches, nine languages; each is spam with the shipped model.
SPAM = [
    "I'd like to connect with you on LinkedIn.",
    "Hi Anders, I'd like to add you to my professional network on LinkedIn.",
    "We help companies like yours generate 10x more qualified leads. Do you have 15 minutes for a quick call "
    "this week?",
    "I came across your profile and was impressed. Our agency offers affordable web design and SEO services, "
    "let me know if you are interested.",
    "Earn passive income from home with our proven crypto trading system. Message me to learn how.",
    "Your profile is amazing! I am a financial advisor and I can show you how to double your money in 30 days.",
    "Hallo, ich würde mich gerne mit Ihnen auf LinkedIn vernetzen.",
    "Wir helfen Unternehmen wie Ihrem, mehr Kunden zu gewinnen. Hätten Sie diese Woche 15 Minuten für ein "
    "kurzes Gespräch?",
    "Bonjour, j'aimerais vous ajouter à mon réseau professionnel sur LinkedIn.",
    "Notre agence aide les entreprises à générer plus de prospects qualifiés. Seriez-vous disponible pour un "
    "appel rapide cette semaine ?",
    "Hola, me gustaría agregarte a mi red profesional de LinkedIn.",
    "Ayudamos a empresas como la suya a conseguir más clientes. ¿Tiene 15 minutos para una llamada esta semana?",
    "Ciao, vorrei aggiungerti alla mia rete professionale su LinkedIn.",
    "Aiutiamo le aziende come la vostra a trovare nuovi clienti. Avrebbe 15 minuti per una breve chiamata "
    "questa settimana?",
    "Hallo, ik wil je graag toevoegen aan mijn professionele netwerk op LinkedIn.",
    "Wij helpen bedrijven zoals het uwe aan meer klanten. Heeft u deze week 15 minuten voor een kort gesprek?",
    "Olá, gostaria de adicionar você à minha rede profissional no LinkedIn.",
    "Ajudamos empresas como a sua a conquistar mais clientes. Você teria 15 minutos para uma conversa rápida "
    "esta semana?",
    "Dzień dobry, chciałbym dodać Pana do mojej sieci zawodowej na LinkedIn.",
    "Hej, jag vill gärna lägga till dig i mitt professionella nätverk på LinkedIn.",
]
PITCH = SPAM[2]
DEFAULT = SPAM[0]
#: A genuine note the shipped model accepts.
GENUINE = "Great meeting you at the PyCon Berlin sprint on Saturday, thanks again for the help with the async tests!"
EVERY = ("Mn", "Mc", "Me", "Cf", "Cc", "Zs", "Zl", "Zp")  # Mc beyond the report: spacing marks split words too
SAMPLED = ("Co", "Cs", "Cn")


def after_every_letter(note: str, char: str) -> str:
    return "".join(c + char if c.isalpha() else c for c in note)


#: U+0345 is the one mark that normalisation turns into a letter ("ι", so that a
#: verdict does not depend on case: its upper case is the letter "Ι"). After every
#: letter it is a letter inserted after every letter, not a hidden character: see
#: the test of its own below, a known gap.
YPOGEGRAMMENI = 0x345


def sweep_points() -> list[int]:
    every: list[int] = []
    others: list[int] = []
    for code in range(0x110000):
        if code == YPOGEGRAMMENI:
            continue
        category = unicodedata.category(chr(code))
        if category in EVERY:
            every.append(code)
        elif category in SAMPLED:
            others.append(code)
    return every + random.Random(12).sample(others, 5000)


def test_the_sweep_notes_are_spam() -> None:
    assert len({invitecls.classify(n).label for n in SPAM}) == 1
    assert all(p.label == "spam" for p in invitecls.classify_many(SPAM))
    assert invitecls.classify(GENUINE).action == "accept"


def test_no_inserted_character_changes_a_label() -> None:
    points = sweep_points()
    assert len(points) > 7000
    dressed = [after_every_letter(SPAM[i % len(SPAM)], chr(code)) for i, code in enumerate(points)]
    predictions = invitecls.classify_many(dressed)
    failures = [
        (f"U+{code:04X}", unicodedata.category(chr(code)), i % len(SPAM), round(p.probability, 3))
        for i, (code, p) in enumerate(zip(points, predictions))
        if p.label != "spam"
    ]
    assert not failures, f"{len(failures)} of {len(points)} turned genuine, e.g. {failures[:10]}"
    assert all(p.action != "accept" for p in predictions)


@pytest.mark.xfail(strict=True, reason="known gap: U+0345 after every letter reads as an inserted letter (ι)")
def test_an_iota_subscript_after_every_letter_keeps_spam_spam() -> None:
    dressed = [after_every_letter(note, chr(YPOGEGRAMMENI)) for note in SPAM]
    assert all(p.label == "spam" for p in invitecls.classify_many(dressed))


@pytest.mark.parametrize(
    "char",
    ["\U0001bca0", "\U0001bca1", "\U0001bca2", "\U0001bca3", "\ufff9", "\ufffa", "\ufffb", "\u0323", "\u0332"],
)
@pytest.mark.parametrize("note", [PITCH, DEFAULT])
def test_examples_of_the_report(note: str, char: str) -> None:
    prediction = invitecls.classify(after_every_letter(note, char))
    assert prediction.label == "spam"
    assert prediction.action != "accept"
    assert any("most letters disguised" in s for s in prediction.signals)
    assert invitecls.normalize(after_every_letter(note, char)).text == invitecls.normalize(note).text


@pytest.mark.parametrize("note", [PITCH, DEFAULT])
@pytest.mark.parametrize("close", ["", "\u202c", "\u2069"])
def test_text_reversed_behind_an_override_is_read_as_shown(note: str, close: str) -> None:
    opener = "\u2067\u202e" if close == "\u2069" else "\u202e"
    dressed = opener + note[::-1] + close
    assert invitecls.normalize(dressed).text == invitecls.normalize(note).text
    prediction = invitecls.classify(dressed)
    assert prediction.label == "spam"
    assert prediction.action != "accept"
    assert any("hidden character" in s for s in prediction.signals)


def shown(text: str) -> str:
    """The text as resolved, without the bidi controls (where they land does not matter)."""
    return "".join(
        c for c in _resolve_overrides(text) if not "\u202a" <= c <= "\u202e" and not "\u2066" <= c <= "\u2069"
    )


def test_overrides_are_resolved_as_displayed() -> None:
    # A right-to-left override reverses left-to-right text and shows brackets mirrored.
    assert shown("a \u202e(cba) fed\u202c z") == "a def (abc) z"
    # It ends with the paragraph.
    assert shown("\u202eolleh\ndlrow") == "hello\ndlrow"
    # A nested left-to-right override reads forwards, its place mirrored.
    assert shown("\u202ecba\u202dxyz\u202c\u202c") == "xyzabc"
    # Right-to-left letters behind a right-to-left override are already in reading order.
    assert shown("\u202eשלום") == "שלום"
    # Embeddings and isolates do not reorder a word's letters.
    assert shown("\u202bhello\u202c \u2067world\u2069") == "hello world"


def test_overrides_stacked_to_scramble_keep_the_stored_order() -> None:
    # An override after every letter shows the note reversed; the stored order reads as words.
    dressed = after_every_letter(PITCH, "\u202e")
    assert invitecls.normalize(dressed).text == invitecls.normalize(PITCH).text
    assert invitecls.classify(dressed).label == "spam"


def test_marks_of_a_letters_own_script_stay() -> None:
    for text in [
        "नमस्ते, आपसे मिलकर खुशी हुई",  # Devanagari vowel signs and virama
        "שָׁלוֹם עֲלֵיכֶם",  # Hebrew points
        "مَرْحَبًا بِكَ",  # Arabic vowels
        "สวัสดีครับ ยินดีที่ได้รู้จัก",  # Thai vowels and tone marks
    ]:
        assert _strip_marks(text) == (text, 0)
        assert invitecls.normalize(text).n_invisible == 0


@pytest.mark.parametrize(
    "note",
    [
        "Réseau très intéressant à Zürich, Señora Łukasiewicz, ça m'a plu.",
        "Räätälöity yhteistyö: ääliö, älä lyö, ööliä läikkyy",  # a third of the letters accented
        "Привет, Йорик! Всё хорошо?",  # й and ё decompose too
    ],
)
def test_accents_typed_decomposed_are_composed_not_counted(note: str) -> None:
    decomposed = unicodedata.normalize("NFD", note)
    assert decomposed != note
    assert invitecls.normalize(decomposed).text == invitecls.normalize(note).text
    assert invitecls.normalize(decomposed).n_invisible == 0


def test_decomposed_accents_outside_the_european_alphabets_are_folded() -> None:
    # Vietnamese letters (Latin Extended Additional) typed decomposed lose their marks.
    text, signals = normalize_one(unicodedata.normalize("NFD", "Chào anh Tuấn"))
    assert (text, signals[1]) == ("chào anh tuan", 2)


def test_stray_marks_are_removed_and_counted() -> None:
    # A mark that composes with no letter (U+0332), a mark of another script after a
    # Latin letter (a Hebrew point), and accents that compose but sit on every letter.
    for char in ["\u0332", "\u05b8", "\u0301"]:
        text, signals = normalize_one(after_every_letter("connect with me", char))
        assert text == "connect with me"
        assert signals[1] == 13
    # A few marks that compose with no letter are removed one by one.
    text, signals = normalize_one("con\u0332nect with m\u0332e")
    assert (text, signals[1]) == ("connect with me", 2)
    # Keycaps and other enclosing marks after a symbol are emoji, not disguise.
    assert normalize_one("call me 1\ufe0f\u20e3 time")[1][1] == 0


def test_format_private_and_unassigned_characters_are_removed_and_counted() -> None:
    for char in ["\ufffa", "\U0001bca1", "\U000f0001", "\u0600", "\U00013430", "\ue000"]:
        text, signals = normalize_one(after_every_letter("connect with me", char))
        assert text == "connect with me", hex(ord(char))
        assert signals[1] == 13


def test_mostly_disguised_notes_are_never_accepted() -> None:
    dressed = after_every_letter(GENUINE, "\u0332")
    prediction = invitecls.classify(dressed)
    assert prediction.label == "genuine"  # the score sees through the disguise...
    assert prediction.action == "ask"  # ...but such a note is never accepted
    assert any("most letters disguised" in s for s in prediction.signals)
    many = invitecls.classify_many([dressed, GENUINE, dressed], [40, 40, None])
    assert [p.action for p in many] == ["ask", "accept", "ask"]
    # A few hidden characters are not a disguise of most letters.
    light = GENUINE.replace("Berlin", "Ber\u200blin").replace("thanks", "tha\u0332nks")
    assert invitecls.classify(light).action == "accept"
    assert not any("most letters disguised" in s for s in invitecls.classify(light).signals)


def test_mostly_disguised_threshold() -> None:
    assert mostly_disguised(10, "abcdefghij klmnopqrst")  # 10 hidden, 20 letters
    assert not mostly_disguised(9, "abcdefghij klmnopqrst")
    assert not mostly_disguised(4, "abc")  # too few to tell
    assert Counter(mostly_disguised(n, "x" * 40) for n in range(41)) == Counter({True: 21, False: 20})


def test_hostile_overrides_take_bounded_work() -> None:
    for note in ["\u202e" * 5000, "\u202ea\u2067b" * 1000, "\u2069\u202c" * 3000]:
        assert normalize_one(note)[1][1] > 0
