"""TTA: test-time augmentation of a classifier, scored as one model (like `Ensemble`).

All views of a batch go through the model as one batch (views × examples), and the output is the log
of the mean of the views' softmax probabilities: the same task code that scores a single model (loss,
argmax, confusion counts) scores the augmented one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from trainlab.models.ensemble import mean_probs
from trainlab.models.vgg import AuxOutput


class TTA(nn.Module):
    """`model` averaged over `views` of its input (functions of a batch, the identity among them)."""

    def __init__(self, model: nn.Module, views: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> None:
        super().__init__()
        if not views:
            raise ValueError("test-time augmentation needs at least one view")
        self.model, self.views = model, list(views)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(torch.cat([view(x) for view in self.views]))
        logits = out.logits if isinstance(out, AuxOutput) else out
        return mean_probs(logits.chunk(len(self.views)))
