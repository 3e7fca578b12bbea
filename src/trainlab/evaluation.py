"""Evaluate run directories: metrics, per-class report, confusion matrix, ensembles, predictions."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from trainlab.config import validate
from trainlab.engine import TASKS, load_checkpoint, load_model_state
from trainlab.engine.device import resolve_device
from trainlab.errors import ConfigError, UserError
from trainlab.runs import RunDir, read_yaml


@dataclass
class EvalResult:
    split: str
    classes: list[str]
    loss: float
    acc: float
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    confusion: np.ndarray
    members: list[tuple[str, float]] = field(default_factory=list)  # (run name, accuracy)

    @property
    def ensemble_gain(self) -> float | None:
        """Ensemble accuracy minus the best member's (None for a single run)."""
        if len(self.members) < 2:
            return None
        return self.acc - max(acc for _, acc in self.members)


def evaluate(run_dirs: list[Path | str], split: str = "test", checkpoint: str = "best",
             predictions: Path | None = None, device: str = "auto") -> EvalResult:
    """Score one run, or an ensemble of several (mean of softmax probabilities)."""
    if split not in ("test", "val"):
        raise ConfigError(f"unknown split {split!r}", "use --split test or --split val")
    if checkpoint not in ("best", "last"):
        raise ConfigError(f"unknown checkpoint {checkpoint!r}", "use --checkpoint best or --checkpoint last")
    torch_device = resolve_device(device)
    members, all_probs = [], []
    labels = classes = None
    for path in run_dirs:
        run = RunDir.open(Path(path))
        cfg = validate(read_yaml(run.config))
        if cfg.task != "classification":
            raise UserError(f"{run.path.name} is a {cfg.task} run", "this evaluation covers classification runs")
        task = TASKS.get(cfg.task)(cfg, torch_device)
        model = task.build_model().to(torch_device)
        ckpt = run.checkpoint(checkpoint)
        load_model_state(model, load_checkpoint(ckpt, torch_device), ckpt)
        if not task.has_split(split):
            raise UserError(f"{run.path.name} has no {split} split", "use --split test")
        probs, y = task.predict(model, split)
        if labels is None:
            labels, classes = y, task.data.classes
        elif classes != task.data.classes or len(y) != len(labels) or not np.array_equal(y, labels):
            raise UserError(f"{run.path.name} was trained on other data than {Path(run_dirs[0]).name}",
                            "ensemble only runs with the same dataset and split")
        members.append((run.path.name, float((probs.argmax(1) == y).mean())))
        all_probs.append(probs)
    probs = np.mean(all_probs, axis=0)
    pred = probs.argmax(1)
    k = len(classes)
    p, r, f, s = precision_recall_fscore_support(labels, pred, labels=range(k), zero_division=0)
    loss = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())
    if predictions is not None:
        write_predictions(Path(predictions), pred)
    return EvalResult(split, classes, loss, float((pred == labels).mean()), p, r, f, s,
                      confusion_matrix(labels, pred, labels=range(k)), members if len(members) > 1 else [])


def evaluate_task(run_dirs: list[Path | str], split: str = "test", checkpoint: str = "best", device: str = "auto",
                  beam: int | None = None, predictions: Path | None = None) -> Any:
    """The report of runs whose task evaluates itself (`evaluate_run`, e.g. seq2seq; several runs =
    ensemble); None for classification runs."""
    runs = [RunDir.open(Path(p)) for p in run_dirs]
    cfgs = [validate(read_yaml(run.config)) for run in runs]
    evaluate_run = getattr(TASKS.get(cfgs[0].task), "evaluate_run", None)
    for run, cfg in zip(runs[1:], cfgs[1:], strict=True):
        if cfg.task != cfgs[0].task:
            raise UserError(f"{run.path.name} is a {cfg.task} run, {runs[0].path.name} a {cfgs[0].task} run",
                            "ensemble only runs of one task")
    if evaluate_run is None:
        return None
    if predictions is not None:
        raise UserError(f"--predictions applies to classification runs, not {cfgs[0].task}",
                        "leave out --predictions (the run directory has samples.md and module_acc.csv)")
    return evaluate_run(runs, cfgs, split=split, checkpoint=checkpoint, device=resolve_device(device), beam=beam)


def write_predictions(path: Path, pred: np.ndarray) -> None:
    """An `id,label` CSV: the example's index in the split and the predicted class index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "label"])
        writer.writerows(enumerate(pred.tolist()))
