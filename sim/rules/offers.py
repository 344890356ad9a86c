"""What the hard-liner and the reciprocator table, and the hard-liner's answer (docs/design/bargaining.md §3.8).

The default policy's offers come from ``bargaining.best_package``; these two rules need no search. Offers stay
inside the proposer's red lines and on the allowed values of indivisible issues.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.rules.acceptance import RED_TOL
from sim.rules.utility import Array


def feasible(values: Array, red_low: Array, red_high: Array, allowed: Sequence[list[float] | None]) -> Array:
    """``values`` clipped to the red line ``[low, high]``, then each indivisible issue's value moved to the nearest
    allowed value inside the red line (the nearest allowed value overall if none lies inside)."""
    x = np.clip(values, red_low, red_high)
    for j, vals in enumerate(allowed):
        if vals is None:
            continue
        a = np.asarray(vals, dtype=float)
        inside = a[(a >= red_low[j] - RED_TOL) & (a <= red_high[j] + RED_TOL)]
        a = inside if inside.size else a
        x[j] = a[np.abs(a - x[j]).argmin()]
    return x


def ideal_offer(
    position: Array,
    salience: Array,
    red_low: Array,
    red_high: Array,
    open_issues: Array,
    baseline: Array,
    allowed: Sequence[list[float] | None],
) -> tuple[Array, Array]:
    """The opening offer: its ideal point on every open issue it holds a position on (``s_j > 0``), within its red
    lines; the baseline elsewhere. Returns ``(values, include)``."""
    include = open_issues & (salience > 0)
    values = np.where(include, feasible(position, red_low, red_high, allowed), baseline)
    return values, include


def reciprocal_offer(
    own: Array,
    own_include: Array,
    theirs: Array,
    their_include: Array,
    conceded: bool,
    share: float,
    ideal: Array,
    ideal_include: Array,
    red_low: Array,
    red_high: Array,
    allowed: Sequence[list[float] | None],
) -> Array:
    """The reciprocator's next offer on the issues of its opening offer (``ideal_include``).

    ``x_j = y_j + f (z_j - y_j)`` where ``y`` is its last offer and ``z`` the counterpart's last offer if that
    offer conceded (``gamma > 0``, ``dynamics.concession``) and both included ``j``; ``x_j = y_j`` otherwise
    (it repeats itself); the ideal where its last offer left ``j`` out. Within its red lines and allowed values.
    Axelrod (1984): answer a concession with a concession, nothing with nothing; the share ``f`` is the actor's
    ``flexibility`` (inspired by Axelrod; the partial step is not his)."""
    move = conceded & own_include & their_include
    last = np.where(own_include, own, ideal)
    x = np.where(move, last + share * (theirs - last), last)
    return np.where(ideal_include, feasible(x, red_low, red_high, allowed), ideal)


def worse_than_ideal(values: Array, include: Array, ideal: Array, salience: Array) -> Array:
    """The included issues the actor holds a position on (``s_j > 0``) where the package is not its ideal,
    ``|x_j - p_j| > 1e-9`` (``ideal``: its ideal point made ``feasible``; a utility peaked at ``p_j`` makes every
    other value worse): the hard-liner refuses a package with any (Snyder and Diesing 1977's hard line)."""
    return np.flatnonzero(include & (salience > 0) & (np.abs(values - ideal) > RED_TOL))
