"""A sweep's plots, drawn by Optuna's matplotlib visualisation and saved in our figure style: the objective
against the trial (history.png), parameter importances (importances.png, ≥ 2 parameters) and parallel
coordinates (parallel.png). Optuna draws on pyplot figures with its own style sheet: both stay inside
`_drawn` (the style reverted, the figure closed), so no global pyplot state outlives a call."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import matplotlib
import optuna
from optuna.trial import TrialState

from trainlab.report.figures import save

#: completed trials needed before the importances mean something
MIN_TRIALS_FOR_IMPORTANCE = 4


def plot_study(study: optuna.Study, params: list[str], metric: str, out: Path) -> list[Path]:
    """The plots the study's trials allow (none before a trial completes); returns the files written."""
    from optuna.visualization import matplotlib as ovm

    done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    plots: dict[str, Callable[[], Any]] = {}
    if done >= 1:
        plots["history"] = lambda: ovm.plot_optimization_history(study, target_name=metric)
    if done >= 3:  # with fewer, Optuna's lines lie on the axis limits
        plots["parallel"] = lambda: ovm.plot_parallel_coordinate(study, params=params, target_name=metric)
    if len(params) >= 2 and done >= MIN_TRIALS_FOR_IMPORTANCE:
        plots["importances"] = lambda: ovm.plot_param_importances(study, params=params, target_name=metric)
    written = []
    for name, draw in plots.items():
        path = out / f"{name}.png"
        with _drawn(draw) as ax:  # our style over Optuna's ggplot sheet: white panel, light grid, one title
            title = ax.get_title() or ax.get_title(loc="left")
            ax.set_title("", loc="left")
            ax.set_title(f"{study.study_name}: {title.lower()}", fontsize=10)
            ax.set_facecolor("white")
            ax.grid(alpha=0.3, color="0.6")
            save(ax.figure, path)
        written.append(path)
    return written


@contextlib.contextmanager
def _drawn(draw: Callable[[], Any]) -> Iterator[Any]:
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = draw()
        try:
            yield ax
        finally:
            plt.close(ax.figure)
