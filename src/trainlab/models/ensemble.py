"""ENSEMBLE of classifiers: log of the mean of the members' softmax probabilities.

A log-probability vector is its own log-softmax, so the cross-entropy, argmax and confusion counts of
the ensemble come from the same task code that scores a single model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def mean_probs(logits: Sequence[torch.Tensor]) -> torch.Tensor:
    """log of the mean of softmax(logits_i) over the members, computed in log space."""
    logp = torch.stack([torch.log_softmax(x.float(), dim=-1) for x in logits])
    return torch.logsumexp(logp, dim=0) - math.log(len(logits))


class Ensemble(nn.Module):
    """Several trained classifiers of one input and label space, scored as one model (eval mode)."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mean_probs([m(x) for m in self.members])
