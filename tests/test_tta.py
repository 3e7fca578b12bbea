"""Test-time augmentation (`trainlab eval --tta`): the views, the averaging, single runs and ensembles."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from clitools import main_in_process
from tinyruns import train
from torch import nn

from trainlab.config import load_config
from trainlab.data import load_dataset
from trainlab.data.augment import shift, tta_views
from trainlab.errors import UserError
from trainlab.models.tta import TTA


def test_shift_moves_the_image_and_fills_zeros() -> None:
    x = torch.arange(1, 17, dtype=torch.float32).view(1, 1, 4, 4)
    down_right = shift(x, 1, 2)
    assert torch.equal(down_right[0, 0, 1:, 2:], x[0, 0, :-1, :-2])
    assert down_right[0, 0, 0].abs().sum() == 0 and down_right[0, 0, :, :2].abs().sum() == 0
    assert torch.equal(shift(shift(x, -1, 0), 1, 0)[0, 0, 1:], x[0, 0, 1:])


def test_views_are_the_identity_its_mirror_and_corner_shifts() -> None:
    x = torch.randn(3, 2, 6, 6)
    assert len(tta_views(["flip"], 1)) == 2 and len(tta_views(["crop"], 2)) == 5
    views = tta_views(["flip", "crop"], 1)
    outs = [v(x) for v in views]
    assert len(outs) == 10 and torch.equal(outs[0], x)
    assert len({o.numpy().tobytes() for o in outs}) == 10  # all different
    assert any(torch.equal(o, x.flip(3)) for o in outs) and any(torch.equal(o, shift(x, 1, -1)) for o in outs)
    with pytest.raises(UserError, match="unknown --tta view 'rotate'"):
        tta_views(["flip", "rotate"], 1)


class CountingModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(2 * 6 * 6, 5))
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.net(x)


def test_tta_averages_the_views_probabilities_in_one_forward_pass() -> None:
    model, x = CountingModel().eval(), torch.randn(4, 2, 6, 6)
    views = tta_views(["flip", "crop"], 1)
    with torch.no_grad():
        out = TTA(model, views)(x)
        assert model.calls == 1  # all views in one batch
        expected = torch.stack([torch.softmax(model.net(v(x)), -1) for v in views]).mean(0)
    assert torch.allclose(out.exp(), expected, atol=1e-6)
    assert torch.allclose(out.exp().sum(-1), torch.ones(4), atol=1e-6)


def test_flip_of_mirror_symmetric_images_changes_nothing() -> None:
    model, x = CountingModel().eval(), torch.randn(4, 2, 6, 6)
    x = x + x.flip(3)  # symmetric left-right: the mirrored view is the image itself
    with torch.no_grad():
        assert torch.allclose(TTA(model, tta_views(["flip"], 1))(x), torch.log_softmax(model(x), -1), atol=1e-6)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("tta")
    return out, [train(out, f"s{seed}", f"train.seed={seed}") for seed in (0, 1)]


def test_eval_reports_tta_beside_the_plain_figure_for_an_ensemble(runs, monkeypatch, capsys) -> None:
    out, _ = runs
    monkeypatch.chdir(out)
    code, plain, _ = main_in_process(monkeypatch, capsys, "eval", "s0", "s1")
    assert code == 0
    code, text, err = main_in_process(monkeypatch, capsys, "eval", "s0", "s1", "--tta", "flip,crop",
                                      "--predictions", "p.csv")
    assert code == 0, err
    ensemble_line = next(line for line in plain.splitlines() if line.startswith("ensemble [test, best]"))
    assert ensemble_line in text  # the plain figure, unchanged
    tta_line = next(line for line in text.splitlines() if line.startswith("ensemble + TTA (flip, crop: 10 views)"))
    tta_acc = float(tta_line.split("acc ")[1].split()[0])
    # the predictions file holds the augmented ensemble's labels: its accuracy is the TTA figure
    _, y = load_dataset(load_config(None, []).data).split("test")
    with (out / "p.csv").open() as f:
        labels = [int(r["label"]) for r in csv.DictReader(f)]
    assert math.isclose(sum(int(a == b) for a, b in zip(labels, y, strict=True)) / len(y), tta_acc, abs_tol=1e-4)


def test_tasks_without_tta_refuse_it(runs, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    train(tmp_path, "reg", "task=regression", "data.name=diabetes", "train.epochs=1")
    code, _, err = main_in_process(monkeypatch, capsys, "eval", "reg", "--tta", "flip")
    assert code == 2 and "--tta does not apply to regression runs" in err
    train(tmp_path, "toy", "data.name=toy", "train.epochs=1")
    code, _, err = main_in_process(monkeypatch, capsys, "eval", "toy", "--tta", "flip")
    assert code == 2 and "inputs are not images" in err
    code, _, err = main_in_process(monkeypatch, capsys, "eval", str(runs[1][0]), "--tta", "flip,spin")
    assert code == 2 and "unknown --tta view 'spin'" in err


def test_eval_tta_through_the_cli(runs, cli) -> None:
    _, (s0, _) = runs
    r = cli("eval", str(s0), "--tta", "flip")
    assert r.returncode == 0, r.stderr
    assert "s0 [test, best]" in r.stdout and "s0 + TTA (flip: 2 views) [test, best]" in r.stdout


class Mirrored(nn.Module):
    """A model that sees each image and its mirror summed: the same output for both."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x + x.flip(3))


def test_the_task_scores_a_mirror_invariant_model_the_same_with_flip() -> None:
    from trainlab.engine.task import EvalOptions, Member
    from trainlab.tasks import TASKS

    cfg = load_config(None, ["model.name=mlp", "model.hidden=[16]"])
    task = TASKS.get("classification")(cfg, torch.device("cpu"))
    torch.manual_seed(0)
    member = Member("m", cfg, Mirrored(task.build_model()))
    report = task.evaluate([member], "test", "best", EvalOptions(tta=("flip",)))
    assert report.metrics["tta_acc"] == report.metrics["acc"]
    assert report.metrics["tta_loss"] == pytest.approx(report.metrics["loss"], abs=1e-6)
    crop = task.evaluate([member], "test", "best", EvalOptions(tta=("crop",)))
    assert crop.metrics["tta_loss"] != pytest.approx(crop.metrics["loss"], abs=1e-6)  # shifts do change the input
