"""Device choice, precision, determinism and seeding."""

from __future__ import annotations

import contextlib
import os
import platform
import random
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np
import torch

from trainlab.config.schema import TrainConfig
from trainlab.errors import ConfigError

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str) -> torch.device:
    """auto = cuda, then mps, then cpu; an unavailable explicit choice is a config error."""
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if name == "auto":
        return torch.device(next(d for d in ("cuda", "mps", "cpu") if available[d]))
    if not available[name]:
        raise ConfigError(f"train.device={name} is not available on this machine", "use train.device=auto or cpu")
    return torch.device(name)


def autocast_factory(cfg: TrainConfig, device: torch.device) -> Callable[[], AbstractContextManager]:
    """A context for forward passes: autocast in bf16/fp16, nothing in fp32. Its cache of cast weights is off under
    train.cuda_graphs (a capture must make its own casts)."""
    if cfg.precision == "fp32":
        return contextlib.nullcontext
    if cfg.precision == "fp16" and device.type == "cpu":
        raise ConfigError("train.precision=fp16 needs a GPU", "use train.precision=bf16 on the CPU")
    dtype = DTYPES[cfg.precision]
    cache = not cfg.cuda_graphs
    return lambda: torch.autocast(device_type=device.type, dtype=dtype, cache_enabled=cache)


def seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic)  # both ways: an earlier run in this process may have set it
    # cuDNN's autotuner times the kernels of each new shape once and keeps the fastest (fixed shapes: drop_last)
    torch.backends.cudnn.benchmark = not deterministic


def epoch_generator(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    """The generator of one epoch's data order and augmentation: a function of (seed, epoch)."""
    gen = torch.Generator(device=device if device.type == "cuda" else "cpu")
    gen.manual_seed(seed * 1_000_003 + epoch)
    return gen


def rng_state() -> dict[str, torch.Tensor]:
    """Global RNG states (dropout and other in-model randomness)."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def versions() -> dict[str, str]:
    from importlib.metadata import version  # scikit-learn's version without importing it (0.7 s)

    from trainlab import __version__

    return {
        "trainlab": __version__, "python": sys.version.split()[0], "torch": torch.__version__,
        "numpy": np.__version__, "sklearn": version("scikit-learn"), "platform": platform.platform(),
    }


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type
