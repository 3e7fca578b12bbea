"""train.cuda_graphs on the CPU: the captured step's contract (static buffers in and out, a warm-up, eager steps for
other shapes) runs eagerly here, and training through it must equal training without it, bit for bit. The capture
itself needs CUDA (tests/test_cuda.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_tasks import StopAfter, task_configs

from trainlab import api
from trainlab.config import load_config
from trainlab.engine import Callback
from trainlab.engine.checkpoint import load_checkpoint
from trainlab.engine.graphs import WARMUP, GraphedStep, check_graphs
from trainlab.errors import ConfigError

# a trailing batch of 400·0.9·0.8 = 288 % 64 = 32 examples: the last step of each epoch has another shape
CONV = ["model.name=convnet", "model.filters=[4,8]", "model.hidden=[16]", "model.batch_norm=true",
        "model.dropout=0.2", "data.subset=400", "train.batch_size=64", "train.epochs=3", "diagnose.enabled=false",
        "sched.name=onecycle", "loss.label_smoothing=0.1", "data.augment.flip=true", "data.augment.crop_padding=1",
        "train.quiet=true"]


class Recorded(Callback):
    """Whether the run's steps went through the recorded static buffers."""

    def on_fit_end(self, trainer, status):  # type: ignore[no-untyped-def]
        self.recorded = trainer._step is trainer._graphed and bool(trainer._graphed.inputs)


def graphed_run(args: list[str], out: Path) -> api.RunResult:
    recorded = Recorded()
    result = api.run(load_config(None, [*args, "train.cuda_graphs=true"]), name="graphed", out=out,
                     callbacks=(recorded,))
    assert recorded.recorded
    return result


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "checkpoints" / "last.pt")["model"]


def same_run(a: api.RunResult, b: api.RunResult) -> None:
    wa, wb = final_weights(a.run_dir), final_weights(b.run_dir)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    tests = [k for k in a.summary if k.startswith("test_")]
    assert tests and all(a.summary[k] == b.summary[k] for k in tests)
    rows = [(r.run_dir / "metrics.csv").read_text().splitlines() for r in (a, b)]
    strip = [[",".join(c for i, c in enumerate(line.split(",")) if i != time_col) for line in lines]
             for lines in rows for time_col in [lines[0].split(",").index("epoch_time_s")]]
    assert strip[0] == strip[1]  # every epoch's train and val metrics (the summed statistics)


@pytest.mark.parametrize("extra", [[], ["train.precision=bf16", "train.grad_clip=1.0", "optim.name=sgd",
                                        "optim.momentum=0.9", "train.drop_last=true", "train.ema_decay=0.95"]],
                         ids=["fp32", "bf16-sgd-clip-ema"])
def test_training_through_the_graphed_step_equals_eager_steps(tmp_path: Path, extra: list[str]) -> None:
    eager = api.run(load_config(None, [*CONV, *extra]), name="eager", out=tmp_path)
    graphed = graphed_run([*CONV, *extra], tmp_path)
    assert eager.status == graphed.status == "completed"
    same_run(eager, graphed)


@pytest.mark.parametrize("task", ["binary", "regression", "gaussian_nll", "multitask", "contrastive",
                                  "autoencoder"])
def test_every_array_task_trains_through_the_graphed_step_as_eagerly(tmp_path: Path, task: str) -> None:
    """Every task that says its step is capturable trains alike through the static buffers (binary's per-example
    scores, a list statistic for its ROC-AUC, are copied out of them)."""
    args = task_configs(tmp_path)[task]
    eager = api.run(load_config(None, args), name="eager", out=tmp_path)
    graphed = graphed_run(args, tmp_path)
    assert eager.status == graphed.status == "completed"
    same_run(eager, graphed)


def test_a_resumed_graphed_run_continues_exactly(tmp_path: Path) -> None:
    cfg = load_config(None, [*CONV, "train.cuda_graphs=true"])
    whole = api.run(cfg, name="whole", out=tmp_path)
    cut = api.run(cfg, name="cut", out=tmp_path, callbacks=(StopAfter(1),))
    assert cut.status == "interrupted"
    resumed = api.resume(cut.run_dir)
    wa, wb = final_weights(whole.run_dir), final_weights(resumed.run_dir)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_the_graphed_step_hands_back_the_same_output_tensors_after_its_warm_up() -> None:
    calls: list[int] = []

    def step(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, dict[str, object]]:
        x, = batch
        calls.append(len(x))
        return x.sum(), {"n": torch.tensor(len(x)), "rows": [x[:, 0] * 2]}

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    graphed = GraphedStep(step, optimizer, torch.device("cpu"))
    batches = [torch.full((4, 3), float(i)) for i in range(WARMUP + 3)] + [torch.ones(2, 3)]
    outs = [graphed((b,)) for b in batches]
    assert calls == [4] * (WARMUP + 3) + [2]  # one call per step: recording runs the step once, for its batch
    assert [float(o[0]) for o in outs[:WARMUP]] == [12.0 * i for i in range(WARMUP)]  # eager: each its own
    # then one static tensor, holding the newest replayed step's loss
    assert all(o[0] is outs[WARMUP][0] for o in outs[WARMUP:-1]) and outs[-1][0] is not outs[WARMUP][0]
    assert float(outs[WARMUP][0]) == 12.0 * (WARMUP + 2)
    assert float(outs[-1][0]) == 6.0  # another shape: an eager step of its own
    rows = [o[1]["rows"][0] for o in outs[WARMUP:-1]]  # lists are copied out: each keeps its own step's values
    assert [float(r[0]) for r in rows] == [2.0 * i for i in range(WARMUP, WARMUP + 3)]


@pytest.mark.parametrize(("extra", "needle"), [
    ([], "set diagnose.enabled=false"),
    (["diagnose.enabled=false", "optim.name=rmsprop"], "optim.name=rmsprop has no fused update"),
    (["diagnose.enabled=false", "train.compile=true"], "train.compile=true captures the step too"),
    (["diagnose.enabled=false", "train.precision=fp16"], "use train.precision=bf16"),
])
def test_settings_a_captured_step_cannot_replay_are_refused(extra: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        check_graphs(load_config(None, ["train.cuda_graphs=true", *extra]), True)
    check_graphs(load_config(None, extra), True)  # without cuda_graphs nothing is checked
    with pytest.raises(ConfigError, match="run in one process"):
        check_graphs(load_config(None, ["train.cuda_graphs=true", "diagnose.enabled=false"]), True, ddp=True)


@pytest.mark.parametrize("task", ["seq2seq", "char_lm"])
def test_a_sequence_task_is_not_captured(tmp_path: Path, task: str) -> None:
    """Their batches vary in length and seq2seq draws teacher forcing on the host: refused before a run starts."""
    cfg = load_config(None, [*task_configs(tmp_path)[task], "train.cuda_graphs=true", "diagnose.enabled=false"])
    with pytest.raises(ConfigError, match=f"task {task}'s step decides on the host"):
        api.run(cfg, name="r", out=tmp_path / "runs")
    assert not (tmp_path / "runs" / "r").exists()
