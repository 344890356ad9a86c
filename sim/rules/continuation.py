"""The value of continuing a crisis, derived (docs/design/bargaining.md §3.6; pure part of step 6, not wired).

Actors look one meeting ahead (``sim.rules.meetings``): after the pair's next meeting the crisis ends in the
fallback ``F`` (attack, or keep the status quo while the other side may attack). At the meeting one side
proposes to the other and screens the responder's private cost (``sim.rules.screening``). This module values
the fallback, the continuation ``C`` (the value of not attacking now, for a proposer and for a responder, who
takes the expectation over the proposer's type) and the responder's cut-off at the table: a rejection truncates
the proposer's posterior at the responder's cut-off (design §3.4), which the responder anticipates
(``keep_value``, ``keep_table``, ``table_cutoff``; the learning from rejected offers of Slantchev 2003 and Powell
2004, inspired by).

Notation (indices as in the design): the pair ``(i, t)``; ``k`` the proposer and ``r`` the responder at the
meeting; ``y`` a cut-off in the responder's dyadic cost; ``S(y)`` the proposer's posterior survival of it;
``F`` a fallback; ``V`` values of settlements. Arrays broadcast by numpy's rules; shapes are those of the
caller (``(n, n)`` for every pair, with extra axes for types or values).

Pure numpy functions and small frozen dataclasses; no Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Self

import numpy as np

from sim.rules.screening import ArrayLike, Posterior, Screen, expand, optimal_cutoff
from sim.rules.utility import Array

QUANTILE_CELLS = 64  # expectations over a proposer's types where no closed form gives the breakpoints (§3.6)
TYPE_POINTS = 1025  # the grid of own types on which a side's reservation at the table is tabulated (§3.6)


# --- fallbacks -------------------------------------------------------------------------------------------------


def fallback(
    W_att: ArrayLike,
    W_def: ArrayLike,
    c_bar: ArrayLike,
    c: ArrayLike,
    u_base_sum: ArrayLike,
    attack_belief: ArrayLike,
    can_attack: Array | bool,
    can_wait: Array | bool = True,
) -> Array:
    """``F_it(c)``, what ``i`` of dyadic cost ``c`` gets if talks fail (design §3.6, "Fallbacks"):

        F_it(c) = max( W^a_it - c_bar_it(c)                            if i can attack t (G_it > 0),
                       U_i(b) - pi_ti (U_i(b) - W^d_it + c_it) )         keep the status quo; t attacks w.p. pi_ti

    ``W_def[i, t]`` is ``i``'s value of the war ``t`` starts (``coalitions.war_values``' order), ``u_base_sum``
    ``U_i(b)`` (pass ``u_base_sum[:, None]`` against ``(n, n)`` arrays), ``attack_belief[i, t] = pi_ti``, ``i``'s
    belief that ``t`` would attack (0 if ``G_ti = 0``). Per type: ``c`` (own dyadic cost) and ``c_bar`` (the
    expected war cost at that type) broadcast with the rest, e.g. ``c`` of shape ``(n, n, K)`` against pair
    arrays ``[..., None]``. ``can_wait`` False drops the second option: the proposer at an ultimatum, whose
    rejection is war (ODD 7.8). At least one option must exist.

    Source: Fearon (1995), war as a costly lottery against the status quo; the second option (the other side's
    attack as a risk) is this design's.
    """
    attack = np.where(can_attack, np.asarray(W_att, dtype=float) - c_bar, -np.inf)
    base = np.asarray(u_base_sum, dtype=float)
    wait = np.where(can_wait, base - np.asarray(attack_belief, dtype=float) * (base - W_def + np.asarray(c)), -np.inf)
    return np.maximum(attack, wait)


@dataclass(frozen=True)
class FallbackTerms:
    """The inputs of ``fallback`` for one side against the other, as a function of the side's own cost ``c``.

    The expected war cost is affine in the own cost, ``c_bar(c) = c_bar0 + c_bar1 c``: ``c_bar = c`` without
    costlier defender dyads (the defaults), and affine with them too for uniform priors, because every
    dyadic cost is affine in the type quantile ``q`` and the rubric rows are nested (each row's bounds above the
    next row's), so the maximum in ``coalitions.expected_war_cost`` picks the same dyads for every ``q``. The
    caller passes the line through ``c_bar`` at two types.
    """

    W_att: ArrayLike
    W_def: ArrayLike
    u_base: ArrayLike
    attack_belief: ArrayLike
    can_attack: Array | bool
    can_wait: Array | bool = True
    c_bar0: ArrayLike = 0.0
    c_bar1: ArrayLike = 1.0

    def at(self, c: ArrayLike) -> Array:
        """``F(c)`` (``fallback``)."""
        c_bar = self.c_bar0 + np.asarray(self.c_bar1) * c
        return fallback(
            self.W_att, self.W_def, c_bar, c, self.u_base, self.attack_belief, self.can_attack, self.can_wait
        )

    def attack_now(self, c: ArrayLike) -> Array:
        """``W^a - c_bar(c)`` where the side can attack, else ``-inf``."""
        return np.where(
            self.can_attack, np.asarray(self.W_att, dtype=float) - self.c_bar0 - np.asarray(self.c_bar1) * c, -np.inf
        )

    def at_meeting(self, ultimatum: Array | bool, proposes: Array | bool) -> FallbackTerms:
        """The fallback that applies if the meeting fails. At an ultimatum rejection is war (ODD 7.8, unchanged):
        the proposer's fallback is ``W^a - c_bar``, the responder's ``W^d - c`` (``pi = 1``, no attack option);
        elsewhere the general ``F``."""
        ult, prop = np.asarray(ultimatum, dtype=bool), np.asarray(proposes, dtype=bool)
        return replace(
            self,
            can_attack=np.where(ult, prop, self.can_attack),
            can_wait=np.where(ult, ~prop, self.can_wait),
            attack_belief=np.where(ult & ~prop, 1.0, self.attack_belief),
        )

    def lines(self) -> tuple[Array, Array]:
        """``F(c) = max_j (alpha_j - beta_j c)``: intercepts and slopes of the attack and the status-quo options
        on a trailing axis of 2 (``alpha = -inf`` for an option that does not exist)."""
        pi, base = np.asarray(self.attack_belief, dtype=float), np.asarray(self.u_base, dtype=float)
        a_att = np.where(self.can_attack, np.asarray(self.W_att, dtype=float) - self.c_bar0, -np.inf)
        a_wait = np.where(self.can_wait, base - pi * (base - self.W_def), -np.inf)
        a_att, a_wait, b_att, b_wait = np.broadcast_arrays(a_att, a_wait, np.asarray(self.c_bar1, dtype=float), pi)
        return np.stack([a_att, a_wait], axis=-1), np.stack([b_att, b_wait], axis=-1)

    def expanded(self) -> Self:
        return replace(self, **{f.name: expand(getattr(self, f.name)) for f in fields(self)})


# --- the continuation ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """One side of a dyad as the continuation reads it, for the pair's next meeting (fields broadcast)."""

    fallback: FallbackTerms  # its F against the other side, as a function of its own cost
    screen: Screen  # the game at the meeting if it proposes (the other's offer map for the meeting's format)
    belief: Posterior  # its posterior on the other side's dyadic cost
    holding_rate: ArrayLike  # kappa: holding its rung costs kappa * c per day (mu sc(rho)/sc(w), design §3.3)

    def expanded(self) -> Self:
        return Party(
            self.fallback.expanded(), self.screen.expanded(), self.belief.expanded(), expand(self.holding_rate)
        )


def continuation_value(
    c: ArrayLike,
    own: Party,
    other: Party,
    days: ArrayLike,
    meets: Array | bool,
    proposes: Array | bool,
    ultimatum: Array | bool,
) -> Array:
    """``C_it(c)``, the value of not attacking now for ``i`` (``own``) of dyadic cost ``c`` facing ``t``
    (``other``), with the pair's next meeting (``next_meetings``: ``days``, ``meets``, ``proposes`` = ``i``
    proposes there, ``ultimatum``) (design §3.6, "Continuation"):

        C_it(c) = -d_it h_it(c) + S^i_t(y*) V_i(y*) + (1 - S^i_t(y*)) F_it(c)       i proposes
                = -d_it h_it(c) + E_{c_t ~ i's belief}[ max(v_i(y*(c_t)) - a_i, F_it(c)) ]   t proposes
                = -d_it h_it(c) + F_it(c)                                       no meeting (d = one step)

    ``h_it(c) = kappa c`` (design §3.3). ``F`` inside the bracket is the fallback of the meeting's format
    (``FallbackTerms.at_meeting``); ``y*(c_t)`` is ``t``'s ``optimal_cutoff`` on its posterior on ``i``'s cost at
    ``t``'s fallback ``F_ti(c_t)``. ``v_i - a_i`` is what accepting is worth to ``i`` net of its audience cost
    (``Offer.offered``): the design writes ``max(v_i(y*), F)``, with the audience cost inside as in §4c
    ("``max(-1 - a, -p - c)``").

    The talks' worth, ``option = C + d h - F``, is ``>= 0`` without a meeting and at any meeting that is not an
    ultimatum, and 0 where the frontier is infeasible (the meeting settles nothing: ``C = -d h + F``, any format).
    At an ultimatum the bracket's fallback is war (``W^d - c`` for the responder, ``W^a - c_bar`` for the
    proposer), which can be worth less than ``F``, so there the option can be negative: the design's
    ``option >= 0`` holds off ultimatums only. ``c`` may carry extra axes of types (broadcast with the pair's
    arrays).

    The expectation over ``t``'s type is exact (``responder_value``) where ``t``'s cut-off has a closed form
    (uniform or point posterior on ``i``, or a finite offer set); on a triangular posterior it uses 64
    equal-probability cells of ``t``'s type.

    Sources: Fearon (1995), Powell (1996), Fearon (1998) (the shadow of the future, here derived).
    """
    c = np.asarray(c, dtype=float)
    ult, prop, meets = (np.asarray(x, dtype=bool) for x in (ultimatum, proposes, meets))
    hold = np.asarray(days, dtype=float) * own.holding_rate * c
    bracket = own.fallback.at(c)
    # A meeting whose frontier is infeasible settles nothing: C = F (design §3.6), whatever its format.
    mine = meets & prop & np.asarray(own.screen.feasible, dtype=bool)
    theirs = meets & ~prop & np.asarray(other.screen.feasible, dtype=bool)
    if np.any(mine):
        F_prop = own.fallback.at_meeting(ult, True).at(c)
        bracket = np.where(mine, F_prop + optimal_cutoff(own.screen, own.belief, F_prop).gain, bracket)
    if np.any(theirs):
        F_resp = own.fallback.at_meeting(ult, False).at(c)
        value = responder_value(F_resp, other.screen, other.belief, other.fallback.at_meeting(ult, True), own.belief)
        bracket = np.where(theirs, value, bracket)
    return -hold + bracket


def _fallback_breaks(screen: Screen, belief: Posterior, F_own: Array) -> tuple[Array, Array]:
    """Values of the proposer's fallback ``f`` at which the responder's payoff ``max(v(y*(f)) - a, F_own)``
    changes form (a superset), on a trailing axis, and where they are complete.

    Continuous offers, closed form: ``y*(f) = clip(clip(y0(f), l, h), y_lo, y_hi)`` with
    ``y0(f) = h/2 - (V_k(0) - f)/(2b)``; it bends where ``y0(f) = z``, i.e. ``f = V_k(0) - b (h - 2z)``, for
    ``z`` in ``{l, h, y_lo, y_hi}`` and at the responder's indifference ``z = (reservation - F_own)/pi``; the
    deal ends where ``f = V_k(0) + b z`` with ``y*`` held at a bound ``z``. Finite offers: the best offer
    changes where two of the lines ``S_j (V_j - f)`` cross, ``f = (S_j V_j - S_l V_l)/(S_j - S_l)``, and the
    deal ends at ``f = V_j``. Triangular posteriors have no closed form: incomplete.
    """
    if screen.offers is not None:
        y, value, _ = screen.offer_cutoffs()
        S = belief.expanded().survival(y)
        Sj, Sl = S[..., :, None], S[..., None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = (Sj * value[..., :, None] - Sl * value[..., None, :]) / (Sj - Sl)
        breaks = np.concatenate([cross.reshape(*cross.shape[:-2], -1), value], axis=-1)
        return breaks, np.ones(breaks.shape[:-1], dtype=bool)
    v0, b = screen.value0(), np.asarray(screen.lam) * np.asarray(screen.slope)
    y_lo, y_hi = screen.bounds()
    ell, h = belief.support()
    pi = np.asarray(screen.slope, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_own = np.where(pi > 0.0, (np.asarray(screen.reservation) - F_own) / np.where(pi > 0.0, pi, 1.0), np.nan)
        z = np.stack(np.broadcast_arrays(ell, h, y_lo, y_hi, y_own), axis=-1)
        breaks = np.concatenate([expand(v0) - expand(b) * (expand(h) - 2.0 * z), expand(v0) + expand(b) * z], -1)
    return breaks, belief.linear_survival()


def responder_value(
    F_own: ArrayLike, screen: Screen, belief: Posterior, proposer: FallbackTerms, proposer_belief: Posterior
) -> Array:
    """``E_{c_k}[ max(v_r(y*(c_k)) - a_r, F_own) ]``: the responder's value of a meeting at which ``k`` proposes
    (design §3.6), over ``k``'s type ``c_k`` under the responder's posterior ``proposer_belief``. ``screen`` is
    ``k``'s game, ``belief`` ``k``'s posterior on the responder, ``proposer`` ``k``'s fallback at the meeting
    (``F_kr(c_k)``), ``F_own`` the responder's fallback at its own type(s).

    Exact, by cells: the payoff depends on ``c_k`` only through ``f = F_kr(c_k)``, and between the breakpoints
    of ``_fallback_breaks`` it is linear in ``f`` (constant for finite offers); ``f = max_j(alpha_j - beta_j
    c_k)`` is non-increasing and piecewise linear in ``c_k``, so the breakpoints map to thresholds
    ``c = max_j (alpha_j - f)/beta_j`` and, with the kink of ``f``, cut ``k``'s posterior support into cells
    on which the payoff is linear in ``c_k``. On such a cell ``E[payoff | cell] = payoff(E[c_k | cell])``, the
    cell mean being exact for uniform and triangular priors (``beliefs.posterior_mean``). Where the breakpoints
    are incomplete (triangular ``belief``) ``QUANTILE_CELLS`` equal-probability cells are added, and the
    result is that quadrature. A point posterior on ``k`` (known cost) is evaluated at the point.
    """
    F_own = np.asarray(F_own, dtype=float)
    lk, hk = proposer_belief.support()
    if np.all(hk <= lk):  # the proposer's cost is known: no expectation
        offer = optimal_cutoff(screen, belief, proposer.at(lk))
        return np.maximum(offer.offered, F_own)
    breaks, complete = _fallback_breaks(screen, belief, F_own)
    alpha, beta = proposer.lines()
    a, bt = alpha[..., None, :], beta[..., None, :]
    fb = breaks[..., :, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        level = np.where(bt > 0.0, (a - fb) / np.where(bt > 0.0, bt, 1.0), np.where(a >= fb, np.inf, -np.inf))
        thresholds = np.max(level, axis=-1)  # c_k at which f crosses each breakpoint
        kink = ((alpha[..., 0] - alpha[..., 1]) / (beta[..., 0] - beta[..., 1]))[..., None]
    lk, hk = expand(lk), expand(hk)
    parts = [lk, hk, thresholds, kink]
    if not np.all(complete):
        parts.append(proposer_belief.quantile_edges(QUANTILE_CELLS))
    edges = np.concatenate(
        [np.broadcast_to(p, np.broadcast_shapes(*(q.shape[:-1] for q in parts)) + p.shape[-1:]) for p in parts], -1
    )
    edges = np.sort(np.clip(np.where(np.isfinite(edges), edges, lk), lk, hk), axis=-1)
    lo, hi = edges[..., :-1], edges[..., 1:]
    post = proposer_belief.expanded()
    weight = post.survival(lo) - post.survival(hi)
    means = np.where(hi > lo, post.cell_means(lo, hi), lo)
    offer = optimal_cutoff(screen.expanded(), belief.expanded(), proposer.expanded().at(means))
    payoff = np.maximum(offer.offered, expand(F_own))
    point = (hk <= lk)[..., 0]
    at_point = np.take(payoff, 0, axis=-1)  # every cell collapses to the point lk
    return np.where(point, at_point, np.sum(np.where(weight > 0.0, weight * payoff, 0.0), axis=-1))


# --- the responder's cut-off at the table ----------------------------------------------------------------------


def keep_value(
    c: ArrayLike,
    side: Party,
    proposer: Party,
    days: ArrayLike,
    meets: Array | bool,
    side_proposes: Array | bool,
    next_ultimatum: Array | bool,
    teaches: bool = True,
) -> Array:
    """``R_sk(c)``: what type ``c`` of side ``s`` keeps by rejecting ``k``'s package at a non-ultimatum venue,
    when the rejection tells ``k`` that ``c_s < c`` (design §3.6, the right side of the cut-off's equation):

        R_sk(c) = max( C_sk(c; [q_lo, G(c))),  W^a_sk - c_bar_sk(c) )

    ``C`` is ``continuation_value`` at the pair's next meeting after this venue (``days``, ``meets``,
    ``side_proposes``, ``next_ultimatum``) with ``k``'s posterior on ``s`` (``proposer.belief``) truncated below
    ``c``, or as it is where the rejection teaches ``k`` nothing (``teaches`` False: red lines private, a
    responder whose policy does not reveal its type, a proposer whose policy does not learn); the attack option
    counts only if ``s`` can attack ``k``. ``c`` may carry a trailing axis of types
    (pass expanded parties). Type ``c`` accepts a package worth ``V`` iff ``V - audience >= R_sk(c)``; the
    indifferent type is the cut-off. Sources: Fearon (1995); Slantchev (2003) and Powell (2004) (learning from
    rejected offers), inspired by.
    """
    other = replace(proposer, belief=proposer.belief.truncated_below(c)) if teaches else proposer
    C = continuation_value(c, side, other, days, meets, side_proposes, next_ultimatum)
    return np.maximum(C, side.fallback.attack_now(c))


def keep_table(keep: Array) -> Array:
    """The reservation a side answers by, tabulated on an increasing grid of its own types (trailing axis) from
    ``keep = keep_value(types, ...)``: the running minimum

        R~(c_g) = min_{g' <= g} R(c_g')

    so that it never rises with the type. The design's derivation has ``R`` falling in ``c`` (own costs rise
    with ``c``); the truncation can pull the other way (a tougher-looking responder is offered more), and where
    it would the running minimum keeps the answer a cut-off: type ``c`` accepts iff ``V >= R~(c)`` iff
    ``c >= theta(V)`` (``table_cutoff``), which is what lets observers learn by Bayes' rule from the answer."""
    return np.minimum.accumulate(np.asarray(keep, dtype=float), axis=-1)


def table_reservation(types: Array, table: Array, c: ArrayLike) -> Array:
    """``R~(c)``: the tabulated reservation (``keep_table``) at own type(s) ``c`` by linear interpolation on
    the grid (1-d ``types``, ``table``), held at its ends outside it."""
    return np.interp(c, types, table)


def table_cutoff(types: Array, table: Array, value: ArrayLike) -> Array:
    """``theta(V)``, the least type that accepts a package worth ``V`` (net of audience costs) by the tabulated
    reservation: the generalised inverse of the piecewise-linear ``R~``,

        theta(V) = min { c : R~(c) <= V },

    so that ``c >= theta(V)`` iff ``V >= R~(c)`` (``table_reservation``). ``-inf`` where every type accepts
    (``V >= R~(c_0)``), ``+inf`` where none does (``V < R~(c_G)``). 1-d ``types``, ``table``; ``value`` any
    shape. Design §3.6 tabulates ``theta`` on a grid of values by bisection; tabulating ``R~`` on a grid of
    types and inverting it gives the same piecewise-linear cut-off map from one evaluation instead of forty."""
    v = np.asarray(value, dtype=float)
    j = np.clip(np.searchsorted(-table, -v, side="left"), 1, len(table) - 1)  # first grid point with R~ <= V
    r0, r1, c0, c1 = table[j - 1], table[j], types[j - 1], types[j]
    # Inside the table r0 > V >= r1; elsewhere the outer cases decide and the ratio is never used.
    inner = c0 + (r0 - v) / np.where(r0 > r1, r0 - r1, 1.0) * (c1 - c0)
    return np.where(v >= table[0], -np.inf, np.where(v < table[-1], np.inf, inner))
