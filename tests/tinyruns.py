"""Small real runs for the tests of commands that read run directories (eval, report, lr-find)."""

from __future__ import annotations

from pathlib import Path

from trainlab import api
from trainlab.config import load_config

TINY = ["model.name=mlp", "model.hidden=[32]", "train.epochs=1", "train.batch_size=64", "optim.lr=0.003",
        "train.quiet=true", "train.threads=1", "diagnose.enabled=false"]


def train(out: Path, name: str, *overrides: str) -> Path:
    """`trainlab run` of a tiny MLP (digits unless `overrides` say otherwise) into `out/name`."""
    return api.run(load_config(None, [*TINY, *overrides]), name=name, out=out).run_dir
