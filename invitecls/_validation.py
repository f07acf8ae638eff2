"""Checks on what callers pass in: notes, shared-connection counts and which notes are pitches.

A note is a ``str``; ``None`` or ``""`` is a request with no note. A count is
a non-negative integer, or ``None`` when unknown. Whether a training note is a
pitch is a bool, or ``None`` when not known. Everything else is refused with
an error that names the type or value and, in a batch, its position.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["AMBIGUOUS_BAND", "MAX_MUTUAL", "as_notes", "check_message", "check_mutual", "check_pitch", "parse_count"]

#: Shared connections at which the labelling guide calls a generic note (or no
#: note) ambiguous: reported apart in evaluations, never declined.
AMBIGUOUS_BAND = (6, 9)
#: Largest count accepted. LinkedIn allows 30,000 connections; far beyond that a
#: count is a mistake or an attack (10**400 does not even fit a float).
MAX_MUTUAL = 1_000_000_000


def _is_missing(value: Any) -> bool:
    # pandas marks a missing cell with NaN, None or pd.NA; all mean "nothing".
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def check_message(message: Any, position: int | None = None, *, allow_missing: bool = False) -> str:
    """Return ``message`` as a str ("" for no note), or raise TypeError.

    Parameters
    ----------
    message : str or None
        The note.
    position : int, optional
        Position in a batch, named in the error.
    allow_missing : bool
        Also accept pandas' missing-value markers (NaN, pd.NA) as "no note".
    """
    if isinstance(message, str):
        return message
    if message is None or (allow_missing and _is_missing(message)):
        return ""
    where = f" at position {position}" if position is not None else ""
    raise TypeError(f"message{where} must be a str or None, not {type(message).__name__}")


def check_mutual(value: Any, position: int | None = None) -> float:
    """Return a count as a float (NaN when unknown), or raise.

    Raises
    ------
    TypeError
        For a bool, a string or another non-numeric type.
    ValueError
        For a negative, fractional or infinite number.
    """
    where = f" at position {position}" if position is not None else ""
    if value is None or _is_missing(value):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"mutual_connections{where} must be an int or None, not bool")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real):
        real = float(value)
        if math.isnan(real):
            return math.nan
        if not math.isfinite(real) or real != int(real):
            raise ValueError(f"mutual_connections{where} must be a whole number, got {value!r}")
        number = int(real)
    else:
        raise TypeError(f"mutual_connections{where} must be an int or None, not {type(value).__name__}")
    if number < 0:
        raise ValueError(f"mutual_connections{where} must be >= 0, got {number}")
    if number > MAX_MUTUAL:
        digits = len(str(number)) if number < 10**4000 else "4,000+"
        raise ValueError(f"mutual_connections{where} must be at most {MAX_MUTUAL:,}, got a {digits}-digit number")
    return float(number)


def parse_count(text: str) -> int | None:
    """A count written as ASCII digits, from 0 to ``MAX_MUTUAL``; None for anything else.

    ``str.isdigit`` alone lets through ``'²'`` and other digits ``int`` refuses.
    """
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    if len(digits) > len(str(MAX_MUTUAL)) or int(digits or "0") > MAX_MUTUAL:
        return None
    return int(digits or "0")


def as_notes(X: Any) -> tuple[list[str], np.ndarray]:
    """Split estimator input into notes and counts.

    ``X`` is one of: a pandas DataFrame with a ``message`` column and an
    optional ``mutual_connections`` column; a sequence of ``(message,
    mutual_connections)`` pairs (a list, or a 2-D array with two columns); or a
    1-D sequence of notes, all with the count unknown.

    Returns
    -------
    messages : list of str
    mutual : ndarray of float, NaN where unknown
    """
    if isinstance(X, (str, bytes)):
        raise TypeError("X must be a sequence of notes, not a single str; wrap it in a list")
    columns = getattr(X, "columns", None)
    if columns is not None:
        if "message" not in columns:
            raise ValueError("X has no 'message' column")
        messages = [check_message(m, i, allow_missing=True) for i, m in enumerate(X["message"].tolist())]
        if "mutual_connections" in columns:
            counts = [check_mutual(v, i) for i, v in enumerate(X["mutual_connections"].tolist())]
        else:
            counts = [math.nan] * len(messages)
        return messages, np.asarray(counts, dtype=float).reshape(-1)
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 2:
            rows: Iterable[Any] = X.tolist()
        elif X.ndim == 1:
            messages = [check_message(m, i, allow_missing=True) for i, m in enumerate(X.tolist())]
            return messages, np.full(len(messages), math.nan)
        else:
            raise ValueError(f"X must have shape (n,) or (n, 2), got {X.shape}")
    elif isinstance(X, Sequence) or hasattr(X, "tolist"):
        rows = X.tolist() if hasattr(X, "tolist") else X
    else:
        rows = list(X)
    messages, counts = [], []
    for i, row in enumerate(rows):
        if isinstance(row, (tuple, list)):
            if len(row) != 2:
                raise ValueError(f"X[{i}] must be a note or a (message, mutual_connections) pair")
            messages.append(check_message(row[0], i, allow_missing=True))
            counts.append(check_mutual(row[1], i))
        else:
            messages.append(check_message(row, i, allow_missing=True))
            counts.append(math.nan)
    return messages, np.asarray(counts, dtype=float).reshape(-1)


def check_pitch(pitch: Any, n: int) -> np.ndarray | None:
    """``pitch`` as floats, one per note: 1 (a pitch), 0 (not one) or NaN (not known); None stays None.

    Parameters
    ----------
    pitch : array-like of bool or None, or None
        Which training notes are pitches, scams or vague recruiting offers.
    n : int
        The number of notes.

    Returns
    -------
    ndarray of shape (n,) or None

    Raises
    ------
    ValueError
        Another length than ``n``, or an entry that is neither a bool nor missing.

    Examples
    --------
    >>> check_pitch([True, False, None], 3).tolist()
    [1.0, 0.0, nan]
    """
    if pitch is None:
        return None
    values = list(np.asarray(pitch, dtype=object).reshape(-1))
    if len(values) != n:
        raise ValueError(f"pitch has {len(values)} entries, X has {n} notes")
    out = np.empty(n)
    for i, value in enumerate(values):
        if _is_missing(value):
            out[i] = np.nan
        elif isinstance(value, (bool, np.bool_)) or value in (0, 1):
            out[i] = float(value)
        else:
            raise ValueError(f"pitch[{i}]: expected True, False or None, got {value!r}")
    return out
