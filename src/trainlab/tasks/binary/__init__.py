"""The binary task (registered as `binary`)."""

from trainlab.tasks.binary.task import BinaryTask

__all__ = ["BinaryTask"]
