"""Read Mathematics text files (generated or officially released) into seeded splits."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from trainlab.data.math import catalog
from trainlab.errors import DataError

SPLITS: tuple[str, ...] = ("train", "val", "test", *catalog.TEST_DIRS)


class Example(NamedTuple):
    module: str  # file name without .txt, e.g. numbers__gcd or numbers__round_number_big
    question: str
    answer: str


def read_pairs(path: Path, module: str) -> list[Example]:
    """Examples of one file: question and answer on alternating lines."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}", "check the file or regenerate it") from exc
    if len(lines) % 2:
        raise DataError(
            f"{path} has an odd number of lines ({len(lines)})",
            "each question line must be followed by its answer line; regenerate the file",
        )
    return [Example(module, q, a) for q, a in zip(lines[0::2], lines[1::2], strict=True)]


def read_math_dir(
    root: str | Path,
    modules: Sequence[str] | None = None,
    difficulty: str = "mixed",
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> dict[str, list[Example]]:
    """Splits ``train``/``val``/``test`` (a seeded 80/10/10 shuffle of the train files of
    ``difficulty``) plus ``interpolate`` and ``extrapolate`` (empty where absent).

    ``modules`` defaults to every module with a train file for that difficulty.
    """
    root = Path(root)
    dirs = catalog.train_dirs(difficulty)
    if modules is None:
        modules = sorted({p.stem for d in dirs for p in (root / d).glob("*.txt")})
    if not modules:
        raise DataError(
            f"no train files under {root}/{{{','.join(dirs)}}}",
            f"generate some: trainlab data math --difficulty {difficulty} --out {root}",
        )
    train: list[Example] = []
    for module in modules:
        for d in dirs:
            path = root / d / f"{module}.txt"
            if not path.is_file():
                raise DataError(
                    f"missing {path}",
                    f"generate it: trainlab data math --modules {module} "
                    f"--difficulty {difficulty} --out {root}",
                )
            train += read_pairs(path, module)
    order = np.random.default_rng(seed).permutation(len(train))
    n_val, n_test = int(len(train) * val_fraction), int(len(train) * test_fraction)
    pick = [train[i] for i in order]
    splits = {
        "train": pick[n_val + n_test :],
        "val": pick[:n_val],
        "test": pick[n_val : n_val + n_test],
    }
    present = {d: {p.stem for p in (root / d).glob("*.txt")} for d in catalog.TEST_DIRS}
    splits["interpolate"] = [
        ex for m in modules if m in present["interpolate"]
        for ex in read_pairs(root / "interpolate" / f"{m}.txt", m)
    ]
    splits["extrapolate"] = [
        ex for m in modules for name in catalog.extrapolation_variants(m, present["extrapolate"])
        for ex in read_pairs(root / "extrapolate" / f"{name}.txt", name)
    ]
    return splits
