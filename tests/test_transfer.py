"""Autoencoder pretraining and transfer: the autoencoder task, init_from across tasks, the four strategies,
torchvision-layout ResNet weights, and the transfer study.

One autoencoder run (a module fixture) is the source of the init_from and strategy tests.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from clitools import main_in_process

import trainlab
from trainlab.api import prepare_start
from trainlab.config import load_config
from trainlab.errors import CheckpointError, ConfigError
from trainlab.models import build_model
from trainlab.models.autoencoder import build_autoencoder
from trainlab.models.pretrained import torchvision_name, torchvision_resnet
from trainlab.runs import MetricsCSV, read_json

QUICK = ["train.quiet=true", "diagnose.enabled=false", "data.subset=200"]
CONV = ["model.name=convnet", "model.filters=[4,8]", "model.hidden=[16]", "model.batch_norm=true"]


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ae")
    cfg = load_config(None, ["task=autoencoder", *CONV, *QUICK, "train.epochs=3", "optim.lr=0.01"])
    return trainlab.run(cfg, name="ae", out=out).run_dir


def best_model(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / "best.pt", weights_only=True)["model"]


def test_the_autoencoder_learns_and_draws_its_reconstructions(ae_run):
    summary = read_json(ae_run / "summary.json")
    assert summary["status"] == "completed" and summary["monitor"] == "val_psnr"
    assert summary["test_psnr"] == pytest.approx(10 * math.log10(1 / summary["test_mse"]))
    rows = MetricsCSV(ae_run / "metrics.csv").read()
    assert len(rows) == 3 and rows[-1]["val_mse"] < rows[0]["val_mse"]
    assert (ae_run / "plots" / "reconstructions.png").stat().st_size > 1000
    cfg = load_config(None, CONV)
    classifier, autoencoder = build_model(cfg.model, (1, 8, 8), 10), build_autoencoder(cfg.model, (1, 8, 8))
    encoder = {k: v.shape for k, v in classifier.state_dict().items() if k.startswith("encoder.")}
    assert encoder == {k: v.shape for k, v in autoencoder.state_dict().items() if k.startswith("encoder.")}
    assert autoencoder(torch.zeros(2, 1, 8, 8)).shape == (2, 1, 8, 8)  # the decoder mirrors the encoder
    with pytest.raises(ConfigError, match="no conv encoder"):
        build_autoencoder(load_config(None, ["model.name=mlp"]).model, (1, 8, 8))


def test_init_from_an_autoencoder_takes_exactly_the_encoder(ae_run):
    plain = load_config(None, [*CONV, *QUICK])
    start = prepare_start(load_config(None, [*CONV, *QUICK, f"train.init_from={ae_run}"]))
    fresh = prepare_start(plain).model.state_dict()
    source, model = best_model(ae_run), start.model.state_dict()
    encoder = [k for k in model if k.startswith("encoder.")]
    assert len(encoder) == 12 and all(torch.equal(model[k], source[k]) for k in encoder)
    head = [k for k in model if k.startswith("head.")]
    assert head and all(torch.equal(model[k], fresh[k]) for k in head)  # as a run from scratch draws them
    assert start.weights_from.startswith("12 of 16 tensors taken") and "left new: head.1.weight" in \
        start.weights_from
    # another encoder: nothing matches
    other = load_config(None, ["model.name=pyramid_cnn", "model.conv_blocks=1", *QUICK, f"train.init_from={ae_run}"])
    with pytest.raises(CheckpointError, match="no tensor whose name and shape match this model's backbone"):
        prepare_start(other)


STRATEGIES = {  # strategy → (the tensors that must change, predicate on a name)
    "finetune": lambda k: True,
    "features": lambda k: k.startswith("head."),
    "partial": lambda k: k.startswith(("head.", "encoder.1.")),
    "freeze_bn": lambda k: k.startswith("head.") or k.endswith(".0.weight"),  # the convs, not the BatchNorms
}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_each_strategy_trains_exactly_its_parameters(ae_run, tmp_path, strategy):
    args = [*CONV, *QUICK, "train.epochs=1", "optim.lr=0.05", f"train.init_from={ae_run}",
            f"transfer.strategy={strategy}", "transfer.backbone_lr=0.01"]
    cfg = load_config(None, args)
    before = {k: v.clone() for k, v in prepare_start(cfg).model.state_dict().items()}
    result = trainlab.run(cfg, name=strategy, out=tmp_path)
    after = torch.load(result.run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]
    trains = STRATEGIES[strategy]
    for k, v in before.items():
        if k.endswith("num_batches_tracked"):
            continue
        changed = not torch.equal(v, after[k])
        # a BatchNorm's running statistics move exactly when its weight trains
        assert changed == trains(k.replace("running_mean", "weight").replace("running_var", "weight")), (k, changed)
    log = (result.run_dir / "train.log").read_text()
    assert f"transfer.strategy={strategy}" in log and "parameters frozen" in log


def test_the_head_and_the_backbone_learn_at_their_own_rates(ae_run):
    from trainlab.engine.optim import build_optimizer

    cfg = load_config(None, [*CONV, *QUICK, "optim.lr=0.1", f"train.init_from={ae_run}",
                             "transfer.strategy=partial", "transfer.backbone_lr=0.001"])
    model = prepare_start(cfg).model
    groups = build_optimizer(model, cfg.optim, cfg.transfer.backbone_lr).param_groups
    named = {id(p): n for n, p in model.named_parameters()}
    assert [g["lr"] for g in groups] == [0.1, 0.001]
    assert all(named[id(p)].startswith("head.") for p in groups[0]["params"])
    assert sorted(named[id(p)] for p in groups[1]["params"]) == \
        ["encoder.1.0.0.weight", "encoder.1.0.1.bias", "encoder.1.0.1.weight"]


def test_a_strategy_needs_weights_and_a_model_with_a_head(ae_run):
    with pytest.raises(ConfigError, match="has no weights to start from"):
        prepare_start(load_config(None, [*CONV, *QUICK, "transfer.strategy=features"]))
    with pytest.raises(ConfigError, match=r"transfer\.stages=3 but this model's backbone has 2 stages"):
        prepare_start(load_config(None, [*CONV, *QUICK, f"train.init_from={ae_run}", "transfer.strategy=partial",
                                         "transfer.stages=3"]))


# ------------------------------------------------------------------ torchvision's ResNet layout
def torchvision_resnet18() -> dict[str, torch.Tensor]:
    """Random tensors under torchvision's resnet18 state-dict names and shapes (written out independently of
    trainlab's model)."""
    def bn(prefix: str, c: int) -> dict[str, torch.Tensor]:
        return {f"{prefix}.weight": torch.rand(c), f"{prefix}.bias": torch.randn(c), f"{prefix}.running_mean":
                torch.randn(c), f"{prefix}.running_var": torch.rand(c) + 0.5,
                f"{prefix}.num_batches_tracked": torch.tensor(7)}

    state = {"conv1.weight": torch.randn(64, 3, 7, 7), **bn("bn1", 64)}
    c_in = 64
    for layer, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            p = f"layer{layer}.{block}"
            state |= {f"{p}.conv1.weight": torch.randn(width, c_in, 3, 3), **bn(f"{p}.bn1", width),
                      f"{p}.conv2.weight": torch.randn(width, width, 3, 3), **bn(f"{p}.bn2", width)}
            if block == 0 and layer > 1:
                state |= {f"{p}.downsample.0.weight": torch.randn(width, c_in, 1, 1), **bn(f"{p}.downsample.1", width)}
            c_in = width
    return state | {"fc.weight": torch.randn(1000, 512), "fc.bias": torch.randn(1000)}


RESNET18 = ["model.name=resnet", "model.depth=18", "model.stem=imagenet", *QUICK]


def test_torchvision_resnet18_weights_start_our_resnet(tmp_path):
    theirs = torchvision_resnet18()
    torch.save(theirs, tmp_path / "r18.pth")
    start = prepare_start(load_config(None, [*RESNET18, f"transfer.weights={tmp_path / 'r18.pth'}",
                                             "transfer.strategy=features"]))
    ours = start.model.state_dict()
    assert torch.allclose(ours["stem.0.weight"], theirs["conv1.weight"].sum(dim=1, keepdim=True))  # greyscale
    assert torch.equal(ours["stem.1.running_var"], theirs["bn1.running_var"])
    assert torch.equal(ours["stages.2.shortcut.0.weight"], theirs["layer2.0.downsample.0.weight"])
    assert torch.equal(ours["stages.7.bn2.bias"], theirs["layer4.1.bn2.bias"])
    assert ours["head.weight"].shape == (10, 512)  # a new head for digits' ten classes
    assert start.weights_from.startswith("120 of 122 tensors taken") and "left new: head.weight, head.bias" in \
        start.weights_from
    assert not any(p.requires_grad for n, p in start.model.named_parameters() if not n.startswith("head."))


def test_resnet50_names_map_onto_our_bottlenecks():
    model = build_model(load_config(None, ["model.name=resnet", "model.depth=50", "model.stem=imagenet"]).model,
                        (3, 32, 32), 10)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert torchvision_name("layer3.5.conv3.weight", model.blocks) == "stages.12.conv3.weight"
    assert ours["stages.12.conv3.weight"] == (1024, 256, 1, 1)  # torchvision's layer3.5.conv3: 256 → 1024
    assert torchvision_name("layer1.0.downsample.1.running_mean", model.blocks) == "stages.0.shortcut.1.running_mean"
    assert ours["stages.0.shortcut.1.running_mean"] == (256,)
    assert torchvision_name("layer4.3.conv1.weight", model.blocks) is None  # layer4 has 3 blocks


@pytest.fixture(scope="module")
def r18() -> dict[str, torch.Tensor]:
    return torchvision_resnet18()


def test_a_mismatching_weights_file_is_one_line_naming_the_key(tmp_path, monkeypatch, capsys, r18):
    torch.save(r18 | {"layer1.0.conv1.weight": torch.randn(64, 64, 1, 1)}, tmp_path / "bad.pth")
    code, _, err = main_in_process(monkeypatch, capsys, "run", *RESNET18, f"transfer.weights={tmp_path / 'bad.pth'}",
                                     "--out", str(tmp_path / "runs"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(r"layer1\.0\.conv1\.weight is \(64, 64, 1, 1\) there, \(64, 64, 3, 3\) here", err)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s | {"layer5.0.conv1.weight": torch.randn(1)}, r"layer5\.0\.conv1\.weight has no counterpart"),
    (lambda s: {k: v for k, v in s.items() if k != "layer3.1.bn2.running_var"},
     r"has no tensor for stages\.5\.bn2\.running_var"),
    (lambda s: {"fc.weight": s["fc.weight"]}, r"has no tensor for stem\.0\.weight"),
])
def test_a_weights_file_with_other_layers_is_refused(tmp_path, r18, edit, message):
    model = build_model(load_config(None, RESNET18).model, (3, 8, 8), 10)
    torch.save(edit(r18), tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match=message):
        torchvision_resnet(model, tmp_path / "bad.pth")


# ------------------------------------------------------------------ the study
def test_the_transfer_study_compares_the_strategies(tmp_path, monkeypatch, capsys):
    code, _, err = main_in_process(
        monkeypatch, capsys, "study", "transfer", "data.name=digits", "data.subset=100", "model.filters=[4,8]",
        "model.hidden=[8]", "train.epochs=1", "diagnose.enabled=false", "train.quiet=true",
        "--variants", "scratch,features", "--out", str(tmp_path))
    assert code == 0, err
    study = tmp_path / "transfer"
    source = read_json(study / "source" / "summary.json")
    assert source["task"] == "autoencoder" and source["epochs_completed"] == 4
    table = (study / "summary.md").read_text()
    assert "| scratch |" in table and "| features |" in table
    assert f"train.init_from={(study / 'source').resolve()}" in table
    assert (study / "curves.png").is_file()
    assert "tensors taken" not in (study / "scratch-seed0" / "train.log").read_text()
    assert "transfer.strategy=features" in (study / "features-seed0" / "train.log").read_text()


def test_a_resumed_transfer_run_ends_bit_for_bit(ae_run, tmp_path):
    from test_tasks import StopAfter

    cfg = load_config(None, [*CONV, *QUICK, "train.epochs=2", f"train.init_from={ae_run}", "transfer.strategy=partial",
                             "transfer.backbone_lr=0.01"])
    whole = trainlab.run(cfg, name="whole", out=tmp_path)
    cut = trainlab.run(cfg, name="cut", out=tmp_path, callbacks=(StopAfter(1),))
    resumed = trainlab.resume(cut.run_dir)  # frozen stages and two parameter groups again, weights from last.pt
    a, b = (torch.load(r / "checkpoints" / "last.pt", weights_only=True)["model"]
            for r in (whole.run_dir, resumed.run_dir))
    assert resumed.status == "completed" and all(torch.equal(a[k], b[k]) for k in a)


def test_the_autoencoder_scores_a_uint8_folder_cache_in_0_1(tmp_path):
    from test_folders import SIZE, SPLIT, CleanOptions, clean, make_dirty_folder

    from trainlab.tasks.autoencoder import AutoencoderTask

    clean(make_dirty_folder(tmp_path), tmp_path / "clean", CleanOptions(size=SIZE), SPLIT, seed=0, workers=1)
    task = AutoencoderTask(load_config(None, ["task=autoencoder", "data.name=folder", f"data.path={tmp_path / 'clean'}",
                                              *CONV]), torch.device("cpu"))
    assert task.splits["train"].x.dtype == torch.uint8  # stored raw, normalised per batch
    targets = torch.cat([task.target(x) for x, _ in task.eval_batches("train")])
    assert torch.equal(targets.amin(dim=(0, 2, 3)), torch.zeros(3)) and torch.equal(targets.amax(dim=(0, 2, 3)),
                                                                                      torch.ones(3))
