"""`trainlab embed`: one split's features written as NumPy arrays, for any tool that reads them.

    DIR/embeddings.npy   (N, D) float32, the split's examples in order
    DIR/labels.npy       (N,) int64 class labels
    DIR/embeddings.json  what they are: run, init, checkpoint, split, layer, shape, class names

DIR defaults to RUN/embeddings/<split>-<layer>/. Each file is written to a temporary name and renamed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainlab.config import Config
from trainlab.errors import UserError
from trainlab.models.features import PENULTIMATE
from trainlab.representations.source import Init, open_encoder
from trainlab.runs import write_json
from trainlab.runs.files import atomic_write_bytes


@dataclass
class EmbedResult:
    out: Path
    embeddings: Path
    labels: Path
    shape: tuple[int, ...]


def embed(source: Path | str | Config, split: str = "test", layer: str = PENULTIMATE, out: Path | str | None = None,
          checkpoint: str = "best", init: Init | None = None, overrides: Sequence[str] = ()) -> EmbedResult:
    """Write `split`'s features of `layer` and its labels (see the module docstring)."""
    enc = open_encoder(source, init, checkpoint, overrides)
    if out is None:
        if enc.run is None:
            raise UserError("embeddings of a config's random-init model need a place", "pass --out DIR")
        out = enc.run.path / "embeddings" / f"{split}-{layer}"
    x, y = enc.features(split, layer)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"embeddings": out / "embeddings.npy", "labels": out / "labels.npy"}
    for key, array in (("embeddings", x.astype(np.float32)), ("labels", y)):
        buf = io.BytesIO()
        np.save(buf, array)
        atomic_write_bytes(paths[key], buf.getvalue())
    write_json(out / "embeddings.json", {"source": enc.name, "init": enc.init, "split": split, "layer": layer,
                                         "shape": list(x.shape), "classes": enc.classes})
    return EmbedResult(out, paths["embeddings"], paths["labels"], tuple(x.shape))
