"""A weight constraint that keeps masked entries exactly zero."""

import numpy as np
from keras import backend, constraints, ops, saving


@saving.register_keras_serializable(package="keras_lmrnn")
class MaskConstraint(constraints.Constraint):
    """Multiplies a weight by a fixed 0/1 mask after every optimizer update.

    Keras applies a variable's constraint right after each optimizer step, so
    entries where the mask is False stay exactly 0.0 throughout training,
    under every backend.

    Args:
        mask: boolean array with the same shape as the constrained weight
            (for a Keras recurrent kernel of layout (pre, post), that is the
            transpose of a paper-convention (post, pre) mask). `get_config`
            stores it bit-packed.

    Example:

    >>> import numpy as np, keras
    >>> mask = np.eye(4, dtype=bool)
    >>> layer = keras.layers.Dense(
    ...     4, kernel_constraint=MaskConstraint(mask), use_bias=False)
    """

    def __init__(self, mask):
        self.set_mask(mask)

    def set_mask(self, mask):
        """Replaces the mask (same forms as the `mask` argument).

        Example:

        >>> import numpy as np
        >>> constraint = MaskConstraint(np.eye(2, dtype=bool))
        >>> constraint.set_mask(np.ones((2, 2), dtype=bool))
        >>> int(constraint.mask.sum())
        4
        """
        if isinstance(mask, dict):  # from get_config
            mask = np.unpackbits(
                np.frombuffer(bytes.fromhex(mask["packed"]), dtype=np.uint8),
                count=int(np.prod(mask["shape"])),
            ).reshape(mask["shape"]).astype(bool)
        elif not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            raise TypeError(
                "Invalid value for argument `mask`: expected a boolean numpy "
                f"array. Received: {type(mask).__name__} of dtype "
                f"{getattr(mask, 'dtype', None)}"
            )
        self.mask = mask
        self._cached = {}  # dtype -> the mask as a tensor (PyTorch only)

    def __call__(self, w):
        return ops.multiply(w, self._mask_tensor(w.dtype))

    def _mask_tensor(self, dtype):
        # TensorFlow and JAX turn the mask into a constant once, when they
        # trace the train step (a traced tensor must not outlive its trace);
        # PyTorch runs eagerly, so it keeps one copy on the device.
        dtype = backend.standardize_dtype(dtype)
        if dtype in self._cached:
            return self._cached[dtype]
        tensor = ops.convert_to_tensor(self.mask, dtype=dtype)
        if backend.backend() == "torch":
            self._cached[dtype] = tensor
        return tensor

    def get_config(self):
        return {
            "mask": {
                "shape": list(self.mask.shape),
                "packed": np.packbits(self.mask).tobytes().hex(),
            }
        }

