"""Fine-tuning: a run that starts from the best weights of a finished run of the same task."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from trainlab.config import Config
from trainlab.config.tasks import normalize_task
from trainlab.engine.checkpoint import load_weights
from trainlab.errors import CheckpointError, ConfigError
from trainlab.runs import RunDir, read_yaml


def source_run(cfg: Config) -> RunDir | None:
    """The run named by train.init_from, checked to hold best weights of the same task (None: not set)."""
    if cfg.train.init_from is None:
        return None
    run = RunDir.open(Path(cfg.train.init_from).expanduser())
    if not run.checkpoint("best").is_file():
        raise CheckpointError(f"train.init_from run {run.path.name} has no best checkpoint",
                              "start from a run that finished at least one epoch")
    task = normalize_task(read_yaml(run.config) or {}).get("task", {}).get("name")
    if task != cfg.task.name:
        raise ConfigError(f"train.init_from run {run.path.name} is a {task} run, this one is {cfg.task.name}",
                          "start from a run of the same task")
    return run


def init_weights(model: nn.Module, run: RunDir) -> int:
    """Load `run`'s best weights into `model`; returns the epoch they were saved at."""
    try:
        return load_weights(model, run.checkpoint("best"))
    except CheckpointError as e:
        raise CheckpointError(f"train.init_from: {e.problem}", f"give the model the sizes in {run.config}") from None
