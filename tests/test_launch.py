"""Launchers: `trainlab run|sweep --launcher bash|slurm` writes a job directory whose scripts are valid bash;
the bash one trains end to end, and submitit's local executor runs the same train.sh."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from clitools import main_in_process

from trainlab.config import config_to_dict, load_config
from trainlab.errors import UserError
from trainlab.launch import Slurm
from trainlab.runs import read_json

TINY = ["data.subset=200", "model.name=mlp", "model.hidden=[8]", "train.epochs=1", "diagnose.enabled=false",
        "train.quiet=true"]
SLURM = ["--slurm-partition", "gpu", "--slurm-gpus", "2", "--slurm-time", "2:30:00", "--slurm-cpus", "8"]


def bash_n(path: Path) -> None:
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_run_launcher_writes_a_valid_job_directory(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = main_in_process(monkeypatch, capsys, "run", *TINY, "optim.lr=0.02", "--name", "j",
                                     "--launcher", "slurm", *SLURM)
    assert code == 0, err
    job = tmp_path / "jobs/j"
    assert "job directory" in out and not (tmp_path / "runs").exists()  # nothing trained
    assert yaml.safe_load((job / "config.yaml").read_text()) == config_to_dict(load_config(None, [*TINY,
                                                                                                  "optim.lr=0.02"]))
    for script in ("train.sh", "sbatch.sh"):
        bash_n(job / script)
    sbatch = (job / "sbatch.sh").read_text().splitlines()
    directives = [line for line in sbatch if line.startswith("#SBATCH")]
    for want in ("--partition=gpu", "--gpus=2", "--time=2:30:00", "--cpus-per-task=8", "--job-name=j"):
        assert f"#SBATCH {want}" in directives
    assert sbatch.index(directives[-1]) < next(i for i, line in enumerate(sbatch) if line.startswith("exec"))
    train = (job / "train.sh").read_text()
    assert "trainlab resume" in train and f"--out {tmp_path / 'runs'}" in train
    # an existing job directory is refused; so is a bad time or launcher
    for args in (["--launcher", "bash"], ["--launcher", "bash", "--name", "k", "--slurm-time", "2h"],
                 ["--launcher", "pbs", "--name", "k"], ["--submit", "--name", "k"]):
        code, _, err = main_in_process(monkeypatch, capsys, "run", *TINY, "--name", "j", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "jobs/k").exists()


@pytest.mark.parametrize(("text", "minutes"), [("90", 90), ("2:00:00", 120), ("1-12:00:00", 2160), ("1-2", 1560),
                                               ("10:30", 11), ("0:10:01", 11)])
def test_slurm_times_in_minutes(text, minutes) -> None:
    assert Slurm(time=text).minutes() == minutes


def test_bad_slurm_time_is_refused() -> None:
    with pytest.raises(UserError, match="not a Slurm time"):
        Slurm(time="two hours").minutes()


def test_bash_launcher_trains_end_to_end(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code, _out, err = main_in_process(monkeypatch, capsys, "run", *TINY, "--name", "b", "--launcher", "bash",
                                     "--submit")
    assert code == 0, err
    assert read_json(tmp_path / "runs/b/summary.json")["status"] == "completed"
    assert read_json(tmp_path / "jobs/b/job.json")["submissions"] == [{"launcher": "bash", "job_id": None,
                                                                       "returncode": 0}]


def test_submitit_local_executor_runs_the_job(tmp_path, monkeypatch, capsys) -> None:
    """No Slurm here: submitit's AutoExecutor falls back to its local executor, which runs the same train.sh."""
    monkeypatch.chdir(tmp_path)
    code, out, err = main_in_process(monkeypatch, capsys, "run", *TINY, "--name", "s", "--launcher", "slurm",
                                     "--submit", "--slurm-cpus", "1")
    assert code == 0, err
    assert "submitted (local" in out
    assert read_json(tmp_path / "runs/s/summary.json")["status"] == "completed"
    sub = read_json(tmp_path / "jobs/s/job.json")["submissions"][0]
    assert sub["launcher"] == "local" and sub["returncode"] == 0 and sub["job_id"]
    assert list((tmp_path / "jobs/s/submitit").glob("*_result.pkl"))


def test_sweep_launcher_writes_a_self_contained_job(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg/base.yaml").write_text("optim:\n  lr: 0.01\n")
    (tmp_path / "cfg/s.yaml").write_text(yaml.safe_dump({"base": "base.yaml", "overrides": TINY, "method": "grid",
                                                         "space": {"optim.lr": {"choices": [0.01, 0.1]}}}))
    code, _, err = main_in_process(monkeypatch, capsys, "sweep", "cfg/s.yaml", "--jobs", "2", "--launcher",
                                   "slurm", *SLURM)
    assert code == 0, err
    job = tmp_path / "jobs/s"
    for script in ("train.sh", "sbatch.sh"):
        bash_n(job / script)
    spec = yaml.safe_load((job / "spec.yaml").read_text())
    assert spec["base"] == "base.yaml" and spec["overrides"] == []
    assert yaml.safe_load((job / "base.yaml").read_text())["model"]["hidden"] == [8]
    train = (job / "train.sh").read_text()
    assert f"sweep --resume {tmp_path / 'sweeps/s'} --jobs 2" in train and "study.db" in train
