"""Representations: the contrastive task's loss and views, the features of every model family, probes, embeddings
and clustering."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from clitools import main_in_process
from sklearn.datasets import make_blobs

import trainlab
from trainlab.config import load_config
from trainlab.config.tasks import ViewsConfig
from trainlab.errors import ConfigError, UserError
from trainlab.models import build_model
from trainlab.models.features import features
from trainlab.representations import cluster_features, probe
from trainlab.tasks.contrastive import nt_xent
from trainlab.tasks.contrastive.views import ViewMaker

QUICK = ["train.quiet=true", "diagnose.enabled=false"]


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits MLP whose 16-wide penultimate layer was trained (a few seconds)."""
    cfg = load_config(None, ["model.hidden=[16]", "data.subset=600", "train.epochs=12", "optim.lr=0.01", *QUICK])
    return trainlab.run(cfg, name="sup", out=tmp_path_factory.mktemp("runs")).run_dir


def test_nt_xent_matches_a_hand_computation() -> None:
    z1 = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    z2 = torch.tensor([[1.0, 1.0], [-1.0, 0.5]])
    tau = 0.5
    views = [v / v.norm() for v in [*z1, *z2]]
    partner = [2, 3, 0, 1]
    losses, ranks = [], []
    for i in range(4):
        logits = {j: float(views[i] @ views[j]) / tau for j in range(4) if j != i}
        losses.append(-logits[partner[i]] + math.log(sum(math.exp(v) for v in logits.values())))
        ranks.append(sum(v > logits[partner[i]] for v in logits.values()))
    loss, rank = nt_xent(z1, z2, tau)
    assert loss.item() == pytest.approx(sum(losses) / 4, rel=1e-6)
    assert rank.tolist() == ranks


@pytest.mark.parametrize("channels", [1, 3])
def test_two_views_differ_and_are_reproducible_per_seed(channels: int) -> None:
    x = torch.rand(16, channels, 12, 12, generator=torch.Generator().manual_seed(0))
    maker = ViewMaker(ViewsConfig(), np.zeros(channels), np.ones(channels), torch.device("cpu"))

    def pair(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        return maker.pair(x, torch.Generator().manual_seed(seed))

    a1, a2 = pair(0)
    b1, b2 = pair(0)
    c1, _ = pair(1)
    assert torch.equal(a1, b1) and torch.equal(a2, b2)
    assert a1.shape == x.shape and a1.min() >= 0 and a1.max() <= 1
    differs = (a1 - a2).abs().flatten(1).amax(dim=1) > 1e-3
    assert differs.all()  # every image's two views differ
    assert not torch.equal(a1, c1) and not torch.equal(a1, x)


def test_greyscale_views_of_colour_images_have_equal_channels() -> None:
    x = torch.rand(8, 3, 10, 10)
    cfg = ViewsConfig(grayscale_p=1.0, blur_p=0.0, jitter=0.0, hue=0.0, crop_scale=(1.0, 1.0), crop_ratio=(1, 1))
    v = ViewMaker(cfg, np.zeros(3), np.ones(3), torch.device("cpu")).view(x, torch.Generator().manual_seed(0))
    assert torch.allclose(v[:, 0], v[:, 1]) and torch.allclose(v[:, 1], v[:, 2])


@pytest.mark.parametrize(("model", "width"), [
    (["model.name=linear"], 64), (["model.name=mlp", "model.hidden=[32,16]"], 16),
    (["model.name=convnet", "model.filters=[8]", "model.hidden=[]"], 8 * 4 * 4),
    (["model.name=resnet", "model.width=4"], 16), (["model.name=vgg", "model.num_filters=8", "model.num_stages=2",
                                                    "model.deep_supervision=true"], 8),
    (["model.name=pyramid_cnn", "model.conv_blocks=2", "model.initial_channels=4", "model.fc_layers=[12]"], 12),
])
def test_every_family_has_penultimate_features(model: list[str], width: int) -> None:
    cfg = load_config(None, model)
    net = build_model(cfg.model, (1, 8, 8), 10).eval()
    x = torch.randn(5, 1, 8, 8)
    assert features(net, x).shape == (5, width)
    assert features(net, x, "output").shape == (5, 10)


def test_a_named_layer_and_an_unknown_one() -> None:
    net = build_model(load_config(None, ["model.hidden=[32,16]"]).model, (1, 8, 8), 10).eval()
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(features(net, x, "2"), torch.relu(net[:2](x)))  # layer 2 is the first ReLU
    with pytest.raises(UserError, match=r"no layer 'nope'.*penultimate, output"):
        features(net, x, "nope")


def test_contrastive_refuses_flat_data_and_data_augment() -> None:
    from trainlab.tasks.contrastive import ContrastiveTask

    with pytest.raises(ConfigError, match="needs image data"):
        ContrastiveTask(load_config(None, ["task=contrastive", "data.name=toy"]), torch.device("cpu"))
    with pytest.raises(ConfigError, match=r"set task\.views"):
        ContrastiveTask(load_config(None, ["task=contrastive", "data.augment.flip=true"]), torch.device("cpu"))


def test_a_probe_of_a_trained_encoder_beats_one_of_the_same_encoder_at_random_init(supervised: Path) -> None:
    trained = probe(supervised)
    random = probe(supervised, init="random")
    assert trained.dims == random.dims == 16 and random.init == "random"
    for method in ("linear", "knn (k=20)"):
        assert trained.scores[method]["test"] > random.scores[method]["test"] + 0.05
    assert trained.scores["linear"]["test"] > 0.85


def test_clustering_well_separated_blobs_recovers_them() -> None:
    x, y = make_blobs(300, centers=[[0, 0], [10, 0], [0, 10]], cluster_std=1.0, random_state=0)
    results = cluster_features(x, y, ["kmeans", "gmm", "agglomerative", "meanshift", "dbscan"])
    for r in results:
        assert r.ari > 0.9, (r.method, r.ari, r.params)
        assert r.clusters == 3 and r.silhouette is not None and r.silhouette > 0.5
    assert {"bandwidth", "eps"} <= {k for r in results for k in r.params}  # the estimates are reported


def test_degenerate_clusterings_are_reported_not_raised(supervised: Path, monkeypatch, capsys) -> None:
    x, y = make_blobs(100, centers=3, random_state=0)
    noise, one = cluster_features(x, y, ["dbscan", "meanshift"], eps=1e-9, bandwidth=1e6)
    assert noise.clusters == 0 and noise.noise == 1.0 and noise.silhouette is None and noise.note == "every point noise"
    assert one.clusters == 1 and one.silhouette is None and one.note == "one cluster"
    code, out, err = main_in_process(monkeypatch, capsys, "cluster", str(supervised), "--method", "dbscan",
                                     "--eps", "0.000001", "--samples", "100")
    assert code == 0, err
    assert "every point noise" in out and (supervised / "plots" / "clusters.png").is_file()


def test_embed_writes_the_split_s_features_and_labels(supervised: Path, monkeypatch, capsys, tmp_path: Path) -> None:
    code, out, err = main_in_process(monkeypatch, capsys, "embed", str(supervised), "--split", "val",
                                     "--out", str(tmp_path / "e"))
    assert code == 0 and "embeddings 60x16" in out, err
    emb, labels = np.load(tmp_path / "e" / "embeddings.npy"), np.load(tmp_path / "e" / "labels.npy")
    assert emb.shape == (60, 16) and emb.dtype == np.float32 and labels.shape == (60,)
    code, _, err = main_in_process(monkeypatch, capsys, "embed", str(supervised), "--layer", "output")
    assert code == 0 and np.load(supervised / "embeddings" / "test-output" / "embeddings.npy").shape == (360, 10)


def test_cli_probes_and_clusters_a_contrastive_run(cli, monkeypatch, capsys, tmp_path: Path) -> None:
    args = ["task=contrastive", "model.name=convnet", "model.filters=[8]", "model.hidden=[]", "data.subset=200",
            "train.epochs=1", "train.batch_size=64", *QUICK]
    run = trainlab.run(load_config(None, args), name="c", out=tmp_path / "runs")
    assert run.status == "completed" and "test_top1" in run.summary
    assert (run.run_dir / "plots" / "views.png").is_file()
    r = cli("cluster", "runs/c", "--method", "kmeans,agglomerative", "--out", "figs")
    assert r.returncode == 0, r.stderr
    assert "kmeans" in r.stdout and "ARI" in r.stdout and (tmp_path / "figs" / "clusters.png").is_file()
    code, out, err = main_in_process(monkeypatch, capsys, "probe", str(run.run_dir), "--method", "knn",
                                     "--max-train", "100")
    assert code == 0 and "knn (k=20)" in out and "trained (best)" in out, err
    config = tmp_path / "c.yaml"
    config.write_text("task: contrastive\nmodel: {name: convnet, filters: [8], hidden: []}\n")
    code, out, err = main_in_process(monkeypatch, capsys, "probe", str(config), "data.subset=200", "--method", "knn")
    assert code == 0 and "random" in out, err
    code, out, err = main_in_process(monkeypatch, capsys, "probe", str(config), "--init", "trained")
    assert code == 2 and "a config has no trained weights" in err
    code, out, err = main_in_process(monkeypatch, capsys, "probe", str(run.run_dir), "--init", "sideways")
    assert code == 2 and "use --init trained or --init random" in err
