"""The ladder policy's cut-offs (docs/design/bargaining.md §3.5, "The ladder policy of the default actor"; pure rule
of design step 7, not wired).

An actor ``i`` at rung ``rho`` toward ``t`` chooses among at most four options, ordered from the most to the least
escalatory: attack, climb (``rho + 1``), stay (``rho``), descend (``rho - 1``). Option ``o`` is worth
``Phi_o(c; O_o)`` to the type of dyadic cost ``c``, where ``O_o`` is the posterior ``t`` (and every observer) will
hold on ``c_it`` after seeing ``o``. The caller builds each ``Phi_o`` from the continuation of design §3.6
(``sim.rules.continuation``) in the state the option leads to, plus the audience cost of a committed descent and
the attack value ``W^a - c_bar(c)``; this module only finds the cut-offs

    c^a <= c^up <= c^down:   attack on [l, c^a), climb on [c^a, c^up), stay on [c^up, c^down], descend on (c^down, h]

and so the posterior each option induces (the same intervals, design §3.4: the prior truncated to them). Each cut-off
is the type indifferent between the two neighbouring options *given the posteriors the cut-offs themselves induce*, a
fixed point: the perfect Bayesian threshold of the one-step crisis game (§4c is its closed-form case; inspired by
Fearon 1994 and Slantchev 2005, whose signalling equilibria are such thresholds).

Posteriors are passed in cost units ``[lo, hi]`` of ``c_it``; the caller maps them to quantiles by the dyad prior's
CDF ``G_it`` (``beliefs.cdf``), which is exact because ``G_it`` is increasing. Shapes: any leading shape ``S`` of
dyads; ``options`` is ``S + (4,)``. Pure numpy; no Mesa.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim.rules.utility import Array

ATTACK, CLIMB, STAY, DESCEND = 0, 1, 2, 3
OPTIONS = ("attack", "climb", "stay", "descend")
SCAN_CELLS = 16  # the bracket of a cut-off is scanned on 17 types first, so the rule takes the lowest crossing
MAX_HALVINGS = 64  # more halvings than a double's mantissa could use

# Phi_o(c, lo, hi): the value of one option to types c (shape S) if observers then hold the posterior [lo, hi].
Phi = Callable[[Array, Array, Array], Array]


@dataclass(frozen=True)
class Cutoffs:
    """The cut-offs of ``ladder_cutoffs`` (shape ``S`` each), in cost units, and the posterior they were found on.

    An option the dyad does not have gets an empty interval: ``attack = lo`` without an attack, ``attack = climb``
    without a climb (the escalatory option is then the attack), ``descend = hi`` without a descent. Where a whole
    bracket prefers one option the cut-off is one float beyond its end (``np.nextafter``), so that a point
    posterior (a known cost, ``lo = hi``) is classified too.
    """

    attack: Array  # c^a: types below attack
    climb: Array  # c^up: types in [c^a, c^up) climb
    descend: Array  # c^down: types in [c^up, c^down] stay, above descend
    lo: Array  # the observers' posterior before the move, [lo, hi]
    hi: Array
    converged: Array  # bool: the last alternation moved no cut-off by more than tol

    def choice(self, c: Array | float) -> Array:
        """The option (``ATTACK``, ``CLIMB``, ``STAY``, ``DESCEND``) type ``c`` takes: the interval it falls in."""
        c = np.asarray(c, dtype=float)
        return np.where(
            c < self.attack, ATTACK, np.where(c < self.climb, CLIMB, np.where(c <= self.descend, STAY, DESCEND))
        )

    def interval(self, option: int) -> tuple[Array, Array]:
        """``(lower, upper)``, the posterior option ``option`` induces, in cost units: ``[l, c^a)``, ``[c^a, c^up)``,
        ``[c^up, c^down]``, ``(c^down, h]`` (empty, ``lower >= upper``, for an option nobody takes). Observers
        update by ``beliefs.observe`` at ``G(lower)`` (not below) and ``G(upper)`` (below)."""
        edges = (self.lo, self.attack, self.climb, self.descend, self.hi)
        return edges[option], edges[option + 1]


def _values(phi: Sequence[Phi | None], option: Array, c: Array, lo: Array, hi: Array, where: Array) -> Array:
    """``Phi_{option}(c; [lo, hi])`` per dyad, the option varying by dyad; NaN where ``where`` is False."""
    out = np.full(c.shape, np.nan)
    for o in np.unique(option[where]):
        out = np.where(where & (option == o), np.asarray(phi[o](c, lo, hi), dtype=float), out)
    return out


def _cut(gap: Callable[[Array], Array], a: Array, b: Array, tol: float, right_tie: bool) -> Array:
    """The type in ``[a, b]`` where the left (more escalatory) option stops being preferred, by vectorised bisection:
    ``gap(c) = Phi_left - Phi_right`` at the posteriors ``c`` itself induces. ``c`` prefers the right option iff
    ``gap <= 0`` (``right_tie``: the indifferent type takes the right option) or ``gap < 0``. The bracket is scanned
    on ``SCAN_CELLS + 1`` types and the first cell where the right option is preferred is halved to width ``tol``, so
    where ``gap`` is not monotone the lowest crossing (to the scan's resolution) is taken (design §3.5). Returned:
    the first type that prefers the right option if ``right_tie`` (its interval starts there, closed), else the
    last type that prefers the left one (the left interval ends there, closed)."""
    b = np.maximum(a, b)

    def right(c: Array) -> Array:
        g = gap(c)
        return g <= 0.0 if right_tie else g < 0.0

    grid = [a + (b - a) * j / SCAN_CELLS for j in range(SCAN_CELLS + 1)]
    prefers = np.stack([right(x) for x in grid], axis=-1)
    j = np.argmax(prefers, axis=-1)
    none, first = ~prefers.any(axis=-1), j == 0
    x_l = np.choose(np.maximum(j - 1, 0), grid)
    x_r = np.choose(j, grid)
    width = float(np.max(x_r - x_l, initial=0.0))
    halvings = 0 if width <= tol else min(MAX_HALVINGS, int(np.ceil(np.log2(width / tol))))
    for _ in range(halvings):
        mid = 0.5 * (x_l + x_r)
        r = right(mid)
        x_l, x_r = np.where(r, x_l, mid), np.where(r, mid, x_r)
    inner = x_r if right_tie else x_l
    all_left = np.nextafter(b, np.inf) if right_tie else b
    all_right = a if right_tie else np.nextafter(a, -np.inf)
    return np.where(none, all_left, np.where(first, all_right, inner))


def ladder_cutoffs(
    phi: Sequence[Phi | None],
    lo: Array | float,
    hi: Array | float,
    options: Array,
    tol: float = 1e-10,
    rounds: int = 3,
) -> Cutoffs:
    """The cut-offs ``c^a <= c^up <= c^down`` of the ladder policy (design §3.5), for every dyad of shape ``S``.

    ``phi`` holds one callable per option in the order ``(attack, climb, stay, descend)`` (``None`` for an option
    no dyad has): ``phi[o](c, lower, upper)``, arrays of shape ``S``, is ``Phi_o(c; O_o)`` with ``O_o`` the
    observers' posterior on the actor's cost truncated to ``[lower, upper]`` (cost units); it is called on every
    dyad and its values where the option does not exist are ignored. ``[lo, hi]`` is the observers' current
    posterior (cost units). ``options`` (bool ``S + (4,)``) says which options each dyad has: every dyad can stay,
    and none has both an attack and a climb (the climb from the rung below war *is* the attack, design §3.5), so
    there are at most two cut-offs, with ``E`` the escalatory option (climb or attack) where there is one:

        c^up:   Phi_E(c; [l, c)) = Phi_stay(c; [c, c^down])          (c^a = c^up with an attack, l without)
        c^down: Phi_stay(c; [c^up, c]) = Phi_descend(c; (c, h])

    each the type indifferent between its neighbours at the posteriors it induces itself, the other cut-off held,
    found by ``_cut`` (a scan, then bisection to ``tol``) inside the bracket the other leaves, so the order holds.
    One alternation solves ``c^up`` then ``c^down`` (starting from "staying reveals nothing": ``c^up = l``,
    ``c^down = h``); alternations repeat, at most ``rounds`` times, until one moves no cut-off by more than ``tol``.
    A dyad with one cut-off (two options) is solved exactly by the first alternation. With three options the two
    cut-offs share stay's posterior and the alternation is a Gauss-Seidel iteration of the two best responses: it
    converges linearly, at the rate of the product of their slopes (the design's three alternations reach 1e-10
    only where that product is below about 1e-3); where it has not converged after ``rounds`` alternations
    ``converged`` is False (reported, never raised) and the last iterate is returned. Converged dyads are not
    moved again.

    Where the two solutions cross (``c^up > c^down``: every type prefers a neighbour to staying) stay is chosen by
    nobody and the cut-off between its neighbours solves ``Phi_E(c; [l, c)) = Phi_descend(c; (c, h])`` directly
    (``c^up`` = that type, ``c^down`` one float below it: the indifferent type descends, it does not escalate); the
    design assumes the order and does not say what happens otherwise.

    Ties: the indifferent type keeps its rung: it stays rather than attack (no war) or climb (``c^up`` starts the
    stay interval) and rather than descend (``c^down`` ends it): the design's intervals ``[l, c^up)``,
    ``[c^up, c^down]``, ``(c^down, h]``.

    The rule assumes each gap ``Phi_more - Phi_less`` along its own induced posterior falls in ``c`` (single
    crossing; the design asks for a property test on random states); where it does not, the lowest crossing on the
    scan is taken. The posterior of the attack option is passed for completeness (a war ends the crisis).
    Sources: Fearon (1994) (audience costs, escalation as a costly signal); Slantchev (2005) (mobilisation as a
    signal, thresholds in the private type); the fixed point in cut-offs and its alternation are this design's,
    inspired by them.
    """
    opts = np.asarray(options, dtype=bool)
    if not np.all(opts[..., STAY]):
        raise ValueError("every dyad must be able to stay")
    for o in range(4):
        if phi[o] is None and opts[..., o].any():
            raise ValueError(f"option {OPTIONS[o]} exists but has no value function")
    shape = opts.shape[:-1]
    lo_arr = np.broadcast_to(np.asarray(lo, dtype=float), shape).copy()
    hi_arr = np.broadcast_to(np.asarray(hi, dtype=float), shape).copy()
    attack, climb, descend = (opts[..., o] for o in (ATTACK, CLIMB, DESCEND))
    if np.any(attack & climb):
        raise ValueError("attack is the climb from the rung below war: a dyad has one or the other")
    up = attack | climb
    left = np.where(climb, CLIMB, ATTACK)  # the option just below stay
    t0, t1, t2 = lo_arr.copy(), lo_arr.copy(), hi_arr.copy()
    converged = np.zeros(shape, dtype=bool)
    single = ~(up & descend)
    stay, descent = phi[STAY], phi[DESCEND]
    for r in range(rounds):
        old = (t0, t1, t2)
        if up.any():

            def gap_up(c: Array, t2: Array = t2) -> Array:
                return _values(phi, left, c, lo_arr, c, up) - stay(c, c, t2)

            t1 = np.where(up, _cut(gap_up, lo_arr, t2, tol, right_tie=True), lo_arr)
            t0 = np.where(attack, t1, lo_arr)
        if descend.any():

            def gap_down(c: Array, t1: Array = t1) -> Array:
                return stay(c, t1, c) - np.where(descend, descent(c, c, hi_arr), np.nan)

            t2 = np.where(descend, _cut(gap_down, t1, hi_arr, tol, right_tie=False), hi_arr)
            # Stay squeezed out (its bracket's ends each prefer the neighbour): climb (or attack) against descend.
            squeezed = up & descend & (t1 > t2)
            if squeezed.any():

                def gap_skip(c: Array, on: Array = squeezed) -> Array:
                    return np.where(on, _values(phi, left, c, lo_arr, c, on) - descent(c, c, hi_arr), np.nan)

                s = _cut(gap_skip, lo_arr, hi_arr, tol, right_tie=True)
                t1, t2 = np.where(squeezed, s, t1), np.where(squeezed, np.nextafter(s, -np.inf), t2)
                t0 = np.where(attack, t1, lo_arr)
        # Converged dyads keep their cut-offs: a later alternation for the others does not move them.
        t0, t1, t2 = (np.where(converged, o, n) for o, n in zip(old, (t0, t1, t2), strict=True))
        moved = np.max(np.abs(np.stack([t0 - old[0], t1 - old[1], t2 - old[2]])), axis=0)
        converged = converged | (moved <= tol) | (single & (r == 0))
        if converged.all():
            break
    return Cutoffs(attack=t0, climb=t1, descend=t2, lo=lo_arr, hi=hi_arr, converged=converged)
