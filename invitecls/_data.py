"""Where the shipped files live: the installed package's data, or the clone's ``models/`` and ``data/``.

The wheel installs ``models/`` as ``invitecls._models`` and ``data/`` as
``invitecls._corpus`` (see ``pyproject.toml``). Run from a clone after a
non-editable install, ``import invitecls`` finds the source folder first, which
has neither subpackage: then the files are read from the source tree beside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

__all__ = ["shipped_file"]

#: Each data subpackage and the folder of the source tree it is built from.
SOURCE_FOLDERS = {"invitecls._models": "models", "invitecls._corpus": "data"}


@contextlib.contextmanager
def shipped_file(package: str, name: str) -> Iterator[Path]:
    """A path to the shipped file ``name`` of ``package``, valid inside the ``with`` block.

    Parameters
    ----------
    package : {"invitecls._models", "invitecls._corpus"}
    name : str
        The file's name, e.g. ``"invitations.csv"``.

    Yields
    ------
    Path
        In the installed package, else in the source tree; the path may not
        exist (the caller says what is missing).
    """
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        yield Path(__file__).resolve().parent.parent / SOURCE_FOLDERS[package] / name
        return
    with resources.as_file(root.joinpath(name)) as path:
        yield path
