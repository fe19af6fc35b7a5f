import numpy as np
import pytest

from keras_lmrnn import masks


@pytest.mark.parametrize("d, expected", [(0, 1), (1, 5), (2, 13), (6, 113), (10, 317)])
def test_torus_in_degree_matches_lattice_count(d, expected):
    mask = masks.locality_mask((50, 50), d)
    assert (mask.sum(axis=1) == expected).all()
    assert masks.locality_in_degree(d) == expected


def test_open_sheet_has_fewer_inputs_at_edges():
    mask = masks.locality_mask((5, 5), 1, periodic=False)
    degrees = mask.sum(axis=1).reshape(5, 5)
    assert degrees[0, 0] == 3  # corner: self, right, below
    assert degrees[0, 2] == 4  # edge
    assert degrees[2, 2] == 5  # interior
    assert mask.sum() == 25 + 2 * 2 * 5 * 4  # self loops + 40 undirected edges


def test_torus_wraps_around():
    mask = masks.locality_mask((5, 5), 1)
    assert mask[0, 4] and mask[0, 20]  # (0,0)-(0,4) and (0,0)-(4,0) neighbours
    assert not masks.locality_mask((5, 5), 1, periodic=False)[0, 4]


def test_non_square_sheet_and_distances():
    mask = masks.locality_mask((4, 6), 1.5)
    assert mask.shape == (24, 24)
    assert (mask.sum(axis=1) == 9).all()  # 3x3 neighbourhood on a torus
    dist = masks.sheet_distances((4, 6))
    assert dist[0, 7] == pytest.approx(np.sqrt(2))


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("d", [0, 1, 2.5, 4])
def test_locality_mask_is_symmetric(d, periodic):
    mask = masks.locality_mask((7, 9), d, periodic)
    assert mask.dtype == np.bool_
    assert (mask == mask.T).all()
    assert mask.diagonal().all()


def test_d_zero_is_identity_and_large_d_is_dense():
    assert (masks.locality_mask((6, 6), 0) == np.eye(36, dtype=bool)).all()
    assert (masks.locality_mask((6, 6), 0) == masks.autapse_mask(36)).all()
    assert masks.locality_mask((6, 6), 5).all()
    assert masks.dense_mask(36).all()


@pytest.mark.parametrize("k", [0, 1, 13, 100])
def test_random_mask_has_exact_in_degree(k):
    mask = masks.random_mask(100, k, seed=3)
    assert (mask.sum(axis=1) == k).all()


def test_random_mask_is_seeded():
    a = masks.random_mask(200, 13, seed=1)
    assert (a == masks.random_mask(200, 13, seed=1)).all()
    assert (a != masks.random_mask(200, 13, seed=2)).any()
    # Sources are spread over the whole sheet, not only the diagonal band.
    assert a.sum(axis=0).std() > 0


def test_random_mask_like_matches_each_unit():
    local = masks.locality_mask((8, 8), 2, periodic=False)
    rand = masks.random_mask_like(local, seed=0)
    assert (rand.sum(axis=1) == local.sum(axis=1)).all()
    assert (rand != local).any()


def test_build_mask_kinds():
    assert (masks.build_mask("locality", 100, d=2) == masks.locality_mask((10, 10), 2)).all()
    assert (masks.build_mask("random", 100, d=2).sum(1) == 13).all()
    assert masks.build_mask("dense", 100).all()


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: masks.sheet_shape(10), ValueError, "n=10"),
        (lambda: masks.sheet_shape(10, (3, 3)), ValueError, "sheet_shape=(3, 3)"),
        (lambda: masks.sheet_shape(0), ValueError, "n=0"),
        (lambda: masks.locality_mask((5, 5), -1), ValueError, "d=-1"),
        (lambda: masks.locality_mask((5, 5), "2"), TypeError, "d='2'"),
        (lambda: masks.random_mask(10, 11, 0), ValueError, "in_degree=11"),
        (lambda: masks.random_mask(10, -1, 0), ValueError, "in_degree=-1"),
        (lambda: masks.random_mask(10, 2.5, 0), TypeError, "in_degree=2.5"),
        (lambda: masks.build_mask("ring", 25, d=1), ValueError, "mask='ring'"),
        (lambda: masks.check_mask(np.ones((3, 3))), TypeError, "dtype float64"),
        (lambda: masks.check_mask(np.ones((3, 4), bool)), ValueError, "shape (3, 4)"),
    ],
)
def test_bad_arguments_raise_clearly(call, error, words):
    with pytest.raises(error, match="Invalid value for argument") as info:
        call()
    assert words in str(info.value)
