"""The multitask task (registered as `multitask`)."""

from trainlab.tasks.multitask.task import MultitaskTask

__all__ = ["MultitaskTask"]
