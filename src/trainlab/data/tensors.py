"""Splits as tensors resident on the training device; batches are index slices."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class TensorSplit:
    """One split (inputs and labels) on one device."""

    x: torch.Tensor
    y: torch.Tensor

    @classmethod
    def from_arrays(cls, x: np.ndarray, y: np.ndarray, device: torch.device,
                    channels_last: bool = False) -> TensorSplit:
        xt = torch.from_numpy(x).to(device)
        if channels_last and xt.ndim == 4:
            xt = xt.contiguous(memory_format=torch.channels_last)
        return cls(xt, torch.from_numpy(y).to(device))

    def __len__(self) -> int:
        return len(self.y)

    def batches(self, batch_size: int, gen: torch.Generator | None = None, drop_last: bool = False
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Shuffled when `gen` is given; a trailing batch of one is dropped (batch norm needs two), and with
        `drop_last` any trailing batch smaller than `batch_size` (fixed shapes)."""
        n = len(self)
        if gen is None:
            for i in range(0, n, batch_size):
                yield self.x[i:i + batch_size], self.y[i:i + batch_size]
            return
        order = torch.randperm(n, generator=gen, device=gen.device).to(self.x.device)
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            if len(idx) < 2 < n or (drop_last and len(idx) < batch_size < n):
                break
            yield self.x[idx], self.y[idx]

    def num_batches(self, batch_size: int, shuffle: bool, drop_last: bool = False) -> int:
        n = len(self)
        full, rest = divmod(n, batch_size)
        if drop_last and shuffle and full:
            return full
        return full + (1 if rest > 1 or (rest == 1 and not shuffle) else 0)
