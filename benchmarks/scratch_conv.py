"""Speed of the scratch engine's convolution and pooling: fast vs naive, and vs torch.

    python benchmarks/scratch_conv.py [--threads N] [--repeats 20] [--naive-repeats 1]

Times one forward plus backward pass (best of N runs) of a convolution with
x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1, and of 2x2 max/avg pooling on
x (100, 3, 32, 32). Prints the machine first. ``--threads`` caps NumPy's BLAS and torch
alike (useful on a shared machine, where spinning BLAS threads distort timings). torch is
imported here only.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from machine import machine
from threadpoolctl import threadpool_limits

from trainlab.scratch import conv, pool


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fwd_bwd(forward: Callable[..., Any], backward: Callable[..., Any], args: tuple[Any, ...], dout: np.ndarray) -> Any:
    out, cache = forward(*args)
    return out, backward(dout, cache)


def bench_conv(repeats: int, naive_repeats: int) -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((100, 3, 31, 31)), rng.standard_normal((25, 3, 3, 3)), rng.standard_normal(25)
    dout = rng.standard_normal((100, 25, 16, 16))
    naive = partial(fwd_bwd, conv.conv_forward_naive, conv.conv_backward_naive, (x, w, b, 2, 1), dout)
    fast = partial(fwd_bwd, conv.conv_forward_fast, conv.conv_backward_fast, (x, w, b, 2, 1), dout)
    (out_n, grads_n), (out_f, grads_f) = naive(), fast()
    diff = max(np.abs(f - n).max() for f, n in zip((out_f, *grads_f), (out_n, *grads_n), strict=True))
    t_naive, t_fast = best_time(naive, naive_repeats), best_time(fast, repeats)
    print("conv x(100,3,31,31) w(25,3,3,3) stride 2 pad 1, forward+backward, float64")
    print(f"  naive {t_naive * 1e3:10.1f} ms")
    print(f"  fast  {t_fast * 1e3:10.2f} ms   speed-up {t_naive / t_fast:,.0f}x   max |fast - naive| {diff:.1e}")
    for dtype in (np.float64, np.float32):
        vs_torch(*(a.astype(dtype) for a in (x, w, b, dout)), repeats=repeats)


def vs_torch(x: np.ndarray, w: np.ndarray, b: np.ndarray, dout: np.ndarray, repeats: int) -> None:
    import torch

    t_ours = best_time(
        partial(fwd_bwd, conv.conv_forward_fast, conv.conv_backward_fast, (x, w, b, 2, 1), dout), repeats
    )
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    td = torch.tensor(dout)

    def torch_step() -> None:
        out = torch.nn.functional.conv2d(tx, tw, tb, stride=2, padding=1)
        torch.autograd.grad(out, (tx, tw, tb), td)

    t_torch = best_time(torch_step, repeats)
    print(
        f"  {x.dtype}: fast {t_ours * 1e3:.2f} ms vs torch {torch.__version__} CPU conv2d "
        f"({torch.get_num_threads()} threads) {t_torch * 1e3:.2f} ms: fast/torch = {t_ours / t_torch:.2f}"
    )


def bench_pool(repeats: int, naive_repeats: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 3, 32, 32))
    dout = rng.standard_normal((100, 3, 16, 16))
    print("pool 2x2 stride 2 on x(100,3,32,32), forward+backward, float64")
    for kind in ("max", "avg"):
        naive = partial(
            fwd_bwd, *(getattr(pool, f"{kind}_pool_{d}_naive") for d in ("forward", "backward")), (x, 2), dout
        )
        fast = partial(
            fwd_bwd, *(getattr(pool, f"{kind}_pool_{d}_fast") for d in ("forward", "backward")), (x, 2), dout
        )
        t_naive, t_fast = best_time(naive, naive_repeats), best_time(fast, repeats)
        print(
            f"  {kind}: naive {t_naive * 1e3:8.1f} ms  fast {t_fast * 1e3:6.2f} ms  speed-up {t_naive / t_fast:,.0f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20, help="runs of the fast and torch versions (best kept)")
    parser.add_argument("--naive-repeats", type=int, default=1, help="runs of the naive loops (best kept)")
    parser.add_argument("--threads", type=int, default=None, help="cap BLAS and torch threads (default: theirs)")
    args = parser.parse_args()
    with threadpool_limits(args.threads):
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        print(machine())
        bench_conv(args.repeats, args.naive_repeats)
        bench_pool(args.repeats, args.naive_repeats)


if __name__ == "__main__":
    main()
