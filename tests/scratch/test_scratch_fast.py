"""The vectorised convolution and pooling agree with the loop versions."""

from __future__ import annotations

import numpy as np
import pytest

from trainlab.scratch import conv, pool


def randn(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape)).standard_normal(shape)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "stride", "pad"),
    [
        ((2, 3, 7, 7), (4, 3, 3, 3), 1, 1),
        ((2, 3, 8, 7), (5, 3, 3, 3), 2, 1),
        ((3, 1, 9, 9), (2, 1, 5, 5), 2, 0),
        ((2, 2, 6, 8), (3, 2, 1, 3), 3, 2),
    ],
)
def test_fast_conv_equals_naive(x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: int, pad: int) -> None:
    x, w, b = randn(*x_shape), randn(*w_shape), randn(w_shape[0])
    out_naive, cache_naive = conv.conv_forward_naive(x, w, b, stride, pad)
    out_fast, cache_fast = conv.conv_forward_fast(x, w, b, stride, pad)
    np.testing.assert_allclose(out_fast, out_naive, rtol=1e-12, atol=1e-12)
    dout = randn(*out_naive.shape)
    for g_fast, g_naive in zip(
        conv.conv_backward_fast(dout, cache_fast), conv.conv_backward_naive(dout, cache_naive), strict=True
    ):
        assert g_fast.shape == g_naive.shape
        np.testing.assert_allclose(g_fast, g_naive, rtol=1e-12, atol=1e-12)


POOLS = [((2, 3, 8, 8), 2, None), ((2, 3, 7, 9), 2, None), ((2, 2, 7, 7), 3, 2), ((1, 2, 9, 9), 3, 3)]


@pytest.mark.parametrize(("x_shape", "size", "stride"), POOLS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_fast_pool_equals_naive(kind: str, x_shape: tuple[int, ...], size: int, stride: int | None) -> None:
    x = randn(*x_shape)
    fwd_naive, bwd_naive = getattr(pool, f"{kind}_pool_forward_naive"), getattr(pool, f"{kind}_pool_backward_naive")
    fwd_fast, bwd_fast = getattr(pool, f"{kind}_pool_forward_fast"), getattr(pool, f"{kind}_pool_backward_fast")
    out_naive, cache_naive = fwd_naive(x, size, stride)
    out_fast, cache_fast = fwd_fast(x, size, stride)
    np.testing.assert_allclose(out_fast, out_naive, rtol=1e-12, atol=1e-15)
    dout = randn(*out_naive.shape)
    np.testing.assert_allclose(bwd_fast(dout, cache_fast), bwd_naive(dout, cache_naive), rtol=1e-12, atol=1e-15)


def test_max_pool_ties_route_to_the_first_maximum() -> None:
    x = np.zeros((1, 1, 4, 4))  # every window is a tie, as after a ReLU
    x[0, 0, 3, 3] = 1.0
    dout = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    dx_naive = pool.max_pool_backward_naive(dout, pool.max_pool_forward_naive(x)[1])
    dx_fast = pool.max_pool_backward_fast(dout, pool.max_pool_forward_fast(x)[1])
    np.testing.assert_array_equal(dx_fast, dx_naive)
    assert dx_fast[0, 0, 0, 0] == 1 and dx_fast[0, 0, 3, 3] == 4 and np.count_nonzero(dx_fast) == 4


def test_fast_conv_keeps_float32() -> None:
    x, w, b = (a.astype(np.float32) for a in (randn(2, 3, 6, 6), randn(4, 3, 3, 3), randn(4)))
    out, cache = conv.conv_forward_fast(x, w, b, 1, 1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv.conv_backward_fast(out, cache))
