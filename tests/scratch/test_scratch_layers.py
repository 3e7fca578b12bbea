"""Every layer's backward pass against centred-difference gradients, in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from trainlab.scratch import conv, layers, losses, norm, pool, sandwich
from trainlab.scratch.gradcheck import grad_check_sparse, numeric_grad, numeric_grad_scalar, rel_error

TOL = 1e-7


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def check_layer(forward: Callable[..., Any], backward: Callable[..., Any], args: list[Any], wrt: list[int]) -> None:
    """backward's gradients w.r.t. args[i] for i in wrt match numeric ones."""
    out, cache = forward(*args)
    dout = randn(*out.shape, seed=1)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i in wrt:
        num = numeric_grad(lambda _: forward(*args)[0], args[i], dout)
        assert rel_error(grads[i], num) < TOL, f"gradient of argument {i}"


def seeded_dropout(x: np.ndarray, p: float) -> tuple[np.ndarray, Any]:
    return layers.dropout_forward(x, p, True, np.random.default_rng(0))


CASES = {
    "affine": (
        layers.affine_forward,
        layers.affine_backward,
        lambda: [randn(5, 2, 3), randn(6, 4), randn(4)],
        [0, 1, 2],
    ),
    "relu": (layers.relu_forward, layers.relu_backward, lambda: [randn(4, 6)], [0]),
    "leaky_relu": (layers.leaky_relu_forward, layers.leaky_relu_backward, lambda: [randn(4, 6), 0.1], [0]),
    "sigmoid": (layers.sigmoid_forward, layers.sigmoid_backward, lambda: [randn(4, 6)], [0]),
    "tanh": (layers.tanh_forward, layers.tanh_backward, lambda: [randn(4, 6)], [0]),
    "dropout": (seeded_dropout, layers.dropout_backward, lambda: [randn(6, 5), 0.3], [0]),
    "flatten": (layers.flatten_forward, layers.flatten_backward, lambda: [randn(3, 2, 4, 4)], [0]),
    "conv_naive": (
        conv.conv_forward_naive,
        conv.conv_backward_naive,
        lambda: [randn(2, 3, 7, 7), randn(4, 3, 3, 3), randn(4), 2, 1],
        [0, 1, 2],
    ),
    "conv_fast": (
        conv.conv_forward_fast,
        conv.conv_backward_fast,
        lambda: [randn(2, 3, 7, 7), randn(4, 3, 3, 3), randn(4), 2, 1],
        [0, 1, 2],
    ),
    "conv_fast_5x5": (
        conv.conv_forward_fast,
        conv.conv_backward_fast,
        lambda: [randn(2, 2, 8, 9), randn(3, 2, 5, 5), randn(3), 1, 2],
        [0, 1, 2],
    ),
    "max_pool_naive": (pool.max_pool_forward_naive, pool.max_pool_backward_naive, lambda: [randn(2, 3, 6, 6)], [0]),
    "max_pool_fast": (pool.max_pool_forward_fast, pool.max_pool_backward_fast, lambda: [randn(2, 3, 6, 6)], [0]),
    "max_pool_fast_overlap": (
        pool.max_pool_forward_fast,
        pool.max_pool_backward_fast,
        lambda: [randn(2, 3, 7, 7), 3, 2],
        [0],
    ),
    "avg_pool_naive": (pool.avg_pool_forward_naive, pool.avg_pool_backward_naive, lambda: [randn(2, 3, 6, 6)], [0]),
    "avg_pool_fast": (
        pool.avg_pool_forward_fast,
        pool.avg_pool_backward_fast,
        lambda: [randn(2, 3, 7, 7), 3, 2],
        [0],
    ),
    "batchnorm_train": (
        norm.batchnorm_forward,
        norm.batchnorm_backward,
        lambda: [3 * randn(8, 5) + 2, randn(5), randn(5), {"mode": "train"}],
        [0, 1, 2],
    ),
    "batchnorm_eval": (
        norm.batchnorm_forward,
        norm.batchnorm_backward,
        lambda: [
            randn(8, 5),
            randn(5),
            randn(5),
            {"mode": "eval", "running_mean": randn(5), "running_var": 1 + randn(5) ** 2},
        ],
        [0, 1, 2],
    ),
    "spatial_batchnorm": (
        norm.spatial_batchnorm_forward,
        norm.spatial_batchnorm_backward,
        lambda: [2 * randn(3, 4, 3, 5) - 1, randn(4), randn(4), {"mode": "train"}],
        [0, 1, 2],
    ),
    "layernorm": (
        norm.layernorm_forward,
        norm.layernorm_backward,
        lambda: [4 * randn(6, 7) + 3, randn(7), randn(7), {}],
        [0, 1, 2],
    ),
    "affine_relu": (
        sandwich.affine_relu_forward,
        sandwich.affine_relu_backward,
        lambda: [randn(5, 6), randn(6, 4), randn(4)],
        [0, 1, 2],
    ),
    "affine_bn_relu": (
        sandwich.affine_bn_relu_forward,
        sandwich.affine_bn_relu_backward,
        lambda: [randn(8, 6), randn(6, 4), randn(4), randn(4), randn(4), {"mode": "train"}],
        [0, 1, 2, 3, 4],
    ),
    "affine_ln_relu": (
        sandwich.affine_ln_relu_forward,
        sandwich.affine_ln_relu_backward,
        lambda: [randn(8, 6), randn(6, 5), randn(5), randn(5), randn(5), {}],
        [0, 1, 2, 3, 4],
    ),
    "conv_relu_pool": (
        sandwich.conv_relu_pool_forward,
        sandwich.conv_relu_pool_backward,
        lambda: [randn(2, 3, 8, 8), randn(3, 3, 3, 3), randn(3), 1, 1],
        [0, 1, 2],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_layer_backward_matches_numeric(name: str) -> None:
    forward, backward, make_args, wrt = CASES[name]
    check_layer(forward, backward, make_args(), wrt)


LOSSES = {
    "softmax": (losses.softmax_loss, lambda: (randn(7, 5), np.arange(7) % 5)),
    "svm": (losses.svm_loss, lambda: (randn(7, 5), np.arange(7) % 5)),
    "mse": (losses.mse_loss, lambda: (randn(6, 3), randn(6, 3, seed=5))),
    "bce": (losses.bce_loss, lambda: (3 * randn(6, 3), np.random.default_rng(0).random((6, 3)))),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradient_matches_numeric(name: str) -> None:
    loss_fn, make = LOSSES[name]
    scores, target = make()
    _, dscores = loss_fn(scores, target)
    num = numeric_grad_scalar(lambda s: loss_fn(s, target)[0], scores)
    assert rel_error(dscores, num) < TOL


def test_softmax_loss_of_uniform_scores_is_log_classes() -> None:
    loss, _ = losses.softmax_loss(np.zeros((4, 10)), np.arange(4))
    assert loss == pytest.approx(np.log(10))


def test_bce_is_finite_for_huge_logits() -> None:
    loss, d = losses.bce_loss(np.array([1000.0, -1000.0]), np.array([0.0, 1.0]))
    assert np.isfinite(loss) and loss == pytest.approx(1000.0)
    assert np.all(np.isfinite(d))


def test_dropout_is_inverted_and_identity_in_eval() -> None:
    x = np.ones((200, 500))
    out, _ = layers.dropout_forward(x, 0.3, True, np.random.default_rng(0))
    assert abs(out.mean() - 1) < 0.01 and np.mean(out == 0) == pytest.approx(0.3, abs=0.01)
    out, cache = layers.dropout_forward(x, 0.3, False, np.random.default_rng(0))
    assert out is x and layers.dropout_backward(x, cache) is x


def test_batchnorm_eval_uses_running_statistics() -> None:
    param: dict[str, Any] = {"mode": "train", "momentum": 0.0}
    x = 2 * randn(50, 4) + 3
    norm.batchnorm_forward(x, np.ones(4), np.zeros(4), param)
    param["mode"] = "eval"
    out, _ = norm.batchnorm_forward(x, np.ones(4), np.zeros(4), param)
    np.testing.assert_allclose(param["running_mean"], x.mean(axis=0))
    np.testing.assert_allclose(param["running_var"], x.var(axis=0, ddof=1))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)


def test_numeric_grad_of_known_functions() -> None:
    x = randn(3, 4)
    np.testing.assert_allclose(numeric_grad_scalar(lambda z: float(np.sum(z**3)), x), 3 * x**2, atol=1e-9)
    df = randn(3, 4, seed=2)
    np.testing.assert_allclose(numeric_grad(np.sin, x, df), np.cos(x) * df, rtol=1e-8)


def test_sparse_check_on_a_big_tensor() -> None:
    x = randn(64, 3, 16, 16)
    errors = grad_check_sparse(lambda z: float(np.sum(np.tanh(z))), x, 1 - np.tanh(x) ** 2, num_checks=20)
    assert errors.shape == (20,) and errors.max() < TOL
    wrong = grad_check_sparse(lambda z: float(np.sum(np.tanh(z))), x, np.ones_like(x), num_checks=5)
    assert wrong.max() > 1e-2


def test_rel_error() -> None:
    assert rel_error(np.ones(3), np.ones(3)) == 0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(np.zeros(2), np.zeros(2)) == 0
