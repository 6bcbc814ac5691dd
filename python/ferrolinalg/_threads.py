"""Thread settings: a context manager over ``set_num_threads``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ._core import get_num_threads, set_num_threads


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run the enclosed block with ``n`` threads, then restore the previous count.

    The setting is process-wide (like ``threadpoolctl.threadpool_limits``), not per Python thread.
    """
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(previous)
