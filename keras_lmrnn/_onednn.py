"""The one backend-specific kernel: PyTorch's oneDNN product on a CPU.

PyTorch's own CPU product of a batch-4 state with a 2500 x 2500 matrix
measured 3.3x slower than oneDNN's with the matrix packed once (the fused
recurrence reuses it for every step of a sequence). Used by
`keras_lmrnn.recurrence.DenseProduct` only when Keras runs on PyTorch and
the weights are float32 on the CPU; the only module that imports a backend
(tests/test_no_backend_imports.py allows it by name).
"""

import keras


def packs(w):
    """Whether `w` is a PyTorch CPU float32 matrix that oneDNN can pack."""
    if keras.backend.backend() != "torch":
        return False
    import torch

    return (
        w.device.type == "cpu"
        and w.dtype == torch.float32
        and torch.backends.mkldnn.is_available()
    )


def one_dnn_product(weight_out_in):
    """h -> h @ weight.T, with the (out, in) weight packed once by oneDNN."""
    import torch

    packed = weight_out_in.contiguous().to_mkldnn()
    return lambda h: torch._C._nn.mkldnn_linear(
        h.contiguous().to_mkldnn(), packed
    ).to_dense()
