"""One account of what each actor can get toward every other (docs/design/bargaining.md §3.1; ODD 7.14).

For every ordered pair ``(i, t)`` this module assembles the pieces of ``sim.rules.continuation`` into the one
number the ladder compares war with: the value to ``i`` of not attacking ``t`` now, ``K_it``. Where the two meet
again at a venue that can settle something between them (``meetings.next_meetings``, ``frontier.frontier``),
``K`` is the continuation ``C_it(c_i)`` of design §3.6: the screening game at that meeting, then the fallback;
elsewhere it is the fallback of waiting, the status quo less the expected loss should ``t`` attack. Trust enters
once, in the frontier's values (``frontier``); talks are worth what beliefs say a settlement there would add,
never a hand-set bonus.

Shapes: ``n`` actors; an ``(n, n)`` array is indexed ``[i, t]``: ``i``'s value toward ``t``, ``i``'s belief
about ``t``. Pure numpy functions and small frozen dataclasses; no Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

import numpy as np

from sim.rules.continuation import FallbackTerms, Party, continuation_value, keep_table, keep_value
from sim.rules.frontier import Frontier
from sim.rules.meetings import NextMeeting
from sim.rules.screening import Posterior, Screen
from sim.rules.utility import Array

OPTION_TOL = 1e-12  # a meeting worth less than this over the fallback settles nothing worth waiting for
# The days to the next meeting as the continuation reads them: they multiply the holding cost of a rung, which
# design step 7 adds; until then every rung is free to hold and the days do not matter.
NO_HOLDING = 0.0


@dataclass(frozen=True)
class Priors:
    """Every actor's prior over its private cost, ``(n,)`` each (``war.CostPriors``' fields)."""

    kind: Array
    low: Array
    mode: Array
    high: Array


@dataclass(frozen=True)
class DyadValues:
    """What ``values`` returns, every array ``(n, n)`` indexed ``[i, t]``."""

    calm: Array  # K_it: the value of not attacking t now, at i's own cost
    fallback: Array  # F_it: keep the status quo while t may attack (no meeting that settles anything)
    option: Array  # K_it - F_it: what the talks ahead are worth to i (0 without a useful meeting)
    talks: Array  # bool: K comes from a meeting ahead (its continuation), not from the fallback


def posteriors(priors: Priors, belief_lo: Array, belief_hi: Array) -> Posterior:
    """``[k, r]``: ``k``'s posterior on ``r``'s cost, ``r``'s prior truncated to ``[belief_lo, belief_hi]``
    (ODD 7.19)."""
    return Posterior(
        priors.kind[None, :], priors.low[None, :], priors.mode[None, :], priors.high[None, :], belief_lo, belief_hi
    )


def screens(fr: Frontier, u_base: Array, W_def: Array, attack_belief: Array, ultimatum: Array) -> Screen:
    """``[k, r]``: the game at the pair's meeting when ``k`` proposes to ``r`` (design §3.6; ``screening.Screen``).

    The frontier's ends and rate seen from ``k`` (``v_max = V_max[k, r]``, ``v_min_r = V_min[r, k]``,
    ``v_max_r = V_max[r, k]``, ``lam = lam[k, r]``) and ``r``'s offer map, the offer type ``y`` is indifferent about:

        v_r(y) = reservation - pi y,   reservation = U_r(b) - pi (U_r(b) - W^d_rk),   pi = pi_rk

    with ``pi_rk`` = ``attack_belief[r, k]``, ``r``'s belief that ``k`` would attack it if the talks fail (common
    knowledge: beliefs are public, ODD 7.19); at an ultimatum rejection is war, ``pi = 1``. No audience cost yet
    (design step 7). Offers are continuous along the line: indivisible issues are priced by the line through
    their ends (the design's finite offer sets are not wired).
    """
    pi = np.where(ultimatum, 1.0, attack_belief.T)
    U_r = u_base[None, :]
    reservation = U_r - pi * (U_r - W_def.T)
    return Screen(
        v_max=fr.V_max,
        v_min_r=fr.V_min.T,
        v_max_r=fr.V_max.T,
        lam=fr.lam,
        feasible=fr.feasible,
        reservation=reservation,
        slope=pi,
    )


@dataclass(frozen=True)
class Game:
    """The dyad game of every ordered pair at its next meeting (design §3.6), indexed ``[i, t]``: ``i``'s side
    (``own``) and ``t``'s side seen from the pair (``other``), whether the meeting can settle something
    (``useful``), whether ``i`` proposes there and whether it is a binding ultimatum.

    The days to the meeting are not part of it: they enter the continuation only through the cost of holding a
    rung until then, ``-d h(c)`` (design §3.3, step 7), which is not in the model yet, so until then a pair's
    values change only when its meeting, or something the game reads, changes."""

    own: Party
    other: Party
    useful: Array
    i_proposes: Array
    ultimatum: Array


def game(
    W_att: Array,
    W_def: Array,
    u_base: Array,
    attackable: Array,
    attack_belief: Array,
    priors: Priors,
    belief_lo: Array,
    belief_hi: Array,
    fr: Frontier,
    meeting: NextMeeting,
) -> Game:
    """Every pair's game at its next meeting: each side's fallback (``continuation.FallbackTerms``), the screen
    when it proposes (``screens``) and its posterior on the other (``posteriors``). ``W_att[i, t]`` is ``i``'s
    value of the war it starts on ``t``, ``W_def[i, t]`` its value of the war ``t`` starts; ``attackable[i, t]``
    that ``i`` has something to gain (``G_it > 0``); ``attack_belief[i, t] = pi_it``, ``i``'s belief that ``t``
    would attack it. No holding cost yet (design step 7): waiting for the meeting is free."""
    terms = FallbackTerms(W_att, W_def, u_base[:, None], attack_belief, attackable)
    # The ultimatum binds only if its author has something to gain by war (ODD 7.8).
    i_proposes = meeting.proposer == np.arange(len(u_base))[:, None]
    ultimatum = meeting.ultimatum & np.where(i_proposes, attackable, attackable.T)
    post = posteriors(priors, belief_lo, belief_hi)
    screen = screens(fr, u_base, W_def, attack_belief, ultimatum)
    own = Party(terms, screen, post, 0.0)
    other = Party(
        FallbackTerms(W_att.T, W_def.T, u_base[None, :], attack_belief.T, attackable.T),
        _transposed(screen),
        _transposed_posterior(post),
        0.0,
    )
    return Game(own, other, meeting.exists & fr.feasible, i_proposes, ultimatum)


def values(cost: Array, g: Game) -> DyadValues:
    """``K_it``, what ``i`` of cost ``c_i`` compares an attack on ``t`` with (design §3.1, §3.6; ODD 7.14):

        F_it = U_i(b) - pi_it (U_i(b) - W^d_it + c_i)                   the fallback of waiting
        K_it = C_it(c_i)   if i and t meet again at a venue that can settle something between them
                           and the continuation differs from F_it by more than 1e-12,
             = F_it        otherwise

    with ``C_it`` ``continuation.continuation_value``: at the meeting the pair's proposer screens the other's
    cost on its posterior (``game``), and after it the crisis ends in the general fallback ``max(W^a - c, F)``
    (an attack after failed talks).

    Why the fallback of waiting leaves out attacking: without a meeting, attacking tomorrow is worth what
    attacking today is (no build-up yet), so it is dominated and left out (design §3.6); the ladder then compares
    attacking now with waiting. With a useful meeting ahead ``K >= max(W^a - c, F)`` except at an ultimatum,
    where rejection is war and the meeting can be worth less than the fallback (the design's one exception).

    Sources: Fearon (1995) (war against the status quo; the ultimatum), Powell (1996) (screening offers), Fearon
    (1998) (the shadow of the future, here derived from the meeting, not set).
    """
    c = np.asarray(cost, dtype=float)[:, None]
    fallback = replace(g.own.fallback, can_attack=False).at(c)  # waiting only (``continuation.fallback``)
    calm, talks = fallback, np.zeros_like(g.useful)
    if g.useful.any():
        C = continuation_value(c, g.own, g.other, NO_HOLDING, g.useful, g.i_proposes, g.ultimatum)
        talks = g.useful & (np.abs(C - fallback) > OPTION_TOL)
        calm = np.where(talks, C, fallback)
    return DyadValues(calm=calm, fallback=fallback, option=calm - fallback, talks=talks)


def reservation(g: Game, s: int, k: int, types: Array, teaches: bool = True) -> Array:
    """``R~_sk`` on ``s``'s grid of types ``types`` (increasing): what each type of ``s`` keeps by rejecting
    ``k``'s package at a non-ultimatum venue today (``continuation.keep_value`` at the pair's next meeting after
    today, made non-increasing by ``continuation.keep_table``). The one account at the table: the reservation is
    the continuation the ladder reads (design §3.1, §3.6), with the attack option, on the posterior a rejection
    leaves (the current one where a rejection ``teaches`` nothing)."""
    side, proposer = (_pair(p, s, k) for p in (g.own, g.other))
    at = (NO_HOLDING, g.useful[s, k], g.i_proposes[s, k], g.ultimatum[s, k])
    return keep_table(keep_value(types, side, proposer, *at, teaches=teaches))


def no_deal(g: Game, k: int, r: int, cost: float, cutoffs: Array, teaches: bool = True) -> Array:
    """``N_kr(theta)``: what proposer ``k`` of cost ``cost`` keeps if ``r`` rejects its package at a
    non-ultimatum venue today, when the rejection tells it that ``c_r < theta`` (design §3.6, "the proposer's
    objective"), for each cut-off of ``cutoffs``:

        N_kr(theta) = max( C_kr(c_k; [q_lo, G_r(theta))),  W^a_kr - c_k )

    ``C`` is ``continuation.continuation_value`` at the pair's next meeting after today with ``k``'s posterior on
    ``r`` truncated below ``theta``: the proposer anticipates what a rejection would teach it, so a package that
    only tough types would reject is worth less to table than one that screens (Slantchev 2003; Powell 2004,
    inspired by). The attack option counts only if ``k`` can attack ``r``. Where the rejection ``teaches``
    nothing, ``N`` is the continuation on the current posterior, the same for every cut-off."""
    own, other = (_pair(p, k, r) for p in (g.own, g.other))
    learnt = replace(own, belief=own.belief.truncated_below(cutoffs)) if teaches else own
    C = continuation_value(cost, learnt, other, NO_HOLDING, g.useful[k, r], g.i_proposes[k, r], g.ultimatum[k, r])
    # Where the pair has no meeting ahead that can settle something, what k learns changes nothing: the
    # continuation is then one value, the same for every cut-off.
    return np.broadcast_to(np.maximum(C, own.fallback.attack_now(cost)), np.shape(cutoffs))


def _pair(obj: Any, s: int, k: int) -> Any:
    """The pair ``[s, k]`` of a game's dataclass: ``(n, n)`` fields and those broadcast along one axis (``(1, n)``,
    ``(n, 1)``) indexed, scalars and ``None`` kept."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return type(obj)(**{f.name: _pair(getattr(obj, f.name), s, k) for f in fields(obj)})
    if isinstance(obj, np.ndarray) and obj.ndim == 2:
        return obj[s if obj.shape[0] > 1 else 0, k if obj.shape[1] > 1 else 0]
    return obj


def _transposed(game: Screen) -> Screen:
    """The same games indexed ``[r, k]``: for the pair ``(i, t)``, the game in which ``t`` proposes to ``i``."""
    return Screen(
        **{
            f: np.asarray(getattr(game, f)).T
            for f in ("v_max", "v_min_r", "v_max_r", "lam", "feasible", "reservation", "slope")
        }
    )


def _transposed_posterior(post: Posterior) -> Posterior:
    """``[t, i]`` posteriors indexed ``[i, t]``: for the pair ``(i, t)``, ``t``'s posterior on ``i``'s cost."""
    n = np.shape(post.q_lo)[0]
    full = (np.broadcast_to(np.asarray(x), (n, n)).T for x in (post.kind, post.low, post.mode, post.high))
    return Posterior(*full, np.asarray(post.q_lo).T, np.asarray(post.q_hi).T)
