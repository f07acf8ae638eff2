"""Ablation of the feature blocks: what each block adds on the test split and the behavioural suite.

    python benchmarks/ablation.py            # writes benchmarks/ABLATION.md (about half an hour on 2 cores)
    python benchmarks/ablation.py --quick --out /tmp/ABLATION.md   # a tenth of the data: keeps the script working

Each row trains the shipped settings on the corpus's training split with one
block of features switched: dropped (``block_weights={block: 0}``: the
block's coefficients are zero, so the model cannot read it), or, for a block
the shipped settings do not read (``style``), read at weight 1; and measures
the model on the grouped test split at its own threshold and on the behavioural suite of
``tests/test_behaviour.py``. The real-style set is not read: it judges the
shipped model only.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from joblib import Parallel, delayed

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "ABLATION.md"
sys.path.insert(0, str(ROOT))

import invitecls  # noqa: E402
from invitecls._model import DEFAULT_BLOCK_WEIGHTS  # noqa: E402
from invitecls._prepare import BLOCK_NAMES  # noqa: E402

WHAT = {
    "word": "word 1–2 grams of stems",
    "char": "character 3–5 grams",
    "template": "similarity to generic templates, emptiness",
    "counts": "shared connections and their interactions",
    "style": "length, emoji, punctuation, numbers, unusual words",
    "concepts": "concept lexicons (shared context, event, purpose, pitch, scam…), links, money",
}


def behaviour_suite() -> ModuleType:
    """``tests/test_behaviour.py`` as a module (its probes and checks)."""
    spec = importlib.util.spec_from_file_location("behaviour_suite", ROOT / "tests" / "test_behaviour.py")
    assert spec and spec.loader
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    return suite


def shipped_settings() -> dict[str, Any]:
    """The parameters the shipped model was trained with."""
    params: dict[str, Any] = invitecls.default_model().get_params()
    return params


def shipped_weight(block: str) -> float:
    """The weight the shipped settings give a block."""
    weights = {**DEFAULT_BLOCK_WEIGHTS, **(shipped_settings().get("block_weights") or {})}
    return float(weights.get(block, 1.0))


def measure(block: str | None, quick: bool = False) -> dict[str, Any]:
    """Train with ``block`` switched (dropped if the shipped model reads it, else read at weight 1) and measure."""
    params = shipped_settings()
    if block is not None:
        switched = 1.0 if shipped_weight(block) == 0 else 0.0
        params["block_weights"] = {**(params.get("block_weights") or {}), block: switched}
    started = time.perf_counter()
    train = invitecls.read_labeled(ROOT / "data" / "invitations.csv", split="train")
    if quick:
        train = train.subset(range(0, len(train), 10))
    model = invitecls.train(train, **params)
    test = invitecls.evaluate(ROOT / "data" / "invitations.csv", split="test", model=model)
    suite = behaviour_suite()
    suite.classify = lambda note, count: invitecls.classify(note, count, model=model)
    rates = {name: check()[0] for name, check in suite.CHECKS.items()}
    return {
        "block": block,
        "macro_f1": test.macro_f1,
        "genuine_flagged": test.genuine_flagged,
        "spam_caught": test.spam_caught,
        "behaviour": rates,
        "seconds": time.perf_counter() - started,
    }


def table(rows: list[dict[str, Any]], checks: list[str]) -> list[str]:
    head = "| features | test macro-F1 | genuine flagged | spam caught | " + " | ".join(checks) + " |"
    lines = [head, "|" + "---|" * (4 + len(checks))]
    for row in rows:
        block = row["block"]
        name = (
            "shipped settings"
            if block is None
            else f"with `{block}` (weight 1)"
            if shipped_weight(block) == 0
            else f"without `{block}`"
        )
        cells = [
            name,
            f"{row['macro_f1']:.3f}",
            f"{100 * row['genuine_flagged']:.1f}%",
            f"{100 * row['spam_caught']:.1f}%",
            *(f"{100 * row['behaviour'][c]:.1f}%" for c in checks),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="models trained at once (default 2)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the training split (keeps the script working)")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="where to write the table (default: benchmarks/ABLATION.md)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    blocks = (None, *BLOCK_NAMES)
    rows = Parallel(n_jobs=args.jobs)(delayed(measure)(block, args.quick) for block in blocks)
    checks = list(rows[0]["behaviour"])
    lines = [
        "# Ablation of the feature blocks",
        "",
        f"Written by `python benchmarks/ablation.py` in {time.perf_counter() - started:.0f} s. Each row trains the "
        "shipped model's settings on the corpus's training split with one block switched (dropped, or read at "
        "weight 1 if the shipped settings drop it), "
        "chooses its threshold by the same rule, and is measured on the grouped test split (ambiguous band left "
        "out) and on the behavioural suite (`tests/test_behaviour.py`; pass rates per check).",
        "",
        *table(rows, checks),
        "",
        "The blocks: " + "; ".join(f"`{b}`: {WHAT[b]}" for b in BLOCK_NAMES) + ".",
        "",
    ]
    tmp = args.out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(args.out)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
