"""`trainlab lr-find`: Smith's learning-rate range test on a config's task and model.

The learning rate grows exponentially from `start` to `end` over `steps` optimizer steps on the task's own
training batches (the engine's pieces: `Task.train_batches`, `Task.step`, `build_optimizer`); the loss is
smoothed exponentially (bias-corrected; `beta` 0.9 by default, a window of about ten steps: fastai's 0.98
lags far behind a loss that falls within a few steps) and the test stops once the smoothed
loss exceeds `diverge` times its best. The suggestion is the rate of the steepest descent of the smoothed
loss (before its minimum); when the minimum comes within the first steps, the rate of the minimum / 10.
Everything goes into a new folder; no run directory or checkpoint is written or changed.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from trainlab.api import prepare_start
from trainlab.config import Config, config_to_dict
from trainlab.engine.device import autocast_factory, epoch_generator
from trainlab.engine.optim import build_optimizer
from trainlab.engine.task import Task
from trainlab.errors import ConfigError, RunDirError
from trainlab.report.figures import plot_lr_find
from trainlab.runs import write_json

STEEPEST = "steepest descent of the smoothed loss"
MIN_OVER_10 = "minimum of the smoothed loss / 10"


@dataclass
class LRFindResult:
    out: Path
    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    method: str  # STEEPEST or MIN_OVER_10
    min_lr: float  # the rate at the smoothed loss's minimum
    diverged: bool  # stopped before `end` because the loss diverged


def lr_find(cfg: Config, start: float = 1e-7, end: float = 10.0, steps: int = 100, out: Path | str | None = None,
            diverge: float = 4.0, beta: float = 0.9) -> LRFindResult:
    """The range test of `cfg` (a fresh model, or train.init_from's weights), written to `out` (a new folder,
    default runs/lr-find-DATA-MODEL-TIME): lr_find.png, lr_find.csv, lr_find.json."""
    if not 0 <= beta < 1:
        raise ConfigError(f"--smooth {beta:g} is no smoothing factor", "give 0 <= --smooth < 1 (0 = no smoothing)")
    if not 0 < start < end:
        raise ConfigError(f"--start {start:g} --end {end:g} is no rising range", "give 0 < --start < --end")
    if steps < 3:
        raise ConfigError(f"--steps {steps} is too few for a range test", "give --steps 3 or more (100 is usual)")
    folder = Path(out) if out is not None else \
        Path("runs") / f"lr-find-{cfg.data.name}-{cfg.model.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise RunDirError(f"{folder} already exists and is not empty", "give lr-find a new folder with --out")
    begin = prepare_start(cfg)  # data and weight problems surface before the folder is made
    lrs, losses, smoothed = _ramp(cfg, begin.task, begin.model, np.geomspace(start, end, steps), diverge, beta)
    if len(lrs) < 2:
        raise ConfigError(f"the loss diverged at the first steps (lr {lrs[-1] if lrs else start:g})",
                          "lower --start")
    suggestion, method, min_lr = suggest(lrs, smoothed)
    folder.mkdir(parents=True, exist_ok=True)
    plot_lr_find(lrs, losses, smoothed, suggestion, folder / "lr_find.png",
                 title=f"{cfg.model.name} on {cfg.data.name}, {cfg.optim.name}")
    with (folder / "lr_find.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "lr", "loss", "smoothed_loss"])
        w.writerows([i + 1, lr, loss, s] for i, (lr, loss, s) in enumerate(zip(lrs, losses, smoothed, strict=True)))
    diverged = len(lrs) < steps
    write_json(folder / "lr_find.json", {
        "suggestion": suggestion, "method": method, "min_loss_lr": min_lr, "steps_run": len(lrs),
        "diverged": diverged, "start": start, "end": end, "steps": steps, "diverge_factor": diverge,
        "smoothing": beta, "config": config_to_dict(cfg)})
    return LRFindResult(folder, lrs, losses, smoothed, suggestion, method, min_lr, diverged)


def _ramp(cfg: Config, task: Task, model: torch.nn.Module, schedule: np.ndarray, diverge: float,
          beta: float) -> tuple[list[float], list[float], list[float]]:
    """(rates, losses, smoothed losses): one optimizer step per rate of `schedule` on the task's training batches
    (epoch after epoch), until the loss is not finite or its smoothed value passes `diverge` × the best. The
    smoothing is an exponential moving average with bias correction (the first values are not pulled to 0)."""
    device = task.device
    model = model.to(device).train()
    optimizer = build_optimizer(model, cfg.optim)
    autocast = autocast_factory(cfg.train, device)
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.train.precision == "fp16")
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    avg, best, epoch = 0.0, math.inf, 0
    while len(lrs) < len(schedule):
        epoch += 1
        batches = 0
        for batch in task.train_batches(epoch_generator(cfg.train.seed, epoch, device), epoch):
            batches += 1
            lr = float(schedule[len(lrs)])
            for group in optimizer.param_groups:
                group["lr"] = lr
            with autocast():
                loss, _ = task.step(model, batch)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if cfg.train.grad_clip is not None:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            value = float(loss.detach())  # one host sync per step: the test needs every loss
            if not math.isfinite(value):
                return lrs, losses, smoothed
            avg = beta * avg + (1 - beta) * value
            lrs.append(lr)
            losses.append(value)
            smoothed.append(avg / (1 - beta ** len(losses)))
            if smoothed[-1] > diverge * best or len(lrs) == len(schedule):
                return lrs, losses, smoothed
            best = min(best, smoothed[-1])
        if batches == 0:
            raise ConfigError("the training split gives no batches", "use more data or a smaller train.batch_size")
    return lrs, losses, smoothed


def suggest(lrs: list[float], smoothed: list[float]) -> tuple[float, str, float]:
    """(suggested rate, how it was chosen, rate of the smoothed loss's minimum): the steepest descent of the
    smoothed loss against log(lr) before its minimum; the minimum's rate / 10 when the minimum comes too early
    (within the first 3 steps) for a slope."""
    lo = int(np.argmin(smoothed))
    if lo < 3:
        return lrs[lo] / 10, MIN_OVER_10, lrs[lo]
    slope = np.gradient(np.asarray(smoothed[:lo + 1]), np.log(lrs[:lo + 1]))
    return lrs[int(np.argmin(slope))], STEEPEST, lrs[lo]
