"""The regression task (registered as `regression`) and the error statistics it shares with gaussian_nll."""

from trainlab.tasks.regression.task import RegressionTask

__all__ = ["RegressionTask"]
