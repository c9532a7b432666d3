"""Atypicality: how far a test example lies from its class in a member's representation (SPEC section 8).

Kept apart from the other PIE traits (pipeline/analysis/pie_traits.py) so that the ``atypicality`` stage,
which runs the dense members, imports only this: an edit to the label-issue or contrast code does not
rerun the models.
"""

from __future__ import annotations

import numpy as np


def class_normalized_distance(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N,) distance of each row of ``features`` (N, D) to its class's centroid over the class's median
    such distance; 1.0 for every example of a class whose median distance is 0 (e.g. a class of one).
    The class sums are one sparse one-hot product of the float32 features, the distances and medians
    float64, the medians read off one sort by class and distance."""
    from scipy import sparse

    n = labels.shape[0]
    k = int(labels.max()) + 1 if n else 0
    x = features.astype(np.float32)
    sizes = np.bincount(labels, minlength=k)
    onehot = sparse.csr_matrix((np.ones(n, np.float32), (labels, np.arange(n))), shape=(k, n))
    centroids = np.asarray(onehot @ x) / np.maximum(sizes, 1).astype(np.float32)[:, None]
    offset = x - centroids[labels]
    dist = np.sqrt(np.einsum("nd,nd->n", offset, offset, dtype=np.float64))
    order = np.lexsort((dist, labels))  # by class, then distance: each class's medians by position
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    medians = np.zeros(k)
    present = sizes > 0
    low = dist[order[starts[present] + (sizes[present] - 1) // 2]]
    high = dist[order[starts[present] + sizes[present] // 2]]
    medians[present] = (low + high) / 2
    scale = medians[labels]
    return np.where(scale > 0, dist / np.where(scale > 0, scale, 1.0), 1.0)
