"""The value of continuing a crisis, derived (docs/design/bargaining.md §3.6; pure part of step 6, not wired).

Actors look one meeting ahead: after the pair's next meeting the crisis ends in the fallback ``F`` (attack, or
keep the status quo while the other side may attack). At the meeting one side proposes to the other on the
scalar frontier of the dyad game, screening the responder's private cost: the responder of cost ``c`` accepts
an offer iff ``c`` is at least a cut-off ``y``, so the proposer chooses the cut-off (Fearon 1995's
risk-return trade-off; Powell 1996's screening offers). A rejection at the table truncates the proposer's
posterior at the responder's cut-off (design §3.4), which the responder anticipates (``cutoff_map``; the
learning from rejected offers of Slantchev 2003 and Powell 2004, inspired by).

Notation (indices as in the design): the pair ``(i, t)``; ``k`` the proposer and ``r`` the responder at the
meeting; ``y`` a cut-off in the responder's dyadic cost; ``S(y)`` the proposer's posterior survival of it;
``F`` a fallback; ``V`` values of settlements. Arrays broadcast by numpy's rules; shapes are those of the
caller (``(n, n)`` for every pair, with extra axes for types or values).

Pure numpy functions and small frozen dataclasses; no Mesa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Self

import numpy as np

from sim.rules.beliefs import cdf, posterior_mean, posterior_survival, quantile
from sim.rules.utility import Array

ArrayLike = Array | float

QUANTILE_CELLS = 64  # expectations over a proposer's types where no closed form gives the breakpoints (§3.6)
VALUE_POINTS = 1025  # the grid of package values on which the responder's cut-off is tabulated (§3.6)
BISECTIONS = 40  # halvings of the prior's support: the cut-off to 2^-40 (1e-12) of its width


def _expand(value: object) -> object:
    """``value`` with a trailing axis of length 1 (for an extra axis of types, cells or values)."""
    return np.asarray(value)[..., None]


# --- the next meeting ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextMeeting:
    """For every ordered pair ``(i, t)``: the pair's next meeting (design §3.6). Arrays ``(n, n)``; the
    diagonal has no meeting."""

    days: Array  # days until it; step_days (the next decision) where there is none
    exists: Array  # bool
    ultimatum: Array  # bool: the meeting is an ultimatum (rejection is war)
    proposer: Array  # int: the pair's proposer there (i or t); -1 where there is no meeting


def next_meetings(
    venue_steps: Sequence[int] | Array,
    venue_participants: Array,
    venue_proposers: Sequence[Sequence[int]],
    venue_ultimatum: Sequence[bool] | Array,
    now: int,
    step_days: float,
    same_day: bool = False,
) -> NextMeeting:
    """The first venue at step ``> now`` (``>= now`` with ``same_day``) at which one of the pair proposes to the
    other (design §3.6, "the next meeting"):

        exists_it = any venue v, step_v >= now (> now), with i, t in v and a proposer of v among {i, t}
        days_it   = (step_v - now) * step_days for the first such v, else step_days (the next decision)
        proposer_it = the one of i, t that comes first in v's proposing order

    Venues are given in the order they are held. ``venue_participants`` is ``(V, n)`` bool; ``venue_proposers``
    lists each venue's proposing order, chair first (``venues.hold``: every participant in turn, chair first);
    an ``offer`` venue (validation only, design §4) lists its chair alone. At an ultimatum only the chair
    proposes (``venue_ultimatum``), so only the first entry is read there.

    *A table answer* looks past the venue being held, same day included (design §3.6): pass the venues after
    it with ``same_day=True``. *A ladder decision* at step ``now`` comes after the day's venues: ``same_day``
    False.

    *An ultimatum or an offer whose chair is neither i nor t* is not the pair's meeting: nobody there can
    table a package from one of them to the other, so the bilateral game of §3.6 has no proposer. It is
    skipped and the pair's next meeting is the first later venue where one of them proposes. (Treating it as
    a meeting that settles nothing would make ``C = F`` until after it and hide a later bilateral meeting
    from the one-meeting lookahead; what the chair's package does to the pair is outside the bilateral
    reduction.)
    """
    steps = np.asarray(venue_steps, dtype=int)
    part = np.asarray(venue_participants, dtype=bool)
    n = part.shape[1]
    idx = np.arange(n)
    days = np.full((n, n), float(step_days))
    exists = np.zeros((n, n), dtype=bool)
    ultimatum = np.zeros((n, n), dtype=bool)
    proposer = np.full((n, n), -1, dtype=int)
    # Latest venue first, so that each earlier venue overwrites: the first one held wins.
    for v in reversed(range(steps.size)):
        if steps[v] < now or (steps[v] == now and not same_day):
            continue
        ult = bool(np.asarray(venue_ultimatum)[v])
        order = list(venue_proposers[v])[:1] if ult else list(venue_proposers[v])
        rank = np.full(n, np.inf)
        for place, actor in enumerate(order):
            rank[actor] = min(rank[actor], place)
        meet = part[v][:, None] & part[v][None, :] & np.isfinite(np.minimum(rank[:, None], rank[None, :]))
        meet &= idx[:, None] != idx[None, :]
        days[meet] = (steps[v] - now) * step_days
        exists[meet] = True
        ultimatum[meet] = ult
        proposer[meet] = np.where(rank[:, None] < rank[None, :], idx[:, None], idx[None, :])[meet]
    return NextMeeting(days, exists, ultimatum, proposer)


# --- beliefs and fallbacks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posterior:
    """A posterior on a cost: the prior ``(kind, low, mode, high)`` truncated to the quantile interval
    ``[q_lo, q_hi]`` (design §3.4; ``sim.rules.beliefs``). Fields broadcast."""

    kind: Array | str
    low: ArrayLike
    mode: ArrayLike
    high: ArrayLike
    q_lo: ArrayLike = 0.0
    q_hi: ArrayLike = 1.0

    def survival(self, y: ArrayLike) -> Array:
        """``S(y) = P(c >= y)`` under the posterior (``beliefs.posterior_survival``)."""
        return posterior_survival(self.kind, self.low, self.mode, self.high, self.q_lo, self.q_hi, y)

    def support(self) -> tuple[Array, Array]:
        """``(l, h) = (F^{-1}(q_lo), F^{-1}(q_hi))``, the posterior's support in cost units."""
        return (
            quantile(self.kind, self.low, self.mode, self.high, self.q_lo),
            quantile(self.kind, self.low, self.mode, self.high, self.q_hi),
        )

    def prior_support(self) -> tuple[Array, Array]:
        """``(L, H)``, the prior's support (a point for a fixed cost)."""
        return (
            quantile(self.kind, self.low, self.mode, self.high, 0.0),
            quantile(self.kind, self.low, self.mode, self.high, 1.0),
        )

    def linear_survival(self) -> Array:
        """Where ``S`` is linear on the support (uniform prior) or the posterior is a point: the closed forms."""
        lo, hi = self.support()
        return (np.asarray(self.kind) != "triangular") | (hi <= lo)

    def truncated_below(self, theta: ArrayLike) -> Posterior:
        """The posterior after observing ``c < theta`` (a rejection at cut-off ``theta``; ``beliefs.observe``):
        ``q_hi <- min(q_hi, G(theta))``, kept at least ``q_lo`` (an empty event leaves a point belief at the
        lower end, the limit of the truncation)."""
        g = cdf(self.kind, self.low, self.mode, self.high, theta)
        return replace(self, q_hi=np.clip(g, self.q_lo, self.q_hi))

    def cell_means(self, lo: Array, hi: Array) -> Array:
        """``E[c | lo <= c < hi]`` under the posterior, exact (``beliefs.posterior_mean`` on the quantile cell)."""
        q_a, q_b = (np.clip(cdf(self.kind, self.low, self.mode, self.high, e), self.q_lo, self.q_hi) for e in (lo, hi))
        return posterior_mean(self.kind, self.low, self.mode, self.high, q_a, q_b)

    def quantile_edges(self, cells: int) -> Array:
        """The edges of ``cells`` equal-probability cells of the posterior, in cost units (trailing axis)."""
        q_lo, q_hi = np.asarray(self.q_lo, dtype=float)[..., None], np.asarray(self.q_hi, dtype=float)[..., None]
        u = q_lo + np.arange(cells + 1) / cells * (q_hi - q_lo)
        return quantile(*(_expand(a) for a in (self.kind, self.low, self.mode, self.high)), u)

    def expanded(self) -> Self:
        return replace(self, **{f.name: _expand(getattr(self, f.name)) for f in fields(self)})


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
        return replace(self, **{f.name: _expand(getattr(self, f.name)) for f in fields(self)})


# --- the proposer's cut-off ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """The scalar dyad game at the meeting, proposer ``k`` and responder ``r`` (design §3.6), as plain inputs.

    The frontier (``v_max`` = ``V_k^max``, ``v_min_r``, ``v_max_r`` = ``r``'s ends, ``lam`` = ``lambda_kr``,
    ``feasible``; built from spoils and red lines by the caller) and the responder's offer map

        v_r(y) = reservation + audience - slope * y,   reservation = U_r(b) - pi (U_r(b) - W^d_rk),  slope = pi

    (``pi = 1`` at an ultimatum, ``pi_kr`` elsewhere; ``audience`` = ``a_rk A_rk`` if the offer is a
    concession): ``r`` of cost ``c`` accepts an offer worth ``v`` iff ``v - audience >= reservation - pi c``, so
    ``v_r(y)`` is the offer that type ``y`` is indifferent about. The proposer's value of it is
    ``V_k(y) = v_max - lam (v_r(y) - v_min_r) = V_k(0) + lam pi y``. ``offers`` (trailing axis, NaN padded):
    a finite offer set, ``r``'s values of the allowed packages (indivisible issues); ``None``: continuous. With
    offers, ``audience`` broadcasts against them (its last axis is theirs: pass ``a[..., None]`` for one cost
    per pair), since only a concession carries it (design §3.5; §4c: backing down to the status quo does not).
    """

    v_max: ArrayLike
    v_min_r: ArrayLike
    v_max_r: ArrayLike
    lam: ArrayLike
    feasible: Array | bool
    reservation: ArrayLike
    slope: ArrayLike
    audience: ArrayLike = 0.0
    offers: Array | None = None

    def value0(self) -> Array:
        """``V_k(0) = V_k^max - lambda (v_r(0) - V_r^min)``."""
        return self.v_max - np.asarray(self.lam) * (np.asarray(self.reservation) + self.audience - self.v_min_r)

    def bounds(self) -> tuple[Array, Array]:
        """``Y = {y: V_r^min <= v_r(y) <= V_r^max}``, continuous: ``[(v_r(0) - V_r^max)/pi, (v_r(0) - V_r^min)/pi]``.
        With ``pi = 0`` every ``y`` gives the same offer: ``Y`` is the whole line if it is feasible, else empty
        (returned as ``(inf, -inf)``)."""
        pi = np.asarray(self.slope, dtype=float)
        v0 = np.asarray(self.reservation) + self.audience
        safe = np.where(pi > 0.0, pi, 1.0)
        inside = (v0 >= self.v_min_r) & (v0 <= self.v_max_r)
        lo = np.where(pi > 0.0, (v0 - self.v_max_r) / safe, np.where(inside, -np.inf, np.inf))
        hi = np.where(pi > 0.0, (v0 - self.v_min_r) / safe, np.where(inside, np.inf, -np.inf))
        return lo, hi

    def offer_cutoffs(self) -> tuple[Array, Array, Array]:
        """For a finite offer set: each offer's cut-off ``y_j = (reservation - (v_j - a_j)) / pi`` (with
        ``pi = 0``: ``-inf`` if every type accepts it, ``+inf`` if none does), its value to the proposer
        ``V_k,j = V_k^max - lam (v_j - V_r^min)`` and its net value to the responder ``v_j - a_j``."""
        v = np.asarray(self.offers, dtype=float)
        net = v - self.audience
        pi, r0 = _expand(np.asarray(self.slope, dtype=float)), _expand(self.reservation)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(pi > 0.0, (r0 - net) / np.where(pi > 0.0, pi, 1.0), np.where(net >= r0, -np.inf, np.inf))
        return y, _expand(self.v_max) - _expand(self.lam) * (v - _expand(self.v_min_r)), net

    def expanded(self) -> Self:
        """A trailing axis on every field (before the offers' own axis)."""
        if self.offers is None:
            return replace(self, **{f.name: _expand(getattr(self, f.name)) for f in fields(self) if f.name != "offers"})
        out = {f.name: _expand(getattr(self, f.name)) for f in fields(self) if f.name not in ("offers", "audience")}
        audience = np.asarray(self.audience)
        audience = audience[..., None, :] if audience.ndim else audience
        return replace(self, offers=np.asarray(self.offers)[..., None, :], audience=audience, **out)


@dataclass(frozen=True)
class Offer:
    """The proposer's choice (``optimal_cutoff``). Where no offer worth making would be accepted (no deal), the
    cut-off is ``+inf``, the acceptance 0, the value the fallback and the offered value ``-inf``."""

    cutoff: Array  # y*: responder types c >= y* accept (-inf: every type, with pi = 0)
    accept: Array  # S(y*)
    value: Array  # V_k(y*) on a deal, F where there is none
    offered: Array  # v_r(y*) - audience: what accepting is worth to the responder (reservation - pi y* if continuous)
    gain: Array  # S(y*) (V_k(y*) - F) >= 0: what the proposer's talks are worth


def _settle(screen: Screen, belief: Posterior, F: Array, y: Array, value: Array, offered: Array) -> Offer:
    """The ``Offer`` at cut-off ``y``; no deal where infeasible, accepted by nobody, or worse than ``F``."""
    S = belief.survival(y)
    with np.errstate(invalid="ignore"):
        gain = S * (value - F)
    deal = np.asarray(screen.feasible, dtype=bool) & (S > 0.0) & (gain >= 0.0)
    return Offer(
        cutoff=np.where(deal, y, np.inf),
        accept=np.where(deal, S, 0.0),
        value=np.where(deal, value, F),
        offered=np.where(deal, offered, -np.inf),
        gain=np.where(deal, gain, 0.0),
    )


def optimal_cutoff(screen: Screen, belief: Posterior, fallback: ArrayLike) -> Offer:
    """The proposer's cut-off type (design §3.6):

        y*(c_k) = argmax_{y in Y} S(y) [V_k(y) - F_kr(c_k)],   V_k(y) = V_k(0) + lam pi y

    with ``S`` the proposer's posterior survival of the responder's cost (``belief``) and ``fallback`` =
    ``F_kr(c_k)`` at the proposer's type(s). Write ``a = V_k(0) - F``, ``b = lam pi``, ``[l, h]`` the support.

    *Uniform posterior (or a point), continuous Y*, closed form. ``S = (h - y)/(h - l)`` on ``[l, h]``, 1 below
    ``l``, 0 above ``h``. On ``[l, h]`` the objective ``(h - y)(a + b y)/(h - l)`` is a concave parabola with
    vertex ``y0 = h/2 - a/(2b)``; below ``l`` it is ``a + b y``, increasing; above ``h`` it is 0. So it rises up
    to ``clip(y0, l, h)`` and falls after it (where ``a + b h <= 0``, ``y0 >= h``: nothing beats the fallback),
    and its maximum over an interval ``Y = [y_lo, y_hi]`` is

        y* = clip( clip(y0, l, h), y_lo, y_hi ),

    which is the design's ``Pi_{Y cap [l, h]}(y0)`` where ``Y`` meets ``[l, h]`` (checked by tests against a
    brute-force search) and also covers ``Y`` wholly below ``l`` (``y* = y_hi``: every type accepts the least
    generous feasible offer) or above ``h`` (nobody accepts: no deal). ``b = 0`` (``lam = 0`` or ``pi = 0``) is the
    limit ``y0 = -inf`` if ``a >= 0`` (``y* = l``: the least generous offer every type accepts), else ``+inf``;
    with ``pi = 0`` the offer is ``v_r = U_r(b)`` (+ audience), made iff it beats ``F`` (the design's special case).

    *Triangular posterior*, also exact: the objective is a cubic on each side of the mode, so the maximum is at a
    root of a quadratic first-order condition, the mode or an end (``_triangular_cutoff``). (The design asks for
    the best of a 513-point grid refined by one parabola; the exact candidates cost 7 evaluations instead of 513,
    which matters inside ``cutoff_map``'s bisection.) *Finite offers* (``screen.offers``): the best element.

    A deal needs a feasible frontier, ``S(y*) > 0`` and ``V_k(y*) >= F`` (a tie settles); otherwise the proposer
    tables nothing acceptable (``Offer``'s no-deal values). Fearon's (1995) ultimatum is the case ``lam = pi = 1``,
    posterior ``[0, 1]``: ``x* = p + (H - c_A)/2`` (design §4a).

    Sources: Fearon (1995) (the risk-return trade-off of an ultimatum), Powell (1996) (screening offers).
    """
    F = np.asarray(fallback, dtype=float)
    if screen.offers is not None:
        return _best_offer(screen, belief, F)
    v0, b = screen.value0(), np.asarray(screen.lam) * np.asarray(screen.slope)
    a = v0 - F
    y_lo, y_hi = screen.bounds()
    ell, h = belief.support()
    with np.errstate(divide="ignore", invalid="ignore"):
        y0 = np.where(b > 0.0, h / 2.0 - a / (2.0 * np.where(b > 0.0, b, 1.0)), np.where(a >= 0.0, -np.inf, np.inf))
    y = np.clip(np.clip(y0, ell, h), y_lo, np.maximum(y_lo, y_hi))  # (an empty Y, pi = 0: y = inf, no deal)
    grid = ~belief.linear_survival()
    shape = np.broadcast_shapes(y.shape, grid.shape)
    y, grid = np.broadcast_to(y, shape).copy(), np.broadcast_to(grid, shape)
    if grid.any():
        pick = tuple(np.broadcast_to(np.asarray(x), shape)[grid] for x in (a, b, y_lo, y_hi, ell, h))
        post = Posterior(*(np.broadcast_to(np.asarray(getattr(belief, f.name)), shape)[grid] for f in fields(belief)))
        y[grid] = _triangular_cutoff(post, *pick)
    with np.errstate(invalid="ignore"):  # 0 * inf where Y is empty: no deal, the values are not read
        value, offered = v0 + b * y, np.asarray(screen.reservation) - np.asarray(screen.slope) * y
    return _settle(screen, belief, F, y, value, offered)


def _triangular_cutoff(belief: Posterior, a: Array, b: Array, y_lo: Array, y_hi: Array, ell: Array, h: Array) -> Array:
    """``argmax S(y)(a + b y)`` over ``Y cap [l, h]`` for triangular posteriors (1-d arrays), exactly.

    With ``w = q_hi - q_lo`` the objective is ``(q_hi - F(y))(a + b y)/w``, and ``F`` is quadratic on each side of
    the mode: ``F = u^2/K1`` with ``u = y - L``, ``K1 = (H - L)(M - L)``, and ``F = 1 - v^2/K2`` with ``v = H - y``,
    ``K2 = (H - L)(H - M)``. So the objective is a cubic on each side and its first-order condition a quadratic:

        3b u^2 + 2(a + b L) u - b q_hi K1 = 0,        3b v^2 - 2(a + b H) v + b (q_hi - 1) K2 = 0.

    The maximum is at one of their roots in ``Y cap [l, h]``, the mode, or an end. (A triangular density is
    log-concave, so its truncated survival is log-concave and the objective is unimodal where positive; the
    candidates include the one maximum.) ``Y`` wholly below ``l``: ``y_hi`` (the objective rises there); wholly
    above ``h``: ``y_lo`` (nobody accepts: no deal).
    """
    lo, hi = np.maximum(ell, y_lo), np.minimum(h, y_hi)
    L, M, H = (np.asarray(x, dtype=float) for x in (belief.low, belief.mode, belief.high))
    q_hi = np.asarray(belief.q_hi, dtype=float)
    K1, K2 = (H - L) * (M - L), (H - L) * (H - M)
    safe_b = np.where(b > 0.0, 6.0 * b, 1.0)
    A, B = a + b * L, a + b * H
    root1 = np.sqrt(np.maximum(4.0 * A**2 + 12.0 * b**2 * q_hi * K1, 0.0))
    root2 = np.sqrt(np.maximum(4.0 * B**2 - 12.0 * b**2 * (q_hi - 1.0) * K2, 0.0))
    candidates = np.stack(
        [lo, hi, M, L + (-2.0 * A + root1) / safe_b, L + (-2.0 * A - root1) / safe_b]
        + [H - (2.0 * B + root2) / safe_b, H - (2.0 * B - root2) / safe_b],
        axis=-1,
    )
    # The ends and the mode always; a root only where b > 0 (else the objective is monotone) and on its own side.
    where = np.array([0, 0, 0, 1, 1, 2, 2])  # 0: an end or the mode; 1: a root left of the mode; 2: right of it
    own_side = ((where == 1) & (candidates <= M[:, None])) | ((where == 2) & (candidates >= M[:, None]))
    valid = ((where == 0) | ((b[:, None] > 0.0) & own_side)) & (candidates >= lo[:, None]) & (candidates <= hi[:, None])
    g = belief.expanded().survival(candidates) * (a[:, None] + b[:, None] * candidates)
    best = np.take_along_axis(candidates, np.argmax(np.where(valid, g, -np.inf), axis=-1)[:, None], axis=-1)[:, 0]
    return np.where(hi < lo, np.where(y_hi < ell, y_hi, y_lo), best)


def _best_offer(screen: Screen, belief: Posterior, F: Array) -> Offer:
    """The best element of a finite offer set (``optimal_cutoff``); ties go to the first offer."""
    y, value, net = screen.offer_cutoffs()
    S = belief.expanded().survival(y)
    g = np.where(np.isnan(value), -np.inf, S * (value - F[..., None]))
    j = np.argmax(g, axis=-1)[..., None]

    def take(x: Array) -> Array:
        return np.take_along_axis(np.broadcast_to(x, g.shape), j, axis=-1)[..., 0]

    return _settle(screen, belief, F, take(y), take(value), take(net))


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
            self.fallback.expanded(), self.screen.expanded(), self.belief.expanded(), _expand(self.holding_rate)
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
        breaks = np.concatenate([_expand(v0) - _expand(b) * (_expand(h) - 2.0 * z), _expand(v0) + _expand(b) * z], -1)
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
    lk, hk = _expand(lk), _expand(hk)
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
    payoff = np.maximum(offer.offered, _expand(F_own))
    point = (hk <= lk)[..., 0]
    at_point = np.take(payoff, 0, axis=-1)  # every cell collapses to the point lk
    return np.where(point, at_point, np.sum(np.where(weight > 0.0, weight * payoff, 0.0), axis=-1))


# --- the responder's cut-off at the table ----------------------------------------------------------------------


def value_grid(v_min: ArrayLike, v_max: ArrayLike, points: int = VALUE_POINTS) -> Array:
    """``points`` equally spaced package values from ``v_min`` to ``v_max`` (trailing axis): the grid on which
    ``cutoff_map`` tabulates (design §3.6: 1,025 points)."""
    t = np.linspace(0.0, 1.0, points)
    return _expand(v_min) + t * (_expand(v_max) - _expand(v_min))


def cutoff_map(
    v_grid: Array,
    audience: ArrayLike,
    side: Party,
    proposer: Party,
    days: ArrayLike,
    meets: Array | bool,
    side_proposes: Array | bool,
    next_ultimatum: Array | bool,
    ultimatum: Array | bool,
) -> Array:
    """``theta(V)``: the cut-off of side ``s`` (``side``) answering ``k``'s (``proposer``) package worth ``V``
    (design §3.6, ``cutoff_map``); ``s`` accepts iff not blocked and ``c_sk >= theta(V)``, and ``k``'s belief that
    it accepts is ``S^k_s(theta(V))``. Tabulated on ``v_grid`` (trailing axis, ``value_grid``); the pair's
    arrays broadcast against its leading axes. ``audience`` is ``s``'s audience cost of accepting.

    *At a non-ultimatum venue* (``ultimatum`` False) the indifferent type, given that rejecting tells ``k``
    that ``c_s < theta`` and ``k``'s next offer is made on that posterior:

        V - audience = max( C_sk(theta; [q_lo, G(theta))),  W^a_sk - c_bar_sk(theta) )

    with ``C`` the ``continuation_value`` at the pair's next meeting after this venue (``days``, ``meets``,
    ``side_proposes``, ``next_ultimatum``) for own type ``theta``, ``k``'s posterior (``proposer.belief``)
    truncated at ``theta``; the attack option only if ``s`` can attack ``k``. The right side falls in
    ``theta`` (own costs rise, and a higher truncation raises ``k``'s cut-off: the truncated survival is
    log-supermodular), so the root is unique and found by vectorised bisection over the prior's support
    ``[L, H]`` of ``c_sk``: ``theta = L`` where every type accepts, just above ``H`` where none does.

    *At an ultimatum* rejection is war: ``theta(V) = W^d_sk - V + audience`` (Fearon 1995; ODD 7.7).

    Sources: Fearon (1995); Slantchev (2003) and Powell (2004) (learning from rejected offers), inspired by.
    """
    V = np.asarray(v_grid, dtype=float)
    aud, ult = _expand(audience), _expand(np.asarray(ultimatum, dtype=bool))
    fearon = _expand(side.fallback.W_def) - V + aud
    if np.all(ult):
        return np.broadcast_to(fearon, np.broadcast_shapes(fearon.shape, ult.shape)).copy()
    s, k = side.expanded(), proposer.expanded()
    args = (_expand(days), _expand(meets), _expand(side_proposes), _expand(next_ultimatum))

    def gap(theta: Array) -> Array:
        other = replace(k, belief=k.belief.truncated_below(theta))
        keep = np.maximum(continuation_value(theta, s, other, *args), s.fallback.attack_now(theta))
        return V - aud - keep

    L, H = k.belief.prior_support()
    lo, hi = (np.broadcast_to(x, np.broadcast_shapes(L.shape, V.shape)).copy() for x in (L, H))
    all_accept, none_accept = gap(lo) >= 0.0, gap(hi) < 0.0
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        up = gap(mid) >= 0.0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    L, H = np.broadcast_to(L, hi.shape), np.broadcast_to(H, hi.shape)
    theta = np.where(all_accept, L, np.where(none_accept, np.nextafter(H, np.inf), hi))
    return np.where(ult, fearon, theta)


def interpolate_cutoff(v_grid: Array, theta: Array, value: ArrayLike) -> Array:
    """``theta(V)`` at package value(s) ``value`` by linear interpolation in the table of ``cutoff_map`` on an
    equally spaced ``v_grid`` (``value_grid``); values beyond the grid take its end."""
    G = v_grid.shape[-1]
    v0, v1 = v_grid[..., :1], v_grid[..., -1:]
    x = np.asarray(value, dtype=float)[..., None]
    pos = np.clip((x - v0) / np.where(v1 > v0, v1 - v0, 1.0) * (G - 1), 0.0, G - 1)
    j = np.clip(np.floor(pos).astype(int), 0, G - 2)
    w = pos - j
    t0 = np.take_along_axis(np.broadcast_to(theta, np.broadcast_shapes(theta.shape, j.shape[:-1] + (G,))), j, -1)
    t1 = np.take_along_axis(np.broadcast_to(theta, np.broadcast_shapes(theta.shape, j.shape[:-1] + (G,))), j + 1, -1)
    return ((1.0 - w) * t0 + w * t1)[..., 0]
