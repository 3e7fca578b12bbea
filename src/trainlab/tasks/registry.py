"""The task registry: `task.name` → the Task class."""

from trainlab.engine.task import Task
from trainlab.registry import Registry

TASKS: Registry[type[Task]] = Registry("task")
