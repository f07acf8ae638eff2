"""Words of a note: nltk tokens, a language guess, and Snowball stems.

The tokenizer and the stemmers are the parts of nltk that need no downloaded
data. A note's language is guessed from its function words (lists shipped with
invitecls), and its words are stemmed with that language's Snowball stemmer,
where nltk has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise

__all__ = ["guess_language", "seed_stems", "stem", "stemmer_name", "tokenize", "word_ngrams"]

_PLACEHOLDER_PREFIX = "_"
# Words per stemmer; a full cache starts again from the model's training words, so a
# stream of notes with ever-new words (names, numbers, typos) keeps a bounded memory.
_CACHE_LIMIT = 100_000
_stem_cache: dict[str, dict[str, str]] = {}
_seed_cache: dict[str, dict[str, str]] = {}


@lru_cache(maxsize=1)
def _languages() -> tuple[dict[str, str | None], dict[str, tuple[str, ...]]]:
    data = json.loads(resources.files("invitecls._resources").joinpath("languages.json").read_text("utf-8"))
    stemmers: dict[str, str | None] = {}
    word_langs: dict[str, list[str]] = {}
    for lang, spec in data.items():
        if lang.startswith("_"):
            continue
        stemmers[lang] = spec["stemmer"]
        for word in spec["words"]:
            word_langs.setdefault(word, []).append(lang)
    return stemmers, {w: tuple(langs) for w, langs in word_langs.items()}


@cache
def _stemmer(name: str) -> Callable[[str], str]:
    from invitecls._snowball import snowball_stemmer

    return snowball_stemmer(name)


def tokenize(text: str) -> list[str]:
    """Split a normalised note into words, as nltk's ``SpaceTokenizer`` does.

    A normalised note is words of letters and digits separated by single
    spaces, so nltk's space tokenizer is exact; its rule (``str.split(" ")``)
    is applied here directly, so that classifying a note does not import all of
    nltk (a second). The tests check that nltk's own tokenizer agrees.
    """
    if not text:
        return []
    return text.split(" ")


def _by_count(item: tuple[str, int]) -> int:
    return item[1]


def guess_language(tokens: Iterable[str]) -> str | None:
    """Guess the language of a note from its function words.

    Returns
    -------
    str or None
        An ISO 639-1 code, or None when no language stands out.
    """
    _, word_langs = _languages()
    get = word_langs.get
    scores: dict[str, int] = {}
    for token in tokens:
        langs = get(token)
        if langs:
            for lang in langs:
                scores[lang] = scores.get(lang, 0) + 1
    if not scores:
        return None
    # A stable sort keeps the first-counted language first among ties, as Counter.most_common does.
    (best, top), *rest = [*sorted(scores.items(), key=_by_count, reverse=True)[:2], ("", 0)]
    if rest[0][1] == top:
        # Danish and Norwegian share most function words; English wins ties
        # because mixed notes are mostly English with a few local words.
        return "en" if best == "en" or rest[0][0] == "en" else best
    return best


_seeded: set[int] = set()


def seed_stems(stems: dict[str, dict[str, str]]) -> None:
    """Fill the stem cache with stems a model saw in training (no nltk needed for them)."""
    if id(stems) in _seeded:
        return
    for name, mapping in stems.items():
        seeds = _seed_cache.setdefault(name, {})
        if len(seeds) + len(mapping) < _CACHE_LIMIT // 2:
            seeds.update(mapping)
        cache = _stem_cache.setdefault(name, {})
        if len(cache) + len(mapping) < _CACHE_LIMIT:
            cache.update(mapping)
    _seeded.add(id(stems))


def stemmer_name(lang: str | None) -> str | None:
    """The Snowball stemmer of a language, or None."""
    stemmers, _ = _languages()
    return stemmers.get(lang) if lang else None


def stem(tokens: list[str], lang: str | None) -> list[str]:
    """Stem tokens with the Snowball stemmer of ``lang`` (unchanged if none).

    Stems are cached per language and word: a batch of notes reuses the
    stems of the words it has seen, which is where the time would go.
    """
    stemmers, _ = _languages()
    name = stemmers.get(lang) if lang else None
    if name is None:
        return tokens
    cache = _stem_cache.get(name)
    if cache is None or len(cache) >= _CACHE_LIMIT:
        cache = _stem_cache[name] = dict(_seed_cache.get(name, {}))
    out = list(map(cache.get, tokens))
    if None in out:
        stemmer = _stemmer(name)
        for i, token in enumerate(tokens):
            if out[i] is None:
                if token.startswith(_PLACEHOLDER_PREFIX) or token.isdigit():
                    out[i] = token  # not cached: numbers alone would fill the cache
                else:
                    cache[token] = out[i] = stemmer(token)
    return out  # type: ignore[return-value]


def word_ngrams(stems: list[str], ngram_range: tuple[int, int]) -> list[str]:
    """Word n-grams of a list of stems, joined by spaces."""
    low, high = ngram_range
    grams: list[str] = list(stems) if low <= 1 <= high else []
    for n in range(max(low, 2), high + 1):
        if n == 2:
            grams.extend([f"{a} {b}" for a, b in pairwise(stems)])
        else:
            grams.extend(" ".join(stems[i : i + n]) for i in range(len(stems) - n + 1))
    return grams
