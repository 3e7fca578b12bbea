"""The gaussian_nll task (registered as `gaussian_nll`)."""

from trainlab.tasks.gaussian_nll.task import GaussianNLLTask

__all__ = ["GaussianNLLTask"]
