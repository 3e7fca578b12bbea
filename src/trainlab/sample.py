"""`trainlab sample`: continue a prompt with a char_lm run, or answer a question with a seq2seq run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from trainlab.config import Config
from trainlab.data.math.vocab import CharVocab
from trainlab.errors import UserError
from trainlab.models.seq import decode
from trainlab.models.seq.tokens import EOS

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


@torch.no_grad()
def answer(model: nn.Module, vocab: CharVocab, question: str, cfg: Config, beam: int | None = None) -> str:
    """The model's answer to one question (greedy or beam search, as the run's decode settings)."""
    ids = torch.tensor([vocab.encode(question)], dtype=torch.long)
    if not ids.numel():
        raise UserError("the question is empty", 'pass --prompt "What is 3 + 4?"')
    device = next(model.parameters()).device
    dec = cfg.decode
    out = decode(model, ids.to(device), torch.tensor([ids.shape[1]], device=device), dec.max_len,
                 beam or dec.beam, dec.length_penalty)
    return vocab.decode(out.tokens[0].tolist())


def sample(run_dir: Path | str, prompt: str, length: int = 200, temperature: float = 1.0, checkpoint: str = "best",
           seed: int | None = None, beam: int | None = None) -> str:
    """`prompt` and its continuation (char_lm runs), or the answer to `prompt` (seq2seq runs)."""
    from trainlab.engine.seq_tasks import load_run

    cfg, model, vocab = load_run(run_dir, checkpoint)
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)
    samplers: dict[str, Callable[[], str]] = {
        "char_lm": lambda: prompt + continue_text(model, vocab, prompt, length, temperature, gen),
        "seq2seq": lambda: answer(model, vocab, prompt, cfg, beam),
    }
    return samplers[cfg.task]()
