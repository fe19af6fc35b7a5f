"""keras-lmrnn: locality-masked RNNs and the Mod-Cog battery for Keras 3.

Example:

>>> import keras, keras_lmrnn
>>> inputs = keras.Input((None, 117))
>>> hidden = keras_lmrnn.LMRNN(n=400, d=4, return_sequences=True)(inputs)
>>> model = keras.Model(inputs, keras.layers.Dense(17)(hidden))
"""

from keras_lmrnn import masks, metrics, models
from keras_lmrnn.constraints import MaskConstraint
from keras_lmrnn.layers import LMRNN, LMRNNCell

# keras_lmrnn.tasks, .evaluation, .training and .cli import neurogym and are
# imported on demand: `from keras_lmrnn import tasks`.

__version__ = "0.1.0"

__all__ = ["LMRNN", "LMRNNCell", "MaskConstraint", "masks", "metrics", "models", "__version__"]
