"""Linear CKA, debiased CKA and SVCCA (SPEC section 11) against their definitions, written out plainly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pipeline.representations import similarity as sim
from pipeline.representations.similarity import (
    debiased_linear_cka,
    flatten,
    linear_cka,
    svcca,
    svcca_components,
)

CKAS = [linear_cka, debiased_linear_cka]


def gaussian(seed: int, n: int, p: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, p))


def orthogonal(seed: int, p: int) -> np.ndarray:
    q, _ = np.linalg.qr(gaussian(seed, p, p))
    return q


def anisotropic(seed: int, p: int, low: float = 1e-2) -> np.ndarray:
    """Random invertible (p, p) map with singular values spread from 1 to ``low``."""
    return orthogonal(seed, p) @ np.diag(np.geomspace(1.0, low, p)) @ orthogonal(seed + 1, p)


def direct_linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F), literally."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    fro = np.linalg.norm
    return fro(yc.T @ xc) ** 2 / (fro(xc.T @ xc) * fro(yc.T @ yc))


def direct_hsic_u(k: np.ndarray, ell: np.ndarray) -> float:
    """Song et al. (2012): [tr(K~L~) + (1'K~1)(1'L~1)/((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))."""
    n = k.shape[0]
    kt = k - np.diag(np.diag(k))
    lt = ell - np.diag(np.diag(ell))
    one = np.ones(n)
    return (
        np.trace(kt @ lt)
        + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ kt @ lt @ one)
    ) / (n * (n - 3))


def direct_debiased_cka(x: np.ndarray, y: np.ndarray) -> float:
    """HSIC_u(K, L) / sqrt(HSIC_u(K, K) HSIC_u(L, L)) on the raw (uncentered) Gram matrices."""
    k, ell = x @ x.T, y @ y.T
    return direct_hsic_u(k, ell) / np.sqrt(direct_hsic_u(k, k) * direct_hsic_u(ell, ell))


# --------------------------------------------------------------------------------------- 1. identity


@pytest.mark.parametrize("cka", CKAS)
@pytest.mark.parametrize(("n", "p"), [(200, 20), (40, 64)])
def test_cka_of_a_representation_with_itself_is_one(cka, n: int, p: int) -> None:
    x = gaussian(0, n, p) + 3.0
    assert cka(x, x) == pytest.approx(1.0, abs=1e-10)


def test_svcca_of_a_representation_with_itself_is_one() -> None:
    x = gaussian(0, 150, 20)
    rho, kx, ky = svcca_components(x, x, keep=0.99)
    assert kx == ky > 0
    np.testing.assert_allclose(rho, 1.0, atol=1e-10)
    assert np.all(rho <= 1.0)  # exactly: unclipped, rounding puts them a few ulps above 1
    assert svcca(x, x) == pytest.approx(1.0, abs=1e-10)


# --------------------------------------------------------------------------------------- 2. invariances


@pytest.mark.parametrize("measure", [*CKAS, svcca])
@pytest.mark.parametrize(("n", "p"), [(200, 20), (50, 64)])
def test_invariant_to_orthogonal_maps_and_isotropic_scaling(measure, n: int, p: int) -> None:
    x = gaussian(1, n, p) @ anisotropic(2, p, low=0.3)  # a spectrum of its own, so SVCCA truncates
    y = x + 0.5 * gaussian(3, n, p)  # related but not identical: the value is not trivially 1
    base = measure(x, y)
    assert 0.05 < base < 0.999
    assert measure(x @ orthogonal(4, p), y) == pytest.approx(base, abs=1e-10)
    assert measure(x, y @ orthogonal(5, p)) == pytest.approx(base, abs=1e-10)
    assert measure(3.7 * x, y) == pytest.approx(base, abs=1e-10)
    assert measure(x, 1e-3 * y) == pytest.approx(base, abs=1e-10)
    assert measure(x + 5.0, y - 2.0) == pytest.approx(base, abs=1e-10)  # centering
    assert measure(1e200 * x, 1e-200 * y) == pytest.approx(base, abs=1e-10)  # no overflow or underflow


# ------------------------------------------------------------------------------- 3. general linear maps


@pytest.mark.parametrize("cka", CKAS)
def test_cka_is_not_invariant_to_an_anisotropic_linear_map(cka) -> None:
    x = gaussian(6, 200, 20)
    value = cka(x, x @ anisotropic(7, 20))
    assert value < 1.0 - 1e-3


def test_svcca_keeping_all_variance_is_invariant_to_invertible_maps() -> None:
    x = gaussian(8, 200, 20)
    a = gaussian(9, 20, 20)  # a random, full-rank, non-orthogonal square matrix
    assert np.linalg.cond(a) > 10.0
    rho, kx, ky = svcca_components(x, x @ a, keep=1.0)
    assert (kx, ky) == (20, 20)
    np.testing.assert_allclose(rho, 1.0, atol=1e-10)
    assert np.all(rho <= 1.0)
    assert svcca(x, x @ anisotropic(10, 20, low=1e-4), keep=1.0) == pytest.approx(1.0, abs=1e-10)


def test_svcca_at_99_percent_is_one_when_a_side_keeps_its_full_rank() -> None:
    # x has an isotropic spectrum (each of its 20 directions explains 5%), so 99% keeps all 20: its kept
    # subspace is the whole column space, which contains whatever x A keeps.
    n, p = 200, 20
    u, _ = np.linalg.qr(gaussian(11, n, p) - gaussian(11, n, p).mean(axis=0))
    x = u - u.mean(axis=0)
    singular = np.geomspace(1.0, 1e-3, p)  # x A has singular values proportional to these
    a = orthogonal(12, p) @ np.diag(singular) @ orthogonal(13, p)
    explained = np.cumsum(singular**2) / np.sum(singular**2)
    expected_ky = int(np.argmax(explained >= 0.99)) + 1
    rho, kx, ky = svcca_components(x, x @ a, keep=0.99)
    assert (kx, ky) == (p, expected_ky)
    assert ky < p  # x A really was truncated
    np.testing.assert_allclose(rho, 1.0, atol=1e-10)
    assert svcca(x, x @ a, keep=0.99) == pytest.approx(1.0, abs=1e-10)


def test_svcca_at_99_percent_is_not_invariant_when_both_sides_truncate() -> None:
    # x = variances (1, 1, 0.0025) along u1, u2, u3; A swaps the scales of u2 and u3.  99% keeps
    # span(u1, u2) of x and span(u1, u3) of x A: canonical correlations (1, 0), SVCCA exactly 0.5,
    # although x A is an invertible map of x (keep = 1.0 gives 1).
    u, _ = np.linalg.qr(gaussian(14, 120, 3) - gaussian(14, 120, 3).mean(axis=0))
    u = u - u.mean(axis=0)
    x = u @ np.diag([1.0, 1.0, 0.05]) @ orthogonal(15, 3)
    y = u @ np.diag([1.0, 0.05, 1.0]) @ orthogonal(16, 3)
    rho, kx, ky = svcca_components(x, y, keep=0.99)
    assert (kx, ky) == (2, 2)
    np.testing.assert_allclose(rho, [1.0, 0.0], atol=1e-10)
    assert svcca(x, y, keep=0.99) == pytest.approx(0.5, abs=1e-10)
    assert svcca(x, y, keep=1.0) == pytest.approx(1.0, abs=1e-10)


# ------------------------------------------------------------------------- 4. the formulas, written out


REGIMES = [
    pytest.param(200, 20, 30, False, id="n>p-feature-route"),
    pytest.param(40, 64, 100, True, id="n<p-gram-route"),
]


@pytest.mark.parametrize(("n", "p", "q", "gram"), REGIMES)
def test_linear_cka_matches_the_feature_space_formula(n: int, p: int, q: int, gram: bool) -> None:
    assert sim._prefer_gram(n, p, q) is gram  # both code paths are exercised
    x = gaussian(20, n, p) + 1.0
    y = x[:, : min(p, q)] @ gaussian(21, min(p, q), q) + 2.0 * gaussian(22, n, q)
    expected = direct_linear_cka(x, y)
    assert 0.05 < expected < 0.95
    assert linear_cka(x, y) == pytest.approx(expected, rel=1e-12)
    assert linear_cka(y, x) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("n", "p", "q", "gram"), REGIMES)
def test_debiased_cka_matches_song_et_al_hsic_u(n: int, p: int, q: int, gram: bool) -> None:
    assert sim._prefer_gram(n, p, q) is gram
    x = gaussian(23, n, p) + 0.5  # not centered: HSIC_u ignores a shift, the implementation centers
    y = x[:, : min(p, q)] @ gaussian(24, min(p, q), q) + 2.0 * gaussian(25, n, q)
    expected = direct_debiased_cka(x, y)
    assert 0.05 < expected < 0.95
    assert debiased_linear_cka(x, y) == pytest.approx(expected, rel=1e-9)
    assert debiased_linear_cka(y, x) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize(("n", "p", "q"), [(60, 10, 15), (30, 80, 50)])
def test_feature_and_gram_routes_agree(debiased: bool, n: int, p: int, q: int) -> None:
    x = sim._centered_unit(gaussian(26, n, p))
    y = sim._centered_unit(x[:, :1] * gaussian(27, 1, q) + gaussian(28, n, q))
    np.testing.assert_allclose(
        sim._hsic_feature(x, y, debiased), sim._hsic_gram(x, y, debiased), rtol=1e-10, atol=1e-14
    )


@pytest.mark.parametrize(
    ("n", "p", "q", "low"),
    [pytest.param(300, 12, 9, 0.05, id="tall"), pytest.param(100, 150, 60, 1e-3, id="wide")],
)
def test_svcca_matches_cca_of_the_svd_reduced_representations(n: int, p: int, q: int, low: float) -> None:
    # Reduced representations Xc V_k, then textbook CCA: the singular values of Sxx^-1/2 Sxy Syy^-1/2.
    # Wide (p > n) takes the QR route to the SVD.
    x = gaussian(29, n, p) @ anisotropic(30, p, low=low)
    y = x @ gaussian(31, p, q) + 0.3 * gaussian(32, n, q)

    def reduce(a: np.ndarray) -> np.ndarray:
        ac = a - a.mean(axis=0)
        _, s, vt = np.linalg.svd(ac, full_matrices=False)
        k = int(np.argmax(np.cumsum(s**2) / np.sum(s**2) >= 0.99)) + 1
        return ac @ vt[:k].T

    rx, ry = reduce(x), reduce(y)

    def inv_sqrt(c: np.ndarray) -> np.ndarray:
        w, v = np.linalg.eigh(c)
        return v @ np.diag(w**-0.5) @ v.T

    expected = np.linalg.svd(inv_sqrt(rx.T @ rx) @ (rx.T @ ry) @ inv_sqrt(ry.T @ ry), compute_uv=False)
    rho, kx, ky = svcca_components(x, y, keep=0.99)
    assert (kx, ky) == (rx.shape[1], ry.shape[1])
    assert kx < min(n - 1, p)  # the 99% rule did truncate
    assert kx + ky < n - 1  # not forced to share directions by the dimension count alone
    np.testing.assert_allclose(rho, expected, atol=1e-9)
    assert svcca(x, y) == pytest.approx(expected.mean(), abs=1e-9)


# ------------------------------------------------------------------------------ 5. independent data


def test_independent_representations_are_dissimilar() -> None:
    x, y = gaussian(40, 1000, 10), gaussian(41, 1000, 10)
    assert linear_cka(x, y) < 0.2
    assert abs(debiased_linear_cka(x, y)) < 0.05
    assert svcca(x, y) < 0.2


def test_debiased_cka_removes_the_small_sample_bias() -> None:
    # With p, q comparable to n, the biased CKA of independent data is far from 0; the debiased is not.
    x, y = gaussian(42, 50, 200), gaussian(43, 50, 200)
    assert linear_cka(x, y) > 0.5
    assert abs(debiased_linear_cka(x, y)) < 0.05


# ------------------------------------------------------------------------------- 6. kept dimensions


@pytest.mark.parametrize(("keep", "expected"), [(0.5, 1), (0.9, 2), (0.99, 3), (1.0, 3)])
def test_kept_dimensions_follow_the_variance_rule(keep: float, expected: int) -> None:
    # Rank 3 in 10 dimensions, variances 9 : 4 : 1 (fractions 0.643, 0.286, 0.071): the seven
    # zero-variance directions are never kept, not even with keep = 1.0.
    u, _ = np.linalg.qr(gaussian(50, 100, 3) - gaussian(50, 100, 3).mean(axis=0))
    u = u - u.mean(axis=0)
    x = u @ np.diag([3.0, 2.0, 1.0]) @ orthogonal(51, 10)[:3] + 7.0
    y = gaussian(52, 100, 10)
    rho, kx, ky = svcca_components(x, y, keep=keep)
    assert kx == expected
    assert ky == svcca_components(y, y, keep=keep)[1]
    assert rho.shape == (min(kx, ky),)
    assert np.all(np.diff(rho) <= 0.0)
    assert np.all((rho >= 0.0) & (rho <= 1.0))


def test_svcca_rejects_a_keep_outside_0_1() -> None:
    x = gaussian(53, 20, 3)
    for keep in (0.0, -0.1, 1.01):
        with pytest.raises(ValueError, match="keep"):
            svcca(x, x, keep=keep)


# -------------------------------------------------------------------------------------- 7. errors


@pytest.mark.parametrize("measure", [*CKAS, svcca])
def test_mismatched_examples_name_both_shapes(measure) -> None:
    with pytest.raises(ValueError, match=r"\(50, 8\).*\(49, 8\)"):
        measure(gaussian(60, 50, 8), gaussian(61, 49, 8))


@pytest.mark.parametrize("measure", [*CKAS, svcca])
def test_non_2d_or_empty_or_non_finite_input_is_rejected(measure) -> None:
    x = gaussian(62, 20, 4)
    with pytest.raises(ValueError, match="2-D"):
        measure(x.reshape(20, 2, 2), x)
    with pytest.raises(ValueError, match="2-D"):
        measure(x, x[:, 0])
    with pytest.raises(ValueError, match="no features"):
        measure(x, np.zeros((20, 0)))
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        measure(x, bad)


def test_too_few_examples_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        linear_cka(np.ones((1, 3)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="at least 4"):
        debiased_linear_cka(gaussian(63, 3, 5), gaussian(64, 3, 5))
    assert np.isfinite(debiased_linear_cka(gaussian(63, 4, 5), gaussian(64, 4, 5)))


@pytest.mark.parametrize("measure", [*CKAS, svcca])
@pytest.mark.parametrize(("n", "p"), [(100, 10), (20, 64)])
def test_a_constant_representation_gives_nan(measure, n: int, p: int) -> None:
    y = gaussian(65, n, p)
    # 0.1 is not exactly representable: centering leaves rounding noise that must not pass for signal.
    for constant in (np.zeros((n, p)), np.full((n, p), 0.1), np.tile(gaussian(66, 1, p), (n, 1))):
        assert np.isnan(measure(constant, y))
        assert np.isnan(measure(y, constant))


def test_svcca_components_of_a_constant_representation_are_empty() -> None:
    y = gaussian(67, 30, 5)
    rho, kx, ky = svcca_components(np.full((30, 4), 0.1), y)
    assert rho.shape == (0,)
    assert (kx, ky) == (0, 5)


# ---------------------------------------------------------------------------------- inputs untouched


@pytest.mark.parametrize("measure", [*CKAS, svcca, svcca_components])
@pytest.mark.parametrize(("n", "p"), [(100, 10), (20, 64)])
def test_inputs_are_not_modified(measure, n: int, p: int) -> None:
    x = gaussian(70, n, p) + 4.0  # float64, C-contiguous: the dtype conversion would not copy
    y = np.asfortranarray(gaussian(71, n, p + 3).astype(np.float32))
    x_before, y_before = x.copy(), y.copy()
    measure(x, y)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)
    assert y.dtype == np.float32


# --------------------------------------------------------------------------------------------- flatten


def test_flatten_gives_one_float64_row_per_example() -> None:
    acts = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    before = acts.copy()
    flat = flatten(acts)
    assert flat.shape == (2, 60)
    assert flat.dtype == np.float64
    np.testing.assert_array_equal(flat[1], acts[1].ravel())
    np.testing.assert_array_equal(acts, before)
    assert flatten(np.arange(4.0)).shape == (4, 1)
    assert flatten(np.zeros((0, 3, 2))).shape == (0, 6)
    with pytest.raises(ValueError, match="example axis"):
        flatten(np.float64(1.0))


def test_flattened_activations_feed_the_measures() -> None:
    acts = gaussian(72, 30, 2 * 4 * 4).reshape(30, 2, 4, 4)
    assert linear_cka(flatten(acts), flatten(acts)) == pytest.approx(1.0, abs=1e-10)


# ------------------------------------------------------------ one representation against many (reuse)


def related(seed: int, n: int, p: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """x (n, p) and y (n, q): y a noisy anisotropic linear map of x, every measure strictly in (0, 1)."""
    x = gaussian(seed, n, p) @ anisotropic(seed + 1, p, low=1e-2)
    y = x @ gaussian(seed + 2, p, q) + 0.5 * gaussian(seed + 3, n, q)
    return x, y


# (n, p, q): both Gram form (p, q >= n), both feature form, and one of each
SHAPES = [(40, 64, 80), (120, 10, 30), (50, 8, 70), (50, 70, 8)]


@pytest.mark.parametrize(("n", "p", "q"), SHAPES)
@pytest.mark.parametrize("keep", [0.9, 0.99, 1.0])
def test_svcca_from_kept_bases_equals_svcca(n: int, p: int, q: int, keep: float) -> None:
    x, y = related(n + p, n, p, q)
    qx, qy = sim.kept_basis(x, keep), sim.kept_basis(y, keep)
    _, kx, ky = svcca_components(x, y, keep)
    assert (qx.shape, qy.shape) == ((n, kx), (n, ky))
    np.testing.assert_allclose(qx.T @ qx, np.eye(kx), atol=1e-12)
    assert sim.svcca_from_bases(qx, qy) == svcca(x, y, keep)
    assert 0.0 < svcca(x, y, keep) < 1.0 or keep == 1.0


@pytest.mark.parametrize(("n", "p", "q"), SHAPES)
def test_cka_from_sides_equals_the_pairwise_functions(n: int, p: int, q: int) -> None:
    x, y = related(n * p, n, p, q)
    a, b = sim.cka_side(x), sim.cka_side(y)
    assert (a.gram is not None, b.gram is not None) == (p >= n, q >= n)  # the smaller of the two stores
    linear, debiased = sim.cka_between(a, b)
    assert abs(linear - linear_cka(x, y)) < 1e-10
    assert abs(debiased - debiased_linear_cka(x, y)) < 1e-10
    assert 0.0 < linear < 1.0
    assert sim.cka_between(b, a) == pytest.approx((linear, debiased), abs=1e-12)
    assert sim.cka_between(a, a) == pytest.approx((1.0, 1.0), abs=1e-12)


def test_compare_of_summaries_gives_all_three_measures() -> None:
    x, y = related(5, 60, 90, 12)
    result = sim.compare(sim.summarize(x, 0.95), sim.summarize(y, 0.95))
    assert abs(result.linear_cka - linear_cka(x, y)) < 1e-10
    assert abs(result.debiased_cka - debiased_linear_cka(x, y)) < 1e-10
    assert result.svcca == svcca(x, y, 0.95)
    _, kx, ky = svcca_components(x, y, 0.95)
    assert (result.svcca_dims_x, result.svcca_dims_y) == (kx, ky)
    assert sim.summarize(x).width == 90


def test_reuse_of_a_constant_representation_gives_nan_and_no_basis() -> None:
    x = gaussian(0, 30, 5)
    flat = np.full((30, 50), 0.1)
    summary = sim.summarize(flat)
    assert summary.basis.shape == (30, 0) and summary.cka.constant
    result = sim.compare(sim.summarize(x), summary)
    assert np.isnan([result.linear_cka, result.debiased_cka, result.svcca]).all()
    assert (result.svcca_dims_x, result.svcca_dims_y) == (5, 0)


def test_reuse_rejects_what_the_pairwise_functions_reject() -> None:
    with pytest.raises(ValueError, match="keep must be in"):
        sim.kept_basis(gaussian(0, 10, 3), 0.0)
    with pytest.raises(ValueError, match="non-finite"):
        sim.cka_side(np.array([[1.0], [np.nan], [0.0], [2.0]]))
    with pytest.raises(ValueError, match="at least 4 examples"):
        sim.cka_side(gaussian(0, 3, 2))
    with pytest.raises(ValueError, match="different numbers of examples: 10 and 12"):
        sim.cka_between(sim.cka_side(gaussian(0, 10, 3)), sim.cka_side(gaussian(0, 12, 3)))
    with pytest.raises(ValueError, match="same rows"):
        sim.svcca_from_bases(np.zeros((10, 2)), np.zeros((12, 2)))


def test_pairs_reuse_each_side_without_centering_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stage's case: five members' conv inputs (p > n), every pair compared. Each member is
    centered and its Gram matrix U-centered once, in cka_side; cka_between only takes inner products
    (the work the pairwise functions repeat for every pair), and gives their numbers. Counted, not timed:
    the speed itself is a benchmark's business."""
    calls = {"center": 0, "u_center": 0}

    def counted(name: str, fn: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            calls[name] += 1
            return fn(*args)

        return wrapper

    monkeypatch.setattr(sim, "_centered_unit", counted("center", sim._centered_unit))
    monkeypatch.setattr(sim, "_u_center", counted("u_center", sim._u_center))
    members = [gaussian(seed, 300, 1500) for seed in range(5)]
    sides = [sim.cka_side(m) for m in members]
    assert calls == {"center": 5, "u_center": 5}
    for i in range(5):
        for j in range(i + 1, 5):
            got = sim.cka_between(sides[i], sides[j])
            want = (linear_cka(members[i], members[j]), debiased_linear_cka(members[i], members[j]))
            assert got == pytest.approx(want, abs=1e-12)
    assert calls == {"center": 5 + 10 * 4, "u_center": 5 + 10 * 2}  # only the pairwise functions' own


@pytest.mark.parametrize(("n", "p"), [(20, 50), (20, 5), (20, 0)])  # gram form, feature form, constant
def test_a_summary_rebuilt_from_its_arrays_compares_bit_for_bit(n: int, p: int) -> None:
    """What the dense reference stores (summary_arrays) rebuilds a summary whose every comparison gives
    the same bits as the fresh one: the arrays keep their memory order, the rest is recomputed."""
    x = np.ones((n, 3)) if p == 0 else gaussian(1, n, p)
    others = [sim.summarize(gaussian(seed, n, q)) for seed, q in ((2, 7), (3, 40))]
    fresh = sim.summarize(x)
    arrays = sim.summary_arrays(fresh)
    assert set(arrays) == {"basis"} | ({"gram"} if p >= n else {"xc"} if p else set())
    rebuilt = sim.summary_from_arrays(fresh.width, {k: v.copy(order="K") for k, v in arrays.items()})
    assert rebuilt.width == fresh.width and rebuilt.cka.constant == fresh.cka.constant
    for other in others:
        for a, b in ((rebuilt, other), (other, rebuilt)):
            got, want = (
                sim.compare(a, b),
                sim.compare(fresh if a is rebuilt else a, fresh if b is rebuilt else b),
            )
            assert np.array_equal(
                [got.linear_cka, got.debiased_cka, got.svcca],
                [want.linear_cka, want.debiased_cka, want.svcca],
                equal_nan=True,
            )
            assert (got.svcca_dims_x, got.svcca_dims_y) == (want.svcca_dims_x, want.svcca_dims_y)
