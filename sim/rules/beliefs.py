"""Beliefs about private costs of war: the prior truncated to a quantile interval (design §3.4).

An actor's private cost ``c`` has a shared prior ``F`` (fixed, uniform or triangular, as in
``sim.rules.war.CostPriors``); its type is the quantile ``q = F(c)`` (design §3.3). Every
type-dependent decision is a threshold in ``c``, so each observation is an event ``q < F(theta)`` or
``q >= F(theta)``, and Bayes' rule with likelihood ``1[q in O]`` keeps the posterior of observer ``k``
about actor ``i`` equal to the prior truncated to an interval ``[q_lo, q_hi]`` (initially ``[0, 1]``).
That threshold strategies give interval (truncated-prior) posteriors is the structure of the
screening models of Fearon (1995), Powell (1996) and Slantchev (2003); the quantile-interval state
and its update are this design's form, inspired by them.

Broadcasting: every function takes the prior as ``kind`` (a string or an array of strings),
``low``, ``mode``, ``high`` and broadcasts them with its other array arguments by numpy's rules (e.g.
priors of shape ``(n,)`` against thresholds of shape ``(k, n)``). ``posterior_points`` appends one
trailing axis of length ``k``. A fixed prior (or one with ``high <= low``, which the scenario schema
forbids for the other kinds) is a point mass at ``low``: its actor has no type to learn.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

import numpy as np

from sim.rules.utility import Array

ArrayLike = Array | float


def _point(kind: Array | str, low: ArrayLike, high: ArrayLike) -> Array:
    """Where the prior is a point mass at ``low``: a fixed cost, or a degenerate span."""
    return (np.asarray(kind) == "fixed") | (np.asarray(high, dtype=float) <= np.asarray(low, dtype=float))


def cdf(kind: Array | str, low: ArrayLike, mode: ArrayLike, high: ArrayLike, y: ArrayLike) -> Array:
    """``F(y) = P(c < y)`` under the prior, the design's §3.3 CDF:

        uniform U[L, H]:       F(y) = clip((y - L) / (H - L), 0, 1)
        triangular (L, M, H):  F(y) = (y - L)^2 / ((H - L)(M - L))        for L < y <= M
                               F(y) = 1 - (H - y)^2 / ((H - L)(H - M))    for M < y < H
                               (0 at y <= L, 1 at y >= H)
        fixed at L:            F(y) = 1[y > L]

    For the continuous priors ``P(c < y) = P(c <= y)``; at a fixed cost's atom the strict inequality is
    taken so that ``1 - F`` is exactly ``war.survival``'s ``P(c >= y)`` and the update's event
    "c < theta" is exactly "q < F(theta)" (``observe``).
    """
    y = np.asarray(y, dtype=float)
    kind = np.asarray(kind)
    low, mode, high = (np.asarray(a, dtype=float) for a in (low, mode, high))
    span = np.where(high > low, high - low, 1.0)
    uniform = np.clip((y - low) / span, 0.0, 1.0)
    # Safe denominators where a triangle has no left (M = L) or right (M = H) part: that branch is then
    # never selected.
    left = (y - low) ** 2 / (span * np.where(mode > low, mode - low, 1.0))
    right = 1.0 - (high - y) ** 2 / (span * np.where(high > mode, high - mode, 1.0))
    tri = np.where(y <= low, 0.0, np.where(y >= high, 1.0, np.where(y <= mode, left, right)))
    out = np.where(kind == "triangular", tri, uniform)
    return np.where(_point(kind, low, high), (y > low).astype(float), out)


def quantile(kind: Array | str, low: ArrayLike, mode: ArrayLike, high: ArrayLike, u: ArrayLike) -> Array:
    """The prior's quantile function ``F^{-1}(u)`` (design §3.4), ``u`` clipped to ``[0, 1]``:

        uniform:     L + u (H - L)
        triangular:  L + sqrt(u (H - L)(M - L))          for u <= (M - L) / (H - L)
                     H - sqrt((1 - u)(H - L)(H - M))     otherwise
        fixed:       L

    The clip only absorbs rounding in quantiles computed elsewhere (e.g. ``q_hi`` a hair above 1).
    """
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    kind = np.asarray(kind)
    low, mode, high = (np.asarray(a, dtype=float) for a in (low, mode, high))
    span = np.maximum(high - low, 0.0)  # 0 for a point prior (a fixed cost's unused high may be below low)
    uniform = low + u * span
    u_mode = (mode - low) / np.where(span > 0.0, span, 1.0)
    left = low + np.sqrt(u * span * (mode - low))
    right = high - np.sqrt(np.clip((1.0 - u) * span * (high - mode), 0.0, None))
    out = np.where(kind == "triangular", np.where(u <= u_mode, left, right), uniform)
    return np.where(_point(kind, low, high), low + 0.0 * u, out)


def cost_quantile(kind: Array | str, low: ArrayLike, mode: ArrayLike, high: ArrayLike, cost: ArrayLike) -> Array:
    """The actor's type ``q = F(c)``, its private cost as a quantile of its prior (design §3.3).

    Continuous priors: ``q = F(c)`` (``cdf``), uniform on ``[0, 1]`` when ``c`` is drawn from the prior
    (probability integral transform). A fixed cost has no type (design §3.3): every ``u`` in
    ``[P(c < L), P(c <= L)] = [0, 1]`` maps back to it (``quantile(fixed, u) = L``); ``q = 0.5``, the middle
    of that range, is returned so that the value is defined. Beliefs about it carry no information:
    ``posterior_survival`` of a fixed prior ignores the interval.
    """
    q = cdf(kind, low, mode, high, cost)
    return np.where(_point(kind, low, high), 0.5, q)


def observe(
    q_lo: ArrayLike, q_hi: ArrayLike, q_obs: ArrayLike, below: Array | bool, mask: Array | bool = True
) -> tuple[Array, Array]:
    """Bayes' rule for a threshold observation (design §3.4), elementwise.

    ``q_obs = G(theta)``, the CDF of the actor's (dyad) cost prior at the threshold ``theta`` of the
    decision observed. ``below`` True: the event "c < theta" (a rejection, a climb, an attack);
    False: "c >= theta" (an acceptance, a descent). With likelihood ``1[q in O]`` the posterior on
    ``q`` is the prior truncated to the intersection:

        below:      q_hi <- min(q_hi, q_obs)
        not below:  q_lo <- max(q_lo, q_obs)

    The belief is the event ``q_lo <= q < q_hi``. An observation with zero posterior probability (the
    new interval empty, ``q_lo >= q_hi``) leaves the belief unchanged: off-path beliefs are not pinned
    down by Bayes' rule and the design keeps the last one (design §3.4, §8.4). Entries where ``mask`` is
    False observe nothing. Returns new arrays ``(q_lo, q_hi)``; on-path observations commute and any
    observation is idempotent.
    """
    q_lo, q_hi, q_obs = (np.asarray(a, dtype=float) for a in (q_lo, q_hi, q_obs))
    below = np.asarray(below, dtype=bool)
    new_lo = np.where(below, q_lo, np.maximum(q_lo, q_obs))
    new_hi = np.where(below, np.minimum(q_hi, q_obs), q_hi)
    update = np.asarray(mask, dtype=bool) & (new_lo < new_hi)
    return np.where(update, new_lo, q_lo), np.where(update, new_hi, q_hi)


def posterior_survival(
    kind: Array | str,
    low: ArrayLike,
    mode: ArrayLike,
    high: ArrayLike,
    q_lo: ArrayLike,
    q_hi: ArrayLike,
    y: ArrayLike,
) -> Array:
    """``P(c >= y | q in [q_lo, q_hi])``, the posterior survival of the cost (design §3.4):

        S(y) = clip((q_hi - F(y)) / (q_hi - q_lo), 0, 1)

    (uniform U[L, H]: ``clip((h - y) / (h - l), 0, 1)`` with ``l = L + q_lo (H - L)``,
    ``h = L + q_hi (H - L)``). A point belief ``q_lo = q_hi`` is a known cost ``F^{-1}(q_lo)``:
    ``S(y) = 1[F^{-1}(q_lo) >= y]``. A fixed prior is a step, ``S(y) = 1[L >= y]``, whatever the
    interval. With ``[q_lo, q_hi] = [0, 1]`` this is ``war.survival``.
    """
    q_lo, q_hi = np.asarray(q_lo, dtype=float), np.asarray(q_hi, dtype=float)
    y = np.asarray(y, dtype=float)
    width = q_hi - q_lo
    spread = np.clip((q_hi - cdf(kind, low, mode, high, y)) / np.where(width > 0.0, width, 1.0), 0.0, 1.0)
    known = (quantile(kind, low, mode, high, q_lo) >= y).astype(float)
    out = np.where(width > 0.0, spread, known)
    return np.where(_point(kind, low, high), (np.asarray(low, dtype=float) >= y).astype(float), out)


def _sqrt_mean(a: Array, b: Array) -> Array:
    """The mean of ``sqrt(v)`` over ``[a, b]``, ``(2/3)(b^1.5 - a^1.5) / (b - a)``, written without
    cancellation as ``(2/3)(a + sqrt(ab) + b) / (sqrt(a) + sqrt(b))``: ``sqrt(a)`` when ``a = b`` (0 at 0).
    """
    den = np.sqrt(a) + np.sqrt(b)
    return np.where(den > 0.0, (2.0 / 3.0) * (a + np.sqrt(a * b) + b) / np.where(den > 0.0, den, 1.0), 0.0)


def posterior_mean(
    kind: Array | str, low: ArrayLike, mode: ArrayLike, high: ArrayLike, q_lo: ArrayLike, q_hi: ArrayLike
) -> Array:
    """``E[c | q in [q_lo, q_hi]] = (1 / (q_hi - q_lo)) * integral_{q_lo}^{q_hi} F^{-1}(u) du``, in closed form.

        uniform:     (l + h) / 2 = L + (H - L)(q_lo + q_hi) / 2
        triangular:  with u_M = (M - L) / (H - L), the interval split at u_M into [a1, b1] (left part,
                     weight w) and [a2, b2] (right part, weight 1 - w), and m(a, b) the mean of sqrt over
                     [a, b] = (2/3)(a + sqrt(ab) + b) / (sqrt(a) + sqrt(b)):
                     w (L + sqrt((H - L)(M - L)) m(a1, b1)) + (1 - w) (H - sqrt((H - L)(H - M)) m(1 - b2, 1 - a2))
        fixed:       L

    A point belief gives ``F^{-1}(q_lo)``. The mean-of-sqrt form has no cancellation, so narrow intervals
    stay exact.
    """
    kind = np.asarray(kind)
    low, mode, high = (np.asarray(a, dtype=float) for a in (low, mode, high))
    q_lo, q_hi = np.clip(np.asarray(q_lo, dtype=float), 0.0, 1.0), np.clip(np.asarray(q_hi, dtype=float), 0.0, 1.0)
    span = np.maximum(high - low, 0.0)  # 0 for a point prior (a fixed cost's unused high may be below low)
    uniform = low + span * (q_lo + q_hi) / 2.0
    u_mode = (mode - low) / np.where(span > 0.0, span, 1.0)
    a1, b1 = np.minimum(q_lo, u_mode), np.minimum(q_hi, u_mode)
    a2, b2 = np.maximum(q_lo, u_mode), np.maximum(q_hi, u_mode)
    width = q_hi - q_lo
    # Share of the interval left of the mode's quantile; a point belief sits wholly on one side.
    w = np.where(width > 0.0, (b1 - a1) / np.where(width > 0.0, width, 1.0), (q_lo <= u_mode).astype(float))
    left = low + np.sqrt(span * (mode - low)) * _sqrt_mean(a1, b1)
    right = high - np.sqrt(span * (high - mode)) * _sqrt_mean(1.0 - b2, 1.0 - a2)
    out = np.where(kind == "triangular", w * left + (1.0 - w) * right, uniform)
    return np.where(_point(kind, low, high), low + 0.0 * out, out)


def posterior_points(
    kind: Array | str,
    low: ArrayLike,
    mode: ArrayLike,
    high: ArrayLike,
    q_lo: ArrayLike,
    q_hi: ArrayLike,
    k: int = 64,
) -> Array:
    """``k`` equally weighted points of the posterior in cost units, for expectations by quadrature:

        c_j = F^{-1}(q_lo + (j + 1/2)(q_hi - q_lo) / k),   j = 0, ..., k - 1

    (midpoint rule in the quantile: ``E[g(c)] ~ mean_j g(c_j)``). Shape: the broadcast shape of the
    arguments plus a trailing axis of length ``k``. The share of points ``>= y`` is within ``1 / (2k)``
    of ``posterior_survival(y)``.
    """
    q_lo, q_hi = np.asarray(q_lo, dtype=float)[..., None], np.asarray(q_hi, dtype=float)[..., None]
    u = q_lo + (np.arange(k) + 0.5) / k * (q_hi - q_lo)
    kind, low, mode, high = (np.asarray(a)[..., None] for a in (kind, low, mode, high))
    return quantile(kind, low, mode, high, u)
