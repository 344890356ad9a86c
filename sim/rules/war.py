"""War as a costly lottery (Fearon 1995), and the private costs behind it.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rules.utility import Array, issue_utilities


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


def war_values(
    position: Array,
    salience: Array,
    risk: Array,
    baseline: Array,
    win_prob: Array,
    threat_cost: Array,
    competence: Array,
    bound: Array | None = None,
) -> Array:
    """Gross expected value of war for every ordered pair ``(i, t)``, before i's private cost.

    Fearon (1995): war is a costly lottery whose winner imposes its terms. A victor compels the
    loser on what is the loser's to decide (Schelling 1966, compellence): winning sets each issue
    on which ``t`` has competence (``C_tj``) and ``i`` holds a position to ``i``'s position;
    losing sets each issue on which ``i`` has competence and ``t`` holds a position to ``t``'s.
    All else stays at ``baseline``. Overturning an agreement one is party to costs ``beta`` times
    the stake overturned (pacta sunt servanda: reneging carries reputational costs, Guzman 2008;
    ``beta = 1`` cancels the gain, ``beta > 1`` makes reneging a net loss):

        W_it = U_i(b) + p_it * sum_j C_tj h_ij (1 - beta_ij) [u_ij(p_ij) - u_ij(b_j)]
                      + (1 - p_it) * sum_j C_ij h_tj [1 - beta_tj]_0^1 [u_ij(p_tj) - u_ij(b_j)] - k_it

    with ``h`` = holds a position (salience > 0). ``k_it`` is the expected cost of the threats
    others have made against ``i`` should it attack ``t`` (deterrence and sanctions; Schelling
    1966, Huth 1988). Returns an ``(n, n)`` array whose diagonal is meaningless. Subtract ``i``'s
    private cost to compare with peace.
    """
    n = position.shape[0]
    st = war_stakes(position, salience, risk, baseline, competence, bound)
    win_part = st.win @ competence.T.astype(float)  # u_ij(p_ij) = 0
    owner = np.zeros((n, st.ii.size))
    owner[st.ii, np.arange(st.ii.size)] = 1.0
    lose_part = owner @ st.loss.T
    return st.u_base.sum(axis=1)[:, None] + win_prob * win_part + (1.0 - win_prob) * lose_part - threat_cost


@dataclass(frozen=True)
class WarStakes:
    """The pieces of ``war_values`` before they are summed over issues (see ``war_stakes``)."""

    u_base: Array  # (n, m) u_ij(b_j)
    win: Array  # (n, m) h_ij (1 - beta_ij) [u_ij(p_ij) - u_ij(b_j)]: i's gain on j if it imposes its terms
    loss: Array  # (n, pairs) for each competent pair (ii, jj): [u_ij(p_tj) - u_ij(b_j)] clipped-weighted, per t
    ii: Array  # actor of each competent pair
    jj: Array  # issue of each competent pair


def war_stakes(
    position: Array, salience: Array, risk: Array, baseline: Array, competence: Array, bound: Array | None = None
) -> WarStakes:
    """Per issue, what winning and losing a war change from the baseline: the summands of ``war_values``.

    ``win[i, j] = h_ij (1 - beta_ij) [u_ij(p_ij) - u_ij(b_j)]`` (counted against ``t`` where ``C_tj``) and,
    for each pair ``(i, j)`` with ``C_ij``, ``loss[t, (i, j)] = h_tj [1 - beta_tj]_0^1 [u_ij(p_tj) - u_ij(b_j)]``
    (Fearon 1995; Schelling 1966), so that ``W_it = sum_j u_base[i, j] + p_it sum_j C_tj win[i, j]
    + (1 - p_it) sum_{(i, j)} loss[t, (i, j)] - k_it``. ``war_values`` sums them; ``sim.explain`` shows them.
    """
    holds = (salience > 0.0).astype(float)  # (n, m)
    # Winning, i pays for overturning its own agreements (net loss where beta > 1); losing, t
    # imposes at most the whole stake, and nothing where reneging would cost it more than it gains.
    hf_win = holds if bound is None else holds * (1.0 - bound)
    hf = holds if bound is None else holds * np.clip(1.0 - bound, 0.0, 1.0)
    u_base = issue_utilities(baseline[None, :], position, salience, risk)  # (n, m)
    # Losing only costs i on the issues it has competence for: compute those (i, j) pairs alone.
    ii, jj = np.nonzero(competence)
    d = np.abs(position[:, jj] - position[ii, jj])  # (t, pair)
    r = np.asarray(risk, dtype=float)[ii]
    loss = (-salience[ii, jj] * (d if np.all(r == 1.0) else d**r) - u_base[ii, jj]) * hf[:, jj]
    return WarStakes(u_base, -u_base * hf_win, loss, ii, jj)


def pair_stakes(st: WarStakes, competence: Array, i: int, t: int) -> tuple[Array, Array, Array]:
    """For the pair ``(i, t)``, per issue: ``u_ij(b_j)``, the gain if ``i`` wins (``C_tj win[i, j]``) and the
    change if it loses (``loss[t, (i, j)]``, 0 where ``C_ij = 0``): ``W_it`` is ``sum(base) + p * sum(win)
    + (1 - p) * sum(lose) - k_it`` (``war_values``, summed in another order)."""
    win = st.win[i] * competence[t].astype(float)
    lose = np.zeros_like(win)
    mine = st.ii == i
    lose[st.jj[mine]] = st.loss[t, mine]
    return st.u_base[i].copy(), win, lose


def coalition_capability(capability: Array, members: dict[int, list[int]]) -> Array:
    """Capability that defends each actor: its own, plus every bloc it belongs to and their members.

    Collective defence aggregates capabilities: the capability-aggregation view of alliances, as
    in the third-party support term of Bueno de Mesquita's (1981) expected utility model (Morrow
    1991 discusses its limits). A bloc's own capability excludes its
    members modelled separately, so nothing is counted twice.
    """
    n = capability.size
    side = np.eye(n, dtype=bool)
    for b, ms in members.items():
        block = [b, *ms]
        for x in block:
            side[x, block] = True
    return side.astype(float) @ capability


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
