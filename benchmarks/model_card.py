"""Write the figures of the model card: ``models/README.md`` and ``models/reliability.png``.

    python benchmarks/model_card.py          # refresh the card (and the README's figures)
    python benchmarks/model_card.py --check  # exit 1 if either is out of date

Every number between the card's ``<!-- card:begin -->`` and ``<!-- card:end -->``
markers is computed here from the shipped model and the corpus's grouped test
split; the test suite checks that the committed card matches.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "models" / "README.md"
PLOT = ROOT / "models" / "reliability.png"
BEGIN, END = "<!-- card:begin -->", "<!-- card:end -->"
sys.path.insert(0, str(ROOT))

import invitecls  # noqa: E402


def _rate(mask: np.ndarray) -> str:
    return f"{100 * mask.mean():.1f}%" if mask.size else "n/a"


def figures() -> tuple[str, dict[str, np.ndarray]]:
    """The card's Markdown block, and the arrays the reliability plot needs."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import f1_score, roc_auc_score

    model = invitecls.default_model()
    meta = invitecls.read_metadata()  # the shipped model's
    test, band = test_split()
    report = invitecls.evaluate(test)
    predictions = invitecls.classify_many(test.messages, test.mutual_connections)
    y = np.asarray(test.labels) == "spam"
    p = np.array([q.probabilities["spam"] for q in predictions])
    flagged = p >= model.threshold_
    unknown = np.array([c is None for c in test.mutual_connections])
    written = np.asarray(test.columns["origin"]) == "written"
    recipe = np.asarray(test.columns["recipe"])
    lines = [
        f"Model file `{meta['model_file']}` (sha256 `{meta['model_sha256'][:16]}…`), trained on "
        f"{meta['training_data']['rows']} notes of the training split "
        f"({', '.join(f'{n} {c}' for c, n in meta['training_data']['class_counts'].items())}), "
        f"scikit-learn {meta['versions']['scikit-learn']}.",
        "",
        "**Grouped test split** "
        f"({report.n} notes, {int(y.sum())} spam; no group of near-copies is also in the training split, and no "
        f"test note reads like a training note to the model; the guide's ambiguous band, {len(band)} more notes, "
        "is reported below):",
        "",
        "| subset | notes | macro-F1 | ROC-AUC | genuine flagged | spam caught |",
        "|---|---|---|---|---|---|",
    ]
    subsets = [
        ("all", np.ones(len(y), dtype=bool)),
        ("shared connections known", ~unknown),
        ("shared connections unknown", unknown),
        ("written notes", written),
        ("generated notes", ~written),
        ("generated from held-out templates (no training row)", recipe == "held-out-template"),
        ("pretext pitches and their genuine twins", np.isin(recipe, ["pretext-pitch", "genuine-twin"])),
    ]
    for name, mask in subsets:
        lines.append(
            f"| {name} | {int(mask.sum())} | {f1_score(y[mask], flagged[mask], average='macro'):.3f} | "
            f"{roc_auc_score(y[mask], p[mask]):.3f} | {_rate(flagged[mask & ~y])} | {_rate(flagged[mask & y])} |"
        )
    langs = np.asarray(test.columns["lang"])
    lines += [
        "",
        "By language (the costly error first):",
        "",
        "| language | notes | genuine flagged | spam caught |",
        "|---|---|---|---|",
    ]
    for lang, count in sorted(Counter(langs.tolist()).items(), key=lambda kv: (-kv[1], kv[0])):
        mask = langs == lang
        lines.append(f"| {lang} | {count} | {_rate(flagged[mask & ~y])} | {_rate(flagged[mask & y])} |")
    cv = meta["metrics"]["cross_validation"]
    lines += [
        "",
        f"**Grouped {int(cv['n_splits'])}-fold cross-validation** inside the training split (the folds that also "
        f"choose the threshold, so slightly optimistic): macro-F1 {cv['macro_f1']:.3f}, ROC-AUC {cv['roc_auc']:.3f}, "
        f"genuine flagged {100 * cv['genuine_flagged']:.1f}%, spam caught {100 * cv['spam_caught']:.1f}%.",
        "",
        f"**Thresholds**: spam when p(spam) ≥ {model.threshold_:.3f} (chosen on the cross-validated scores to flag at "
        f"most 2% of genuine notes); `accept` below {model.accept_threshold_:.3f}, `decline` from "
        f"{model.decline_threshold_:.3f}, `ask` in between (and never `decline` when the verdict rests on an unknown "
        "count or one of the guide's ambiguous band).",
        "",
        "| action | genuine | spam |",
        "|---|---|---|",
    ]
    actions = np.array([q.action for q in predictions])
    for action in ("accept", "ask", "decline"):
        lines.append(f"| {action} | {int(((actions == action) & ~y).sum())} | {int(((actions == action) & y).sum())} |")
    band_actions = Counter(q.action for q in invitecls.classify_many(band.messages, band.mutual_connections))
    lines += [
        "",
        f"**The ambiguous band** ({len(band)} test notes: a generic note or none with 6 to 9 shared connections, "
        "labelled spam by the guide's default and kept out of the figures above): "
        + ", ".join(f"`{a}` {band_actions.get(a, 0)}" for a in ("accept", "ask", "decline"))
        + ".",
    ]
    lines += realstyle_lines(model)
    lines += behaviour_lines()
    lines += ablation_lines()
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    lines += [
        "",
        "**Reliability** (test split, ten bins of equal size): predicted probability of spam against the share that "
        "was spam.",
        "",
        "| predicted | observed |",
        "|---|---|",
        *[f"| {a:.3f} | {b:.3f} |" for a, b in zip(predicted, observed)],
        "",
        "![Reliability curve](reliability.png)",
    ]
    return "\n".join(lines) + "\n", {"observed": observed, "predicted": predicted}


REALSTYLE = ROOT / "data" / "realstyle.jsonl"


def test_split() -> tuple[invitecls.LabeledData, invitecls.LabeledData]:
    """The corpus's test split without the guide's ambiguous band, and the band."""
    test = invitecls.load_corpus(split="test")
    band = np.asarray(test.ambiguous())
    return test.subset(np.flatnonzero(~band)), test.subset(np.flatnonzero(band))


#: Groups of the real-style set's second, harder round (see the data card).
ROUND_TWO = "r2-"


def realstyle_figures(model: invitecls.InviteClassifier, *, round_two: bool = False) -> dict[str, float]:
    """The shipped model on the independent real-style set (or on its second round alone)."""
    from sklearn.metrics import f1_score, roc_auc_score

    data = invitecls.read_labeled(REALSTYLE, for_training=False)
    if round_two:
        data = data.subset([i for i, g in enumerate(data.groups or []) if g.startswith(ROUND_TWO)])
    predictions = invitecls.classify_many(data.messages, data.mutual_connections)
    y = np.asarray(data.labels) == "spam"
    p = np.array([q.probabilities["spam"] for q in predictions])
    actions = np.array([q.action for q in predictions])
    flagged = p >= model.threshold_
    return {
        "n": len(y),
        "languages": len(set(data.columns["lang"])),
        "macro_f1": float(f1_score(y, flagged, average="macro")),
        "roc_auc": float(roc_auc_score(y, p)),
        "genuine_flagged": float(flagged[~y].mean()),
        "genuine_declined": float((actions[~y] == "decline").mean()),
        "spam_caught": float(flagged[y].mean()),
    }


def realstyle_lines(model: invitecls.InviteClassifier) -> list[str]:
    f, two = realstyle_figures(model), realstyle_figures(model, round_two=True)
    return [
        "",
        f"**Independent real-style set** (`data/realstyle.jsonl`: {f['n']} notes in {f['languages']} languages, "
        "written for invitecls by writers who never saw the corpus, briefed only with the labelling guide and the "
        "facts about real notes in the data card; never trained on, never used to choose a setting): "
        f"{_realstyle_rates(f)}. Its second round alone ({two['n']} notes, written to be hard: courtesy phrases "
        f"around one fact, recruiters with a named role, spam with specifics): {_realstyle_rates(two)}.",
    ]


def _realstyle_rates(f: dict[str, float]) -> str:
    return (
        f"macro-F1 {f['macro_f1']:.3f}, ROC-AUC {f['roc_auc']:.3f}, genuine flagged {100 * f['genuine_flagged']:.1f}%, "
        f"genuine declined {100 * f['genuine_declined']:.1f}%, spam caught {100 * f['spam_caught']:.1f}%"
    )


def behaviour_rates() -> tuple[dict[str, float], dict[str, float]]:
    """The shipped model's pass rates on the behavioural suite (``tests/test_behaviour.py``), and its targets."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("behaviour_suite", ROOT / "tests" / "test_behaviour.py")
    assert spec and spec.loader
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    return {name: check()[0] for name, check in suite.CHECKS.items()}, dict(suite.TARGETS)


def behaviour_lines() -> list[str]:
    rates, targets = behaviour_rates()
    what = {
        "courtesy-genuine": "a specific shared context stays genuine, never declined, whatever courtesy surrounds it",
        "invariance": "courtesy, a greeting, a sign-off, emoji, exclamation marks or a year leave the label unchanged",
        "pitch-raises": "appending a pitch, a scam or a vague recruiting offer raises the probability of spam",
        "context-removed": "a courteous note without a specific context (few or unknown connections) is spam",
    }
    lines = [
        "",
        "**Behavioural suite** (`tests/test_behaviour.py`: probes in twelve languages built from phrases kept apart "
        "from the corpus material, counts mostly unknown):",
        "",
        "| check | passes | target |",
        "|---|---|---|",
    ]
    lines += [f"| {what[name]} | {100 * rate:.1f}% | {100 * targets[name]:.0f}% |" for name, rate in rates.items()]
    return lines


ABLATION = ROOT / "benchmarks" / "ABLATION.md"


def ablation_lines() -> list[str]:
    """The ablation table, as ``benchmarks/ablation.py`` last wrote it (it trains seven models: not run here)."""
    if not ABLATION.exists():
        return []
    text = ABLATION.read_text(encoding="utf-8").splitlines()
    table = [line for line in text if line.startswith("|")]
    blocks = [line for line in text if line.startswith("The blocks:")]
    return [
        "",
        "**Ablation** (`python benchmarks/ablation.py`, which writes `benchmarks/ABLATION.md`): the shipped settings "
        "retrained with one block of features switched, on the test split and the behavioural suite.",
        "",
        *table,
        "",
        *blocks,
    ]


README = ROOT / "README.md"
README_BEGIN, README_END = "<!-- figures:begin -->", "<!-- figures:end -->"


def summary() -> str:
    """The few figures the main README quotes, from the same computation as the card."""
    from sklearn.metrics import f1_score, roc_auc_score

    model = invitecls.default_model()
    test, _ = test_split()
    predictions = invitecls.classify_many(test.messages, test.mutual_connections)
    y = np.asarray(test.labels) == "spam"
    p = np.array([q.probabilities["spam"] for q in predictions])
    flagged = p >= model.threshold_
    unknown = np.array([c is None for c in test.mutual_connections])
    rows = [
        "| notes never trained on | notes | macro-F1 | ROC-AUC | genuine flagged as spam | spam caught |",
        "|---|---|---|---|---|---|",
    ]
    for name, mask in (("grouped test split", np.ones(len(y), dtype=bool)), ("… count unknown", unknown)):
        rows.append(
            f"| {name} | {int(mask.sum())} | {f1_score(y[mask], flagged[mask], average='macro'):.3f} | "
            f"{roc_auc_score(y[mask], p[mask]):.3f} | {_rate(flagged[mask & ~y])} | {_rate(flagged[mask & y])} |"
        )
    for name, round_two in (("independent real-style set", False), ("… its second, harder round", True)):
        f = realstyle_figures(model, round_two=round_two)
        rows.append(
            f"| {name} | {f['n']} | {f['macro_f1']:.3f} | {f['roc_auc']:.3f} | "
            f"{100 * f['genuine_flagged']:.1f}% | {100 * f['spam_caught']:.1f}% |"
        )
    return "\n".join(rows) + "\n"


def plot(arrays: dict[str, np.ndarray]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.8))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ax.plot(arrays["predicted"], arrays["observed"], marker="o", color="black", label="shipped model")
    ax.set(
        title="Reliability on the grouped test split",
        xlabel="predicted probability of spam",
        ylabel="observed share of spam",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the card is out of date")
    args = parser.parse_args(argv)
    block, arrays = figures()
    card = CARD.read_text(encoding="utf-8")
    head, _, rest = card.partition(BEGIN)
    current, _, tail = rest.partition(END)
    readme = README.read_text(encoding="utf-8")
    r_head, _, r_rest = readme.partition(README_BEGIN)
    r_current, _, r_tail = r_rest.partition(README_END)
    short = summary()
    if args.check:
        same = current == f"\n{block}" and r_current == f"\n{short}"
        print("the model card and the README are up to date" if same else "the model card or the README is out of date")
        return 0 if same else 1
    CARD.write_text(f"{head}{BEGIN}\n{block}{END}{tail}", encoding="utf-8")
    README.write_text(f"{r_head}{README_BEGIN}\n{short}{README_END}{r_tail}", encoding="utf-8")
    plot(arrays)
    print(f"refreshed {CARD.relative_to(ROOT)}, {PLOT.relative_to(ROOT)} and the figures in README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
