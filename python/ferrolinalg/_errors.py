"""ferrolinalg's exceptions."""

import numpy as np

__all__ = ["LinAlgError"]


class LinAlgError(np.linalg.LinAlgError):
    """A singular matrix or a solver that did not converge; the message names the batch index.

    A subclass of ``numpy.linalg.LinAlgError``, so code that catches NumPy's catches ours.
    """
