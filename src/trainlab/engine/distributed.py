"""Data-parallel training under torchrun: the process group, rank helpers, the DDP wrap, global statistics.

`torchrun --nproc_per_node N -m trainlab run …` starts N copies of the command and sets RANK, WORLD_SIZE,
LOCAL_RANK and the rendezvous address. Each copy (a rank) holds the whole model and the whole data set on
its device; the Trainer asks this module to

- join the process group (`setup`: nccl on CUDA with one GPU per LOCAL_RANK, gloo on the CPU),
- wrap the model in DistributedDataParallel (`wrap`: gradients are averaged across ranks in backward),
- shard each global batch: the task's `shard` is (rank, world) and each rank takes its equal share of every
  batch of the epoch's order (the same permutation, seeded by (seed, epoch), on every rank),
- sum the epoch's statistics over ranks (`all_reduce_stats`), so every rank logs, schedules and stops on the
  same global metrics,
- score validation splits together (`eval_share`: rank r scores batches r, r+N, …, then the sums are
  all-reduced),
- give each rank its own dropout stream (`seed_epoch`).

Rank 0 alone writes the run directory. In one process (no torchrun) every function here is a no-op.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from trainlab.config.schema import TrainConfig
from trainlab.engine.evaluate import accumulate
from trainlab.engine.task import Stats
from trainlab.errors import ConfigError

log = logging.getLogger("trainlab")
T = TypeVar("T")


def launched() -> bool:
    """Started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def active() -> bool:
    """This process trains in a process group of more than one rank."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0: the one process that writes the run directory, logs and checkpoints."""
    return rank() == 0


def setup(train: TrainConfig, device: torch.device) -> torch.device:
    """Under torchrun, join the process group and return this rank's device (cuda:LOCAL_RANK on GPUs); else
    `device` unchanged. The global batch (train.batch_size) must split into equal shares of at least two."""
    if not launched():
        return device
    size = int(os.environ["WORLD_SIZE"])
    if train.batch_size % size or train.batch_size // size < 2:
        raise ConfigError(f"train.batch_size={train.batch_size} does not split into {size} equal shares of at "
                          f"least two examples (the global batch is shared by the {size} processes)",
                          f"use a multiple of {size} that is at least {2 * size}")
    if device.type == "mps":
        raise ConfigError("DDP does not run on mps", "use train.device=cpu or cuda under torchrun")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, device_id=device if device.type == "cuda" else None)
    return device


def shutdown() -> None:
    """Leave the process group (peers still waiting in a collective get an error instead of a hang)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def finish(status: str) -> None:
    """Leave the process group after training: first a barrier when every rank ended the same way (completed,
    early-stopped or stopped on request: decided from all-reduced metrics or by rank 0), so no rank tears down its
    connections while a peer is still in the last collective, which can hang the peer's exit; at once after a
    failure or an interrupt."""
    if active() and status not in ("failed", "interrupted"):
        dist.barrier()
    shutdown()


def from_main(value: T) -> T:
    """Rank 0's `value` on every rank (one small broadcast), e.g. a stop its callbacks asked for; in one process,
    `value`."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


@contextmanager
def failure_stops_all() -> Iterator[None]:
    """On an error in this rank: say which rank failed and leave the process group, so the others stop at their
    next collective instead of waiting out the timeout (torchrun then ends them and exits non-zero)."""
    try:
        yield
    except Exception as e:
        if active():
            log.error("rank %d of %d failed: %s: %s; stopping the distributed run", rank(), world(),
                      type(e).__name__, e)
            shutdown()
        raise


def peer_failed(error: BaseException) -> bool:
    """Whether `error` is a collective's failure because another rank has gone (gloo reports a closed connection
    as a plain RuntimeError, nccl a DistBackendError)."""
    return active() and (isinstance(error, dist.DistError) or "closed by peer" in str(error))


def finish_before_sigterm() -> None:
    """Ignore SIGTERM from now on: torchrun sends it to the surviving ranks once a failed one has exited, and
    rank 0 first records the failure (quick: a failed run has no test pass; torchrun kills a rank that lingers)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def shard() -> tuple[int, int]:
    """(rank, world size): this process's share of every training batch (a task's `shard`)."""
    return rank(), world()


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """`model` in DistributedDataParallel (rank 0's weights are broadcast to all; gradients are averaged in
    backward); `model` itself in one process."""
    if not active():
        return model
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (what evaluation calls: no collectives in its forward)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def seed_epoch(seed: int, epoch: int) -> None:
    """Seed the global RNG (dropout, scheduled sampling) from (seed, epoch, rank) at each epoch's start under DDP:
    each rank's examples get their own dropout masks, as every example in one process does, and a resume on N
    ranks replays them exactly from the epoch number alone (a checkpoint holds rank 0's RNG only)."""
    if active():
        torch.manual_seed((seed * 1_000_003 + epoch) * 1_009 + rank())


def all_reduce_stats(sums: Stats) -> Stats:
    """The step statistics summed over all ranks, in rank order (the same sums on every rank; lists are
    concatenated); in one process, `sums`. Gathered as objects: a rank may hold no batch of a small split, and
    the sums are a few numbers per epoch."""
    if not active():
        return sums
    parts: list[Stats | None] = [None] * world()
    dist.all_gather_object(parts, {k: _to(v, "cpu") for k, v in sums.items()})
    total: Stats = {}
    for part in parts:
        accumulate(total, part or {})
    device = next((v.device for v in sums.values() if isinstance(v, torch.Tensor)), torch.device("cpu"))
    return {k: _to(v, device) for k, v in total.items()}


def _to(value: Any, device: torch.device | str) -> Any:
    return value.to(device) if isinstance(value, torch.Tensor) else [t.to(device) for t in value]


def sync_buffers(module: nn.Module) -> None:
    """Rank 0's buffers (batch-norm running statistics) on every rank: each rank updated them on its own share
    since the last forward; rank 0's are the ones checkpointed, so all ranks evaluate those."""
    if active():
        for buf in module.buffers():
            dist.broadcast(buf, 0)


def eval_share(batches: Iterable[T]) -> Iterator[T]:
    """This rank's batches of an evaluation split: r, r+N, r+2N, … (sums are all-reduced afterwards)."""
    return itertools.islice(batches, rank(), None, world())
