"""Connectivity masks for recurrent weight matrices, computed with numpy only.

Every mask is a boolean array of shape (N, N) in the paper's (post, pre)
convention: ``mask[i, j]`` is True when unit ``j`` may send input to unit ``i``
(the weight ``W[i, j]`` of ``h <- f(W h + ...)``). Masks are pure functions of
their arguments: no Keras random numbers are involved, so a mask is identical
under every backend.

Example:

>>> from keras_lmrnn import masks
>>> m = masks.locality_mask((50, 50), d=6)
>>> int(m.sum(axis=1)[0])
113
>>> r = masks.random_mask(2500, in_degree=113, seed=0)
>>> bool((r.sum(axis=1) == 113).all())
True
"""

import math
import numbers

import numpy as np

from keras_lmrnn.validation import check_int, check_number

MASK_KINDS = ("locality", "random", "dense")


def sheet_shape(n, shape=None):
    """Resolves the (rows, cols) sheet of `n` units.

    Args:
        n: number of units, an integer >= 1.
        shape: optional `(rows, cols)`; required when `n` is not a perfect
            square, and must satisfy `rows * cols == n`.

    Returns:
        A tuple `(rows, cols)` of Python ints.

    Example:

    >>> sheet_shape(400)
    (20, 20)
    >>> sheet_shape(600, (20, 30))
    (20, 30)
    """
    n = check_int("n", n, 1)
    if shape is None:
        side = math.isqrt(n)
        if side * side != n:
            raise ValueError(
                "Invalid value for argument `n`: without `sheet_shape`, n must "
                f"be a perfect square (e.g. 400, 2500). Received: n={n}; pass "
                "sheet_shape=(rows, cols) with rows * cols == n."
            )
        return (side, side)
    shape = _check_shape(shape)
    if shape[0] * shape[1] != n:
        raise ValueError(
            "Invalid value for argument `sheet_shape`: expected (rows, cols) "
            f"with rows * cols == n == {n}. Received: sheet_shape={shape}"
        )
    return shape


def _check_shape(shape):
    if (
        not isinstance(shape, (tuple, list))
        or len(shape) != 2
        or any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
            for s in shape
        )
    ):
        raise ValueError(
            "Invalid value for argument `sheet_shape`: expected a pair of "
            f"positive integers (rows, cols). Received: sheet_shape={shape!r}"
        )
    return (int(shape[0]), int(shape[1]))


def sheet_distances(shape, periodic=True):
    """Euclidean distances between all pairs of units on a sheet.

    Units are numbered row by row: unit `i` sits at `(i // cols, i % cols)`.

    Args:
        shape: `(rows, cols)` of the sheet.
        periodic: if True (default), the sheet wraps around (a torus).

    Returns:
        A float64 array of shape (N, N).

    Example:

    >>> dist = sheet_distances((4, 4))
    >>> dist.shape, float(dist[0, 3]), float(dist[0, 5]) == 2 ** 0.5
    ((16, 16), 1.0, True)
    >>> float(sheet_distances((4, 4), periodic=False)[0, 3])
    3.0
    """
    rows, cols = _check_shape(shape)
    r, c = np.divmod(np.arange(rows * cols), cols)
    dr = np.abs(r[:, None] - r[None, :])
    dc = np.abs(c[:, None] - c[None, :])
    if periodic:
        dr = np.minimum(dr, rows - dr)
        dc = np.minimum(dc, cols - dc)
    return np.sqrt(dr * dr + dc * dc)


def locality_mask(shape, d, periodic=True):
    """Connects each unit to every unit within Euclidean distance `d`.

    Args:
        shape: `(rows, cols)` of the sheet; N = rows * cols.
        d: locality radius in lattice units, a number >= 0. `d=0` keeps only
            self-connections (a pool of autapses); a `d` as large as the
            sheet's diameter gives a dense mask.
        periodic: if True (default, the paper's setting), distances wrap
            around the sheet's edges (a torus), so every unit has the same
            in-degree; if False, units near the edges have fewer inputs.

    Returns:
        A symmetric boolean array of shape (N, N).

    Example:

    >>> int(locality_mask((50, 50), 10).sum(axis=1)[0])
    317
    """
    _check_shape(shape)
    check_number("d", d, 0)
    # A small tolerance keeps lattice points at exactly distance d inside.
    return sheet_distances(shape, periodic) <= float(d) + 1e-9


def locality_in_degree(d):
    """Number of lattice points within Euclidean distance `d` of a point.

    This is the in-degree of every unit of a periodic locality mask whose
    sheet is at least `2 * d + 1` units wide in both directions.

    Example:

    >>> locality_in_degree(6), locality_in_degree(10)
    (113, 317)
    """
    check_number("d", d, 0)
    k = int(math.floor(d + 1e-9))
    offsets = np.arange(-k, k + 1)
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    return int((squared <= d * d + 1e-9).sum())


def random_mask(n, in_degree, seed=0):
    """Gives every unit exactly `in_degree` sources drawn at random.

    Sources are drawn without replacement from all `n` units (self included),
    independently for each unit, from `numpy.random.default_rng(seed)`.

    Args:
        n: number of units.
        in_degree: number of incoming connections per unit, an integer in
            [0, n], or an integer array of shape (n,) giving one per unit.
        seed: integer seed; the same arguments always give the same mask.

    Returns:
        A boolean array of shape (n, n) whose row `i` has exactly
        `in_degree` (or `in_degree[i]`) True entries.

    Example:

    >>> mask = random_mask(100, in_degree=7, seed=3)
    >>> mask.shape, bool((mask.sum(axis=1) == 7).all())
    ((100, 100), True)
    >>> bool((random_mask(100, 7, seed=3) == mask).all())   # same seed, same mask
    True
    """
    n = check_int("n", n, 1)
    seed = check_int("seed", seed, 0)
    degrees = np.asarray(in_degree)
    if degrees.ndim == 0:
        check_int("in_degree", in_degree, 0)
        degrees = np.full(n, int(in_degree))
    elif degrees.shape != (n,) or not np.issubdtype(degrees.dtype, np.integer):
        raise ValueError(
            "Invalid value for argument `in_degree`: expected an integer or "
            f"an integer array of shape ({n},). Received: array of shape "
            f"{degrees.shape} and dtype {degrees.dtype}"
        )
    if degrees.min() < 0 or degrees.max() > n:
        received = (
            in_degree
            if np.ndim(in_degree) == 0
            else f"values from {degrees.min()} to {degrees.max()}"
        )
        raise ValueError(
            "Invalid value for argument `in_degree`: expected values in "
            f"[0, n] with n={n}. Received: in_degree={received}"
        )
    rng = np.random.default_rng(seed)
    # Ranking i.i.d. uniform keys per row picks a uniform random subset.
    ranks = rng.random((n, n)).argsort(axis=1).argsort(axis=1)
    return ranks < degrees[:, None]


def random_mask_like(mask, seed=0):
    """A random mask with the same in-degree, unit by unit, as `mask`.

    Args:
        mask: a boolean (n, n) mask (`check_mask`), e.g. a locality mask.
        seed: integer seed of the random sources (as `random_mask`).

    Returns:
        A boolean (n, n) array whose row `i` has as many True entries as
        row `i` of `mask`.

    Example:

    >>> local = locality_mask((20, 20), 4)
    >>> rand = random_mask_like(local, seed=1)
    >>> bool((rand.sum(1) == local.sum(1)).all())
    True
    """
    mask = check_mask(mask)
    return random_mask(mask.shape[0], mask.sum(axis=1).astype(np.int64), seed)


def dense_mask(n):
    """All-True (n, n) mask: a fully connected RNN.

    Args:
        n: number of units, an integer >= 1.

    Returns:
        A boolean (n, n) array of True.

    Example:

    >>> int(dense_mask(3).sum())
    9
    """
    n = check_int("n", n, 1)
    return np.ones((n, n), dtype=bool)


def autapse_mask(n):
    """Identity (n, n) mask: each unit connects only to itself (d = 0).

    Args:
        n: number of units, an integer >= 1.

    Returns:
        A boolean (n, n) array, True on the diagonal only.

    Example:

    >>> autapse_mask(3).astype(int)
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 0, 1]])
    """
    n = check_int("n", n, 1)
    return np.eye(n, dtype=bool)


def check_mask(mask, n=None):
    """Validates a user-given mask: a boolean numpy array of shape (n, n).

    Args:
        mask: the mask to check.
        n: the number of units it must have; None (default): any square
            shape.

    Returns:
        `mask` itself, unchanged.

    Raises:
        TypeError: `mask` is not a numpy array, or not of dtype bool.
        ValueError: `mask` is not square, or not (n, n).

    Example:

    >>> check_mask(autapse_mask(4), n=4).shape
    (4, 4)
    >>> check_mask(np.eye(4), n=4)
    Traceback (most recent call last):
    ...
    TypeError: Invalid value for argument `mask`: expected a boolean array (dtype bool). Received: dtype float64
    """
    if not isinstance(mask, np.ndarray):
        raise TypeError(
            "Invalid value for argument `mask`: expected a mask kind "
            f"{MASK_KINDS} or a boolean numpy array. Received: "
            f"mask of type {type(mask).__name__}"
        )
    if mask.dtype != np.bool_:
        raise TypeError(
            "Invalid value for argument `mask`: expected a boolean array "
            f"(dtype bool). Received: dtype {mask.dtype}"
        )
    if mask.ndim != 2 or mask.shape[0] != mask.shape[1] or (
        n is not None and mask.shape[0] != n
    ):
        expected = f"({n}, {n})" if n is not None else "(N, N)"
        raise ValueError(
            f"Invalid value for argument `mask`: expected shape {expected}. "
            f"Received: shape {mask.shape}"
        )
    return mask


def build_mask(kind, n, shape=None, d=None, periodic=True, seed=0):
    """Builds the mask of a named kind; the single place layers get masks.

    Args:
        kind: "locality" (needs `d`), "random" (same in-degree as the
            locality mask of the same `shape`, `d` and `periodic`, drawn with
            `seed`) or "dense".
        n: number of units, an integer >= 1.
        shape: optional `(rows, cols)` of the sheet (see `sheet_shape`);
            default: the square sheet of `n` units.
        d: locality radius (see `locality_mask`); required by "locality"
            and "random".
        periodic: whether distances wrap around the sheet (default True).
        seed: integer seed of a "random" mask (see `random_mask`).

    Returns:
        A boolean (n, n) array.

    Example:

    >>> local = build_mask("locality", 400, d=2)
    >>> rand = build_mask("random", 400, d=2, seed=1)
    >>> int(local.sum(axis=1)[0]), int(rand.sum(axis=1)[0]), bool((local == rand).all())
    (13, 13, False)
    >>> bool(build_mask("dense", 6, shape=(2, 3)).all())
    True
    """
    if kind not in MASK_KINDS:
        raise ValueError(
            f"Invalid value for argument `mask`: expected one of "
            f"{MASK_KINDS} or a boolean array. Received: mask={kind!r}"
        )
    shape = sheet_shape(n, shape)
    if kind == "dense":
        return dense_mask(n)
    if d is None:
        raise ValueError(
            f"Invalid value for argument `d`: mask={kind!r} needs a locality "
            "radius d >= 0. Received: d=None"
        )
    local = locality_mask(shape, d, periodic)
    if kind == "locality":
        return local
    return random_mask_like(local, seed)
