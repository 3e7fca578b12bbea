"""The first look at a checkpoint file, before torch is imported: it exists and is a zip container (what
torch.save writes), so a missing, empty or foreign file is refused in a fraction of a second."""

from __future__ import annotations

import zipfile
from pathlib import Path

from trainlab.errors import CheckpointError


def check_container(path: Path) -> None:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} not found", "check the run directory and --checkpoint")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (zero bytes)", "use the other checkpoint (best/last) or retrain")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is truncated or not a checkpoint (no zip container)",
                              "use the other checkpoint (best/last) or retrain")
