"""ferrolinalg.PCA against scikit-learn's PCA: every solver, both dtypes, signs included."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import checked, eps, layouts, param_id
from sklearn.base import clone
from sklearn.decomposition import PCA as SkPCA
from sklearn.pipeline import Pipeline

import ferrolinalg as fl

DTYPES = (np.float32, np.float64)


def data(m: int, n: int, dtype: type, seed: int = 0, rank: int | None = None) -> np.ndarray:
    """Graded data with an offset: column scales from 5 down to 0.1 (distinct variances), or a
    noisy rank-``rank`` matrix (a clear gap after ``rank`` components)."""
    rng = np.random.default_rng(seed)
    if rank is not None:
        x = rng.standard_normal((m, rank)) @ (rng.standard_normal((rank, n)) * np.linspace(3, 1, rank)[:, None])
        x += 0.05 * rng.standard_normal((m, n))
    else:
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        x = (rng.standard_normal((m, n)) * np.geomspace(5, 0.1, n)) @ q.T
    return (x + np.linspace(-3, 3, n)).astype(dtype)


def assert_same_model(ours: fl.PCA, theirs: SkPCA, dtype: type, rtol: float) -> None:
    assert ours.n_components_ == theirs.n_components_
    for name in ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == b.dtype == dtype, name
        assert a.shape == b.shape, name
        scale = np.abs(b).max(initial=0.0) if name in ("components_", "mean_") else np.abs(b)
        np.testing.assert_array_less(np.abs(a.astype(np.float64) - b), rtol * scale + 1e-30, err_msg=name)
    np.testing.assert_allclose(float(ours.noise_variance_), float(theirs.noise_variance_), rtol=rtol * 10, atol=rtol * 1e-3)
    assert ours.n_samples_ == theirs.n_samples_ and ours.n_features_in_ == theirs.n_features_in_


def assert_as_accurate(ours: fl.PCA, theirs: SkPCA, exact: SkPCA, dtype: type, factor: float = 2.0) -> None:
    """``ours`` is within ``factor`` times scikit-learn's own error of the float64 fit ``exact``, per
    attribute. For float32 ``covariance_eigh`` both sides' rounding in ``X^T X`` is amplified by
    the subtraction of the mean's outer product and by gaps of ~0.0025 between the smallest
    eigenvalues of a covariance of norm ~25: ~1e-6 relative error in the covariance becomes
    ~3e-4 and ~5e-4 in the last components (ours and scikit-learn's on ``data(400, 30)``), so the
    two cannot agree to 2e-4 and the fair question is which is nearer the exact model."""
    assert ours.n_components_ == theirs.n_components_ == exact.n_components_
    for name in ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_"):
        a, b, c = getattr(ours, name), getattr(theirs, name), getattr(exact, name)
        assert a.dtype == b.dtype == dtype and a.shape == b.shape == c.shape, name
        err_ours = np.abs(a.astype(np.float64) - c).max(initial=0.0)
        err_theirs = np.abs(b.astype(np.float64) - c).max(initial=0.0)
        scale = np.abs(c).max(initial=0.0)
        assert err_ours <= factor * err_theirs + 4 * eps(dtype) * scale, f"{name}: ours {err_ours:.3g}, scikit-learn {err_theirs:.3g}"


@pytest.mark.parametrize("dtype", DTYPES, ids=param_id)
@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
@pytest.mark.parametrize("n_components", [None, 5, 0.9, "mle", 0])
@pytest.mark.parametrize("whiten", [False, True])
def test_exact_solvers_equal_sklearn(dtype: type, solver: str, n_components: object, whiten: bool) -> None:
    x = data(400, 30, dtype)
    ours = checked(fl.PCA(n_components, svd_solver=solver, whiten=whiten).fit, x)
    theirs = SkPCA(n_components, svd_solver=solver, whiten=whiten).fit(x)
    rtol = 2e-4 if dtype == np.float32 else 1e-9
    xt = x[:50]
    if dtype == np.float32 and solver == "covariance_eigh":
        # see assert_as_accurate: the results are compared by their distance to the float64 fit
        exact = SkPCA(n_components, svd_solver=solver, whiten=whiten).fit(x.astype(np.float64))
        assert_as_accurate(ours, theirs, exact, dtype)
        x64 = x.astype(np.float64)
        z = ours.fit_transform(x)
        results = [(ours.transform(xt), theirs.transform(xt), exact.transform(xt.astype(np.float64))),
                   (z, theirs.fit_transform(x), exact.transform(x64))]
        if ours.n_components_ > 0:
            z20 = z[:20].astype(np.float64)
            results.append((ours.inverse_transform(z[:20]), theirs.inverse_transform(z[:20]), exact.inverse_transform(z20)))
        for got, peer, want in results:
            # (plus the rounding of float32 products of length n_features, whatever the model)
            err_ours, err_theirs = np.abs(got - want).max(initial=0.0), np.abs(peer - want).max(initial=0.0)
            assert err_ours <= 2 * err_theirs + x.shape[1] * eps(dtype) * np.abs(want).max(initial=0.0), (err_ours, err_theirs)
        return
    assert_same_model(ours, theirs, dtype, rtol)
    np.testing.assert_allclose(ours.transform(xt), theirs.transform(xt), rtol=rtol, atol=rtol * 10)
    z = ours.fit_transform(x)
    np.testing.assert_allclose(z, theirs.fit_transform(x), rtol=rtol, atol=rtol * 10)
    if ours.n_components_ > 0:
        np.testing.assert_allclose(ours.inverse_transform(z[:20]), theirs.inverse_transform(z[:20]), rtol=rtol, atol=rtol * 10)


@pytest.mark.parametrize("dtype", DTYPES, ids=param_id)
@pytest.mark.parametrize("shape", [(600, 40), (50, 120)])
def test_full_solver_wide_and_tall(dtype: type, shape: tuple[int, int]) -> None:
    x = data(*shape, dtype, seed=3) if shape[0] > shape[1] else np.random.default_rng(1).standard_normal(shape).astype(dtype)
    ours = fl.PCA(svd_solver="full").fit(x)
    theirs = SkPCA(svd_solver="full").fit(x)
    rtol = 5e-4 if dtype == np.float32 else 1e-8
    # the last component of a wide centred matrix has variance ~0: compare the others
    k = min(shape) - 1
    np.testing.assert_allclose(ours.explained_variance_[:k], theirs.explained_variance_[:k], rtol=rtol)
    np.testing.assert_allclose(ours.components_[:k], theirs.components_[:k], atol=rtol * 10)


@pytest.mark.parametrize("dtype", DTYPES, ids=param_id)
@pytest.mark.parametrize("whiten", [False, True])
def test_randomized_equals_sklearn_on_a_gap(dtype: type, whiten: bool) -> None:
    # a clear gap after 8 components: both randomized solvers converge to the exact components
    x = data(1500, 60, dtype, rank=8)
    ours = fl.PCA(8, svd_solver="randomized", whiten=whiten, random_state=0).fit(x)
    theirs = SkPCA(8, svd_solver="randomized", whiten=whiten, random_state=0).fit(x)
    rtol = 5e-4 if dtype == np.float32 else 1e-7
    assert_same_model(ours, theirs, dtype, rtol)
    np.testing.assert_allclose(ours.transform(x[:30]), theirs.transform(x[:30]), rtol=rtol, atol=rtol * 10)


@pytest.mark.parametrize("dtype", DTYPES, ids=param_id)
def test_randomized_accuracy_at_least_sklearns(dtype: type) -> None:
    # no gap (a slowly decaying spectrum): compare each with the exact PCA
    x = data(800, 50, dtype, seed=7)
    exact = SkPCA(6, svd_solver="full").fit(x.astype(np.float64))
    errs = []
    for est in (fl.PCA, SkPCA):
        e = []
        for seed in range(5):
            p = est(6, svd_solver="randomized", random_state=seed, iterated_power=2).fit(x)
            e.append(np.abs(p.explained_variance_ - exact.explained_variance_).max() / exact.explained_variance_[0])
        errs.append(np.exp(np.mean(np.log(np.maximum(e, 1e-300)))))
    assert errs[0] <= 3 * errs[1] + 100 * eps(dtype), errs


def test_auto_policy_matches_sklearn() -> None:
    cases = [((2000, 50), 10), ((600, 700), 10), ((600, 700), 600), ((300, 200), 5), ((600, 700), "mle"), ((600, 700), 0.5)]
    for shape, nc in cases:
        x = np.random.default_rng(0).standard_normal(shape)
        if nc == "mle" and shape[0] < shape[1]:
            continue
        ours = fl.PCA(nc, random_state=0).fit(x)
        theirs = SkPCA(nc, random_state=0).fit(x)
        assert ours._fit_svd_solver == theirs._fit_svd_solver, (shape, nc)
        assert ours.n_components_ == theirs.n_components_


def test_layouts_and_int_input() -> None:
    x = data(200, 12, np.float64)
    ref = fl.PCA(4, svd_solver="full").fit(x)
    for _, view in layouts(x):
        got = fl.PCA(4, svd_solver="full").fit(view)
        np.testing.assert_allclose(got.components_, ref.components_, atol=1e-10)
        got = fl.PCA(4, svd_solver="randomized", random_state=1).fit(view)
        np.testing.assert_allclose(np.abs(got.components_), np.abs(ref.components_), atol=1e-3)
    xi = np.arange(300).reshape(50, 6) % 7
    p = fl.PCA(2).fit(xi)
    assert p.components_.dtype == np.float64


def test_reproducible_for_any_thread_count(restore_threads: None) -> None:
    x = data(3000, 80, np.float64, rank=10)
    out = []
    for t in (1, 2):
        fl.set_num_threads(t)
        out.append([fl.PCA(10, svd_solver=s, random_state=3).fit(x) for s in ("randomized", "full")])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a.components_, b.components_)
        np.testing.assert_array_equal(a.explained_variance_, b.explained_variance_)


def test_params_clone_pipeline_pickle() -> None:
    p = fl.PCA(3, whiten=True, random_state=5)
    assert p.get_params()["n_components"] == 3 and p.get_params()["whiten"] is True
    assert set(p.get_params()) == set(SkPCA().get_params())
    q = clone(p)
    assert q is not p and q.get_params() == p.get_params()
    assert p.set_params(n_components=4) is p and p.n_components == 4
    with pytest.raises(ValueError, match="Invalid parameter"):
        p.set_params(bogus=1)
    x = data(100, 8, np.float64)
    pipe = Pipeline([("pca", fl.PCA(3, svd_solver="full")), ("pca2", SkPCA(2))])
    z = pipe.fit_transform(x)
    assert z.shape == (100, 2)
    pipe.set_params(pca__n_components=4)
    assert pipe.named_steps["pca"].n_components == 4
    fitted = fl.PCA(2).fit(x)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.components_, fitted.components_)
    assert "n_components=4" in repr(p)


def test_bad_input() -> None:
    x = data(50, 6, np.float64)
    with pytest.raises(fl.NotFittedError):
        fl.PCA(2).transform(x)
    with pytest.raises(ValueError):
        fl.PCA(2).inverse_transform(x[:, :2])
    with pytest.raises(AttributeError):
        fl.PCA(2).transform(x)
    with pytest.raises(ValueError):
        fl.PCA(7, svd_solver="full").fit(x)
    with pytest.raises(ValueError):
        fl.PCA(7, svd_solver="randomized").fit(x)
    with pytest.raises(ValueError):
        fl.PCA(0, svd_solver="randomized").fit(x)
    with pytest.raises(ValueError):
        fl.PCA(-1).fit(x)
    with pytest.raises(ValueError):
        fl.PCA(1.5).fit(x)
    with pytest.raises(ValueError):
        fl.PCA("mle", svd_solver="randomized").fit(x)
    with pytest.raises(ValueError):
        fl.PCA("mle", svd_solver="full").fit(x[:4])
    with pytest.raises(ValueError):
        fl.PCA(2, svd_solver="lapack").fit(x)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fl.PCA(2).fit(bad)
    p = fl.PCA(2).fit(x)
    with pytest.raises(ValueError, match="features"):
        p.transform(x[:, :5])
    with pytest.raises(ValueError):
        fl.PCA(2).fit(x[0])
