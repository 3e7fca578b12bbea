"""The vgg family: layer counts of VGG_08 / VGG_38, every block type, deep supervision, end to end."""

import math
from typing import get_args

import pytest
import torch
from rich.console import Console
from torch import nn

from trainlab.api import build_trainer
from trainlab.config import load_config
from trainlab.config.vgg import BlockType, VGGOptions
from trainlab.engine import Callback
from trainlab.errors import ConfigError
from trainlab.models import AuxOutput, build_model
from trainlab.models.vgg_blocks import BLOCKS, Residual
from trainlab.runs import MetricsCSV, RunDir

FASHION = (1, 28, 28)


def vgg(**options) -> nn.Module:
    return build_model(VGGOptions(**options), FASHION, 10)


def count(model: nn.Module, kind: type[nn.Module]) -> int:
    return sum(isinstance(m, kind) for m in model.modules())


@pytest.mark.parametrize("block_type", ["plain", "bn", "residual", "bn_residual", "dense"])
def test_vgg08_has_7_convs_and_vgg38_has_37_plus_one_linear(block_type):
    assert (count(vgg(block_type=block_type), nn.Conv2d), count(vgg(block_type=block_type), nn.Linear)) == (7, 1)
    vgg38 = vgg(block_type=block_type, blocks_per_stage=5)
    assert (count(vgg38, nn.Conv2d), count(vgg38, nn.Linear)) == (37, 1)


def test_block_types_differ_only_where_they_should():
    plain, bn = vgg(blocks_per_stage=5), vgg(blocks_per_stage=5, block_type="bn")
    assert count(plain, nn.BatchNorm2d) == 1 and count(bn, nn.BatchNorm2d) == 37  # entry BN + one per conv
    assert count(vgg(blocks_per_stage=5, block_type="residual"), Residual) == 15
    assert count(vgg(blocks_per_stage=5, block_type="empty"), nn.Conv2d) == 1
    assert all(not m.bias for m in plain.modules() if isinstance(m, nn.Conv2d))  # 3×3 convs without bias
    assert sorted(get_args(BlockType)) == BLOCKS.names()  # the config's choices are the registry's


def test_residual_block_adds_an_identity_shortcut():
    block = Residual(nn.Conv2d(4, 4, 3, padding=1, bias=False))
    nn.init.zeros_(block.body.weight)
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(block(x), x)


def test_deep_supervision_returns_aux_logits_in_training_only():
    model = vgg(blocks_per_stage=1, deep_supervision=True, aux_weight=0.5)
    x = torch.randn(3, *FASHION)
    out = model.train()(x)
    assert isinstance(out, AuxOutput) and len(out.aux) == 2 and out.weight == 0.5
    assert out.logits.shape == (3, 10) and all(a.shape == (3, 10) for a in out.aux)
    assert model.eval()(x).shape == (3, 10)
    assert count(model, nn.Linear) == 3


def test_too_many_stages_for_the_input_is_a_config_error():
    with pytest.raises(ConfigError, match="num_stages=3"):
        build_model(VGGOptions(num_stages=4), (1, 8, 8), 10)


TINY = ["model.name=vgg", "model.num_filters=8", "model.blocks_per_stage=1", "data.subset=300",
        "train.epochs=1", "train.quiet=true", "diagnose.enabled=false"]


@pytest.mark.parametrize("block_type", ["plain", "empty", "bn", "residual", "bn_residual", "dense"])
def test_every_block_type_trains(tmp_path, block_type):
    """The trainer `trainlab run` builds, on each block type (the run's reports are tested elsewhere)."""
    cfg = load_config(None, [*TINY, f"model.block_type={block_type}"])
    trainer, diagnosis = build_trainer(cfg, RunDir.create(tmp_path / "v"), Console(quiet=True))
    before = [p.detach().clone() for p in trainer.module.parameters()]
    assert trainer.fit() == "completed" and diagnosis is None
    [row] = MetricsCSV(tmp_path / "v/metrics.csv").read()
    assert math.isfinite(row["train_loss"]) and math.isfinite(row["val_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.module.parameters(), strict=True))
    assert not (tmp_path / "v/gradflow.csv").exists()  # diagnose.enabled=false switches diagnosis off


class AuxGrads(Callback):
    """Whether the auxiliary heads' weights received a gradient (the aux losses are in the objective)."""

    def __init__(self):
        self.grads: list[float] = []

    def on_after_backward(self, trainer):
        self.grads.append(sum(float(p.grad.abs().sum()) for n, p in trainer.module.named_parameters()
                              if n.startswith("aux")))


def test_deep_supervision_trains_the_aux_heads_and_reports_their_loss_apart(tmp_path):
    cfg = load_config(None, [*TINY, "model.deep_supervision=true", "model.block_type=bn"])
    aux = AuxGrads()
    trainer, _ = build_trainer(cfg, RunDir.create(tmp_path / "ds"), Console(quiet=True), (aux,))
    assert trainer.fit() == "completed" and aux.grads and all(g > 0 for g in aux.grads)
    [row] = MetricsCSV(tmp_path / "ds/metrics.csv").read()
    assert row["train_aux_loss"] > 0 and "val_aux_loss" not in row  # eval mode: the main head only
    assert math.isfinite(row["train_loss"]) and math.isfinite(row["val_loss"])


# Training through `trainlab run model.name=vgg ...` in a subprocess: test_study.py (`run --seeds 2`).
