"""How positions, trust and escalation rungs change from one step to the next.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

import numpy as np

from sim.rules.utility import Array, project


def pull_toward_bloc(
    member_position: Array,
    bloc_position: Array,
    shared: Array,
    red_low: Array,
    red_high: Array,
    pull: float,
) -> Array:
    """Members move a share ``pull`` toward their bloc's position on issues both hold.

    Alliance and EU coordination (``Brusselisation``; Putnam's two-level game in which a bloc's
    common position constrains its members). Never crosses the member's red line.
    """
    moved = member_position + np.where(shared, pull * (bloc_position - member_position), 0.0)
    return project(moved, red_low, red_high)


def concession(
    recipient_position: Array, proposer_position: Array, proposal: Array, include: Array, salience: Array
) -> float:
    """How far a proposal concedes toward the recipient on what the recipient cares about.

    ``sum_j s_rj * max(0, |p_rj - p_kj| - |p_rj - x_j|) / sum_j s_rj``, in [0, 1]: the
    salience-weighted share of the gap the proposer gave up (Axelrod 1984: reciprocity answers
    the other's cooperative moves; concessions on issues salient to the other count most).
    """
    total = salience.sum()
    if total <= 0:
        return 0.0
    closer = np.abs(recipient_position - proposer_position) - np.abs(recipient_position - proposal)
    return float((salience * np.where(include, np.maximum(closer, 0.0), 0.0)).sum() / total)


def update_trust(trust: Array | float, good: Array | float, bad: Array | float, gain: float, loss_aversion: float):
    """Reciprocity: ``tau' = clip(tau + g * good - lambda * g * bad, 0, 1)`` with ``lambda >= 1``.

    Tit-for-tat-like conditional cooperation (Axelrod 1984): concessions and de-escalation raise
    trust; escalation toward the actor (threats and force are rungs of the ladder) and rejected
    offers lower it, and losses weigh more than gains (``lambda``; trust is easier to destroy than
    to build, Slovic 1993; Kydd 2005). Element-wise on arrays.
    """
    return np.clip(trust + gain * good - loss_aversion * gain * bad, 0.0, 1.0)


# Two values closer than this are equal: the value of attacking and the value of waiting reach the model by
# different sums (a continuation that ends in war adds the same terms in another order), so an exact tie can
# differ by rounding; 1e-9 is far above rounding on utilities of order 1 and far below any real margin.
TIE_TOL = 1e-9


def desired_rung(net_war_value: Array, war_index: int, band: float) -> Array:
    """The rung an actor would choose toward each target, from the net value of war.

    ``k* = w`` if ``Delta > 1e-9``, else ``min(w - 1, w + floor(Delta / band))``, clipped at the lowest rung,
    where ``Delta`` is the value of war minus the value of not attacking (noise included) and ``w`` the war
    rung: war only when war pays strictly (ties: no war, docs/design/bargaining.md §3.5; an actor indifferent
    between attacking and waiting waits, as in Fearon's 1995 ultimatum, where the indifferent type accepts);
    otherwise one rung lower for each ``band`` of utility by which not attacking is better. The ladder as a
    ranking of coercive options by how close the actor is to preferring war (Kahn 1965; Schelling 1966;
    Fearon's 1994 audience-cost ladder).
    """
    delta = np.asarray(net_war_value, dtype=float)
    below = np.minimum(war_index - 1, war_index + np.floor(delta / band))
    return np.clip(np.where(delta > TIE_TOL, war_index, below), 0, war_index).astype(int)


def climb_threshold(rung: int, war_index: int, band: float) -> float:
    """The net war value an actor on ``rung`` must reach to climb: ``theta = (rho + 1 - w) * band``, except that
    the climb to war from ``w - 1`` needs ``Delta > 1e-9`` (ties: no war), where ``theta = 1e-9``.

    ``next_rung`` climbs iff ``desired_rung > rho``: below ``w - 1`` iff ``Delta >= theta``; from ``w - 1`` iff
    ``Delta > theta``. The margin of a climb is ``Delta - theta`` (``sim.explain``).
    """
    return TIE_TOL if rung + 1 >= war_index else (rung + 1 - war_index) * band


def next_rung(current: Array, desired: Array) -> Array:
    """Rungs move at most one rung per step toward the desired rung (escalation is climbed, Kahn 1965)."""
    return current + np.sign(desired - current).astype(int)
