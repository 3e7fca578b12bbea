"""Scratch models: each has ``params`` and ``loss(X, y=None)``."""

from trainlab.scratch.models.base import Model
from trainlab.scratch.models.convnet import ConvNet
from trainlab.scratch.models.fc import FullyConnectedNet
from trainlab.scratch.models.softmax import SoftmaxClassifier
from trainlab.scratch.models.two_layer import TwoLayerNet

__all__ = ["ConvNet", "FullyConnectedNet", "Model", "SoftmaxClassifier", "TwoLayerNet"]
