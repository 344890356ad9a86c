"""The proposer's screening offer at the meeting (docs/design/bargaining.md §3.6; pure part of step 6, not wired).

At the pair's next meeting one side proposes to the other on the scalar frontier of the dyad game, screening
the responder's private cost: the responder of cost ``c`` accepts an offer iff ``c`` is at least a cut-off
``y``, so the proposer chooses the cut-off on its posterior (Fearon 1995's risk-return trade-off; Powell 1996's
screening offers). This module holds the posterior the proposer screens on (``Posterior``), the game at the
meeting (``Screen``) and the proposer's choice (``optimal_cutoff``); the continuation that reads them is
``sim.rules.continuation``.

Notation (indices as in the design): ``k`` the proposer and ``r`` the responder at the meeting; ``y`` a cut-off
in the responder's dyadic cost; ``S(y)`` the proposer's posterior survival of it; ``F`` a fallback; ``V``
values of settlements. Arrays broadcast by numpy's rules; shapes are those of the caller (``(n, n)`` for every
pair, with extra axes for types or values).

Pure numpy functions and small frozen dataclasses; no Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Self

import numpy as np

from sim.rules.beliefs import cdf, posterior_mean, posterior_survival, quantile
from sim.rules.utility import Array

ArrayLike = Array | float


def expand(value: object) -> object:
    """``value`` with a trailing axis of length 1 (for an extra axis of types, cells or values)."""
    return np.asarray(value)[..., None]


# --- the proposer's posterior ----------------------------------------------------------------------------------


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
        return quantile(*(expand(a) for a in (self.kind, self.low, self.mode, self.high)), u)

    def expanded(self) -> Self:
        return replace(self, **{f.name: expand(getattr(self, f.name)) for f in fields(self)})


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
        pi, r0 = expand(np.asarray(self.slope, dtype=float)), expand(self.reservation)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(pi > 0.0, (r0 - net) / np.where(pi > 0.0, pi, 1.0), np.where(net >= r0, -np.inf, np.inf))
        return y, expand(self.v_max) - expand(self.lam) * (v - expand(self.v_min_r)), net

    def expanded(self) -> Self:
        """A trailing axis on every field (before the offers' own axis)."""
        if self.offers is None:
            return replace(self, **{f.name: expand(getattr(self, f.name)) for f in fields(self) if f.name != "offers"})
        out = {f.name: expand(getattr(self, f.name)) for f in fields(self) if f.name not in ("offers", "audience")}
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
    which matters where a cut-off is solved for.) *Finite offers* (``screen.offers``): the best element.

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
