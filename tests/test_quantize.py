"""Post-training int8 quantization: agreement with fp32, the weights-only checkpoint and its round trip, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from clitools import main_in_process

import trainlab
from trainlab.config import config_to_dict, load_config
from trainlab.errors import UserError
from trainlab.evaluation import CHECKPOINTS, open_run
from trainlab.quantization import METHODS, load_quantized
from trainlab.quantization.command import _examples
from trainlab.runs import RunDir, write_yaml
from trainlab.tasks import TASKS

TRAIN = ["train.epochs=2", "train.quiet=true", "diagnose.enabled=false", "optim.name=adam", "optim.lr=0.01"]
MODELS = {
    "conv": ["model.name=convnet", "model.filters=[8,16]", "model.hidden=[32]", "model.batch_norm=true"],
    "mlp": ["model.name=mlp", "model.hidden=[64,32]"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A tiny conv net (conv-bn-relu blocks) and an MLP trained two epochs on digits."""
    out = tmp_path_factory.mktemp("runs")
    return {name: trainlab.run(load_config(None, TRAIN + over), name=name, out=out).run_dir
            for name, over in MODELS.items()}


def _task_and_model(run_dir: Path):
    from trainlab.engine.checkpoint import load_weights

    run, cfg = open_run(run_dir)
    task = TASKS.get(cfg.task.name).for_run(run, cfg, torch.device("cpu"))
    model = task.build_model(cfg)
    load_weights(model, run.checkpoint("best"))
    return task, cfg, model


@pytest.mark.parametrize(("name", "method"), [("conv", "static"), ("mlp", "static"), ("mlp", "dynamic")])
def test_int8_agrees_with_fp32_and_is_smaller(runs, name, method):
    report = trainlab.quantize(runs[name], method, calibration=256, batch_size=64, repeats=3)
    assert report.agreement >= 0.95
    assert report.int8.size_bytes < report.fp32.size_bytes
    assert report.int8.metrics["acc"] > report.fp32.metrics["acc"] - 0.05 and report.fp32.metrics["acc"] > 0.6
    written = json.loads(report.path.with_suffix(".json").read_text())
    assert written["int8"]["metrics"] == report.int8.metrics and written["agreement"] == report.agreement
    assert "| int8 |" in report.path.with_suffix(".md").read_text()
    assert report.path == runs[name] / "checkpoints" / f"int8-{method}.pt"


def test_checkpoint_loads_weights_only_and_predicts_like_the_in_memory_model(runs, tmp_path):
    out = tmp_path / "q" / "conv-int8.pt"
    report = trainlab.quantize(runs["conv"], "static", calibration=128, out=out, repeats=2)
    assert report.layers.get("ConvReLU2d") == 2  # conv → bn → relu folded into one int8 op per block
    assert report.layers.get("LinearReLU") == 1 and report.layers.get("Linear") == 1
    assert not any("BatchNorm" in k for k in report.layers)
    state = torch.load(out, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state["model"].values())
    conv = next(k for k in state["model"] if k.startswith("encoder.") and k.endswith(".weight"))
    assert state["model"][conv].dtype == torch.qint8 and state["model"][conv].ndim == 4  # an int8 conv kernel
    task, cfg, model = _task_and_model(runs["conv"])
    in_memory = METHODS.get("static").convert(model, task.probe_batch("train", 2)[0], _examples(task, "train", 128))
    reloaded = load_quantized(out, task, cfg)
    x = torch.cat([x for x, _ in task.eval_batches("test")])
    with torch.no_grad():
        assert torch.equal(in_memory(x), reloaded(x))
        assert (reloaded(x).argmax(1) == model(x).argmax(1)).float().mean() >= 0.95
    assert out.stat().st_size < runs["conv"].joinpath("checkpoints", "best.pt").stat().st_size


def test_a_quantized_file_of_another_architecture_is_refused(runs):
    trainlab.quantize(runs["mlp"], "dynamic", repeats=2)
    task, cfg, _ = _task_and_model(runs["mlp"])
    wider = cfg.model_copy(update={"model": cfg.model.model_copy(update={"hidden": [64, 16]})})
    with pytest.raises(UserError, match="another architecture"):
        load_quantized(runs["mlp"] / "checkpoints" / "int8-dynamic.pt", task, wider)


def test_unsupported_model_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    run = RunDir.create(tmp_path / "lm")
    write_yaml(run.config, config_to_dict(load_config(Path(__file__).parents[1] / "configs" / "char_lm.yaml",
                                                      ["data.path=corpus.txt"])))
    code, _, err = main_in_process(monkeypatch, capsys, "quantize", str(run.path))
    assert code == 2 and "model char_lm cannot be quantized (supported: convnet, linear, mlp" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_every_method_has_an_eval_checkpoint_name():
    assert {f"int8-{m}" for m in METHODS.names()} <= set(CHECKPOINTS)


def test_cli_quantize_then_eval_the_int8_checkpoint(runs, cli, monkeypatch, capsys):
    r = cli("quantize", str(runs["mlp"]), "--method", "static", "--calibration", "256", "--repeats", "3")
    assert r.returncode == 0, r.stderr
    assert "int8 (static" in r.stdout and "smaller" in r.stdout and "int8-static.pt" in r.stdout
    assert "Warning" not in r.stderr  # torch.ao's deprecation warnings are kept out of the output
    table = json.loads((runs["mlp"] / "checkpoints" / "int8-static.json").read_text())
    code, out, _ = main_in_process(monkeypatch, capsys, "eval", str(runs["mlp"]), "--checkpoint", "int8-static")
    assert code == 0 and f"acc {table['int8']['metrics']['acc']:.4f}" in out
    code, _, err = main_in_process(monkeypatch, capsys, "quantize", str(runs["mlp"]), "--method", "qat")
    assert code == 2 and "qat" in err and len(err.strip().splitlines()) == 1


def test_the_runs_own_checkpoint_is_never_overwritten(runs, monkeypatch, capsys):
    best = runs["mlp"] / "checkpoints" / "best.pt"
    before = best.read_bytes()
    code, _, err = main_in_process(monkeypatch, capsys, "quantize", str(runs["mlp"]), "--out", str(best))
    assert code == 2 and "the run's own fp32 checkpoint" in err and best.read_bytes() == before
