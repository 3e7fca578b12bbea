"""Import shims that let ``mathematics_dataset`` 1.0.1 run on current sympy and numpy.

The package is used as released; three things it relies on no longer exist:

* ``sympy.solvers.diophantine.base_solution_linear`` now lives only in
  ``sympy.solvers.diophantine.diophantine`` (sympy >= 1.6). The name is re-exported on
  the package before ``mathematics_dataset.sample.polynomials`` imports it.
* ``np.object`` was removed in numpy 1.24 and ``ndarray.itemset`` in numpy 2.0; both are
  used by ``mathematics_dataset.sample.polynomials`` (the polynomial and ``_composed``
  modules). That module alone gets a numpy namespace that restores them; numpy itself
  is not modified.

Call :func:`load` instead of importing ``mathematics_dataset`` directly.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

import numpy as np

from trainlab.errors import DataError

PACKAGE = "mathematics_dataset"
PINNED = "1.0.1"


class _ItemsetArray(np.ndarray):
    """An ndarray that still has ``itemset`` (removed in numpy 2.0)."""

    def itemset(self, index: Any, value: Any) -> None:
        self[index] = value


class _NumpyWithRemovedNames(types.ModuleType):
    """Forwards to numpy, plus ``np.object`` and arrays that support ``itemset``."""

    object = object

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def zeros(*args: Any, **kwargs: Any) -> np.ndarray:
        return np.zeros(*args, **kwargs).view(_ItemsetArray)

    @staticmethod
    def empty(*args: Any, **kwargs: Any) -> np.ndarray:
        return np.empty(*args, **kwargs).view(_ItemsetArray)


def _patch_sympy() -> None:
    package = importlib.import_module("sympy.solvers.diophantine")
    if not hasattr(package, "base_solution_linear"):
        impl = importlib.import_module("sympy.solvers.diophantine.diophantine")
        package.base_solution_linear = impl.base_solution_linear


def _patch_numpy() -> None:
    polynomials = importlib.import_module(f"{PACKAGE}.sample.polynomials")
    if not isinstance(polynomials.np, _NumpyWithRemovedNames):
        polynomials.np = _NumpyWithRemovedNames("numpy")


def load() -> types.ModuleType:
    """Patch, then import and return ``mathematics_dataset.modules.modules``."""
    try:
        importlib.import_module(PACKAGE)
        _patch_sympy()
    except ImportError as exc:
        raise DataError(
            f"the DeepMind Mathematics generator is not installed ({exc.name} missing)",
            f"pip install 'trainlab[math]' (mathematics_dataset=={PINNED} and sympy)",
        ) from exc
    _patch_numpy()
    return importlib.import_module(f"{PACKAGE}.modules.modules")
