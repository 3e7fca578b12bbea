"""`trainlab cluster`: do a representation's points fall into groups that match the classes?

The features of one split (at most `samples` points, a stratified subset) are standardised and reduced by PCA
to `pca_dims` dimensions (distances in hundreds of raw dimensions say little); each method clusters that space.
Scores: ARI and NMI against the true labels, silhouette in the clustered space (noise points left out), the
number of clusters and the share of noise (DBSCAN). A method that finds one cluster or calls every point noise
is reported as such (silhouette undefined), not as an error.

Mean shift's bandwidth defaults to scikit-learn's `estimate_bandwidth` (median-ish neighbour distance at quantile
0.3); DBSCAN's eps to the 95th percentile of each point's distance to its `min_samples`-th neighbour (95% of the
points are core points; the knee of that curve, the usual eye-ball choice, sat too low on Gaussian blobs and split
them). Both estimates are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans, MeanShift, estimate_bandwidth
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from trainlab.config import Config
from trainlab.engine.task import ReportTable
from trainlab.errors import UserError
from trainlab.models.features import PENULTIMATE
from trainlab.registry import Registry
from trainlab.report.embeddings import plot_clusters
from trainlab.representations.source import Init, open_encoder

EPS_QUANTILE = 0.95  # DBSCAN's estimated eps: this share of the points are core points


@dataclass
class ClusterOptions:
    k: int
    bandwidth: float | None = None
    eps: float | None = None
    min_samples: int = 5
    seed: int = 0


#: method → (points, options) → (labels with -1 = noise, the parameters used, as printed)
ClusterFn = Callable[[np.ndarray, ClusterOptions], tuple[np.ndarray, dict[str, float | int]]]
CLUSTER_METHODS: Registry[ClusterFn] = Registry("clustering method")


@CLUSTER_METHODS.register("kmeans")
def _kmeans(x: np.ndarray, o: ClusterOptions) -> tuple[np.ndarray, dict[str, float | int]]:
    return KMeans(o.k, n_init=10, random_state=o.seed).fit_predict(x), {"k": o.k}


@CLUSTER_METHODS.register("gmm")
def _gmm(x: np.ndarray, o: ClusterOptions) -> tuple[np.ndarray, dict[str, float | int]]:
    gmm = GaussianMixture(o.k, covariance_type="diag", n_init=2, random_state=o.seed)
    return gmm.fit(x).predict(x), {"k": o.k}


@CLUSTER_METHODS.register("agglomerative")
def _agglomerative(x: np.ndarray, o: ClusterOptions) -> tuple[np.ndarray, dict[str, float | int]]:
    return AgglomerativeClustering(o.k, linkage="ward").fit_predict(x), {"k": o.k}


@CLUSTER_METHODS.register("meanshift")
def _meanshift(x: np.ndarray, o: ClusterOptions) -> tuple[np.ndarray, dict[str, float | int]]:
    bandwidth = o.bandwidth or float(estimate_bandwidth(x, quantile=0.3, n_samples=min(len(x), 1000),
                                                        random_state=o.seed))
    if bandwidth <= 0:  # every sampled point at one place
        return np.zeros(len(x), np.int64), {"bandwidth": bandwidth}
    return MeanShift(bandwidth=bandwidth, bin_seeding=True).fit_predict(x), {"bandwidth": bandwidth}


@CLUSTER_METHODS.register("dbscan")
def _dbscan(x: np.ndarray, o: ClusterOptions) -> tuple[np.ndarray, dict[str, float | int]]:
    eps = o.eps or estimate_eps(x, o.min_samples)
    if eps <= 0:
        return np.zeros(len(x), np.int64), {"eps": eps, "min_samples": o.min_samples}
    return DBSCAN(eps=eps, min_samples=o.min_samples).fit_predict(x), {"eps": eps, "min_samples": o.min_samples}


def estimate_eps(x: np.ndarray, min_samples: int, quantile: float = EPS_QUANTILE) -> float:
    """The `quantile` of each point's distance to its `min_samples`-th neighbour (itself included, as DBSCAN
    counts it): that share of the points are core points."""
    k = min(min_samples, len(x))
    return float(np.quantile(NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)[0][:, -1], quantile))


@dataclass
class ClusterResult:
    method: str
    labels: np.ndarray
    params: dict[str, float | int]
    ari: float
    nmi: float
    silhouette: float | None
    clusters: int
    noise: float  # share of points labelled noise
    note: str = ""


def cluster_features(x: np.ndarray, y: np.ndarray, methods: Sequence[str], k: int | None = None,
                     bandwidth: float | None = None, eps: float | None = None, min_samples: int = 5,
                     seed: int = 0) -> list[ClusterResult]:
    """Cluster the points `x` with each method and score them against the labels `y` (k defaults to the number
    of distinct labels)."""
    fns = [CLUSTER_METHODS.get(m) for m in methods]  # an unknown name is refused before any work
    opts = ClusterOptions(k or len(np.unique(y)), bandwidth, eps, min_samples, seed)
    results = []
    for method, fn in zip(methods, fns, strict=True):
        labels, params = fn(x, opts)
        results.append(score(method, labels, y, x, params))
    return results


def score(method: str, labels: np.ndarray, y: np.ndarray, x: np.ndarray, params: dict[str, float | int]
          ) -> ClusterResult:
    labels = np.asarray(labels, np.int64)
    kept = labels >= 0
    clusters = len(np.unique(labels[kept]))
    noise = float(1 - kept.mean())
    note = "every point noise" if clusters == 0 else "one cluster" if clusters == 1 else ""
    silhouette = float(silhouette_score(x[kept], labels[kept])) \
        if 2 <= clusters < kept.sum() else None
    return ClusterResult(method, labels, params, float(adjusted_rand_score(y, labels)),
                         float(normalized_mutual_info_score(y, labels)), silhouette, clusters, noise, note)


@dataclass
class ClusterReport:
    name: str
    init: str
    split: str
    layer: str
    points: int
    dims: str  # "576 → PCA 50"
    results: list[ClusterResult] = field(default_factory=list)
    plot: Path | None = None

    def table(self) -> ReportTable:
        rows = [[r.method, _params(r.params), f"{r.ari:.3f}", f"{r.nmi:.3f}",
                 "n/a" if r.silhouette is None else f"{r.silhouette:.3f}", str(r.clusters), f"{r.noise:.1%}",
                 r.note] for r in self.results]
        return ReportTable(self.name, ["method", "parameters", "ARI", "NMI", "silhouette", "clusters", "noise",
                                       "note"], rows)

    def describe(self) -> str:
        return f"{self.name}: {self.init} weights, {self.split} split, {self.layer} layer, {self.points} points, " \
            f"{self.dims}"


def _params(params: dict[str, float | int]) -> str:
    return "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def cluster(source: Path | str | Config, methods: Sequence[str] = ("kmeans",), k: int | None = None,
            split: str = "test", layer: str = PENULTIMATE, checkpoint: str = "best", init: Init | None = None,
            samples: int = 2000, pca_dims: int = 50, bandwidth: float | None = None, eps: float | None = None,
            min_samples: int = 5, projection: str = "pca", out: Path | None = None,
            overrides: Sequence[str] = ()) -> ClusterReport:
    """Cluster one split's features with each method; the table's figures and `clusters.png` (in `out`, else the
    run's plots/; a config without `out` writes no figure)."""
    for m in methods:
        CLUSTER_METHODS.get(m)
    if projection not in ("pca", "tsne"):
        raise UserError(f"unknown projection {projection!r}", "use --projection pca or --projection tsne")
    enc = open_encoder(source, init, checkpoint, overrides)
    x, y = enc.features(split, layer)
    if samples < len(y):
        x, _, y, _ = train_test_split(x, y, train_size=samples, stratify=y, random_state=0)
    space, dims = reduce(x, pca_dims)
    report = ClusterReport(enc.name, enc.init, split, layer, len(y), dims,
                           cluster_features(space, y, methods, k or len(enc.classes), bandwidth, eps, min_samples))
    where = out if out is not None else enc.run.plots if enc.run is not None else None
    if where is not None:
        report.plot = Path(where) / "clusters.png"
        xy, axis = project(space, projection)
        panels = [("true label", y), *((f"{r.method} (ARI {r.ari:.2f})", r.labels) for r in report.results)]
        plot_clusters(xy, panels, report.plot, f"{enc.name}: {split} split, {layer} layer, {enc.init} weights", axis)
    return report


def reduce(x: np.ndarray, pca_dims: int) -> tuple[np.ndarray, str]:
    """Standardised features, reduced by PCA to `pca_dims` dimensions when they have more (0: no PCA)."""
    z = StandardScaler().fit_transform(x)
    if 0 < pca_dims < min(z.shape):
        return PCA(pca_dims, random_state=0).fit_transform(z), f"{x.shape[1]} → PCA {pca_dims}"
    return z, f"{x.shape[1]} features"


def project(x: np.ndarray, how: str) -> tuple[np.ndarray, str]:
    """(N, 2) coordinates for the figure and the axis name."""
    if x.shape[1] <= 2:
        return np.pad(x, ((0, 0), (0, 2 - x.shape[1]))), "feature"
    if how == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(2, init="pca", random_state=0, perplexity=min(30.0, (len(x) - 1) / 3)).fit_transform(x), "t-SNE"
    return PCA(2, random_state=0).fit_transform(x), "PC"
