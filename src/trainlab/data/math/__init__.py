"""DeepMind Mathematics data for char-level seq2seq: generate and read (the seq2seq task encodes and batches).

Names are imported on first use, so ``import trainlab.data.math`` loads neither torch
nor ``mathematics_dataset``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DEFAULT_MODULES": "catalog",
    "DIFFICULTIES": "catalog",
    "generate": "generation",
    "GenerationResult": "generation",
    "Example": "reader",
    "read_math_dir": "reader",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__all__ = sorted(_EXPORTS)
