"""The scratch config: YAML plus dotted overrides, strict keys, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainlab.errors import ConfigError
from trainlab.scratch import ConvNet, FullyConnectedNet, SoftmaxClassifier, TwoLayerNet
from trainlab.scratch.config import load_config


def test_defaults_and_engine() -> None:
    cfg = load_config()
    assert cfg.engine == "scratch" and cfg.data.name == "digits" and cfg.model.name == "two_layer"
    assert cfg.optim.rule == "adam" and cfg.model_dump(mode="json")["optim"]["betas"] == [0.9, 0.999]


def test_file_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model: {name: fc, hidden: [32]}\noptim: {rule: momentum, lr: 0.1}\n")
    cfg = load_config(path, ["model.normalization=batchnorm", "optim.lr=0.05", "train.epochs=2", "data.subset=100"])
    assert cfg.model.name == "fc" and cfg.model.hidden == [32] and cfg.model.normalization == "batchnorm"
    assert (cfg.optim.rule, cfg.optim.lr, cfg.train.epochs, cfg.data.subset) == ("momentum", 0.05, 2, 100)
    assert cfg.optim.rule_config()["momentum"] == 0.9


def test_model_name_defaults_and_switches() -> None:
    assert load_config(None, ["model.hidden_dim=7"]).model.hidden_dim == 7
    cfg = load_config(None, ["model.name=two_layer", "model.hidden_dim=7", "model.name=convnet"])  # options dropped
    assert cfg.model.name == "convnet" and cfg.model.filters == [16, 32]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.hiden_dim=3"], "unknown config key 'model.hiden_dim' — did you mean 'hidden_dim'?"),
        (["trian.epochs=3"], "unknown config key 'trian' — did you mean 'train'?"),
        (["model.name=fc", "model.filters=[3]"], "unknown config key 'model.filters'"),
        (["model.name=resnet"], "unknown model 'resnet'"),
        (["optim.rule=adma"], "unknown update rule 'adma' — did you mean 'adam'?"),
        (["optim.lr=-1"], "invalid value for 'optim.lr'"),
        (["train.epochs=many"], "invalid value for 'train.epochs'"),
        (["data.name=imagenet"], "invalid value for 'data.name'"),
        (["data.augment.flip=true"], "the scratch engine does not augment data"),
        (["data.val_fraction=0"], "set data.val_fraction > 0"),
        (["epochs"], "is not key=value"),
    ],
)
def test_bad_input_is_one_config_error(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, overrides)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


@pytest.mark.parametrize(
    ("name", "cls"),
    [("softmax", SoftmaxClassifier), ("two_layer", TwoLayerNet), ("fc", FullyConnectedNet), ("convnet", ConvNet)],
)
def test_build_each_model(name: str, cls: type) -> None:
    model = load_config(None, [f"model.name={name}", "model.dtype=float64"]).model.build((1, 8, 8), 10, 0.0, 0)
    assert isinstance(model, cls) and model.dtype == np.float64
    assert model.loss(np.zeros((2, 1, 8, 8))).shape == (2, 10)


def test_build_rejects_impossible_convnets() -> None:
    with pytest.raises(ConfigError, match="too small"):
        load_config(None, ["model.name=convnet", "model.filters=[4,4,4,4]"]).model.build((1, 8, 8), 10, 0.0, 0)
    with pytest.raises(ConfigError, match="needs image inputs"):
        load_config(None, ["model.name=convnet"]).model.build((2,), 3, 0.0, 0)
