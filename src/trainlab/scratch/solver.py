"""Minibatch training for scratch models: epochs, learning-rate decay, best-val
parameters, history and ``.npz`` checkpoints."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainlab.errors import CheckpointError
from trainlab.runs.signals import interrupts_held
from trainlab.scratch.checkpoint import load_npz, save_npz
from trainlab.scratch.losses import softmax_loss
from trainlab.scratch.models.base import Model
from trainlab.scratch.optim import UPDATE_RULES


@dataclass(frozen=True)
class EpochStats:
    """One row of metrics.csv, in column order."""

    epoch: int
    lr: float
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    epoch_time_s: float


class Solver:
    """Trains ``model`` with update rule ``update_rule`` (a name in ``UPDATE_RULES``).

    Each epoch visits the training set once in a random order that depends only on
    ``(seed, epoch)``, so a run resumed from a checkpoint repeats the same batches.
    ``train_loss`` is the mean minibatch objective (data loss plus L2); ``train_acc`` is
    measured on ``train_acc_samples`` random training examples; ``val_loss`` and the
    accuracies use evaluation mode. After ``train()`` the model holds the parameters of
    the epoch with the best validation accuracy.

    With ``checkpoint_dir``, ``last.npz`` is written every epoch and ``best.npz`` whenever
    validation accuracy improves. ``callback`` receives each epoch's stats; without one,
    ``verbose`` prints them.
    """

    def __init__(
        self,
        model: Model,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        *,
        update_rule: str = "sgd",
        optim_config: dict[str, Any] | None = None,
        lr_decay: float = 1.0,
        batch_size: int = 100,
        num_epochs: int = 10,
        train_acc_samples: int | None = 1000,
        eval_batch_size: int = 1000,
        seed: int = 0,
        checkpoint_dir: Path | None = None,
        callback: Callable[[EpochStats], None] | None = None,
        verbose: bool = False,
    ) -> None:
        self.model = model
        self.x_train, self.y_train, self.x_val, self.y_val = x_train, y_train, x_val, y_val
        self.update = UPDATE_RULES.get(update_rule)
        self.optim_configs = {name: dict(optim_config or {}) for name in model.params}
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.train_acc_samples = train_acc_samples
        self.eval_batch_size = eval_batch_size
        self.seed = seed
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.callback = callback or (_print_stats if verbose else None)

        self.epoch = 0
        self.best_epoch = 0
        self.best_val_acc = -np.inf
        self.best_state = self._state()
        self.history: list[EpochStats] = []
        self.loss_history: list[float] = []

    def step(self, X: np.ndarray, y: np.ndarray) -> float:
        """One gradient update on a minibatch; returns its loss."""
        loss, grads = self.model.loss(X, y)
        for name, w in self.model.params.items():
            self.model.params[name], self.optim_configs[name] = self.update(w, grads[name], self.optim_configs[name])
        self.loss_history.append(loss)
        return loss

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Softmax loss (without L2) and accuracy in evaluation mode."""
        bs = self.eval_batch_size
        scores = np.concatenate([self.model.loss(X[i : i + bs]) for i in range(0, len(X), bs)])
        loss, _ = softmax_loss(scores.astype(np.float64), y)
        return loss, float(np.mean(scores.argmax(axis=1) == y))

    def train(self) -> None:
        for epoch in range(self.epoch + 1, self.num_epochs + 1):
            self._train_epoch(epoch)
        self._load_state(self.best_state)

    def _train_epoch(self, epoch: int) -> None:
        start = time.perf_counter()
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.x_train))
        losses = []
        for i in range(0, len(order), self.batch_size):
            idx = order[i : i + self.batch_size]
            losses.append(self.step(self.x_train[idx], self.y_train[idx]))
        lr = float(next(iter(self.optim_configs.values()))["lr"])
        for config in self.optim_configs.values():
            config["lr"] *= self.lr_decay

        sample = order[: self.train_acc_samples]
        _, train_acc = self.evaluate(self.x_train[sample], self.y_train[sample])
        val_loss, val_acc = self.evaluate(self.x_val, self.y_val)
        elapsed = time.perf_counter() - start
        stats = EpochStats(epoch, lr, float(np.mean(losses)), train_acc, val_loss, val_acc, elapsed)
        with interrupts_held():  # the epoch counter, checkpoints and the callback's metrics row land together
            self.history.append(stats)
            self.epoch = epoch
            improved = val_acc > self.best_val_acc
            if improved:
                self.best_val_acc, self.best_epoch, self.best_state = val_acc, epoch, self._state()
            if self.checkpoint_dir:
                self.save_checkpoint(self.checkpoint_dir / "last.npz")
                if improved:
                    self.save_checkpoint(self.checkpoint_dir / "best.npz")
            if self.callback:
                self.callback(stats)

    def _state(self) -> dict[str, np.ndarray]:
        """Copies of the model's parameters and buffers."""
        return {f"param/{k}": v.copy() for k, v in self.model.params.items()} | {
            f"buffer/{k}": v.copy() for k, v in self.model.buffers.items()
        }

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        for k in self.model.params:
            self.model.params[k] = state[f"param/{k}"].astype(self.model.dtype)
        for k, buf in self.model.buffers.items():
            buf[...] = state[f"buffer/{k}"]  # in place: layers hold references to buffers

    def save_checkpoint(self, path: Path) -> None:
        """Model state, optimizer state, counters and history (plus the best-val state
        under ``best/`` when it is not the current one), atomically."""
        arrays: dict[str, Any] = self._state()
        for name, config in self.optim_configs.items():
            arrays |= {f"optim/{name}/{k}": np.asarray(v) for k, v in config.items()}
        for field in dataclasses.fields(EpochStats):
            arrays[f"history/{field.name}"] = np.array([getattr(s, field.name) for s in self.history])
        arrays["history/iter_loss"] = np.array(self.loss_history)
        if self.best_epoch != self.epoch:
            arrays |= {f"best/{k}": v for k, v in self.best_state.items()}
        arrays |= {
            "meta/model": np.array(type(self.model).__name__),
            "meta/epoch": np.array(self.epoch),
            "meta/best_epoch": np.array(self.best_epoch),
            "meta/best_val_acc": np.array(self.best_val_acc),
        }
        save_npz(path, arrays)

    def load_checkpoint(self, path: Path) -> None:
        """Restore everything :meth:`save_checkpoint` wrote; training continues from the
        next epoch."""
        data = load_npz(path)
        model = type(self.model).__name__
        if str(data.get("meta/model")) != model:
            raise CheckpointError(f"{path} is not a {model} checkpoint", "load it into the model that wrote it")
        for k, v in self._state().items():
            if k not in data or data[k].shape != v.shape:
                raise CheckpointError(f"{path} does not match this {model}: {k} differs", "check the model options")
        self._load_state(data)
        self.optim_configs = {name: {} for name in self.model.params}
        for key, value in data.items():
            if key.startswith("optim/"):
                _, name, k = key.split("/")
                self.optim_configs[name][k] = value if value.ndim else value.item()
        self.epoch = int(data["meta/epoch"])
        self.best_epoch = int(data["meta/best_epoch"])
        self.best_val_acc = float(data["meta/best_val_acc"])
        best = {k.removeprefix("best/"): v for k, v in data.items() if k.startswith("best/")}
        self.best_state = best or self._state()
        columns = [data[f"history/{f.name}"].tolist() for f in dataclasses.fields(EpochStats)]
        self.history = [EpochStats(*row) for row in zip(*columns, strict=True)]
        self.loss_history = data["history/iter_loss"].tolist()


def format_stats(s: EpochStats) -> str:
    return (
        f"epoch {s.epoch}: lr {s.lr:.3g}  train loss {s.train_loss:.4f} acc {s.train_acc:.4f}  "
        f"val loss {s.val_loss:.4f} acc {s.val_acc:.4f}  ({s.epoch_time_s:.1f}s)"
    )


def _print_stats(s: EpochStats) -> None:
    print(format_stats(s))
