"""Names of the Mathematics modules, difficulties and directories of the official layout."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from trainlab.errors import UserError

DEFAULT_MODULES: tuple[str, ...] = tuple(
    f"numbers__{name}"
    for name in (
        "base_conversion", "div_remainder", "gcd", "is_factor", "is_prime", "lcm",
        "list_prime_factors", "place_value", "round_number",
    )
)
LEVELS: tuple[str, ...] = ("easy", "medium", "hard")
DIFFICULTIES: tuple[str, ...] = (*LEVELS, "mixed")
TEST_DIRS: tuple[str, ...] = ("interpolate", "extrapolate")
# An extrapolation test set is named after its train module plus one of these suffixes.
EXTRAPOLATION_SUFFIXES: tuple[str, ...] = ("", "_big", "_longer", "_more", "_more_samples")

Sampler = Callable[[], Any]


def train_dirs(difficulty: str) -> tuple[str, ...]:
    """``train-<level>`` directories for a difficulty (``mixed`` means all three)."""
    if difficulty not in DIFFICULTIES:
        raise UserError(f"unknown difficulty {difficulty!r}", f"use one of {', '.join(DIFFICULTIES)}")
    levels = LEVELS if difficulty == "mixed" else (difficulty,)
    return tuple(f"train-{level}" for level in levels)


def extrapolation_variants(module: str, available: Iterable[str]) -> list[str]:
    """The extrapolation test sets of ``module`` among ``available`` names."""
    names = set(available)
    return [module + s for s in EXTRAPOLATION_SUFFIXES if module + s in names]


def check_modules(names: Sequence[str], known: Iterable[str]) -> list[str]:
    """Return ``names`` deduplicated, or raise naming the first unknown one and close matches."""
    known = sorted(known)
    if not names:
        raise UserError("no modules given", f"pass e.g. --modules {','.join(DEFAULT_MODULES[:2])}")
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = (
                f"did you mean {' or '.join(close)}?" if close
                else f"module names look like {', '.join(DEFAULT_MODULES[:3])}"
            )
            raise UserError(f"unknown module {name!r}", hint)
    return list(dict.fromkeys(names))


def _entropy_fn(level: int, num_levels: int) -> Callable[[tuple[float, float]], tuple[float, float]]:
    """Keep the ``level``-th of ``num_levels`` equal slices of an entropy range (as generate.py)."""

    def restrict(range_: tuple[float, float]) -> tuple[float, float]:
        low, length = range_[0], range_[1] - range_[0]
        return low + level / num_levels * length, low + (level + 1) / num_levels * length

    return restrict


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Sampler]:
    flat: dict[str, Sampler] = {}
    for key, value in tree.items():
        name = f"{prefix}__{key}" if prefix else key
        flat.update(_flatten(value, name) if isinstance(value, Mapping) else {name: value})
    return flat


@functools.cache
def samplers() -> dict[str, dict[str, Sampler]]:
    """``{directory: {module name: sampler}}`` for every directory of the official layout.

    Loads ``mathematics_dataset`` once per process, patched (see ``compat``, ``determinism``
    and ``speedups``).
    """
    from trainlab.data.math import compat, determinism, speedups

    package = compat.load()
    determinism.install()
    speedups.install()
    table = {
        f"train-{level}": _flatten(package.train(_entropy_fn(i, len(LEVELS))))
        for i, level in enumerate(LEVELS)
    }
    table["interpolate"] = _flatten(package.test())
    table["extrapolate"] = _flatten(package.test_extra())
    return table
