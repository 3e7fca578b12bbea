"""`trainlab probe`: how much of the labels a frozen representation makes easy to read.

- linear: scikit-learn's `LogisticRegression` (multinomial, L-BFGS, L2 penalty `c`) on the standardised features
  of the train split. The problem is convex and solved to convergence by a deterministic solver, so the figure
  measures the features, not a probe's learning rate, epochs or seed (a torch linear layer trained by SGD would
  add those); and it is the protocol of the representation-learning literature's linear evaluation.
- knn: the majority label of the `neighbors` nearest train examples by cosine similarity (no training at all:
  what the geometry of the features alone gives).

Both are fitted on the train split and scored on val and test.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler, normalize

from trainlab.config import Config
from trainlab.engine.task import ReportTable
from trainlab.errors import UserError
from trainlab.models.features import PENULTIMATE
from trainlab.representations.source import Init, open_encoder

Method = Literal["linear", "knn", "both"]
Arrays = Mapping[str, tuple[np.ndarray, np.ndarray]]  # split → (features, labels)
EVAL_SPLITS = ("val", "test")


@dataclass
class ProbeReport:
    """Accuracy per probe and split; what was probed."""

    name: str
    init: str
    layer: str
    dims: int
    train_size: int
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # probe → split → accuracy
    notes: list[str] = field(default_factory=list)

    def table(self) -> ReportTable:
        splits = sorted({s for by_split in self.scores.values() for s in by_split}, key=EVAL_SPLITS.index)
        rows = [[probe, *(f"{by_split[s]:.4f}" if s in by_split else "" for s in splits)]
                for probe, by_split in self.scores.items()]
        return ReportTable(self.name, ["probe", *(f"{s} acc" for s in splits)], rows)

    def describe(self) -> str:
        return f"{self.name}: {self.init} weights, {self.layer} layer, {self.dims} features, {self.train_size} train " \
            "examples"


def linear_probe(train: tuple[np.ndarray, np.ndarray], evals: Arrays, c: float = 1.0, max_iter: int = 1000
                 ) -> tuple[dict[str, float], list[str]]:
    """Accuracy per split of a logistic regression on standardised features; notes (e.g. not converged)."""
    scaler = StandardScaler().fit(train[0])
    clf = LogisticRegression(C=c, max_iter=max_iter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(scaler.transform(train[0]), train[1])
    notes = [f"linear: L-BFGS stopped at max_iter={max_iter} before converging"] \
        if any(issubclass(w.category, ConvergenceWarning) for w in caught) else []
    return {s: float(clf.score(scaler.transform(x), y)) for s, (x, y) in evals.items()}, notes


def knn_probe(train: tuple[np.ndarray, np.ndarray], evals: Arrays, neighbors: int = 20) -> dict[str, float]:
    """Accuracy per split of a k-nearest-neighbour vote by cosine similarity (L2-normalised features)."""
    k = min(neighbors, len(train[1]))
    clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(normalize(train[0]), train[1])
    return {s: float(clf.score(normalize(x), y)) for s, (x, y) in evals.items()}


def probe(source: Path | str | Config, method: Method = "both", layer: str = PENULTIMATE,
          checkpoint: str = "best", init: Init | None = None, neighbors: int = 20, c: float = 1.0,
          max_train: int | None = None, overrides: Sequence[str] = ()) -> ProbeReport:
    """Linear and/or k-NN probes of a run's (or a random-init model's) frozen features, scored on val and test.
    `max_train` fits the probes on a stratified subset of that many train examples (seed 0)."""
    if method not in ("linear", "knn", "both"):
        raise UserError(f"unknown probe method {method!r}", "use --method linear, knn or both")
    enc = open_encoder(source, init, checkpoint, overrides)
    x, y = enc.features("train", layer)
    if max_train is not None and max_train < len(y):
        x, _, y, _ = train_test_split(x, y, train_size=max_train, stratify=y, random_state=0)
    evals = {s: enc.features(s, layer) for s in EVAL_SPLITS if enc.task.has_split(s)}
    if not evals:
        raise UserError(f"{enc.name} has neither a val nor a test split", "set data.val_fraction above 0")
    report = ProbeReport(enc.name, enc.init, layer, x.shape[1], len(y))
    if method in ("linear", "both"):
        report.scores["linear"], report.notes = linear_probe((x, y), evals, c)
    if method in ("knn", "both"):
        report.scores[f"knn (k={min(neighbors, len(y))})"] = knn_probe((x, y), evals, neighbors)
    return report
