import itertools
import math
import pickle

import pytest
import torch

from trainlab.config import load_config
from trainlab.config.schema import SchedConfig
from trainlab.engine.checkpoint import load_checkpoint, load_model_state, save_checkpoint
from trainlab.engine.optim import OPTIMIZERS, LRSchedule, build_loss, build_optimizer
from trainlab.errors import CheckpointError


def lrs(cfg: SchedConfig, epochs: int = 10, per_epoch: int = 10) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = LRSchedule(opt, cfg, epochs, per_epoch)
    out = []
    for _ in range(epochs * per_epoch):
        out.append(sched.lr)
        sched.step()
    return out


def test_schedules():
    assert lrs(SchedConfig(name="none")) == [0.1] * 100
    step = lrs(SchedConfig(name="step", step_size=3, gamma=0.5))
    assert step[29] == pytest.approx(0.1) and step[30] == pytest.approx(0.05) and step[60] == pytest.approx(0.025)
    multi = lrs(SchedConfig(name="multistep", milestones=[2, 5], gamma=0.1))
    assert multi[19] == pytest.approx(0.1) and multi[20] == pytest.approx(0.01) and multi[50] == pytest.approx(0.001)
    cos = lrs(SchedConfig(name="cosine", min_lr=0.001))
    assert cos[0] == pytest.approx(0.1) and cos[50] == pytest.approx(0.0505, rel=1e-3) and cos[-1] > 0.001
    assert all(a >= b for a, b in itertools.pairwise(cos))
    one = lrs(SchedConfig(name="onecycle", pct_start=0.3))
    assert one.index(max(one)) == 30 and one[0] == pytest.approx(0.004) and one[-1] < 1e-4
    warm = lrs(SchedConfig(name="cosine", warmup_epochs=2))
    assert warm[0] == pytest.approx(0.1 / 20 * math.cos(0) ** 2, rel=1e-6) and warm[0] < warm[10] < warm[19]


def test_plateau_decays_after_patience_and_state_round_trips():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = LRSchedule(opt, SchedConfig(name="plateau", patience=1, gamma=0.5), 10, 5, mode="max")
    for metric in (0.5, 0.6, 0.6, 0.6):
        sched.epoch_end(metric)
    assert sched.lr == pytest.approx(0.5)
    other = LRSchedule(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0),
                       SchedConfig(name="plateau", patience=1, gamma=0.5), 10, 5, mode="max")
    other.load_state_dict(sched.state_dict())
    assert other.lr == pytest.approx(0.5) and other.best == pytest.approx(0.6)


def test_losses_on_class_labels():
    logits, y = torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([0, 1])
    for name in ("cross_entropy", "nll", "mse", "bce_with_logits"):
        loss = build_loss(load_config(None, []).loss, name)(logits, y)
        assert loss.ndim == 0 and loss.item() > 0
    ce = build_loss(load_config(None, []).loss, "cross_entropy")(logits, y)
    nll = build_loss(load_config(None, []).loss, "nll")(logits, y)
    assert ce.item() == pytest.approx(nll.item())
    smooth = build_loss(load_config(None, ["loss.label_smoothing=0.2"]).loss, "cross_entropy")(logits, y)
    assert smooth.item() > ce.item()


def test_checkpoint_round_trip_and_refusals(tmp_path):
    model = torch.nn.Linear(3, 2)
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"model": model.state_dict(), "epoch": 3})
    state = load_checkpoint(path)
    other = torch.nn.Linear(3, 2)
    load_model_state(other, state, path)
    assert torch.equal(other.weight, model.weight) and state["epoch"] == 3
    assert not list(tmp_path.glob("*.tmp"))

    with pytest.raises(CheckpointError, match="another architecture"):
        load_model_state(torch.nn.Linear(4, 2), state, path)

    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.pt"
    torch.save({"format": "trainlab-checkpoint", "x": Evil()}, evil, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="may not contain"):
        load_checkpoint(evil)

    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a trainlab checkpoint"):
        load_checkpoint(foreign)


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_takes_its_options_and_descends(name):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    x, y = torch.randn(64, 4), torch.randn(64, 1)
    lr = 1.0 if name == "adadelta" else 0.05
    opt = build_optimizer(model, load_config(None, [f"optim.name={name}", f"optim.lr={lr}",
                                                    "optim.weight_decay=0.001"]).optim)
    assert opt.param_groups[0]["lr"] == lr and opt.param_groups[0]["weight_decay"] == 0.001
    first = torch.nn.functional.mse_loss(model(x), y).item()
    for _ in range(50):
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first


def test_sgd_momentum_and_nesterov_reach_torch():
    cfg = load_config(None, ["optim.name=sgd", "optim.momentum=0.8", "optim.nesterov=true"]).optim
    group = build_optimizer(torch.nn.Linear(2, 1), cfg).param_groups[0]
    assert group["momentum"] == 0.8 and group["nesterov"] is True


def test_evaluation_counts_the_confusion_matrix_of_the_predictions():
    from sklearn.metrics import confusion_matrix

    from trainlab.engine import eval_sums
    from trainlab.tasks.classification import ClassificationTask

    torch.manual_seed(0)
    task = ClassificationTask(load_config(None, ["model.name=mlp", "model.hidden=[16]"]), torch.device("cpu"))
    model = task.build_model()
    sums = eval_sums(model, task.eval_batches("test"), lambda m, b: task.step(m, b)[1])
    with torch.no_grad():
        x, labels = task.splits["test"].x, task.splits["test"].y.numpy()
        expected = confusion_matrix(labels, model(x).argmax(1).numpy(), labels=range(10))
    assert sums["confusion"].view(10, 10).numpy().tolist() == expected.tolist()
    assert int(sums["confusion"].sum()) == len(labels) == int(sums["count"])
    model.train()
    assert "confusion" not in task.step(model, next(task.train_batches(torch.Generator(), 1)))[1]


def test_a_signal_inside_interrupts_held_waits_for_the_block_to_end():
    import signal

    from trainlab.runs.signals import interrupts_held

    done = []
    with pytest.raises(KeyboardInterrupt), interrupts_held():
        signal.raise_signal(signal.SIGINT)
        done.append("finished")
    assert done == ["finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_right_after_a_checkpoint_is_written_keeps_the_summary_in_step(tmp_path, monkeypatch):
    import signal

    import trainlab.engine.trainer as trainer_module
    from trainlab import api

    real_write = trainer_module.atomic_write_bytes
    lasts = []

    def write_then_ctrl_c(path, data):  # the interrupt lands after epoch 2's last.pt is renamed into place
        real_write(path, data)
        if path.name == "last.pt":
            lasts.append(path)
            if len(lasts) == 2:
                signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(trainer_module, "atomic_write_bytes", write_then_ctrl_c)
    cfg = load_config(None, ["model.name=mlp", "model.hidden=[16]", "train.epochs=5", "diagnose.enabled=false"])
    result = api.run(cfg, name="int", out=tmp_path)
    assert result.status == "interrupted"
    last = load_checkpoint(tmp_path / "int/checkpoints/last.pt")
    assert last["epoch"] == result.summary["epochs_completed"] == 2


def test_ctrl_c_inside_the_tensorboard_writes_waits_for_them_and_the_checkpoint(tmp_path, monkeypatch):
    import signal

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from trainlab import api
    from trainlab.engine.callbacks import TensorBoard

    real_end = TensorBoard.on_epoch_end

    def ctrl_c_amid_the_scalars(self, trainer, row):  # a writer interrupted here could not close (its queue stalls)
        if row["epoch"] == 2:
            self.writer.add_scalar("misc/probe", 1.0, 2)
            signal.raise_signal(signal.SIGINT)
        real_end(self, trainer, row)

    monkeypatch.setattr(TensorBoard, "on_epoch_end", ctrl_c_amid_the_scalars)
    cfg = load_config(None, ["model.name=mlp", "model.hidden=[16]", "train.epochs=5", "diagnose.enabled=false"])
    result = api.run(cfg, name="tb", out=tmp_path)
    assert result.status == "interrupted" and result.summary["epochs_completed"] == 2
    assert load_checkpoint(result.run_dir / "checkpoints/last.pt")["epoch"] == 2
    events = EventAccumulator(str(result.run_dir / "tb")).Reload()
    assert [e.step for e in events.Scalars("train/train_loss")] == [1, 2]


def test_an_improving_epoch_writes_one_serialisation_to_last_and_best(tmp_path, monkeypatch):
    import trainlab.engine.trainer as trainer_module
    from trainlab import api

    real_write = trainer_module.atomic_write_bytes
    writes = []

    def record(path, data):
        writes.append((path.name, data))
        real_write(path, data)

    monkeypatch.setattr(trainer_module, "atomic_write_bytes", record)
    cfg = load_config(None, ["model.name=mlp", "model.hidden=[16]", "train.epochs=2", "diagnose.enabled=false",
                             "train.early_stop.min_delta=2"])  # accuracy cannot gain 2: epoch 1 stays the best
    result = api.run(cfg, name="once", out=tmp_path)
    assert [name for name, _ in writes] == ["last.pt", "best.pt", "last.pt"]
    assert writes[0][1] is writes[1][1]  # serialised once for both files
    ckpt = result.run_dir / "checkpoints"
    assert (ckpt / "best.pt").read_bytes() == writes[0][1] and (ckpt / "last.pt").read_bytes() == writes[2][1]
    best, last = (torch.load(ckpt / f"{k}.pt", weights_only=True) for k in ("best", "last"))
    assert best["epoch"] == best["fit_state"]["best_epoch"] == 1 and last["epoch"] == 2
    assert load_checkpoint(ckpt / "best.pt")["format"] == "trainlab-checkpoint"
    assert not any(torch.equal(best["model"][k], last["model"][k]) for k in best["model"])
    assert not list(ckpt.glob("*.tmp")) and not list(ckpt.glob(".*"))


def test_early_stopping_that_may_cut_a_decaying_schedule_is_warned_about(tmp_path):
    from trainlab import api
    from trainlab.engine.optim import early_stop_conflict

    def conflict(*overrides):
        cfg = load_config(None, list(overrides))
        return early_stop_conflict(cfg.train, cfg.sched)

    assert "set train.early_stop.patience to 10 or more" in conflict(
        "sched.name=cosine", "train.epochs=20", "train.early_stop.patience=6")
    assert conflict("sched.name=onecycle", "train.epochs=9", "train.early_stop.patience=4") is not None
    assert conflict("sched.name=cosine", "train.epochs=20", "train.early_stop.patience=10") is None
    assert conflict("sched.name=cosine", "train.epochs=20") is None  # early stopping off
    assert conflict("sched.name=step", "train.epochs=20", "train.early_stop.patience=2") is None
    cfg = load_config(None, ["model.name=mlp", "model.hidden=[16]", "train.epochs=3", "sched.name=cosine",
                             "train.early_stop.patience=1", "diagnose.enabled=false"])
    result = api.run(cfg, name="warned", out=tmp_path)
    assert "early stopping (patience 1) may end this run" in (result.run_dir / "train.log").read_text()
