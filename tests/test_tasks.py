"""Every task through the one engine: bit-for-bit resume, and configs written before the task section."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_seq_task import TINY, write_math_dir

import trainlab
from trainlab.config import load_config, validate
from trainlab.engine import Callback


class StopAfter(Callback):
    """Ctrl-C at the end of an epoch, after its checkpoint is written (the next epoch's start)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_start(self, trainer, epoch):
        if epoch == self.epoch + 1:
            raise KeyboardInterrupt


def task_configs(tmp_path: Path) -> dict[str, list[str]]:
    text = tmp_path / "text.txt"
    text.write_text("a stitch in time saves nine; " * 60)
    quick = ["train.epochs=3", "train.quiet=true", "diagnose.enabled=false", "optim.lr=0.01"]
    return {
        "classification": ["model.name=mlp", "model.hidden=[16]", "model.dropout=0.2", "data.subset=300",
                           "data.augment.crop_padding=1", *quick],
        "seq2seq": ["model.name=seq2seq", "data.name=math", f"data.root={write_math_dir(tmp_path / 'math')}",
                    "task.teacher_forcing.schedule=linear", "task.teacher_forcing.min_ratio=0.5", "model.dropout=0.2",
                    *TINY, *quick],
        "char_lm": ["model.name=char_lm", "data.name=text", f"data.path={text}", "task.seq_len=16", "model.cell=gru",
                    *TINY, *quick],
        "binary": ["task=binary", "data.name=toy", "data.toy.samples=300", "model.hidden=[16]", "model.dropout=0.2",
                   *quick],
        "regression": ["task=regression", "data.name=diabetes", "loss.name=huber", "model.hidden=[16]",
                       "model.dropout=0.2", *quick],
        "gaussian_nll": ["task=gaussian_nll", "data.name=toy", "data.toy.kind=hetero", "data.toy.samples=300",
                         "model.hidden=[16]", "model.dropout=0.2", *quick],
        "multitask": ["task=multitask", "data.colors=3", "data.subset=300", "task.trunk=separate",
                      "task.heads.colour.weight=0.5", "model.hidden=[16]", "model.dropout=0.2", *quick],
        "contrastive": ["task=contrastive", "model.name=convnet", "model.filters=[8]", "model.hidden=[16]",
                        "model.dropout=0.2", "data.subset=200", "train.batch_size=64", *quick],
        "autoencoder": ["task=autoencoder", "model.name=convnet", "model.filters=[4,8]", "model.batch_norm=true",
                        "loss.name=bce_with_logits", "data.subset=300", "data.augment.crop_padding=1", *quick],
    }


@pytest.mark.slow
@pytest.mark.parametrize("task", ["classification", "seq2seq", "char_lm", "binary", "regression", "gaussian_nll",
                                  "multitask", "contrastive", "autoencoder"])
def test_a_resumed_run_ends_bit_for_bit_where_an_uninterrupted_one_ends(tmp_path: Path, task: str) -> None:
    cfg = load_config(None, task_configs(tmp_path)[task])
    assert cfg.task.name == task
    whole = trainlab.run(cfg, name="whole", out=tmp_path / "runs")
    cut = trainlab.run(cfg, name="cut", out=tmp_path / "runs", callbacks=(StopAfter(1),))
    assert cut.status == "interrupted" and whole.status == "completed"
    resumed = trainlab.resume(cut.run_dir)
    assert resumed.status == "completed"
    a, b = (torch.load(r / "checkpoints" / "last.pt", weights_only=True)["model"]
            for r in (whole.run_dir, resumed.run_dir))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert resumed.summary["test_loss"] == whole.summary["test_loss"]


def test_configs_written_before_the_task_section_still_load() -> None:
    old = {"task": "seq2seq", "data": {"name": "math", "math": {"difficulty": "mixed"}, "text": {"seq_len": 128}},
           "model": {"name": "seq2seq"}, "train": {"teacher_forcing": {"ratio": 0.7}}, "decode": {"beam": 4}}
    cfg = validate(old)
    assert cfg.task.math.difficulty == "mixed" and cfg.task.teacher_forcing.ratio == 0.7 and cfg.task.decode.beam == 4
    # every section was written for every task: options of another task are dropped
    assert validate({"task": "classification", "decode": {"beam": 2}, "data": {"math": {}}}).task.name == \
        "classification"
    lm = validate({"task": "char_lm", "data": {"name": "text", "text": {"seq_len": 32}}, "model": {"name": "char_lm"}})
    assert lm.task.seq_len == 32
    # the new key wins over an old one
    assert validate({**old, "task": {"name": "seq2seq", "decode": {"beam": 2}}}).task.decode.beam == 2


@pytest.mark.slow
def test_a_finished_sequence_run_samples_without_its_data(tmp_path: Path) -> None:
    from trainlab.sample import sample

    args = [a for a in task_configs(tmp_path)["seq2seq"] if a != "train.epochs=3"]
    run = trainlab.run(load_config(None, [*args, "train.epochs=1"]), name="s", out=tmp_path / "runs").run_dir
    answer = sample(run, "What is 2 + 3?")
    (tmp_path / "math").rename(tmp_path / "gone")
    assert sample(run, "What is 2 + 3?") == answer


def test_the_watched_metric_is_any_metric_of_the_task(tmp_path: Path) -> None:
    from trainlab.errors import ConfigError
    from trainlab.tasks.classification import ClassificationTask

    task = ClassificationTask(load_config(None, ["data.subset=100"]), torch.device("cpu"))
    assert task.monitored(None) == ("val_acc", "max")
    assert task.monitored("val_loss") == ("val_loss", "min")
    with pytest.raises(ConfigError, match=r"val_ppl is not a metric of task classification.*val_loss, val_acc"):
        task.monitored("val_ppl")
    no_val = ClassificationTask(load_config(None, ["data.subset=100", "data.val_fraction=0"]), torch.device("cpu"))
    assert no_val.monitored("val_loss") == ("train_loss", "min")
    with pytest.raises(ConfigError, match="not a metric"):
        trainlab.run(load_config(None, ["data.subset=100", "train.early_stop.metric=val_ppl"]), name="x",
                     out=tmp_path)
    assert not (tmp_path / "x").exists()


def test_classification_refuses_targets_that_are_not_one_class_label() -> None:
    from trainlab.errors import ConfigError
    from trainlab.tasks.classification import ClassificationTask

    for args in (["data.name=diabetes"], ["data.colors=3"]):
        with pytest.raises(ConfigError, match="targets, which task classification does not train on"):
            ClassificationTask(load_config(None, args), torch.device("cpu"))
