"""Checkpoints as plain ``.npz`` archives: written atomically, read without pickle."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from trainlab.errors import CheckpointError
from trainlab.runs.files import atomic_write_bytes


def save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Serialise ``arrays`` in memory, then write them atomically (temp file, fsync, rename)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(Path(path), buf.getvalue())


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array in ``path``; object arrays are refused (``allow_pickle=False``)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"checkpoint {path} is unreadable: {e}") from None
