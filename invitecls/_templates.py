"""Generic templates: the notes that give no reason to connect.

The list holds LinkedIn's default invitation texts, old and new, in the eleven
corpus languages that LinkedIn's interface speaks (not Finnish, whose speakers
type the default texts' translations: those are generic phrasings here), and
common generic and flattering phrasings. The model measures how close a note
is to its nearest template, and names that template when it explains a
decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Template", "default_templates", "template_texts"]

_KINDS = ("default", "generic", "flattery")


@dataclass(frozen=True)
class Template:
    """A generic note.

    Attributes
    ----------
    kind : str
        ``"default"`` (a LinkedIn default text), ``"generic"`` or ``"flattery"``.
    lang : str
        ISO 639-1 code of its language.
    text : str
        The text; ``_name_`` stands for the recipient's name.
    """

    kind: str
    lang: str
    text: str

    @property
    def display(self) -> str:
        """The text as people read it: ``<name>`` where the recipient's name goes."""
        return self.text.replace("_name_", "<name>")

    def describe(self) -> str:
        """Words for an explanation: ``the default text "..."``."""
        label = {"default": "the default text", "generic": "the generic note", "flattery": "the flattery"}
        return f'{label.get(self.kind, "the template")} "{self.display}"'


@lru_cache(maxsize=1)
def default_templates() -> tuple[Template, ...]:
    """Return the templates shipped with invitecls.

    Returns
    -------
    tuple of Template
    """
    text = resources.files("invitecls._resources").joinpath("templates.tsv").read_text("utf-8")
    templates = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in _KINDS:
            raise ValueError(f"templates.tsv, line {number}: expected kind<TAB>lang<TAB>text")
        templates.append(Template(kind=parts[0], lang=parts[1], text=parts[2]))
    return tuple(templates)


def template_texts() -> tuple[str, ...]:
    """Texts of the shipped templates."""
    return tuple(t.text for t in default_templates())
