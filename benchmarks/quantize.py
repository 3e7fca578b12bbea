"""fp32 vs int8 (torch.ao, static and dynamic) on Fashion-MNIST: the recipe's conv net and an MLP.

    python benchmarks/quantize.py [--runs DIR] [--epochs 2] [--repeats 50]

Trains the two runs into DIR first when they are not there (configs/fashion_mnist.yaml and an MLP, `--epochs`
each), then runs `trainlab quantize` with both methods on each and prints one Markdown table: test accuracy,
file size, CPU latency of one batch and throughput, fp32 vs the int8 checkpoint reloaded from disk.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from machine import machine

import trainlab
from trainlab.config import load_config

ROOT = Path(__file__).resolve().parents[1]
RUNS = {
    "convnet (configs/fashion_mnist.yaml)": (ROOT / "configs" / "fashion_mnist.yaml", []),
    "mlp 784-512-256-10": (None, ["data.name=fashion-mnist", "data.val_fraction=0.1", "model.name=mlp",
                                  "model.hidden=[512,256]", "optim.name=adam", "optim.lr=0.001"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "quantize-bench")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    rows = []
    for i, (label, (config, overrides)) in enumerate(RUNS.items()):
        run_dir = args.runs / f"model{i}"
        if not (run_dir / "checkpoints" / "best.pt").is_file():
            cfg = load_config(config, [*overrides, f"train.epochs={args.epochs}", "train.quiet=true"])
            trainlab.run(cfg, name=run_dir.name, out=args.runs, overwrite=True)
        for method in ("static", "dynamic"):
            r = trainlab.quantize(run_dir, method, batch_size=args.batch_size, repeats=args.repeats)
            f, q = r.fp32, r.int8
            rows.append(f"| {label} | {method} | {f.metrics['acc']:.2%} | {q.metrics['acc']:.2%} | "
                        f"{100 * (q.metrics['acc'] - f.metrics['acc']):+.2f} | {r.agreement:.2%} | "
                        f"{f.size_bytes / 1024:,.0f} | {q.size_bytes / 1024:,.0f} | {r.smaller:.2f}x | "
                        f"{f.latency_ms:.1f} | {q.latency_ms:.1f} | {r.speedup:.2f}x | {f.throughput:,.0f} | "
                        f"{q.throughput:,.0f} |")
    print(machine())
    print(f"test split, batch of {args.batch_size}, median of {args.repeats} passes (fp32 and int8 in turns), "
          f"{args.epochs} training epochs per run")
    print("| model | method | fp32 acc | int8 acc | Δ points | agreement | fp32 KiB | int8 KiB | smaller | "
          "fp32 ms/batch | int8 ms/batch | speedup | fp32 ex/s | int8 ex/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
