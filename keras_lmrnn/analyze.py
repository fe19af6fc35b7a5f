"""Renamed: the full analysis of one model is `keras_lmrnn.analysis.full`.

This old name (which read too much like the `keras_lmrnn.analysis` package)
still works, with a FutureWarning, and goes in a later release.

Example:

>>> from keras_lmrnn.analysis import full   # instead of: from keras_lmrnn import analyze
"""

import warnings

from keras_lmrnn.analysis.full import (  # noqa: F401  (the old names)
    analyze,
    clusters_over_training,
    clusters_record,
    source_record,
    write,
)

__all__ = []  # documented under keras_lmrnn.analysis.full

warnings.warn("keras_lmrnn.analyze is now keras_lmrnn.analysis.full; the old name goes in a later release",
              FutureWarning, stacklevel=2)
