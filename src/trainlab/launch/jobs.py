"""The jobs of `trainlab run --launcher …` and `trainlab sweep --launcher …`: what is trained is resolved and
checked here (a bad config or spec is refused before anything is written), then written into the job
directory with the scripts that start and resume it."""

from __future__ import annotations

from pathlib import Path

from trainlab.config import Config, config_to_dict
from trainlab.launch.scripts import Job, Slurm, job_dir, trainlab_command, write_job
from trainlab.runs import write_yaml
from trainlab.sweeps.layout import SweepDir
from trainlab.sweeps.spec import base_config, read_spec


def run_job(cfg: Config, name: str, out: Path, slurm: Slurm, where: Path | None = None) -> Job:
    """A job that trains `cfg` into out/name (`trainlab run`, then `trainlab resume` once it has started)."""
    path = job_dir(where or Path("jobs") / name)
    run = Path(out).resolve() / name
    write_yaml(path / "config.yaml", config_to_dict(cfg))
    job = Job(path, name, trainlab_command("run", path / "config.yaml", "--name", name, "--out", run.parent),
              trainlab_command("resume", run), run / "config.yaml", slurm)
    return write_job(job, f"trainlab run into {run}")


def sweep_job(spec_path: Path, out: Path | None, jobs: int, slurm: Slurm, where: Path | None = None) -> Job:
    """A job that runs the sweep of `spec_path` into `out` (`--resume` once its study exists)."""
    spec = read_spec(spec_path)
    base = base_config(spec, Path(spec_path))
    name = str(spec.name)
    path = job_dir(where or Path("jobs") / name)
    sweep = SweepDir(out or Path("sweeps") / name)
    write_yaml(path / "base.yaml", base)
    raw = spec.model_dump(mode="json", exclude_none=True) | {"base": "base.yaml", "overrides": []}
    write_yaml(path / "spec.yaml", raw)
    parallel = ("--jobs", str(jobs))
    job = Job(path, name, trainlab_command("sweep", path / "spec.yaml", "--out", sweep.path, *parallel),
              trainlab_command("sweep", "--resume", sweep.path, *parallel), sweep.study_db, slurm)
    return write_job(job, f"trainlab sweep into {sweep.path}")
