"""Whole-step CUDA graphs (train.cuda_graphs): forward, backward and the optimizer's update captured once and
replayed, one launch per step instead of one per kernel from Python (a small conv net's step on a GPU is bound by
those launches: ~6 ms a step measured against an estimated ~1 ms of arithmetic). No compiler: capture takes one
step.

A replay reads its batch from static input buffers and writes its loss and statistics into static outputs, so
`GraphedStep` copies each batch in and hands the same output tensors back every step (valid until the next
one). The learning rate the schedule sets is copied into a device tensor the captured update reads. A batch of
another shape (a smaller last batch) runs eagerly. Without CUDA the same sequence runs eagerly through the same
static buffers, which is what lets a CPU check everything but the capture itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

from trainlab.config.schema import Config
from trainlab.engine.optim import FUSED
from trainlab.engine.task import Stats
from trainlab.errors import ConfigError

log = logging.getLogger("trainlab")
Step = Callable[[tuple[torch.Tensor, ...]], tuple[torch.Tensor, Stats]]
WARMUP = 3  # eager steps before capture: optimizer state, cuDNN autotuning and cuBLAS workspaces exist by then


def check_graphs(cfg: Config, capturable: bool, ddp: bool = False) -> None:
    """Refuse, in one line, settings a captured step cannot replay (`capturable`: the task's `Task.capturable`)."""
    t = cfg.train
    if not t.cuda_graphs:
        return
    conflicts = [
        (not capturable, f"task {cfg.task.name}'s step decides on the host (batches of varying length)",
         "set train.cuda_graphs=false"),
        (t.compile, "train.compile=true captures the step too", "use one (train.compile_mode=reduce-overhead is "
         "torch.compile's own CUDA graphs)"),
        (t.precision == "fp16", "fp16's loss scaling decides on the host each step", "use train.precision=bf16"),
        (cfg.optim.name not in FUSED, f"optim.name={cfg.optim.name} has no fused update on CUDA",
         f"use optim.name={' or '.join(sorted(FUSED))}"),
        (cfg.diagnose.enabled, "diagnose's gradient statistics run on the host after each backward",
         "set diagnose.enabled=false"),
        (ddp, "DDP's gradient all-reduce is not captured (torchrun)", "run in one process"),
    ]
    for hit, problem, fix in conflicts:
        if hit:
            raise ConfigError(f"train.cuda_graphs=true cannot replay this step: {problem}", fix)


class GraphedStep:
    """`step(batch) -> (loss, stats)` (forward, backward, optimizer update; no host sync) captured as a CUDA graph
    after `warmup` eager steps and replayed for every batch of the captured shapes; without CUDA, the same static
    buffers filled by running `step` eagerly. Recorded at the first fit's fourth step: the optimizer's state
    tensors must not be replaced after that (a resume restores them before)."""

    def __init__(self, step: Step, optimizer: torch.optim.Optimizer, device: torch.device,
                 warmup: int = WARMUP) -> None:
        self.step, self.optimizer, self.device, self.warmup = step, optimizer, device, warmup
        # one side stream for the warm-up and the capture (None: no CUDA): libraries cache handles per stream
        # (cuBLAS workspaces), so the capture finds them made instead of making them mid-capture
        self.stream = torch.cuda.Stream(device) if device.type == "cuda" else None
        self.eager_steps = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.inputs: tuple[torch.Tensor, ...] = ()
        self.loss = torch.empty(0)
        self.stats: Stats = {}
        self.lrs: list[torch.Tensor] = []

    def __call__(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, Stats]:
        if not self.inputs:
            if self.eager_steps < self.warmup:
                self.eager_steps += 1
                return self._warmup(batch)
            self._record(batch)
        elif not self._fits(batch):
            return self.step(batch)
        else:
            for buffer, t in zip(self.inputs, batch, strict=True):
                buffer.copy_(t)
            self._replay()
        return self.loss, {k: [t.clone() for t in v] if isinstance(v, list) else v for k, v in self.stats.items()}

    def _fits(self, batch: tuple[torch.Tensor, ...]) -> bool:
        return len(batch) == len(self.inputs) and all(
            t.shape == b.shape and t.dtype == b.dtype and t.stride() == b.stride()
            for t, b in zip(batch, self.inputs, strict=True))

    def _warmup(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, Stats]:
        """An eager step; on CUDA on the side stream the capture will use (per-stream lazy state is made here)."""
        if self.stream is None:
            return self.step(batch)
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.stream):
            out = self.step(batch)
        torch.cuda.current_stream(self.device).wait_stream(self.stream)
        return out

    def _record(self, batch: tuple[torch.Tensor, ...]) -> None:
        """Static copies of `batch`; the step captured on them (CUDA) and run once, for this batch."""
        self.inputs = tuple(t.clone() for t in batch)  # same shapes, dtypes and strides (channels-last kept)
        if self.stream is None:
            loss, stats = self.step(self.inputs)
            self.loss, self.stats = loss.clone(), {k: _clone(v) for k, v in stats.items()}
            return
        groups = self.optimizer.param_groups
        self.lrs = [torch.tensor(g["lr"], dtype=torch.float32, device=self.device) for g in groups]
        settings = [{k: g[k] for k in ("lr", "capturable") if k in g} for g in groups]
        for g, lr in zip(groups, self.lrs, strict=True):  # the update reads its lr from a tensor, and may be captured
            g["lr"] = lr
            if "capturable" in g:
                g["capturable"] = True
        self.optimizer.zero_grad(set_to_none=True)  # gradients are allocated in the graph's memory pool
        self.graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(self.graph, stream=self.stream):
                self.loss, self.stats = self.step(self.inputs)
        finally:
            for g, saved in zip(groups, settings, strict=True):  # checkpoints keep plain floats and flags
                g.update(saved)
        log.info("train.cuda_graphs: the training step is captured; each step replays it")
        self._replay()

    def _replay(self) -> None:
        if self.graph is None:
            loss, stats = self.step(self.inputs)
            self.loss.copy_(loss)
            for k, v in stats.items():
                _copy(self.stats[k], v)
            return
        for lr, g in zip(self.lrs, self.optimizer.param_groups, strict=True):
            lr.fill_(g["lr"])
        self.graph.replay()


def _clone(v: Any) -> Any:
    return [t.clone() for t in v] if isinstance(v, list) else v.clone()


def _copy(dst: Any, src: Any) -> None:
    for d, s in zip(dst, src, strict=True) if isinstance(dst, list) else [(dst, src)]:
        d.copy_(s)
