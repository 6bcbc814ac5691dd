"""`ferrolinalg.linalg`: the Array API standard's linalg extension, names and signatures."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import ferrolinalg.linalg as la
from conftest import eps

P, K = inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.KEYWORD_ONLY
_ = inspect.Parameter.empty

# The 2023.12 standard's signatures: (name, kind, default) per parameter.
STANDARD = {
    "cholesky": [("x", P, _), ("upper", K, False)],
    "cross": [("x1", P, _), ("x2", P, _), ("axis", K, -1)],
    "det": [("x", P, _)],
    "diagonal": [("x", P, _), ("offset", K, 0)],
    "eigh": [("x", P, _)],
    "eigvalsh": [("x", P, _)],
    "inv": [("x", P, _)],
    "matmul": [("x1", P, _), ("x2", P, _)],
    "matrix_norm": [("x", P, _), ("keepdims", K, False), ("ord", K, "fro")],
    "matrix_power": [("x", P, _), ("n", P, _)],
    "matrix_rank": [("x", P, _), ("rtol", K, None)],
    "matrix_transpose": [("x", P, _)],
    "outer": [("x1", P, _), ("x2", P, _)],
    "pinv": [("x", P, _), ("rtol", K, None)],
    "qr": [("x", P, _), ("mode", K, "reduced")],
    "slogdet": [("x", P, _)],
    "solve": [("x1", P, _), ("x2", P, _)],
    "svd": [("x", P, _), ("full_matrices", K, True)],
    "svdvals": [("x", P, _)],
    "tensordot": [("x1", P, _), ("x2", P, _), ("axes", K, 2)],
    "trace": [("x", P, _), ("offset", K, 0), ("dtype", K, None)],
    "vecdot": [("x1", P, _), ("x2", P, _), ("axis", K, -1)],
    "vector_norm": [("x", P, _), ("axis", K, None), ("keepdims", K, False), ("ord", K, 2)],
}


@pytest.mark.parametrize("name", sorted(STANDARD))
def test_signature_is_the_standards(name):
    params = inspect.signature(getattr(la, name)).parameters.values()
    assert [(p.name, p.kind, p.default) for p in params] == STANDARD[name]
    assert name in la.__all__


def test_named_tuple_fields_are_the_standards():
    x = np.random.default_rng(0).standard_normal((4, 4))
    s = x + x.T
    assert la.eigh(s)._fields == ("eigenvalues", "eigenvectors")
    assert la.svd(x)._fields == ("U", "S", "Vh")
    assert la.slogdet(x)._fields == ("sign", "logabsdet")
    assert la.qr(x)._fields == ("Q", "R")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_match_numpy(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 5)).astype(dtype)
    spd = (x @ np.swapaxes(x, -1, -2) + 5 * np.eye(5, dtype=dtype)).astype(dtype)
    tol = 200 * eps(dtype)

    def close(got, want):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.max(np.abs(want), initial=1.0))

    close(la.det(x), np.linalg.det(x))
    close(la.inv(x) @ x, np.broadcast_to(np.eye(5), x.shape))
    close(la.matmul(x, x), x @ x)
    close(la.matrix_norm(x, ord=2), np.linalg.matrix_norm(x, ord=2))
    close(la.vector_norm(x, axis=(-1, -2), ord=1), np.linalg.vector_norm(x, axis=(-1, -2), ord=1))
    close(la.vecdot(x, x), np.linalg.vecdot(x, x))
    close(la.eigvalsh(spd), np.linalg.eigvalsh(spd))
    close(la.svdvals(x), np.linalg.svdvals(x))
    close(la.pinv(x), np.linalg.pinv(x))
    close(la.solve(spd, x), np.linalg.solve(spd, x))
    assert np.array_equal(la.matrix_rank(x), np.linalg.matrix_rank(x))
    sign, logdet = la.slogdet(x)
    close(sign * np.exp(logdet), np.linalg.det(x))
    close(la.cholesky(spd, upper=True), np.swapaxes(np.linalg.cholesky(spd), -1, -2))
    q, r = la.qr(x[0], mode="complete")
    close(q @ r, x[0])
    close(la.tensordot(x[0], x[1], axes=1), np.tensordot(x[0], x[1], axes=1))
    close(la.trace(x, offset=1), np.linalg.trace(x, offset=1))
    assert la.diagonal(x, offset=-1).shape == (3, 4)
    assert la.matrix_transpose(x).shape == (3, 5, 5)


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 5, 8])
def test_matrix_power_matches_numpy(n):
    x = np.random.default_rng(2).standard_normal((2, 4, 4)) / 2 + np.eye(4)
    got = la.matrix_power(x, n)
    np.testing.assert_allclose(got, np.linalg.matrix_power(x, n), rtol=1e-10, atol=1e-12)
    assert got is not x and not np.shares_memory(got, x)


def test_matrix_power_bad_input():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        la.matrix_power(np.ones((2, 3)), 2)
    with pytest.raises(TypeError, match="integer"):
        la.matrix_power(np.eye(2), 1.5)
    with pytest.raises(ValueError, match="mode"):
        la.qr(np.eye(2), mode="r")
