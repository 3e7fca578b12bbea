"""The transfer study: the four transfer strategies (and training from scratch) on one labelled subset.

The source is an autoencoder trained first on all of the dataset's training images (no labels); each variant
starts a classifier with the same conv encoder from it (`train.init_from`) on `data.subset` labelled examples.
Pass `train.init_from=RUN_DIR` to start from another run instead (e.g. a classifier trained on other classes);
any override (data.name, model.*) applies to the source and the variants alike, except what the source sets
itself (its task, all the training images, 4 epochs, batch 128).
"""

from __future__ import annotations

from trainlab.studies.study import STUDIES, Study

TRANSFER = STUDIES.register("transfer")(Study(
    name="transfer",
    description="from scratch vs an autoencoder-pretrained encoder: finetune, features (frozen backbone), partial "
                "(last stage trains), freeze_bn (BatchNorm frozen)",
    base=("model.name=convnet", "model.filters=[32,64]", "model.hidden=[128]", "model.batch_norm=true",
          "optim.name=adam", "optim.lr=1e-3", "train.epochs=15", "train.batch_size=64", "data.subset=600"),
    variants={
        "scratch": ("train.init_from=null",),
        "finetune": ("transfer.strategy=finetune",),
        "features": ("transfer.strategy=features",),
        "partial": ("transfer.strategy=partial", "transfer.stages=1"),
        "freeze_bn": ("transfer.strategy=freeze_bn",),
    },
    data=lambda: "fashion-mnist",
    source=("task=autoencoder", "data.subset=null", "train.epochs=4", "train.batch_size=128", "train.init_from=null",
            "transfer.strategy=null"),
))
