"""Studies: one config over several seeds, and named comparisons of variants."""

from trainlab.studies import mva, transfer, vgg_depth  # noqa: F401  (register the studies)
from trainlab.studies.runner import StudyResult, run_study
from trainlab.studies.seeds import SeedsResult, run_seeds
from trainlab.studies.study import STUDIES, Study

__all__ = ["STUDIES", "SeedsResult", "Study", "StudyResult", "run_seeds", "run_study"]
