"""The Mod-Cog catalogue as data: one table of base tasks, one of extensions.

Every task name, battery and alias is derived from `BASE_TASKS` and the
extension directions below; nothing is listed twice by hand.

Example:

>>> from keras_lmrnn import tasks
>>> len(tasks.names("yang20")), len(tasks.names("modcog84")), len(tasks.names("modcog132"))
(20, 84, 132)
>>> tasks.resolve("DlyGo_IntL_SeqR"), tasks.resolve("dlygointl")
('dlygo_intl_seqr', 'dlygo_intl')
>>> env = tasks.make("dms_intr", seed=0)
"""

import difflib
from dataclasses import dataclass, field

from keras_lmrnn.tasks.envs import DecisionTask, MatchTask, ReachTask


@dataclass(frozen=True)
class BaseTask:
    """A Yang et al. (2019) task: its family class and that class's arguments.

    `interval` marks the 12 tasks with a delay period that get the int
    extension.
    """

    name: str
    family: type
    params: dict = field(default_factory=dict)
    interval: bool = False


def _dm(stim_mod, w_mod, delayed):
    return dict(stim_mod=stim_mod, w_mod=w_mod, delayed=delayed)


# The 20 Yang tasks, in the order of the "yang20" battery.
BASE_TASKS = (
    BaseTask("go", ReachTask, dict(), interval=True),
    BaseTask("rtgo", ReachTask, dict(reaction=True)),
    BaseTask("dlygo", ReachTask, dict(memory=True), interval=True),
    BaseTask("anti", ReachTask, dict(anti=True)),
    BaseTask("rtanti", ReachTask, dict(anti=True, reaction=True)),
    BaseTask("dlyanti", ReachTask, dict(anti=True, memory=True), interval=True),
    BaseTask("dm1", DecisionTask, _dm((True, False), (1, 1), False)),
    BaseTask("dm2", DecisionTask, _dm((False, True), (1, 1), False)),
    BaseTask("ctxdm1", DecisionTask, _dm((True, True), (1, 0), False)),
    BaseTask("ctxdm2", DecisionTask, _dm((True, True), (0, 1), False)),
    BaseTask("multidm", DecisionTask, _dm((True, True), (1, 1), False)),
    BaseTask("dlydm1", DecisionTask, _dm((True, False), (1, 1), True), interval=True),
    BaseTask("dlydm2", DecisionTask, _dm((False, True), (1, 1), True), interval=True),
    BaseTask("ctxdlydm1", DecisionTask, _dm((True, True), (1, 0), True), interval=True),
    BaseTask("ctxdlydm2", DecisionTask, _dm((True, True), (0, 1), True), interval=True),
    BaseTask("multidlydm", DecisionTask, _dm((True, True), (1, 1), True), interval=True),
    BaseTask("dms", MatchTask, dict(category=False, go_on_match=True), interval=True),
    BaseTask("dnms", MatchTask, dict(category=False, go_on_match=False), interval=True),
    BaseTask("dmc", MatchTask, dict(category=True, go_on_match=True), interval=True),
    BaseTask("dnmc", MatchTask, dict(category=True, go_on_match=False), interval=True),
)
BASES = {task.name: task for task in BASE_TASKS}
DIRECTION_ORDER = ("l", "r")


@dataclass(frozen=True)
class TaskSpec:
    """A task of the catalogue: a base task plus optional extensions."""

    base: str
    interval: str | None = None
    sequence: str | None = None

    @property
    def name(self):
        parts = [self.base]
        if self.interval:
            parts.append(f"int{self.interval}")
        if self.sequence:
            parts.append(f"seq{self.sequence}")
        return "_".join(parts)


def _catalogue():
    yang = [TaskSpec(b.name) for b in BASE_TASKS]
    interval_bases = [b.name for b in BASE_TASKS if b.interval]
    interval = [TaskSpec(b, interval=i) for b in interval_bases for i in DIRECTION_ORDER]
    sequence = [TaskSpec(b.name, sequence=s) for b in BASE_TASKS for s in DIRECTION_ORDER]
    both = [
        TaskSpec(b, interval=i, sequence=s)
        for b in interval_bases
        for i in DIRECTION_ORDER
        for s in DIRECTION_ORDER
    ]
    return yang, interval, sequence, both


_YANG, _INTERVAL, _SEQUENCE, _BOTH = _catalogue()
SPECS = {spec.name: spec for spec in _YANG + _INTERVAL + _SEQUENCE + _BOTH}
# The battery a run, an evaluation or a listing uses when none is named (the paper's Mod-Cog 84).
DEFAULT_BATTERY = "modcog84"
BATTERIES = {
    "yang20": tuple(s.name for s in _YANG),
    "modcog84": tuple(s.name for s in _YANG + _INTERVAL + _SEQUENCE),
    "modcog132": tuple(s.name for s in _YANG + _INTERVAL + _SEQUENCE + _BOTH),
}


def names(battery=DEFAULT_BATTERY):
    """The task names of a battery, in its documented order.

    "yang20": the 20 Yang tasks; "modcog84": those, then the 24 int tasks
    (each int base in Yang order, `_intl` then `_intr`), then the 40 seq
    tasks (each base, `_seql` then `_seqr`); "modcog132": those, then the 48
    compositions (`base_int{l,r}_seq{l,r}`).

    Args:
        battery: "yang20", "modcog84" (default) or "modcog132".

    Returns:
        A new list of task names.

    Example:

    >>> names("modcog84")[20:22], names("modcog84")[-1]
    (['go_intl', 'go_intr'], 'dnmc_seqr')
    >>> len(names("modcog132"))
    132
    """
    if battery not in BATTERIES:
        raise ValueError(
            f"Invalid value for argument `battery`: expected one of "
            f"{list(BATTERIES)}. Received: battery={battery!r}"
        )
    return list(BATTERIES[battery])


def _aliases():
    table = {}
    for name in SPECS:
        table[name] = name
        table[name.replace("_", "")] = name  # the authors' code: dlygointl
    return table


ALIASES = _aliases()


def resolve(name):
    """The canonical name of a task, from any accepted spelling.

    Case is ignored; the paper's spelling (`DlyGo_IntL_SeqR`) and the
    authors' code names (`dlygointl`, `goseqr`) are accepted.

    Args:
        name: a task name in any accepted spelling.

    Returns:
        The canonical name, e.g. "dlygo_intl".

    Raises:
        TypeError: `name` is not a string.
        ValueError: an unknown task, with the closest names as hints.

    Example:

    >>> resolve("DlyGo_IntL"), resolve("goseqr")
    ('dlygo_intl', 'go_seqr')
    >>> resolve("dlygoo")
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `name`: unknown task 'dlygoo'. Did you mean dlygo...
    """
    if not isinstance(name, str):
        raise TypeError(
            f"Invalid value for argument `name`: expected a task name. "
            f"Received: name={name!r}"
        )
    key = name.strip().lower().replace("-", "_")
    if key in ALIASES:
        return ALIASES[key]
    close = difflib.get_close_matches(key, list(SPECS), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"Invalid value for argument `name`: unknown task {name!r}.{hint} "
        "See keras_lmrnn.tasks.names('modcog132') for all tasks."
    )


def spec(name):
    """The `TaskSpec` (base and extensions) of a task name or alias.

    Args:
        name: a task name or alias (see `resolve`).

    Returns:
        A `TaskSpec`: `base`, `interval` and `sequence` ("l", "r" or None).

    Example:

    >>> spec("DlyGo_IntL_SeqR")
    TaskSpec(base='dlygo', interval='l', sequence='r')
    >>> spec("dms").name
    'dms'
    """
    return SPECS[resolve(name)]


def make(name, seed=None, **overrides):
    """A seeded neurogym environment for one task.

    Args:
        name: a task name or alias (see `resolve`).
        seed: seed of the environment's own generator.
        **overrides: any argument of the task's class (`dt`, `timing`,
            `dim_ring`, `sigma`, `delay_choices`, family arguments such as
            `cohs`); they always win over the catalogue's values.

    Example:

    >>> env = make("go_seqr", seed=1, dt=50)
    >>> env.dt
    50
    """
    task = spec(name)
    base = BASES[task.base]
    kwargs = {
        **base.params,
        "interval": task.interval,
        "sequence": task.sequence,
        "name": task.name,
        **overrides,
    }
    env = base.family(**kwargs)
    env.seed(seed)
    return env
