"""Launchers: an experiment (job) directory with the resolved config, `train.sh` and an `sbatch.sh`, run here
with bash or submitted through submitit (Slurm on a cluster, its local executor elsewhere). No torch."""

from trainlab.launch.scripts import Job, Slurm, write_job
from trainlab.launch.submit import submit

__all__ = ["Job", "Slurm", "submit", "write_job"]
