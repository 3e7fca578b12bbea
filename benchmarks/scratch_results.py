"""Accuracy and time of scratch models on real data.

    python benchmarks/scratch_results.py [--digits-seeds 0 1 2] [--fashion-subset 20000] [--fashion-epochs 5]
                                         [--threads 1]

1. TwoLayerNet on scikit-learn's 8x8 digits (target: >= 97% test accuracy), per seed.
2. ConvNet [conv-relu-pool]x2 - affine - affine on Fashion-MNIST, read from the IDX files in
   /usr/share/datasets/fashion-mnist (a stratified training subset keeps it to minutes);
   the test set is the full official 10,000 images.
Prints the machine first. BLAS threads default to 1, as in `trainlab scratch run`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from machine import machine
from threadpoolctl import threadpool_limits

from trainlab.config.schema import DataConfig
from trainlab.scratch import ConvNet, Model, Solver, TwoLayerNet
from trainlab.scratch.data import Arrays, load_arrays

FASHION_ROOT = Path("/usr/share/datasets/fashion-mnist")


def train(model: Model, data: Arrays, verbose: bool, **solver_kw: object) -> tuple[Solver, float, float]:
    """Train on the train split, select on val; returns the solver, test accuracy, seconds."""
    x_train, y_train, x_val, y_val, x_test, y_test, _ = data
    solver = Solver(model, x_train, y_train, x_val, y_val, verbose=verbose, **solver_kw)  # type: ignore[arg-type]
    start = time.perf_counter()
    solver.train()
    seconds = time.perf_counter() - start
    return solver, solver.evaluate(x_test, y_test)[1], seconds


def digits(seeds: list[int]) -> None:
    data = load_arrays(DataConfig(name="digits"))
    n_train, n_val, n_test = len(data[0]), len(data[2]), len(data[4])
    print(f"\nTwoLayerNet(64-256-10) on digits: {n_train} train / {n_val} val / {n_test} test, float64")
    print("  adam lr 1e-3, lr_decay 0.95, reg 1e-3, batch 64, 40 epochs")
    accs = []
    for seed in seeds:
        model = TwoLayerNet(64, 256, 10, reg=1e-3, dtype=np.float64, seed=seed)
        solver, acc, seconds = train(
            model,
            data,
            False,
            update_rule="adam",
            optim_config={"lr": 1e-3},
            lr_decay=0.95,
            batch_size=64,
            num_epochs=40,
            seed=seed,
        )
        accs.append(acc)
        print(
            f"  seed {seed}: best epoch {solver.best_epoch:2d}  val acc {solver.best_val_acc:.4f}  "
            f"test acc {acc:.4f}  ({seconds:.1f}s)"
        )
    print(f"  test accuracy: mean {np.mean(accs):.4f}, min {np.min(accs):.4f} over {len(accs)} seeds")


def fashion(subset: int, epochs: int) -> None:
    data = load_arrays(DataConfig(name="fashion-mnist", root=FASHION_ROOT, download=False, subset=subset))
    n_train, n_val, n_test = len(data[0]), len(data[2]), len(data[4])
    model = ConvNet((1, 28, 28), [16, 32], [128], 10, dtype=np.float32, seed=0)
    print(
        f"\nConvNet [conv16-relu-pool, conv32-relu-pool, affine128-relu, affine10] on Fashion-MNIST, float32: "
        f"{n_train} train / {n_val} val / {n_test} test, {model.num_params():,} parameters"
    )
    print(f"  adam lr 1e-3, lr_decay 0.9, batch 64, {epochs} epochs")
    solver, acc, seconds = train(
        model,
        data,
        True,
        update_rule="adam",
        optim_config={"lr": 1e-3},
        lr_decay=0.9,
        batch_size=64,
        num_epochs=epochs,
        seed=0,
    )
    epoch_time = np.mean([s.epoch_time_s for s in solver.history])
    print(f"  best epoch {solver.best_epoch}  val acc {solver.best_val_acc:.4f}  test acc {acc:.4f}")
    print(f"  training {seconds:.0f}s ({epoch_time:.0f}s per epoch, {n_train / epoch_time:.0f} images/s incl. eval)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits-seeds", type=int, nargs="*", default=[0, 1, 2], help="seeds of the digits runs")
    parser.add_argument("--fashion-subset", type=int, default=20000, help="Fashion-MNIST training images (max 60000)")
    parser.add_argument("--fashion-epochs", type=int, default=5, help="ConvNet epochs (0 skips Fashion-MNIST)")
    parser.add_argument("--threads", type=int, default=1, help="NumPy BLAS threads (0 = NumPy's default)")
    args = parser.parse_args()
    with threadpool_limits(args.threads or None):
        print(machine())
        if args.digits_seeds:
            digits(args.digits_seeds)
        if args.fashion_epochs:
            fashion(args.fashion_subset, args.fashion_epochs)


if __name__ == "__main__":
    main()
