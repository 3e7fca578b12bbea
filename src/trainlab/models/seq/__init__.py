"""Sequence models: hand-written and fused recurrent cells, seq2seq, Transformer, char LM, decoding."""

from trainlab.data.vocab import BOS, EOS, PAD, UNK
from trainlab.models.seq import char_lm, seq2seq, transformer  # noqa: F401  (register the families)
from trainlab.models.seq.cells import CELLS
from trainlab.models.seq.decode import Hypotheses, beam_search, decode, greedy

__all__ = ["BOS", "CELLS", "EOS", "PAD", "UNK", "Hypotheses", "beam_search", "decode", "greedy"]
