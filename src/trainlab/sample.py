"""`trainlab sample`: what a finished run's model makes of a prompt (its task decides: a language model
continues it, a seq2seq model answers it)."""

from __future__ import annotations

from pathlib import Path

import torch

from trainlab.engine.task import SampleOptions
from trainlab.evaluation import load_model, open_run
from trainlab.tasks import TASKS


def sample(run_dir: Path | str, prompt: str, length: int = 200, temperature: float = 1.0, checkpoint: str = "best",
           seed: int | None = None, beam: int | None = None) -> str:
    """The run's output for `prompt`; `seed` makes sampling reproducible (default: random)."""
    run, cfg = open_run(run_dir)
    device = torch.device("cpu")
    task = TASKS.get(cfg.task.name).for_inference(run, cfg, device)
    model = load_model(task, run, cfg, checkpoint, device)
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)
    return task.sample(model, prompt, SampleOptions(length, temperature, beam), gen)
