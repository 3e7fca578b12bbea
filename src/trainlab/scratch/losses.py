"""Losses: each returns ``(loss, dscores)``, averaged over the batch."""

from __future__ import annotations

import numpy as np

from trainlab.scratch.layers import sigmoid


def softmax_loss(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross-entropy of ``softmax(scores (N, C))`` against integer labels ``y (N,)``."""
    N = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    return float(loss), dscores / N


def svm_loss(scores: np.ndarray, y: np.ndarray, margin: float = 1.0) -> tuple[float, np.ndarray]:
    """Multiclass hinge: ``sum_{j != y} max(0, s_j - s_y + margin)``, mean over N."""
    N = scores.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, scores - scores[rows, y][:, None] + margin)
    margins[rows, y] = 0
    dscores = (margins > 0).astype(scores.dtype)
    dscores[rows, y] = -dscores.sum(axis=1)
    return float(margins.sum() / N), dscores / N


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean of squared errors over every element."""
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff / diff.size


def bce_loss(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Binary cross-entropy on logits (targets in [0, 1]), mean over every element.

    Uses ``max(s, 0) - s*t + log(1 + exp(-|s|))``, which never overflows.
    """
    loss = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    return float(loss.mean()), (sigmoid(logits) - target) / logits.size
