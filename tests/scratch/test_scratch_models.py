"""Model gradients against numeric ones, and a TwoLayerNet that memorises 50 digits."""

from __future__ import annotations

import numpy as np
import pytest

from trainlab.scratch import ConvNet, FullyConnectedNet, Model, SoftmaxClassifier, Solver, TwoLayerNet
from trainlab.scratch.gradcheck import grad_check_sparse, numeric_grad_scalar

N, C = 6, 4
RNG = np.random.default_rng(0)
X_IMG = RNG.standard_normal((N, 2, 6, 6))
Y = np.arange(N) % C


def models() -> dict[str, Model]:
    kw = {"reg": 0.1, "weight_scale": 0.3, "seed": 1}
    return {
        "softmax": SoftmaxClassifier(72, C, **kw),
        "two_layer": TwoLayerNet(72, 10, C, **kw),
        "fc": FullyConnectedNet([8, 7], 72, C, **kw),
        "fc_batchnorm": FullyConnectedNet([8, 7], 72, C, normalization="batchnorm", **kw),
        "fc_layernorm": FullyConnectedNet([8, 7], 72, C, normalization="layernorm", **kw),
        "fc_dropout": FullyConnectedNet([8, 7], 72, C, dropout=0.3, **kw),
        "convnet": ConvNet((2, 6, 6), [3, 2], [5], C, **kw),
    }


@pytest.mark.parametrize("name", models())
def test_model_gradients_match_numeric(name: str) -> None:
    model = models()[name]
    rng = np.random.default_rng(2)
    for p in model.params.values():  # move zero biases off the ReLU kinks
        p += 0.1 * rng.standard_normal(p.shape)

    def loss_and_grads() -> tuple[float, dict[str, np.ndarray]]:
        model.rng = np.random.default_rng(0)  # the same dropout mask on every call
        return model.loss(X_IMG, Y)

    _, grads = loss_and_grads()
    assert set(grads) == set(model.params)
    for key, param in model.params.items():
        numeric = numeric_grad_scalar(lambda _: loss_and_grads()[0], param)
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-6, atol=1e-9, err_msg=key)


def test_scores_in_eval_mode_and_initial_loss() -> None:
    for model in models().values():
        assert model.loss(X_IMG).shape == (N, C)
    small = TwoLayerNet(72, 10, C, weight_scale=1e-4)
    assert small.loss(X_IMG, Y)[0] == pytest.approx(np.log(C), rel=1e-3)


def test_bigger_convnet_sparse_gradient_check() -> None:
    model = ConvNet((3, 16, 16), [8, 8], [20], 10, weight_scale=0.2, seed=0)
    x = np.random.default_rng(1).standard_normal((4, 3, 16, 16))
    y = np.arange(4)
    _, grads = model.loss(x, y)
    for key in ("W1", "W2", "W3"):
        errors = grad_check_sparse(lambda _: model.loss(x, y)[0], model.params[key], grads[key], num_checks=8)
        assert errors.max() < 1e-6, key


def test_batchnorm_buffers_update_in_training_only() -> None:
    model = FullyConnectedNet([8], 72, C, normalization="batchnorm")
    before = model.buffers["running_mean1"].copy()
    model.loss(X_IMG)
    np.testing.assert_array_equal(model.buffers["running_mean1"], before)
    model.loss(X_IMG, Y)
    assert not np.array_equal(model.buffers["running_mean1"], before)


def test_float32_models_stay_float32() -> None:
    model = ConvNet((2, 6, 6), [3], [5], C, dtype=np.float32)
    _, grads = model.loss(X_IMG, Y)
    assert model.loss(X_IMG).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


def test_convnet_rejects_inputs_too_small_for_its_pools() -> None:
    with pytest.raises(ValueError, match="too small"):
        ConvNet((1, 8, 8), [4, 4, 4, 4], [10], 10)


def test_two_layer_net_overfits_50_digits() -> None:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = (x[:50] - 8) / 8, y[:50]
    model = TwoLayerNet(64, 100, 10, seed=0)
    solver = Solver(model, x, y, x, y, update_rule="adam", optim_config={"lr": 1e-2}, batch_size=25, num_epochs=30)
    solver.train()
    assert solver.evaluate(x, y)[1] == 1.0
    assert solver.history[-1].train_loss < 0.05
