"""Principal component analysis equal to scikit-learn's ``PCA`` (same parameters, solvers,
attributes and sign convention), on ferrolinalg's kernels; scikit-learn is not imported."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _core
from ._eigen import eigh
from ._lowrank import _seed_from

__all__ = ["PCA", "NotFittedError"]


class NotFittedError(ValueError, AttributeError):
    """An estimator used before ``fit`` (the bases of scikit-learn's ``NotFittedError``, so
    ``except ValueError`` and ``except AttributeError`` both catch it)."""


_PARAMS = (
    "n_components",
    "copy",
    "whiten",
    "svd_solver",
    "tol",
    "iterated_power",
    "n_oversamples",
    "power_iteration_normalizer",
    "random_state",
)

_SOLVERS = ("auto", "full", "covariance_eigh", "randomized")


def _assess_dimension(spectrum: NDArray[Any], rank: int, n_samples: int) -> float:
    """Minka's log-likelihood of a rank-``rank`` model (scikit-learn's ``_assess_dimension``)."""
    n_features = spectrum.shape[0]
    eps = 1e-15
    if spectrum[rank - 1] < eps:
        return -math.inf
    pu = -rank * math.log(2.0)
    for i in range(1, rank + 1):
        pu += math.lgamma((n_features - i + 1) / 2.0) - math.log(math.pi) * (n_features - i + 1) / 2.0
    pl = float(np.sum(np.log(spectrum[:rank])))
    pl = -pl * n_samples / 2.0
    v = max(eps, float(np.sum(spectrum[rank:])) / (n_features - rank))
    pv = -math.log(v) * n_samples * (n_features - rank) / 2.0
    m = n_features * rank - rank * (rank + 1.0) / 2.0
    pp = math.log(2.0 * math.pi) * (m + rank) / 2.0
    spectrum_ = np.array(spectrum, copy=True)
    spectrum_[rank:n_features] = v
    # the double loop of scikit-learn, vectorised over j (same terms, same order of the sums)
    pa = 0.0
    for i in range(rank):
        d = (spectrum[i] - spectrum[i + 1 :]) * (1.0 / spectrum_[i + 1 :] - 1.0 / spectrum_[i])
        pa += float(np.sum(np.log(d) + math.log(n_samples)))
    return pu + pl + pv + pp - pa / 2.0 - rank * math.log(n_samples) / 2.0


def _infer_dimension(spectrum: NDArray[Any], n_samples: int) -> int:
    ll = np.empty(spectrum.shape[0])
    ll[0] = -np.inf
    for rank in range(1, spectrum.shape[0]):
        ll[rank] = _assess_dimension(spectrum, rank, n_samples)
    return int(np.argmax(ll))


class PCA:
    """Principal component analysis, with scikit-learn's ``PCA`` API and results.

    Parameters are scikit-learn's: ``n_components`` (None: all; an int; a float in (0, 1): as
    many components as needed to explain that fraction of the variance; "mle": Minka's
    estimate), ``whiten``, ``svd_solver`` ("auto", "full", "covariance_eigh", "randomized"; the
    "auto" policy is scikit-learn's), ``iterated_power``, ``n_oversamples``,
    ``power_iteration_normalizer`` and ``random_state`` (for "randomized"), ``copy`` and ``tol``
    (accepted for compatibility; the input is never modified). Fitted attributes:
    ``components_``, ``explained_variance_``, ``explained_variance_ratio_``,
    ``singular_values_``, ``mean_``, ``n_components_``, ``noise_variance_``, ``n_samples_``,
    ``n_features_in_``, in the input's dtype (float32 stays float32), with scikit-learn's signs
    (the largest-magnitude entry of each component is positive).

    What differs inside: "full" takes the singular values and vectors of the centred data from a
    QR factorization (no ``U``: a third of the arithmetic); "randomized" never builds the
    centred copy and uses ferrolinalg's own random generator (so its results agree with
    scikit-learn's to the accuracy of the randomized method, not bit for bit).
    """

    def __init__(
        self,
        n_components: Any = None,
        *,
        copy: bool = True,
        whiten: bool = False,
        svd_solver: str = "auto",
        tol: float = 0.0,
        iterated_power: Any = "auto",
        n_oversamples: int = 10,
        power_iteration_normalizer: str = "auto",
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.copy = copy
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.tol = tol
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state

    # -- scikit-learn's estimator protocol --------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters, as scikit-learn's ``BaseEstimator.get_params``."""
        return {name: getattr(self, name) for name in _PARAMS}

    def set_params(self, **params: Any) -> PCA:
        """Sets constructor parameters (``clone``, ``GridSearchCV`` and ``Pipeline`` use it)."""
        for name, value in params.items():
            if name not in _PARAMS:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self!r}. Valid parameters are: {sorted(_PARAMS)!r}."
                )
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (scikit-learn 1.6+ asks for them; it is imported here
        only, and only scikit-learn calls this): a transformer of dense float input, no NaN."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
            input_tags=InputTags(allow_nan=False, sparse=False),
        )

    def __repr__(self) -> str:
        defaults = PCA()
        changed = [f"{n}={getattr(self, n)!r}" for n in _PARAMS if getattr(self, n) is not getattr(defaults, n)
                   and getattr(self, n) != getattr(defaults, n)]
        return f"PCA({', '.join(changed)})"

    # -- fitting ------------------------------------------------------------------------------

    @staticmethod
    def _check_finite(X: NDArray[Any]) -> None:
        # the native fits check in their first pass over X; this is for the Python paths
        if not np.isfinite(X).all():
            raise ValueError("Input X contains NaN or infinity.")

    def _validate(self, X: Any, *, fitted: bool) -> NDArray[Any]:
        # scikit-learn's check_array rules and messages, without importing scikit-learn
        if hasattr(X, "tocsr") or hasattr(X, "todense"):
            raise TypeError(f"PCA takes dense arrays; sparse input ({type(X).__name__}) is not supported. "
                            "Use X.toarray() if it fits in memory.")
        arr = np.asarray(X)
        if arr.dtype.kind == "c":
            raise ValueError(f"Complex data not supported: X has dtype {arr.dtype}")
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        if arr.ndim != 2:
            hint = " Reshape your data either using array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it contains a single sample." if arr.ndim == 1 else ""
            raise ValueError(f"Expected a 2D array (n_samples, n_features), got shape {arr.shape}.{hint}")
        if not fitted:
            if arr.shape[0] < 1:
                raise ValueError(f"Found array with 0 sample(s) (shape={arr.shape}) while a minimum of 1 is required.")
            if arr.shape[1] < 1:
                raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
        if fitted and arr.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {arr.shape[1]} features, but PCA is expecting {self.n_features_in_} features as input."
            )
        return arr

    def _check_params(self) -> None:
        if self.svd_solver not in _SOLVERS:
            if self.svd_solver == "arpack":
                raise ValueError("svd_solver='arpack' is not supported by ferrolinalg.PCA; use 'randomized'")
            raise ValueError(f"svd_solver must be one of {_SOLVERS}, not {self.svd_solver!r}")
        nc = self.n_components
        ok = (
            nc is None
            or nc == "mle"
            or (isinstance(nc, Integral) and not isinstance(nc, bool) and int(nc) >= 0)
            or (isinstance(nc, Real) and not isinstance(nc, Integral) and 0 < float(nc) < 1)
        )
        if not ok:
            raise ValueError(
                f"n_components must be None, an int >= 0, a float in (0, 1) or 'mle', not {nc!r}"
            )
        if self.power_iteration_normalizer not in ("auto", "QR", "LU", "none"):
            raise ValueError(f"power_iteration_normalizer must be 'auto', 'QR', 'LU' or 'none', not {self.power_iteration_normalizer!r}")

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fits the model to ``X`` (n_samples, n_features); returns ``self``."""
        self._fit(self._validate(X, fitted=False))
        return self

    def fit_transform(self, X: Any, y: Any = None) -> NDArray[Any]:
        """Fits the model to ``X`` and returns ``X`` projected on the components."""
        arr = self._validate(X, fitted=False)
        self._fit(arr)
        return self._transform(arr)

    def _fit(self, X: NDArray[Any]) -> None:
        self._check_params()
        n_samples, n_features = X.shape
        solver = self.svd_solver
        n_components = min(X.shape) if self.n_components is None else self.n_components
        if solver == "auto":
            # scikit-learn's policy, step by step
            if n_features <= 1_000 and n_samples >= 10 * n_features:
                solver = "covariance_eigh"
            elif max(X.shape) <= 500 or n_components == "mle":
                solver = "full"
            elif 1 <= n_components < 0.8 * min(X.shape):
                solver = "randomized"
            else:
                solver = "full"
        self._fit_svd_solver = solver
        if solver in ("full", "covariance_eigh"):
            self._fit_full(X, n_components, solver)
        else:
            self._fit_truncated(X, n_components)
        self.n_features_in_ = n_features

    def _fit_full(self, X: NDArray[Any], n_components: Any, solver: str) -> None:
        n_samples, n_features = X.shape
        dt = X.dtype.type
        if n_components == "mle":
            if n_samples < n_features:
                raise ValueError("n_components='mle' is only supported if n_samples >= n_features")
        elif not 0 <= n_components <= min(n_samples, n_features):
            raise ValueError(
                f"n_components={n_components} must be between 0 and "
                f"min(n_samples, n_features)={min(n_samples, n_features)} with svd_solver={solver!r}"
            )
        if solver == "full":
            mean, S, Vt, _ = _core._pca_fit(X, "full", 1, 0, None, "auto", 0)
            explained_variance = S**2 / dt(n_samples - 1)
        else:
            self._check_finite(X)
            if n_samples < 2:
                raise ValueError(f"svd_solver='covariance_eigh' needs at least 2 samples to estimate a covariance: "
                                 f"got n_samples = {n_samples}")
            mean = X.mean(axis=0)
            C = _core.matmul(X.T, X)
            C -= dt(n_samples) * np.multiply.outer(mean, mean)
            C /= dt(n_samples - 1)
            # scikit-learn's eigh is NumPy's, which solves float32 in float64 and rounds the
            # result: so do we, to be as accurate (our float32 eigh, solved in float32, left
            # its top components 2-3x further from the float64 fit than scikit-learn's)
            w, v = eigh(C.astype(np.float64, copy=False))
            w, v = w.astype(dt, copy=False), v.astype(dt, copy=False)
            w = w[::-1].copy()
            Vt = np.ascontiguousarray(v[:, ::-1].T)
            w[w < 0.0] = 0.0
            explained_variance = w
            S = np.sqrt(w * dt(n_samples - 1))
        self._finish_full(mean, S, Vt, explained_variance, n_samples, n_features, n_components)

    def _finish_full(self, mean: NDArray[Any], S: NDArray[Any], Vt: NDArray[Any], explained_variance: NDArray[Any],
                     n_samples: int, n_features: int, n_components: Any) -> None:
        """The fitted attributes from the whole spectrum (shared with ``ferrolinalg.dask.PCA``)."""
        total_var = explained_variance.sum()
        ratio = explained_variance / total_var
        if n_components == "mle":
            n_components = _infer_dimension(explained_variance, n_samples)
        elif 0 < n_components < 1.0:
            ratio_cumsum = np.cumsum(ratio)
            n_components = int(np.searchsorted(ratio_cumsum, n_components, side="right")) + 1
        n_components = int(n_components)
        if n_components < min(n_features, n_samples):
            self.noise_variance_ = explained_variance[n_components:].mean()
        else:
            self.noise_variance_ = 0.0
        self.mean_ = mean
        self.n_samples_ = n_samples
        self.n_components_ = n_components
        self.components_ = np.ascontiguousarray(Vt[:n_components])
        self.explained_variance_ = explained_variance[:n_components].copy()
        self.explained_variance_ratio_ = ratio[:n_components].copy()
        self.singular_values_ = S[:n_components].copy()

    def _fit_truncated(self, X: NDArray[Any], n_components: Any) -> None:
        n_samples, n_features = X.shape
        dt = X.dtype.type
        if isinstance(n_components, str):
            raise ValueError(f"n_components={n_components!r} cannot be a string with svd_solver='randomized'")
        if not 1 <= n_components <= min(n_samples, n_features):
            raise ValueError(
                f"n_components={n_components!r} must be between 1 and min(n_samples, n_features)="
                f"{min(n_samples, n_features)!r} with svd_solver='randomized'"
            )
        if not isinstance(n_components, Integral):
            raise ValueError(f"n_components={n_components!r} must be an int with svd_solver='randomized'")
        n_iter = self.iterated_power
        n_iter = None if n_iter == "auto" else int(n_iter)
        mean, S, Vt, total = _core._pca_fit(
            X, "randomized", int(n_components), int(self.n_oversamples), n_iter,
            self.power_iteration_normalizer, _seed_from(self.random_state),
        )
        self._finish_truncated(mean, S, Vt, dt(total), n_samples, n_features, int(n_components))

    def _finish_truncated(self, mean: NDArray[Any], S: NDArray[Any], Vt: NDArray[Any], total_var: Any,
                          n_samples: int, n_features: int, n_components: int) -> None:
        """The fitted attributes from the top singular triplets and the total variance (shared
        with ``ferrolinalg.dask.PCA``)."""
        dt = Vt.dtype.type
        self.mean_ = mean
        self.n_samples_ = n_samples
        self.components_ = Vt
        self.n_components_ = int(n_components)
        self.explained_variance_ = S**2 / dt(n_samples - 1)
        self.explained_variance_ratio_ = self.explained_variance_ / total_var
        self.singular_values_ = S
        if self.n_components_ < min(n_features, n_samples):
            noise = total_var - self.explained_variance_.sum()
            self.noise_variance_ = noise / dt(min(n_features, n_samples) - n_components)
        else:
            self.noise_variance_ = 0.0

    # -- using the model ----------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise NotFittedError(
                "This PCA instance is not fitted yet. Call 'fit' with appropriate arguments before using this estimator."
            )

    def _transform(self, X: NDArray[Any]) -> NDArray[Any]:
        comp_t = self.components_.T
        out: NDArray[Any] = _core.matmul(X, comp_t)
        out -= _core.matmul(self.mean_[None, :], comp_t)
        if self.whiten:
            scale = np.sqrt(self.explained_variance_)
            scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
            out /= scale
        return out

    def transform(self, X: Any) -> NDArray[Any]:
        """``X`` projected on the components (centred by ``mean_``; whitened if ``whiten``)."""
        self._check_fitted()
        arr = self._validate(X, fitted=True)
        self._check_finite(arr)
        return self._transform(arr)

    def inverse_transform(self, X: Any) -> NDArray[Any]:
        """Back from component space to feature space (the exact inverse of ``transform`` on the
        span of the components, whitening included)."""
        self._check_fitted()
        arr = np.asarray(X)
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        if self.whiten:
            comps = np.sqrt(self.explained_variance_[:, None]) * self.components_
        else:
            comps = self.components_
        out: NDArray[Any] = _core.matmul(arr, comps) + self.mean_
        return out
