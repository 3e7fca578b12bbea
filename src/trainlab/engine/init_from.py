"""Starting from trained weights: a finished run (`train.init_from`), whole or its backbone.

A run of the same task, with no `transfer.strategy`, is loaded whole (fine-tuning; the same model sizes). A run of
another task (e.g. an autoencoder for a classifier), or any run under a `transfer.strategy`, gives the tensors
whose names and shapes match the new model's backbone: everything but its `head`, which stays new (sized for the
new classes). The same matching takes a state dict from elsewhere (`transfer.weights`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from trainlab.config import Config
from trainlab.config.tasks import normalize_task
from trainlab.engine.checkpoint import load_checkpoint, load_weights
from trainlab.engine.optim import HEAD
from trainlab.errors import CheckpointError
from trainlab.runs import RunDir, read_yaml


def source_run(cfg: Config) -> RunDir | None:
    """The run named by train.init_from, checked to hold best weights (None: not set)."""
    if cfg.train.init_from is None:
        return None
    run = RunDir.open(Path(cfg.train.init_from).expanduser())
    if not run.checkpoint("best").is_file():
        raise CheckpointError(f"train.init_from run {run.path.name} has no best checkpoint",
                              "start from a run that finished at least one epoch")
    return run


def run_task(run: RunDir) -> str | None:
    """The task a run trained (from its config.yaml)."""
    return normalize_task(read_yaml(run.config) or {}).get("task", {}).get("name")


def loads_whole(cfg: Config, run: RunDir) -> bool:
    """Whether `run` starts this one whole (same task, no transfer strategy) rather than its backbone only."""
    return run_task(run) == cfg.task.name and cfg.transfer.strategy is None


def init_weights(model: nn.Module, run: RunDir, cfg: Config) -> str:
    """Load `run`'s best weights into `model` (whole or the matching backbone); returns the log line."""
    if loads_whole(cfg, run):
        try:
            epoch = load_weights(model, run.checkpoint("best"))
        except CheckpointError as e:
            raise CheckpointError(f"train.init_from: {e.problem}",
                                  f"give the model the sizes in {run.config}, or set transfer.strategy to "
                                  "take its backbone only") from None
        return f"weights from {run.path} (best, epoch {epoch})"
    state = load_checkpoint(run.checkpoint("best"))
    return take_backbone(model, state["model"], f"train.init_from run {run.path.name} ({run_task(run)}, best)",
                         f"start from a run with the same model.* options (see {run.config})")


def take_backbone(model: nn.Module, state: Mapping[str, torch.Tensor], source: str, fix: str) -> str:
    """Copy into `model` the tensors of `state` whose names and shapes match its backbone (all but `head.*`);
    returns the log line: how many were taken, which were left new. Nothing matching is a one-line error."""
    live = model.state_dict()
    backbone = [k for k in live if not k.startswith(HEAD)]
    fits = [k for k in backbone if k in state and tuple(state[k].shape) == tuple(live[k].shape)]
    # a scalar (a BatchNorm's batch count) fits anything: it comes with its layer's other tensors, never alone
    layers = {k.rpartition(".")[0] for k in fits if live[k].ndim}
    taken = [k for k in fits if live[k].ndim or k.rpartition(".")[0] in layers]
    if not taken:
        example = next(iter(state), "nothing")
        raise CheckpointError(f"{source} has no tensor whose name and shape match this model's backbone "
                              f"(it has {example}, this model {backbone[0] if backbone else 'no backbone'})", fix)
    with torch.no_grad():
        for k in taken:
            live[k].copy_(state[k])
    new = [k for k in live if k not in taken]
    shown = ", ".join(new[:6]) + (f", … ({len(new) - 6} more)" if len(new) > 6 else "")
    return f"{len(taken)} of {len(live)} tensors taken from {source}; left new: {shown or 'none'}"
