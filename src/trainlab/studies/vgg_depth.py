"""The VGG depth study: VGG_08 against VGG_38 plain and with each fix, with the course's defaults."""

from __future__ import annotations

from trainlab.data.cifar import SPECS
from trainlab.data.locate import find_dir
from trainlab.studies.study import STUDIES, Study

COURSE_DEFAULTS = (
    "model.name=vgg", "model.num_filters=32", "model.num_stages=3",
    "optim.name=adam", "optim.lr=1e-3", "optim.weight_decay=0",
    "sched.name=cosine", "sched.min_lr=2e-5", "train.batch_size=100", "train.epochs=100",
)
VGG38 = ("model.blocks_per_stage=5",)


def cifar100_or_fashion() -> str:
    """CIFAR-100 when its files are present (no download), Fashion-MNIST otherwise."""
    sub, train_files, test_file, meta_file, *_ = SPECS["cifar100"]
    required = [(f"{sub}/{f}", f) for f in [*train_files, test_file, meta_file]]
    return "cifar100" if find_dir("cifar100", None, required) else "fashion-mnist"


VGG_DEPTH = STUDIES.register("vgg-depth")(Study(
    name="vgg-depth",
    description="VGG_08 vs VGG_38: plain, batch norm, residual, both, dense, deep supervision",
    base=COURSE_DEFAULTS,
    variants={
        "vgg08": ("model.blocks_per_stage=0", "model.block_type=plain"),
        "vgg38_plain": (*VGG38, "model.block_type=plain"),
        "vgg38_bn": (*VGG38, "model.block_type=bn"),
        "vgg38_residual": (*VGG38, "model.block_type=residual"),
        "vgg38_bn_residual": (*VGG38, "model.block_type=bn_residual"),
        "vgg38_dense": (*VGG38, "model.block_type=dense"),
        "vgg38_deep_supervision": (*VGG38, "model.block_type=plain", "model.deep_supervision=true"),
    },
    data=cifar100_or_fashion,
))
