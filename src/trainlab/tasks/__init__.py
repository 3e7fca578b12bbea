"""Tasks: one room each (data adapter, loss, metrics, evaluation, sampling, final report), looked up by
`task.name` in `TASKS`. Every one implements `trainlab.engine.Task`; nothing outside this package
branches on a task's name."""

from trainlab.tasks import (  # noqa: F401  (register the tasks)
    autoencoder,
    binary,
    char_lm,
    classification,
    contrastive,
    gaussian_nll,
    multitask,
    regression,
    seq2seq,
)
from trainlab.tasks.registry import TASKS

__all__ = ["TASKS"]
