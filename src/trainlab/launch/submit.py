"""Run a job directory's train.sh: here with bash, or through submitit's AutoExecutor (Slurm where `sbatch`
exists, its local executor elsewhere: the same pickled call of train.sh either way)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Any

from trainlab.launch.scripts import Job
from trainlab.runs import read_json, write_json


@dataclass
class Submitted:
    launcher: str  # bash | slurm | local (submitit's executor when there is no Slurm)
    job_id: str | None
    returncode: int | None  # None while a Slurm job is queued or running


def submit(job: Job, launcher: str, wait: bool | None = None) -> Submitted:
    """Start the job. bash: runs train.sh in the foreground. slurm: submitit submits it (on a cluster it returns
    once queued unless `wait`; with the local executor it waits by default)."""
    if launcher == "bash":
        return _record(job, Submitted("bash", None, subprocess.run(["bash", str(job.train_sh)]).returncode))
    import submitit

    executor = submitit.AutoExecutor(folder=job.dir / "submitit")
    params: dict[str, Any] = {"name": job.name, "timeout_min": job.slurm.minutes(), "cpus_per_task": job.slurm.cpus}
    if job.slurm.gpus:
        params["gpus_per_node"] = job.slurm.gpus
    if job.slurm.mem_gb:
        params["mem_gb"] = job.slurm.mem_gb
    if job.slurm.partition:
        params["slurm_partition"] = job.slurm.partition
    executor.update_parameters(**params)
    handle = executor.submit(submitit.helpers.CommandFunction(["bash", str(job.train_sh)], verbose=False))
    kind = executor.cluster
    if wait if wait is not None else kind != "slurm":
        try:
            handle.result()
            code = 0
        except submitit.core.utils.FailedJobError:
            code = 1
        return _record(job, Submitted(kind, str(handle.job_id), code))
    return _record(job, Submitted(kind, str(handle.job_id), None))


def _record(job: Job, sub: Submitted) -> Submitted:
    info = read_json(job.info)
    info.setdefault("submissions", []).append({"launcher": sub.launcher, "job_id": sub.job_id,
                                               "returncode": sub.returncode})
    write_json(job.info, info)
    return sub
