"""The tasks' own trial base (tasks/trial_env.py) against neurogym's.

keras-lmrnn's tasks no longer derive from neurogym's `TrialEnv`; these
tests hold the step loop to the one neurogym runs (the reference is our
task logic driven by neurogym's own `step`, `reset`, `new_trial` and
`ob_now`, i.e. the tasks as they were), check that `to_neurogym` hands a
task to neurogym's wrappers and `Dataset`, and that importing the package
brings neither neurogym nor PyTorch.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from keras_lmrnn import tasks
from keras_lmrnn.tasks import trial_env

neurogym = pytest.importorskip("neurogym")
NgTrialEnv = neurogym.core.TrialEnv

LOOP_TASKS = ["go", "rtanti", "dlygo_intl_seqr", "ctxdlydm1_intr", "multidm", "dnms_intr", "dmc_seql"]


def neurogym_driven(env):
    """A copy of `env` whose loop is neurogym's own (the reference)."""
    mixed = trial_env.to_neurogym(env)

    class Reference(type(mixed)):
        step = NgTrialEnv.step
        new_trial = NgTrialEnv.new_trial
        ob_now = NgTrialEnv.ob_now
        gt_now = NgTrialEnv.gt_now

        def reset(self, seed=None, options=None):  # as the tasks' reset was
            if seed is not None:
                self.seed(seed)
            return NgTrialEnv.reset(self, seed=seed, options=options)

    mixed.__class__ = Reference
    mixed._has_gt = False
    return mixed


def run_loop(env, steps=400):
    actions = np.random.default_rng(3)
    out = [env.reset(seed=5)]
    for _ in range(steps):
        # Mostly fixate, sometimes choose: trials end both ways.
        action = 0 if actions.random() < 0.9 else int(actions.integers(1, env.action_space.n))
        ob, reward, terminated, truncated, info = env.step(action)
        out.append((ob.copy(), reward, terminated, truncated, dict(info)))
    return out


def same_value(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("name", LOOP_TASKS)
def test_step_loop_is_neurogyms(name):
    ours = run_loop(tasks.make(name, seed=0))
    reference = run_loop(neurogym_driven(tasks.make(name, seed=0)))
    ends = sum(step[4]["new_trial"] for step in ours[1:])
    assert ends >= 3, f"{name}: only {ends} trials ended in the loop; the test would not see a trial change"
    for i, (a, b) in enumerate(zip(ours, reference)):
        assert same_value(a, b), f"{name}: step {i} differs from neurogym's loop"


def test_a_changed_loop_would_be_seen():
    # The comparison can fail: returning the current step's observation
    # (not the next one, as neurogym does) is caught.
    env = tasks.make("go", seed=0)
    env._step = lambda action: (env.ob[env.t_ind], 0.0, False, False, {"gt": env.gt_now})
    ours = run_loop(env, steps=50)
    reference = run_loop(neurogym_driven(tasks.make("go", seed=0)), steps=50)
    assert not all(same_value(a, b) for a, b in zip(ours, reference))


def test_to_neurogym_feeds_neurogyms_wrappers_and_dataset():
    from neurogym.utils.scheduler import RandomSchedule
    from neurogym.wrappers import ScheduleEnvs

    names = ["go", "dm1", "dms"]
    originals = [tasks.make(name, seed=i) for i, name in enumerate(names)]
    envs = [tasks.to_neurogym(env) for env in originals]
    assert all(isinstance(env, NgTrialEnv) for env in envs)
    assert not any(isinstance(env, NgTrialEnv) for env in originals)  # left untouched
    schedule = ScheduleEnvs(envs, schedule=RandomSchedule(len(envs)), env_input=False)
    inputs, targets = neurogym.Dataset(schedule, batch_size=4, seq_len=60)()
    assert inputs.shape == (60, 4, 33) and targets.shape == (60, 4)
    assert set(np.unique(targets)) <= set(range(17)) and (inputs[:, :, 0] == 1).any()


def test_to_neurogym_refuses_other_objects():
    with pytest.raises(TypeError, match="env="):
        tasks.to_neurogym("go")


def test_named_spaces_refuse_a_name_that_is_not_a_dict():
    with pytest.raises(TypeError, match="name="):
        tasks.NamedBox(0, 1, shape=(2,), name=["a", "b"])


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND") == "torch", reason="the torch backend imports torch itself")
def test_importing_the_package_brings_neither_neurogym_nor_torch():
    code = (
        "import sys, keras_lmrnn, keras_lmrnn.tasks, keras_lmrnn.zoo\n"
        "from keras_lmrnn import tasks\n"
        "data = tasks.TaskDataset('modcog84', batch_size=2, seq_len=20, num_batches=1)\n"
        "data[0]; tasks.make('go', seed=0).reset(seed=0)\n"
        "print(sorted(m for m in ('torch', 'neurogym') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
