"""Integer fast paths for ``sympy.gcd``/``sympy.lcm`` inside ``mathematics_dataset``.

Sampling an integer (``mathematics_dataset.sample.number.integer``) calls
``sympy.gcd(value, coprime_to)`` on plain integers; current sympy routes that through its
polynomial machinery (~0.3 ms a call), which was over half of the generation time of the
``numbers__*`` modules. For two integer arguments the result equals ``math.gcd`` /
``math.lcm``, so the same random draws give the same problems; other calls go to sympy.
Only the two modules' ``sympy`` name is rebound; sympy itself is not modified.
"""

from __future__ import annotations

import importlib
import math
import types
from typing import Any

import sympy

PATCHED_MODULES = ("mathematics_dataset.sample.number", "mathematics_dataset.modules.numbers")


def _integers(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return not kwargs and len(args) == 2 and all(isinstance(a, int | sympy.Integer) for a in args)


class _SympyWithIntegerFastPaths(types.ModuleType):
    """Forwards to sympy, with ``gcd``/``lcm`` of two integers done by :mod:`math`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(sympy, name)

    @staticmethod
    def gcd(*args: Any, **kwargs: Any) -> Any:
        if _integers(args, kwargs):
            return sympy.Integer(math.gcd(*args))
        return sympy.gcd(*args, **kwargs)

    @staticmethod
    def lcm(*args: Any, **kwargs: Any) -> Any:
        if _integers(args, kwargs):
            return sympy.Integer(math.lcm(*args))
        return sympy.lcm(*args, **kwargs)


def install() -> None:
    """Rebind ``sympy`` in the modules that sample integers (idempotent)."""
    for name in PATCHED_MODULES:
        module = importlib.import_module(name)
        if not isinstance(module.sympy, _SympyWithIntegerFastPaths):
            module.sympy = _SympyWithIntegerFastPaths("sympy")
