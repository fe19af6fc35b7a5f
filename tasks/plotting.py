"""Drawing one trial of a task: inputs and targets over time."""

import numpy as np

from keras_lmrnn.tasks import catalogue


def plot_trial(name, seed=0, ax=None, **overrides):
    """A matplotlib figure of one trial: inputs (top) and target (bottom).

    Like the paper's Figure 4: the fixation input, both stimulus rings as
    heat maps over time, and the target class at each step (0 = fixate,
    1..16 = ring direction), with the response period shaded.

    Args:
        name: a task name or alias.
        seed: seed of the environment.
        ax: optional sequence of 4 matplotlib axes to draw into.
        **overrides: passed to `make` (dt, timing, ...).

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> fig = plot_trial("dlygo_intl", seed=3)
    >>> fig.savefig("dlygo_intl.png")  # doctest: +SKIP
    """
    import matplotlib

    if ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    env = catalogue.make(name, seed=seed, **overrides)
    info = env.new_trial()
    ob, gt, ring = env.ob, env.gt, env.dim_ring
    time = np.arange(len(gt)) * env.dt
    if ax is None:
        fig, ax = plt.subplots(
            4, 1, figsize=(6, 6), sharex=True,
            gridspec_kw={"height_ratios": [1, 2, 2, 2]},
        )
    else:
        fig = ax[0].figure
    extent = [-env.dt / 2, time[-1] + env.dt / 2, -0.5, ring - 0.5]
    ax[0].step(time, ob[:, 0], where="mid", color="k")
    ax[0].set_ylabel("fixation")
    ax[0].set_ylim(-0.1, 1.2)
    for i, title in ((1, "ring 1"), (2, "ring 2")):
        cols = slice(1 + (i - 1) * ring, 1 + i * ring)
        ax[i].imshow(ob[:, cols].T, aspect="auto", origin="lower", extent=extent, cmap="viridis")
        ax[i].set_ylabel(title)
    target = np.full((ring, len(gt)), np.nan)
    go = gt > 0
    target[gt[go] - 1, np.flatnonzero(go)] = 1.0
    ax[3].imshow(np.zeros_like(target), aspect="auto", origin="lower", extent=extent, cmap="Greys", vmin=0, vmax=1)
    ax[3].imshow(target, aspect="auto", origin="lower", extent=extent, cmap="Reds", vmin=0, vmax=1)
    ax[3].set_ylabel("target\ndirection")
    ax[3].set_xlabel("time (ms)")
    start, end = info["response"]
    for a in ax:
        a.axvspan(start * env.dt - env.dt / 2, end * env.dt - env.dt / 2, color="orange", alpha=0.15, lw=0)
    details = f"answer {info['answer']}" if info["answer"] is not None else "no-go"
    if info["delay"] is not None:
        details += f", delay {info['delay']:.0f} ms"
    if info["rotation"]:
        details += f", rotated {info['rotation']:+d}"
    ax[0].set_title(f"{info['task']}: {details}")
    fig.tight_layout()
    return fig
