"""Sequence models: hand-written vs fused cells, padding, decoding (greedy, beam)."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from trainlab.config.seq import CharLMOptions, Seq2SeqOptions, TransformerOptions
from trainlab.errors import ConfigError, UserError
from trainlab.models.seq import BOS, EOS, PAD, beam_search, greedy
from trainlab.models.seq.attention import Memory
from trainlab.models.seq.char_lm import CharLM
from trainlab.models.seq.ensemble import SeqEnsemble as Ensemble
from trainlab.models.seq.rnn import NativeRNN, TorchRNN, build_rnn
from trainlab.models.seq.seq2seq import Seq2Seq
from trainlab.models.seq.transformer import TransformerSeq2Seq

V = 9  # 4 special ids + 5 characters


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: threads only add synchronisation cost (and shared CPUs make it worse)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def copy_torch_weights(native: NativeRNN, fused: TorchRNN) -> None:
    """Give the native stack the fused layer's weights (weight_ih_l{k}[_reverse] → cells[k*dirs+d])."""
    with torch.no_grad():
        for i, cell in enumerate(native.cells):
            suffix = f"l{i // native.dirs}" + ("_reverse" if i % native.dirs else "")
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(fused.rnn, f"{name}_{suffix}"))


@pytest.mark.parametrize("cell", ["elman", "gru", "lstm"])
@pytest.mark.parametrize("padding", ["pack", "group", "none"])
def test_native_cell_matches_torch(cell: str, padding: str) -> None:
    """Same weights, same outputs, final states and gradients; padded batches packed or grouped by length."""
    torch.manual_seed(0)
    fused = build_rnn(cell, "torch", 5, 7, layers=2, bidirectional=True)
    native = build_rnn(cell, "native", 5, 7, layers=2, bidirectional=True)
    copy_torch_weights(native, fused)
    x = torch.randn(4, 6, 5)
    lengths = None if padding == "none" else torch.tensor([6, 3, 1, 3])
    if padding != "none":
        fused.packing = padding
    outs, grads = [], []
    for rnn in (fused, native):
        xi = x.clone().requires_grad_()
        out, state = rnn(xi, lengths)
        (out.square().sum() + sum(s.sum() for s in state)).backward()
        outs.append((out, state))
        grads.append([xi.grad])
    (out_f, state_f), (out_n, state_n) = outs
    torch.testing.assert_close(out_n, out_f, atol=1e-5, rtol=1e-5)
    for s_n, s_f in zip(state_n, state_f, strict=True):
        torch.testing.assert_close(s_n, s_f, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grads[1][0], grads[0][0], atol=1e-5, rtol=1e-5)
    native_grads = {name: p.grad for name, p in native.named_parameters()}
    for i in range(len(native.cells)):
        suffix = f"l{i // native.dirs}" + ("_reverse" if i % native.dirs else "")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            torch.testing.assert_close(native_grads[f"cells.{i}.{name}"],
                                       getattr(fused.rnn, f"{name}_{suffix}").grad, atol=1e-5, rtol=1e-5)


def test_torch_rnn_groups_bucketed_cpu_batches_and_packs_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    rnn = build_rnn("gru", "torch", 3, 4)
    calls: list[str] = []
    monkeypatch.setattr(rnn, "_packed", lambda *a: calls.append("pack") or (None, ()))
    monkeypatch.setattr(rnn, "_grouped", lambda *a: calls.append("group") or (None, ()))
    x = torch.randn(6, 8, 3)
    rnn(x, torch.tensor([8, 7, 7, 8, 6, 8]))  # three lengths: bucketed
    rnn(x, torch.tensor([8, 7, 6, 5, 4, 3]))  # six lengths
    assert calls == ["group", "pack"]
    out, _ = build_rnn("gru", "torch", 3, 4)(x, torch.full((6,), 8))  # no padding: one plain call
    assert out.shape == (6, 8, 4)


def test_jordan_is_native_only() -> None:
    with pytest.raises(ValueError, match="rnn_impl=native"):
        Seq2SeqOptions(cell="jordan", rnn_impl="torch")
    with pytest.raises(ConfigError):
        build_rnn("jordan", "torch", 3, 4)


@pytest.mark.parametrize("cell", ["elman", "jordan", "gru", "lstm"])
def test_native_padding_is_ignored(cell: str) -> None:
    """A padded sequence gives the outputs and final state it gives alone."""
    torch.manual_seed(1)
    rnn = build_rnn(cell, "native", 3, 4, layers=2, bidirectional=True)
    x = torch.randn(2, 5, 3)
    out, state = rnn(x, torch.tensor([5, 2]))
    alone, alone_state = rnn(x[1:, :2])
    torch.testing.assert_close(out[1, :2], alone[0])
    assert out[1, 2:].abs().max() == 0
    for s, a in zip(state, alone_state, strict=True):
        torch.testing.assert_close(s[:, 1], a[:, 0])


def tiny_models() -> list[nn.Module]:
    torch.manual_seed(0)
    rnn = {"hidden_size": 8, "embedding_size": 6, "dropout": 0.0}
    return [
        Seq2Seq(Seq2SeqOptions(cell="gru", attention="multiplicative", **rnn), V),
        Seq2Seq(Seq2SeqOptions(cell="lstm", rnn_impl="native", attention="additive", layers=2, **rnn), V),
        Seq2Seq(Seq2SeqOptions(cell="jordan", rnn_impl="native", attention="none", bidirectional=False,
                               shared_embeddings=False, **rnn), V),
        TransformerSeq2Seq(TransformerOptions(d_model=8, heads=2, encoder_layers=1, decoder_layers=1, ff_size=16,
                                              dropout=0.0), V),
    ]


def decodable_models() -> list[nn.Module]:
    """The tiny models and an ensemble of all four."""
    return [*tiny_models(), Ensemble(tiny_models())]


def generated(tokens: torch.Tensor) -> torch.Tensor:
    """Positions up to and including each row's first EOS."""
    eos = (tokens == EOS).long()
    return (eos.cumsum(1) - eos) == 0


def source_batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    src = torch.randint(4, V, (5, 7), generator=gen)
    lengths = torch.tensor([7, 4, 1, 6, 3])
    return src.masked_fill(torch.arange(7) >= lengths[:, None], PAD), lengths


@pytest.mark.parametrize("model", tiny_models(), ids=lambda m: type(m).__name__)
def test_source_padding_is_ignored(model: nn.Module) -> None:
    model.eval()
    src, lengths = source_batch()
    tgt = torch.randint(4, V, (5, 4))
    batch = model(src, lengths, tgt)
    alone = model(src[1:2, :4], lengths[1:2], tgt[1:2])
    torch.testing.assert_close(batch[1], alone[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("model", decodable_models(), ids=lambda m: type(m).__name__)
def test_greedy_agrees_with_teacher_forced_forward(model: nn.Module) -> None:
    """Stepwise decoding and the whole-sequence forward pass score the same tokens the same way."""
    model.eval()
    src, lengths = source_batch()
    hyp = greedy(model, src, lengths, max_len=6)
    tgt_in = torch.cat([torch.full((5, 1), BOS), hyp.tokens[:, :-1]], dim=1)
    logp = torch.log_softmax(model(src, lengths, tgt_in), dim=-1)
    mask = generated(hyp.tokens)
    assert torch.equal(logp.argmax(-1)[mask], hyp.tokens[mask])
    scored = logp.gather(2, hyp.tokens[..., None]).squeeze(-1).masked_fill(~mask, 0).sum(1)
    torch.testing.assert_close(hyp.logprob, scored, atol=1e-5, rtol=1e-5)


class Scripted(nn.Module):
    """A "model" that emits a fixed token sequence per source row (row i: i+1 characters, then EOS)."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[Memory, torch.Tensor]:
        rows = torch.arange(len(src))
        return Memory(src.float()[..., None], src_len[:, None] > 0), torch.stack([rows, torch.zeros_like(rows)], 1)

    def step(self, tokens: torch.Tensor, state: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        self.batch_sizes.append(len(tokens))
        row, t = state[:, 0], state[:, 1]
        nxt = torch.where(t <= row, 4 + (t % 5), torch.full_like(t, EOS))
        return torch.nn.functional.one_hot(nxt, V).float() * 10, torch.stack([row, t + 1], 1)

    def select(self, state: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return state.index_select(0, index)


def test_greedy_stops_each_sequence_at_its_eos() -> None:
    model = Scripted()
    src = torch.ones(4, 2, dtype=torch.long)
    hyp = greedy(model, src, torch.full((4,), 2), max_len=10)
    expected = torch.tensor([[4, EOS, PAD, PAD, PAD], [4, 5, EOS, PAD, PAD], [4, 5, 6, EOS, PAD], [4, 5, 6, 7, EOS]])
    assert torch.equal(hyp.tokens, expected)
    assert model.batch_sizes == [4, 4, 3, 2, 1]  # finished sequences leave the batch
    beam = beam_search(Scripted(), src, torch.full((4,), 2), beam=3, max_len=10)
    assert torch.equal(beam.tokens, expected)


def test_greedy_respects_max_len() -> None:
    hyp = greedy(Scripted(), torch.ones(4, 2, dtype=torch.long), torch.full((4,), 2), max_len=2)
    assert hyp.tokens.shape == (4, 2)
    assert hyp.tokens[0].tolist() == [4, EOS]


@pytest.mark.parametrize("model", decodable_models(), ids=lambda m: type(m).__name__)
def test_beam_one_is_greedy_and_wider_beams_score_at_least_greedy(model: nn.Module) -> None:
    model.eval()
    src, lengths = source_batch()
    g = greedy(model, src, lengths, max_len=6)
    b1 = beam_search(model, src, lengths, beam=1, max_len=6)
    assert torch.equal(b1.tokens, g.tokens)
    torch.testing.assert_close(b1.logprob, g.logprob)
    for k in (2, 4):
        assert (beam_search(model, src, lengths, beam=k, max_len=6).logprob >= g.logprob - 1e-5).all()


def test_ensemble_averages_the_members_probabilities() -> None:
    a, b = (m.eval() for m in tiny_models()[:2])
    src, lengths = source_batch()
    tgt = torch.randint(4, V, (5, 4))
    probs = (torch.softmax(a(src, lengths, tgt), -1) + torch.softmax(b(src, lengths, tgt), -1)) / 2
    torch.testing.assert_close(Ensemble([a, b])(src, lengths, tgt), probs.log(), atol=1e-5, rtol=1e-5)
    alone = greedy(a, src, lengths, max_len=6)
    ensemble_of_one = greedy(Ensemble([a]), src, lengths, max_len=6)
    assert torch.equal(ensemble_of_one.tokens, alone.tokens)
    torch.testing.assert_close(ensemble_of_one.logprob, alone.logprob)


def test_exhaustive_beam_finds_the_most_likely_answer() -> None:
    """With a beam as wide as every prefix, beam search equals brute-force enumeration."""
    model = tiny_models()[0].eval()
    src, lengths = source_batch()
    max_len = 3
    hyp = beam_search(model, src, lengths, beam=V ** (max_len - 1), max_len=max_len)
    candidates = torch.tensor([
        seq for seq in itertools.product(range(V), repeat=max_len)
        if EOS not in seq or all(t == PAD for t in seq[seq.index(EOS) + 1:])  # finished ones padded, counted once
    ])
    n = len(candidates)
    tokens = candidates.repeat(5, 1)
    tgt_in = torch.cat([torch.full((len(tokens), 1), BOS), tokens[:, :-1]], dim=1)
    logp = torch.log_softmax(model(src.repeat_interleave(n, 0), lengths.repeat_interleave(n), tgt_in), -1)
    scores = logp.gather(2, tokens[..., None]).squeeze(-1).masked_fill(~generated(tokens), 0).sum(1)
    best = scores.view(5, n).max(1).values
    torch.testing.assert_close(hyp.logprob, best, atol=1e-5, rtol=1e-5)


def test_length_penalty_prefers_longer_answers() -> None:
    model = tiny_models()[0].eval()
    src, lengths = source_batch()
    plain = beam_search(model, src, lengths, beam=8, max_len=6)
    normed = beam_search(model, src, lengths, beam=8, max_len=6, length_penalty=1.0)
    assert (generated(normed.tokens).sum(1) >= generated(plain.tokens).sum(1)).all()
    assert (normed.logprob <= plain.logprob + 1e-6).all()


@pytest.mark.parametrize("impl", ["native", "torch"])
def test_char_lm_state_carries_over(impl: str) -> None:
    torch.manual_seed(0)
    lm = CharLM(CharLMOptions(cell="lstm", rnn_impl=impl, hidden_size=8, embedding_size=6, dropout=0.0), V).eval()
    x = torch.randint(4, V, (2, 9))
    whole, _ = lm(x)
    first, state = lm(x[:, :4])
    second, _ = lm(x[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-5, rtol=1e-5)


def test_unknown_cell_is_a_user_error() -> None:
    with pytest.raises(UserError, match="did you mean 'gru'"):
        build_rnn("gruu", "native", 3, 4)


def test_transformer_starts_with_tokens_positions_and_logits_at_unit_scale() -> None:
    """At the default width the √d-scaled token embeddings are as loud as the sinusoidal positions, and the
    tied output layer's first logits have unit scale (N(0, 1) embeddings: tokens at std 11, a first loss of 121)."""
    torch.manual_seed(0)
    vocab = 40
    model = TransformerSeq2Seq(TransformerOptions(dropout=0.0), vocab).eval()
    src, tgt_in = torch.randint(4, vocab, (64, 30)), torch.randint(4, vocab, (64, 6))
    tokens = model.source(src) * model.scale
    assert 0.7 < tokens.std().item() < 1.4  # sinusoids have std √0.5 ≈ 0.71
    assert model(src, torch.full((64,), 30), tgt_in).std().item() < 3
    assert model.source.weight[PAD].abs().max() == 0
