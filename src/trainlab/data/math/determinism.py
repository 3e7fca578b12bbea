"""Make ``mathematics_dataset`` sampling a function of the seed alone.

Besides Python's ``random`` and NumPy's legacy global generator, the package's output
depends on

* sympy's own generator (``sympy.core.random``, used by e.g. ``randprime`` since sympy
  1.10), seeded here too;
* the iteration order of sets of strings and sympy symbols (e.g. the letter chosen for a
  new variable), which follows the string hash: sampling therefore runs in a process
  started with a fixed ``PYTHONHASHSEED`` (see ``worker``);
* the iteration order of a set of ``composition.Entity`` objects, which hash by memory
  address and so decide the order of the statements in ``*_composed`` questions. Entities
  hash by a creation serial instead, restarted by :func:`seed`.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import random
from collections.abc import Callable
from typing import Any

import numpy as np

HASH_SEED = "0"

_serials = itertools.count()


def seed(value: int) -> None:
    """Seed every generator the package draws from and restart entity serials."""
    global _serials
    from sympy.core import random as sympy_random

    random.seed(value)
    np.random.seed(value % 2**32)
    sympy_random.seed(value)
    _serials = itertools.count()


def _serial_hash(self: Any) -> int:
    return self._serial


def _with_serial(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> None:
        self._serial = next(_serials)
        init(self, *args, **kwargs)

    return wrapped


def install() -> None:
    """Give ``composition.Entity`` a reproducible hash (idempotent)."""
    entity = importlib.import_module("mathematics_dataset.util.composition").Entity
    if entity.__hash__ is not _serial_hash:
        entity.__init__ = _with_serial(entity.__init__)
        entity.__hash__ = _serial_hash
