"""Conversion of inputs the native module cannot borrow as they are.

The native module borrows aligned, native-byte-order float32 and float64 arrays of any strides
without copying. Everything else comes here and is converted the way ``numpy.linalg`` converts:
integers and bools to float64, float16 to float32. Complex input is not supported yet and
extended precision would lose digits silently, so both get a ``TypeError``.
"""

from __future__ import annotations

import numpy as np


def as_float_array(x: object, name: str = "input") -> np.ndarray:
    """``x`` as a float32 or float64 array the native module can borrow."""
    arr = np.asarray(x)
    dt = arr.dtype
    if dt.kind == "f":
        if dt.itemsize == 2:
            return arr.astype(np.float32)
        if dt.itemsize not in (4, 8):
            raise TypeError(
                f"{name} has dtype {dt}; ferrolinalg computes in float32 or float64 "
                "(convert explicitly if losing the extra precision is acceptable)"
            )
        # byte-swapped or unaligned: a native, aligned copy
        return np.asarray(arr, dtype=dt.newbyteorder("=")).copy() if not _borrowable(arr) else arr
    if dt.kind in "biu":
        return arr.astype(np.float64)
    if dt.kind == "c":
        raise TypeError(f"{name} has complex dtype {dt}; complex input is not supported yet")
    raise TypeError(f"{name} has dtype {dt}; ferrolinalg needs real numbers (float32 or float64)")


def _borrowable(arr: np.ndarray) -> bool:
    return arr.dtype.isnative and arr.flags.aligned
