"""nltk's Snowball stemmers, without importing all of nltk.

``import nltk`` (and so ``from nltk.stem.snowball import SnowballStemmer``)
runs nltk's package ``__init__``, which imports nearly every nltk module, and
through them scipy.stats and scikit-learn: about a second, and 150 MB, before
the first stem. ``classify()`` on a note with a word the model's stem cache
lacks needs exactly one thing from nltk, the Snowball stemmer, whose code
lives in six small files (``stem/snowball.py`` and what it imports).

``snowball_stemmer`` runs those six files of the installed nltk, unchanged,
in private module objects: nothing enters ``sys.modules``, so a later
``import nltk`` by the user is the ordinary one. Anything unexpected (another
nltk layout, an import this loader does not know) falls back to the ordinary
import, which gives the same stemmer, only slower to load. The tests check
that both give the same stems on every word of the corpus.
"""

from __future__ import annotations

import builtins
import importlib.util
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

# The files stem/snowball.py needs, by the module name they import.
_FILES = {
    "nltk.redos": "redos.py",
    "nltk.termsec": "termsec.py",
    "nltk.stem.api": "stem/api.py",
    "nltk.stem.util": "stem/util.py",
    "nltk.stem.porter": "stem/porter.py",
    "nltk.stem.snowball": "stem/snowball.py",
}
_PACKAGES = ("nltk", "nltk.stem", "nltk.corpus")


class _NoCorpus:
    """Stands in for ``nltk.corpus.stopwords``, which only ``ignore_stopwords=True`` reads."""

    def __getattr__(self, name: str) -> Any:
        raise LookupError("nltk corpora are not loaded by invitecls (ignore_stopwords is not supported)")


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: dict[str, types.ModuleType] = {}
        self.builtins = dict(vars(builtins))
        self.builtins["__import__"] = self._import

    def load(self, name: str) -> types.ModuleType:
        if name in self.modules:
            return self.modules[name]
        path = self.root / _FILES[name]
        module = types.ModuleType(name)
        module.__file__ = str(path)
        module.__dict__["__builtins__"] = self.builtins
        self.modules[name] = module
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
        return module

    def _import(
        self,
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> Any:
        if level or not (name == "nltk" or name.startswith("nltk.")):
            return builtins.__import__(name, globals, locals, fromlist or (), level)
        if not fromlist:
            raise ImportError(f"the isolated stemmer loader does not support 'import {name}'")
        if name in _FILES:
            return self.load(name)
        if name not in _PACKAGES:
            raise ImportError(f"the isolated stemmer loader does not know {name}")
        package = types.SimpleNamespace()
        for item in fromlist:
            full = f"{name}.{item}"
            if full in _FILES:
                setattr(package, item, self.load(full))
            elif name == "nltk.corpus":
                setattr(package, item, _NoCorpus())
            else:
                raise ImportError(f"the isolated stemmer loader does not know {full}")
        return package


def load_isolated() -> type:
    """nltk's ``SnowballStemmer`` class, from its files, leaving ``sys.modules`` alone."""
    spec = importlib.util.find_spec("nltk")
    if spec is None or spec.origin is None:
        raise ImportError("nltk is not installed")
    return _Loader(Path(spec.origin).parent).load("nltk.stem.snowball").SnowballStemmer  # type: ignore[no-any-return]


@cache
def _stemmer_class() -> type:
    if "nltk" not in sys.modules:
        try:
            return load_isolated()
        except Exception:
            pass  # a layout this loader does not know: the ordinary import below
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer  # type: ignore[no-any-return]


def snowball_stemmer(language: str) -> Callable[[str], str]:
    """The ``stem`` method of nltk's Snowball stemmer for ``language`` (e.g. ``"english"``)."""
    return _stemmer_class()(language).stem  # type: ignore[no-any-return]
