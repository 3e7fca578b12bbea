"""The binary, regression, gaussian_nll and multitask tasks: metrics checked by hand and against scikit-learn,
loss choices, the figures, and each task through the real CLI (run, eval, compare)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from clitools import main_in_process
from PIL import Image
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score, roc_auc_score
from torch import nn

import trainlab
from trainlab.config import load_config
from trainlab.errors import ConfigError
from trainlab.tasks import TASKS

CPU = torch.device("cpu")
QUICK = ["train.quiet=true", "diagnose.enabled=false", "model.hidden=[16]"]


def task(*overrides: str):
    cfg = load_config(None, list(overrides))
    return TASKS.get(cfg.task.name)(cfg, CPU)


def frozen_mlp(t, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return t.build_model().eval()


def write_csv(path: Path, n: int = 120) -> Path:
    """Two features, two targets on different scales (the second in the thousands)."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=n), rng.normal(size=n)
    rows = [f"{x:.4f},{y:.4f},{2 * x - y + 0.1 * e:.4f},{1000 + 300 * x * y:.2f}"
            for x, y, e in zip(a, b, rng.normal(size=n), strict=True)]
    path.write_text("a,b,t1,t2\n" + "\n".join(rows) + "\n")
    return path


# --- regression ---------------------------------------------------------------------------------------------------
def test_regression_metrics_match_scikit_learn_in_the_targets_units(tmp_path):
    t = task("task=regression", "data.name=csv", f"data.path={write_csv(tmp_path / 'f.csv')}",
             "data.target=[t1,t2]", "model.hidden=[8]")
    assert t.num_outputs == 2 and t.data.targets == ["t1", "t2"]
    y_train = t.data.y_train  # standardised on the device, raw in the dataset
    assert torch.allclose(t.splits["train"].y.mean(0), torch.zeros(2), atol=1e-5)
    assert np.allclose(t.y_mean.numpy(), y_train.mean(0), rtol=1e-5)
    model = frozen_mlp(t)
    metrics = t.summarize(t.sums(model, "test"))
    cols = t.predict(model, "test")
    pred, y = np.stack([cols["t1"], cols["t2"]], axis=1), t.data.y_test
    assert metrics["rmse"] == pytest.approx(math.sqrt(mean_squared_error(y, pred)), rel=1e-5)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(y, pred), rel=1e-5)
    assert metrics["r2"] == pytest.approx(r2_score(y, pred), rel=1e-5, abs=1e-6)
    (table,) = t.tables(t.sums(model, "test"))
    assert [float(v) for v in table.rows[1][1:]] == pytest.approx(
        [math.sqrt(mean_squared_error(y[:, 1], pred[:, 1])), mean_absolute_error(y[:, 1], pred[:, 1]),
         r2_score(y[:, 1], pred[:, 1])], abs=1e-4)


def test_a_perfect_regressor_scores_r2_one_and_zero_error(tmp_path):
    t = task("task=regression", "data.name=csv", f"data.path={write_csv(tmp_path / 'f.csv')}", "data.target=t1")

    class Oracle(nn.Module):  # returns the standardised targets of the test split, in order
        def forward(self, x):
            return t.splits["test"].y[: len(x)]

    m = t.summarize(t.sums(Oracle(), "test"))
    assert m["r2"] == pytest.approx(1.0) and m["rmse"] == pytest.approx(0.0, abs=1e-4)


def test_standardisation_is_optional_and_losses_are_the_regression_ones():
    raw = task("task=regression", "data.name=diabetes", "task.standardize=false")
    assert torch.equal(raw.splits["train"].y[:, 0], torch.from_numpy(raw.data.y_train))
    with pytest.raises(ConfigError, match=r"not train with loss.name=cross_entropy.*mse, l1, huber"):
        task("task=regression", "data.name=diabetes", "loss.name=cross_entropy")
    assert task("task=regression", "data.name=diabetes", "loss.name=l1").loss_name() == "l1"
    with pytest.raises(ConfigError, match=r"task classification does not train with loss.name=huber"):
        task("loss.name=huber", "data.subset=100")
    with pytest.raises(ConfigError, match="use task=regression or task=gaussian_nll"):
        task("data.name=diabetes")


# --- gaussian_nll -------------------------------------------------------------------------------------------------
def test_gaussian_nll_is_the_formula_and_torchs():
    from trainlab.engine.optim import gaussian_nll

    mean, logvar, y = torch.tensor([0.0, 1.0, -2.0]), torch.tensor([0.0, math.log(4.0), -1.0]), torch.tensor(
        [0.5, 3.0, -2.0])
    by_hand = [0.5 * (math.log(2 * math.pi) + lv + (t - m) ** 2 / math.exp(lv))
               for m, lv, t in zip(mean.tolist(), logvar.tolist(), y.tolist(), strict=True)]
    assert gaussian_nll(mean, logvar, y).tolist() == pytest.approx(by_hand, rel=1e-6)
    torch_nll = nn.functional.gaussian_nll_loss(mean, y, logvar.exp(), full=True, reduction="none")
    assert gaussian_nll(mean, logvar, y).tolist() == pytest.approx(torch_nll.tolist(), rel=1e-6)


def test_gaussian_metrics_in_the_targets_units_and_calibration():
    t = task("task=gaussian_nll", "data.name=toy", "data.toy.kind=hetero", "data.toy.samples=200",
             "loss.min_logvar=-3", "loss.max_logvar=3")
    assert t.num_outputs == 2
    out = torch.tensor([[0.2, 5.0], [-0.1, -6.0], [0.0, 0.0]])  # log-variances 5 and -6 are clamped to ±3
    x = torch.zeros(3, 1)
    z = torch.tensor([[0.2 + 1.5 * math.exp(1.5)], [-0.1], [2.5]])  # standardised targets
    model = nn.Module()
    model.forward = lambda _: out  # type: ignore[method-assign]
    loss, stats = t.step(model, (x, z))
    s, m = float(t.y_std), float(t.y_mean)
    logvar = torch.tensor([3.0, -3.0, 0.0])
    expected = [0.5 * (math.log(2 * math.pi) + lv + 2 * math.log(s) + ((zi - mu) * s) ** 2 / (math.exp(lv) * s * s))
                for mu, lv, zi in zip(out[:, 0].tolist(), logvar.tolist(), z[:, 0].tolist(), strict=True)]
    metrics = t.summarize(stats)
    assert metrics["nll"] == pytest.approx(sum(expected) / 3, rel=1e-5)
    assert loss.item() == pytest.approx((sum(expected) / 3) - math.log(s), rel=1e-5)
    # distances in σ: 1.5 (within 2σ only), 0 (within both), 2.5 (neither)
    assert metrics["in_1sd"] == pytest.approx(1 / 3) and metrics["in_2sd"] == pytest.approx(2 / 3)
    cols = t.decode(out)
    assert cols["y_mean"].tolist() == pytest.approx((out[:, 0] * s + m).tolist(), rel=1e-5)
    assert cols["y_std"].tolist() == pytest.approx((torch.exp(0.5 * logvar) * s).tolist(), rel=1e-5)


# --- binary -------------------------------------------------------------------------------------------------------
def test_binary_accuracy_at_the_threshold_and_auc_match_scikit_learn():
    t = task("task=binary", "data.name=toy", "task.threshold=0.3")
    assert t.num_outputs == 1 and t.loss_name() == "bce_with_logits"
    model = frozen_mlp(t, seed=3)
    metrics = t.summarize(t.sums(model, "test"))
    cols, y = t.predict(model, "test"), t.data.y_test
    assert np.array_equal(cols["label"], (cols["p_positive"] >= 0.3).astype(np.int64))
    assert metrics["acc"] == pytest.approx(float((cols["label"] == y).mean()))
    assert metrics["auc"] == pytest.approx(roc_auc_score(y, cols["p_positive"]), rel=1e-6)
    with pytest.raises(ConfigError, match=r"task binary needs two classes; data.name=digits has 10"):
        task("task=binary", "data.subset=100")


# --- multitask ----------------------------------------------------------------------------------------------------
def test_multitask_heads_losses_weights_and_all_heads_accuracy():
    t = task("task=multitask", "data.colors=3", "data.subset=200", "task.heads.colour.weight=0.25",
             "task.heads.class.loss=nll")
    assert t.sizes == [10, 3] and t.num_outputs == 13
    assert "class_acc" in t.metrics and "colour_loss" in t.metrics and t.monitored(None) == ("val_acc", "max")
    assert t.monitored("val_colour_loss") == ("val_colour_loss", "min")
    logits = torch.full((4, 13), -5.0)
    y = torch.tensor([[1, 0], [2, 1], [3, 2], [4, 0]])
    for i, (c, k) in enumerate([(1, 0), (2, 2), (0, 2), (4, 0)]):  # right: both, class only, colour only, both
        logits[i, c], logits[i, 10 + k] = 5.0, 5.0
    model = nn.Module()
    model.forward = lambda _: logits  # type: ignore[method-assign]
    loss, stats = t.step(model, (torch.zeros(4, 1), y))
    m = t.summarize(stats)
    assert (m["acc"], m["class_acc"], m["colour_acc"]) == (0.5, 0.75, 0.75)
    ce = nn.functional.cross_entropy
    assert loss.item() == pytest.approx((ce(logits[:, :10], y[:, 0]) + 0.25 * ce(logits[:, 10:], y[:, 1])).item())
    assert t.decode(logits)["class"].tolist() == [1, 2, 0, 4]
    with pytest.raises(ConfigError, match=r"task.heads names shape, not a head.*class, colour"):
        task("task=multitask", "data.colors=3", "data.subset=200", "task.heads.shape.weight=1")
    with pytest.raises(ConfigError, match="use task=multitask"):
        task("data.colors=3", "data.subset=200")


def test_separate_trunks_are_one_model_per_head():
    from trainlab.models.heads import PerHead

    shared = task("task=multitask", "data.colors=2", "data.subset=100", "model.hidden=[8]")
    separate = task("task=multitask", "data.colors=2", "data.subset=100", "model.hidden=[8]", "task.trunk=separate")
    one, two = shared.build_model(), separate.build_model()
    assert isinstance(two, PerHead) and len(two.members) == 2
    assert [m[-1].out_features for m in two.members] == [10, 2]
    x = separate.splits["test"].x[:5]
    assert one(x).shape == two(x).shape == (5, 12)


# --- figures ------------------------------------------------------------------------------------------------------
def colours(path: Path) -> int:
    return len(np.unique(np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3), axis=0))


def test_two_d_classifiers_draw_their_decision_boundary(tmp_path):
    for args in (["data.name=toy", "data.toy.kind=xor"], ["task=binary", "data.name=toy"]):
        run = trainlab.run(load_config(None, [*args, "train.epochs=2", *QUICK]), name=args[0], out=tmp_path).run_dir
        assert colours(run / "plots" / "decision_boundary.png") > 20
    digits = trainlab.run(load_config(None, ["data.subset=200", "train.epochs=1", *QUICK]), name="d", out=tmp_path)
    assert not (digits.run_dir / "plots" / "decision_boundary.png").exists()  # 64-D inputs: no plane to draw


def test_regression_runs_draw_their_fit(tmp_path):
    runs = {name: trainlab.run(load_config(None, [*args, "train.epochs=2", *QUICK]), name=name, out=tmp_path).run_dir
            for name, args in {"g": ["task=gaussian_nll", "data.name=toy", "data.toy.kind=hetero"],
                               "r": ["task=regression", "data.name=toy", "data.toy.kind=hetero"],
                               "d": ["task=regression", "data.name=diabetes"]}.items()}
    assert colours(runs["g"] / "plots" / "bands.png") > 20
    assert (runs["r"] / "plots" / "predictions.png").is_file() and not (runs["r"] / "plots" / "bands.png").exists()
    assert (runs["d"] / "plots" / "pred_vs_true.png").is_file()


# --- the CLI ------------------------------------------------------------------------------------------------------
CLI_RUNS = {
    "binary": ["task=binary", "data.name=toy", "data.toy.kind=circles"],
    "regression": ["task=regression", "data.name=diabetes", "loss.name=l1"],
    "gaussian": ["task=gaussian_nll", "data.name=toy", "data.toy.kind=hetero"],
    "multitask": ["task=multitask", "data.colors=2", "data.subset=300"],
}


@pytest.mark.slow
def test_each_task_through_run_eval_and_compare(cli, tmp_path, monkeypatch, capsys):
    for name, args in CLI_RUNS.items():
        r = cli("run", *args, "train.epochs=2", *QUICK, "--name", name)
        assert r.returncode == 0, r.stderr
        summary = json.loads((tmp_path / "runs" / name / "summary.json").read_text())
        watched = "test_" + summary["monitor"].partition("_")[2]
        assert f"{watched}: {summary[watched]:.4f}" in r.stdout
    monkeypatch.chdir(tmp_path)
    code, out, _ = main_in_process(monkeypatch, capsys, "eval", "runs/regression", "--predictions", "p.csv")
    assert code == 0 and "rmse" in out and "per target" in out
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "id,progression"
    code, out, _ = main_in_process(monkeypatch, capsys, "eval", "runs/multitask", "--split", "val")
    assert code == 0 and "colour_acc" in out and "all heads" in out
    code, out, _ = main_in_process(monkeypatch, capsys, "eval", "runs/binary")
    assert code == 0 and "auc" in out and "confusion matrix" in out
    code, _, err = main_in_process(monkeypatch, capsys, "eval", "runs/binary", "runs/regression")
    assert code == 2 and "regression run" in err
    code, out, _ = main_in_process(monkeypatch, capsys, "compare", *(f"runs/{n}" for n in CLI_RUNS))
    assert code == 0 and all(k in out for k in ("test_auc", "test_rmse", "test_nll", "test_colour_acc"))


def test_binary_trains_on_a_csv_column_of_zeros_and_ones(tmp_path):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=200), rng.normal(size=200)
    rows = [f"{x:.4f},{y:.4f},{int(x + y > 0)},{x * y:.4f}" for x, y in zip(a, b, strict=True)]
    (tmp_path / "f.csv").write_text("a,b,yes,prod\n" + "\n".join(rows) + "\n")
    csv = ["data.name=csv", f"data.path={tmp_path / 'f.csv'}"]
    t = task("task=binary", *csv, "data.target=yes")
    assert t.classes == ["yes=0", "yes=1"] and t.splits["train"].y.dtype == torch.float32
    assert set(t.splits["train"].y.tolist()) == {0.0, 1.0}
    m = t.summarize(t.sums(frozen_mlp(t), "test"))
    assert 0 <= m["acc"] <= 1 and 0 <= m["auc"] <= 1
    with pytest.raises(ConfigError, match=r"one target column of 0/1 values.*use task=regression"):
        task("task=binary", *csv, "data.target=prod")
