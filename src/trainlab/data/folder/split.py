"""The stratified train/val/test split of a cleaned folder (scikit-learn, seeded)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from trainlab.errors import UserError

SPLITS = ("train", "val", "test")


def parse_fractions(text: str) -> tuple[float, float, float]:
    """'0.8,0.1,0.1' → (train, val, test): three non-negative shares summing to 1, train above 0."""
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 0 or parts[0] <= 0 or abs(sum(parts) - 1) > 1e-6:
        raise UserError(f"--split {text!r} is not three shares train,val,test summing to 1",
                        "write e.g. --split 0.8,0.1,0.1 (a share may be 0, train may not)")
    return parts  # type: ignore[return-value]


def stratified_split(labels: np.ndarray, fractions: tuple[float, float, float], seed: int
                     ) -> tuple[dict[str, np.ndarray], list[int]]:
    """Row indices per split (ascending) with each class in the same proportions in every split.

    A class with fewer images than there are non-empty splits cannot be split: all its images go to
    train, and its label is returned in the second value (reported, not an error).
    """
    counts = np.bincount(labels)
    parts = sum(f > 0 for f in fractions)
    too_small = [int(c) for c in np.flatnonzero((counts > 0) & (counts < parts))]
    small = np.isin(labels, too_small)
    rows = np.arange(len(labels))
    out = {name: rows[:0] for name in SPLITS}
    rest = rows[~small]
    _, val, test = fractions
    try:
        if test > 0 and len(rest):
            rest, out["test"] = train_test_split(rest, test_size=test, stratify=labels[rest], random_state=seed)
        if val > 0 and len(rest):
            rest, out["val"] = train_test_split(rest, test_size=val / (1 - test), stratify=labels[rest],
                                                random_state=seed)
    except ValueError as e:  # e.g. fewer test images than classes: a stratified split is impossible
        raise UserError(f"cannot split {len(rest)} images of {len(set(labels[rest]))} classes by class "
                        f"({e})", "use larger val/test shares (--split) or add images") from None
    out["train"] = np.concatenate([rest, rows[small]])
    return {name: np.sort(idx) for name, idx in out.items()}, too_small
