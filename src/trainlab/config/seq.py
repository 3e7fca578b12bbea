"""Options of the sequence models and tasks: seq2seq, transformer, char_lm, decoding (pure pydantic)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CellName = Literal["elman", "jordan", "gru", "lstm"]
RNNImpl = Literal["native", "torch"]

#: the task each sequence model trains under when the config names no task
TASK_OF_MODEL = {"seq2seq": "seq2seq", "transformer": "seq2seq", "char_lm": "char_lm"}


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _RecurrentOptions(_Options):
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


class TransformerOptions(_Options):
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


class TeacherForcingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    ratio: float = Field(default=1.0, ge=0, le=1, description="share of decoder inputs taken from the target")
    schedule: Literal["constant", "linear", "inverse_sigmoid"] = Field(
        default="constant", description="how the ratio decays over epochs (scheduled sampling)"
    )
    min_ratio: float = Field(default=0.0, ge=0, le=1, description="ratio reached at the last epoch (linear)")
    k: float = Field(default=5.0, gt=1, description="decay speed of inverse_sigmoid: ratio*k/(k+exp(epoch/k))")


class DecodeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    beam: int = Field(default=1, gt=0, description="beam width for the final report (1 = greedy)")
    length_penalty: float = Field(
        default=0.0, ge=0, description="beam hypotheses ranked by logprob / length**alpha (0 = raw logprob)"
    )
    max_len: int = Field(default=32, gt=0, description="longest answer generated, in characters")
    samples: int = Field(default=3, ge=0, description="right and wrong examples per module in samples.md")


def infer_task(raw: Any) -> Any:
    """Give a raw config without a `task` the task of its sequence model (char_lm → char_lm...)."""
    if not isinstance(raw, dict) or "task" in raw:
        return raw
    model = raw.get("model")
    name = model.get("name") if isinstance(model, dict) else getattr(model, "name", None)
    return {**raw, "task": TASK_OF_MODEL[name]} if name in TASK_OF_MODEL else raw


class MathDataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    modules: list[str] | None = Field(default=None, description="modules to train on (None = every file found)")
    difficulty: Literal["easy", "medium", "hard", "mixed"] = Field(
        default="easy", description="train-<difficulty> directory (mixed = all three)"
    )
    lowercase: bool = Field(default=False, description="lowercase questions and answers")
    extra_tests: bool = Field(default=True, description="also score interpolate/ and extrapolate/ when present")
    oversample: dict[str, int] = Field(
        default_factory=dict,
        description="module -> times its training examples are seen per epoch (memorisation-bound modules)",
    )

    @model_validator(mode="after")
    def _oversample_positive(self) -> Any:
        if bad := {m: k for m, k in self.oversample.items() if k < 1}:
            raise ValueError(f"oversample counts must be at least 1, got {bad}")
        return self


class TextDataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    seq_len: int = Field(default=128, gt=1, description="characters per training sequence (data.name=text)")
