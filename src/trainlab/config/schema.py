"""The run config: one pydantic model per section, every option with a default and a description."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from trainlab.config.base import Section
from trainlab.config.models import MLPOptions, ModelOptions
from trainlab.config.tasks import ClassificationOptions, TaskOptions, normalize_task


class AugmentConfig(Section):
    crop_padding: int = Field(default=0, ge=0, description="random crop after zero-padding by N px (0 = off)")
    flip: bool = Field(default=False, description="random horizontal flip")
    cutout: int = Field(default=0, ge=0, description="zero a random NxN square (0 = off)")
    resized_crop: float = Field(
        default=0.0, ge=0, le=1, description="random resized crop: smallest box area as a share of the image, "
        "aspect 3/4 to 4/3, resized back to HxW (0 = off; e.g. 0.35)")
    color_jitter: float = Field(
        default=0.0, ge=0, lt=1, description="brightness, contrast and saturation factors drawn from [1-s, 1+s] per "
        "image (0 = off)")


class ToyConfig(Section):
    kind: Literal["moons", "circles", "spirals", "xor", "gaussians", "hetero"] = Field(
        default="moons", description="which synthetic set (hetero: 1-D regression, noise growing with x)"
    )
    samples: int = Field(default=1000, gt=10, description="points in total (train+val+test)")
    noise: float = Field(default=0.1, ge=0, description="noise level (hetero: noise std = noise·(0.5 + 4x))")
    classes: int = Field(default=3, ge=2, description="classes for spirals and gaussians")


class DataConfig(Section):
    name: Literal[
        "digits", "fashion-mnist", "mnist", "cifar10", "cifar100", "toy", "diabetes", "csv", "math", "text",
        "folder",
    ] = Field(default="digits", description="dataset (folder: an image folder cleaned by `trainlab data images`)")
    root: Path | None = Field(
        default=None, description="directory with the dataset files (else $TRAINLAB_DATA, system dirs)"
    )
    download: bool = Field(default=True, description="download missing files when a network exists")
    val_fraction: float = Field(default=0.1, ge=0, lt=1, description="share of train held out for validation "
                                "(folder: the cleaned folder's own val split is used)")
    subset: int | None = Field(default=None, gt=0, description="use only the first N train examples (stratified)")
    split_seed: int = Field(default=0, description="seed of the validation split and subset")
    normalize: bool = Field(default=True, description="standardise with train mean/std per channel")
    augment: AugmentConfig = Field(default_factory=AugmentConfig, description="batched augmentation")
    toy: ToyConfig = Field(default_factory=ToyConfig, description="options of data.name=toy")
    path: Path | None = Field(default=None, description="the file of data.name=text or data.name=csv; the "
                              "cleaned folder of data.name=folder")
    target: str | list[str] | None = Field(
        default=None, description="target column(s) of data.name=csv (a list = multi-output regression)"
    )
    colors: int = Field(
        default=0, ge=0, description="tint single-channel images with N colours, label (class, colour) (0 = off)"
    )


class OptimConfig(Section):
    name: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"] = Field(
        default="adam", description="optimizer"
    )
    lr: float = Field(default=1e-3, gt=0, description="learning rate")
    weight_decay: float = Field(default=0.0, ge=0, description="L2 penalty (decoupled for adamw)")
    momentum: float = Field(default=0.9, ge=0, lt=1, description="momentum (sgd, rmsprop)")
    nesterov: bool = Field(default=False, description="Nesterov momentum (sgd)")
    betas: tuple[float, float] = Field(default=(0.9, 0.999), description="Adam betas")
    eps: float = Field(default=1e-8, gt=0, description="numerical epsilon")
    alpha: float = Field(default=0.99, gt=0, lt=1, description="smoothing constant (rmsprop)")
    rho: float = Field(default=0.9, gt=0, lt=1, description="decay rate (adadelta)")


class SchedConfig(Section):
    name: Literal["none", "step", "multistep", "cosine", "onecycle", "plateau"] = Field(
        default="none", description="learning-rate schedule"
    )
    warmup_epochs: float = Field(default=0.0, ge=0, description="linear warmup from 0 over N epochs")
    step_size: int = Field(default=10, gt=0, description="epochs between decays (step)")
    milestones: list[int] = Field(default=[], description="epochs at which to decay (multistep)")
    gamma: float = Field(default=0.1, gt=0, le=1, description="decay factor (step, multistep, plateau)")
    min_lr: float = Field(default=0.0, ge=0, description="final learning rate (cosine)")
    pct_start: float = Field(default=0.3, gt=0, lt=1, description="share of steps rising (onecycle)")
    patience: int = Field(default=3, ge=0, description="epochs without val improvement (plateau)")


class LossConfig(Section):
    name: Literal["cross_entropy", "nll", "mse", "l1", "huber", "bce_with_logits", "gaussian_nll"] | None = Field(
        default=None, description="training loss (None = the task's: cross_entropy for classes, bce_with_logits "
        "for binary, mse for regression, gaussian_nll for task gaussian_nll); mse and bce_with_logits on class "
        "labels compare with one-hot targets"
    )
    label_smoothing: float = Field(default=0.0, ge=0, lt=1, description="label smoothing (cross_entropy)")
    huber_delta: float = Field(default=1.0, gt=0, description="where huber turns from squared to absolute error")
    min_logvar: float = Field(default=-10.0, description="gaussian_nll: log-variance clamped from below (stability)")
    max_logvar: float = Field(default=10.0, description="gaussian_nll: log-variance clamped from above (stability)")

    @model_validator(mode="after")
    def _logvar_range(self) -> LossConfig:
        if self.min_logvar >= self.max_logvar:
            raise ValueError(f"min_logvar ({self.min_logvar}) must be below max_logvar ({self.max_logvar})")
        return self


class EarlyStopConfig(Section):
    metric: str | None = Field(
        default=None, description="metric watched for the best epoch and early stopping, e.g. val_loss (None = the "
        "task's: val_acc where it has an accuracy)")
    patience: int | None = Field(default=None, gt=0, description="stop after N epochs without gain (None = off)")
    min_delta: float = Field(default=0.0, ge=0, description="smallest change that counts as a gain")


class TrainConfig(Section):
    epochs: int = Field(default=10, gt=0, description="passes over the training set")
    batch_size: int = Field(default=128, gt=0, description="training batch size")
    eval_batch_size: int = Field(default=1024, gt=0, description="batch size for evaluation")
    seed: int = Field(default=0, description="seed of weights, data order, augmentation, dropout")
    deterministic: bool = Field(default=False, description="deterministic algorithms only (slower)")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(default="auto", description="auto = cuda, mps, cpu")
    precision: Literal["fp32", "bf16", "fp16"] = Field(default="fp32", description="autocast precision")
    channels_last: bool = Field(default=False, description="channels-last memory format (conv nets)")
    compile: bool = Field(default=False, description="torch.compile the model")
    compile_mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = Field(
        default="default", description="torch.compile's mode (reduce-overhead replays CUDA graphs on a GPU)")
    cuda_graphs: bool = Field(
        default=False, description="capture the training step (forward, backward, fused update) as one CUDA graph and "
        "replay it: one launch a step instead of one per kernel; a batch of another shape runs eagerly "
        "(train.drop_last=true avoids one); needs a fused optimizer (sgd, adam, adamw) and diagnose.enabled=false; "
        "without CUDA the steps run eagerly")
    drop_last: bool = Field(
        default=False, description="drop each epoch's last, smaller training batch (array tasks): every step has one "
        "shape, as torch.compile and CUDA graphs like")
    grad_clip: float | None = Field(default=None, gt=0, description="clip gradients at this value (None = off)")
    grad_clip_mode: Literal["norm", "value"] = Field(default="norm", description="clip total norm or each value")
    ema_decay: float | None = Field(
        default=None, gt=0, lt=1, description="average the weights over the steps with this decay (e.g. 0.99; "
        "warmed up as (1+t)/(10+t)): validation, checkpoints (`model`), the test and eval use the average; None = "
        "off")
    early_stop: EarlyStopConfig = Field(default_factory=EarlyStopConfig, description="early stopping")
    quiet: bool = Field(default=False, description="no progress bars (log lines only)")
    threads: int | None = Field(default=None, gt=0, description="CPU threads for torch (None = torch's default)")
    init_from: str | None = Field(
        default=None, description="finished run whose best weights start this one (fine-tuning; same model sizes)"
    )
    seeds: list[int] | None = Field(
        default=None, min_length=1,
        description="run once per seed into sibling dirs <name>-seed<k>, aggregate in <name>-seeds (trainlab run)",
    )


class DiagnoseConfig(Section):
    enabled: bool = Field(default=True, description="gradient flow, activation stats, filters, doctor")
    every: int = Field(default=20, gt=0, description="record gradient statistics every N steps of an epoch")
    activations_every: int = Field(
        default=5, gt=0, description="activation statistics every N epochs and at the last epoch"
    )
    histogram_every: int = Field(
        default=5, ge=0, description="TensorBoard weight/gradient histograms every N epochs and at the end (0 = off)"
    )
    activation_batch: int = Field(default=256, gt=0, description="examples in the fixed batch for activation stats")


class TransferConfig(Section):
    strategy: Literal["finetune", "features", "partial", "freeze_bn"] | None = Field(
        default=None, description="what trains after the backbone is loaded from train.init_from or "
        "transfer.weights (the head is always new): finetune = everything; features = the head only (frozen "
        "backbone); partial = the head and the last transfer.stages stages; freeze_bn = everything but BatchNorm "
        "statistics and affine (None: a run of the same task is loaded whole, one of another task gives its "
        "matching backbone tensors and everything trains, as does a transfer.weights file)")
    stages: int = Field(default=1, ge=0, description="partial: backbone stages trained, counted from the last")
    backbone_lr: float | None = Field(
        default=None, gt=0, description="learning rate of the backbone's trainable parameters (None = optim.lr; "
        "the head trains at optim.lr)")
    weights: Path | None = Field(
        default=None, description="a state-dict file in torchvision's ResNet-18/34/50 key layout whose weights start "
        "model.name=resnet (read with weights_only; its fc is replaced by a new head)")


class Config(Section):
    task: Annotated[TaskOptions, Field(default_factory=ClassificationOptions)]
    data: DataConfig = Field(default_factory=DataConfig)
    model: Annotated[ModelOptions, Field(default_factory=MLPOptions)]
    optim: OptimConfig = Field(default_factory=OptimConfig)
    sched: SchedConfig = Field(default_factory=SchedConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    diagnose: DiagnoseConfig = Field(default_factory=DiagnoseConfig)
    transfer: TransferConfig = Field(default_factory=TransferConfig, description="transfer learning")

    _task_name = model_validator(mode="before")(normalize_task)
