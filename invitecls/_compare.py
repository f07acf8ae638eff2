"""Two models' verdicts on the same labelled notes: three measures, paired group-bootstrap intervals, a verdict.

Retraining is worth keeping only if the new model is better where it matters,
and a single number can be gamed: a model that flags nothing never flags a
genuine note, and a model trained on poisoned labels may flag fewer genuine
notes by catching no spam. So two models are compared on the same notes on
macro-F1, genuine flagged *and* spam caught, each with a 95% interval of the
difference from a paired bootstrap that resamples whole groups (variants of a
note stay together, as in the folds). Both the training report and the
replace guard of ``invitecls train`` read this comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = ["MEASURES", "Comparison", "Interval", "compare"]

#: The measures, and whether a higher value is better.
MEASURES: Mapping[str, bool] = MappingProxyType({"macro_f1": True, "genuine_flagged": False, "spam_caught": True})

_NAMES = {"macro_f1": "macro-F1", "genuine_flagged": "genuine flagged", "spam_caught": "spam caught"}


@dataclass(frozen=True)
class Interval:
    """A measured value and its 95% bootstrap interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """How an old and a new model label the same notes.

    Attributes
    ----------
    n : int
        Notes compared.
    n_groups : int
        Groups they form (the unit the bootstrap resamples).
    old, new : mapping of str to Interval
        Each model's ``MEASURES``, with intervals.
    difference : mapping of str to Interval
        New minus old, with the interval of the paired difference.
    new_majority_share : float
        Share of the notes that the new model gives its most frequent label.
    """

    n: int
    n_groups: int
    old: Mapping[str, Interval]
    new: Mapping[str, Interval]
    difference: Mapping[str, Interval]
    new_majority_share: float

    def worse(self, measure: str, tolerance: float = 0.0) -> bool:
        """The new model is worse on ``measure`` by more than ``tolerance``, beyond the interval of the difference."""
        diff = self.difference[measure]
        return diff.high < -tolerance if MEASURES[measure] else diff.low > tolerance

    def better(self, measure: str) -> bool:
        """The new model is better on ``measure`` beyond the interval of the difference."""
        diff = self.difference[measure]
        return diff.low > 0 if MEASURES[measure] else diff.high < 0

    @property
    def verdict(self) -> str:
        """``"better"``, ``"worse"`` or ``"indistinguishable"`` by macro-F1."""
        return "better" if self.better("macro_f1") else "worse" if self.worse("macro_f1") else "indistinguishable"

    def describe(self, measure: str) -> str:
        """One measure in words: both values and the difference with its interval."""
        old, new, diff = self.old[measure], self.new[measure], self.difference[measure]
        if measure == "macro_f1":
            return (
                f"{_NAMES[measure]} {new.value:.3f} against {old.value:.3f} "
                f"({diff.value:+.3f}, 95% interval {diff.low:+.3f} to {diff.high:+.3f})"
            )
        return (
            f"{_NAMES[measure]} {new.value:.1%} against {old.value:.1%} "
            f"({100 * diff.value:+.1f} points, 95% interval {100 * diff.low:+.1f} to {100 * diff.high:+.1f})"
        )

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data."""

        def table(values: Mapping[str, Interval]) -> dict[str, list[float]]:
            return {m: [v.value, v.low, v.high] for m, v in values.items()}

        return {
            "n": self.n,
            "n_groups": self.n_groups,
            "old": table(self.old),
            "new": table(self.new),
            "difference": table(self.difference),
            "new_majority_share": self.new_majority_share,
            "verdict": self.verdict,
        }


def compare(
    is_spam: Sequence[bool] | np.ndarray,
    old_flagged: Sequence[bool] | np.ndarray,
    new_flagged: Sequence[bool] | np.ndarray,
    groups: Sequence[str] | np.ndarray | None = None,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> Comparison:
    """Compare two models' spam labels on the same notes.

    Parameters
    ----------
    is_spam : array-like of bool
        The true labels (True: spam).
    old_flagged, new_flagged : array-like of bool
        Each model's labels (True: labelled spam).
    groups : array-like of str, optional
        Group of each note; the bootstrap resamples groups. None: every note
        is its own group.
    n_resamples : int, default=1000
        Bootstrap resamples.
    seed : int, default=0
        Seed of the resampling (the same notes always give the same intervals).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> truth = [True] * 50 + [False] * 50
    >>> nothing = [False] * 100
    >>> c = compare(truth, old_flagged=nothing, new_flagged=truth)
    >>> c.verdict, c.worse("genuine_flagged"), c.better("spam_caught")
    ('better', False, True)
    """
    truth, old, new = _checked_labels(is_spam, old_flagged, new_flagged)
    group_ids = _group_ids(groups, len(truth))
    weights = _group_bootstrap_weights(group_ids, n_resamples, seed)
    everything = np.ones((1, len(truth)))
    point_old, point_new = _measures(truth, old, everything), _measures(truth, new, everything)
    boot_old, boot_new = _measures(truth, old, weights), _measures(truth, new, weights)
    names = list(MEASURES)
    return Comparison(
        n=len(truth),
        n_groups=int(group_ids.max()) + 1,
        old=MappingProxyType({m: _interval(point_old[m], boot_old[m]) for m in names}),
        new=MappingProxyType({m: _interval(point_new[m], boot_new[m]) for m in names}),
        difference=MappingProxyType(
            {m: _interval(point_new[m] - point_old[m], boot_new[m] - boot_old[m]) for m in names}
        ),
        new_majority_share=float(max(new.mean(), 1 - new.mean())),
    )


def _checked_labels(*labels: Sequence[bool] | np.ndarray) -> tuple[np.ndarray, ...]:
    """The labels as flat boolean arrays, all of one non-zero length."""
    arrays = tuple(np.asarray(a, dtype=bool).reshape(-1) for a in labels)
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1 or lengths[0] == 0:
        raise ValueError(f"need the same, non-zero number of labels: {', '.join(map(str, lengths))}")
    return arrays


def _group_ids(groups: Sequence[str] | np.ndarray | None, n: int) -> np.ndarray:
    """Group number of each note, from 0 (None: every note is its own group)."""
    if groups is None:
        return np.arange(n)
    group_ids: np.ndarray = np.unique(np.asarray(groups, dtype=str).reshape(-1), return_inverse=True)[1]
    if len(group_ids) != n:
        raise ValueError(f"groups has {len(group_ids)} entries for {n} notes")
    return group_ids


def _interval(point: np.ndarray, boot: np.ndarray) -> Interval:
    """The point estimate and the 95% percentile interval of its finite bootstrap values."""
    finite = boot[np.isfinite(boot)]
    low, high = np.percentile(finite, [2.5, 97.5]) if len(finite) else (np.nan, np.nan)
    return Interval(float(point[0]), float(low), float(high))


def _group_bootstrap_weights(group_ids: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """How often each note is drawn in each resample, when whole groups are drawn with replacement."""
    n_groups = int(group_ids.max()) + 1
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n_groups, size=(n_resamples, n_groups))
    counts = np.zeros((n_resamples, n_groups), dtype=np.float32)
    np.add.at(counts, (np.repeat(np.arange(n_resamples), n_groups), drawn.ravel()), 1.0)
    return counts[:, group_ids]


def _measures(truth: np.ndarray, flagged: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """The three measures under each row of ``weights`` (one row per resample)."""
    tp = weights @ (truth & flagged).astype(np.float32)
    fn = weights @ (truth & ~flagged).astype(np.float32)
    fp = weights @ (~truth & flagged).astype(np.float32)
    tn = weights @ (~truth & ~flagged).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1_spam = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        f1_genuine = np.where(2 * tn + fp + fn > 0, 2 * tn / (2 * tn + fp + fn), 0.0)
        both = (tp + fn > 0) & (tn + fp > 0)
        # As scikit-learn's macro average over the classes present.
        macro = np.where(both, (f1_spam + f1_genuine) / 2, np.where(tp + fn > 0, f1_spam, f1_genuine))
        genuine_flagged = np.where(fp + tn > 0, fp / (fp + tn), np.nan)
        spam_caught = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
    return {"macro_f1": macro, "genuine_flagged": genuine_flagged, "spam_caught": spam_caught}
