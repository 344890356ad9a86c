"""Costs on one scale: the private cost of war made dyadic, and the other costs on the same scale (design §3.3).

The authoring protocol (docs/authoring.md §7) writes every fighting actor's prior on the cost of war as
``uniform [a S_i, b S_i]``, with ``S_i = sum_j s_ij`` its total stake (initial saliences) and ``(a, b)`` the
first row of its table that applies to the actor "against its main opponent":

    (1.0, 2.0)  both sides have nuclear weapons                                    -> "nuclear"
    (0.5, 1.0)  on its own territory against a stronger opponent (lower share)     -> "own_territory"
    (0.2, 0.6)  conventional war against an opponent of comparable strength (1:3)  -> "comparable"
    (0.1, 0.4)  expeditionary war against a much weaker opponent (beyond 3:1)      -> "expeditionary"

The cost of war is thus a share of the actor's stake, comparable across actors and crises. This module
keeps that scale and makes it dyadic: the file's prior holds for the dyads of the row its author applied,
and the actor's private type, the quantile ``q_i = F_i(c_i)`` of its draw (``cost_quantile``, re-exported
from ``sim.rules.beliefs``), gives its cost in every other dyad from that dyad's row. Sanctions threats and
audience costs are put on the same scale (shares of the stake), and rungs cost a share of the private
cost per day. Fearon (1995): the costs of war are private information; the rest as cited per function.

Shapes: ``n`` actors, ``m`` issues; ``(n, n)`` arrays are indexed ``[i, t]`` (``i``'s cost toward ``t``).
Their diagonal is meaningless and never used. Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.rules.beliefs import cost_quantile
from sim.rules.utility import Array

__all__ = [
    "RUBRIC_ROWS",
    "DyadPrior",
    "audience_costs",
    "cost_quantile",
    "dyad_costs",
    "dyad_prior",
    "dyad_rows",
    "holding_costs",
    "sanctions_costs",
]

# docs/authoring.md §7: (a, b), the cost of war as a share of the actor's total stake, row by row.
RUBRIC_ROWS: dict[str, tuple[float, float]] = {
    "nuclear": (1.0, 2.0),
    "own_territory": (0.5, 1.0),
    "comparable": (0.2, 0.6),
    "expeditionary": (0.1, 0.4),
}

# Capability shares are written to 3 decimals (authoring §4), so a ratio the author read as exactly 3
# (0.9 against 0.3) is a hair above 3 in floating point; the boundary is taken with this relative slack.
RATIO_SLACK = 1e-9


def dyad_rows(capability: Array, nuclear: Array) -> Array:
    """The row of authoring §7 that applies to ``i`` against ``t``, ``rows[i, t]`` (design §3.3), the first
    that applies:

        "nuclear"        if nu_i and nu_t
        "own_territory"  elif M_i < M_t
        "comparable"     elif M_i <= 3 M_t
        "expeditionary"  otherwise

    ``nuclear`` is ``nu`` (bool ``(n,)``; a bloc is nuclear if a member is, authoring §11); ``capability`` is
    the own capability ``M`` (``(n,)``, the scenario's shares). The protocol's "own territory against a
    stronger opponent" is read as "weaker" (its territorial clause is not computable from the state, design
    §3.3). The ratio test is written ``M_i <= 3 M_t (1 + 1e-9)`` (no division): an opponent of capability
    0 is infinitely weaker (expeditionary) unless ``M_i = 0`` too (equal: comparable), and decimal ratios
    of exactly 3 count as comparable despite rounding. Returns an ``(n, n)`` array of row names.
    """
    cap = np.asarray(capability, dtype=float)
    nu = np.asarray(nuclear, dtype=bool)
    m_i, m_t = cap[:, None], cap[None, :]
    return np.where(
        nu[:, None] & nu[None, :],
        "nuclear",
        np.where(
            m_i < m_t,
            "own_territory",
            np.where(m_i <= 3.0 * m_t * (1.0 + RATIO_SLACK), "comparable", "expeditionary"),
        ),
    )


def _row_bounds(rows: Array) -> tuple[Array, Array]:
    """``(a, b)`` of each row name, elementwise."""
    rows = np.asarray(rows)
    unknown = set(np.unique(rows).tolist()) - set(RUBRIC_ROWS)
    if unknown:
        raise ValueError(f"unknown rubric rows {sorted(unknown)}; expected one of {list(RUBRIC_ROWS)}")
    a, b = np.zeros(rows.shape), np.zeros(rows.shape)
    for name, (lo, hi) in RUBRIC_ROWS.items():
        a, b = np.where(rows == name, lo, a), np.where(rows == name, hi, b)
    return a, b


def _file_applies(file_row: Sequence[str | None] | Array, rows: Array) -> Array:
    """``(n, n)`` bool: the file's prior holds for ``[i, t]``, i.e. ``i``'s file names no row (None or "")
    or the row it names is the dyad's."""
    named = np.array(["" if r is None else str(r) for r in file_row])
    _row_bounds(named[named != ""])  # a named row must be a row of the rubric
    return (named == "")[:, None] | (named[:, None] == np.asarray(rows))


def _has_type(kind: Array | Sequence[str], low: Array, high: Array) -> Array:
    """``(n,)`` bool: the prior has a type to carry to other dyads (not fixed, not a point; cf. beliefs._point)."""
    return (np.asarray(kind) != "fixed") & (np.asarray(high, dtype=float) > np.asarray(low, dtype=float))


def dyad_costs(
    cost: Array,
    quantile: Array,
    stake: Array,
    file_row: Sequence[str | None] | Array,
    rows: Array,
    kind: Array | Sequence[str],
    low: Array,
    high: Array,
) -> Array:
    """``c_it``, ``i``'s private cost of a war with ``t`` (design §3.3), ``(n, n)``:

        c_it = c_i                                      if rho_i is absent or rho(i, t) = rho_i
        c_it = S_i (a_rho(i,t) + q_i (b_rho(i,t) - a_rho(i,t)))   otherwise

    with ``c_i`` the draw (``cost``), ``q_i = F_i(c_i)`` its quantile (``quantile``, from ``cost_quantile``),
    ``S_i`` the total stake (``stake``), ``rho_i`` the row the file's author applied (``file_row``, None or
    "" when absent), ``rho(i, t)`` the dyad's row (``rows``, from ``dyad_rows``) and ``(a, b)`` its bounds in
    ``RUBRIC_ROWS``. Each file's prior is used exactly for the dyads it was written for, and the same type
    (quantile) prices the other dyads on their row's uniform prior ``U[a S_i, b S_i]``: one private type per
    actor, so what is learnt about ``q_i`` in one dyad holds in all.

    A fixed prior (``kind`` "fixed", or ``high <= low``; ``low``, ``high`` are the file's prior) has no type
    (design §3.3): its actor keeps ``c_it = c_i`` toward everyone, whatever its row.
    Source: authoring §7 (the rows and the scale); Fearon (1995) (private costs of war).
    """
    c = np.asarray(cost, dtype=float)
    q = np.asarray(quantile, dtype=float)
    s = np.asarray(stake, dtype=float)
    a, b = _row_bounds(rows)
    other_row = s[:, None] * (a + q[:, None] * (b - a))
    keep = _file_applies(file_row, rows) | ~_has_type(kind, low, high)[:, None]
    return np.where(keep, c[:, None], other_row)


@dataclass(frozen=True)
class DyadPrior:
    """The common prior of ``c_it`` for every ordered pair, in cost units, as ``sim.rules.beliefs`` takes
    priors: ``kind`` ("fixed", "uniform" or "triangular"), ``low``, ``mode``, ``high``, each ``(n, n)``."""

    kind: Array
    low: Array
    mode: Array
    high: Array


def dyad_prior(
    kind: Array | Sequence[str],
    low: Array,
    mode: Array,
    high: Array,
    stake: Array,
    file_row: Sequence[str | None] | Array,
    rows: Array,
) -> DyadPrior:
    """``G_it``, the prior of ``c_it`` (design §3.3, §3.4), ``(n, n)``:

        G_it = the file's prior of c_i       if rho_i is absent or rho(i, t) = rho_i, or the prior is fixed
        G_it = U[a S_i, b S_i] of rho(i, t)  otherwise (mode stored as its low end)

    ``kind``, ``low``, ``mode``, ``high`` (``(n,)``) are the file's priors; the rest as in ``dyad_costs``, of
    which this is the distribution: for a prior with a type, ``G_it(c_it) = q_i`` in every dyad (the dyad
    cost is the row prior's quantile at ``q_i``). A fixed prior stays the same point mass in every dyad.
    Source: authoring §7.
    """
    kind = np.asarray(kind)
    low, mode, high = (np.asarray(v, dtype=float) for v in (low, mode, high))
    s = np.asarray(stake, dtype=float)
    a, b = _row_bounds(rows)
    keep = _file_applies(file_row, rows) | ~_has_type(kind, low, high)[:, None]
    row_low, row_high = s[:, None] * a, s[:, None] * b
    return DyadPrior(
        kind=np.where(keep, kind[:, None], "uniform"),
        low=np.where(keep, low[:, None], row_low),
        mode=np.where(keep, mode[:, None], row_low),
        high=np.where(keep, high[:, None], row_high),
    )


def holding_costs(rung: Array, scores: Array, war_index: int, mu: float, dyad_cost: Array) -> Array:
    """``h_it``, what holding rung ``rho_it`` toward ``t`` costs ``i`` per day (design §3.3, §3.5), ``(n, n)``:

        h_it = mu * max(0, sc(rho_it)) / sc(w) * c_it

    with ``sc`` the rung scores (``scores``, by rung index), ``w`` the war rung, ``mu`` the parameter
    ``mobilisation_cost`` and ``c_it`` the dyadic private cost. Rungs of score <= 0 cost nothing (the
    baseline has score 0 on the protocol's ladder, authoring §3: the formula assumes it is not above 0);
    a rung costs ``mu c_it`` per day times its score as a share of war's (12 / 28 for non-violent
    escalation on that ladder). If ``sc(w) <= 0`` every rung below war has a score <= 0 and costs nothing
    (the denominator is then replaced by 1, which multiplies only zeros).

    Why proportional to the private cost: the type is the cost of war relative to the stakes, ``c = C / v``;
    a public material cost ``M`` (keeping forces mobilised) is worth ``M / v = (M / C) c`` in stake units, so
    Slantchev's (2005) public mobilisation cost borne by an actor with a private valuation of the stakes is
    a cost proportional to ``c``. This is also what lets delay screen types (design §4b, §8.5).
    Sources: inspired by Slantchev (2005) (mobilisation is costly) and Fearon (1997) (sinking costs).
    """
    sc = np.asarray(scores, dtype=float)
    war_score = sc[war_index] if sc[war_index] > 0.0 else 1.0
    return mu * np.maximum(0.0, sc[np.asarray(rung)]) / war_score * np.asarray(dyad_cost, dtype=float)


def audience_costs(alpha: float, salience: Array, disputed: Array) -> Array:
    """``a_it``, the audience cost ``i`` pays for backing down from a public threat against ``t`` (design
    §3.3, §3.5), ``(n, n)``:

        a_it = alpha * sigma_it,   sigma_it = sum_{j in D_it u D_ti} s_ij

    ``sigma_it`` is the stake the threat is about: ``i``'s saliences (``salience``, ``(n, m)``) on the issues
    in dispute between the two in either direction (``disputed[i, t, j]``, bool ``(n, n, m)``, design §3.2);
    ``alpha`` is the parameter ``audience_cost``, an assumption. Source: Fearon (1994) (audience costs
    make threats credible); Tomz (2007) (experimental evidence that leaders who threaten and back down
    are punished); Fearon (1997) (tying hands).
    """
    d = np.asarray(disputed, dtype=bool)
    either = d | d.transpose(1, 0, 2)
    return alpha * np.einsum("itj,ij->it", either.astype(float), np.asarray(salience, dtype=float))


def sanctions_costs(
    threatener: Array, target: Array, protected: Array, cost: Array, resolve: Array, stake: Array
) -> Array:
    """``k_it``, the cost to ``i`` of attacking ``t`` from the sanctions threatened against it (design §3.3),
    ``(n, n)``:

        k_it = sum_theta cost_theta * eta_a * S_i

    over the sanctions threats ``theta`` of any actor ``a`` against ``i`` that protect ``t``. Each threat is
    given as one row per actor it protects: the parallel ``(k,)`` arrays ``threatener`` (``a``), ``target``
    (``i``), ``protected`` (``t``) and ``cost`` (``cost_theta``: 0.5 for a threat of sanctions, authoring §8),
    actor indices as integers; only ``sanctions`` threats are passed (deterrence threats become defence
    commitments, design §3.2). ``resolve`` is ``eta`` (``(n,)``), ``stake`` is ``S`` (``(n,)``): the cost is a
    share of the threatened actor's stake, as every cost of this module. Source: Schelling (1966) and Huth
    (1988) for threats as costs on the threatened side, as in ODD 7.5, here on authoring §7's scale.
    """
    s = np.asarray(stake, dtype=float)
    out = np.zeros((s.size, s.size))
    i = np.asarray(target, dtype=int)
    weight = np.asarray(cost, dtype=float) * np.asarray(resolve, dtype=float)[np.asarray(threatener, dtype=int)]
    np.add.at(out, (i, np.asarray(protected, dtype=int)), weight * s[i])
    return out
