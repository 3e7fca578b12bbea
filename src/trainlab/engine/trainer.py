"""The training loop: the only one in trainlab. Tasks plug in, callbacks extend it."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainlab.config import Config, config_to_dict
from trainlab.engine import distributed
from trainlab.engine.callbacks import Callback
from trainlab.engine.checkpoint import (
    check_model_state,
    check_resume_state,
    checkpoint_bytes,
    is_weights,
    load_model_state,
    load_weights,
)
from trainlab.engine.device import autocast_factory, epoch_generator, rng_state, set_rng_state
from trainlab.engine.ema import WeightEMA
from trainlab.engine.evaluate import accumulate, eval_sums
from trainlab.engine.graphs import GraphedStep
from trainlab.engine.optim import LRSchedule, build_optimizer, early_stop_conflict
from trainlab.engine.task import Stats, Task
from trainlab.errors import CheckpointError
from trainlab.runs import RunDir
from trainlab.runs.files import atomic_write_bytes
from trainlab.runs.signals import interrupts_held

log = logging.getLogger("trainlab")
HOOKS = ("on_fit_start", "on_epoch_start", "on_after_backward", "on_step_end", "on_epoch_end", "on_fit_end")


@dataclass
class FitState:
    """Everything the loop carries from epoch to epoch (saved in every checkpoint)."""

    epoch: int = 0
    step: int = 0
    best_metric: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0
    wall_time_s: float = 0.0


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite."""


class Trainer:
    def __init__(self, cfg: Config, task: Task, model: nn.Module, run: RunDir, device: torch.device,
                 callbacks: Sequence[Callback] = ()) -> None:
        self.cfg, self.task, self.run, self.device = cfg, task, run, device
        memory_format = torch.channels_last if cfg.train.channels_last else torch.preserve_format
        self.module = model.to(device, memory_format=memory_format)
        self.model = torch.compile(self.module, mode=cfg.train.compile_mode) if cfg.train.compile else self.module
        # ── DDP (under torchrun): gradients averaged across ranks; each rank trains on its share of every batch
        self.model = distributed.wrap(self.model, device)
        task.shard = distributed.shard()
        # train.ema_decay: an average of the weights (from rank 0's, which DDP has broadcast) is what validation,
        # checkpoints and the test see (engine/ema.py)
        self.ema = WeightEMA(self.module, cfg.train.ema_decay) if cfg.train.ema_decay is not None else None
        self.optimizer = build_optimizer(self.module, cfg.optim, cfg.transfer.backbone_lr)
        self.monitor, self.mode = task.monitored(cfg.train.early_stop.metric)
        self.schedule = LRSchedule(self.optimizer, cfg.sched, cfg.train.epochs, task.num_train_batches(), self.mode)
        self.scaler = torch.amp.GradScaler(device.type, enabled=cfg.train.precision == "fp16")
        self.autocast = autocast_factory(cfg.train, device)
        # train.cuda_graphs: the step body captured once and replayed (engine/graphs.py)
        self._graphed = GraphedStep(self._step_body, self.optimizer, device) if cfg.train.cuda_graphs else None
        self.callbacks = list(callbacks)
        self._bind_hooks()
        self.state = FitState()
        self.saved_epoch = 0  # epoch of the newest last.pt (what a resume continues from)
        self.failure: str | None = None
        self.stop_request: tuple[str, str] | None = None  # (status, reason) asked for by a callback
        self.examples_seen = 0
        self._epoch_start = 0.0
        # On an accelerator, checking the loss every step would sync host and device; check in windows.
        self.check_every = 1 if device.type == "cpu" else 25
        self.epoch_times: list[float] = []  # this process's epochs, seconds each (summary.json's timing)

    # ----------------------------------------------------------------- the loop
    def fit(self) -> str:
        """Train to the configured epoch count; returns the final status."""
        self._bind_hooks()
        self._call("on_fit_start", self)
        if self.state.epoch == 0 and (conflict := early_stop_conflict(self.cfg.train, self.cfg.sched)):
            log.warning(conflict)
        status = "completed"
        try:
            for epoch in range(self.state.epoch + 1, self.cfg.train.epochs + 1):
                row, improved = self._run_epoch(epoch)
                # Row first, checkpoint second: a resume truncates rows past the checkpoint's epoch. A Ctrl-C waits
                # for both: inside a writer's calls (TensorBoard's) it could leave the writer unable to close, and
                # between last.pt and saved_epoch it would leave the file ahead of summary.json.
                with interrupts_held():
                    self._call("on_epoch_end", self, row)
                    self._save(best=improved)
                self.stop_request = distributed.from_main(self.stop_request)  # ── DDP: rank 0's callbacks decide
                if self.stop_request is not None:
                    status, reason = self.stop_request
                    log.info("%s at epoch %d: %s", status, epoch, reason)
                    break
                if self._should_stop():
                    log.info("early stopping: %s has not improved for %d epochs (best %.4f at epoch %d)",
                             self.monitor, self.state.bad_epochs, self.state.best_metric, self.state.best_epoch)
                    status = "early_stopped"
                    break
        except KeyboardInterrupt:
            status = "interrupted"
            log.warning("interrupted: last checkpoint (epoch %d) kept; continue with `trainlab resume %s`",
                        self.saved_epoch, self.run.path)
        except NonFiniteLoss as e:
            status = "failed"
            self.failure = str(e)
            log.error("%s", e)
        except RuntimeError as e:
            if not distributed.peer_failed(e):
                raise
            distributed.finish_before_sigterm()  # ── DDP: another rank failed; record it, keep the checkpoint
            status = "failed"
            self.failure = f"another process of the distributed run failed: {str(e).splitlines()[0]}"
            log.error("%s; last checkpoint (epoch %d) kept", self.failure, self.saved_epoch)
        self._call("on_fit_end", self, status)
        return status

    def _run_epoch(self, epoch: int) -> tuple[dict[str, Any], bool]:
        self._epoch_start = time.perf_counter()
        self.examples_seen = 0
        self._call("on_epoch_start", self, epoch)
        lr = self.schedule.lr
        train = self.task.summarize(self.train_epoch(epoch))
        val = self.evaluate("val") if self.task.has_split("val") else {}
        row: dict[str, Any] = {"epoch": epoch, "lr": lr}
        row |= {f"train_{k}": v for k, v in train.items()}
        row |= {f"val_{k}": v for k, v in val.items()}
        self.schedule.epoch_end(row.get(self.monitor))
        improved = self._track_best(epoch, row[self.monitor])
        elapsed = time.perf_counter() - self._epoch_start
        row["epoch_time_s"] = elapsed
        self.epoch_times.append(elapsed)
        self.state.epoch = epoch
        self.state.wall_time_s += elapsed
        log.info(_format_row(row, self.cfg.train.epochs, self.examples_seen / max(elapsed, 1e-9)))
        return row, improved

    def train_epoch(self, epoch: int) -> Stats:
        """The hot loop: one epoch of training steps; returns the task's step statistics summed.

        Per-step Python is kept out of it: hooks no callback overrides are never called (`_hooks`), the
        statistics stay tensors summed on the device, and the loss is checked for NaN every step on the CPU
        (a free read there) but only every `check_every` steps on an accelerator (a host sync)."""
        distributed.seed_epoch(self.cfg.train.seed, epoch)  # ── DDP: each rank's own dropout stream
        gen = epoch_generator(self.cfg.train.seed, epoch, self.device)
        self.model.train()
        sums: Stats = {}
        step_end, check_every, examples = self._hooks["on_step_end"], self.check_every, self.task.examples
        for i, batch in enumerate(self.task.train_batches(gen, epoch)):
            loss, stats = self._train_step(batch)
            accumulate(sums, stats)
            self.examples_seen += examples(batch)
            if (i + 1) % check_every == 0 and not math.isfinite(float(sums["loss"])):
                raise self._nonfinite(epoch, i)
            for cb in step_end:
                cb.on_step_end(self, i, loss)
        sums = distributed.all_reduce_stats(sums)  # ── DDP: global metrics on every rank
        self.examples_seen *= distributed.world()  # (the shares are equal)
        if not math.isfinite(float(sums["loss"])):
            raise self._nonfinite(epoch, None)
        return sums

    def _train_step(self, batch: Any) -> tuple[torch.Tensor, Stats]:
        loss, stats = self._step(batch)
        self.schedule.step()
        self.state.step += 1
        if self.ema is not None:
            self.ema.update(self.state.step)
        return loss, stats

    def _step_body(self, batch: Any) -> tuple[torch.Tensor, Stats]:
        """Forward, backward and the optimizer's update of one batch (what train.cuda_graphs captures)."""
        if self._plain:  # fp32, no scaler, no clipping, no after-backward hook: the bare sequence of calls
            loss, stats = self.task.step(self.model, batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            return loss.detach(), stats
        with self.autocast():
            loss, stats = self.task.step(self.model, batch)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        for cb in self._hooks["on_after_backward"]:
            cb.on_after_backward(self)
        clip = self.cfg.train.grad_clip
        if clip is not None:
            self.scaler.unscale_(self.optimizer)
            if self.cfg.train.grad_clip_mode == "norm":
                nn.utils.clip_grad_norm_(self.module.parameters(), clip)
            else:
                nn.utils.clip_grad_value_(self.module.parameters(), clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.detach(), stats

    def evaluate(self, split: str) -> dict[str, float]:
        """Metrics of the current weights on a split (eval mode, no gradients)."""
        sums = self.eval_sums(split)
        return self.task.summarize(sums) if sums else {}

    def eval_sums(self, split: str, alone: bool = False) -> Stats:
        """The task's step statistics summed over a split (eval mode, no gradients). Under DDP the ranks share the
        split and sum over all of them, unless `alone` (one rank scores all of it)."""
        batches = self.task.eval_batches(split)
        if not alone:  # ── DDP: every rank scores rank 0's weights on its share of the batches
            distributed.sync_buffers(self.eval_model)
            batches = distributed.eval_share(batches)
        sums = eval_sums(self.eval_model, batches, lambda m, b: self.task.step(m, b)[1], self.autocast)
        return sums if alone else distributed.all_reduce_stats(sums)

    @property
    def eval_model(self) -> nn.Module:
        """What evaluation runs: the averaged weights with train.ema_decay, else the trained model (no DDP wrapper)."""
        return self.ema.module if self.ema is not None else distributed.unwrap(self.model)

    def load_best(self, path: Path) -> None:
        """The weights of checkpoint `path` (the averaged ones with train.ema_decay) into the model and, with
        train.ema_decay, the average: the figures after training are of those weights whichever module draws them."""
        load_weights(self.module, path, self.device)
        if self.ema is not None:
            self.ema.module.load_state_dict(self.module.state_dict())

    def request_stop(self, status: str, reason: str) -> None:
        """End the loop after this epoch (its row and checkpoint written) with `status`, e.g. a sweep's pruner. Under
        DDP, rank 0's request (the rank with callbacks) ends every rank's loop."""
        self.stop_request = (status, reason)

    def epoch_elapsed(self) -> float:
        return time.perf_counter() - self._epoch_start

    # ----------------------------------------------------------- best & stop
    def _track_best(self, epoch: int, value: float) -> bool:
        delta = self.cfg.train.early_stop.min_delta
        best = self.state.best_metric
        better = best is None or (value > best + delta if self.mode == "max" else value < best - delta)
        if better:
            self.state.best_metric, self.state.best_epoch, self.state.bad_epochs = value, epoch, 0
        else:
            self.state.bad_epochs += 1
        return better

    def _should_stop(self) -> bool:
        patience = self.cfg.train.early_stop.patience
        return patience is not None and self.state.bad_epochs >= patience

    def _nonfinite(self, epoch: int, step: int | None) -> NonFiniteLoss:
        where = f"epoch {epoch}" + (f", by step {step + 1}" if step is not None else "")
        return NonFiniteLoss(
            f"loss became NaN/inf in {where}; kept the last good checkpoint (epoch {self.state.epoch}). "
            f"Likely causes: learning rate too high (optim.lr={self.cfg.optim.lr:g}), no gradient clipping "
            f"(train.grad_clip), fp16 overflow, or bad inputs"
        )

    # ------------------------------------------------------------ checkpoints
    def checkpoint_state(self) -> dict[str, Any]:
        """`model` holds the weights eval, init_from and quantize read: the average with train.ema_decay, which then
        also saves the trained weights as `train_model` (what a resume continues)."""
        trained = {"train_model": self.module.state_dict()} if self.ema is not None else {}
        return trained | {
            "model": (self.ema.module if self.ema is not None else self.module).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "fit_state": asdict(self.state),
            "rng": rng_state(),
            "epoch": self.state.epoch,
            "config": config_to_dict(self.cfg),
        }

    def _save(self, best: bool) -> None:
        if not distributed.is_main():  # ── DDP: rank 0 alone writes checkpoints
            self.saved_epoch = self.state.epoch
            return
        data = checkpoint_bytes(self.checkpoint_state())  # serialised once: best.pt, when due, is the same bytes
        atomic_write_bytes(self.run.checkpoint("last"), data)
        self.saved_epoch = self.state.epoch
        if best:
            atomic_write_bytes(self.run.checkpoint("best"), data)

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint: weights, optimizer, schedule, loop state, RNG (all checked before any is
        touched, so a refused checkpoint leaves the trainer as it was)."""
        path = self.run.checkpoint("last")
        check_model_state(self.module, state, path)
        trained = state
        if self.ema is not None:  # train.ema_decay: `model` is the average, `train_model` the trained weights
            trained = {"model": state.get("train_model")}
            if not is_weights(trained["model"]):
                raise CheckpointError(f"{path} cannot be resumed with train.ema_decay: it holds no trained weights "
                                      "beside the average ('train_model')", "start a new run from its weights with "
                                      "train.init_from=RUN_DIR, or retrain")
            check_model_state(self.module, trained, path)
        check_resume_state(state, path, self.optimizer, asdict(FitState()),
                           {"schedule": self.schedule.state_dict(), "scaler": self.scaler.state_dict()})
        load_model_state(self.module, trained, path)
        if self.ema is not None:
            self.ema.module.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.scaler.load_state_dict(state["scaler"])
        self.state = FitState(**state["fit_state"])
        self.saved_epoch = self.state.epoch
        set_rng_state(state["rng"])

    def _bind_hooks(self) -> None:
        """Per hook, the callbacks that override it, so a no-op hook costs nothing in the hot loop; whether a step
        is plain (fp32, no scaler, no clipping, no after-backward hook); whether it is captured (train.cuda_graphs).
        Bound again at each fit, so callbacks added after construction are called too."""
        self._hooks = {h: [cb for cb in self.callbacks if getattr(type(cb), h) is not getattr(Callback, h)]
                       for h in HOOKS}
        self._plain = (self.cfg.train.precision == "fp32" and not self.scaler.is_enabled()
                       and self.cfg.train.grad_clip is None and not self._hooks["on_after_backward"])
        self._step: Callable[[Any], tuple[torch.Tensor, Stats]] = self._step_body
        if self._graphed is not None:
            if self._hooks["on_after_backward"]:
                log.warning("train.cuda_graphs: a callback runs on the host after each backward; the steps run eagerly")
            else:
                self._step = self._graphed

    def _call(self, hook: str, *args: Any) -> None:
        """Hooks run in the callbacks' order; `on_fit_end` in reverse, as nested contexts unwind: a callback
        that others use (a writer) opens first and closes last."""
        hooked = self._hooks[hook]
        for cb in reversed(hooked) if hook == "on_fit_end" else hooked:
            getattr(cb, hook)(*args)


def _format_row(row: dict[str, Any], epochs: int, rate: float) -> str:
    parts = [f"epoch {row['epoch']}/{epochs}"]
    parts += [f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "lr", "epoch_time_s")]
    parts += [f"lr {row['lr']:.3g}", f"{row.get('epoch_time_s', 0):.1f}s", f"{rate:,.0f} ex/s"]
    return "  ".join(parts)
