"""The value of peace: the settlement actors expect, and what it is worth to each of them.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.rules.utility import Array, compromise, discounted_change, issue_utilities, project


def expected_settlement(
    position: Array,
    capability: Array,
    salience: Array,
    competence: Array,
    red_low: Array,
    red_high: Array,
    baseline: Array,
    agreed: Array,
    allowed: Sequence[list[float] | None],
) -> Array:
    """The outcome a negotiated settlement is expected to bring, issue by issue.

    Agreed issues keep their agreed value. Every other issue goes to the compromise of the
    actors given (capability x salience weighted mean; Stokman and van Oosten 1994, Achen 2006),
    projected into the red lines of the actors with competence for it -- the nearest allowed
    value for an indivisible issue -- or stays at the baseline where those red lines do not
    meet: no settlement is in reach there.
    """
    y = compromise(position, capability, salience)
    lo = np.where(competence, red_low, 0.0).max(axis=0)
    hi = np.where(competence, red_high, 1.0).min(axis=0)
    y = np.where(np.isnan(y), baseline, project(y, lo, hi))
    for j, values in enumerate(allowed):
        if values is not None:
            feasible = [v for v in values if lo[j] - 1e-9 <= v <= hi[j] + 1e-9]
            y[j] = min(feasible, key=lambda v: abs(v - y[j])) if feasible else baseline[j]
    y = np.where(lo > hi + 1e-9, baseline, y)
    return np.where(agreed, baseline, y)


def peace_values(
    settlement: Array,
    baseline: Array,
    position: Array,
    salience: Array,
    risk: Array,
    trust: Array,
    competence: Array,
    compliance: Array,
) -> Array:
    """Each actor's value of the expected settlement, gains discounted by trust.

    ``V_i = U_i(b) + sum_j w_ij [u_ij(y_j) - u_ij(b_j)]`` with ``w_ij = 1 - kappa_j (1 - tau_ij)``
    on gains (1 on losses), where ``tau_ij`` is i's mean trust in the other actors with competence
    for issue j, whose compliance the gain depends on (Fearon 1995's commitment problem; 1 when
    no one else decides j).
    """
    u_base, gains, tau = peace_gains(settlement, baseline, position, salience, risk, trust, competence)
    return u_base.sum(axis=1) + discounted_change(gains, compliance[None, :], tau)


def peace_gains(
    settlement: Array, baseline: Array, position: Array, salience: Array, risk: Array, trust: Array, competence: Array
) -> tuple[Array, Array, Array]:
    """The summands of ``peace_values``, per actor and issue: ``u_ij(b_j)``, the gain ``u_ij(y_j) - u_ij(b_j)``
    and the trust ``tau_ij`` that discounts it (i's mean trust in the other actors competent for j; 1 if none)."""
    u_base = issue_utilities(baseline[None, :], position, salience, risk)
    gains = issue_utilities(settlement[None, :], position, salience, risk) - u_base
    comp = competence.astype(float)
    others = trust * (1.0 - np.eye(trust.shape[0]))
    weight = comp.sum(axis=0)[None, :] - comp  # competent actors other than i
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = np.where(weight > 0, (others @ comp) / np.where(weight > 0, weight, 1.0), 1.0)
    return u_base, gains, tau
