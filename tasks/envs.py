"""The Mod-Cog task families as `TrialEnv` subclasses (neurogym's interface).

Three families cover the 20 Yang et al. (2019) tasks: `ReachTask` (go, anti
and their reaction-time and delayed versions), `DecisionTask` (the dm tasks)
and `MatchTask` (dms, dnms, dmc, dnmc). The Mod-Cog extensions are arguments
of the shared base class `ModCogTask`, not separate classes:

- `interval="l"|"r"`: the delay is drawn per trial from `delay_choices`
  (default 0, 100, ..., 1100 ms) and the answer is rotated one ring
  position per 100 ms of delay, towards decreasing ("l") or increasing ("r")
  ring index;
- `sequence="l"|"r"`: the response period lasts 1000 ms and the target
  advances one position per 100 ms from the answer, wrapping around the ring.

Observation: [fixation, ring 1 (dim_ring units), ring 2 (dim_ring units)].
Actions and targets: 0 = fixate, 1..dim_ring = ring position 0..dim_ring-1.
The fixation input is 1 until the response period and 0 during it.

Trials are built directly as arrays (no per-step Python), which is what makes
`TaskDataset` fast; `new_trial()` fills `self.ob` and `self.gt` exactly as a
neurogym task built with `add_period`/`add_ob` would, so `step()` and
`in_period()` work as in neurogym, and `trial_env.to_neurogym(env)` hands
a task to neurogym's wrappers and `Dataset`.

Example:

>>> from keras_lmrnn.tasks.envs import ReachTask
>>> env = ReachTask(memory=True, interval="r")
>>> env.seed(0)
[0]
>>> trial = env.new_trial()
>>> env.ob.shape[1], sorted(trial)[:3]
(33, ['answer', 'base_answer', 'delay'])
"""

import numpy as np

from keras_lmrnn.tasks.trial_env import NamedBox, NamedDiscrete, TrialEnv

DIRECTIONS = {"l": -1, "r": +1}
MS_PER_SHIFT = 100  # one ring position per 100 ms, for int and seq alike
SEQUENCE_RESPONSE_MS = 1000
DEFAULT_DELAYS = tuple(range(0, 1200, 100))


def ring_bump(dim_ring):
    """(dim_ring, dim_ring) table: row k is the unit-strength bump at k.

    As neurogym's yang19: 0.8 * exp(-dist**2 / 2), dist in units of pi/8,
    measured around the ring.
    """
    theta = np.arange(dim_ring) * 2 * np.pi / dim_ring
    diff = np.abs(theta[:, None] - theta[None, :])
    dist = np.minimum(diff, 2 * np.pi - diff) / (np.pi / 8)
    return (0.8 * np.exp(-(dist**2) / 2)).astype(np.float32)


class ModCogTask(TrialEnv):
    """Base class: spaces, timing, extensions and trial assembly.

    Subclasses define `default_timing` (ordered: the periods of a trial, the
    last one being the response period "decision") and `_draw(trial)`, which
    draws the trial's conditions with `self.rng` and returns
    `(periods, stimuli, answer, info)`:

    - `periods`: names of the periods in order (a subset of the timing keys);
    - `stimuli`: list of `(first_period, last_period, modality, pattern,
      noisy)`: a (dim_ring,) input `pattern` (see `bumps`) shown on ring
      `modality` (0 or 1) from the start of `first_period` to the end of
      `last_period`; two stimuli never share a ring at the same time;
    - `answer`: the ring position to report (0..dim_ring-1), or None for a
      no-go trial (fixate throughout);
    - `info`: task-specific facts to record in the trial's info.

    A stimulus marked noisy gets neurogym's input noise (std sigma/sqrt(dt))
    on its ring while it is shown.

    Args:
        dt: time step in ms (default 100); every duration is floored to a
            multiple of dt.
        timing: dict of period durations overriding the defaults (a number,
            a list to choose from, ("uniform", (lo, hi)), ("choice", [...]),
            ("constant", v) or a callable). Overrides always win, also over
            the extensions' defaults (the int delay, the seq response).
        dim_ring: number of positions on each ring (default 16).
        sigma: input noise on the rings that show a noisy stimulus, in
            units of 1/sqrt(dt in s) as in neurogym (default 1.0).
        interval: None, "l" or "r": the int extension (needs a "delay"
            period).
        sequence: None, "l" or "r": the seq extension.
        delay_choices: delays (ms) drawn uniformly by int tasks.
        name: the task's name, recorded in each trial's info.

    Example:

    >>> env = ReachTask(dt=50, dim_ring=8, sequence="r", name="go_seqr")
    >>> env.seed(0)
    [0]
    >>> info = env.new_trial()
    >>> env.ob.shape[1], int(env.action_space.n), info["task"]
    (17, 9, 'go_seqr')
    >>> info["periods"]["decision"] * env.dt          # the seq response period, in ms
    1000
    """

    default_timing = {}
    metadata = {
        "paper_link": "https://arxiv.org/abs/2207.03523",
        "paper_name": "Winning the lottery with neurobiology: faster learning "
        "on many cognitive tasks with fixed sparse RNNs",
        "tags": ["multitask", "mod-cog"],
    }

    def __init__(
        self,
        dt=100,
        timing=None,
        dim_ring=16,
        sigma=1.0,
        interval=None,
        sequence=None,
        delay_choices=DEFAULT_DELAYS,
        name=None,
    ):
        if not isinstance(dt, (int, float)) or isinstance(dt, bool) or dt <= 0:
            raise ValueError(
                "Invalid value for argument `dt`: expected a number of ms > 0. "
                f"Received: dt={dt!r}"
            )
        super().__init__(dt=dt)
        if not isinstance(dim_ring, int) or dim_ring < 2 or dim_ring % 2:
            raise ValueError(
                "Invalid value for argument `dim_ring`: expected an even "
                f"integer >= 2. Received: dim_ring={dim_ring!r}"
            )
        for arg, value in (("interval", interval), ("sequence", sequence)):
            if value is not None and value not in DIRECTIONS:
                raise ValueError(
                    f"Invalid value for argument `{arg}`: expected None, 'l' "
                    f"or 'r'. Received: {arg}={value!r}"
                )
        if interval is not None and "delay" not in self.default_timing:
            raise ValueError(
                f"Invalid value for argument `interval`: {type(self).__name__} "
                "has no delay period to estimate. Received: "
                f"interval={interval!r}"
            )
        self.name = name or type(self).__name__
        self.dim_ring = dim_ring
        self.sigma = sigma
        self.interval = interval
        self.sequence = sequence
        self.delay_choices = tuple(delay_choices)
        self.timing = dict(self.default_timing)
        if interval is not None:
            self.timing["delay"] = ("choice", list(self.delay_choices))
        if sequence is not None:
            self.timing["decision"] = SEQUENCE_RESPONSE_MS
        if timing:
            unknown = set(timing) - set(self.timing)
            if unknown:
                raise ValueError(
                    "Invalid value for argument `timing`: unknown periods "
                    f"{sorted(unknown)}; {self.name} has "
                    f"{list(self.timing)}. Received: timing={timing!r}"
                )
            self.timing.update(timing)
        self._compile_timing()
        self._drift = np.zeros(0, dtype=int)  # seq: positions moved by step
        self._bumps = ring_bump(dim_ring)
        self._bump_cache = {}
        ring = np.arange(dim_ring)
        self.observation_space = NamedBox(
            -np.inf,
            np.inf,
            shape=(1 + 2 * dim_ring,),
            dtype=np.float32,
            name={
                "fixation": 0,
                "stimulus_mod1": 1 + ring,
                "stimulus_mod2": 1 + dim_ring + ring,
            },
        )
        self.action_space = NamedDiscrete(
            1 + dim_ring, name={"fixation": 0, "choice": 1 + ring}
        )

    # neurogym's period times in ms, derived on demand from the step indices
    # (most trials, e.g. those drawn by TaskDataset, never need them).
    start_t = property(
        lambda self: {p: i * self.dt for p, i in self.start_ind.items()},
        lambda self, value: None,
    )
    end_t = property(
        lambda self: {p: i * self.dt for p, i in self.end_ind.items()},
        lambda self, value: None,
    )
    _duration = property(
        lambda self: {p: self.end_t[p] - self.start_t[p] for p in self.start_ind},
        lambda self, value: None,
    )

    def bumps(self, *pairs):
        """Sum of bumps at `(position, strength)` pairs, a (dim_ring,) array.

        Cached, since positions and strengths come from small sets.
        """
        pattern = self._bump_cache.get(pairs)
        if pattern is None:
            pattern = sum(strength * self._bumps[p] for p, strength in pairs)
            self._bump_cache[pairs] = pattern.astype(np.float32)
            pattern = self._bump_cache[pairs]
        return pattern

    def _compile_timing(self):
        """Turns each timing spec into (kind, values in steps), checked once."""
        self._samplers = {}
        for period, spec in self.timing.items():
            if callable(spec):
                sampler = ("call", spec)
            elif isinstance(spec, (int, float)) and not isinstance(spec, bool):
                sampler = ("const", int(spec // self.dt))
            elif (
                isinstance(spec, (list, tuple))
                and spec
                and all(isinstance(v, (int, float)) for v in spec)
            ):
                sampler = ("choice", [int(v // self.dt) for v in spec])
            elif (
                isinstance(spec, (list, tuple))
                and len(spec) == 2
                and spec[0] in ("uniform", "choice", "constant")
            ):
                kind, args = spec
                if kind == "uniform":
                    sampler = ("uniform", tuple(args))
                elif kind == "choice":
                    sampler = ("choice", [int(v // self.dt) for v in args])
                else:
                    sampler = ("const", int(args // self.dt))
            else:
                raise ValueError(
                    f"Invalid value for argument `timing`: period {period!r} "
                    "has an unknown duration spec; expected a number, a list "
                    "of numbers, ('uniform', (lo, hi)), ('choice', [...]), "
                    f"('constant', v) or a callable. Received: {spec!r}"
                )
            self._samplers[period] = sampler

    def _sample_steps(self, period):
        kind, values = self._samplers[period]
        if kind == "const":
            return values
        if kind == "choice":
            return values[self.rng.integers(len(values))]
        if kind == "uniform":
            return int(self.rng.uniform(*values) // self.dt)
        return int(values() // self.dt)

    def _new_trial(self, **kwargs):
        periods, stimuli, answer, info = self._draw(kwargs)
        # Period bookkeeping, as neurogym's add_period would leave it.
        dt, ring = self.dt, self.dim_ring
        steps, start = {}, 0
        self.start_ind, self.end_ind = {}, {}
        for p in periods:
            n = self._sample_steps(p)
            steps[p] = n
            self.start_ind[p], self.end_ind[p] = start, start + n
            start += n
        total = start
        self._tmax = self.tmax = total * dt

        ob = np.zeros((total, 1 + 2 * ring), dtype=np.float32)
        gt = np.zeros(total, dtype=np.int64)
        response = self.start_ind["decision"], self.end_ind["decision"]
        ob[: response[0], 0] = 1.0
        spans = [
            (self.start_ind[first], self.end_ind[last], modality, pattern, noisy)
            for first, last, modality, pattern, noisy in stimuli
        ]
        noisy_steps = sum(b - a for a, b, *_, noisy in spans if noisy)
        if noisy_steps and self.sigma > 0:  # one draw for the whole trial
            noise = self.rng.standard_normal((noisy_steps, ring), dtype=np.float32)
            noise *= self.sigma / np.sqrt(dt)  # as neurogym's yang19
        else:
            noise = None
        used = 0
        for a, b, modality, pattern, noisy in spans:
            region = ob[a:b, 1 + modality * ring : 1 + (modality + 1) * ring]
            if noisy and noise is not None:
                np.add(noise[used : used + b - a], pattern, out=region)
                used += b - a
            else:
                region[:] = pattern

        delay_ms = steps["delay"] * dt if "delay" in steps else None
        rotation = 0
        if self.interval is not None:
            rotation = DIRECTIONS[self.interval] * int(delay_ms // MS_PER_SHIFT)
        target = None
        if answer is not None:
            target = (answer + rotation) % ring
            length = response[1] - response[0]
            if self.sequence is None:
                gt[response[0] : response[1]] = target + 1
            else:
                if len(self._drift) < length:
                    self._drift = (np.arange(length) * dt // MS_PER_SHIFT).astype(int)
                drift = DIRECTIONS[self.sequence] * self._drift[:length]
                # Ring position k is action k + 1: the wrap stays in 1..R.
                gt[response[0] : response[1]] = (target + drift) % ring + 1
        self.ob, self.gt = ob, gt
        self._ob_built = self._gt_built = True
        return {
            "task": self.name,
            "base_answer": answer,
            "answer": target,
            "delay": delay_ms,
            "rotation": rotation,
            "response": response,
            "periods": steps,
            **info,
        }

    def _step(self, action):
        """neurogym's usual reward: +1 for the right choice after the go cue,
        -0.1 for breaking fixation before it; a choice ends the trial."""
        reward, new_trial, gt = 0.0, False, self.gt_now
        if self.t_ind < self.start_ind["decision"]:
            if action != 0:
                reward = -0.1
        elif action != 0:
            new_trial = True
            if action == gt:
                reward, self.performance = 1.0, 1
        return self.ob_now, reward, False, False, {"new_trial": new_trial, "gt": gt}

    def _draw(self, kwargs):  # pragma: no cover - abstract
        raise NotImplementedError


class ReachTask(ModCogTask):
    """Go and anti tasks: report the stimulus direction (or its opposite).

    The stimulus appears on one ring, chosen at random per trial.

    Args:
        anti: report the direction opposite to the stimulus.
        reaction: reaction-time version: no fixation period before the
            stimulus-and-response period (rtgo, rtanti).
        memory: delayed version: the stimulus goes off before a delay and the
            go cue (dlygo, dlyanti); otherwise it stays on until the end.
        **kwargs: see `ModCogTask`.

    Example:

    >>> env = ReachTask(anti=True)
    >>> env.seed(0)
    [0]
    >>> info = env.new_trial()
    >>> (info["stimulus_position"] - info["answer"]) % env.dim_ring   # the opposite side
    8
    """

    default_timing = {"fixation": 500, "stimulus": 500, "delay": 0, "decision": 500}

    def __init__(self, anti=False, reaction=False, memory=False, **kwargs):
        self.anti, self.reaction, self.memory = anti, reaction, memory
        if reaction:
            self.default_timing = {"fixation": 500, "decision": 500}
        elif memory:
            self.default_timing = {**self.default_timing, "delay": 500}
        super().__init__(**kwargs)

    def _draw(self, kwargs):
        u = self.rng.random(2)  # one draw for all choices: fast
        answer = int(kwargs.get("answer", u[0] * self.dim_ring))
        modality = int(kwargs.get("modality", u[1] * 2))
        position = (answer + self.dim_ring // 2) % self.dim_ring if self.anti else answer
        if self.reaction:
            periods, shown = ["fixation", "decision"], ("decision", "decision")
        elif self.memory:
            periods = ["fixation", "stimulus", "delay", "decision"]
            shown = ("stimulus", "stimulus")
        else:
            periods = ["fixation", "stimulus", "delay", "decision"]
            shown = ("stimulus", "decision")  # on until the end
        info = {"modality": modality, "stimulus_position": position}
        stimulus = (*shown, modality, self.bumps((position, 1.0)), False)
        return periods, [stimulus], answer, info


class DecisionTask(ModCogTask):
    """Perceptual decision tasks: report the location of the stronger stimulus.

    Two stimuli at different ring positions; on each shown modality the two
    have different strengths; the answer is the position whose strength,
    summed over modalities with weights `w_mod`, is larger.

    Args:
        stim_mod: (bool, bool): which rings show the stimuli.
        w_mod: (float, float): weight of each ring in the decision (ctxdm
            tasks attend to one ring: (1, 0) or (0, 1)).
        delayed: the two stimuli come one after the other, separated by a
            delay (dlydm tasks); otherwise both are shown at once.
        cohs: stimulus coherences to draw from (defaults as neurogym's
            yang19: (0.08, 0.16, 0.32, 0.64) at once, (0.3, 0.6, 1.0) delayed).
        **kwargs: see `ModCogTask`.

    Example:

    >>> env = DecisionTask(stim_mod=(True, True), w_mod=(1, 0))   # ctxdm1
    >>> env.seed(0)
    [0]
    >>> info = env.new_trial()
    >>> info["answer"] in info["positions"], list(info["periods"])
    (True, ['fixation', 'stimulus', 'decision'])
    """

    def __init__(self, stim_mod=(True, False), w_mod=(1, 1), delayed=False, cohs=None, **kwargs):
        self.stim_mod, self.w_mod, self.delayed = tuple(stim_mod), tuple(w_mod), delayed
        if delayed:
            self.default_timing = {
                "fixation": ("uniform", (200, 500)),
                "stim1": 500,
                "delay": 1000,
                "stim2": 500,
                "decision": 200,
            }
            default_cohs = (0.3, 0.6, 1.0)
        else:
            self.default_timing = {
                "fixation": ("uniform", (200, 500)),
                "stimulus": ("choice", [200, 400, 600]),
                "decision": 200,
            }
            default_cohs = (0.08, 0.16, 0.32, 0.64)
        self.cohs = np.asarray(default_cohs if cohs is None else cohs, dtype=float)
        super().__init__(**kwargs)

    def _draw(self, kwargs):
        ring, n = self.dim_ring, len(self.cohs)
        evidence = 0.0
        while evidence == 0.0:  # redraw the rare exact ties (multi tasks)
            u = self.rng.random(6)  # one draw for all choices: fast
            first = int(u[0] * ring)
            second = (first + 1 + int(u[1] * (ring - 1))) % ring  # another position
            stimuli, evidence = [], 0.0
            for modality in (0, 1):
                if not self.stim_mod[modality]:
                    continue
                a, b = u[2 + 2 * modality], u[3 + 2 * modality]
                if self.delayed:  # two different coherences, one after the other
                    i = int(a * n)
                    j = (i + 1 + int(b * (n - 1))) % n
                    s1, s2 = float(self.cohs[i]), float(self.cohs[j])
                    stimuli += [
                        ("stim1", "stim1", modality, self.bumps((first, s1)), True),
                        ("stim2", "stim2", modality, self.bumps((second, s2)), True),
                    ]
                else:  # both at once, strengths 0.5 +- coh / 2
                    coh = float(self.cohs[int(a * n)]) * (1 if b < 0.5 else -1)
                    s1, s2 = 0.5 + coh / 2, 0.5 - coh / 2
                    pattern = self.bumps((first, s1), (second, s2))
                    stimuli.append(("stimulus", "stimulus", modality, pattern, True))
                evidence += self.w_mod[modality] * (s1 - s2)
        periods = (
            ["fixation", "stim1", "delay", "stim2", "decision"]
            if self.delayed
            else ["fixation", "stimulus", "decision"]
        )
        info = {"positions": (first, second), "evidence": evidence}
        return periods, stimuli, first if evidence > 0 else second, info


class MatchTask(ModCogTask):
    """Delayed match-to-sample and match-to-category tasks.

    A sample, a delay, a test, all on one ring chosen per trial. On "go"
    trials (a match for dms/dmc, a non-match for dnms/dnmc) the answer is the
    test's position; on the others the network keeps fixating (no-go).

    Args:
        category: compare categories (ring positions 0..R/2-1 versus
            R/2..R-1, the same boundary for sample and test) instead of
            positions; a non-matching test for dms/dnms sits opposite the
            sample.
        go_on_match: respond on match (dms, dmc) or on non-match (dnms, dnmc).
        **kwargs: see `ModCogTask`.

    Example:

    >>> env = MatchTask(go_on_match=False)                # dnms
    >>> env.seed(0)
    [0]
    >>> info = env.new_trial()
    >>> info["match"] == (info["answer"] is None)         # no-go on a match
    True
    """

    default_timing = {"fixation": 300, "sample": 500, "delay": 1000, "test": 500, "decision": 900}

    def __init__(self, category=False, go_on_match=True, **kwargs):
        self.category, self.go_on_match = category, go_on_match
        super().__init__(**kwargs)

    def _draw(self, kwargs):
        ring, half = self.dim_ring, self.dim_ring // 2
        u = self.rng.random(4)  # one draw for all choices: fast
        match = bool(kwargs.get("match", u[0] < 0.5))
        modality = int(u[1] * 2)
        sample = int(u[2] * ring)
        if self.category:
            sample_category = sample // half
            test_category = sample_category if match else 1 - sample_category
            test = int(test_category * half + int(u[3] * half))
        else:
            test = sample if match else (sample + half) % ring
        go = match == self.go_on_match
        info = {"modality": modality, "sample": sample, "test": test, "match": match}
        stimuli = [
            ("sample", "sample", modality, self.bumps((sample, 1.0)), True),
            ("test", "test", modality, self.bumps((test, 1.0)), True),
        ]
        periods = ["fixation", "sample", "delay", "test", "decision"]
        return periods, stimuli, test if go else None, info
