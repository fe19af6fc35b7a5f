"""The fused recurrence: a whole sequence of the leaky masked RNN as one op.

Autodiff of a step-by-step time loop accumulates the recurrent weight
gradient at every step (a rank-`batch` update of the whole N x N matrix);
at batch 4 that update, not the arithmetic, is most of a training step.
`fused_sequence` runs the loop forward once, and its hand-written backward
carries only the state deltas back through time, computing the recurrent
weight gradient after the loop as one product over the whole sequence.

The recurrent product itself is pluggable (`DenseProduct`: h @ W with the
full N x N kernel; `TileProduct`: the same product over square tiles of the
sheet, each reading only its halo, for local masks; `DiagonalProduct`:
autapses). Every product keeps the layer's N x N kernel as its weight and
returns that kernel's gradient, zero outside the mask, so saved models,
constraints and analyses see the same weights whatever product ran.

Example:

>>> import numpy as np
>>> from keras import ops
>>> product = DenseProduct(None)
>>> inputs = ops.ones((5, 2, 3))  # (time, batch, units), the drive U x + b
>>> hs = fused_sequence(inputs, ops.zeros((2, 3)), ops.zeros((3, 3)),
...                     product, alpha=1.0, activation="relu")
>>> tuple(hs.shape)
(5, 2, 3)
"""

import keras
import numpy as np
from keras import ops

from keras_lmrnn._onednn import one_dnn_product, packs as _packs

# f'(pre) written with f = f(pre), so the backward keeps only f's sequence.
ACTIVATION_DERIVATIVES = {
    "relu": lambda f: ops.cast(ops.greater(f, 0), f.dtype),
    "tanh": lambda f: 1.0 - ops.square(f),
    "sigmoid": lambda f: f * (1.0 - f),
    "linear": lambda f: ops.ones_like(f),
}
ACTIVATIONS = {
    "relu": ops.relu,
    "tanh": ops.tanh,
    "sigmoid": ops.sigmoid,
    "linear": lambda x: x,
}


class DenseProduct:
    """`h @ W` with the full (pre, post) kernel; the gradient masked.

    Args:
        kernel_mask: boolean (pre, post) array, or None for a dense mask.
    """

    layout = None  # units stay in their sheet order

    def __init__(self, kernel_mask):
        self.kernel_mask = (
            None if kernel_mask is None or kernel_mask.all() else kernel_mask
        )

    def weights(self, kernel):
        if self.kernel_mask is not None:
            mask = ops.convert_to_tensor(self.kernel_mask, kernel.dtype)
            kernel = kernel * mask
        if _packs(kernel):  # (pre, post) = (in, out): pack its transpose
            return one_dnn_product(ops.transpose(kernel)), kernel
        return kernel

    def forward(self, w, h):
        return w[0](h) if isinstance(w, tuple) else ops.matmul(h, w)

    def transposed_weights(self, w):
        if isinstance(w, tuple):
            # g @ W.T is one_dnn_product(W)(g): W (pre, post) read as (out, in)
            return one_dnn_product(w[1])
        return ops.transpose(w)

    def backward(self, w_t, g):
        return w_t(g) if callable(w_t) else ops.matmul(g, w_t)

    def kernel_grad(self, h_prev, g):
        """Gradient of the (pre, post) kernel from (M, N) states and deltas."""
        grad = ops.matmul(ops.transpose(h_prev), g)
        if self.kernel_mask is not None:
            grad = grad * ops.convert_to_tensor(self.kernel_mask, grad.dtype)
        return grad


class DiagonalProduct:
    """`h * diag(W)`: a pool of autapses (the mask is the identity)."""

    layout = None

    def __init__(self, n):
        self.diagonal = np.arange(n)

    def weights(self, kernel):
        return ops.diagonal(kernel)

    def forward(self, w, h):
        return h * w

    def transposed_weights(self, w):
        return w

    def backward(self, w_t, g):
        return g * w_t

    def kernel_grad(self, h_prev, g):
        return ops.diag(ops.sum(h_prev * g, axis=0))


class TileProduct:
    """The recurrent product over square tiles of the sheet.

    Units are reordered tile by tile (`layout`); tile q's t*t units read only
    the units of its halo (the tile widened by the mask's reach r on every
    side, wrapped on a torus), through a dense (halo, tile) block that is
    zero outside the mask. The blocks hold tiles * (t + 2r)**2 * t**2 numbers
    where the full kernel holds N**2. The backward's transposed product is
    the same tiled product with the transposed mask's blocks (no
    scatter-add), and the weight gradient is one batched product over the
    whole sequence.

    Args:
        kernel_mask: boolean (pre, post) array of the layer.
        sheet_shape: (rows, cols) of the sheet.
        tile: the tile's side, dividing rows and cols.
        reach: r, the largest row or column offset of a mask entry.
    """

    def __init__(self, kernel_mask, sheet_shape, tile, reach):
        rows, cols = sheet_shape
        t, r = tile, reach
        n = rows * cols
        span = t + 2 * r
        src, dst = [], []
        for ti in range(rows // t):
            for tj in range(cols // t):
                hr = (ti * t - r + np.arange(span)) % rows
                hc = (tj * t - r + np.arange(span)) % cols
                src.append((hr[:, None] * cols + hc[None, :]).ravel())
                tr, tc = ti * t + np.arange(t), tj * t + np.arange(t)
                dst.append((tr[:, None] * cols + tc[None, :]).ravel())
        src, dst = np.stack(src), np.stack(dst)  # (tiles, span**2), (tiles, t*t)
        self.layout = dst.ravel()  # layout[p]: sheet index of position p
        self.inverse_layout = np.argsort(self.layout)
        self.halo = self.inverse_layout[src]  # halo in tiled positions
        self.shape = (len(src), span * span, t * t)
        self.n = n
        # (blocks, kernel index, mask) of the product and of its transpose
        self.block_mask = self._block_mask(kernel_mask, src, dst)
        self.block_mask_t = self._block_mask(kernel_mask.T, src, dst)
        self.kernel_index = src[:, :, None] * n + dst[:, None, :]
        self.kernel_index_t = dst[:, None, :] * n + src[:, :, None]
        # kernel_positions[pre * n + post]: where the block entry of that
        # synapse lies in the flat blocks (a sentinel, reading a zero, for
        # every pair outside the mask). The kernel's gradient is one gather
        # through it: scatters measured up to 50x slower (PyTorch).
        sentinel = int(np.prod(self.shape))
        positions = np.full(n * n, sentinel, np.int32)
        entries = np.nonzero(self.block_mask.ravel())[0]
        positions[self.kernel_index.ravel()[entries]] = entries
        self.kernel_positions = positions

    @staticmethod
    def _block_mask(kernel_mask, src, dst):
        block_mask = kernel_mask[src[:, :, None], dst[:, None, :]]
        for q in range(len(src)):  # a halo wider than the sheet repeats units
            _, first = np.unique(src[q], return_index=True)
            repeated = np.ones(src.shape[1], bool)
            repeated[first] = False
            block_mask[q, repeated, :] = False
        if block_mask.sum() != kernel_mask.sum():
            raise ValueError("the tiles' halos do not cover the mask")
        return block_mask

    def _blocks(self, kernel, index, block_mask):
        flat = ops.take(ops.reshape(kernel, (-1,)), index.ravel(), axis=0)
        blocks = ops.reshape(flat, self.shape)
        return blocks * ops.convert_to_tensor(block_mask, blocks.dtype)

    def weights(self, kernel):
        return (
            self._blocks(kernel, self.kernel_index, self.block_mask),
            self._blocks(kernel, self.kernel_index_t, self.block_mask_t),
        )

    def _halo(self, h):
        return ops.take(h, self.halo, axis=-1)  # (..., tiles, span**2)

    def _apply(self, blocks, h):
        # Broadcast-multiply-sum, not einsum: on a CPU at small batches the
        # einsum's many tiny matrix products measured 5x slower (JAX).
        out = ops.sum(self._halo(h)[..., None] * blocks, axis=-2)
        return ops.reshape(out, (-1, self.n))

    def forward(self, w, h):
        return self._apply(w[0], h)

    def transposed_weights(self, w):
        return w

    def backward(self, w_t, g):
        return self._apply(w_t[1], g)

    def kernel_grad(self, h_prev, g):
        blocks = ops.einsum(
            "mqp,mqo->qpo",
            self._halo(h_prev),
            ops.reshape(g, (-1,) + self.shape[::2]),
        )
        padded = ops.pad(ops.reshape(blocks, (-1,)), [(0, 1)])
        grad = ops.take(padded, self.kernel_positions, axis=0)
        return ops.reshape(grad, (self.n, self.n))


# The automatic rule, from benchmarks/recurrence_speed.py on a 2-core CPU
# (README "Speed"). At small batches (4 x 350) the fused loop wins under
# every backend (2-4x). At batch 64 x 100 it wins under PyTorch (1.1-1.2x),
# under TensorFlow from N = 1225 (1.3x; 0.8x at N = 400), and under JAX it
# never does (0.95-1.01x), so JAX keeps the step loop there. The tiled
# product beats the dense fused one under JAX at small batches where its
# blocks hold at most a fifth of the N x N kernel's entries (d = 6 on a
# 50 x 50 sheet: 2.6x), and at N = 2500 also where they hold a quarter
# (d = 10: 1.08-1.92x in four runs), but not at N = 1225, where blocks of
# 24% (d = 6) lost to the dense product, whose 6 MB kernel stays in cache
# (0.70x); under TensorFlow tiles never won, under PyTorch not against the
# oneDNN-packed dense product. Tiles were measured on a CPU only, so on
# another device the rule keeps the dense fused product.
SMALL_BATCH = 16
TENSORFLOW_FUSED_MIN_UNITS = 1000  # at large batches
SPARSE_MAX_FRACTION = 0.2
LARGE_SHEET_UNITS = 2500  # from this N ...
LARGE_SHEET_MAX_FRACTION = 0.3  # ... tiles holding up to this fraction pay
SPARSE_BACKENDS = ("jax",)


def tile_product(kernel_mask, sheet_shape, periodic, tile=None):
    """A `TileProduct` for this mask, or None where tiles cannot fit it.

    Tiles fit a sheet whose sides a tile of 3 to 10 units divides and a mask
    whose entries all lie within the halos. Without `tile`, the largest
    tile whose blocks hold at most `SPARSE_MAX_FRACTION` of N**2 numbers is
    taken (fewer, larger tiles measured faster), else the one holding fewest;
    none holding more than half of N**2 is made.
    """
    if sheet_shape is None:
        return None
    rows, cols = sheet_shape
    n = rows * cols
    pre, post = np.nonzero(kernel_mask)
    if len(pre) == 0:
        return None
    dr = np.abs(pre // cols - post // cols)
    dc = np.abs(pre % cols - post % cols)
    if periodic:
        dr, dc = np.minimum(dr, rows - dr), np.minimum(dc, cols - dc)
    reach = int(max(dr.max(), dc.max()))
    sides = [t for t in range(3, 11) if rows % t == 0 and cols % t == 0]
    if tile is not None:
        sides = [tile] if tile in sides else []
    fraction = {t: (n // t**2) * (t + 2 * reach) ** 2 * t**2 / n**2 for t in sides}
    fitting = [t for t in sides if fraction[t] <= SPARSE_MAX_FRACTION]
    if fitting:
        tile = max(fitting)
    elif sides:
        tile = min(sides, key=fraction.get)
    if not sides or fraction[tile] > 0.5:
        return None
    try:
        product = TileProduct(kernel_mask, sheet_shape, tile, reach)
    except ValueError:  # a non-periodic mask that wraps, say
        return None
    product.fraction = fraction[tile]
    return product


def tiles_pay(n, fraction):
    """Whether tiles holding `fraction` of N**2 numbers beat the dense fused
    product at small batches (JAX, CPU; measured, see the rule above)."""
    limit = LARGE_SHEET_MAX_FRACTION if n >= LARGE_SHEET_UNITS else SPARSE_MAX_FRACTION
    return fraction <= limit


def auto_path(n, batch_size, diagonal, tiles):
    """The recurrence `LMRNN(recurrence="auto")` runs: "step", "fused" or "sparse".

    Args:
        n: number of units.
        batch_size: the call's static batch size (None if unknown).
        diagonal: whether the mask is the identity (autapses).
        tiles: a callable giving the layer's `TileProduct` or None, called
            only where tiles may pay (it builds N**2-sized tables).
    """
    backend = keras.backend.backend()
    small = isinstance(batch_size, int) and batch_size <= SMALL_BATCH
    if diagonal:
        return "sparse"
    if small and backend in SPARSE_BACKENDS and _on_cpu():
        product = tiles()
        if product is not None and tiles_pay(n, product.fraction):
            return "sparse"
    if small or backend == "torch":
        return "fused"
    if backend == "tensorflow" and n >= TENSORFLOW_FUSED_MIN_UNITS:
        return "fused"
    return "step"


def _on_cpu():
    """Whether Keras computes on a CPU (asked without making a tensor, so
    that it works inside a traced function)."""
    return keras.distribution.list_devices()[0].lower().startswith("cpu")


def fused_sequence(inputs, h0, kernel, product, alpha, activation):
    """States of h[t] = (1-alpha) h[t-1] + alpha f(h[t-1] W + inputs[t]).

    Args:
        inputs: (time, batch, N) drive (input projection, bias, noise),
            in the product's unit order.
        h0: (batch, N) initial state, same order.
        kernel: the (pre, post) N x N recurrent kernel.
        product: `DenseProduct`, `TileProduct` or `DiagonalProduct`.
        alpha: leak in (0, 1], a Python float.
        activation: a name in `ACTIVATIONS`.

    Returns:
        (time, batch, N) states h[1..T]; its gradient with respect to
        inputs, h0 and kernel is computed by one backward scan over the
        deltas and whole-sequence products after it.
    """
    f_of = ACTIVATIONS[activation]
    f_prime = ACTIVATION_DERIVATIVES[activation]
    alpha = float(alpha)
    leaky = alpha < 1.0

    @ops.custom_gradient
    def run(inputs, h0, kernel):
        w = product.weights(kernel)

        # The carry is (h, f) so that each step's output has the carry's
        # structure, as Keras' TensorFlow scan requires.
        def step(carry, drive):
            h = carry[0]
            f = f_of(product.forward(w, h) + drive)
            h_new = (1.0 - alpha) * h + alpha * f if leaky else f
            return (h_new, f), (h_new, f)

        _, (hs, fs) = ops.scan(step, (h0, ops.zeros_like(h0)), inputs)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            w_t = product.transposed_weights(w)

            def back(carry, item):
                up, f = item
                a = up + carry
                delta = (alpha * a if leaky else a) * f_prime(f)
                carry = product.backward(w_t, delta)
                if leaky:
                    carry = carry + (1.0 - alpha) * a
                return carry, delta

            dh0, deltas = ops.scan(
                back, ops.zeros_like(h0), (upstream, fs), reverse=True
            )
            h_prev = ops.concatenate([h0[None], hs[:-1]], axis=0)
            n = ops.shape(h0)[-1]
            d_kernel = product.kernel_grad(
                ops.reshape(h_prev, (-1, n)), ops.reshape(deltas, (-1, n))
            )
            return deltas, dh0, d_kernel

        return hs, grad

    return run(*(_read(x) for x in (inputs, h0, kernel)))


def _read(x):
    """A tensor, never a variable: the gradient then flows through the read
    (TensorFlow's custom gradient would otherwise want the variable's)."""
    x = ops.convert_to_tensor(x)
    return ops.copy(x) if hasattr(x, "assign") else x

