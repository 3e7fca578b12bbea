"""Hooks into the training loop. The loop is never copied: behaviour is added here."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trainlab.runs import MetricsCSV

if TYPE_CHECKING:
    from trainlab.engine.trainer import Trainer

log = logging.getLogger("trainlab")


class Callback:
    """Override any hook; every hook gets the trainer (model, optimizer, state, run dir). `on_step_end`'s `loss` is
    valid until the next step (train.cuda_graphs writes every step's into the same tensor): read it, or clone it."""

    def on_fit_start(self, trainer: Trainer) -> None: ...
    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None: ...
    def on_after_backward(self, trainer: Trainer) -> None: ...
    def on_step_end(self, trainer: Trainer, step: int, loss: torch.Tensor) -> None: ...
    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None: ...
    def on_fit_end(self, trainer: Trainer, status: str) -> None: ...


class MetricsFile(Callback):
    """Appends each epoch's row to metrics.csv (after truncating rows a resumed run redoes)."""

    def __init__(self, path: Any) -> None:
        self.csv = MetricsCSV(path)

    def on_fit_start(self, trainer: Trainer) -> None:
        self.csv.truncate(trainer.state.epoch)

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        self.csv.append(row)


class TensorBoard(Callback):
    """Scalars per epoch under tb/ (a resumed run purges the steps it redoes). Callbacks that write more (the
    diagnosis' histograms) are handed this one and use its `writer` between its fit start and fit end."""

    def __init__(self, log_dir: Any) -> None:
        self.log_dir = str(log_dir)
        self.writer: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(self.log_dir, purge_step=trainer.state.epoch + 1 if trainer.state.epoch else None)

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        for key, value in row.items():
            if key != "epoch" and isinstance(value, int | float):
                group = key.split("_", 1)[0] if key.startswith(("train_", "val_")) else "misc"
                self.writer.add_scalar(f"{group}/{key}", value, row["epoch"])
        self.writer.flush()

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class ProgressBar(Callback):
    """A rich bar per epoch with running loss and throughput; updates ~50 times an epoch."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.every = 1

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        total = trainer.task.num_train_batches()
        self.every = max(1, total // 50)
        self.progress = Progress(
            TextColumn(f"epoch {epoch}/{trainer.cfg.train.epochs}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=self.console, transient=True,
        )
        self.progress.start()
        self.task_id = self.progress.add_task("train", total=total, info="")

    def on_step_end(self, trainer: Trainer, step: int, loss: torch.Tensor) -> None:
        if self.progress is not None and (step + 1) % self.every == 0:
            rate = trainer.examples_seen / max(trainer.epoch_elapsed(), 1e-9)
            self.progress.update(self.task_id, completed=step + 1,
                                 info=f"loss {loss.item():.4f}  {rate:,.0f} ex/s")

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        self._stop()

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
