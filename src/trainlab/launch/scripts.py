"""The job directory a launcher writes (docs/sweeps.md, "Launchers"):

    <job>/config.yaml (a run) or spec.yaml + base.yaml (a sweep)   what is trained, fully resolved
    <job>/train.sh      bash: starts the run or sweep; run again after a stop, it resumes it
    <job>/sbatch.sh     `sbatch sbatch.sh`: the #SBATCH resources, then train.sh
    <job>/job.json      what was written, the command lines, and (after --submit) the submission
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trainlab.errors import UserError
from trainlab.runs import write_json


@dataclass(frozen=True)
class Slurm:
    """The resources asked of Slurm (`--slurm-…` options)."""

    partition: str | None = None
    gpus: int = 0
    time: str = "1:00:00"
    cpus: int = 4
    mem_gb: int | None = None

    def minutes(self) -> int:
        """`time` in minutes (Slurm's formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S)."""
        m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", self.time)
        if not m:
            raise UserError(f"--slurm-time {self.time!r} is not a Slurm time", "write e.g. 90, 2:00:00 or 1-12:00:00")
        days, a, b, c = (int(g) if g else None for g in m.groups())
        if days is not None:  # D-H, D-H:M, D-H:M:S
            return days * 1440 + a * 60 + (b or 0) + ((c or 0) > 0)
        if c is not None:  # H:M:S
            return a * 60 + b + (c > 0)
        return a + ((b or 0) > 0)  # M or M:S

    def sbatch_lines(self, name: str, job_dir: Path) -> list[str]:
        lines = [f"--job-name={name}", f"--output={job_dir}/slurm-%j.out", f"--time={self.time}",
                 f"--cpus-per-task={self.cpus}", "--ntasks=1"]
        if self.partition:
            lines.append(f"--partition={self.partition}")
        if self.gpus:
            lines.append(f"--gpus={self.gpus}")
        if self.mem_gb:
            lines.append(f"--mem={self.mem_gb}G")
        # Two minutes' warning before the time limit: the run stops at its checkpoint (SIGTERM = Ctrl-C) and
        # `sbatch sbatch.sh` again (or --requeue) continues it.
        lines.append("--signal=B:TERM@120")
        return [f"#SBATCH {line}" for line in lines]


@dataclass
class Job:
    """A job directory and what runs in it: `start` the first time, `resume` once `started` exists."""

    dir: Path
    name: str
    start: list[str]
    resume: list[str]
    started: Path
    slurm: Slurm = field(default_factory=Slurm)

    @property
    def train_sh(self) -> Path:
        return self.dir / "train.sh"

    @property
    def sbatch_sh(self) -> Path:
        return self.dir / "sbatch.sh"

    @property
    def info(self) -> Path:
        return self.dir / "job.json"


def trainlab_command(*args: str | Path) -> list[str]:
    """`python -m trainlab ARGS` with this interpreter (the job runs in the environment that wrote it)."""
    return [sys.executable, "-m", "trainlab", *map(str, args)]


def write_job(job: Job, what: str) -> Job:
    """train.sh, sbatch.sh and job.json in `job.dir` (which already holds the config or spec)."""
    q = shlex.quote
    header = f"# trainlab job {job.name}: {what}, written {time.strftime('%Y-%m-%d %H:%M')}"
    train = [
        "#!/usr/bin/env bash", header,
        "# `bash train.sh` starts it; run again after a stop (Ctrl-C, preemption, time limit), it resumes.",
        "set -euo pipefail", f"cd {q(str(Path.cwd()))}",
        'if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then export OMP_NUM_THREADS="$SLURM_CPUS_PER_TASK"; fi',
        f"if [ -e {q(str(job.started))} ]; then",
        f"  exec {shlex.join(job.resume)}",
        "else",
        f"  exec {shlex.join(job.start)}",
        "fi", "",
    ]
    sbatch = ["#!/usr/bin/env bash", *job.slurm.sbatch_lines(job.name, job.dir), header,
              "# submit with `sbatch sbatch.sh`", f"exec bash {q(str(job.train_sh))}", ""]
    job.train_sh.write_text("\n".join(train))
    job.sbatch_sh.write_text("\n".join(sbatch))
    job.train_sh.chmod(0o755)
    job.sbatch_sh.chmod(0o755)
    write_json(job.info, {"name": job.name, "what": what, "start": job.start, "resume": job.resume,
                          "started": str(job.started), "slurm": asdict(job.slurm)})
    return job


def job_dir(path: Path) -> Path:
    """A fresh job directory (an existing one with scripts is refused: it may hold a submitted job)."""
    path = Path(path).resolve()
    if (path / "train.sh").exists():
        raise UserError(f"job directory {path} already exists", "pick another --job-dir or --name")
    path.mkdir(parents=True, exist_ok=True)
    return path
