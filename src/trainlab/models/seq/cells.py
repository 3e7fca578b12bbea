"""CELLS: cell name → (hand-written Cell class, fused PyTorch layer class or None)."""

from __future__ import annotations

from torch import nn

from trainlab.models.seq.base import Cell
from trainlab.models.seq.elman import ElmanCell
from trainlab.models.seq.gru import GRUCell
from trainlab.models.seq.jordan import JordanCell
from trainlab.models.seq.lstm import LSTMCell
from trainlab.registry import Registry

CELLS: Registry[tuple[type[Cell], type[nn.RNNBase] | None]] = Registry("cell")
CELLS.register("elman")((ElmanCell, nn.RNN))
CELLS.register("jordan")((JordanCell, None))
CELLS.register("gru")((GRUCell, nn.GRU))
CELLS.register("lstm")((LSTMCell, nn.LSTM))
