"""The settlement frontier of a dyad at its next meeting (docs/design/bargaining.md §3.6, "The dyad game at the
meeting (scalar reduction)"; pure part of step 6, not wired).

What ``i`` and ``t`` can settle between them: the issues in dispute either way, ``D_it ∪ D_ti``
(``spoils.disputes``), plus every open issue either of them links (it refuses a package that leaves one out);
on each, the outcomes inside both sides' red lines and inside every third holder's consent (shared rights stay
shared in peace as in war, ``spoils``). The screening game of ``sim.rules.screening`` reads it as a line: the
proposer's value ``V_k(y) = V_k^max - lambda_kr (v_r(y) - V_r^min)`` falls at the rate ``lambda_kr`` as the
responder's value ``v_r`` rises from ``V_r^min`` to ``V_r^max``. This module gives those four numbers and the
flag that the meeting can settle something at all. Trust enters the settlement's value here and only here
(ODD 7.3; design §3.1, "Trust enters once").

Shapes: ``n`` actors, ``m`` issues; an ``(n, n)`` array is indexed ``[i, t]``, ``i``'s view of its settlement
with ``t``; ``(n, n, m)`` adds the issue. ``allowed[j]`` lists the allowed values of an indivisible issue,
``None`` for a continuous one on [0, 1] (as in ``spoils``). Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.rules.acceptance import RED_TOL
from sim.rules.spoils import DISPUTE_EPS, allowed_table
from sim.rules.utility import Array, discounted_gains, issue_utilities

TIE_TOL = 1e-12  # values this close are equal when an actor's favourite settlement is a tie (exact ties round)


@dataclass(frozen=True)
class Frontier:
    """The settlement frontier of every ordered pair (see ``frontier``). Where nothing can be settled
    (``feasible`` False, and on the diagonal) ``V_max = V_min = U_i(b)`` and ``package`` is the baseline."""

    V_max: Array  # (n, n) [i, t]: i's value of its favourite feasible settlement with t
    V_min: Array  # (n, n) [i, t]: i's value of t's favourite feasible settlement with it
    lam: Array  # (n, n) lambda_it >= 0: what one unit of value to t costs i along the frontier
    feasible: Array  # (n, n) bool, symmetric: an issue in dispute can move off b_j, every linked one is possible
    package: Array  # (n, n, m) i's favourite settlement with t, the outcome of every issue (b_j where unchanged)


def _of_others(value: Array, largest: bool) -> Array:
    """``max_{k not in {i, t}} value_kj`` (``largest``) or the minimum, ``(n, n, m)``; ``∓inf`` if nobody is left.

    The extreme over everyone but two actors is among the three most extreme values of the issue (at most two
    of them are ``i`` and ``t``): ``spoils.war_outcomes``' two-largest rule, one exclusion further."""
    n = value.shape[0]
    order = np.argsort(-value if largest else value, axis=0, kind="stable")[:3]  # (c, m), most extreme first
    top = np.take_along_axis(value, order, axis=0)[:, None, None, :]
    idx = np.arange(n)
    rank = order[:, None, None, :]
    excluded = (rank == idx[:, None, None]) | (rank == idx[None, :, None])  # (c, n, n, m): k is i or t
    others = np.where(excluded, -np.inf if largest else np.inf, top)  # (c, n, n, m)
    return others.max(axis=0) if largest else others.min(axis=0)


def settlement_bounds(lo: Array, hi: Array, red_low: Array, red_high: Array) -> tuple[Array, Array]:
    """The outcomes of issue ``j`` that ``i`` and ``t`` can settle on, ``[a_itj, h_itj]``, each ``(n, n, m)``:

        P_itj = [x_low_ij, x_high_ij] ∩ [x_low_tj, x_high_tj] ∩ Q^{-i,-t}_j ∩ [0, 1],
        Q^{-i,-t}_j = ∩_{k in K_j \\ {i, t}} I_kj   (all of X_j if no third holder),

    with ``I_kj = [lo_kj, hi_kj]`` from ``spoils.consent_intervals`` (NaN: ``k`` holds no right on ``j``; an empty
    consent set, ``lo = inf``, vetoes every change). Both sides' red lines bind, their better-than-baseline sets
    do not: a side may give ground on one issue for more on another, or for peace. Empty where
    ``a > h + RED_TOL`` (the acceptance rule's tolerance); ``a`` may exceed ``h`` by less, the two then meet at
    ``h``. Symmetric in ``(i, t)``. Source: bargaining.md §3.6 (feasible packages; shared rights stay shared),
    §3.2 (consent); inspired by Putnam (1988) (every holder's consent).
    """
    third_lo = _of_others(np.where(np.isnan(lo), -np.inf, lo), largest=True)
    third_hi = _of_others(np.where(np.isnan(hi), np.inf, hi), largest=False)
    a = np.maximum(np.maximum(third_lo, 0.0), np.maximum(red_low[:, None, :], red_low[None, :, :]))
    h = np.minimum(np.minimum(third_hi, 1.0), np.minimum(red_high[:, None, :], red_high[None, :, :]))
    return a, h


def exchange_rate(G: Array, L: Array, span: Array) -> Array:
    """``lambda_it``, what one unit of value to ``t`` costs ``i`` on the frontier, ``(n, n)``:

        lambda_it = (G_it - L_it) / (G_ti - L_ti)                 if both differences exceed 1e-9,
                  = (V^max_it - V^min_it) / (V^max_ti - V^min_ti)  else, if t's span exceeds 1e-9,
                  = 0                                             else.

    The first line is the design's: the war lottery moves ``i`` by ``G_it - L_it`` from defeat to victory and
    ``t`` by ``G_ti - L_ti`` the other way (1 on one issue with equal saliences). It is undefined or negative
    where one side's war value does not fall with the other's victory (nothing at stake for it in the war's
    result; a red line or a breach cost reversing the sign); then the frontier's own chord, the ratio of the
    two sides' spans ``span = V_max - V_min`` (the rate that joins the frontier's two ends). Where ``t``'s
    value is the same at both ends the rate is never read (``t``'s offers all have one value, so
    ``V_i = V_i^max`` at any rate) and 0 keeps it finite; it is also 0 on the diagonal. The regular and the
    chord cases give ``lambda_ti = 1 / lambda_it``. Source: bargaining.md §3.6; the two fallbacks are this
    module's.
    """
    gap = G - L
    regular = (gap > DISPUTE_EPS) & (gap.T > DISPUTE_EPS)
    spread = span.T > DISPUTE_EPS
    war = gap / np.where(regular, gap.T, 1.0)
    chord = span / np.where(spread, span.T, 1.0)
    return np.where(regular, war, np.where(spread, chord, 0.0))


def frontier(
    position: Array,
    salience: Array,
    risk: Array,
    red_low: Array,
    red_high: Array,
    baseline: Array,
    allowed: Sequence[Sequence[float] | None],
    lo: Array,
    hi: Array,
    disputed: Array,
    G: Array,
    L: Array,
    linkage: Array,
    open_issues: Array,
    compliance: Array,
    trust: Array,
) -> Frontier:
    """The settlement frontier of every ordered pair at its next meeting (design §3.6, scalar reduction).

    *Issues.* The package between ``i`` and ``t`` is on ``E_it = (D_it ∪ D_ti ∪ R_it) ∩ O``: the issues in
    dispute either way (``disputed``, ``spoils.disputes``) and the required ones ``R_it = (Λ_i ∪ Λ_t) ∩ O``,
    the open issues either side links (``linkage[i, j]``, the trait; a side refuses a package that leaves out
    a linked open issue, as the acceptance rule). ``O`` = ``open_issues``, what the meeting can settle (its
    agenda less the agreed issues; ``(m,)`` or per pair ``(n, n, m)``). Every other issue stays at ``b_j``.

    *Options on j in E_it:* an outcome ``x in P_itj`` (``settlement_bounds``; on an indivisible issue an
    allowed value in it), or ``b_j``: left out, or for a required issue included unchanged, which needs ``b_j``
    inside both red lines (no change needs no third holder's consent). Issues are independent, so the
    feasible packages are the product of the options.

    *Values*, with trust once (ODD 7.3, ``utility.discounted_gains``; ``trust[i, t]`` is ``i``'s trust in ``t``,
    effective trust if the meeting's form is binding):

        V_i(x) = U_i(b) + sum_{j in E_it} omega_ij(x) [u_ij(x_j) - u_ij(b_j)],
        omega_ij = 1 - kappa_j (1 - tau_it) on a gain, 1 on a loss.

    *The ends.* ``x^(i)_it``, ``i``'s favourite feasible settlement with ``t``: on each issue the option of
    greatest ``omega (u_ij - u_ij(b_j))``, ties (within 1e-12) to ``t``'s greatest, i.e. the Pareto-optimal
    end of the frontier where ``i`` gets the most (``package[i, t]``). Then

        V_max[i, t] = V_i(x^(i)_it),     V_min[i, t] = V_i(x^(t)_ti)   (i's value of t's favourite).

    So ``V_min[r, k]`` is what the responder ``r`` gets where the proposer ``k`` gets ``V_max[k, r]``: the
    screening line of ``sim.rules.screening.Screen`` starts at an actual package
    (``v_max = V_max[k, r]``, ``v_min_r = V_min[r, k]``, ``v_max_r = V_max[r, k]``, ``lam = lam[k, r]``).
    A continuous issue's favourite is among four points: ``b_j``, the points of ``P`` nearest ``p_ij`` and
    ``p_tj``, and the point of ``P ∩ [p_ij - |b_j - p_ij|, p_ij + |b_j - p_ij|]`` nearest ``p_tj``
    (``u`` falls with the distance to the ideal for every risk exponent and ``omega > 0`` keeps the order;
    the last point is ``t``'s best among ``i``'s ties when ``i`` is indifferent, ``s_ij = 0``, or values
    every gain at 0, ``omega = 0``). An indivisible issue's candidates are ``b_j`` and the allowed values.

    *Rate:* ``lam = exchange_rate(G, L, V_max - V_min)`` (``G``, ``L`` from ``spoils.spoils``).

    *Feasible* iff some issue of ``D_it ∪ D_ti`` (open) has an outcome in ``P_itj`` other than ``b_j`` (beyond
    ``RED_TOL``) and every required issue has an option: otherwise the meeting can settle nothing and the
    continuation is the fallback (design §3.6: talks on issues whose red lines never meet are worth nothing).

    The line through the two ends is a chord of the true frontier, which is concave across issues of different
    salience ratios (the design's scalar reduction); at the design's war rate ``lambda`` the line from
    ``(V_max[k, r], V_min[r, k])`` reaches ``V_max[r, k]`` at ``V_max[k, r] - lam (V_max[r, k] - V_min[r, k])``,
    which is ``V_min[k, r]`` only where the war's rate is the frontier's chord (e.g. one issue whose two ends are
    the two war outcomes, without a trust discount); elsewhere the line misprices the proposer's concessions.

    Sources: bargaining.md §3.6 (the exact rule); Fearon (1995) (the bargaining range between the war
    outcomes; the commitment problem behind the trust discount); Sebenius (1983) (issue linkage).
    """
    n, m = position.shape
    b = np.broadcast_to(np.asarray(baseline, dtype=float), (n, n, m))
    is_open = np.broadcast_to(np.asarray(open_issues, dtype=bool), (n, n, m))
    linked = np.asarray(linkage, dtype=bool)
    required = (linked[:, None, :] | linked[None, :, :]) & is_open
    in_dispute = (disputed | disputed.transpose(1, 0, 2)) & is_open
    scope = in_dispute | required
    a, h = settlement_bounds(lo, hi, red_low, red_high)
    low_both = np.maximum(red_low[:, None, :], red_low[None, :, :])
    high_both = np.minimum(red_high[:, None, :], red_high[None, :, :])
    keep = ~required | ((b >= low_both - RED_TOL) & (b <= high_both + RED_TOL))  # b_j: left out, or unchanged

    # Candidates [i, t, j, c]: c = 0 is b_j. Continuous: the points of P nearest p_i and p_t, and t's nearest in
    # P ∩ {x: u_i(x) >= u_i(b)}. Indivisible: the allowed values in P (NaN pads are never valid).
    idx, table = allowed_table(allowed)
    width = max(4, 1 + table.shape[1])
    x = np.repeat(b[..., None], width, axis=-1)
    ok = np.zeros((n, n, m, width), dtype=bool)
    met = a <= h + RED_TOL
    a_met = np.minimum(a, h)
    p_own, p_other = position[:, None, :], position[None, :, :]
    reach = np.abs(b - p_own)
    a_tie, h_tie = np.maximum(a_met, p_own - reach), np.minimum(h, p_own + reach)
    x[..., 1:4] = np.stack([np.clip(p_own, a_met, h), np.clip(p_other, a_met, h), np.clip(p_other, a_tie, h_tie)], -1)
    ok[..., :4] = np.stack([keep, met, met, met & (a_tie <= h_tie)], -1)
    moves = met & ((np.abs(a_met - b) > RED_TOL) | (np.abs(h - b) > RED_TOL))  # P holds more than b_j
    if idx.size:
        k = table.shape[1]
        fits = (table >= a[..., idx, None] - RED_TOL) & (table <= h[..., idx, None] + RED_TOL)  # (n, n, q, k)
        x[..., idx, :] = b[..., idx, None]
        x[..., idx, 1 : 1 + k] = table
        ok[..., idx, :] = False
        ok[..., idx, 0] = keep[..., idx]
        ok[..., idx, 1 : 1 + k] = fits
        moves[..., idx] = np.any(fits & (np.abs(table - b[..., idx, None]) > RED_TOL), axis=-1)
    x = np.where(ok, x, b[..., None])  # invalid candidates (NaN pads, empty sets at +-inf) are never read

    # Each side's trust-discounted change on each candidate, i's ("own") and t's ("other": t's own change on the
    # candidates of the pair seen from t, swapped back), and i's favourite: its greatest change, ties to t's.
    u_base = issue_utilities(baseline[None, :], position, salience, risk)  # (n, m)
    r = np.broadcast_to(np.asarray(risk, dtype=float), (n,))
    kappa = np.asarray(compliance, dtype=float)[:, None]
    pos, sal, base = (v[:, None, :, None] for v in (position, salience, u_base))

    def changes(cand: Array) -> Array:
        """``omega (u(x) - u(b))`` of actor ``a`` for candidates ``cand[a, o, j, c]``, ``omega`` on ``a``'s trust
        in ``o``."""
        gain = -sal * np.abs(cand - pos) ** r[:, None, None, None] - base
        return discounted_gains(gain, kappa, trust[:, :, None, None])

    own = changes(x)
    other = changes(x.swapaxes(0, 1)).swapaxes(0, 1)
    own = np.where(ok, own, -np.inf)
    top = ok & (own >= own.max(axis=-1, keepdims=True) - TIE_TOL)
    pick = np.argmax(np.where(top, other, -np.inf), axis=-1)[..., None]

    def chosen(values: Array) -> Array:
        return np.where(scope, np.take_along_axis(values, pick, axis=-1)[..., 0], 0.0)

    has_option = ok.any(axis=-1)
    feasible = (in_dispute & moves).any(axis=-1) & (~required | has_option).all(axis=-1) & ~np.eye(n, dtype=bool)
    U = u_base.sum(axis=-1)
    status_quo = np.broadcast_to(U[:, None], (n, n))
    V_max = np.where(feasible, U[:, None] + chosen(own).sum(axis=-1), status_quo)
    V_min = np.where(feasible, (U[None, :] + chosen(other).sum(axis=-1)).T, status_quo)  # feasible is symmetric
    package = np.where(feasible[..., None] & scope, np.take_along_axis(x, pick, axis=-1)[..., 0], b)
    return Frontier(V_max, V_min, exchange_rate(G, L, V_max - V_min), feasible, package)
