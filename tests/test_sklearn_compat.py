"""ferrolinalg.PCA in scikit-learn's machinery (issue 7): its own estimator checks, Pipeline,
GridSearchCV and clone. scikit-learn is a test dependency only."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ferrolinalg as fl

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402


@pytest.mark.parametrize("solver", ["auto", "full", "covariance_eigh", "randomized"])
def test_check_estimator_passes(solver):
    with warnings.catch_warnings():
        # scikit-learn notes that PCA does not inherit from its BaseEstimator (on purpose: no
        # runtime dependency), and skips its array-API check without SCIPY_ARRAY_API
        warnings.simplefilter("ignore")
        results = check_estimator(fl.PCA(svd_solver=solver, n_components=1 if solver == "randomized" else None),
                                  on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed, failed
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_pipeline_and_grid_search():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 20)) @ rng.standard_normal((20, 20))
    y = (x[:, 0] + 0.1 * rng.standard_normal(300) > 0).astype(int)
    pipe = Pipeline([("scale", StandardScaler()), ("pca", fl.PCA()), ("clf", LogisticRegression())])
    search = GridSearchCV(pipe, {"pca__n_components": [2, 5, 10], "pca__whiten": [False, True]}, cv=3)
    search.fit(x, y)
    assert search.best_params_["pca__n_components"] in (2, 5, 10)
    assert search.score(x, y) > 0.8
    # clone keeps the parameters and drops the fit
    fitted = search.best_estimator_.named_steps["pca"]
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params() and not hasattr(fresh, "components_")
