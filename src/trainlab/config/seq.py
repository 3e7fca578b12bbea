"""Options of the sequence models: seq2seq, transformer, char_lm (pure pydantic)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from trainlab.config.base import Section

CellName = Literal["elman", "jordan", "gru", "lstm"]
RNNImpl = Literal["native", "torch"]



class _RecurrentOptions(Section):
    cell: CellName = Field(default="gru", description="recurrent cell: elman, jordan, gru or lstm")
    rnn_impl: RNNImpl = Field(
        default="torch", description="native = hand-written cells and time loop, torch = fused nn.RNN/GRU/LSTM"
    )
    layers: int = Field(default=1, gt=0, description="stacked recurrent layers")
    hidden_size: int = Field(default=256, gt=0, description="units per recurrent layer (and direction)")
    embedding_size: int = Field(default=64, gt=0, description="character embedding width")
    dropout: float = Field(default=0.1, ge=0, lt=1, description="dropout on embeddings and between layers")

    @model_validator(mode="after")
    def _jordan_is_native(self) -> Any:
        if self.cell == "jordan" and self.rnn_impl == "torch":
            raise ValueError(
                "cell=jordan needs rnn_impl=native: PyTorch has no fused Jordan cell "
                "(its recurrence feeds back the layer's output, not its hidden state)"
            )
        return self


class Seq2SeqOptions(_RecurrentOptions):
    """Recurrent encoder-decoder over characters, with optional attention."""

    name: Literal["seq2seq"] = "seq2seq"
    bidirectional: bool = Field(default=True, description="bidirectional encoder")
    attention: Literal["none", "additive", "multiplicative"] = Field(
        default="multiplicative", description="none, additive (Bahdanau) or multiplicative (Luong) attention"
    )
    shared_embeddings: bool = Field(
        default=True, description="one embedding for encoder input, decoder input and decoder output"
    )


class TransformerOptions(Section):
    """Transformer encoder-decoder over characters (sinusoidal positions, pre-norm)."""

    name: Literal["transformer"] = "transformer"
    d_model: int = Field(default=128, gt=0, description="model width")
    heads: int = Field(default=4, gt=0, description="attention heads (must divide d_model)")
    encoder_layers: int = Field(default=2, gt=0, description="encoder layers")
    decoder_layers: int = Field(default=2, gt=0, description="decoder layers")
    ff_size: int = Field(default=512, gt=0, description="width of the feed-forward sublayers")
    dropout: float = Field(default=0.1, ge=0, lt=1, description="dropout")
    shared_embeddings: bool = Field(
        default=True, description="one embedding for encoder input, decoder input and decoder output"
    )

    @model_validator(mode="after")
    def _heads_divide(self) -> Any:
        if self.d_model % self.heads:
            raise ValueError(f"heads={self.heads} must divide d_model={self.d_model}")
        return self


class CharLMOptions(_RecurrentOptions):
    """Recurrent character language model (next-character prediction)."""

    name: Literal["char_lm"] = "char_lm"
    layers: int = Field(default=2, gt=0, description="stacked recurrent layers")
    tie_embeddings: bool = Field(default=True, description="output projection shares the input embedding")
