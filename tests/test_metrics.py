import numpy as np
import pytest

from keras_lmrnn import metrics

# Three trials of 6 steps: response on steps 3-5. Trial 2 is a no-go trial.
TARGETS = np.array([[0, 0, 0, 5, 5, 5], [0, 0, 0, 16, 1, 2], [0, 0, 0, 0, 0, 0]])
RESPONSE = np.zeros((3, 6), bool)
RESPONSE[:, 3:] = True


def scores_for(choices):
    return np.eye(17)[np.asarray(choices)]


def test_perfect_output():
    scores = scores_for(TARGETS)
    assert metrics.response_accuracy(scores, TARGETS, RESPONSE) == 1.0
    assert metrics.trial_accuracy(scores, TARGETS, RESPONSE) == 1.0


def test_all_fixate():
    scores = scores_for(np.zeros_like(TARGETS))
    assert metrics.response_accuracy(scores, TARGETS, RESPONSE) == pytest.approx(3 / 9)
    np.testing.assert_array_equal(
        metrics.trial_accuracy(scores, TARGETS, RESPONSE, per_trial=True), [False, False, True]
    )


def test_off_by_one_position_counts_for_trials_not_steps():
    choices = TARGETS.copy()
    choices[0, 3:] = 6          # one position clockwise
    choices[1, 3:] = [1, 2, 3]  # one position on, wrapping 16 -> 1
    scores = scores_for(choices)
    assert metrics.response_accuracy(scores, TARGETS, RESPONSE) == pytest.approx(3 / 9)
    assert metrics.trial_accuracy(scores, TARGETS, RESPONSE) == 1.0
    choices[0, 5] = 7           # two positions (45 degrees) off: wrong
    per_trial = metrics.trial_accuracy(scores_for(choices), TARGETS, RESPONSE, per_trial=True)
    np.testing.assert_array_equal(per_trial, [False, True, True])


def test_broken_fixation_fails_the_trial_only():
    choices = TARGETS.copy()
    choices[:, 1] = 4           # responds before the go cue
    scores = scores_for(choices)
    assert metrics.response_accuracy(scores, TARGETS, RESPONSE) == 1.0
    assert metrics.trial_accuracy(scores, TARGETS, RESPONSE) == 0.0


def test_no_go_response_fails_the_no_go_trial():
    choices = TARGETS.copy()
    choices[2, 4] = 9
    per_trial = metrics.trial_accuracy(scores_for(choices), TARGETS, RESPONSE, per_trial=True)
    np.testing.assert_array_equal(per_trial, [True, True, False])


def test_padding_is_ignored():
    targets = np.concatenate([TARGETS, np.zeros((3, 2), int)], axis=1)
    response = np.concatenate([RESPONSE, np.zeros((3, 2), bool)], axis=1)
    choices = targets.copy()
    choices[:, 6:] = 11         # garbage on padded steps
    scores = scores_for(choices)
    assert metrics.response_accuracy(scores, targets, response) == 1.0
    assert metrics.trial_accuracy(scores, targets, response) == 1.0


def test_keras_metric_scores_direction_steps(backend):
    metric = metrics.ResponseAccuracy()
    choices = TARGETS.copy()
    choices[0, 3] = 9
    metric.update_state(TARGETS, scores_for(choices).astype("float32"))
    assert float(metric.result()) == pytest.approx(5 / 6)
    metric.reset_state()
    metric.update_state(TARGETS, scores_for(TARGETS).astype("float32"), sample_weight=np.ones((3, 6)))
    assert float(metric.result()) == 1.0
