"""The balance of power between two sides (Fearon 1995), and the private costs of war behind it.

What a war is fought over is ``sim.rules.spoils``; who joins it and its value, ``sim.rules.coalitions``.
Pure numpy functions; no Mesa.
"""

from __future__ import annotations

import numpy as np

from sim.rules.utility import Array


def win_probability(capability_i: Array | float, capability_t: Array | float) -> Array:
    """Chance that ``i`` prevails over ``t``: ``c_i / (c_i + c_t)``.

    The ratio-of-capabilities contest success function used for the balance of power in
    Bueno de Mesquita (1981) and as ``p`` in Fearon's (1995) bargaining model. Two actors with no
    capability at all have an even chance.
    """
    ci = np.asarray(capability_i, dtype=float)
    ct = np.asarray(capability_t, dtype=float)
    total = ci + ct
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0.0, ci / np.where(total > 0.0, total, 1.0), 0.5)


class CostPriors:
    """The shared priors over private costs of conflict, one per actor.

    Fearon (1995): costs are private information; each side knows its own and holds a common
    prior over the other's. Supports ``fixed``, ``uniform`` and ``triangular`` distributions.
    """

    def __init__(self, kind: list[str], low: Array, mode: Array, high: Array):
        self.kind = np.asarray(kind)
        self.low = np.asarray(low, dtype=float)
        self.mode = np.asarray(mode, dtype=float)
        self.high = np.asarray(high, dtype=float)

    def sample(self, rng: np.random.Generator) -> Array:
        """One draw per actor, in actor order; a fixed cost consumes no random number."""
        out = self.low.copy()
        for i, kind in enumerate(self.kind):
            if kind == "uniform":
                out[i] = rng.uniform(self.low[i], self.high[i])
            elif kind == "triangular":
                out[i] = rng.triangular(self.low[i], self.mode[i], self.high[i])
        return out

    def prior(self, i: int) -> tuple[str, float, float, float]:
        """Actor ``i``'s prior as (kind, low, mode, high)."""
        return (str(self.kind[i]), float(self.low[i]), float(self.mode[i]), float(self.high[i]))


def survival(kind: Array, low: Array, mode: Array, high: Array, x: Array, kinds: frozenset[str] | None = None) -> Array:
    """``P(c >= x)`` under each prior (broadcast over the last axis): fixed, uniform or triangular.

    ``kinds``, the set of distributions present, lets a caller skip the formulas it does not need.
    """
    x = np.asarray(x, dtype=float)
    kinds = frozenset(np.asarray(kind).tolist()) if kinds is None else kinds
    span = np.where(high > low, high - low, 1.0)
    out = np.zeros(np.broadcast_shapes(x.shape, np.shape(low)))
    if "fixed" in kinds:
        out = np.where(kind == "fixed", (low >= x).astype(float), out)
    if "uniform" in kinds:
        out = np.where(kind == "uniform", np.clip((high - x) / span, 0.0, 1.0), out)
    if "triangular" in kinds:
        left = np.where(mode > low, (x - low) ** 2 / (span * np.where(mode > low, mode - low, 1.0)), 0.0)
        right = np.where(high > mode, (high - x) ** 2 / (span * np.where(high > mode, high - mode, 1.0)), 0.0)
        tri = np.where(x <= low, 1.0, np.where(x >= high, 0.0, np.where(x <= mode, 1.0 - left, right)))
        out = np.where(kind == "triangular", tri, out)
    return out
