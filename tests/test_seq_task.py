"""Sequence tasks: config, metrics, teacher forcing, and end-to-end runs through the CLI."""

from __future__ import annotations

import itertools
import json
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from clitools import main_in_process

from trainlab.config import load_config
from trainlab.data.math.reader import Example
from trainlab.engine.device import epoch_generator
from trainlab.errors import ConfigError, UserError
from trainlab.tasks.chars import token_stats
from trainlab.tasks.seq2seq import Seq2SeqTask, teacher_forcing_ratio
from trainlab.tasks.seq2seq.report import Scored, overlap_table, seen_in_training

TINY = ["model.hidden_size=16", "model.embedding_size=8", "train.batch_size=16", "train.threads=1",
        "train.quiet=true"]


def write_math_dir(root: Path, n: int = 60) -> Path:
    """Official layout with two hand-made modules, an interpolate and an extrapolate file."""
    rng = random.Random(0)

    def add(count: int, hi: int) -> str:
        pairs = [(rng.randint(0, hi), rng.randint(0, hi)) for _ in range(count)]
        return "".join(f"What is {a} + {b}?\n{a + b}\n" for a, b in pairs)

    def parity(count: int) -> str:
        return "".join(f"Is {k} even?\n{'True' if k % 2 == 0 else 'False'}\n"
                       for k in (rng.randint(0, 99) for _ in range(count)))

    for sub, files in {"train-easy": {"numbers__fake_add": add(n, 9), "numbers__fake_parity": parity(n)},
                       "interpolate": {"numbers__fake_add": add(10, 9)},
                       "extrapolate": {"numbers__fake_add_big": add(10, 99)}}.items():
        (root / sub).mkdir(parents=True)
        for name, text in files.items():
            (root / sub / f"{name}.txt").write_text(text)
    return root


def test_sequence_models_imply_their_task() -> None:
    assert load_config(None, ["model.name=transformer", "data.name=math"]).task.name == "seq2seq"
    assert load_config(None, ["model.name=char_lm", "data.name=text"]).task.name == "char_lm"
    assert load_config(None, []).task.name == "classification"
    with pytest.raises(ConfigError, match="rnn_impl=native"):
        load_config(None, ["model.name=seq2seq", "model.cell=jordan"])


def test_task_rejects_a_foreign_model_or_dataset(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.name=math"):
        Seq2SeqTask(load_config(None, ["model.name=seq2seq"]), torch.device("cpu"))
    with pytest.raises(ConfigError, match=r"model\.name=seq2seq"):
        Seq2SeqTask(load_config(None, ["task=seq2seq", "data.name=math"]), torch.device("cpu"))


def test_token_stats_match_torch_cross_entropy() -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 7)
    target = torch.tensor([[4, 5, 3, 0, 0], [6, 3, 0, 0, 0], [4, 4, 4, 4, 3]])
    for smoothing in (0.0, 0.1):
        loss, stats = token_stats(logits, target, smoothing)
        expected = F.cross_entropy(logits.transpose(1, 2), target, ignore_index=0, label_smoothing=smoothing)
        torch.testing.assert_close(loss, expected)
    nll = F.cross_entropy(logits.transpose(1, 2), target, ignore_index=0, reduction="sum")
    torch.testing.assert_close(stats["loss"], nll)
    assert stats["tokens"] == 10


def test_teacher_forcing_schedules() -> None:
    tf = load_config(None, ["task=seq2seq", "task.teacher_forcing.schedule=linear",
                            "task.teacher_forcing.min_ratio=0.2"]).task.teacher_forcing
    assert [round(teacher_forcing_ratio(tf, 5, e), 3) for e in range(1, 6)] == [1.0, 0.8, 0.6, 0.4, 0.2]
    tf.schedule = "inverse_sigmoid"
    ratios = [teacher_forcing_ratio(tf, 5, e) for e in range(1, 6)]
    assert all(1 > a > b > 0 for a, b in itertools.pairwise(ratios))


def test_the_epoch_sets_the_teacher_forcing_ratio_and_the_batch_order(tmp_path: Path) -> None:
    cfg = load_config(None, ["model.name=seq2seq", "data.name=math", f"data.root={write_math_dir(tmp_path)}",
                             "train.epochs=4", "train.seed=7", "train.batch_size=16",
                             "task.teacher_forcing.schedule=linear", "task.teacher_forcing.min_ratio=0.4"])
    task = Seq2SeqTask(cfg, torch.device("cpu"))

    def batches(epoch: int) -> list[Any]:
        return list(task.train_batches(epoch_generator(7, epoch, torch.device("cpu")), epoch))

    def order(epoch: int) -> list[list[int]]:
        return [b.src[:, 0].tolist() + b.src_len.tolist() for b in batches(epoch)]

    first = order(1)
    assert [b.teacher_forcing for b in batches(1)] == pytest.approx([1.0] * len(first))
    assert order(1) == first and order(3) != first
    assert [b.teacher_forcing for b in batches(3)] == pytest.approx([0.6] * len(first))  # 1.0 -> 0.4 over 1..4
    assert sorted(task.splits) == ["extrapolate", "interpolate", "test", "train", "val"]
    assert len(task.splits["train"]) == 96  # 80% of 2 x 60


def test_oversampled_modules_are_seen_more_often_per_epoch(tmp_path: Path) -> None:
    args = ["model.name=seq2seq", "data.name=math", f"data.root={write_math_dir(tmp_path)}", "train.batch_size=16"]
    task = Seq2SeqTask(load_config(None, [*args, "task.math.oversample.numbers__fake_parity=3"]), torch.device("cpu"))
    expected = Counter()
    for e in task.splits["train"].examples:
        expected[e.question] += 3 if e.module == "numbers__fake_parity" else 1
    batches = task.train_batches(epoch_generator(0, 1, torch.device("cpu")), 1)
    seen = Counter(task.vocab.decode(row[:n].tolist()) for src, lens, *_ in batches
                   for row, n in zip(src, lens, strict=True))
    assert seen == expected and task.num_train_batches() == -(-expected.total() // 16)
    with pytest.raises(ConfigError, match=r"numbers__nope.*numbers__fake_add, numbers__fake_parity"):
        Seq2SeqTask(load_config(None, [*args, "task.math.oversample.numbers__nope=2"]), torch.device("cpu"))
    with pytest.raises(ConfigError, match="at least 1"):
        load_config(None, [*args, "task.math.oversample.numbers__fake_add=0"])


def test_questions_seen_in_training_are_matched_by_their_numbers_within_a_module() -> None:
    train = [Example("m", "What is 2 + 3?", "5"), Example("m2", "Is 7 even?", "False")]
    test = [Example("m", "Sum 2 and 3.", "5"), Example("m", "What is 3 + 2?", "5"), Example("m", "Is 7 even?", "False"),
            Example("m2", "Is 7 even?", "False"), Example("m2", "Is 70 even?", "True")]
    assert seen_in_training(test, train).tolist() == [True, False, False, True, False]
    scored = Scored("test", test, ["5", "4", "False", "True", "True"])
    assert scored.overlap(train) == {"m": (1 / 3, 1.0, 0.5), "m2": (0.5, 0.0, 1.0)}
    only_unseen = Scored("test", test[1:2], ["5"]).overlap(train)
    assert overlap_table(only_unseen) == [["m", "0.00", "-", "100.00"]]
    assert overlap_table(only_unseen, percent=False) == [["m", "0.0000", "-", "1.0000"]]


def assert_one_line_error(r: subprocess.CompletedProcess[str] | tuple[int, str], needle: str) -> None:
    code, err = (r.returncode, r.stderr) if isinstance(r, subprocess.CompletedProcess) else r
    assert code == 2, err
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
def test_seq2seq_on_handwritten_files_writes_its_report(tmp_path: Path) -> None:
    from trainlab import api
    from trainlab.evaluation import evaluate

    root = write_math_dir(tmp_path / "math")
    cfg = load_config(None, ["model.name=seq2seq", "data.name=math", f"data.root={root}", "train.epochs=1",
                             "model.attention=additive", "model.cell=lstm", "model.rnn_impl=native",
                             "task.decode.samples=2", "diagnose.enabled=false", *TINY])
    result = api.run(cfg, name="s2s", out=tmp_path / "runs")
    run, summary = result.run_dir, result.summary
    for name in ("vocab.json", "module_acc.md", "module_acc.csv", "samples.md", "plots/module_acc.png",
                 "checkpoints/best.pt", "metrics.csv"):
        assert (run / name).is_file(), name
    assert summary["status"] == "completed"
    assert summary["test_decoded_acc"] == pytest.approx(summary["test_acc"])  # greedy = teacher-forced argmax
    assert set(summary["module_acc"]["test"]) == {"numbers__fake_add", "numbers__fake_parity"}
    assert set(summary["module_acc"]["extrapolate"]) == {"numbers__fake_add_big"}
    assert list(summary["splits"]) == ["train", "val", "test", "interpolate", "extrapolate"]
    assert summary["splits"]["test"]["loss"] == pytest.approx(summary["test_loss"], rel=1e-5)
    assert summary["splits"]["train"]["examples"] == 96 and not summary["splits"]["train"]["decoded"]
    assert "## numbers__fake_parity" in (run / "samples.md").read_text()
    table = (run / "module_acc.md").read_text()
    assert "| **all** |" in table and "| interpolate | 10 |" in table
    assert (run / "module_acc.csv").read_text().splitlines()[0].startswith("module,test n,test acc %")
    assert "## Questions seen in training (test split)" in table
    seen = summary["seen_in_training"]
    assert set(seen) == set(summary["module_acc"]["test"]) and 0 < seen["numbers__fake_add"]["seen"] < 1

    report = evaluate([run], split="interpolate", beam=2, device="cpu")
    assert "beam 2" in report.lines[0]
    assert [row[0] for row in report.tables[0].rows] == ["fake_add"]

    # ensembles: members score as they do alone; a run averaged with itself is the run
    # (a member trained with oversampling shares the splits: it is accepted)
    oversampled = cfg.task.model_copy(update={"math": cfg.task.math.model_copy(
        update={"oversample": {"numbers__fake_parity": 2}})})
    other = api.run(cfg.model_copy(update={"train": cfg.train.model_copy(update={"seed": 1}), "task": oversampled}),
                    name="s2s-seed1", out=tmp_path / "runs").run_dir
    single = [evaluate([r], device="cpu") for r in (run, other)]
    alone = [report.lines[0].split("exact-match ")[1][:6] for report in single]
    pair = evaluate([run, other], device="cpu")
    assert pair.lines[0].startswith("ensemble of 2 [test, best, greedy]")
    assert pair.lines[1:3] == [f"member #1 s2s: exact-match {alone[0]}", f"member #2 s2s-seed1: exact-match {alone[1]}"]
    assert pair.lines[3].startswith("ensemble gain over the best member: ")
    assert pair.tables[0].columns == ["module", "examples", "#1", "#2", "ensemble", "seen", "on seen", "on unseen"]
    assert [row[3] for row in single[0].tables[0].rows] == [f"{v['seen']:.4f}" for v in seen.values()]
    assert [row[2:4] for row in pair.tables[0].rows] == [row[2:3] + o[2:3] for row, o in
                                                         zip(single[0].tables[0].rows, single[1].tables[0].rows,
                                                             strict=True)]
    assert evaluate([run, run], device="cpu").lines[3] == "ensemble gain over the best member: +0.0000"
    shutil.copytree(run, tmp_path / "runs" / "resplit")
    config = tmp_path / "runs" / "resplit" / "config.yaml"
    config.write_text(config.read_text().replace("split_seed: 0", "split_seed: 1"))
    with pytest.raises(UserError, match="resplit was trained on other data than s2s"):
        evaluate([run, tmp_path / "runs" / "resplit"], device="cpu")


@pytest.mark.slow
def test_cli_generates_trains_evaluates_and_samples(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`trainlab data math` and `run` as real commands in subprocesses; `eval --beam` and `sample` through the
    same entry point (cli.main) in this process, which saves two start-ups of torch."""
    pytest.importorskip("mathematics_dataset")
    from trainlab.sample import sample

    modules = "numbers__place_value,numbers__is_factor"
    r = cli("data", "math", "--modules", modules, "--per-module", "40", "--interpolate-per-module", "8",
            "--workers", "1", "--out", "math")
    assert r.returncode == 0, r.stderr
    assert "generated 104 examples" in r.stdout  # 2 x 40 train, 2 x 8 interpolate, 8 extrapolate
    r = cli("run", "model.name=seq2seq", "data.name=math", "data.root=math", "train.epochs=1", "task.decode.samples=1",
            "model.cell=gru", "model.rnn_impl=torch", "diagnose.enabled=false", *TINY, "--name", "gen")
    assert r.returncode == 0, r.stderr
    run = tmp_path / "runs" / "gen"
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary["module_acc"]["test"]) == set(modules.split(","))
    assert set(summary["splits"]) == {"train", "val", "test", "interpolate", "extrapolate"}
    assert (run / "plots" / "module_acc.png").stat().st_size > 1000

    monkeypatch.chdir(tmp_path)  # where the subprocesses ran: the run's config says data.root=math
    code, out, err = main_in_process(monkeypatch, capsys, "eval", str(run), "--split", "interpolate", "--beam", "2")
    assert code == 0, err
    assert "[interpolate, best, beam 2]: exact-match" in out
    assert "exact match per module (numbers__…)" in out and "│ is_factor " in out and "│ place_value " in out
    code, out, err = main_in_process(monkeypatch, capsys, "eval", str(run), str(run))
    assert code == 0, err
    assert "ensemble of 2 [test, best, greedy]: exact-match" in out and "member #2 gen: exact-match" in out

    # fine-tuning: a run that starts from gen's best weights (a learning rate too small to move them) scores as
    # gen does; another architecture is refused
    tune = ["run", "model.name=seq2seq", "data.name=math", "data.root=math", "train.epochs=1", "task.decode.samples=1",
            "diagnose.enabled=false", *TINY, f"train.init_from={run}", "optim.lr=1e-12",
            "task.math.oversample.numbers__is_factor=2", "--out", str(tmp_path / "runs")]
    code, _, err = main_in_process(monkeypatch, capsys, *tune, "--name", "tuned")
    assert code == 0, err
    tuned = json.loads((tmp_path / "runs" / "tuned" / "summary.json").read_text())
    assert tuned["test_loss"] == pytest.approx(summary["test_loss"], rel=1e-5)
    assert f"weights from {run} (best, epoch 1)" in (tmp_path / "runs" / "tuned" / "train.log").read_text()
    assert_one_line_error(main_in_process(monkeypatch, capsys, *tune, "model.hidden_size=8", "--name", "t2")[::2],
                          "was saved from another architecture")
    assert not (tmp_path / "runs" / "t2").exists()

    question = "What is the units digit of 1234?"
    code, out, err = main_in_process(monkeypatch, capsys, "sample", str(run), "--prompt", question, "--beam", "2")
    assert code == 0, err
    assert out == sample(run, question, beam=2) + "\n"  # the answer the run's model decodes


@pytest.mark.slow
def test_char_lm_trains_and_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from trainlab import api
    from trainlab.evaluation import evaluate
    from trainlab.sample import sample

    text = tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 80)
    cfg = load_config(None, ["model.name=char_lm", "data.name=text", f"data.path={text}", "task.seq_len=32",
                             "train.epochs=6", "model.cell=gru", "diagnose.enabled=false", "optim.lr=0.02", *TINY])
    result = api.run(cfg, name="lm", out=tmp_path / "runs")
    assert result.status == "completed"
    assert result.summary["test_ppl"] < 5  # a uniform guess over its 28 characters scores 28
    assert "ppl" in evaluate([result.run_dir], device="cpu").lines[0]
    with pytest.raises(UserError, match="not char_lm"):
        evaluate([result.run_dir, result.run_dir], device="cpu")
    assert "## temperature 0.5" in (result.run_dir / "samples.md").read_text()
    out = sample(result.run_dir, "the ", length=20, temperature=0.5, seed=0)
    assert out.startswith("the ") and len(out) == 24
    assert sample(result.run_dir, "the ", length=20, temperature=0.5, seed=0) == out
    args = ["sample", str(result.run_dir), "--prompt", "the ", "--length", "20", "--temperature", "0.5", "--seed", "0"]
    assert main_in_process(monkeypatch, capsys, *args) == (0, out + "\n", "")
    code, _, err = main_in_process(monkeypatch, capsys, "sample", str(result.run_dir), "--prompt", "")
    assert_one_line_error((code, err), "the prompt is empty")


def test_bad_sequence_input_exits_2_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    names = iter(range(100))

    def call(*args: str) -> tuple[int, str]:
        if args[0] == "run":
            args = (*args, "--out", str(tmp_path / "runs"), "--name", f"r{next(names)}")
        code, _, err = main_in_process(monkeypatch, capsys, *args)
        return code, err

    monkeypatch.chdir(tmp_path)  # no ./data/math to fall back on
    monkeypatch.setenv("TRAINLAB_DATA", str(tmp_path / "no-data"))
    assert_one_line_error(call("run", "model.name=seq2seq", "model.cell=jordan"), "rnn_impl=native")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(call("run", "model.name=seq2seq", "data.name=math", f"data.root={empty}"),
                          "no Mathematics files found")
    assert_one_line_error(call("run", "model.name=char_lm", "data.name=text"), "set data.path=FILE")
    assert_one_line_error(call("run", "model.name=char_lm"), "set data.name=text")
    assert_one_line_error(call("run", "model.name=char_lm", "data.name=text", f"data.path={empty / 'no.txt'}"),
                          "not found")
    assert_one_line_error(call("run", "model.name=seq2seq", "data.name=text"), "set data.name=math")
    assert_one_line_error(call("sample", str(tmp_path / "nowhere"), "--prompt", "x"), "nowhere")
    assert_one_line_error(call("run", "model.name=seq2seq", "data.name=math", f"train.init_from={tmp_path}"),
                          "is not a run directory")
