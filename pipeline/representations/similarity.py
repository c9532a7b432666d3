"""Representation similarity between two networks on the same examples (SPEC section 11).

A representation is an (n, p) float64 matrix: one row per example, in the same order for both networks,
one column per unit (``flatten`` turns a layer's (n, C, H, W) activations into that).  Two such matrices
``x`` (n, p) and ``y`` (n, q) may differ in width.

* ``linear_cka``: linear centered kernel alignment (Kornblith et al. 2019),
  ``||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` with ``Xc``, ``Yc`` the column-centered matrices.
* ``debiased_linear_cka``: the same ratio built on the unbiased HSIC estimator (Song et al. 2012), as in
  Kornblith et al.'s debiased CKA and Nguyen et al. 2021.
* ``svcca``: SVCCA (Raghu et al. 2017): SVD-reduce each side to the directions that keep 99% of its
  variance, then the mean canonical correlation between the two reduced representations.

Inputs are never modified: every function works on its own float64 copies.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

# ------------------------------------------------------------------------------------------- inputs


def flatten(activations: np.ndarray) -> np.ndarray:
    """(n, ...) -> (n, prod(...)) float64: each example's activations as one row, in C order.

    ``(n,)`` becomes ``(n, 1)``.  The result is a view of the input when that is already C-contiguous
    float64 (no copy of a large layer); the functions of this module never write into their inputs.
    """
    arr = np.asarray(activations, dtype=np.float64)
    if arr.ndim == 0:
        raise ValueError(f"activations must have an example axis, got a 0-d array of shape {arr.shape}")
    return arr.reshape(arr.shape[0], math.prod(arr.shape[1:]))


def _check_pair(x: np.ndarray, y: np.ndarray, min_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 2-D arrays with the same number n >= ``min_n`` of rows, at least one column and
    only finite values; ValueError otherwise."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    for name, arr in (("x", xa), ("y", ya)):
        if arr.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (examples, features), got shape {arr.shape}; flatten() it first"
            )
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(
            f"x and y must hold the same examples (rows), got x of shape {xa.shape} and y of shape {ya.shape}"
        )
    if xa.shape[0] < min_n:
        raise ValueError(f"need at least {min_n} examples, got {xa.shape[0]} (x {xa.shape}, y {ya.shape})")
    for name, arr in (("x", xa), ("y", ya)):
        if arr.shape[1] == 0:
            raise ValueError(f"{name} has no features, shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} holds non-finite values (NaN or inf), shape {arr.shape}")
    return xa, ya


def _is_constant(x: np.ndarray) -> bool:
    """Whether every row of ``x`` equals the first, exactly: a representation with zero variance.

    Tested on the raw values because centering a constant column leaves rounding noise (the mean of n
    copies of 0.1 is not exactly 0.1), which would otherwise pass for a tiny but real signal.
    """
    return bool((x == x[:1]).all())


def _centered_unit(x: np.ndarray) -> np.ndarray:
    """(n, p) copy of ``x`` with column means removed, scaled to unit Frobenius norm: ``Xc / ||Xc||_F``.

    CKA and SVCCA are invariant to isotropic scaling; the scaling keeps Gram and cross-product entries of
    order one whatever the activations' magnitude.  Dividing by ``max |x|`` first keeps the mean and the
    norm themselves from over- or underflowing (1e200 or 1e-200 activations).  The caller has excluded
    constant input, so both divisors are positive.
    """
    xc = x / np.abs(x).max()
    xc -= xc.mean(axis=0, keepdims=True)
    xc /= np.linalg.norm(xc)
    return xc


# ---------------------------------------------------------------------------------------------- HSIC


def _prefer_gram(n: int, p: int, q: int) -> bool:
    """Whether the (n, n) Gram route is cheaper than the feature route.

    Gram route: ``Xc Xc^T`` and ``Yc Yc^T`` cost about ``n^2 (p + q)`` multiply-adds; feature route:
    ``Yc^T Xc``, ``Xc^T Xc`` and ``Yc^T Yc`` cost ``n (pq + p^2 + q^2)``.  Both give the same number.
    """
    return n * (p + q) < p * p + p * q + q * q


def _hsic_feature(xc: np.ndarray, yc: np.ndarray, debiased: bool) -> tuple[float, float, float]:
    """``(HSIC(K, L), HSIC(K, K), HSIC(L, L))`` up to one common positive factor, from the centered
    features ``xc`` (n, p), ``yc`` (n, q) without forming the (n, n) Gram matrices ``K = Xc Xc^T``,
    ``L = Yc Yc^T``.

    Biased: ``<K, L>_F = ||Yc^T Xc||_F^2``.  Debiased: with ``dK = diag(K)``, ``dL = diag(L)`` and centered
    features (so ``1^T K 1 = 0``), ``n (n - 3) HSIC_u(K, L) = <K, L>_F - n/(n-2) dK.dL
    + tr(K) tr(L) / ((n-1)(n-2))``, the feature-space form of Song et al.'s estimator used in the
    google-research CKA colab.
    """
    kl = float(np.sum((yc.T @ xc) ** 2))
    kk = float(np.sum((xc.T @ xc) ** 2))
    ll = float(np.sum((yc.T @ yc) ** 2))
    if not debiased:
        return kl, kk, ll
    n = xc.shape[0]
    dk = np.einsum("ij,ij->i", xc, xc)
    dl = np.einsum("ij,ij->i", yc, yc)
    tk, tl = float(dk.sum()), float(dl.sum())

    def unbiased(dot: float, da: np.ndarray, db: np.ndarray, ta: float, tb: float) -> float:
        return dot - n / (n - 2) * float(da @ db) + ta * tb / ((n - 1) * (n - 2))

    return unbiased(kl, dk, dl, tk, tl), unbiased(kk, dk, dk, tk, tk), unbiased(ll, dl, dl, tl, tl)


def _u_center(gram: np.ndarray) -> np.ndarray:
    """U-centering of an (n, n) symmetric Gram matrix (Székely and Rizzo 2014), in place.

    ``K~_ij = K_ij - r_i/(n-2) - r_j/(n-2) + s/((n-1)(n-2))`` off the diagonal and 0 on it, with ``r`` the
    row sums and ``s`` the total of K with its diagonal zeroed; then
    ``HSIC_u(K, L) = <K~, L~>_F / (n (n - 3))``, Song et al.'s unbiased estimator.
    """
    n = gram.shape[0]
    np.fill_diagonal(gram, 0.0)
    means = gram.sum(axis=0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    gram -= means[:, None]
    gram -= means[None, :]
    np.fill_diagonal(gram, 0.0)
    return gram


def _hsic_gram(xc: np.ndarray, yc: np.ndarray, debiased: bool) -> tuple[float, float, float]:
    """``(HSIC(K, L), HSIC(K, K), HSIC(L, L))`` up to one common positive factor, from the (n, n) Gram
    matrices ``K = Xc Xc^T``, ``L = Yc Yc^T`` of the centered features: ``<K, L>_F`` (biased; K and L are
    already centered since the features are) or ``<K~, L~>_F`` of the U-centered matrices (debiased)."""
    k = xc @ xc.T
    ell = yc @ yc.T
    if debiased:
        k = _u_center(k)
        ell = _u_center(ell)
    return float(np.vdot(k, ell)), float(np.vdot(k, k)), float(np.vdot(ell, ell))


def _cka(x: np.ndarray, y: np.ndarray, debiased: bool) -> float:
    """``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` with the biased or unbiased estimator; NaN when
    either side is constant (or, debiased, has no unbiased self-similarity left to normalize by)."""
    xa, ya = _check_pair(x, y, min_n=4 if debiased else 2)
    if _is_constant(xa) or _is_constant(ya):
        return float("nan")
    xc, yc = _centered_unit(xa), _centered_unit(ya)
    n, p = xc.shape
    route = _hsic_gram if _prefer_gram(n, p, yc.shape[1]) else _hsic_feature
    kl, kk, ll = route(xc, yc, debiased)
    if kk <= 0.0 or ll <= 0.0:
        return float("nan")
    return kl / (math.sqrt(kk) * math.sqrt(ll))


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA between ``x`` (n, p) and ``y`` (n, q), the same n examples in the same order.

    ``CKA = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` with column-centered ``Xc``, ``Yc``;
    equivalently ``<K, L>_F / (||K||_F ||L||_F)`` with ``K = Xc Xc^T``, ``L = Yc Yc^T`` (n, n), the route
    taken when n is small against p and q.  In [0, 1]; 1 for ``y = x Q s`` (Q orthogonal, s != 0).
    NaN when either representation is constant over the examples.  ValueError on non-2-D input, a
    different number of rows, fewer than 2 examples, an empty feature axis or non-finite values.
    """
    return _cka(x, y, debiased=False)


def debiased_linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Debiased linear CKA between ``x`` (n, p) and ``y`` (n, q): linear CKA with the unbiased HSIC.

    With ``K = X X^T``, ``L = Y Y^T`` (n, n) and ``K~``, ``L~`` the same with a zero diagonal,
    ``HSIC_u(K, L) = [tr(K~ L~) + (1^T K~ 1)(1^T L~ 1)/((n-1)(n-2)) - 2/(n-2) 1^T K~ L~ 1] / (n (n-3))``
    (Song et al. 2012) and ``CKA_u = HSIC_u(K, L) / sqrt(HSIC_u(K, K) HSIC_u(L, L))``.  HSIC_u does not
    change when the features are shifted, so they are centered first, for accuracy.  Near 0 (possibly
    negative) for independent representations even when p, q are not small against n, where the biased
    CKA is inflated.  Needs n >= 4; NaN for a constant representation; other errors as ``linear_cka``.
    """
    return _cka(x, y, debiased=True)


# --------------------------------------------------------------------------------------------- SVCCA


def _kept_basis(xc: np.ndarray, keep: float) -> np.ndarray:
    """(n, k) orthonormal basis of the top-k left singular directions of the centered ``xc`` (n, p).

    ``Xc = U S V^T`` (s descending, U (n, min(n, p))); k is the smallest number with
    ``sum_{i<=k} s_i^2 / sum_i s_i^2 >= keep``.  The reduced representation ``Xc V_k = U_k S_k`` spans the
    same space as ``U_k``, so ``U_k`` is its orthonormal basis.  Directions of zero variance are never
    kept, even with ``keep = 1.0``: their singular values are rounding noise (about ``eps s_max``), their
    squares (``eps^2 s_max^2``) do not move the float64 cumulative sum, so the ratio reaches exactly 1.0
    before them.  ``xc`` must not be all zeros (the caller excludes constant representations).
    """
    from scipy import linalg

    # Wide (p > n, a conv layer): xc^T = Q R with R (n, n), so xc = R^T Q^T has the U and s of R^T, an
    # (n, n) SVD instead of an (n, p) one (3 s instead of 90 s at n = 1,000, p = 50,176).
    # (numpy's stubs type mode="r" as QRResult; it returns the (n, n) R, not the (p, n) one scipy builds.)
    a = cast(np.ndarray, np.linalg.qr(xc.T, mode="r")).T if xc.shape[1] > xc.shape[0] else xc
    try:
        u, s, _ = linalg.svd(a, full_matrices=False, check_finite=False)
    except linalg.LinAlgError:  # divide-and-conquer did not converge: the slower, sturdier driver
        u, s, _ = linalg.svd(a, full_matrices=False, check_finite=False, lapack_driver="gesvd")
    cumulative = np.cumsum(s**2)
    explained = cumulative / cumulative[-1]  # non-decreasing, the last entry exactly 1.0 >= keep
    k = int(np.searchsorted(explained, keep, side="left")) + 1  # the first index with explained >= keep
    return u[:, :k]


def svcca_components(x: np.ndarray, y: np.ndarray, keep: float = 0.99) -> tuple[np.ndarray, int, int]:
    """SVCCA's canonical correlations between ``x`` (n, p) and ``y`` (n, q), and the two kept dimensions.

    Each side is centered and reduced by SVD to its fewest top directions explaining at least ``keep`` of
    its variance (kx and ky of them); with ``Qx`` (n, kx), ``Qy`` (n, ky) orthonormal bases of the reduced
    representations, the canonical correlations are the singular values of ``Qx^T Qy`` (kx, ky), clipped
    to [0, 1]: ``min(kx, ky)`` values, descending.  Empty when a side is constant (kx or ky = 0).

    CCA is invariant to any invertible linear map of either side, so with ``keep = 1.0`` SVCCA of ``x``
    and ``x A`` is 1.  With ``keep < 1`` it is 1 exactly when one kept subspace contains the other (for
    instance when one side keeps its full rank) and can be lower otherwise: ``A`` may reorder variance.
    When a kept dimension reaches n - 1 (all of the centered space), every correlation is 1: keep kx, ky
    well below n for the value to mean anything.
    """
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    xa, ya = _check_pair(x, y, min_n=2)
    qx, qy = (arr[:, :0] if _is_constant(arr) else _kept_basis(_centered_unit(arr), keep) for arr in (xa, ya))
    kx, ky = qx.shape[1], qy.shape[1]
    if kx == 0 or ky == 0:
        return np.zeros(0), kx, ky
    rho = np.linalg.svd(qx.T @ qy, compute_uv=False)
    return np.clip(rho, 0.0, 1.0), kx, ky


def svcca(x: np.ndarray, y: np.ndarray, keep: float = 0.99) -> float:
    """SVCCA similarity (Raghu et al. 2017) of ``x`` (n, p) and ``y`` (n, q): the mean of the canonical
    correlations of ``svcca_components(x, y, keep)``, in [0, 1]; NaN when either side is constant."""
    rho, _, _ = svcca_components(x, y, keep)
    return float(rho.mean()) if rho.size else float("nan")
