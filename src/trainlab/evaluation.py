"""`trainlab eval`: score run directories (one run, or several as an ensemble) through their task.

This module knows no task: it opens the runs, reads their checkpoints (a malformed one is refused
before any data is loaded), builds the first run's task, lets it vet the other members, loads each
member's weights and hands them to `Task.evaluate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from trainlab.config import Config, validate
from trainlab.errors import ConfigError, UserError
from trainlab.runs import RunDir, read_yaml
from trainlab.runs.checkpoint_file import check_container

if TYPE_CHECKING:
    import torch

    from trainlab.engine.task import EvalReport, Task


def open_run(path: Path | str) -> tuple[RunDir, Config]:
    """A finished (or unfinished) run directory and its validated config."""
    run = RunDir.open(Path(path))
    return run, validate(read_yaml(run.config))


def checkpoint_path(run: RunDir, checkpoint: str) -> Path:
    if checkpoint not in ("best", "last"):
        raise ConfigError(f"unknown checkpoint {checkpoint!r}", "use --checkpoint best or --checkpoint last")
    return run.checkpoint(checkpoint)


def load_model(task: Task, run: RunDir, cfg: Config, checkpoint: str, device: torch.device) -> torch.nn.Module:
    """`cfg`'s model, sized by `task`, with the run's best or last weights, on `device` in eval mode."""
    from trainlab.engine.checkpoint import load_weights

    model = task.build_model(cfg)
    load_weights(model, checkpoint_path(run, checkpoint), device)
    return model


def evaluate(run_dirs: list[Path | str], split: str = "test", checkpoint: str = "best", device: str = "auto",
             beam: int | None = None, predictions: Path | None = None,
             tta: Sequence[str] | None = None) -> EvalReport:
    """The task's report of one run, or of an ensemble of several (the task averages their probabilities).
    Torch and the tasks are imported once the inputs passed the cheap checks: a bad path or checkpoint file is
    refused in a fraction of a second."""
    opened = [open_run(p) for p in run_dirs]
    for run, _ in opened:
        check_container(checkpoint_path(run, checkpoint))
    from trainlab.engine.checkpoint import load_checkpoint, load_weights
    from trainlab.engine.device import resolve_device
    from trainlab.engine.task import EvalOptions, Member
    from trainlab.tasks import TASKS

    (first, cfg), name = opened[0], opened[0][1].task.name
    for run, other in opened[1:]:
        if other.task.name != name:
            raise UserError(f"{run.path.name} is a {other.task.name} run, {first.path.name} a {name} run",
                            "ensemble only runs of one task")
    task_cls = TASKS.get(name)
    if len(opened) > 1 and not task_cls.ensembles:
        covered = ", ".join(n for n in TASKS.names() if TASKS.get(n).ensembles)
        raise UserError(f"ensembles cover {covered} runs, not {name}", f"evaluate {name} runs one at a time")
    options = EvalOptions(beam=beam, predictions=predictions, tta=tuple(tta) if tta is not None else None)
    for option in options.given():
        if option not in task_cls.eval_options:
            raise UserError(f"--{option} does not apply to {name} runs", f"leave out --{option}")
    torch_device = resolve_device(device)
    states = [load_checkpoint(checkpoint_path(run, checkpoint), torch_device) for run, _ in opened]
    task = task_cls.for_run(first, cfg, torch_device)
    if not task.has_split(split):
        raise UserError(f"{first.path.name} has no {split} split", f"use one of: {', '.join(task.split_names())}")
    for run, other in opened[1:]:
        task.check_member(run, other, first, split)
    members = []
    for (run, other), state in zip(opened, states, strict=True):
        model = task.build_model(other)
        load_weights(model, run.checkpoint(checkpoint), torch_device, state)
        members.append(Member(run.path.name, other, model))
    return task.evaluate(members, split, checkpoint, options)
