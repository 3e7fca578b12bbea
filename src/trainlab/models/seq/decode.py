"""Batched decoding for any model with encode/step/select: greedy and beam search.

    encode(src, src_len) -> (memory, state)
    step(tokens [B], state, memory) -> (logits [B, V], state)
    select(state, index) -> state of the batch rows `index`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch

from trainlab.data.vocab import BOS, EOS, PAD


class RowSelectable(Protocol):
    """What a decoder attends to (`Memory`, or one per ensemble member): rows can be picked."""

    def select(self, index: torch.Tensor) -> Any: ...


class Decodable(Protocol):
    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[RowSelectable, Any]: ...
    def step(self, tokens: torch.Tensor, state: Any, memory: Any) -> tuple[torch.Tensor, Any]: ...
    def select(self, state: Any, index: torch.Tensor) -> Any: ...


@dataclass
class Hypotheses:
    """Generated ids [B, L] (EOS included, PAD after it) and their summed log-probabilities [B]."""

    tokens: torch.Tensor
    logprob: torch.Tensor


@torch.no_grad()
def decode(model: Decodable, src: torch.Tensor, src_len: torch.Tensor, max_len: int, beam: int = 1,
           length_penalty: float = 0.0) -> Hypotheses:
    """Greedy for beam=1, else beam search."""
    if beam == 1:
        return greedy(model, src, src_len, max_len)
    return beam_search(model, src, src_len, beam, max_len, length_penalty)


@torch.no_grad()
def greedy(model: Decodable, src: torch.Tensor, src_len: torch.Tensor, max_len: int) -> Hypotheses:
    """Most likely character at each step; a sequence leaves the batch once it emits EOS."""
    memory, state = model.encode(src, src_len)
    batch = len(src)
    out = src.new_full((batch, max_len), PAD)
    logprob = torch.zeros(batch, device=src.device)
    active = torch.arange(batch, device=src.device)
    tokens = src.new_full((batch,), BOS)
    steps = 0
    while active.numel() and steps < max_len:
        logits, state = model.step(tokens, state, memory)
        best, tokens = torch.log_softmax(logits.float(), dim=-1).max(dim=-1)
        out[active, steps] = tokens
        logprob[active] += best
        steps += 1
        running = tokens != EOS
        if not bool(running.all()):
            keep = running.nonzero().squeeze(1)
            active, tokens = active[keep], tokens[keep]
            state, memory = model.select(state, keep), memory.select(keep)
    return Hypotheses(out[:, :steps], logprob)


@torch.no_grad()
def beam_search(model: Decodable, src: torch.Tensor, src_len: torch.Tensor, beam: int, max_len: int,
                length_penalty: float = 0.0) -> Hypotheses:
    """Keep the `beam` best prefixes per sequence; finished ones stay, extended by PAD at no cost.

    The returned hypothesis maximises logprob / length**length_penalty among the final beams
    (the penalty ranks the final beams only; the search itself keeps the highest logprobs).
    """
    batch, k, device = len(src), beam, src.device
    memory, state = model.encode(src, src_len)
    rows = torch.arange(batch, device=device).repeat_interleave(k)
    memory, state = memory.select(rows), model.select(state, rows)
    scores = torch.full((batch, k), float("-inf"), device=device)
    scores[:, 0] = 0.0
    tokens = src.new_full((batch * k,), BOS)
    history = src.new_empty(batch * k, 0)
    finished = torch.zeros(batch * k, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch * k, device=device)
    first_row = torch.arange(batch, device=device)[:, None] * k
    pad_only: torch.Tensor | None = None  # a finished beam's next-token log-probabilities: PAD at no cost
    for _ in range(max_len):
        logits, state = model.step(tokens, state, memory)
        logp = torch.log_softmax(logits.float(), dim=-1)
        vocab = logp.shape[-1]
        if pad_only is None:
            pad_only = torch.full_like(logp[0], float("-inf"))
            pad_only[PAD] = 0.0
        logp = torch.where(finished[:, None], pad_only, logp)
        scores, flat = (scores.view(-1, 1) + logp).view(batch, k * vocab).topk(k, dim=1)
        origin = (first_row + flat // vocab).view(-1)
        tokens = (flat % vocab).view(-1)
        state = model.select(state, origin)
        history = torch.cat([history[origin], tokens[:, None]], dim=1)
        lengths = lengths[origin] + (~finished[origin]).float()
        finished = finished[origin] | (tokens == EOS)
        # Scores only fall, so a finished best beam is final (with a length penalty, wait for all).
        done = finished.view(batch, k)[:, 0] if not length_penalty else finished
        if bool(done.all()):
            break
    ranked = scores / lengths.view(batch, k).clamp(min=1) ** length_penalty if length_penalty else scores
    pick = first_row.squeeze(1) + ranked.argmax(dim=1)
    return Hypotheses(history[pick], scores.view(-1)[pick])
