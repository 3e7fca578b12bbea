"""The encoder a representation command reads: a run's model with its trained weights, or the same model freshly
initialised (a run's config or a config file: the random-init baseline), and the labelled splits of its data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from trainlab.config import Config, load_config
from trainlab.engine.checkpoint import load_weights
from trainlab.errors import ConfigError, UserError
from trainlab.evaluation import checkpoint_path, open_run
from trainlab.models.features import PENULTIMATE, features
from trainlab.runs import RunDir
from trainlab.runs.checkpoint_file import check_container
from trainlab.tasks.arrays import ArrayTask

Init = Literal["trained", "random"]


@dataclass
class Encoder:
    """A model in eval mode, the task that built it (its data on the device) and where both came from."""

    name: str
    task: ArrayTask
    model: nn.Module
    init: str  # "trained (best)", "trained (last)" or "random"
    run: RunDir | None = None

    @property
    def classes(self) -> list[str]:
        return self.task.data.classes

    def splits(self) -> list[str]:
        return self.task.split_names()

    @torch.no_grad()
    def features(self, split: str, layer: str = PENULTIMATE) -> tuple[np.ndarray, np.ndarray]:
        """(features (N, D) float32, labels (N,)) of a whole split, in order, from the model in eval mode."""
        if not self.task.has_split(split):
            raise UserError(f"{self.name} has no {split} split", f"use one of: {', '.join(self.splits())}")
        self.model.eval()
        data = self.task.splits[split]
        chunks = [features(self.model, x, layer).float().cpu()
                  for x, _ in data.batches(self.task.cfg.train.eval_batch_size)]
        return torch.cat(chunks).numpy(), data.y.cpu().numpy()


def open_encoder(source: Path | str | Config, init: Init | None = None, checkpoint: str = "best",
                 overrides: Sequence[str] = ()) -> Encoder:
    """`source` is a run directory (init "trained", its `checkpoint` weights, or "random": its model freshly
    initialised with its seed), a config file or a Config (init "random" only; `overrides` apply to a file)."""
    from trainlab.api import prepare_task

    if isinstance(source, Config) or Path(source).is_file():
        if init == "trained":
            raise UserError("a config has no trained weights", "pass a run directory, or --init random")
        cfg = source if isinstance(source, Config) else load_config(Path(source), list(overrides))
        return _encoder(prepare_task(cfg), "random", f"{cfg.model.name} on {cfg.data.name}", None)
    if overrides:
        raise UserError(f"overrides ({' '.join(overrides)}) apply to a config file, not to a run",
                        "leave them out, or pass a config file")
    run, cfg = open_run(source)
    if init != "random":
        check_container(checkpoint_path(run, checkpoint))
    task = prepare_task(cfg, run)  # seeds as the run did: a random init is the run's own initial weights
    return _encoder(task, "random" if init == "random" else f"trained ({checkpoint})", run.path.name, run,
                    checkpoint)


def _encoder(task: object, init: str, name: str, run: RunDir | None, checkpoint: str = "best") -> Encoder:
    if not isinstance(task, ArrayTask):
        raise UserError(f"{name} is a {task.cfg.task.name} run; representations are read from array-data "  # type: ignore[attr-defined]
                        "tasks", "pass a run of an image or tabular dataset (classification, contrastive, ...)")
    if task.data.target_kind != "class":
        raise ConfigError(f"{name}: data.name={task.cfg.data.name} has {task.data.target_kind} targets; probes "
                          "and clusters are scored against class labels", "pick a dataset with class labels")
    model = task.build_model()
    if run is not None and init.startswith("trained"):
        load_weights(model, run.checkpoint(checkpoint), task.device)
    model.to(task.device).eval()
    return Encoder(name, task, model, init, run)
