"""Text from a character language model: a prompt continued one sampled character at a time."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.data.vocab import EOS, CharVocab
from trainlab.errors import UserError

RESERVED = EOS + 1  # ids 0..EOS are the special tokens


@torch.no_grad()
def continue_text(model: nn.Module, vocab: CharVocab, prompt: str, length: int, temperature: float,
                  gen: torch.Generator) -> str:
    """`length` characters after `prompt`, each drawn from softmax(logits / temperature); 0 = always the argmax."""
    if not prompt:
        raise UserError("the prompt is empty", 'pass --prompt "some text"')
    device = next(model.parameters()).device
    logits, state = model(torch.tensor([vocab.encode(prompt)], device=device))
    out: list[int] = []
    for _ in range(length):
        last = logits[:, -1].float()
        last[:, :RESERVED] = float("-inf")  # PAD, UNK, BOS, EOS are not characters of the text
        if temperature > 0:
            nxt = torch.multinomial(torch.softmax(last / temperature, dim=-1), 1, generator=gen)
        else:
            nxt = last.argmax(-1, keepdim=True)
        out.append(int(nxt))
        logits, state = model(nxt, state)
    return vocab.decode(out)
