"""The MVA "deep learning in practice" exercises as one study, beside the figures of the course report.

Ex. 1: 2-D toy classification (XOR): one linear layer, three-layer MLPs with tanh and ReLU, and a two-layer net
with one logit and binary cross-entropy. Ex. 2: a conv net on MNIST-like images. Ex. 3: digit and colour
heads on one trunk (tinted digits). Ex. 4: heteroscedastic regression with a Gaussian head (mean and
log-variance) trained by negative log-likelihood. The report's own data were not published: each variant
says which data it used (docs/studies/mva.md).
"""

from __future__ import annotations

from trainlab.data.idx import FILES
from trainlab.data.locate import find_dir
from trainlab.studies.study import STUDIES, Reference, Study

XOR = ("data.name=toy", "data.toy.kind=xor", "data.toy.samples=2000", "data.toy.noise=0.02")
TOY_TRAINING = ("optim.name=adam", "optim.lr=0.01", "train.batch_size=32", "train.epochs=30")
HETERO = ("data.name=toy", "data.toy.kind=hetero", "data.toy.samples=2000")


def mnist_like() -> str:
    """MNIST when its IDX files are present (no download is tried), else Fashion-MNIST, else the bundled digits."""
    required = [(f, f + ".gz") for f in FILES]
    return next((name for name in ("mnist", "fashion-mnist") if find_dir(name, None, required)), "digits")



MVA = STUDIES.register("mva")(Study(
    name="mva",
    description="The MVA exercises: toy 2-D classifiers, a conv net, digit + colour heads, a Gaussian regression head",
    base=(),
    variants={
        "ex1_linear": (*XOR, *TOY_TRAINING, "model.name=linear"),
        "ex1_mlp_tanh": (*XOR, *TOY_TRAINING, "model.name=mlp", "model.hidden=[32,32]", "model.activation=tanh"),
        "ex1_mlp_relu": (*XOR, *TOY_TRAINING, "model.name=mlp", "model.hidden=[32,32]", "model.activation=relu"),
        "ex1_bce": (*XOR, *TOY_TRAINING, "task=binary", "model.name=mlp", "model.hidden=[32]"),
        # data.name: the study's (mnist_like, chosen when it runs); the other variants name their own
        "ex2_convnet": ("model.name=convnet", "model.filters=[16,32]", "model.hidden=[128]", "model.batch_norm=true",
                        "model.dropout=0.2", "optim.name=adam", "optim.lr=0.003", "sched.name=onecycle",
                        "train.epochs=3", "train.batch_size=128"),
        "ex3_multitask": ("data.name=digits", "data.colors=3", "task=multitask", "model.name=convnet",
                          "model.filters=[32,64]", "model.hidden=[128]", "model.batch_norm=true",
                          "optim.name=adam", "optim.lr=0.003", "sched.name=cosine", "train.epochs=15"),
        "ex4_gaussian_nll": (*HETERO, "task=gaussian_nll", "model.name=mlp", "model.hidden=[64,64]",
                             "model.activation=tanh", "optim.name=adam", "optim.lr=0.003", "train.batch_size=64",
                             "train.epochs=100"),
    },
    data=mnist_like,
    references=(
        Reference("ex1_linear", "test_acc", 0.5940, "XOR here (2,000 points, noise 0.02); the report's set differs"),
        Reference("ex1_mlp_tanh", "test_acc", 0.7820, "XOR here; the report's toy set differs"),
        Reference("ex1_mlp_relu", "test_acc", 0.9980, "XOR here; the report's toy set differs"),
        Reference("ex1_bce", "test_acc", 1.0, "XOR here; the report's toy set differs"),
        Reference("ex2_convnet", "test_acc", 0.9839,
                  "the report used MNIST; here MNIST when present, else Fashion-MNIST (harder), else digits"),
        Reference("ex3_multitask", "test_class_acc", 0.9913, "sklearn's 8×8 digits tinted with 3 colours"),
        Reference("ex3_multitask", "test_colour_acc", 1.0, "sklearn's 8×8 digits tinted with 3 colours"),
        Reference("ex3_multitask", "test_acc", 0.9913, "both heads right"),
        Reference("ex4_gaussian_nll", "test_nll", -1.37,
                  "toy hetero, noise std 0.05 + 0.4x: the best NLL possible on it is −0.105 (the report's noise was "
                  "smaller)"),
    ),
))
