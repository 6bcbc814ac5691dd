"""A threadpoolctl controller for ferrolinalg's thread pool.

``threadpoolctl.threadpool_info()`` then lists ferrolinalg beside OpenBLAS and OpenMP, and
``threadpool_limits(n)`` (as scikit-learn and joblib use it to avoid oversubscription) limits
ferrolinalg too. Like threadpoolctl's own controllers it reaches the library through C entry
points of the shared object (``ferrolinalg_get_num_threads`` / ``ferrolinalg_set_num_threads``,
exported by the extension), so it works whichever way the module was imported.

threadpoolctl stays optional: this module is imported only when it is installed, and only
registers with versions that have ``threadpoolctl.register`` (3.5 and later).
"""

from __future__ import annotations

import ctypes
from typing import Any

import threadpoolctl

from . import _core

__all__ = ["FerrolinalgController", "register"]


class FerrolinalgController(threadpoolctl.LibController):  # type: ignore[misc]
    """Reports and sets the thread count of ferrolinalg's own pool."""

    user_api = "ferrolinalg"
    internal_api = "ferrolinalg"
    # the extension's file name (`_core.abi3.so`, `_core.cpython-311-...so`, `_core.pyd`); the
    # exported symbols below tell it apart from other packages' `_core` modules
    filename_prefixes = ("_core",)
    check_symbols = ("ferrolinalg_get_num_threads", "ferrolinalg_set_num_threads")

    def get_num_threads(self) -> int:
        fn = self.dynlib.ferrolinalg_get_num_threads
        fn.restype = ctypes.c_int
        return int(fn())

    def set_num_threads(self, num_threads: int) -> Any:
        fn = self.dynlib.ferrolinalg_set_num_threads
        fn.argtypes = [ctypes.c_int]
        fn.restype = None
        return fn(int(num_threads))

    def get_version(self) -> str:
        return str(_core.__version__)


def register() -> None:
    """Make threadpoolctl aware of ferrolinalg (once per process)."""
    if getattr(threadpoolctl, "_ferrolinalg_registered", False):
        return
    threadpoolctl.register(FerrolinalgController)
    threadpoolctl._ferrolinalg_registered = True  # type: ignore[attr-defined]
