"""Update rules against torch.optim, step for step, and the rule registry."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trainlab.errors import ConfigError
from trainlab.scratch.optim import UPDATE_RULES

torch = pytest.importorskip("torch")

CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "sgd": ({"lr": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    "momentum": ({"lr": 0.1, "momentum": 0.8}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8)),
    "nesterov": ({"lr": 0.1, "momentum": 0.8}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True)),
    "rmsprop": ({"lr": 0.01, "decay_rate": 0.9}, lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
    "adam": ({"lr": 0.01, "beta1": 0.8, "beta2": 0.99}, lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99))),
}


@pytest.mark.parametrize("name", CASES)
def test_rule_matches_torch(name: str) -> None:
    config, make_torch = CASES[name]
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3))
    t = torch.tensor(w.copy(), requires_grad=True)
    opt = make_torch([t])
    update = UPDATE_RULES.get(name)
    for _ in range(6):
        dw = rng.standard_normal(w.shape)
        w, config = update(w, dw, config)
        t.grad = torch.tensor(dw)
        opt.step()
    np.testing.assert_allclose(w, t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_rules_fill_defaults_and_keep_state() -> None:
    config: dict[str, Any] = {}
    UPDATE_RULES.get("adam")(np.ones(3), np.ones(3), config)
    assert config["t"] == 1 and config["lr"] == 1e-3 and config["m"].shape == (3,)


def test_unknown_rule_suggests_a_name() -> None:
    assert UPDATE_RULES.names() == ["adam", "momentum", "nesterov", "rmsprop", "sgd"]
    with pytest.raises(ConfigError, match="did you mean 'adam'"):
        UPDATE_RULES.get("adma")
