"""What the commands write: rows to CSV or JSON Lines (atomically), and a progress counter on a terminal."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from invitecls._io import atomic_write

__all__ = ["Progress", "write_rows"]


def write_rows(rows: Iterable[Any], path: str | os.PathLike[str], columns: tuple[str, ...]) -> int:
    """Write records (with ``as_record``) to CSV or JSON Lines, atomically; returns the count."""
    target = Path(path)
    suffix = target.suffix.casefold()
    if suffix not in (".csv", ".jsonl", ".json", ".ndjson"):
        raise ValueError(f"{target}: the output must end in .csv or .jsonl")
    n = 0
    with atomic_write(target, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n") if suffix == ".csv" else None
        if writer is not None:
            writer.writeheader()
        for row in rows:
            record = row.as_record()
            if writer is not None:
                flat = {k: "; ".join(v) if isinstance(v, list) else ("" if v is None else v) for k, v in record.items()}
                writer.writerow(flat)
            else:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


class Progress:
    """A one-line progress counter on standard error, only on a terminal."""

    def __init__(self, label: str, stream: IO[str] | None = None, quiet: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.label = label
        self.shown = False

    def __call__(self, done: int) -> None:
        if self.enabled:
            self.stream.write(f"\r{self.label}: {done:,} invitations")
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        """End the progress line."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
