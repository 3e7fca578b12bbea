"""Diagnosis: gradient flow against autograd, activation statistics, the doctor, the records of a run.

The files a CLI run writes (figures, CSVs, TensorBoard histograms) are checked in test_study.py, on the
runs of `trainlab run --seeds 2`, so that one subprocess serves both."""

import math

import pytest
import torch
from torch import nn

import trainlab
from trainlab.config import load_config
from trainlab.config.vgg import VGGOptions
from trainlab.diagnose import gradflow
from trainlab.diagnose.activations import activation_stats
from trainlab.diagnose.doctor import Evidence, examine
from trainlab.diagnose.gradflow import GradientFlow
from trainlab.diagnose.records import Records
from trainlab.engine import Callback
from trainlab.models import build_model


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 5), nn.Tanh(), nn.Linear(5, 2))


def test_gradient_flow_matches_autograd_by_hand():
    net = tiny_net()
    flow = GradientFlow(net)
    assert flow.names == ["0", "3", "5"]  # weights only (no biases), in forward order
    weights = [net[0].weight, net[3].weight, net[5].weight]
    by_hand = []
    for step in range(3):
        x, y = torch.randn(4, 1, 4, 4, generator=torch.Generator().manual_seed(step)), torch.tensor([0, 1, 1, 0])
        loss = nn.functional.cross_entropy(net(x), y)
        by_hand.append(torch.autograd.grad(loss, weights, retain_graph=True))
        net.zero_grad()
        loss.backward()
        flow.update()
    rows = flow.rows(epoch=7)
    assert [(r["epoch"], r["layer"]) for r in rows] == [(7, "0"), (7, "3"), (7, "5")]
    for i, row in enumerate(rows):
        mean = sum(g[i].abs().sum().item() / g[i].numel() for g in by_hand) / 3
        top = max(g[i].abs().max().item() for g in by_hand)
        assert row["mean_abs_grad"] == pytest.approx(mean, rel=1e-5)
        assert row["max_abs_grad"] == pytest.approx(top, rel=1e-6)


def test_gradient_flow_undoes_the_loss_scale_and_resets():
    net = tiny_net()
    flow = GradientFlow(net)
    nn.functional.cross_entropy(net(torch.randn(2, 1, 4, 4)), torch.tensor([0, 1])).backward()
    flow.update()
    plain = flow.rows(1)
    flow.reset()
    for p in net.parameters():
        p.grad *= 8
    flow.update(scale=8.0)
    assert [r["mean_abs_grad"] for r in flow.rows(1)] == pytest.approx([r["mean_abs_grad"] for r in plain])


def test_activation_stats_find_dead_and_saturated_units():
    net = tiny_net()
    with torch.no_grad():
        net[0].bias[:2] = -100.0  # two of three conv channels never positive: dead after the ReLU
        net[3].bias[:] = 100.0  # every tanh unit pinned at +1: saturated
    x = torch.randn(8, 1, 4, 4)
    rows, out = activation_stats(net, lambda: net(x), epoch=1)
    dead = {r["block"]: r["dead_fraction"] for r in rows}
    assert dead == {"1": pytest.approx(2 / 3), "4": 1.0} and out.shape == (8, 2)
    assert net.training  # the mode is restored


HEALTHY = [{"layer": "a", "mean_abs_grad": 1e-3, "max_abs_grad": 1e-2}, {"layer": "b", "mean_abs_grad": 2e-3,
                                                                         "max_abs_grad": 3e-2}]


def rules(**evidence) -> list[str]:
    return [f.rule for f in examine(Evidence(**evidence))]


def test_doctor_rules():
    at_chance = {"train_loss": math.log(10) + 0.01}
    assert rules(gradflow=HEALTHY, metrics={"train_loss": 0.5}, num_classes=10) == []
    assert rules(gradflow=[{**HEALTHY[0], "mean_abs_grad": 1e-9}, HEALTHY[1]]) == ["vanishing_gradients"]
    tiny = [{**r, "mean_abs_grad": r["mean_abs_grad"] * 1e-12} for r in HEALTHY]  # ratio fine, all tiny
    assert rules(gradflow=tiny, metrics=at_chance, num_classes=10) == ["vanishing_gradients", "loss_at_chance"]
    assert rules(gradflow=[HEALTHY[0], {**HEALTHY[1], "max_abs_grad": math.nan}]) == ["exploding_gradients"]
    assert rules(gradflow=[HEALTHY[0], {**HEALTHY[1], "max_abs_grad": 1e4}]) == ["exploding_gradients"]
    assert rules(activations=[{"block": "x", "std": 1.0, "dead_fraction": 0.75}]) == ["dead_units"]
    [finding] = examine(Evidence(gradflow=[{**HEALTHY[0], "mean_abs_grad": 3e-12}, HEALTHY[1]]))
    assert "ratio 1.5e-09 (< 0.001) → try batch norm" in finding.message


class GradRecorder(Callback):
    """Mean |grad| of every weight at every step, straight from .grad."""

    def __init__(self):
        self.seen: dict[int, list[list[float]]] = {}

    def on_after_backward(self, trainer):
        weights = [p for p in trainer.module.parameters() if p.ndim > 1]
        self.seen.setdefault(trainer.state.epoch + 1, []).append([p.grad.abs().mean().item() for p in weights])


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    """A healthy MLP on digits, 3 epochs, gradients sampled every 2nd step: (run directory, recorder, result)."""
    out, recorder = tmp_path_factory.mktemp("mlp"), GradRecorder()
    cfg = load_config(None, ["train.epochs=3", "train.quiet=true", "diagnose.every=2", "diagnose.activations_every=2"])
    result = trainlab.run(cfg, name="g", out=out, callbacks=(recorder,))
    return out / "g", recorder, result


def test_gradflow_csv_has_one_row_per_layer_per_epoch_with_the_right_values(mlp):
    run, recorder, _ = mlp
    rows = Records(run / "gradflow.csv", gradflow.FIELDS, "layer").read()
    assert [(r["epoch"], r["layer"]) for r in rows] == [(e, layer) for e in (1, 2, 3) for layer in ("1", "3", "5")]
    for r in rows:
        sampled = recorder.seen[r["epoch"]][::2]  # steps 0, 2, 4, ... of the epoch: diagnose.every=2
        assert len(sampled) > 2  # the whole epoch, not one step
        expected = sum(s[("1", "3", "5").index(r["layer"])] for s in sampled) / len(sampled)
        assert r["mean_abs_grad"] == pytest.approx(expected, rel=1e-4)
        assert r["max_abs_grad"] > r["mean_abs_grad"]
    acts = Records(run / "activations.csv", ("epoch", "block", "mean", "std", "dead_fraction"), "block").read()
    assert sorted({a["epoch"] for a in acts}) == [2, 3]  # every 2nd epoch, and always the last


@pytest.mark.parametrize("blocks_per_stage, sick", [(5, True), (0, False)])
def test_doctor_flags_the_gradients_of_a_deep_plain_vgg_and_not_of_vgg08(blocks_per_stage, sick):
    """Real gradients at PyTorch's default init: 25 plain convs lose the signal, 5 keep it."""
    torch.manual_seed(0)
    net = build_model(VGGOptions(blocks_per_stage=blocks_per_stage, num_filters=8, num_stages=2), (1, 8, 8), 10)
    flow = GradientFlow(net)
    nn.functional.cross_entropy(net(torch.randn(16, 1, 8, 8)), torch.arange(16) % 10).backward()
    flow.update()
    rows = flow.rows(epoch=1)
    assert len(rows) == (26 if sick else 6)  # convs + the linear classifier
    assert [f.rule for f in examine(Evidence(gradflow=rows))] == (["vanishing_gradients"] if sick else [])
    assert (rows[0]["mean_abs_grad"] < 1e-8) == sick


def test_doctor_stays_quiet_on_a_healthy_run(mlp):
    # (a deep plain VGG trained end to end is flagged in test_study.py's study run)
    healthy = mlp[2]
    assert healthy.summary["doctor"] == [] and healthy.test_acc > 0.8
    assert 1e-3 < healthy.summary["grad_first_last_ratio"] < 1e3


def test_records_truncate_for_a_resume(tmp_path):
    records = Records(tmp_path / "g.csv", gradflow.FIELDS, "layer")
    records.append([{"epoch": e, "layer": "0", "mean_abs_grad": 1.0, "max_abs_grad": 2.0} for e in (1, 2, 3)])
    records.truncate(2)
    assert [r["epoch"] for r in records.read()] == [1, 2] and records.read()[0]["layer"] == "0"
