"""Training throughput on an image folder: the uint8 cache of `trainlab data images` vs decoding every
file every epoch (a torch DataLoader over the files, each read with Pillow, converted and resized).

Both sides feed the same images (the cleaned train split), the same model and optimizer; the cached
side is what `trainlab run data.name=folder` does (uint8 on the device, normalised per batch). Measured
twice per side, interleaved: the input pipeline alone (an epoch of batches, no model) and an epoch of
training steps.

    python benchmarks/folder_train_throughput.py [--src /tmp/trainlab-fm/src] [--size 32] [--model convnet]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from machine import machine
from make_folder import write_folder
from torch.utils.data import DataLoader, Dataset

from trainlab.config import load_config
from trainlab.data import load_dataset
from trainlab.data.folder.clean import clean
from trainlab.data.folder.decode import CleanOptions, Decoded, decode
from trainlab.data.tensors import TensorSplit
from trainlab.models import build_model


class FilesDataset(Dataset):
    """One source file per item, decoded on every access (the per-epoch baseline)."""

    def __init__(self, files: list[Path], labels: np.ndarray, opts: CleanOptions, mean: np.ndarray,
                 std: np.ndarray) -> None:
        self.files, self.labels, self.opts = files, labels, opts
        self.mean, self.std = torch.from_numpy(mean).view(3, 1, 1), torch.from_numpy(std).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        d = decode(self.files[i], self.opts)
        assert isinstance(d, Decoded)
        return (torch.from_numpy(d.pixels).float() / 255 - self.mean) / self.std, int(self.labels[i])


def epoch(batches: Iterable[tuple[torch.Tensor, torch.Tensor]], model: torch.nn.Module | None,
          opt: torch.optim.Optimizer | None) -> tuple[float, int]:
    """Seconds and examples of one pass; with a model, one training step per batch."""
    start, n = time.perf_counter(), 0
    for x, y in batches:
        n += len(y)
        if model is not None and opt is not None:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path(tempfile.gettempdir()) / "trainlab-fm" / "src")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--model", default="convnet")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if not args.src.is_dir():
        write_folder(args.src, 1000)
    workers = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clean"
        opts = CleanOptions(size=args.size)
        clean(args.src, out, opts, (0.8, 0.1, 0.1))
        cfg = load_config(None, ["data.name=folder", f"data.path={out}", f"model.name={args.model}"])
        data = load_dataset(cfg.data)
        cached = TensorSplit.from_arrays(data.x_train, data.y_train, torch.device("cpu"), mean=data.mean,
                                         std=data.std)
        with (out / "train.csv").open(encoding="utf-8", newline="") as f:
            files = [args.src / row["file"] for row in csv.DictReader(f)]
        loader = DataLoader(FilesDataset(files, data.y_train, opts, data.mean, data.std), args.batch_size,
                            shuffle=True, num_workers=workers, persistent_workers=True, drop_last=True)
        results: dict[str, list[float]] = {k: [] for k in ("cache, input only", "decode, input only",
                                                           "cache, training", "decode, training")}
        torch.manual_seed(0)
        model = build_model(cfg.model, data.input_shape, data.num_classes)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for r in range(args.repeats):
            gen = torch.Generator().manual_seed(r)
            for key, batches, m in (("cache, input only", cached.batches(args.batch_size, gen), None),
                                    ("decode, input only", loader, None),
                                    ("cache, training", cached.batches(args.batch_size, gen), model),
                                    ("decode, training", loader, model)):
                seconds, n = epoch(batches, m, opt if m is not None else None)
                results[key].append(n / seconds)
    print(machine())
    print(f"{len(files)} train images {data.input_shape}, model {args.model}, batch {args.batch_size}, "
          f"DataLoader workers {workers}")
    for key, values in results.items():
        print(f"{key:20s} {statistics.median(values):9.0f} images/s  (runs: {', '.join(f'{v:.0f}' for v in values)})")


if __name__ == "__main__":
    main()
