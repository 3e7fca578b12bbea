"""Multi-layer, optionally bidirectional recurrent layers in two implementations with one interface.

    forward(x [B, T, in], lengths [B] | None, state | None) -> (outputs [B, T, dirs*H], state)

`state` is a tuple of [layers*dirs, B, H] tensors — (h,) or (h, c) — laid out as in nn.RNN.
Positions at or past a sequence's length give zero outputs and leave its state untouched,
which is what packed sequences do in PyTorch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from trainlab.errors import ConfigError
from trainlab.models.seq.base import Cell, State
from trainlab.models.seq.cells import CELLS


class NativeRNN(nn.Module):
    """Hand-written cells, our own loop over time steps."""

    def __init__(self, cell: type[Cell], input_size: int, hidden_size: int, layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.layers, self.dirs, self.hidden_size = layers, 2 if bidirectional else 1, hidden_size
        self.cells = nn.ModuleList(
            cell(input_size if i < self.dirs else hidden_size * self.dirs, hidden_size)
            for i in range(layers * self.dirs)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
                state: State | None = None) -> tuple[torch.Tensor, State]:
        batch, steps = x.shape[:2]
        mask = None if lengths is None else (torch.arange(steps, device=x.device) < lengths[:, None].to(x.device))
        finals: list[State] = []
        for layer in range(self.layers):
            if layer:
                x = self.dropout(x)
            outs = []
            for d in range(self.dirs):
                i = layer * self.dirs + d
                cell = self.cells[i]
                s0 = cell.init_state(batch, x) if state is None else tuple(s[i] for s in state)
                out, s = self._run(cell, x, mask, s0, reverse=d == 1)
                outs.append(out)
                finals.append(s)
            x = outs[0] if self.dirs == 1 else torch.cat(outs, dim=-1)
        return x, tuple(torch.stack(parts) for parts in zip(*finals, strict=True))

    @staticmethod
    def _run(cell: Cell, x: torch.Tensor, mask: torch.Tensor | None, state: State,
             reverse: bool) -> tuple[torch.Tensor, State]:
        px = cell.project(x)
        steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
        outs = []
        for t in steps:
            new = cell.step(px[:, t], state)
            if mask is None:
                state = new
                outs.append(new[0])
            else:
                m = mask[:, t, None]
                state = tuple(torch.where(m, n, s) for n, s in zip(new, state, strict=True))
                outs.append(new[0] * m)
        if reverse:
            outs.reverse()
        return torch.stack(outs, dim=1), state


class TorchRNN(nn.Module):
    """PyTorch's fused nn.RNN/GRU/LSTM; padded batches go through packed sequences or length groups.

    `packing`: "pack" = pack_padded_sequence (what cuDNN runs natively); "group" = one fused call per
    distinct length on the rows of that length, reassembled in order (same result, no padding);
    "auto" = pack on an accelerator, group on the CPU when a batch has at most `max_groups` lengths.
    On the CPU the backward pass of a packed sequence re-allocates the full input gradient at every
    time step (quadratic in the length); length-bucketed batches have one to three lengths, so
    grouping runs at the speed of an unpadded call.
    """

    max_groups = 4

    def __init__(self, layer: type[nn.RNNBase], input_size: int, hidden_size: int, layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, packing: str = "auto") -> None:
        super().__init__()
        if packing not in ("auto", "pack", "group"):
            raise ValueError(f"packing must be auto, pack or group, not {packing!r}")
        self.packing = packing
        self.rnn = layer(input_size, hidden_size, layers, batch_first=True, bidirectional=bidirectional,
                         dropout=dropout if layers > 1 else 0.0)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
                state: State | None = None) -> tuple[torch.Tensor, State]:
        if lengths is not None:
            lengths = lengths.cpu()
            if bool((lengths == x.shape[1]).all()):
                lengths = None
        if lengths is None:
            out, s = self.rnn(x, self._h0(state))
            return out, s if isinstance(s, tuple) else (s,)
        distinct = lengths.unique()
        group = self.packing == "group" or (
            self.packing == "auto" and x.device.type == "cpu" and len(distinct) <= self.max_groups)
        return self._grouped(x, lengths, distinct, state) if group else self._packed(x, lengths, state)

    def _h0(self, state: State | None) -> torch.Tensor | State | None:
        return None if state is None else (state if isinstance(self.rnn, nn.LSTM) else state[0])

    def _packed(self, x: torch.Tensor, lengths: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, s = self.rnn(packed, self._h0(state))
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, s if isinstance(s, tuple) else (s,)

    def _grouped(self, x: torch.Tensor, lengths: torch.Tensor, distinct: torch.Tensor,
                 state: State | None) -> tuple[torch.Tensor, State]:
        rows, outs, finals = [], [], []
        for length in distinct.tolist():
            index = (lengths == length).nonzero().squeeze(1).to(x.device)
            sub = None if state is None else tuple(s.index_select(1, index) for s in state)
            out, s = self.rnn(x.index_select(0, index)[:, :length], self._h0(sub))
            rows.append(index)
            outs.append(nn.functional.pad(out, (0, 0, 0, x.shape[1] - length)))
            finals.append(s if isinstance(s, tuple) else (s,))
        back = torch.cat(rows).argsort()  # position of each original row in the concatenation
        out = torch.cat(outs).index_select(0, back)
        return out, tuple(torch.cat(parts, dim=1).index_select(1, back) for parts in zip(*finals, strict=True))


def build_rnn(cell: str, impl: str, input_size: int, hidden_size: int, layers: int = 1,
              bidirectional: bool = False, dropout: float = 0.0) -> nn.Module:
    """The recurrent stack for `model.cell` and `model.rnn_impl`."""
    native, fused = CELLS.get(cell)
    if impl == "native":
        return NativeRNN(native, input_size, hidden_size, layers, bidirectional, dropout)
    if fused is None:
        raise ConfigError(f"cell {cell!r} has no fused PyTorch version", "use model.rnn_impl=native")
    return TorchRNN(fused, input_size, hidden_size, layers, bidirectional, dropout)
