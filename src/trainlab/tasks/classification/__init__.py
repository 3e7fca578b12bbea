"""The classification task (registered as `classification`)."""

from trainlab.tasks.classification.task import ClassificationReport, ClassificationTask

__all__ = ["ClassificationReport", "ClassificationTask"]
