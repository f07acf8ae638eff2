"""Choose InviteClassifier's settings in the open: a grouped search on the training split only.

    python benchmarks/tune.py            # the search (over an hour on 2 cores); writes benchmarks/TUNING.md
    python benchmarks/tune.py --quick    # a small search that keeps the script working

Candidates are the current defaults and, one setting at a time, the values
around them (``C``, ``nb_scaling``, ``max_features``, ``block_weights``). Each
candidate is fitted on the training folds of a grouped 3-fold split of the
corpus's *training* split, and chooses its own threshold inside those folds
(nested: the model's internal grouped cross-validation), then is scored on the
held-out fold. The test split and the real-style set are never read. The
winner is the candidate with the best mean macro-F1 at its own threshold; a
candidate within one standard error of the defaults leaves the defaults in
place (a change must earn its keep).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "TUNING.md"
sys.path.insert(0, str(ROOT))

from invitecls import InviteClassifier, load_corpus  # noqa: E402
from invitecls._model import cv_metrics, grouped_folds  # noqa: E402

GRID: dict[str, list[Any]] = {
    "C": [8.0, 128.0],
    "nb_scaling": [False],
    "max_features": [30_000, 120_000],
    "block_weights": [{"word": 0.5, "char": 0.5}, {"concepts": 2.0}, {"style": 1.0}],
}


def candidates(defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """The defaults, then each setting moved alone."""
    out: list[dict[str, Any]] = [{}]
    for name, values in GRID.items():
        out += [{name: v} for v in values if v != defaults[name]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data, two candidates")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="where to write the table (default: benchmarks/TUNING.md)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default: 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    train = load_corpus(split="train")
    if args.quick:
        train = train.subset(range(0, len(train), 10))
    y = np.asarray(train.labels)
    group_ids = np.unique(np.asarray(train.groups), return_inverse=True)[1]
    folds = grouped_folds(y == "spam", group_ids, 3, random_state=2)
    defaults = InviteClassifier().get_params()
    inner = 3
    from joblib import Parallel, delayed

    def score(params: dict[str, Any], a: Any, b: Any) -> dict[str, float]:
        fold = train.subset(a)
        model = InviteClassifier(cv=inner, **params).fit(fold.X, fold.labels, groups=fold.groups, pitch=fold.pitch())
        return cv_metrics(y[b], model.predict_proba(train.subset(b).X)[:, 1], model.threshold_)

    chosen_candidates = candidates(defaults)[: 2 if args.quick else None]
    jobs = [(params, a, b) for params in chosen_candidates for a, b in folds]
    # Every fit holds itself to one BLAS thread, so one process per core.
    scores = Parallel(n_jobs=args.jobs)(delayed(score)(*job) for job in jobs)
    rows = []
    for i, params in enumerate(chosen_candidates):
        per_fold = scores[i * len(folds) : (i + 1) * len(folds)]
        summary = {k: [f[k] for f in per_fold] for k in ("macro_f1", "roc_auc", "genuine_flagged", "spam_caught")}
        rows.append((params, summary))
        print(params or "defaults", f"macro-F1 {statistics.mean(summary['macro_f1']):.4f}", flush=True)

    def mean(summary: dict[str, list[float]], key: str) -> float:
        return statistics.mean(summary[key])

    def stderr(summary: dict[str, list[float]], key: str) -> float:
        values = summary[key]
        return statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0

    base = rows[0][1]
    best_params, best = max(rows, key=lambda r: mean(r[1], "macro_f1"))
    earns = mean(best, "macro_f1") > mean(base, "macro_f1") + stderr(base, "macro_f1")
    chosen = best_params if earns else {}
    lines = [
        "# Settings search",
        "",
        f"Written by `python benchmarks/tune.py{' --quick' if args.quick else ''}` in "
        f"{time.perf_counter() - started:.0f} s. Grouped 3-fold cross-validation over the corpus's training split "
        f"({len(train)} notes); each candidate chooses its threshold inside its training folds (an inner grouped "
        f"{inner}-fold cross-validation), so the held-out fold chooses nothing. The test split and the real-style set "
        "are not read.",
        "",
        "Defaults: " + ", ".join(f"`{k}={defaults[k]!r}`" for k in GRID) + ".",
        "",
        "| candidate | macro-F1 (mean ± s.e.) | ROC-AUC | genuine flagged | spam caught |",
        "|---|---|---|---|---|",
    ]
    for params, summary in rows:
        name = ", ".join(f"`{k}={v!r}`" for k, v in params.items()) or "defaults"
        lines.append(
            f"| {name} | {mean(summary, 'macro_f1'):.4f} ± {stderr(summary, 'macro_f1'):.4f} | "
            f"{mean(summary, 'roc_auc'):.4f} | {100 * mean(summary, 'genuine_flagged'):.1f}% | "
            f"{100 * mean(summary, 'spam_caught'):.1f}% |"
        )
    verdict = (
        "the defaults stay: no candidate beats them by more than one standard error."
        if not chosen
        else "set " + ", ".join(f"`{k}={v!r}`" for k, v in chosen.items()) + " as the default."
    )
    lines += ["", f"Outcome: {verdict}", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
