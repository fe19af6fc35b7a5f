"""keras-lmrnn: locality-masked RNNs and the Mod-Cog battery for Keras 3.

Example:

>>> import keras, keras_lmrnn
>>> inputs = keras.Input((None, 117))
>>> hidden = keras_lmrnn.LMRNN(n=400, d=4, return_sequences=True)(inputs)
>>> model = keras.Model(inputs, keras.layers.Dense(17)(hidden))
"""

import os as _os
import sys as _sys

if _os.path.basename(_sys.argv[0] if _sys.argv else "") == "keras-lmrnn":
    # The command line: keep TensorFlow's start-up lines out of its output
    # (before Keras imports TensorFlow). See keras_lmrnn/_quiet_tf.py.
    from keras_lmrnn import _quiet_tf

    _quiet_tf.install()

from keras_lmrnn import masks, metrics, models, specs  # noqa: E402
from keras_lmrnn.constraints import MaskConstraint  # noqa: E402
from keras_lmrnn.layers import LMRNN, LMRNNCell  # noqa: E402
from keras_lmrnn.zoo import from_preset, save_to_preset, upload_preset  # noqa: E402

# keras_lmrnn.tasks and .evaluation come with the zoo (saving a preset draws
# its example trials); .training, .analysis, .dynamics and .cli are imported
# on demand: `from keras_lmrnn import training`.

__version__ = "0.1.0"

__all__ = [
    "LMRNN",
    "LMRNNCell",
    "MaskConstraint",
    "from_preset",
    "masks",
    "metrics",
    "models",
    "save_to_preset",
    "specs",
    "upload_preset",
    "__version__",
]
