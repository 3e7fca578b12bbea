"""Training throughput of the seq2seq models: hand-written (native) vs fused (torch) recurrent cells.

    python benchmarks/seq_throughput.py [--data DIR] [--batch 128] [--steps 10] [--threads N]
                                        [--cells elman,jordan,gru,lstm] [--hidden 128] [--device cpu]

One training step = forward, backward and an Adam update on a batch of questions and answers,
sized like the Mathematics numbers__ modules: either real length-bucketed batches from a
generated directory (--data, the official layout; as `trainlab run` makes them) or synthetic
ones of similar lengths (questions 15-62 characters, answers 1-18, sorted into buckets).
The model is the default configs/math_seq2seq.yaml one (bidirectional encoder, multiplicative
attention) at the given width; `torch` is the fused layer as `trainlab run` uses it (on the CPU,
length-bucketed batches run as one call per length), `torch packed` forces pack_padded_sequence.
Reports examples/s and tokens/s (question + answer characters, padding excluded), best of
`--repeats` timings of `--steps` steps. Prints the machine first.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch
from machine import machine

from trainlab.config.seq import Seq2SeqOptions, TransformerOptions
from trainlab.data.vocab import BOS, EOS, PAD
from trainlab.models.seq.seq2seq import Seq2Seq
from trainlab.models.seq.transformer import TransformerSeq2Seq

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def synthetic_batches(n: int, batch: int, vocab: int, seed: int = 0) -> list[Batch]:
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(15, 63, (n * batch,), generator=gen).sort().values.view(n, batch)  # buckets
    out = []
    for i in range(n):
        src_len = lengths[i][torch.randperm(batch, generator=gen)]
        ans_len = torch.randint(1, 19, (batch,), generator=gen)
        src = torch.randint(4, vocab, (batch, int(src_len.max())), generator=gen)
        src = src.masked_fill(torch.arange(src.shape[1]) >= src_len[:, None], PAD)
        tgt = torch.randint(4, vocab, (batch, int(ans_len.max()) + 2), generator=gen)
        pos = torch.arange(tgt.shape[1])
        tgt = tgt.masked_fill(pos > ans_len[:, None] + 1, PAD).masked_fill(pos == ans_len[:, None] + 1, EOS)
        tgt[:, 0] = BOS
        out.append((src, src_len, tgt))
    return out


def real_batches(root: Path, n: int, batch: int) -> tuple[list[Batch], int]:
    from trainlab.data.math import read_math_dir
    from trainlab.data.vocab import CharVocab
    from trainlab.tasks.seq2seq.batching import encode_examples

    train = read_math_dir(root, difficulty="easy")["train"]
    vocab = CharVocab.build([e.question for e in train] + [e.answer for e in train])
    tensors = encode_examples(train, vocab)
    batches = []
    for b in list(tensors.batches(batch, seed=0))[:n]:
        batches.append((b.src, b.src_len, b.tgt))
    return batches, len(vocab)


def time_training(model: torch.nn.Module, batches: list[Batch], repeats: int, device: torch.device) -> float:
    """Best wall time of one pass over `batches` (forward, backward, Adam step)."""
    model.to(device).train()
    batches = [tuple(t.to(device) for t in b) for b in batches]  # type: ignore[misc]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def one_pass() -> None:
        for src, src_len, tgt in batches:
            logits = model(src, src_len, tgt[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), tgt[:, 1:], ignore_index=PAD)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    one_pass()  # warm up
    best = float("inf")
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        one_pass()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a generated Mathematics directory (default: synthetic batches)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10, help="training steps per timing")
    parser.add_argument("--repeats", type=int, default=2, help="timings per model (best is reported)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--cells", default="elman,jordan,gru,lstm")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--no-transformer", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(machine())
    if args.data:
        batches, vocab = real_batches(args.data, args.steps, args.batch)
    else:
        vocab = 40
        batches = synthetic_batches(args.steps, args.batch, vocab)
    examples = sum(len(b[0]) for b in batches)
    tokens = sum(int(b[1].sum()) + int((b[2][:, 1:] != PAD).sum()) for b in batches)
    print(f"{args.steps} steps of batch {args.batch} on {device} ({'real' if args.data else 'synthetic'} data), "
          f"{tokens / examples:.1f} characters per example; hidden {args.hidden}, bidirectional encoder, "
          f"multiplicative attention")
    print(f"{'model':<28}{'params':>10}{'examples/s':>13}{'tokens/s':>12}{'vs torch':>10}")
    for cell in args.cells.split(","):
        fused_rate = None
        variants = [("native", "")] if cell == "jordan" else [("torch", "auto"), ("torch", "pack"), ("native", "")]
        for impl, packing in variants:
            opts = Seq2SeqOptions(cell=cell, rnn_impl=impl, hidden_size=args.hidden, dropout=0.0)
            model = Seq2Seq(opts, vocab)
            if packing:  # the encoder: padded batches packed, or (auto, on the CPU) grouped by length
                model.encoder.rnn.packing = packing
            seconds = time_training(model, batches, args.repeats, device)
            rate = examples / seconds
            ratio = f"{rate / fused_rate:.2f}x" if fused_rate else ""
            fused_rate = fused_rate or rate
            params = sum(p.numel() for p in model.parameters())
            label = f"seq2seq {cell} {impl}" + {"auto": "", "pack": " packed", "": ""}[packing]
            print(f"{label:<28}{params:>10,}{rate:>13,.0f}{tokens / seconds:>12,.0f}{ratio:>10}")
    if not args.no_transformer:
        model = TransformerSeq2Seq(TransformerOptions(dropout=0.0), vocab)
        seconds = time_training(model, batches, args.repeats, device)
        params = sum(p.numel() for p in model.parameters())
        print(f"{'transformer':<28}{params:>10,}{examples / seconds:>13,.0f}{tokens / seconds:>12,.0f}")
    if hasattr(os, "getloadavg"):
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
