"""``ferrolinalg.einsum`` / ``einsum_path`` / ``contract_expression`` / ``tensordot`` against
NumPy: a corpus of expressions (GEMM-like, batched, Hadamard, traces, diagonals, outer products,
ellipsis with broadcasting, many-operand chains) and random equations with random sizes, both
dtypes, operands in every layout, ``out=``, every ``optimize`` variant, ``memory_limit``, reuse of
a planned expression, views, and the error cases.

Results are compared with ``numpy.einsum`` on float64 copies, within a bound scaled by the
dtype's eps, the number of summed terms and the einsum of the absolute values.
"""

from __future__ import annotations

import itertools
import math
import string

import numpy as np
import pytest

import ferrolinalg as fl
from conftest import FLOAT_DTYPES, checked, eps, layouts, out_layouts, randn


# --------------------------------------------------------------------------------------------
# helpers


def _label_sizes(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[dict[str, int], str]:
    """Sizes of the letters and the output letters of an expression (ellipsis dims left out)."""
    s = subscripts.replace(" ", "")
    lhs, arrow, rhs = s.partition("->")
    terms = lhs.split(",")
    sizes: dict[str, int] = {}
    counts: dict[str, int] = {}
    for t, shape in zip(terms, shapes):
        pre, ell, post = t.partition("...")
        dims = list(shape[: len(pre)]) + (list(shape[len(shape) - len(post) :]) if post else []) if ell else list(shape)
        for c, d in zip(pre + post, dims):
            sizes[c] = max(sizes.get(c, 1), d)
            counts[c] = counts.get(c, 0) + 1
    out = rhs.replace("...", "") if arrow else "".join(c for c in sorted(counts) if counts[c] == 1)
    return sizes, out


def assert_einsum_close(got, subscripts, ops, dtype, c=8.0):
    ops64 = [np.asarray(o, dtype=np.float64) for o in ops]
    want = np.einsum(subscripts, *ops64)
    bound = np.einsum(subscripts, *[np.abs(o) for o in ops64])
    sizes, out = _label_sizes(subscripts, [np.shape(o) for o in ops])
    terms = math.prod(sizes[k] for k in sizes if k not in out) + len(ops)
    assert isinstance(got, (np.ndarray, np.generic)), type(got)
    assert np.asarray(got).dtype == np.dtype(dtype), (np.asarray(got).dtype, dtype)
    assert np.shape(got) == np.shape(want), (np.shape(got), np.shape(want))
    if np.ndim(want) == 0:
        assert isinstance(got, np.generic) or np.ndim(got) == 0
    err = np.abs(np.asarray(got, np.float64) - want)
    tol = c * eps(dtype) * terms * bound + np.finfo(dtype).tiny
    assert np.all(err <= tol), f"{subscripts}: max error {err.max()} (tol {tol.max()})"


def _operands(rng, shapes, dtype):
    return [randn(rng, s, dtype) for s in shapes]


# --------------------------------------------------------------------------------------------
# the corpus

CORPUS = [
    # GEMM-like
    ("ij,jk->ik", [(5, 6), (6, 7)]),
    ("ij,jk", [(33, 20), (20, 17)]),
    ("ij,kj->ik", [(9, 8), (7, 8)]),
    ("ji,jk->ki", [(8, 9), (8, 7)]),
    ("ijk,kjl->il", [(4, 5, 6), (6, 5, 3)]),
    ("ijk,kjl->il", [(3, 5, 70), (70, 5, 4)]),
    ("abc,bcd->ad", [(3, 4, 5), (4, 5, 6)]),
    ("i,ij->j", [(5,), (5, 4)]),
    ("ij,j->i", [(5, 4), (4,)]),
    ("i,i", [(7,), (7,)]),
    # batched
    ("bij,bjk->bik", [(4, 3, 5), (4, 5, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 5, 4), (2, 3, 6, 4)]),
    ("bhqk,bhkd->bhqd", [(2, 3, 5, 6), (2, 3, 6, 4)]),
    ("ibj,jbk->bik", [(3, 4, 5), (5, 4, 2)]),
    ("bij,bjk->kib", [(4, 3, 5), (4, 5, 2)]),
    # Hadamard and elementwise
    ("ij,ij->ij", [(4, 5), (4, 5)]),
    ("ij,ij->", [(4, 5), (4, 5)]),
    ("ij,ji->ij", [(4, 5), (5, 4)]),
    ("ijk,ijk,ijk->ijk", [(2, 3, 4)] * 3),
    ("i,i->i", [(6,), (6,)]),
    # traces and diagonals
    ("ii", [(5, 5)]),
    ("ii->i", [(5, 5)]),
    ("iij->j", [(3, 3, 4)]),
    ("iji->j", [(3, 4, 3)]),
    ("ijij->ij", [(2, 3, 2, 3)]),
    ("iij,jkk->ik", [(3, 3, 4), (4, 2, 2)]),
    ("ii,jj->", [(3, 3), (4, 4)]),
    # reductions and sums before the product
    ("ij->", [(4, 5)]),
    ("ij->i", [(4, 5)]),
    ("ijk->j", [(3, 4, 5)]),
    ("ij,kl->jk", [(3, 4), (5, 6)]),
    ("ijk,kl->il", [(3, 4, 5), (5, 2)]),
    # outer products
    ("i,j->ij", [(4,), (5,)]),
    ("ij,kl->ijkl", [(2, 3), (4, 5)]),
    ("ij,kl->kilj", [(2, 3), (4, 5)]),
    # scalars and zero-dim operands
    (",ij->ij", [(), (3, 4)]),
    ("ij,->ji", [(3, 4), ()]),
    (",", [(), ()]),
    ("->", [()]),
    # ellipsis, with broadcasting of 1-sized dims
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 6)]),
    ("...ij,jk", [(2, 3, 4), (4, 5)]),
    ("i...,i...->...", [(3, 2, 4), (3, 1, 4)]),
    ("...i,...i->...", [(2, 5), (5,)]),
    ("i...->...", [(3, 4, 2)]),
    ("...->...", [(2, 3)]),
    ("ij...,jk...->ik...", [(2, 3, 4), (3, 5, 1)]),
    # size-1 labels broadcast too, as NumPy allows
    ("ij,ij->ij", [(1, 4), (3, 4)]),
    # upper case
    ("Ab,bC->AC", [(3, 4), (4, 5)]),
    ("aA,Aa->", [(3, 4), (4, 3)]),
    # many-operand chains
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 6)]),
    ("ab,bc,cd,de->ae", [(10, 20), (20, 30), (30, 5), (5, 40)]),
    ("bi,ij,bj->b", [(6, 5), (5, 5), (6, 5)]),
    ("ij,jk,kl,lm,mn->in", [(2, 3), (3, 4), (4, 5), (5, 6), (6, 7)]),
    ("abc,cde,ea->bd", [(2, 3, 4), (4, 5, 6), (6, 2)]),
    ("ea,fb,abcd,gc,hd->efgh", [(3, 2), (3, 2), (2, 2, 2, 2), (3, 2), (3, 2)]),
    ("i,j,k,l->", [(2,), (3,), (4,), (5,)]),
    ("ab,ab,ab,ab,ab->a", [(3, 4)] * 5),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("subscripts,shapes", CORPUS, ids=[c[0] + str(i) for i, c in enumerate(CORPUS)])
def test_corpus_every_layout(rng, subscripts, shapes, dtype):
    ops = _operands(rng, shapes, dtype)
    assert_einsum_close(checked(fl.einsum, subscripts, *ops), subscripts, ops, dtype)
    # each operand in every layout, the others C-contiguous
    for i, op in enumerate(ops):
        if op.ndim == 0:
            continue  # (np.ascontiguousarray makes a 0-d array 1-d: no layouts to try)
        for name, v in layouts(op):
            args = list(ops)
            args[i] = v
            try:
                assert_einsum_close(checked(fl.einsum, subscripts, *args), subscripts, ops, dtype)
            except AssertionError as e:
                raise AssertionError(f"operand {i} {name}: {e}") from None
    # all operands in one layout at once
    for kind in ("F", "negstep2", "T", "flipall"):
        args = [dict(layouts(op)).get(kind, op) if op.ndim else op for op in ops]
        assert_einsum_close(fl.einsum(subscripts, *args), subscripts, ops, dtype)


@pytest.mark.parametrize("optimize", [True, False, "greedy", "optimal"])
def test_corpus_every_optimize(rng, optimize):
    for subscripts, shapes in CORPUS:
        ops = _operands(rng, shapes, np.float64)
        assert_einsum_close(fl.einsum(subscripts, *ops, optimize=optimize), subscripts, ops, np.float64)


def test_larger_products_and_thread_counts(rng, restore_threads):
    """Sizes that take the parallel paths: split products, batches, the accumulation loop over
    contracted labels that no stride order merges, transposing copies. 1 and 2 threads agree
    bit for bit."""
    cases = [
        ("ijk,kjl->il", [(40, 30, 100), (100, 30, 50)]),  # accumulation loop over j
        ("ijk,kjl->il", [(40, 30, 20), (20, 30, 50)]),  # transposing copy
        ("bhqd,bhkd->bhqk", [(2, 4, 64, 32), (2, 4, 64, 32)]),
        ("ab,bc,cd->ad", [(120, 130), (130, 140), (140, 90)]),
        ("bi,ij,bj->b", [(200, 150), (150, 150), (200, 150)]),
        ("ijk,jkl->li", [(50, 40, 30), (40, 30, 60)]),
        ("abcd,dcbe->ea", [(20, 6, 7, 8), (8, 7, 6, 30)]),
    ]
    for dtype in FLOAT_DTYPES:
        for subscripts, shapes in cases:
            ops = _operands(rng, shapes, dtype)
            results = []
            for n in (1, 2):
                fl.set_num_threads(n)
                got = fl.einsum(subscripts, *ops)
                assert_einsum_close(got, subscripts, ops, dtype)
                results.append(got)
            assert np.array_equal(results[0], results[1]), subscripts
            # and with non-contiguous operands
            f_ops = [np.asfortranarray(o) for o in ops]
            assert_einsum_close(fl.einsum(subscripts, *f_ops), subscripts, ops, dtype)


# --------------------------------------------------------------------------------------------
# random equations


def _random_equation(rng: np.random.Generator):
    """A random valid equation with random sizes (letters repeat within and across operands)."""
    nops = int(rng.integers(1, 5))
    letters = list("abcdefgAB")[: int(rng.integers(2, 8))]
    sizes = {c: int(rng.integers(1, 5)) for c in letters}
    use_ellipsis = rng.random() < 0.25
    ell_shape = tuple(int(x) for x in rng.integers(1, 4, size=int(rng.integers(1, 3))))
    terms, shapes = [], []
    for _ in range(nops):
        k = int(rng.integers(0, 4))
        term = [letters[int(i)] for i in rng.integers(0, len(letters), size=k)]
        shape = [sizes[c] for c in term]
        if use_ellipsis and rng.random() < 0.7:
            # a right-aligned suffix of the ellipsis shape, with some dims broadcast as 1
            tail = ell_shape[len(ell_shape) - int(rng.integers(0, len(ell_shape) + 1)) :]
            tail = tuple(1 if rng.random() < 0.3 else d for d in tail)
            pos = int(rng.integers(0, len(term) + 1))
            term = term[:pos] + ["..."] + term[pos:]
            shape = shape[:pos] + list(tail) + shape[pos:]
        terms.append("".join(term))
        shapes.append(tuple(shape))
    subscripts = ",".join(terms)
    if rng.random() < 0.6:
        used = sorted({c for t in terms for c in t if c.isalpha()})
        out = [c for c in used if rng.random() < 0.5]
        rng.shuffle(out)
        has_ell = any("..." in t for t in terms)
        if has_ell:
            pos = int(rng.integers(0, len(out) + 1))
            out = out[:pos] + ["..."] + out[pos:]
        subscripts += "->" + "".join(out)
    return subscripts, shapes


def test_random_equations(rng):
    gen = np.random.default_rng(20261121)
    checked_count = 0
    for trial in range(400):
        subscripts, shapes = _random_equation(gen)
        dtype = FLOAT_DTYPES[trial % 2]
        ops = _operands(rng, shapes, dtype)
        try:
            np.einsum(subscripts, *[o.astype(np.float64) for o in ops])
        except ValueError:
            # NumPy's own restrictions (e.g. no broadcasting of an ellipsis length): ours must
            # either agree on a result or raise too; the reference cannot tell, so skip
            continue
        optimize = ["greedy", "optimal", False][trial % 3]
        limit = [None, None, 0, 10][trial % 4]
        try:
            got = fl.einsum(subscripts, *ops, optimize=optimize, memory_limit=limit)
        except Exception as e:
            raise AssertionError(f"{subscripts} {shapes}: {type(e).__name__}: {e}") from None
        try:
            assert_einsum_close(got, subscripts, ops, dtype)
        except AssertionError as e:
            raise AssertionError(f"{subscripts} {shapes} optimize={optimize} limit={limit}: {e}") from None
        checked_count += 1
    assert checked_count > 300


# --------------------------------------------------------------------------------------------
# dtypes, out=, views


def test_dtypes(rng):
    a32 = randn(rng, (3, 4), np.float32)
    b32 = randn(rng, (4, 5), np.float32)
    assert fl.einsum("ij,jk", a32, b32).dtype == np.float32
    assert fl.einsum("ij,jk", a32, b32.astype(np.float64)).dtype == np.float64
    assert fl.einsum("ij,jk", np.arange(12).reshape(3, 4), np.ones((4, 5), bool)).dtype == np.float64
    np.testing.assert_allclose(fl.einsum("ij,jk", [[1, 2]], [[3], [4]]), [[11.0]])
    assert fl.einsum("i,i", a32[0], a32[0]).dtype == np.float32
    assert isinstance(fl.einsum("i,i", a32[0], a32[0]), np.float32)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "subscripts,shapes",
    [
        ("ij,jk->ik", [(5, 6), (6, 7)]),
        ("bij,bjk->bik", [(3, 4, 5), (3, 5, 2)]),
        ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 6)]),
        ("ij->ji", [(3, 4)]),
        ("ii->i", [(4, 4)]),
        ("ijk,kjl->li", [(3, 4, 70), (70, 4, 5)]),
        ("ij,ij->ij", [(3, 4), (3, 4)]),
        ("ij,kl->ikjl", [(2, 3), (4, 5)]),
    ],
)
def test_out(rng, subscripts, shapes, dtype):
    from conftest import assert_only_view_written

    ops = _operands(rng, shapes, dtype)
    want_shape = np.einsum(subscripts, *ops).shape
    for name, out, buffer in out_layouts(want_shape, dtype):
        r = checked(fl.einsum, subscripts, *ops, out=out)
        assert r is out, name
        assert_einsum_close(out, subscripts, ops, dtype)
        assert_only_view_written(out, buffer)
    with pytest.raises(ValueError, match="shape"):
        fl.einsum(subscripts, *ops, out=np.empty(want_shape + (1,), dtype))
    other = np.float64 if dtype == np.float32 else np.float32
    with pytest.raises(TypeError, match="dtype"):
        fl.einsum(subscripts, *ops, out=np.empty(want_shape, other))


def test_out_overlapping_an_input(rng):
    a = randn(rng, (5, 5), np.float64)
    want = a @ a
    fl.einsum("ij,jk->ik", a, a, out=a)
    np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-12)


def test_pure_permutations_and_diagonals_are_views(rng):
    x = randn(rng, (3, 4, 5), np.float64)
    for subscripts in ("ijk->kji", "ijk", "...->...", "i...->...i", "ijk->jik"):
        v = fl.einsum(subscripts, x)
        assert np.shares_memory(v, x), subscripts
        np.testing.assert_array_equal(v, np.einsum(subscripts, x))
    sq = randn(rng, (4, 4, 3), np.float64)
    for subscripts in ("iij->ij", "iij->ji", "iij->j" * 0 + "iij->ij"):
        v = fl.einsum(subscripts, sq)
        assert np.shares_memory(v, sq)
        np.testing.assert_array_equal(v, np.einsum(subscripts, sq))
    d = fl.einsum("ii->i", sq[:, :, 0].copy())
    d[0] = 42.0  # writeable, like NumPy's
    # a sum is a new array
    assert not np.shares_memory(fl.einsum("ij->i", x[0]), x)
    # a scalar result is a NumPy scalar, not a view
    assert isinstance(fl.einsum("->", np.float64(3.0)), np.float64)


def test_interleaved_form(rng):
    a = randn(rng, (3, 4), np.float64)
    b = randn(rng, (4, 5), np.float64)
    np.testing.assert_allclose(fl.einsum(a, [0, 1], b, [1, 2], [0, 2]), np.einsum(a, [0, 1], b, [1, 2], [0, 2]))
    np.testing.assert_allclose(fl.einsum(a, [0, 1], b, [1, 2]), np.einsum(a, [0, 1], b, [1, 2]))
    c = randn(rng, (2, 3, 4), np.float64)
    np.testing.assert_allclose(fl.einsum(c, [Ellipsis, 1], [1, Ellipsis]), np.einsum(c, [Ellipsis, 1], [1, Ellipsis]))


def test_zero_size(rng):
    a = np.zeros((3, 0))
    b = np.zeros((0, 4))
    np.testing.assert_array_equal(fl.einsum("ij,jk", a, b), np.zeros((3, 4)))
    assert fl.einsum("ij,jk->ik", np.zeros((0, 2)), np.ones((2, 3))).shape == (0, 3)
    assert fl.einsum("ij->", a) == 0.0
    np.testing.assert_array_equal(fl.einsum("ij,jk,kl->il", np.ones((2, 3)), np.ones((3, 0)), np.ones((0, 2))), np.zeros((2, 2)))


# --------------------------------------------------------------------------------------------
# quadratic forms: the same array on both sides of a matrix (computed on the symmetric part's
# triangle when the array is read twice; W is never symmetric here)

# (subscripts, x's shape, W's shape, position of W): orders above one 64-block, 128+ rows
QUADRATIC = [
    ("bi,ij,bj->b", (512, 300), (300, 300), 1),
    ("bi,ji,bj->b", (200, 150), (150, 150), 1),  # W's labels the other way round
    ("ij,bi,bj->b", (130, 65), (65, 65), 0),  # W first; an order just above one block
    ("bi,bj,ij->b", (150, 129), (129, 129), 2),  # W last
    ("abi,ij,abj->ab", (8, 40, 130), (130, 130), 1),  # two batch labels
    ("abi,ij,abj->ba", (8, 40, 130), (130, 130), 1),  # the output permuted
    ("...i,ij,...j->...", (3, 50, 100), (100, 100), 1),  # ellipsis
    ("ib,ij,jb->b", (100, 300), (100, 100), 1),  # x's summed axis first
    ("bi,ij,bj->b", (40, 100), (100, 100), 1),  # too few rows for the triangle: pairwise
    ("bi,ij,bj->b", (300, 50), (50, 50), 1),  # a single block: pairwise
]


def assert_quadratic_close(got, subscripts, ops, dtype):
    """``assert_einsum_close``, and within ``sqrt(terms)`` roundings of the absolute bound: the
    worst-case bound alone (``terms`` roundings) lets a float32 result off by a factor 2 pass,
    these sums of random signs being far smaller than the sums of their absolute values."""
    assert_einsum_close(got, subscripts, ops, dtype)
    ops64 = [np.asarray(o, dtype=np.float64) for o in ops]
    want = np.einsum(subscripts, *ops64)
    bound = np.einsum(subscripts, *[np.abs(o) for o in ops64])
    terms = max(o.size for o in ops64 if o.ndim == 2 and o.shape[0] == o.shape[1])
    err = np.abs(np.asarray(got, np.float64) - want)
    assert np.all(err <= 16 * eps(dtype) * math.sqrt(terms) * bound), f"{subscripts}: max error {err.max()}"


def _quadratic_ops(x, w, wpos):
    ops = [x, x]
    ops.insert(wpos, w)
    return ops


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("subscripts,xshape,wshape,wpos", QUADRATIC, ids=[f"{q[0]}-{q[1]}" for q in QUADRATIC])
def test_quadratic_forms_every_layout(rng, subscripts, xshape, wshape, wpos, dtype):
    x = randn(rng, xshape, dtype)
    w = randn(rng, wshape, dtype)
    for xname, xv in layouts(x, broadcast=False):
        for wname, wv in [("C", w), ("F", np.asfortranarray(w)), ("negstep2", dict(layouts(w))["negstep2"])]:
            ops = _quadratic_ops(xv, wv, wpos)
            try:
                assert_quadratic_close(checked(fl.einsum, subscripts, *ops), subscripts, ops, dtype)
            except AssertionError as e:
                raise AssertionError(f"x {xname}, W {wname}: {e}") from None


def test_quadratic_forms_threads_limits_and_nan(rng, restore_threads):
    for dtype in FLOAT_DTYPES:
        x = randn(rng, (300, 200), dtype)
        w = randn(rng, (200, 200), dtype)
        results = []
        for n in (1, 2):
            fl.set_num_threads(n)
            results.append(fl.einsum("bi,ij,bj->b", x, w, x))
        assert np.array_equal(results[0], results[1])
        assert_quadratic_close(results[0], "bi,ij,bj->b", [x, w, x], dtype)
        # a memory limit below W's order squared: the pairwise path, the same values
        limited = fl.einsum("bi,ij,bj->b", x, w, x, memory_limit=200 * 200 - 1)
        assert_einsum_close(limited, "bi,ij,bj->b", [x, w, x], dtype)
        # the same values in another array: the pairwise path
        assert_einsum_close(fl.einsum("bi,ij,bj->b", x, w, x.copy()), "bi,ij,bj->b", [x, w, x], dtype)
        # NaN in a row of x poisons that row's form only; in W, every form
        xn = x.copy()
        xn[7, 3] = np.nan
        got = fl.einsum("bi,ij,bj->b", xn, w, xn)
        assert np.isnan(got[7]) and not np.isnan(np.delete(got, 7)).any()
        wn = w.copy()
        wn[5, 9] = np.nan
        assert np.isnan(fl.einsum("bi,ij,bj->b", x, wn, x)).all()
        # entries near the largest float: halves are summed, so no overflow where W has none
        big = np.full((200, 200), np.finfo(dtype).max / 4, dtype=dtype)
        xs = np.full((300, 200), 1.0 / 200, dtype=dtype)
        got = fl.einsum("bi,ij,bj->b", xs, big, xs)
        assert np.isfinite(got).all()
        assert_einsum_close(got, "bi,ij,bj->b", [xs, big, xs], dtype)


# --------------------------------------------------------------------------------------------
# planning: paths, memory limit, contract_expression


def _simulated_largest(subscripts: str, shapes, path) -> int:
    """The largest intermediate of a path, recomputed here from the letters (no ellipsis)."""
    sizes, out = _label_sizes(subscripts, shapes)
    sets = [set(t) for t in subscripts.split("->")[0].split(",")]
    big = 0
    steps = path[1:]
    for k, step in enumerate(steps):
        taken = [sets[i] for i in step]
        sets = [s for i, s in enumerate(sets) if i not in step]
        keep = set(out).union(*sets) if sets else set(out)
        result = set().union(*taken) & keep
        if k + 1 < len(steps):
            big = max(big, math.prod(sizes[c] for c in result))
        sets.append(result)
    return big


def test_einsum_path_matches_numpy_format(rng):
    ops = [np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5))]
    path, report = fl.einsum_path("ij,jk,kl->il", *ops)
    np_path, np_report = np.einsum_path("ij,jk,kl->il", *ops, optimize="greedy")
    assert path == np_path
    assert report == np_report
    # usable as optimize=
    assert_einsum_close(fl.einsum("ij,jk,kl->il", *ops, optimize=path), "ij,jk,kl->il", ops, np.float64)
    for subscripts, shapes in CORPUS:
        if len(shapes) >= 3:
            ops = _operands(rng, shapes, np.float64)
            for opt in ("greedy", "optimal"):
                ours, _ = fl.einsum_path(subscripts, *ops, optimize=opt)
                theirs, _ = np.einsum_path(subscripts, *ops, optimize=opt)
                # the same cost as NumPy's choice (paths may differ between equal-cost orders)
                cost = lambda p: float(fl.contract_expression(subscripts, *shapes, optimize=p).flops)  # noqa: E731
                assert cost(ours) <= cost(theirs) * (1 + 1e-12), (subscripts, opt, ours, theirs)
    # steps of three operands and of one are allowed too
    ops4 = _operands(rng, [(3, 4), (4, 5), (5, 6), (6, 2)], np.float64)
    for p in (["einsum_path", (0, 1, 2), (0, 1)], ["einsum_path", (3,), (0, 1), (0, 1), (0, 1)]):
        assert_einsum_close(fl.einsum("ij,jk,kl,lm->im", *ops4, optimize=p), "ij,jk,kl,lm->im", ops4, np.float64)
    with pytest.raises(ValueError, match="path"):
        fl.einsum("ij,jk,kl->il", *[np.ones((2, 2))] * 3, optimize=["einsum_path", (0, 1)])
    with pytest.raises(ValueError, match="strategy"):
        fl.einsum("ij,jk", np.ones((2, 2)), np.ones((2, 2)), optimize="fastest")


@pytest.mark.parametrize("optimize", ["greedy", "optimal", False])
def test_memory_limit_is_obeyed(rng, optimize):
    subscripts = "ab,bc,cd,de,ef->af"
    shapes = [(8, 30), (30, 5), (5, 40), (40, 6), (6, 9)]
    ops = _operands(rng, shapes, np.float64)
    for limit in (0, 10, 48, 100, 300, 1200, 10**6):
        expr = fl.contract_expression(subscripts, *shapes, optimize=optimize, memory_limit=limit)
        assert expr.largest_intermediate <= limit, (limit, expr.path)
        assert _simulated_largest(subscripts, shapes, expr.path) <= limit, (limit, expr.path)
        assert_einsum_close(expr(*ops), subscripts, ops, np.float64)
        assert_einsum_close(fl.einsum(subscripts, *ops, optimize=optimize, memory_limit=limit), subscripts, ops, np.float64)
        path, _ = fl.einsum_path(subscripts, *ops, optimize=optimize, memory_limit=limit)
        assert _simulated_largest(subscripts, shapes, path) <= limit
    # NumPy's ("greedy", limit) form of optimize= too
    path, _ = fl.einsum_path(subscripts, *ops, optimize=("greedy", 0))
    assert path == ["einsum_path", (0, 1, 2, 3, 4)]


def test_contract_expression_reuse(rng):
    expr = fl.contract_expression("ij,jk,kl->il", (8, 8), (8, 8), (8, 8))
    assert "ij,jk,kl->il" in repr(expr)
    for dtype in FLOAT_DTYPES:
        for _ in range(5):
            ops = _operands(rng, [(8, 8)] * 3, dtype)
            assert_einsum_close(expr(*ops), "ij,jk,kl->il", ops, dtype)
        out = np.empty((8, 8), dtype)
        assert expr(*ops, out=out) is out
        assert_einsum_close(out, "ij,jk,kl->il", ops, dtype)
    # layouts differ per call: the plan is per shape, strides are read each time
    ops = _operands(rng, [(8, 8)] * 3, np.float64)
    for name, v in layouts(ops[1]):
        assert_einsum_close(expr(ops[0], v, ops[2]), "ij,jk,kl->il", ops, np.float64)
    with pytest.raises(ValueError, match=r"planned for operands of shapes \(8, 8\)"):
        expr(np.ones((8, 8)), np.ones((8, 9)), np.ones((9, 8)))
    with pytest.raises(ValueError, match="takes 3 operands"):
        expr(np.ones((8, 8)), np.ones((8, 8)))
    assert expr.path[0] == "einsum_path"
    assert "Complete contraction" in expr.report()
    view_expr = fl.contract_expression("ij->ji", (3, 4))
    x = np.ones((3, 4))
    assert np.shares_memory(view_expr(x), x)


# --------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "subscripts,shapes,match",
    [
        ("ij,jk", [(2, 3), (4, 5)], r"label 'j'.*size 3.*size 4"),
        ("ij,jk->ik", [(2, 3), (3, 4), (4, 5)], "more operands"),
        ("ij,jk,kl", [(2, 3), (3, 4)], "fewer operands"),
        ("ij$", [(2, 3)], r"'\$' at position 2"),
        ("i->i->i", [(2,)], "second '->'"),
        ("i.j", [(2, 3)], r"'\.' at position 1"),
        ("i-j", [(2, 3)], "not part of '->'"),
        ("i>j", [(2, 3)], "not part of '->'"),
        ("ij->k", [(2, 3)], "'k' at position 4 never appears"),
        ("ij->ii", [(2, 3)], "'i' at position 5 appears more than once"),
        ("ijk", [(2, 3)], "has 2 dimensions"),
        ("i", [(2, 3)], "no '...'"),
        ("...i->i", [(2, 3)], "no '...' to hold them"),
        ("ii", [(2, 3)], "repeated in operand 0"),
        ("i......", [(2, 3)], "second '...'"),
        ("ij,jk", [(2, 3), (1, 4)], None),  # size-1 broadcast: fine
    ],
)
def test_errors(subscripts, shapes, match):
    ops = [np.ones(s) for s in shapes]
    if match is None:
        fl.einsum(subscripts, *ops)
        return
    with pytest.raises(ValueError, match=match):
        fl.einsum(subscripts, *ops)
    with pytest.raises(ValueError, match=match):
        fl.contract_expression(subscripts, *shapes)


def test_argument_errors():
    with pytest.raises(ValueError):
        fl.einsum()
    with pytest.raises(TypeError):
        fl.einsum("ij", np.ones((2, 2)), order="C")
    with pytest.raises(TypeError, match="complex"):
        fl.einsum("ij", np.ones((2, 2), complex))
    with pytest.raises(TypeError):
        fl.einsum("ij,jk", np.ones((2, 2)), np.ones((2, 2)), optimize=3.5)
    with pytest.raises(ValueError, match="out of range"):
        fl.einsum(np.ones(2), [60])


def test_junk_strings_never_crash():
    gen = np.random.default_rng(5)
    alphabet = list("ij.,->.AZ$ ") + ["...", "->"]
    for _ in range(500):
        s = "".join(gen.choice(alphabet, size=int(gen.integers(0, 10))))
        nops = s.split("->")[0].count(",") + 1
        try:
            fl.einsum(s, *[np.ones((2,) * int(gen.integers(0, 3))) for _ in range(nops)])
        except ValueError:
            pass


# --------------------------------------------------------------------------------------------
# tensordot


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_tensordot(rng, dtype):
    cases = [
        ((3, 4, 5), (4, 5, 6), 2),
        ((3, 4, 5), (5, 6), 1),
        ((3, 4), (5, 6), 0),
        ((3, 4), (3, 4), 2),
        ((4,), (4,), 1),
        ((3, 4, 5), (5, 4, 2), ([1, 2], [1, 0])),
        ((3, 4, 5), (5, 4, 2), ((2,), (0,))),
        ((3, 4, 5), (5, 4, 3), ([0, 1, 2], [2, 1, 0])),
        ((6, 7, 8), (8, 7, 5), ([-1, -2], [0, 1])),
        ((3, 4), (4, 5), (1, 0)),
        ((), (), 0),
    ]
    for sa, sb, axes in cases:
        a, b = randn(rng, sa, dtype), randn(rng, sb, dtype)
        want = np.tensordot(a.astype(np.float64), b.astype(np.float64), axes)
        pairs = itertools.product(layouts(a), layouts(b)) if a.ndim and b.ndim else [(("C", a), ("C", b))]
        for (na, va), (nb, vb) in itertools.islice(pairs, 0, None, 3):
            got = checked(fl.tensordot, va, vb, axes)
            assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == want.shape, (sa, sb, axes)
            np.testing.assert_allclose(got, want, rtol=200 * eps(dtype), atol=200 * eps(dtype) * max(1, a.size))
    with pytest.raises(ValueError, match="shape-mismatch"):
        fl.tensordot(np.ones((3, 4)), np.ones((5, 6)), 1)
    with pytest.raises(ValueError, match="shape-mismatch"):
        fl.tensordot(np.ones((3, 4)), np.ones((4, 6)), ([1, 0], [0]))
    with pytest.raises(ValueError, match="shape-mismatch"):
        fl.tensordot(np.ones((3, 4)), np.ones((4,)), 2)
    with pytest.raises(ValueError, match="out of bounds"):
        fl.tensordot(np.ones((3, 4)), np.ones((4, 6)), ([2], [0]))
    np.testing.assert_allclose(fl.tensordot([[1, 2]], [[3], [4]], 1), [[11.0]])


def test_labels_exhausted():
    # 52 letters are all einsum has; tensordot of two 27-d operands cannot be written
    with pytest.raises(ValueError, match="52"):
        fl.tensordot(np.ones((1,) * 27), np.ones((1,) * 27), 0)
    assert string.ascii_letters  # (the letters einsum uses)


def test_recent_plans_are_reused_only_for_the_same_call(rng):
    """einsum remembers recent plans: the same subscripts with other shapes, strategies or
    memory limits must each get their own."""
    for n in (2, 3, 2, 5, 3):
        ops = _operands(rng, [(n, n + 1), (n + 1, n + 2), (n + 2, 4)], np.float64)
        for optimize, limit in (("greedy", None), ("optimal", None), ("greedy", 0), (False, 1)):
            got = fl.einsum("ij,jk,kl->il", *ops, optimize=optimize, memory_limit=limit)
            assert_einsum_close(got, "ij,jk,kl->il", ops, np.float64)
    a = np.ones((3, 3))
    assert fl.einsum("ij->ji", a).shape == (3, 3)
    assert fl.einsum("ij->ji", np.ones((2, 5))).shape == (5, 2)


def test_broadcast_diagonal_of_a_size_one_operand():
    """Found by the cargo-fuzz target einsum_plan: a repeated label on a 1x1 operand broadcast
    against size 2 elsewhere read past the operand and gave a wrong answer."""
    a = np.full((1, 1), 3.0)
    b = np.arange(4.0).reshape(2, 2)
    for optimize in (False, "greedy", "optimal"):
        np.testing.assert_array_equal(fl.einsum("ii,iZ", a, b, optimize=optimize), np.einsum("ii,iZ", a, b))
    c = np.arange(3.0).reshape(1, 3)
    np.testing.assert_array_equal(fl.einsum("ij,ii->j", c, a), np.einsum("ij,ii->j", c, a))
