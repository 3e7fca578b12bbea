"""CPU latency of one batch: warm-up calls, then the median of timed repeats."""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Sequence
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
def latencies(models: Sequence[nn.Module], x: torch.Tensor, warmup: int = 5, repeats: int = 30) -> list[Latency]:
    """Time `model(x)` for each model `repeats` times after `warmup` untimed calls. The models take turns, one
    call each per round, so a machine whose load changes during the measurement slows all of them alike."""
    for m in models:
        m.eval()
        for _ in range(warmup):
            m(x)
    times: list[list[float]] = [[] for _ in models]
    for _ in range(repeats):
        for m, t in zip(models, times, strict=True):
            start = time.perf_counter()
            m(x)
            t.append((time.perf_counter() - start) * 1000)
    return [_summary(t, len(x)) for t in times]


def _summary(times: list[float], batch: int) -> Latency:
    q1, _, q3 = statistics.quantiles(times, n=4)
    return Latency(batch, statistics.median(times), q3 - q1, torch.get_num_threads())


def state_bytes(state: dict[str, torch.Tensor]) -> int:
    """Size of `state` as torch.save writes it (what a weights-only file of it takes on disk)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getbuffer().nbytes
