"""Every random quantity of a run has its own stream (issue #30)."""

import itertools

import numpy as np
import pytest

from keras import ops

from keras_lmrnn import models, seeds

INPUTS = 12
SEEDS = range(50)


def initial_weights(seed):
    """Name -> flat initial values of every drawn weight of one run."""
    model = models.build_model(f"lmrnn:n=64,d=1,seed={seed},linear_init=torch", INPUTS)
    return {w.path: ops.convert_to_numpy(w).ravel() for w in model.weights if w.trainable}


def test_no_two_weights_of_any_two_seeds_share_draws():
    draws = {(s, name): values for s in SEEDS for name, values in initial_weights(s).items()}
    assert len(draws) == 5 * len(SEEDS)  # input, recurrent, bias, readout kernel and bias
    worst = (0.0, None)
    for (a, x), (b, y) in itertools.combinations(draws.items(), 2):
        length = min(len(x), len(y))
        both = (x[:length] != 0) & (y[:length] != 0)  # the mask zeroes some
        if both.sum() < 10:
            continue
        corr = abs(np.corrcoef(x[:length][both], y[:length][both])[0, 1])
        # independent draws: |corr| ~ 1/sqrt(L); a shared stream gives 1.0
        bound = min(0.9, 6 / np.sqrt(both.sum()))
        assert corr < bound, (a, b, corr)
        worst = max(worst, (corr, (a, b)), key=lambda t: t[0])
    assert worst[0] > 0  # the comparison ran


def test_stream_seeds_are_distinct_across_seeds_purposes_and_parts():
    values = [seeds.stream_seed(s, p, part) for s in range(200) for p in seeds.STREAMS for part in range(2)]
    assert len(set(values)) == len(values)
    assert all(0 <= v < 2**31 for v in values)


@pytest.mark.parametrize("purpose, seed, part, words", [
    ("weights", 0, 0, "argument `purpose`"),
    ("input_kernel", -1, 0, "seed"),
    ("input_kernel", 0, -1, "part"),
])
def test_stream_seed_rejects_bad_arguments(purpose, seed, part, words):
    with pytest.raises(ValueError, match=words):
        seeds.stream_seed(seed, purpose, part)


def test_random_mask_is_drawn_per_seed_unless_pinned():
    def mask(spec):
        return models.recurrent_layer(models.build_model(spec, INPUTS)).mask_array

    assert not (mask("random:n=64,d=1,seed=0") == mask("random:n=64,d=1,seed=1")).all()
    assert (mask("random:n=64,d=1,seed=3") == mask("random:n=64,d=1,seed=3")).all()
    pinned = mask("random:n=64,d=1,seed=0,mask_seed=5")
    assert (pinned == mask("random:n=64,d=1,seed=1,mask_seed=5")).all()
    in_degree = mask("lmrnn:n=64,d=1").sum(1)
    assert (mask("random:n=64,d=1,seed=1").sum(1) == in_degree).all()
