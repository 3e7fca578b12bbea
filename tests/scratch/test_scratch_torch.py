"""Forward and backward of every layer and loss against torch autograd (test-only torch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from trainlab.scratch import conv, layers, losses, norm, pool

torch = pytest.importorskip("torch")
F = torch.nn.functional


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + 7 * sum(shape)).standard_normal(shape)


def torch_grads(
    fn: Callable[..., Any], arrays: list[np.ndarray], dout: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """fn(*tensors) and the gradients of sum(out * dout) w.r.t. every tensor."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def compare(
    ours_fwd: Callable[..., Any],
    ours_bwd: Callable[..., Any],
    theirs: Callable[..., Any],
    arrays: list[np.ndarray],
    *extra: Any,
) -> None:
    out, cache = ours_fwd(*arrays, *extra)
    dout = randn(*out.shape, seed=3)
    grads = ours_bwd(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    t_out, t_grads = torch_grads(theirs, arrays, dout)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    for g, tg in zip(grads, t_grads, strict=False):
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


def test_affine() -> None:
    compare(
        layers.affine_forward,
        layers.affine_backward,
        lambda x, w, b: x.reshape(len(x), -1) @ w + b,
        [randn(5, 2, 3), randn(6, 4), randn(4)],
    )


@pytest.mark.parametrize(
    ("name", "theirs"),
    [("relu", F.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("flatten", lambda x: x.flatten(1))],
)
def test_activation(name: str, theirs: Callable[..., Any]) -> None:
    compare(getattr(layers, f"{name}_forward"), getattr(layers, f"{name}_backward"), theirs, [randn(3, 4, 5)])


def test_leaky_relu() -> None:
    compare(layers.leaky_relu_forward, layers.leaky_relu_backward, lambda x: F.leaky_relu(x, 0.2), [randn(4, 5)], 0.2)


@pytest.mark.parametrize("impl", ["naive", "fast"])
@pytest.mark.parametrize(("stride", "pad"), [(1, 1), (2, 1), (2, 0)])
def test_conv(impl: str, stride: int, pad: int) -> None:
    compare(
        getattr(conv, f"conv_forward_{impl}"),
        getattr(conv, f"conv_backward_{impl}"),
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=pad),
        [randn(2, 3, 9, 8), randn(4, 3, 3, 3), randn(4)],
        stride,
        pad,
    )


@pytest.mark.parametrize("impl", ["naive", "fast"])
@pytest.mark.parametrize(("size", "stride"), [(2, 2), (3, 2)])
def test_pools(impl: str, size: int, stride: int) -> None:
    x = randn(2, 3, 9, 9)
    compare(
        getattr(pool, f"max_pool_forward_{impl}"),
        getattr(pool, f"max_pool_backward_{impl}"),
        lambda t: F.max_pool2d(t, size, stride),
        [x],
        size,
        stride,
    )
    compare(
        getattr(pool, f"avg_pool_forward_{impl}"),
        getattr(pool, f"avg_pool_backward_{impl}"),
        lambda t: F.avg_pool2d(t, size, stride),
        [x],
        size,
        stride,
    )


def test_batchnorm_train_then_eval() -> None:
    x, gamma, beta = 2 * randn(16, 5) + 1, randn(5), randn(5)
    param: dict[str, Any] = {"mode": "train", "momentum": 0.9}
    rm, rv = torch.zeros(5, dtype=torch.float64), torch.ones(5, dtype=torch.float64)
    compare(
        norm.batchnorm_forward,
        norm.batchnorm_backward,
        lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.1, eps=1e-5),
        [x, gamma, beta],
        param,
    )
    np.testing.assert_allclose(param["running_mean"], rm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(param["running_var"], rv.numpy(), rtol=1e-12)
    param["mode"] = "eval"
    compare(
        norm.batchnorm_forward,
        norm.batchnorm_backward,
        lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=False, eps=1e-5),
        [randn(6, 5), gamma, beta],
        param,
    )


def test_spatial_batchnorm() -> None:
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    compare(
        norm.spatial_batchnorm_forward,
        norm.spatial_batchnorm_backward,
        lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=True, eps=1e-5),
        [randn(4, 3, 5, 6), randn(3), randn(3)],
        {"mode": "train"},
    )


def test_layernorm() -> None:
    compare(
        norm.layernorm_forward,
        norm.layernorm_backward,
        lambda x, g, b: F.layer_norm(x, (7,), g, b, eps=1e-5),
        [3 * randn(5, 7), randn(7), randn(7)],
        {},
    )


def test_dropout_matches_its_mask() -> None:
    """Masks are random, so torch's semantics are checked through ours: kept units are
    scaled by 1/(1-p), and the gradient flows through exactly the kept units."""
    x = randn(50, 40) + 5
    out, cache = layers.dropout_forward(x, 0.25, True, np.random.default_rng(1))
    mask = torch.tensor(out != 0)
    t_out, (t_grad,) = torch_grads(lambda t: t * mask / 0.75, [x], np.ones_like(x))
    np.testing.assert_allclose(out, t_out, rtol=1e-12)
    np.testing.assert_allclose(layers.dropout_backward(np.ones_like(x), cache), t_grad, rtol=1e-12)
    t_eval = F.dropout(torch.tensor(x), 0.25, training=False).numpy()
    np.testing.assert_array_equal(layers.dropout_forward(x, 0.25, False, np.random.default_rng(1))[0], t_eval)


def _loss_vs_torch(
    ours: Callable[..., Any], theirs: Callable[..., Any], scores: np.ndarray, target: np.ndarray
) -> None:
    loss, dscores = ours(scores, target)
    s = torch.tensor(scores, requires_grad=True)
    t_loss = theirs(s, torch.tensor(target))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    np.testing.assert_allclose(dscores, s.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_losses() -> None:
    scores, y = randn(8, 5), np.arange(8) % 5
    _loss_vs_torch(losses.softmax_loss, F.cross_entropy, scores, y)
    # torch divides the hinge sum by the number of classes; ours (cs231n) does not
    _loss_vs_torch(losses.svm_loss, lambda s, t: F.multi_margin_loss(s, t) * 5, scores, y)
    _loss_vs_torch(losses.mse_loss, F.mse_loss, scores, randn(8, 5, seed=1))
    _loss_vs_torch(
        losses.bce_loss, F.binary_cross_entropy_with_logits, 4 * scores, np.random.default_rng(0).random((8, 5))
    )
