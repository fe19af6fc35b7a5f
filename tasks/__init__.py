"""The Mod-Cog battery (gymnasium environments with neurogym's trial interface) and its Keras data adapter.

Example:

>>> from keras_lmrnn import tasks
>>> tasks.names("yang20")[:3]
['go', 'rtgo', 'dlygo']
>>> env = tasks.make("dlygo_intl", seed=0)
>>> data = tasks.TaskDataset("modcog84", batch_size=4, seq_len=30, num_batches=2)
"""

from keras_lmrnn.tasks.catalogue import (
    BASE_TASKS,
    BATTERIES,
    DEFAULT_BATTERY,
    make,
    names,
    resolve,
    spec,
)
from keras_lmrnn.tasks.dataset import SequenceTooShort, TaskDataset, evaluation_set
from keras_lmrnn.tasks.envs import DecisionTask, MatchTask, ModCogTask, ReachTask
from keras_lmrnn.tasks.plotting import plot_trial
from keras_lmrnn.tasks.trial_env import NamedBox, NamedDiscrete, TrialEnv, to_neurogym

__all__ = [
    "BASE_TASKS",
    "BATTERIES",
    "DEFAULT_BATTERY",
    "DecisionTask",
    "MatchTask",
    "ModCogTask",
    "NamedBox",
    "NamedDiscrete",
    "ReachTask",
    "SequenceTooShort",
    "TaskDataset",
    "TrialEnv",
    "evaluation_set",
    "make",
    "names",
    "plot_trial",
    "resolve",
    "spec",
    "to_neurogym",
]
