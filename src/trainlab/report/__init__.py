"""Reports stage: figures and tables read from run directories."""

from trainlab.report.figures import plot_confusion, plot_curves

__all__ = ["plot_confusion", "plot_curves"]
