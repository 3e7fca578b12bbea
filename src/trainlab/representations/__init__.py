"""What a representation is worth: the features of a run's model (any array task: supervised, contrastive,
autoencoder) written out (`embed`), read by linear and k-NN probes (`probe`), and clustered (`cluster`).
"""

from trainlab.representations.cluster import ClusterReport, ClusterResult, cluster, cluster_features
from trainlab.representations.embed import EmbedResult, embed
from trainlab.representations.probe import ProbeReport, knn_probe, linear_probe, probe
from trainlab.representations.source import Encoder, open_encoder

__all__ = ["ClusterReport", "ClusterResult", "EmbedResult", "Encoder", "ProbeReport", "cluster", "cluster_features",
           "embed", "knn_probe", "linear_probe", "open_encoder", "probe"]
