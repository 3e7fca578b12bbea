"""Checkpoints: plain state dicts, written atomically, loaded with weights_only=True."""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainlab.errors import CheckpointError
from trainlab.runs.files import atomic_write_bytes

FORMAT = "trainlab-checkpoint"
VERSION = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Serialise to memory, then temp file + fsync + rename: a crash never leaves half a file."""
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, **state}, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint of ours; anything else is a one-line CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found", "check the run directory and --checkpoint")
    if not zipfile.is_zipfile(path):  # torch.save always writes a zip container
        raise CheckpointError(f"{path} is truncated or not a checkpoint (no zip container)",
                              "use the other checkpoint (best/last) or retrain")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path} holds objects a safe checkpoint may not contain ({str(e).splitlines()[0][:120]})",
            "only load checkpoints written by trainlab",
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(
            f"{path} is truncated or not a checkpoint ({str(e).splitlines()[0][:120]})",
            "use the other checkpoint (best/last) or retrain",
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a trainlab checkpoint", "pass a run directory written by trainlab")
    return state


def load_model_state(model: nn.Module, state: dict[str, Any], path: Path) -> None:
    """Load weights, turning an architecture mismatch into a clear error."""
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError) as e:
        first = str(e).splitlines()[1 if "\n" in str(e) else 0].strip()[:160]
        raise CheckpointError(
            f"{path} was saved from another architecture ({first})",
            "use the run's own config.yaml, or retrain",
        ) from None


def load_weights(model: nn.Module, path: Path, device: torch.device | str = "cpu",
                 state: dict[str, Any] | None = None) -> int:
    """The one weight loader: `path`'s weights (`state`: already read from it) into `model`, moved to `device`
    and left in eval mode; returns the epoch they were saved at."""
    state = load_checkpoint(path, device) if state is None else state
    load_model_state(model.to(device), state, path)
    model.eval()
    return int(state.get("fit_state", {}).get("epoch", state.get("epoch", 0)))
