"""Optimizer, learning-rate schedule and loss registries, built from the config."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.config.schema import LossConfig, OptimConfig, SchedConfig, TrainConfig
from trainlab.registry import Registry

Params = Iterable[torch.nn.Parameter] | list[dict[str, Any]]
OPTIMIZERS: Registry[Callable[[Params, OptimConfig], torch.optim.Optimizer]] = Registry("optimizer")

OPTIMIZERS.register("sgd")(lambda p, c: torch.optim.SGD(
    p, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov, weight_decay=c.weight_decay))
OPTIMIZERS.register("adam")(lambda p, c: torch.optim.Adam(
    p, lr=c.lr, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay))
OPTIMIZERS.register("adamw")(lambda p, c: torch.optim.AdamW(
    p, lr=c.lr, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay))
OPTIMIZERS.register("rmsprop")(lambda p, c: torch.optim.RMSprop(
    p, lr=c.lr, alpha=c.alpha, eps=c.eps, momentum=c.momentum, weight_decay=c.weight_decay))
OPTIMIZERS.register("adagrad")(lambda p, c: torch.optim.Adagrad(
    p, lr=c.lr, eps=c.eps, weight_decay=c.weight_decay))
OPTIMIZERS.register("adadelta")(lambda p, c: torch.optim.Adadelta(
    p, lr=c.lr, rho=c.rho, eps=c.eps, weight_decay=c.weight_decay))


#: the prefix of a transferable model's classifier (models name it `head`)
HEAD = "head."
FUSED = frozenset({"sgd", "adam", "adamw"})  # torch has fused CUDA kernels for these: one launch updates all


def build_optimizer(model: nn.Module, cfg: OptimConfig, backbone_lr: float | None = None) -> torch.optim.Optimizer:
    """The configured optimizer over `param_groups`; on CUDA, torch's fused implementation where there is one
    (same update, same state: a checkpoint moves between the two)."""
    groups = param_groups(model, backbone_lr)
    opt = OPTIMIZERS.get(cfg.name)(groups, cfg)
    first = next((g["params"][0] for g in groups if g["params"]), None)
    # fresh groups: the first optimizer filled its own with every default (fused=False among them)
    return fused(opt, param_groups(model, backbone_lr)) if cfg.name in FUSED and first is not None and first.is_cuda \
        else opt


def fused(opt: torch.optim.Optimizer, groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    """`opt` rebuilt with the same settings as torch's fused implementation (CUDA, and the CPU for Adam/SGD)."""
    args = inspect.signature(type(opt)).parameters
    settings = {k: v for k, v in opt.defaults.items() if k in args}
    return type(opt)(groups, **settings | {"foreach": None, "fused": True})


def param_groups(model: nn.Module, backbone_lr: float | None) -> list[dict[str, Any]]:
    """The trainable parameters: one group at optim.lr, or (`backbone_lr` given: transfer.backbone_lr) the head's
    (`head.*`) at optim.lr first, then the backbone's at `backbone_lr` (an empty group is left out)."""
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if backbone_lr is None:
        return [{"params": [p for _, p in trainable]}]
    head = {"params": [p for n, p in trainable if n.startswith(HEAD)]}
    backbone = {"params": [p for n, p in trainable if not n.startswith(HEAD)], "lr": backbone_lr}
    return [g for g in (head, backbone) if g["params"]]


# A schedule is a multiplier of the base lr as a function of the optimizer step,
# so a resumed run gets exactly the same learning rates.
Multiplier = Callable[[int], float]
SCHEDULES: Registry[Callable[[SchedConfig, float, int, int], Multiplier]] = Registry("schedule")


@SCHEDULES.register("none")
@SCHEDULES.register("plateau")  # decays from validation results: LRSchedule.epoch_end
def _constant(cfg: SchedConfig, base_lr: float, total: int, per_epoch: int) -> Multiplier:
    return lambda step: 1.0


@SCHEDULES.register("step")
def _step(cfg: SchedConfig, base_lr: float, total: int, per_epoch: int) -> Multiplier:
    return lambda step: cfg.gamma ** (step // (cfg.step_size * per_epoch))


@SCHEDULES.register("multistep")
def _multistep(cfg: SchedConfig, base_lr: float, total: int, per_epoch: int) -> Multiplier:
    bounds = sorted(m * per_epoch for m in cfg.milestones)
    return lambda step: cfg.gamma ** sum(step >= b for b in bounds)


@SCHEDULES.register("cosine")
def _cosine(cfg: SchedConfig, base_lr: float, total: int, per_epoch: int) -> Multiplier:
    floor = cfg.min_lr / base_lr
    return lambda step: floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step / max(total, 1), 1.0)))


@SCHEDULES.register("onecycle")
def _onecycle(cfg: SchedConfig, base_lr: float, total: int, per_epoch: int) -> Multiplier:
    """Cosine rise from lr/25 to lr over pct_start of training, then cosine fall to lr/1e4."""
    peak = max(int(cfg.pct_start * total), 1)
    start, end = 1 / 25, 1 / 1e4

    def f(step: int) -> float:
        if step < peak:
            return start + (1 - start) * 0.5 * (1 - math.cos(math.pi * step / peak))
        t = min((step - peak) / max(total - peak, 1), 1.0)
        return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * t))

    return f


#: schedules that decay over the whole run: most of their gain comes late, so an early stop skips it
DECAY_OVER_RUN = frozenset({"cosine", "onecycle"})


def early_stop_conflict(train: TrainConfig, sched: SchedConfig) -> str | None:
    """A warning when early stopping may end the run before a run-length schedule has decayed."""
    patience = train.early_stop.patience
    if patience is None or sched.name not in DECAY_OVER_RUN or 2 * patience >= train.epochs:
        return None
    return (f"early stopping (patience {patience}) may end this run before the {sched.name} schedule has decayed "
            f"over its {train.epochs} epochs, where it gains most; set train.early_stop.patience to "
            f"{-(-train.epochs // 2)} or more, or to null")


class LRSchedule:
    """Sets each group's lr = base lr × schedule(step) × warmup ramp × plateau scale.

    `step()` after every optimizer step; `epoch_end(metric)` once per epoch (plateau only).
    Its whole state is a few numbers, saved in checkpoints.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, cfg: SchedConfig, epochs: int,
                 steps_per_epoch: int, mode: str = "max") -> None:
        self.optimizer = optimizer
        self.cfg = cfg
        self.mode = mode
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.schedule = SCHEDULES.get(cfg.name)(cfg, self.base_lrs[0], epochs * steps_per_epoch,
                                                steps_per_epoch)
        self.warmup = int(cfg.warmup_epochs * steps_per_epoch)
        self.steps = 0
        self.scale = 1.0
        self.best: float | None = None
        self.bad_epochs = 0
        self._apply()

    def multiplier(self) -> float:
        ramp = min((self.steps + 1) / self.warmup, 1.0) if self.warmup > 0 else 1.0
        return ramp * self.schedule(self.steps) * self.scale

    def _apply(self) -> None:
        m = self.multiplier()
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * m

    def step(self) -> None:
        self.steps += 1
        self._apply()

    def epoch_end(self, metric: float | None) -> None:
        """Plateau: decay by gamma after `patience` epochs without improvement."""
        if self.cfg.name != "plateau" or metric is None:
            return
        better = self.best is None or (metric > self.best if self.mode == "max" else metric < self.best)
        if better:
            self.best, self.bad_epochs = metric, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.cfg.patience:
            self.scale *= self.cfg.gamma
            self.bad_epochs = 0
            self._apply()

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def state_dict(self) -> dict[str, float | int | None]:
        return {"steps": self.steps, "scale": self.scale, "best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, float | int | None]) -> None:
        self.steps = int(state["steps"])
        self.scale = float(state["scale"])
        self.best = state["best"]
        self.bad_epochs = int(state["bad_epochs"])
        self._apply()


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES: Registry[Callable[[LossConfig], LossFn]] = Registry("loss")


def as_target(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """`y` compared with `pred` element by element: class labels (one fewer dimension) become one-hot rows."""
    if y.ndim == pred.ndim - 1 and not torch.is_floating_point(y):
        return F.one_hot(y, pred.shape[-1]).to(pred.dtype)
    return y.to(pred.dtype)


LOSSES.register("cross_entropy")(
    lambda c: lambda logits, y: F.cross_entropy(logits, y, label_smoothing=c.label_smoothing))
# nll on log-softmax of the logits (the models output logits): the classic two-step form.
LOSSES.register("nll")(lambda c: lambda logits, y: F.nll_loss(F.log_softmax(logits, dim=-1), y))
LOSSES.register("mse")(lambda c: lambda pred, y: F.mse_loss(pred, as_target(pred, y)))
LOSSES.register("l1")(lambda c: lambda pred, y: F.l1_loss(pred, as_target(pred, y)))
LOSSES.register("huber")(lambda c: lambda pred, y: F.huber_loss(pred, as_target(pred, y), delta=c.huber_delta))
LOSSES.register("bce_with_logits")(
    lambda c: lambda logits, y: F.binary_cross_entropy_with_logits(logits, as_target(logits, y)))

LOG_2PI = math.log(2 * math.pi)


def gaussian_nll(mean: torch.Tensor, logvar: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Elementwise NLL of `y` under N(mean, exp(logvar)), constant included: ½(log 2π + s + (y − μ)² e^(−s))."""
    return 0.5 * (LOG_2PI + logvar + (y - mean) ** 2 * torch.exp(-logvar))


def mean_logvar(out: torch.Tensor, cfg: LossConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 2T) outputs → (mean, log-variance clamped to [min_logvar, max_logvar]), each (N, T)."""
    mean, logvar = out.float().chunk(2, dim=-1)
    return mean, logvar.clamp(cfg.min_logvar, cfg.max_logvar)


# A heteroscedastic head: the model's outputs are T means then T log-variances.
LOSSES.register("gaussian_nll")(lambda c: lambda out, y: gaussian_nll(*mean_logvar(out, c), y).mean())


def build_loss(cfg: LossConfig, name: str) -> LossFn:
    """The loss `name` (a task resolves `loss.name`: `Task.loss_name`) with `cfg`'s options."""
    return LOSSES.get(name)(cfg)
