"""The Diagnosis callback: wires gradient flow, activation statistics, histograms and the doctor
into the one training loop. Per step it only samples gradients; files are written per epoch and
figures once, after training (`report`)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import torch

from trainlab.config.schema import DiagnoseConfig
from trainlab.diagnose import activations, gradflow
from trainlab.diagnose.activations import activation_stats
from trainlab.diagnose.doctor import Evidence, examine
from trainlab.diagnose.figures import plot_activations, plot_filters, plot_gradflow, plot_gradflow_heatmap
from trainlab.diagnose.filters import first_filters
from trainlab.diagnose.gradflow import GradientFlow, weight_layers
from trainlab.diagnose.histograms import write_histograms
from trainlab.diagnose.records import Records, last_epoch
from trainlab.engine.callbacks import Callback, TensorBoard
from trainlab.runs import MetricsCSV, RunDir

if TYPE_CHECKING:
    from trainlab.engine.trainer import Trainer

log = logging.getLogger("trainlab")


class Diagnosis(Callback):
    """gradflow.csv per epoch, activations.csv and TensorBoard histograms on their epoch cadence (and at the
    last epoch), then figures and the doctor."""

    def __init__(self, cfg: DiagnoseConfig, run: RunDir, tensorboard: TensorBoard | None = None) -> None:
        self.cfg, self.tensorboard = cfg, tensorboard
        self.gradflow = Records(run.path / "gradflow.csv", gradflow.FIELDS, "layer")
        self.activations = Records(run.path / "activations.csv", activations.FIELDS, "block")
        self.flow: GradientFlow  # built on fit start, when the model is on its device
        self.batch: Any = None
        self.num_classes: int | None = None
        self.input_shape: tuple[int, ...] = ()
        self.step = 0
        self.activations_epoch = self.histogram_epoch = 0  # the last epoch recorded

    def on_fit_start(self, trainer: Trainer) -> None:
        for records in (self.gradflow, self.activations):
            records.truncate(trainer.state.epoch)
        self.activations_epoch = self.histogram_epoch = trainer.state.epoch  # a resume keeps what it has
        self.flow = GradientFlow(trainer.module)
        split = "val" if trainer.task.has_split("val") else "train"
        self.batch = trainer.task.probe_batch(split, self.cfg.activation_batch)
        if isinstance(self.batch[0], torch.Tensor):
            self.input_shape = tuple(self.batch[0].shape[1:])

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self.flow.reset()
        self.step = 0

    def on_after_backward(self, trainer: Trainer) -> None:
        if self.step % self.cfg.every == 0:
            self.flow.update(trainer.scaler.get_scale() if trainer.scaler.is_enabled() else 1.0)
        self.step += 1

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        epoch = int(row["epoch"])
        self.gradflow.append(self.flow.rows(epoch))
        if epoch % self.cfg.activations_every == 0:
            self.record_activations(trainer, epoch)
        every = self.cfg.histogram_every
        if every and epoch % every == 0:
            self.record_histograms(trainer, epoch)

    def on_fit_end(self, trainer: Trainer, status: str) -> None:
        """The final epoch of a finished run always gets activation statistics and histograms.
        The TensorBoard callback, listed before this one, closes its writer after this hook (the Trainer runs
        fit-end hooks in reverse)."""
        epoch = trainer.state.epoch
        if status not in ("completed", "early_stopped"):  # interrupted part-way, or the weights went NaN
            return
        if epoch and self.activations_epoch != epoch:
            self.record_activations(trainer, epoch)
        if epoch and self.cfg.histogram_every and self.histogram_epoch != epoch:
            self.record_histograms(trainer, epoch)

    def record_activations(self, trainer: Trainer, epoch: int) -> None:
        with trainer.autocast():
            rows, out = activation_stats(trainer.module, lambda: trainer.task.step(trainer.module, self.batch), epoch)
        self.activations.append(rows)
        self.activations_epoch = epoch
        if isinstance(out, torch.Tensor) and out.ndim == 2:
            self.num_classes = out.shape[1]

    def record_histograms(self, trainer: Trainer, epoch: int) -> None:
        if self.tensorboard is not None and self.tensorboard.writer is not None:
            write_histograms(self.tensorboard.writer, weight_layers(trainer.module), epoch)
            self.histogram_epoch = epoch

    def report(self, trainer: Trainer) -> dict[str, Any]:
        """Figures under plots/, the doctor's findings (logged), and the summary fields."""
        grads, acts = self.gradflow.read(), self.activations.read()
        plots, title = trainer.run.plots, trainer.run.path.name
        if grads:
            plot_gradflow(grads, plots / "gradflow.png", title)
            plot_gradflow_heatmap(grads, plots / "gradflow_heatmap.png", title)
        if acts:
            plot_activations(acts, plots / "activations.png", title)
        filters = first_filters(trainer.module, self.input_shape)
        if filters is not None:
            plot_filters(filters, plots / "filters.png", title)
        metrics = MetricsCSV(trainer.run.metrics).read()
        evidence = Evidence(last_epoch(grads), last_epoch(acts), metrics[-1] if metrics else {}, self.num_classes)
        findings = examine(evidence)
        for finding in findings:
            log.warning("doctor: %s", finding.message)
        if not grads:
            log.info("doctor: no epoch finished, nothing to examine")
        elif not findings:
            log.info("doctor: no problems found (gradient flow, dead units, loss vs chance)")
        out: dict[str, Any] = {"doctor": [asdict(f) for f in findings]}
        if (ratio := evidence.grad_ratio()) is not None:
            out |= {"grad_first_mean_abs": evidence.gradflow[0]["mean_abs_grad"],
                    "grad_last_mean_abs": evidence.gradflow[-1]["mean_abs_grad"], "grad_first_last_ratio": ratio}
        return out
