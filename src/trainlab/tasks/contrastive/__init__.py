"""The contrastive task (registered as `contrastive`): SimCLR on image data."""

from trainlab.tasks.contrastive.task import ContrastiveNet, ContrastiveTask, nt_xent

__all__ = ["ContrastiveNet", "ContrastiveTask", "nt_xent"]
