"""Splits as tensors resident on the training device; batches are index slices.

uint8 images stay uint8 on the device (4x less memory and host-to-device traffic than float32) and are
normalised on the fly, x·scale + shift with scale = 1/(255·std), shift = -mean/std; shuffled batches are
gathered, normalised and augmented a group (~GROUP_BYTES) at a time, each batch a slice of its group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T", torch.Tensor, np.ndarray)
GROUP_BYTES = 8 << 20  # shuffled batches are prepared this many bytes of float inputs at a time on a CPU (its cache)


def group_bytes(device: torch.device) -> int:
    """Bytes of model inputs `TensorSplit.batches` prepares at a time: cache-sized on a CPU, 8× on an accelerator
    (where each op is a kernel launch and memory is plentiful)."""
    return GROUP_BYTES if device.type == "cpu" else 8 * GROUP_BYTES


@dataclass
class TensorSplit:
    """One split (inputs and labels) on one device; `scale`/`shift` normalise uint8 inputs per batch."""

    x: torch.Tensor
    y: torch.Tensor
    scale: torch.Tensor | None = None
    shift: torch.Tensor | None = None

    @classmethod
    def from_arrays(cls, x: np.ndarray, y: np.ndarray, device: torch.device,
                    channels_last: bool = False, mean: np.ndarray | None = None,
                    std: np.ndarray | None = None) -> TensorSplit:
        """`mean`, `std` (per channel, [0, 1] units) are used for uint8 inputs only (others come normalised)."""
        xt = torch.from_numpy(x if x.flags.writeable else np.array(x)).to(device)  # a read-only memmap is copied
        if channels_last and xt.ndim == 4:
            xt = xt.contiguous(memory_format=torch.channels_last)
        split = cls(xt, torch.from_numpy(y).to(device))
        if xt.dtype == torch.uint8:
            c = xt.shape[1]
            m = torch.zeros(c) if mean is None else torch.as_tensor(mean, dtype=torch.float32)
            s = torch.ones(c) if std is None else torch.as_tensor(std, dtype=torch.float32)
            split.scale = (1 / (255 * s)).view(1, c, 1, 1).to(device)
            split.shift = (-m / s).view(1, c, 1, 1).to(device)
        return split

    def __len__(self) -> int:
        return len(self.y)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """A batch of stored inputs as the model reads them (uint8 → normalised float32)."""
        if self.scale is None or self.shift is None:
            return x
        return x.float().mul_(self.scale).add_(self.shift)  # in place on the new float copy: half addcmul's CPU time

    def batches(self, batch_size: int, gen: torch.Generator | None = None, world: int = 1, drop_last: bool = False,
                transform: Callable[[torch.Tensor], torch.Tensor] | None = None
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Shuffled when `gen` is given, each group of shuffled inputs passed through `transform` (per-example
        augmentation, drawing from `gen`); a trailing batch of one is dropped (batch norm needs two), under DDP one
        whose `world` shares (`shard_rows`) would hold fewer than two each, and with `drop_last` any trailing batch
        smaller than `batch_size` (fixed shapes)."""
        n = len(self)
        if gen is None:
            for i in range(0, n, batch_size):
                yield self.inputs(self.x[i:i + batch_size]), self.y[i:i + batch_size]
            return
        order = torch.randperm(n, generator=gen, device=gen.device).to(self.x.device)
        # Gathered, normalised and augmented a group of batches at a time (~group_bytes of model inputs), each batch a
        # slice of the group: the per-op fixed cost (thread wake-ups on a CPU, kernel launches on a GPU) is paid once
        # per group instead of once per step (airbench augments a whole epoch at once).
        group = batch_size * max(1, group_bytes(self.x.device) // max(1, batch_size * self.x[0].numel() * 4))
        for start in range(0, n, group):
            idx = order[start:start + group]
            # index_select, not x[idx]: the same gather without advanced indexing's per-call overhead (~30 µs on a CPU)
            xs, ys = self.inputs(self.x.index_select(0, idx)), self.y.index_select(0, idx)
            if transform is not None:
                xs = transform(xs)
            for i in range(0, len(idx), batch_size):
                size = min(batch_size, n - start - i)
                if size // world < 2 < n or (drop_last and size < batch_size < n):
                    return
                yield xs[i:i + batch_size], ys[i:i + batch_size]

    def num_batches(self, batch_size: int, shuffle: bool, world: int = 1, drop_last: bool = False) -> int:
        n = len(self)
        full, rest = divmod(n, batch_size)
        if drop_last and shuffle and full:
            return full
        return full + (1 if rest // world > 1 or (rest == 1 and not shuffle) else 0)


def shard_rows(rows: T, shard: tuple[int, int]) -> T:
    """Process `rank`'s share of a global batch under DDP (`shard` = (rank, world)): equal, contiguous parts, so
    the ranks' mean losses average to the global batch's; the rows that do not divide evenly (at most world - 1,
    of a trailing batch) are left out. In one process, `rows` itself."""
    rank, world = shard
    if world == 1:
        return rows
    share = len(rows) // world  # type: ignore[arg-type]
    return rows[rank * share:(rank + 1) * share]  # type: ignore[index]
