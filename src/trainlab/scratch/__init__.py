"""A deep-learning engine written from scratch in NumPy (no torch).

Layers share one contract -- ``forward(x, params...) -> (out, cache)`` and
``backward(dout, cache) -> grads`` -- and compose into models trained by a Solver.
"""

from trainlab.scratch.models import ConvNet, FullyConnectedNet, Model, SoftmaxClassifier, TwoLayerNet
from trainlab.scratch.optim import UPDATE_RULES
from trainlab.scratch.solver import EpochStats, Solver

__all__ = [
    "UPDATE_RULES",
    "ConvNet",
    "EpochStats",
    "FullyConnectedNet",
    "Model",
    "SoftmaxClassifier",
    "Solver",
    "TwoLayerNet",
]
