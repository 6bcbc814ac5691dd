"""Arrays past 2^31 elements and byte offsets past 2^32: index arithmetic is 64-bit throughout.

Cheap on memory: `np.zeros` of 8 GiB is mapped lazily and its untouched pages all read as the
kernel's one zero page, so only the few pages written here take real memory.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrolinalg as fl

N = 2**31 + 1000


@pytest.fixture(scope="module")
def big() -> np.ndarray:
    try:
        x = np.zeros(N, dtype=np.float32)
    except MemoryError:  # pragma: no cover - a machine without 8 GiB of address space to spare
        pytest.skip("cannot map 8 GiB")
    x[5] = 12.0
    x[2**31 + 7] = 4.0
    x[-1] = 3.0
    return x


def test_vector_norms_over_more_than_2_31_elements(big):
    assert fl.vector_norm(big) == np.float32(13.0)
    assert fl.vector_norm(big, ord=1) == np.float32(19.0)
    assert fl.vector_norm(big, ord=np.inf) == np.float32(12.0)


def test_products_over_more_than_2_31_elements(big):
    assert fl.vecdot(big, big) == np.float32(169.0)
    assert fl.matmul(big, big) == np.float32(169.0)


def test_views_at_byte_offsets_past_2_32(big):
    tail = big[2**31 :]  # starts 8 GiB into the buffer
    assert tail.ctypes.data - big.ctypes.data > 2**32
    assert fl.vector_norm(tail) == np.float32(5.0)
    assert fl.vecdot(tail, tail) == np.float32(25.0)
    # a strided view reaching past 2^32 bytes with a stride past 2^31 bytes
    spread = big[7 : 2**31 + 8 : 2**31]  # elements 7 and 2^31 + 7
    assert spread.shape == (2,) and spread.strides[0] == 4 * 2**31
    assert fl.vector_norm(spread) == np.float32(4.0)
