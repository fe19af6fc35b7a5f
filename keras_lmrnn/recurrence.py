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

import numpy as np
from keras import ops

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
        if self.kernel_mask is None:
            return kernel
        return kernel * ops.convert_to_tensor(self.kernel_mask, kernel.dtype)

    def forward(self, w, h):
        return ops.matmul(h, w)

    def transposed_weights(self, w):
        return ops.transpose(w)

    def backward(self, w_t, g):
        return ops.matmul(g, w_t)

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
    where the full kernel holds N**2. The backward's transposed product
    gathers each unit's halo contributions (no scatter-add), and the weight
    gradient is one batched product over the whole sequence.

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
        tiles_r, tiles_c = rows // t, cols // t
        src, dst = [], []
        for ti in range(tiles_r):
            for tj in range(tiles_c):
                hr = (ti * t - r + np.arange(span)) % rows
                hc = (tj * t - r + np.arange(span)) % cols
                src.append((hr[:, None] * cols + hc[None, :]).ravel())
                tr, tc = ti * t + np.arange(t), tj * t + np.arange(t)
                dst.append((tr[:, None] * cols + tc[None, :]).ravel())
        src, dst = np.stack(src), np.stack(dst)  # (tiles, span**2), (tiles, t*t)
        block_mask = kernel_mask[src[:, :, None], dst[:, None, :]]
        for q in range(len(src)):  # a halo wider than the sheet repeats units
            _, first = np.unique(src[q], return_index=True)
            repeated = np.ones(src.shape[1], bool)
            repeated[first] = False
            block_mask[q, repeated, :] = False
        if block_mask.sum() != kernel_mask.sum():
            raise ValueError("the tiles' halos do not cover the mask")
        self.layout = dst.ravel()  # layout[p]: sheet index of position p
        position = np.argsort(self.layout)  # position[j]: where unit j went
        self.inverse_layout = position
        self.halo = position[src]  # halo in tiled positions
        self.block_mask = block_mask
        self.kernel_index = src[:, :, None] * n + dst[:, None, :]
        flat = self.halo.ravel()
        counts = np.bincount(flat, minlength=n)
        # halo_sources[j, c]: the c-th place of unit j among all halos (or
        # the sentinel flat.size, which reads a zero).
        table = np.full((n, counts.max()), flat.size, np.int64)
        fill = np.zeros(n, np.int64)
        for place, unit in enumerate(flat):
            table[unit, fill[unit]] = place
            fill[unit] += 1
        self.halo_sources = table
        entries = np.nonzero(block_mask.ravel())[0]
        self.entries = entries  # flat block positions of the mask entries
        self.entry_coordinates = np.stack(
            [src[:, :, None].repeat(t * t, 2).ravel()[entries],
             dst[:, None, :].repeat(span * span, 1).ravel()[entries]], 1
        )
        self.shape = (len(src), span * span, t * t)
        self.n = n

    def weights(self, kernel):
        flat = ops.reshape(kernel, (-1,))
        blocks = ops.take(flat, self.kernel_index.ravel(), axis=0)
        blocks = ops.reshape(blocks, self.shape)
        return blocks * ops.convert_to_tensor(self.block_mask, blocks.dtype)

    def _halo(self, h):
        return ops.take(h, self.halo, axis=-1)  # (..., tiles, span**2)

    def forward(self, w, h):
        out = ops.einsum("bqp,qpo->bqo", self._halo(h), w)
        return ops.reshape(out, (-1, self.n))

    def transposed_weights(self, w):
        return w

    def backward(self, w_t, g):
        g = ops.reshape(g, (-1,) + self.shape[::2])
        halo_grad = ops.einsum("bqo,qpo->bqp", g, w_t)
        halo_grad = ops.reshape(halo_grad, (-1, self.shape[0] * self.shape[1]))
        padded = ops.pad(halo_grad, [(0, 0), (0, 1)])
        return ops.sum(ops.take(padded, self.halo_sources, axis=-1), axis=-1)

    def kernel_grad(self, h_prev, g):
        blocks = ops.einsum(
            "mqp,mqo->qpo",
            self._halo(h_prev),
            ops.reshape(g, (-1,) + self.shape[::2]),
        )
        values = ops.take(ops.reshape(blocks, (-1,)), self.entries, axis=0)
        return ops.scatter(self.entry_coordinates, values, (self.n, self.n))


def tile_product(kernel_mask, sheet_shape, periodic, tile=None):
    """A `TileProduct` for this mask, or None where tiles do not pay or fit.

    Tiles fit a sheet whose sides a tile of 3 to 10 units divides (the tile
    nearest 5 is taken, the size that measured fastest). They pay where the
    blocks, tiles * (t + 2r)**2 * t**2 numbers, are well under N**2: at most
    a quarter of it.
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
    elif (dr.max() >= rows) or (dc.max() >= cols):
        return None
    reach = int(max(dr.max(), dc.max()))
    if tile is None:
        sides = [t for t in range(3, 11) if rows % t == 0 and cols % t == 0]
        if not sides:
            return None
        tile = min(sides, key=lambda t: (abs(t - 5), t))
    elif rows % tile or cols % tile:
        return None
    stored = (n // tile**2) * (tile + 2 * reach) ** 2 * tile**2
    if stored * 4 > n * n:
        return None
    try:
        return TileProduct(kernel_mask, sheet_shape, tile, reach)
    except ValueError:
        return None


def sparse_pays(product, n, batch_size, steps):
    """Whether `product` (a sparse one) beats the dense fused product here.

    Provisional rule, to be set from benchmarks/recurrence_speed.py.
    """
    if isinstance(product, DiagonalProduct):
        return True
    if batch_size is None or not isinstance(batch_size, int):
        return False
    return batch_size <= 16


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

