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

Comparing one representation with many (a member against its compressed twin and against every other
dense member) reuses the work done on each side: ``summarize`` reduces a representation once (its
centered Gram matrices for CKA, its SVD-kept basis for SVCCA) and ``compare`` of two summaries gives the
same three numbers as the pairwise functions, at the cost of an inner product.

Inputs are never modified: every function works on its own float64 copies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
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
    return (
        _unbiased(n, kl, dk, dl, tk, tl),
        _unbiased(n, kk, dk, dk, tk, tk),
        _unbiased(n, ll, dl, dl, tl, tl),
    )


def _unbiased(n: int, dot: float, da: np.ndarray, db: np.ndarray, ta: float, tb: float) -> float:
    """``n (n - 3) HSIC_u`` from ``<K, L>_F``, the Gram diagonals and traces of centered features."""
    return dot - n / (n - 2) * float(da @ db) + ta * tb / ((n - 1) * (n - 2))


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
    _check_keep(keep)
    xa, ya = _check_pair(x, y, min_n=2)
    qx, qy = _basis(xa, keep), _basis(ya, keep)
    return _canonical_correlations(qx, qy), qx.shape[1], qy.shape[1]


def _check_keep(keep: float) -> None:
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep must be in (0, 1], got {keep}")


def _basis(xa: np.ndarray, keep: float) -> np.ndarray:
    """(n, k) kept basis of the checked ``xa``; (n, 0) when it is constant."""
    return xa[:, :0] if _is_constant(xa) else _kept_basis(_centered_unit(xa), keep)


def _canonical_correlations(qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
    """Singular values of ``qx^T qy`` clipped to [0, 1], descending; empty when either basis is."""
    if qx.shape[1] == 0 or qy.shape[1] == 0:
        return np.zeros(0)
    return np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False), 0.0, 1.0)


def svcca(x: np.ndarray, y: np.ndarray, keep: float = 0.99) -> float:
    """SVCCA similarity (Raghu et al. 2017) of ``x`` (n, p) and ``y`` (n, q): the mean of the canonical
    correlations of ``svcca_components(x, y, keep)``, in [0, 1]; NaN when either side is constant."""
    rho, _, _ = svcca_components(x, y, keep)
    return float(rho.mean()) if rho.size else float("nan")


# ------------------------------------------------------------------- one representation against many


def kept_basis(x: np.ndarray, keep: float = 0.99) -> np.ndarray:
    """(n, k) orthonormal basis of ``x``'s (n, p) SVCCA-reduced representation: ``x`` centered and
    unit-scaled as in ``svcca_components``, then its top-k left singular directions keeping ``keep`` of
    the variance.  (n, 0) for a constant ``x``.  ``svcca_from_bases(kept_basis(x), kept_basis(y))`` equals
    ``svcca(x, y)``, with one SVD per representation however many others it is compared with.
    """
    _check_keep(keep)
    xa, _ = _check_pair(x, x, min_n=2)
    return _basis(xa, keep)


def svcca_from_bases(qx: np.ndarray, qy: np.ndarray) -> float:
    """SVCCA of two representations from their ``kept_basis`` (n, kx) and (n, ky): the mean canonical
    correlation; NaN when kx or ky is 0 (a constant representation)."""
    if qx.ndim != 2 or qy.ndim != 2 or qx.shape[0] != qy.shape[0]:
        raise ValueError(f"bases must be 2-D with the same rows, got shapes {qx.shape} and {qy.shape}")
    rho = _canonical_correlations(qx, qy)
    return float(rho.mean()) if rho.size else float("nan")


@dataclass(frozen=True)
class CkaSide:
    """What linear and debiased CKA need from one representation (n, p), computed once, so that comparing
    it with many others costs one (n, n) inner product per pair instead of two (n, n, p) Gram products.

    Gram form (p >= n): ``gram`` is ``K = Xc Xc^T`` (n, n) of the centered, unit-scaled features and
    ``u_gram`` its U-centering.  Feature form (p < n, storing less than the Gram matrix): ``xc`` (n, p)
    with ``diag`` = diag(K) and ``trace`` = tr(K).  ``self_biased`` / ``self_unbiased``: HSIC(K, K) of
    either estimator, up to the factor that pair terms share.  ``constant``: every row equal (CKA NaN).
    """

    n: int
    constant: bool = False
    xc: np.ndarray | None = None
    diag: np.ndarray | None = None
    trace: float = 0.0
    gram: np.ndarray | None = None
    u_gram: np.ndarray | None = None
    self_biased: float = 0.0
    self_unbiased: float = 0.0


def cka_side(x: np.ndarray) -> CkaSide:
    """The CKA statistics of ``x`` (n, p), n >= 4; ``cka_between`` of two of them equals ``linear_cka``
    and ``debiased_linear_cka`` of the matrices (to rounding, about 1e-15).  Errors as those."""
    xa, _ = _check_pair(x, x, min_n=4)
    n, p = xa.shape
    if _is_constant(xa):
        return CkaSide(n, constant=True)
    xc = _centered_unit(xa)
    return gram_side(xc @ xc.T) if p >= n else feature_side(xc)


def gram_side(k: np.ndarray) -> CkaSide:
    """The Gram form of :class:`CkaSide` from ``K = Xc Xc^T`` (n, n) of the centered, unit-scaled
    features (what :func:`cka_side` builds for p >= n)."""
    u = _u_center(k.copy())
    return CkaSide(
        k.shape[0], gram=k, u_gram=u, self_biased=float(np.vdot(k, k)), self_unbiased=float(np.vdot(u, u))
    )


def feature_side(xc: np.ndarray) -> CkaSide:
    """The feature form of :class:`CkaSide` from the centered, unit-scaled features ``xc`` (n, p) (what
    :func:`cka_side` builds for p < n)."""
    n = xc.shape[0]
    diag = np.einsum("ij,ij->i", xc, xc)  # (n,) diag(K)
    trace = float(diag.sum())
    biased = float(np.sum((xc.T @ xc) ** 2))
    return CkaSide(
        n,
        xc=xc,
        diag=diag,
        trace=trace,
        self_biased=biased,
        self_unbiased=_unbiased(n, biased, diag, diag, trace, trace),
    )


def _gram_form(side: CkaSide) -> tuple[np.ndarray, np.ndarray]:
    """(K, U-centered K) of either form (built here for a feature-form side)."""
    if side.gram is not None and side.u_gram is not None:
        return side.gram, side.u_gram
    assert side.xc is not None
    k = side.xc @ side.xc.T
    return k, _u_center(k.copy())


def _cross_terms(a: CkaSide, b: CkaSide) -> tuple[float, float]:
    """``(<K, L>_F, n (n - 3) HSIC_u(K, L))`` with the common factor of the sides' self terms."""
    if a.xc is not None and b.xc is not None:
        assert a.diag is not None and b.diag is not None
        biased = float(np.sum((b.xc.T @ a.xc) ** 2))
        return biased, _unbiased(a.n, biased, a.diag, b.diag, a.trace, b.trace)
    (k, ku), (ell, lu) = _gram_form(a), _gram_form(b)
    return float(np.vdot(k, ell)), float(np.vdot(ku, lu))


def cka_between(a: CkaSide, b: CkaSide) -> tuple[float, float]:
    """(linear CKA, debiased linear CKA) of the two representations behind ``a`` and ``b`` (the same n
    examples in the same order); NaN as ``linear_cka`` / ``debiased_linear_cka``."""
    if a.n != b.n:
        raise ValueError(f"the two representations hold different numbers of examples: {a.n} and {b.n}")
    if a.constant or b.constant:
        return float("nan"), float("nan")
    biased, unbiased = _cross_terms(a, b)

    def ratio(cross: float, aa: float, bb: float) -> float:
        return cross / (math.sqrt(aa) * math.sqrt(bb)) if aa > 0.0 and bb > 0.0 else float("nan")

    return (
        ratio(biased, a.self_biased, b.self_biased),
        ratio(unbiased, a.self_unbiased, b.self_unbiased),
    )


@dataclass(frozen=True)
class Summary:
    """One representation (n, p) reduced to what all three similarities need (see :func:`summarize`)."""

    width: int  # p
    cka: CkaSide
    basis: np.ndarray  # (n, k) SVCCA kept basis; k = 0 for a constant representation


@dataclass(frozen=True)
class Similarity:
    """Linear CKA, debiased CKA and SVCCA of two representations, and the dimensions SVCCA kept."""

    linear_cka: float
    debiased_cka: float
    svcca: float
    svcca_dims_x: int
    svcca_dims_y: int


def summarize(x: np.ndarray, keep: float = 0.99) -> Summary:
    """``x`` (n, p), n >= 4, reduced once: its CKA statistics and its SVCCA basis keeping ``keep``."""
    return Summary(int(np.shape(x)[1]), cka_side(x), kept_basis(x, keep))


def compare(x: Summary, y: Summary) -> Similarity:
    """The similarities of two summarized representations of the same examples; equal (to rounding) to
    ``linear_cka``, ``debiased_linear_cka`` and ``svcca`` of the matrices."""
    linear, debiased = cka_between(x.cka, y.cka)
    return Similarity(
        linear, debiased, svcca_from_bases(x.basis, y.basis), x.basis.shape[1], y.basis.shape[1]
    )


def summary_arrays(summary: Summary) -> dict[str, np.ndarray]:
    """The least that rebuilds ``summary`` exactly (:func:`summary_from_arrays`): its SVCCA ``basis`` and,
    unless the representation is constant, its Gram matrix ``gram`` (p >= n) or its centered features
    ``xc`` (p < n); every other statistic follows from these by the same operations that made it."""
    side = summary.cka
    arrays = {"basis": summary.basis}
    if side.gram is not None:
        arrays["gram"] = side.gram
    elif side.xc is not None:
        arrays["xc"] = side.xc
    return arrays


def summary_from_arrays(width: int, arrays: Mapping[str, np.ndarray]) -> Summary:
    """Inverse of :func:`summary_arrays` for a representation of ``width`` units: equal to the summary
    stored, bit for bit, so that :func:`compare` gives the same numbers as on the fresh one."""
    basis = arrays["basis"]
    if "gram" in arrays:
        side = gram_side(arrays["gram"])
    elif "xc" in arrays:
        side = feature_side(arrays["xc"])
    else:
        side = CkaSide(basis.shape[0], constant=True)
    return Summary(width, side, basis)
