"""A trial-based gymnasium environment: the base of the Mod-Cog tasks.

`TrialEnv` keeps the interface of neurogym's `TrialEnv` that the battery
needs (`dt`, `new_trial()` filling `ob` and `gt`, `step()`, `reset()`,
`seed()`, `in_period()`, `start_ind`/`end_ind`, `set_top()`) on plain
gymnasium, so keras-lmrnn does not depend on neurogym (whose import brings
PyTorch, whatever Keras backend runs). A subclass implements
`_new_trial(**kwargs)` (fill `self.ob`, `self.gt`, `self.tmax`,
`self.start_ind`, `self.end_ind`; return the trial's info) and
`_step(action)`.

`to_neurogym(env)` gives the same task as an instance of neurogym's
`TrialEnv` too, for neurogym's wrappers (`ScheduleEnvs`) and `Dataset`;
it needs neurogym installed (`pip install "keras-lmrnn[neurogym]"`).

`NamedBox` and `NamedDiscrete` are gymnasium's `Box` and `Discrete` with
a `name` dict naming groups of dimensions, as neurogym's spaces have.

Example:

>>> from keras_lmrnn.tasks import make
>>> env = make("go", seed=0)
>>> ob, info = env.reset(seed=0)
>>> ob.shape, env.observation_space.name["fixation"]
((33,), 0)
>>> ob, reward, terminated, truncated, info = env.step(0)
>>> sorted(info)
['gt', 'new_trial']
"""

import copy

import gymnasium
import numpy as np

# What `ob_now` returns: "the observation at the time `step` returns", i.e.
# of the step that follows (of the next trial's first step when a trial
# ends), as in neurogym.
NEXT_OB = object()


class NamedBox(gymnasium.spaces.Box):
    """gymnasium's `Box` with `name`: a dict from a name to dimensions.

    Args:
        low: lower bound(s), as gymnasium's `Box`.
        high: upper bound(s).
        shape: the space's shape.
        dtype: the values' dtype (float32 by default).
        name: dict naming dimensions, e.g. `{"fixation": 0}`, or None.

    Example:

    >>> NamedBox(0, 1, shape=(3,), name={"fixation": 0, "stimulus": [1, 2]}).name["stimulus"]
    [1, 2]
    """

    def __init__(self, low, high, shape=None, dtype=np.float32, name=None, **kwargs):
        super().__init__(low, high, shape=shape, dtype=dtype, **kwargs)
        self.name = _check_name(name)


class NamedDiscrete(gymnasium.spaces.Discrete):
    """gymnasium's `Discrete` with `name`: a dict from a name to actions.

    Args:
        n: number of actions.
        name: dict naming actions, e.g. `{"fixation": 0, "choice": [1, 2]}`, or None.

    Example:

    >>> NamedDiscrete(3, name={"fixation": 0, "choice": [1, 2]}).name["choice"]
    [1, 2]
    """

    def __init__(self, n, name=None, **kwargs):
        super().__init__(n, **kwargs)
        self.name = _check_name(name)


def _check_name(name):
    if name is not None and not isinstance(name, dict):
        raise TypeError(
            f"Invalid value for argument `name`: expected a dict or None. Received: name={name!r}"
        )
    return name


class TrialEnv(gymnasium.Env):
    """A gymnasium environment made of trials, with neurogym's interface.

    Args:
        dt: step length in ms.
        r_tmax: reward added when a trial runs out of time without ending.

    A step past a trial's last step (or one whose `_step` says
    `info["new_trial"]`) starts the next trial, as in neurogym: `info`
    then holds `performance` and the new `trial`. The observation `step`
    returns is that of the following step (the new trial's first when a
    trial ends), the one the agent acts on next.

    Example:

    >>> from keras_lmrnn.tasks import make
    >>> env = make("dms", seed=0)
    >>> trial = env.new_trial()
    >>> env.ob.shape[0] == env.gt.shape[0] == env.end_ind["decision"]
    True
    """

    metadata = {"render_modes": []}

    def __init__(self, dt=100, r_tmax=0):
        super().__init__()
        self.dt = dt
        self.r_tmax = r_tmax
        self.t = self.t_ind = 0
        self.tmax = 0
        self.performance = 0
        self.num_tr = 0
        self.trial = None
        self.timing = {}
        self.start_ind, self.end_ind = {}, {}
        self.ob = self.gt = None
        self.rng = np.random.default_rng()
        self._top = self

    def seed(self, seed=None):
        """Seeds the task's generator (numpy's `default_rng`) and its action space."""
        self.rng = np.random.default_rng(seed)
        if getattr(self, "action_space", None) is not None:
            self.action_space.seed(seed)
        return [seed]

    def new_trial(self, **kwargs):
        """Draws the next trial (fills `ob` and `gt`) and returns its info."""
        self.trial = self._new_trial(**kwargs)
        self.num_tr += 1
        return self.trial

    def _new_trial(self, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, action):  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self, action):
        """One step of the current trial: `(ob, reward, terminated, truncated, info)`."""
        ob, reward, terminated, truncated, info = self._step(action)
        info.setdefault("new_trial", False)
        info.setdefault("gt", self.gt_now)
        self.t += self.dt
        self.t_ind += 1
        if self.t + self.dt > self.tmax and not info["new_trial"]:
            info["new_trial"] = True
            reward += self.r_tmax
        if info["new_trial"]:
            info["performance"] = self.performance
            self.t = self.t_ind = 0
            info["trial"] = self._top.new_trial()
            self.performance = 0
        if ob is NEXT_OB:
            ob = self.ob[self.t_ind]
        return ob, reward, terminated, truncated, info

    def reset(self, seed=None, options=None):
        """Starts over as neurogym's `TrialEnv.reset`: a new trial, then one
        step with an action drawn from the action space seeded with 0; its
        observation is returned. A `seed` first reseeds the task exactly
        as `seed(seed)` (gymnasium's contract); without one the task's
        generator goes on where it was. `options` may hold `no_step`
        (return a sampled observation, take no step) or `step_fn` (take
        the step with it)."""
        super().reset(seed=seed)
        if seed is not None:
            self.seed(seed)
        options = options or {}
        self.num_tr = 0
        self.t = self.t_ind = 0
        self._top.new_trial()
        self.action_space.seed(0)
        if options.get("no_step", False):
            return self.observation_space.sample(), {}
        step = options.get("step_fn") or self._top.step
        ob = step(self.action_space.sample())[0]
        return ob, {}

    def set_top(self, wrapper):
        """The object whose `new_trial` starts each trial (a wrapper)."""
        self._top = wrapper

    def in_period(self, period, t=None):
        """Whether step `t` (default: the current one) lies in `period`."""
        t = self.t_ind if t is None else t
        return self.start_ind[period] <= t < self.end_ind[period]

    @property
    def ob_now(self):
        """For `_step` to return: `step` replaces it with the observation of
        the step that follows (neurogym's convention)."""
        return NEXT_OB

    @property
    def gt_now(self):
        """The current step's target."""
        return self.gt[self.t_ind]


_NEUROGYM_CLASSES = {}


def to_neurogym(env):
    """The same task, as an instance of neurogym's `TrialEnv` as well.

    neurogym's wrappers (`ScheduleEnvs`, `MultiEnvs`) accept only its own
    `TrialEnv`; the returned copy is one (its class derives from the
    task's and from neurogym's), keeps the task's own methods, state and
    generator, and leaves `env` untouched. Needs neurogym.

    Args:
        env: a `TrialEnv` of this package, e.g. from `tasks.make`.

    Example:

    >>> from keras_lmrnn.tasks import make
    >>> import neurogym
    >>> env = to_neurogym(make("go", seed=0))
    >>> isinstance(env, neurogym.core.TrialEnv), type(env).__name__
    (True, 'NeurogymReachTask')
    """
    if not isinstance(env, TrialEnv):
        raise TypeError(
            "Invalid value for argument `env`: expected a keras_lmrnn task (a tasks.TrialEnv, "
            f"e.g. from tasks.make). Received: env={env!r}"
        )
    try:
        from neurogym.core import TrialEnv as NeurogymTrialEnv
    except ImportError as error:
        raise ImportError(
            'to_neurogym needs neurogym: pip install "keras-lmrnn[neurogym]"'
        ) from error
    cls = type(env)
    if cls not in _NEUROGYM_CLASSES:
        _NEUROGYM_CLASSES[cls] = type(f"Neurogym{cls.__name__}", (cls, NeurogymTrialEnv), {})
    mixed = _NEUROGYM_CLASSES[cls]
    out = copy.deepcopy(env)
    # neurogym's own attributes (for its step, wrappers and Dataset), at
    # their defaults, where the task has none of its own.
    probe = object.__new__(mixed)
    NeurogymTrialEnv.__init__(probe, dt=env.dt)
    out.__class__ = mixed
    for key, value in vars(probe).items():
        if key not in vars(out) and not isinstance(getattr(mixed, key, None), property):
            setattr(out, key, value)
    out._has_gt = True
    out.set_top(out)
    return out
