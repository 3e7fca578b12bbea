"""Engine stage: the one training loop, the task interface, optimizers, checkpoints, callbacks."""

from trainlab.engine import seq_tasks  # noqa: F401  (registers the seq2seq and char_lm tasks)
from trainlab.engine.callbacks import Callback
from trainlab.engine.checkpoint import load_checkpoint, load_model_state, save_checkpoint
from trainlab.engine.task import TASKS, ClassificationTask, Task
from trainlab.engine.trainer import FitState, Trainer

__all__ = [
    "TASKS", "Callback", "ClassificationTask", "FitState", "Task", "Trainer", "load_checkpoint",
    "load_model_state", "save_checkpoint",
]
