"""Options of each task, keyed by `task.name` (pure pydantic, no torch).

A task's own options live in its section (`task.teacher_forcing`, `task.decode`, ...), so a config
carries only the options of the task it trains.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from trainlab.config.base import Section


class ClassificationOptions(Section):
    """Inputs → one class label; loss, accuracy, confusion matrix."""

    name: Literal["classification"] = "classification"
    tta_flip: bool = Field(
        default=False, description="evaluate on each image and its mirror image, averaging the probabilities "
        "(test-time augmentation, as `trainlab eval --tta flip`; image data)")


class BinaryOptions(Section):
    """Inputs → one logit: P(the second class); bce_with_logits, accuracy at a threshold, ROC-AUC."""

    name: Literal["binary"] = "binary"
    threshold: float = Field(default=0.5, gt=0, lt=1, description="predicted positive when P(positive) ≥ threshold")


class RegressionOptions(Section):
    """Inputs → real targets; mse / l1 / huber; RMSE, MAE and R² in the targets' own units."""

    name: Literal["regression"] = "regression"
    standardize: bool = Field(
        default=True, description="train on targets standardised with the train split's mean and std (undone in "
        "every metric and prediction)")


class GaussianNLLOptions(Section):
    """Inputs → a mean and a log-variance per target; Gaussian negative log-likelihood (loss.min_logvar and
    loss.max_logvar clamp the log-variance); calibration."""

    name: Literal["gaussian_nll"] = "gaussian_nll"
    standardize: bool = Field(default=True, description="train on standardised targets (undone when reporting)")


class HeadOptions(Section):
    weight: float = Field(default=1.0, ge=0, description="weight of this head's loss in the sum")
    loss: Literal["cross_entropy", "nll", "mse", "bce_with_logits"] | None = Field(
        default=None, description="this head's loss (None = loss.name, else cross_entropy)")


class MultitaskOptions(Section):
    """Several class heads (the dataset's, e.g. data.colors: class and colour) on one trunk or on one each."""

    name: Literal["multitask"] = "multitask"
    trunk: Literal["shared", "separate"] = Field(
        default="shared", description="one model whose last layer feeds every head, or one model per head")
    heads: dict[str, HeadOptions] = Field(
        default_factory=dict, description="per head (by the dataset's head name): weight and loss")


class ViewsConfig(Section):
    """SimCLR's augmentations, drawn independently for each of an image's two views (in [0, 1] pixel values)."""

    crop_scale: tuple[float, float] = Field(
        default=(0.25, 1.0), description="random resized crop: the box's share of the image area (min, max)")
    crop_ratio: tuple[float, float] = Field(
        default=(0.75, 4 / 3), description="random resized crop: the box's aspect ratio (min, max)")
    flip: bool = Field(default=True, description="random horizontal flip")
    jitter: float = Field(
        default=0.4, ge=0, le=1, description="colour jitter strength: brightness, contrast, saturation factors in "
        "[1-s, 1+s] (saturation and hue on colour images only)")
    hue: float = Field(default=0.1, ge=0, le=0.5, description="colour jitter: hue rotation up to ±hue turns")
    jitter_p: float = Field(default=0.8, ge=0, le=1, description="share of views colour-jittered")
    grayscale_p: float = Field(default=0.2, ge=0, le=1, description="share of colour views made grey")
    blur_p: float = Field(default=0.5, ge=0, le=1, description="share of colour views blurred (single-channel "
                          "images are never blurred)")
    blur_sigma: tuple[float, float] = Field(default=(0.1, 2.0), description="blur σ range in pixels (min, max)")

    @model_validator(mode="after")
    def _ranges(self) -> Any:
        for key in ("crop_scale", "crop_ratio", "blur_sigma"):
            low, high = getattr(self, key)
            if not 0 < low <= high:
                raise ValueError(f"{key} must be 0 < min <= max, got ({low}, {high})")
        if self.crop_scale[1] > 1:
            raise ValueError(f"crop_scale max is a share of the image, at most 1, got {self.crop_scale[1]}")
        return self


class ContrastiveOptions(Section):
    """Self-supervised SimCLR on images: two augmented views per image, the model's trunk as encoder, a projection
    head, NT-Xent loss; labels are not used in training (only by `trainlab probe`/`cluster`)."""

    name: Literal["contrastive"] = "contrastive"
    temperature: float = Field(default=0.5, gt=0, description="NT-Xent softmax temperature τ")
    projection_dim: int = Field(default=64, gt=0, description="width of the projection head's output z")
    projection_hidden: int | None = Field(
        default=None, gt=0, description="width of the projection head's hidden layer (None = the encoder's width)")
    views: ViewsConfig = Field(default_factory=ViewsConfig, description="the augmentations that make the views")


class TeacherForcingConfig(Section):
    ratio: float = Field(default=1.0, ge=0, le=1, description="share of decoder inputs taken from the target")
    schedule: Literal["constant", "linear", "inverse_sigmoid"] = Field(
        default="constant", description="how the ratio decays over epochs (scheduled sampling)"
    )
    min_ratio: float = Field(default=0.0, ge=0, le=1, description="ratio reached at the last epoch (linear)")
    k: float = Field(default=5.0, gt=1, description="decay speed of inverse_sigmoid: ratio*k/(k+exp(epoch/k))")


class DecodeConfig(Section):
    beam: int = Field(default=1, gt=0, description="beam width for the final report (1 = greedy)")
    length_penalty: float = Field(
        default=0.0, ge=0, description="beam hypotheses ranked by logprob / length**alpha (0 = raw logprob)"
    )
    max_len: int = Field(default=32, gt=0, description="longest answer generated, in characters")
    samples: int = Field(default=3, ge=0, description="right and wrong examples per module in samples.md")


class MathDataConfig(Section):
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


class Seq2SeqTaskOptions(Section):
    """Questions → answers, character by character (DeepMind Mathematics, data.name=math)."""

    name: Literal["seq2seq"] = "seq2seq"
    math: MathDataConfig = Field(default_factory=MathDataConfig, description="the Mathematics files read")
    teacher_forcing: TeacherForcingConfig = Field(
        default_factory=TeacherForcingConfig, description="decoder inputs: target or own predictions"
    )
    decode: DecodeConfig = Field(default_factory=DecodeConfig, description="answer generation")


class CharLMTaskOptions(Section):
    """Next-character prediction on a text file (data.name=text, data.path=FILE)."""

    name: Literal["char_lm"] = "char_lm"
    seq_len: int = Field(default=128, gt=1, description="characters per training sequence")


class AutoencoderOptions(Section):
    """Images → the same images: model.name's conv encoder (its weights transfer) and a mirrored decoder; PSNR."""

    name: Literal["autoencoder"] = "autoencoder"
    show: int = Field(default=8, gt=0, le=32, description="test images drawn in plots/reconstructions.png")


TaskOptions = Annotated[
    ClassificationOptions | BinaryOptions | RegressionOptions | GaussianNLLOptions | MultitaskOptions
    | Seq2SeqTaskOptions | CharLMTaskOptions | ContrastiveOptions | AutoencoderOptions,
    Field(discriminator="name"),
]

#: the task each sequence model trains under when the config names no task
TASK_OF_MODEL = {"seq2seq": "seq2seq", "transformer": "seq2seq", "char_lm": "char_lm"}


def normalize_task(raw: Any) -> Any:
    """`task: NAME` means `task: {name: NAME}`; a config without a task name gets the task of its sequence
    model (char_lm → char_lm, ...), else classification."""
    if not isinstance(raw, dict):
        return raw
    task = raw.get("task")
    if isinstance(task, str):
        task = {"name": task}
    if task is None or (isinstance(task, dict) and "name" not in task):
        model = raw.get("model")
        model_name = model.get("name") if isinstance(model, dict) else getattr(model, "name", None)
        task = {"name": TASK_OF_MODEL.get(model_name, "classification"), **(task or {})}
    return {**raw, "task": task}
