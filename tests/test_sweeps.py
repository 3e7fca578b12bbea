"""`trainlab sweep`: the spec, the Optuna study in SQLite, results and best.yaml, kill and resume, pruning,
parallel trial processes. Tiny digits runs (300 examples, a 16-unit MLP, 1-2 epochs, no diagnosis)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from clitools import main_in_process

from trainlab.runs import read_json
from trainlab.sweeps import SweepDir, read_spec
from trainlab.sweeps.study import sampler, suggest

TINY = ["data.subset=300", "model.name=mlp", "model.hidden=[16]", "train.epochs=1", "diagnose.enabled=false",
        "train.quiet=true"]


def write_spec(path: Path, **spec: object) -> Path:
    spec.setdefault("overrides", TINY)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def rows(sweep: Path) -> list[dict[str, str]]:
    with (sweep / "results.csv").open() as f:
        return list(csv.DictReader(f))


def test_grid_sweep_writes_results_and_best_yaml_reruns(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "s.yaml", method="grid", space={"optim.lr": {"choices": [0.0003, 0.03]}},
               objective={"metric": "best_val_acc", "direction": "max"})
    code, out, err = main_in_process(monkeypatch, capsys, "sweep", "s.yaml", "--out", "sw")
    assert code == 0, err
    sweep = SweepDir(tmp_path / "sw")
    table = rows(sweep.path)
    assert [r["status"] for r in table] == ["completed", "completed"]
    values = [float(r["best_val_acc"]) for r in table]
    assert values == sorted(values, reverse=True)  # best first
    assert {float(r["optim.lr"]) for r in table} == {0.0003, 0.03}
    for r in table:  # each value is its trial's run's summary
        summary = read_json(sweep.path / r["run"] / "summary.json")
        assert summary["best_val_acc"] == pytest.approx(float(r["best_val_acc"]))
    assert "| trial | status | best_val_acc | optim.lr |" in (sweep.results_md).read_text()
    assert "sweep sw" in out and "best: trial" in out
    info = read_json(sweep.info)
    assert info["best"]["trial"] == int(table[0]["trial"]) and info["counts"]["completed"] == 2
    assert (sweep.plots / "history.png").stat().st_size > 0
    best = yaml.safe_load(sweep.best.read_text())
    assert best["optim"]["lr"] == float(table[0]["optim.lr"]) and best["model"]["hidden"] == [16]
    # best.yaml is a whole config: `trainlab run best.yaml` trains the best trial again, to the same figure
    code, _, err = main_in_process(monkeypatch, capsys, "run", str(sweep.best), "--name", "again", "--out", "r")
    assert code == 0, err
    assert read_json(tmp_path / "r/again/summary.json")["best_val_acc"] == pytest.approx(values[0])
    # the same directory again is refused (it holds a study): resume it instead
    code, _, err = main_in_process(monkeypatch, capsys, "sweep", "s.yaml", "--out", "sw")
    assert code == 2 and "--resume" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("method", ["random", "tpe"])
def test_random_and_tpe_sample_inside_the_space(tmp_path, method) -> None:
    space = {"optim.lr": {"low": 1e-4, "high": 1e-1, "log": True},
             "train.batch_size": {"type": "int", "low": 16, "high": 128, "step": 16},
             "optim.name": {"choices": ["sgd", "adam"]}}
    spec = read_spec(write_spec(tmp_path / "s.yaml", method=method, trials=12, seed=3, space=space))

    def draw() -> list[dict[str, object]]:  # in memory: the sampler and the space are what is tested here
        study = optuna.create_study(sampler=sampler(spec), direction="maximize")
        study.optimize(lambda t: float(suggest(t, spec)["optim.lr"]), n_trials=12)
        return [t.params for t in study.trials]

    drawn = draw()
    for p in drawn:
        assert 1e-4 <= p["optim.lr"] <= 1e-1
        assert p["train.batch_size"] in range(16, 129, 16)
        assert p["optim.name"] in ("sgd", "adam")
    lrs = sorted(p["optim.lr"] for p in drawn)
    assert lrs[0] < 1e-3 and len(set(lrs)) == 12  # log scale: small rates are drawn too
    assert draw() == drawn  # seeded


def test_sweep_killed_mid_way_resumes_without_rerunning(tmp_path, monkeypatch, capsys) -> None:
    write_spec(tmp_path / "s.yaml", method="grid", space={"optim.lr": {"choices": [0.01, 0.02]}},
               overrides=[*TINY, "train.epochs=2"])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "trainlab", "sweep", "s.yaml", "--out", "sw"], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sweep = SweepDir(tmp_path / "sw")
    deadline = time.time() + 240
    while not sweep.trial(1).is_dir() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # trial 1 starts once trial 0 is recorded
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sweep.trial(1).is_dir(), proc.stderr.read().decode() if proc.stderr else ""
    first = read_json(sweep.trial(0) / "summary.json")
    assert first["status"] == "completed"
    stamp = (sweep.trial(0) / "summary.json").stat().st_mtime_ns

    monkeypatch.chdir(tmp_path)
    code, _out, err = main_in_process(monkeypatch, capsys, "sweep", "--resume", "sw")
    assert code == 0, err
    assert (sweep.trial(0) / "summary.json").stat().st_mtime_ns == stamp  # never rerun
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{sweep.study_db}")
    states = {t.number: (t.state.name, t.user_attrs, t.params) for t in study.trials}
    assert states[0][0] == "COMPLETE"
    assert states[1][0] == "FAIL" and states[1][1]["interrupted"] is True
    assert states[2][0] == "COMPLETE" and states[2][1]["retry_of"] == 1 and states[2][2] == states[1][2]
    assert sorted(r["status"] for r in rows(sweep.path)) == ["completed", "completed", "interrupted"]
    assert read_json(sweep.info)["counts"] == {"completed": 2, "pruned": 0, "failed": 0, "interrupted": 1}


def test_pruning_ends_a_bad_trial_with_status_pruned(tmp_path, monkeypatch, capsys) -> None:
    """Two good learning rates finish first (enqueued in that order); the third, 1e-6, learns nothing: at its first
    epoch it is below the median and ends there with status pruned (of 2 epochs, no test pass)."""
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "s.yaml", method="random", trials=3, overrides=[*TINY, "train.epochs=2"],
               space={"optim.lr": {"choices": [0.03, 0.01, 1e-6]}},
               enqueue=[{"optim.lr": 0.03}, {"optim.lr": 0.01}, {"optim.lr": 1e-6}],
               pruning={"pruner": "median", "startup_trials": 2})
    code, _, err = main_in_process(monkeypatch, capsys, "sweep", "s.yaml", "--out", "sw")
    assert code == 0, err
    sweep = SweepDir(tmp_path / "sw")
    summary = read_json(sweep.trial(2) / "summary.json")
    assert summary["status"] == "pruned" and summary["epochs_completed"] == 1 and "test_acc" not in summary
    table = rows(sweep.path)
    assert [r["status"] for r in table] == ["completed", "completed", "pruned"]
    assert table[-1]["best_val_acc"] == ""  # a pruned trial has no objective value
    assert all(read_json(sweep.trial(n) / "summary.json")["epochs_completed"] == 2 for n in (0, 1))


def test_parallel_jobs_run_trials_in_their_own_processes(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "s.yaml", method="grid", space={"optim.lr": {"choices": [0.01, 0.03]}},
               pruning={"pruner": "median", "startup_trials": 5})  # reports each epoch, prunes nothing yet
    code, _, err = main_in_process(monkeypatch, capsys, "sweep", "s.yaml", "--out", "sw", "--jobs", "2")
    assert code == 0, err
    sweep = SweepDir(tmp_path / "sw")
    assert [r["status"] for r in rows(sweep.path)] == ["completed", "completed"]
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{sweep.study_db}")
    for t in study.trials:  # each trial process reported its epoch to the shared study.db
        assert list(t.intermediate_values) == [1]
        assert t.intermediate_values[1] == pytest.approx(t.value, rel=1e-5)
        threads = max(1, len(os.sched_getaffinity(0)) // 2)  # the machine's threads split between the 2 jobs
        assert f"({threads} thread" in (sweep.trial(t.number) / "train.log").read_text()


@pytest.mark.parametrize(("spec", "message"), [
    ({"space": {"optim.lr": {"low": 0.1, "high": 0.01}}, "trials": 2}, "space.optim.lr: low (0.1) must be below"),
    ({"space": {"optim.lrr": {"choices": [0.1]}}, "trials": 2}, "unknown config key 'optim.lrr'"),
    ({"space": {"optim.lr": {"choices": [0.1]}}, "trials": 2, "methd": "grid"}, "methd: Extra inputs"),
    ({"space": {"optim.lr": {"low": 0.01, "high": 0.1}}, "method": "grid"}, "needs `num` or `step`"),
    ({"space": {"optim.lr": {"choices": [0.1, -1.0]}}, "trials": 2}, "optim.lr=-1.0"),
    ({"space": {"optim.lr": {"choices": [0.1]}}}, "no trial budget"),
])
def test_a_bad_spec_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, spec, message) -> None:
    monkeypatch.chdir(tmp_path)
    write_spec(tmp_path / "s.yaml", **spec)
    code, _, err = main_in_process(monkeypatch, capsys, "sweep", "s.yaml", "--out", "sw")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "sw").exists()
    code, _, err = main_in_process(monkeypatch, capsys, "sweep", "--resume", "nowhere")
    assert code == 2 and "not a sweep directory" in err
    code, _, err = main_in_process(monkeypatch, capsys, "sweep", "s.yaml", "--resume", "nowhere")
    assert code == 2 and "both a spec and --resume" in err


@pytest.mark.parametrize(("objective", "reported"), [("best_val_acc", "val_acc"), ("test_rmse", "val_rmse"),
                                                     ("best_val_loss", "val_loss"), ("test_acc", "val_acc")])
def test_pruning_reports_the_objectives_metric_per_epoch(tmp_path, objective, reported) -> None:
    spec = read_spec(write_spec(tmp_path / "s.yaml", trials=2, objective={"metric": objective},
                                space={"optim.lr": {"choices": [0.1]}}, pruning={"pruner": "halving"}))
    assert spec.pruning_metric() == reported


def test_example_spec_is_valid() -> None:
    root = Path(__file__).resolve().parents[1]
    for path in (root / "configs/sweeps").glob("*.yaml"):
        spec = read_spec(path)
        from trainlab.sweeps.spec import base_config

        assert base_config(spec, path) and spec.budget() >= 1
        json.dumps(spec.model_dump())


def test_plots_of_a_study_with_two_parameters(tmp_path) -> None:
    """history, parallel coordinates and importances (2 parameters, 6 finished trials) as PNGs; no pyplot figure
    or style is left behind."""
    import matplotlib
    import matplotlib.pyplot as plt

    from trainlab.sweeps.figures import plot_study

    style = dict(matplotlib.rcParams)
    study = optuna.create_study(study_name="p", sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    study.optimize(lambda t: t.suggest_float("optim.lr", 1e-3, 1.0, log=True) - t.suggest_int("b", 1, 4) / 10,
                   n_trials=6)
    written = plot_study(study, ["optim.lr", "b"], "best_val_acc", tmp_path)
    assert sorted(p.name for p in written) == ["history.png", "importances.png", "parallel.png"]
    assert all(p.stat().st_size > 5000 for p in written)
    assert plt.get_fignums() == [] and dict(matplotlib.rcParams) == style


def test_list_valued_choices_reach_the_trial_config_as_lists(tmp_path) -> None:
    """Optuna's categories are scalars: a list choice travels as its JSON text and comes back as the list."""
    spec = read_spec(write_spec(tmp_path / "s.yaml", method="grid", objective={"metric": "best_val_acc"},
                                space={"model.hidden": {"choices": [[16], [32, 16]]}, "optim.lr": {"choices": [0.01]}}))
    assert spec.grid()["model.hidden"] == ["[16]", "[32, 16]"] and spec.budget() == 2
    study = optuna.create_study(sampler=sampler(spec))
    params = suggest(study.ask(), spec)
    assert params["model.hidden"] in ("[16]", "[32, 16]")
    cfg = spec.trial_config({}, params)
    assert cfg.model.hidden == json.loads(params["model.hidden"]) and cfg.optim.lr == 0.01
    assert spec.trial_config({}, {"model.hidden": "[32, 16]"}).model.hidden == [32, 16]
