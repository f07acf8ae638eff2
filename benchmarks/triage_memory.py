"""Peak memory of ``invitecls triage`` on large made-up exports: does it stream?

    python benchmarks/triage_memory.py [--rows 100000 1000000]

Writes an ``Invitations.csv`` per size (notes drawn from the corpus, each with a
new number appended, so every note and most words are new), runs
``invitecls triage EXPORT --out FILE.jsonl --quiet`` in a fresh process for each,
and prints the peak resident memory of that process (``VmHWM``) and its time.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["From", "To", "Sent At", "Message", "Direction", "inviterProfileUrl", "inviteeProfileUrl"]

# Run in the child: triage, then report its own peak RSS (ru_maxrss would include the parent's).
CHILD = """
import sys
from invitecls._cli import main
code = main(["triage", sys.argv[1], "--out", sys.argv[2], "--quiet"])
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(int(peak.split()[1]) / 1024, file=sys.stderr)
raise SystemExit(code)
"""


def write_export(folder: Path, rows: int, notes: list[str]) -> None:
    folder.mkdir(parents=True)
    rng = random.Random(0)
    with open(folder / "Invitations.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            note = notes[rng.randrange(len(notes))]
            sent = f"{1 + i % 12}/{1 + i % 28}/25, {1 + i % 12}:{i % 60:02d} PM"
            url = f"https://www.linkedin.com/in/p{i}"
            writer.writerow([f"Person {i}", "Me", sent, f"{note} #{i}" if note else "", "INCOMING", url, ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    with open(ROOT / "data" / "invitations.csv", encoding="utf-8") as handle:
        notes = [row["message"] for row in csv.DictReader(handle)]
    with tempfile.TemporaryDirectory(prefix="invitecls-triage-") as tmp:
        for rows in args.rows:
            folder = Path(tmp) / f"export_{rows}"
            write_export(folder, rows, notes)
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-c", CHILD, str(folder), str(folder / "out.jsonl")],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = time.perf_counter() - start
            peak = float(result.stderr.strip().splitlines()[-1])
            summary = result.stdout.strip().splitlines()[-1]
            print(f"{rows:>9,} invitations: peak memory {peak:.0f} MB, {seconds:.0f} s  ({summary})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
