"""The one evaluation loop: a model in eval mode, no gradients, per-batch statistics summed on the device.

The Trainer scores its validation and test splits with it, and every task's `evaluate` scores runs
and ensembles with it; only `fn` (what a batch yields) differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext

import torch
from torch import nn

from trainlab.engine.task import Batch, Stats


@torch.no_grad()
def eval_sums(model: nn.Module, batches: Iterable[Batch], fn: Callable[[nn.Module, Batch], Stats],
              autocast: Callable[[], AbstractContextManager[object]] = nullcontext) -> Stats:
    """`fn(model, batch)`'s statistics summed over `batches`."""
    model.eval()
    sums: Stats = {}
    for batch in batches:
        with autocast():
            stats = fn(model, batch)
        accumulate(sums, stats)
    return sums


def accumulate(sums: Stats, stats: Stats) -> None:
    """Add a step's statistics into running sums (tensors stay on the device; lists are concatenated). The first
    step's are copied: a replayed CUDA graph (train.cuda_graphs) writes the next step's into the same tensors."""
    for k, v in stats.items():
        sums[k] = sums[k] + v if k in sums else (list(v) if isinstance(v, list) else v.clone())
