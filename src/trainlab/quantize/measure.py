"""CPU latency of one batch: warm-up calls, then the median of timed repeats."""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Latency:
    """Median and spread of the time one forward pass of `batch` examples takes."""

    batch: int
    median_ms: float
    iqr_ms: float  # interquartile range of the repeats: how steady the machine was
    threads: int

    @property
    def throughput(self) -> float:
        """Examples per second at the median latency."""
        return self.batch / (self.median_ms / 1000)


@torch.inference_mode()
def latency(model: nn.Module, x: torch.Tensor, warmup: int = 5, repeats: int = 30) -> Latency:
    """Time `model(x)` `repeats` times after `warmup` untimed calls (on the threads torch is set to use)."""
    model.eval()
    for _ in range(warmup):
        model(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append((time.perf_counter() - start) * 1000)
    q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
    return Latency(len(x), statistics.median(times), q3 - q1, torch.get_num_threads())


def state_bytes(state: dict[str, torch.Tensor]) -> int:
    """Size of `state` as torch.save writes it (what a weights-only file of it takes on disk)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getbuffer().nbytes
