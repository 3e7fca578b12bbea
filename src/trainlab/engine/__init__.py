"""Engine stage: the one training loop, the task interface, optimizers, checkpoints, callbacks.

Task-agnostic: it imports no task, model family or dataset (tasks live in `trainlab.tasks`)."""

from trainlab.engine.callbacks import Callback
from trainlab.engine.checkpoint import load_checkpoint, load_model_state, load_weights, save_checkpoint
from trainlab.engine.evaluate import eval_sums
from trainlab.engine.task import EvalOptions, EvalReport, Member, ReportTable, SampleOptions, Task
from trainlab.engine.trainer import FitState, Trainer

__all__ = [
    "Callback", "EvalOptions", "EvalReport", "FitState", "Member", "ReportTable", "SampleOptions", "Task", "Trainer",
    "eval_sums", "load_checkpoint", "load_model_state", "load_weights", "save_checkpoint",
]
