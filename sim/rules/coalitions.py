"""Who joins a war in defence of its target, and the balance of power and cost that result.

When ``i`` attacks ``t``, each committed defender ``d`` of ``t`` joins independently with probability
``r[d, t]``; ``i`` fights alone (offensive commitments are not in the data). The attacker decides on the
expectation over who joins: no random number is drawn. This replaced the sum of whole blocs' capabilities
and the deterrence part of the threat cost (docs/design/bargaining.md §3.2).

Pure numpy functions; no Mesa. Shapes: ``n`` actors; an ``(n, n)`` array indexed ``[i, t]`` is about ``i``
attacking ``t`` unless its docstring says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sim.rules.utility import Array


def reliability(
    n: int,
    treaty_pairs: Iterable[tuple[int, int]],
    deterrence: Iterable[tuple[int, int, float, float]],
    r0: float,
) -> Array:
    """``r[d, t]``: the chance that ``d`` joins a war in which ``t`` is attacked.

    ``r[d, t] = r[t, d] = r0`` for every treaty pair ``(d, t)`` (a bloc and its member, or two members of one
    bloc); then, for each public deterrence threat ``(d, t, eta_d, cost)`` of threatener ``d`` protecting ``t``
    (one tuple per protected actor), ``r[d, t] = max(r[d, t], r0 * eta_d * min(1, cost))``: the threatener's
    resolve scales how reliable the commitment is. Diagonal 0. Sanctions threats are not commitments to fight
    and are not passed here. With ``r0``, ``eta`` in [0, 1] and ``cost >= 0`` (the scenario's bounds) every
    ``r`` is a probability. The threat's own target (whom it deters) is not read: a public commitment to
    defend ``t`` counts against any attacker of ``t`` (``r`` is attacker-free, as the design's ``(n, n)``).

    Sources: Leeds, Long and Mitchell (2000) find alliance commitments honoured in about three cases in four
    (``r0 = 0.75`` by default); Leeds (2003), defensive alliances of the target deter initiation; Huth (1988),
    extended deterrence by a protector's threat. Scaling a threat's reliability by resolve and cost is this
    design's rule (inspired by Huth 1988).
    """
    r = np.zeros((n, n))
    pairs = np.asarray(list(treaty_pairs), dtype=int).reshape(-1, 2)
    r[pairs[:, 0], pairs[:, 1]] = r0
    r[pairs[:, 1], pairs[:, 0]] = r0
    for d, t, resolve, cost in deterrence:
        r[d, t] = max(r[d, t], r0 * resolve * min(1.0, cost))
    np.fill_diagonal(r, 0.0)
    return r


def _defenders(reliability: Array) -> tuple[Array, Array]:
    """``(R, D)``: ``D`` the actors committed to defend anyone, and ``R[i, t, k] = r[D_k, t]``, except that
    neither the attacker ``i`` nor the target ``t`` joins ``t``'s defence (a defender of ``t`` who attacks ``t`` is
    the attacker, and fights alone). Every other actor joins with probability 0 and changes nothing, so leaving
    it out keeps the arrays ``n x n x |D|`` instead of ``n^3``."""
    n = reliability.shape[0]
    D = np.flatnonzero((reliability > 0.0).any(axis=1))
    R = np.repeat(reliability[D].T[None, :, :], n, axis=0)  # (n, n, |D|)
    k = np.arange(D.size)
    R[D, :, k] = 0.0  # the attacker
    R[:, D, k] = 0.0  # the target
    return R, D


ENUMERATION_BUDGET = 2**22  # subset-pair terms at most: keeps a step of a scenario of thousands of actors in memory


def coalition_win_probability(
    local_cap: Array, reliability: Array, perception: Array, max_enumerated: int = 8, budget: int = ENUMERATION_BUDGET
) -> Array:
    """``p_bar[i, t]``: the chance ``i`` believes it has of prevailing when it attacks ``t`` and ``t``'s
    defenders may join.

    With ``M[x, y]`` the capability ``x`` brings against ``y``, ``phi = perception[i, t]`` (``i``'s
    misperception factor of ``t``'s side) and ``Delta_t`` the defenders of ``t`` (``r[d, t] > 0``, ``d`` not
    ``i`` nor ``t``), each joining independently:

        p_bar[i, t] = sum_{J subset of Delta_t} P(J) * M[i, t] / (M[i, t] + phi * (M[t, i] + sum_{d in J} M[d, i]))
        P(J) = prod_{d in J} r[d, t] * prod_{d in Delta_t \\ J} (1 - r[d, t])

    (1/2 where both sides have no capability, as ``war.win_probability``). The sum is exact over the
    ``max_enumerated`` defenders most capable against ``i`` (``M[d, i]``; ties by index), fewer if ``2^k n^2``
    terms would exceed ``budget`` (from about 700 actors on; a crisis of a few dozen actors is always exact);
    any further defenders enter every term by their expected capability ``sum r[d, t] M[d, i]``. The ratio is convex in
    the defending side's capability, so by Jensen's inequality this tail never overstates ``p_bar`` and
    understates it by at most ``M[i, t] phi^2 Var / (M[i, t] + phi M[t, i])^3`` with ``Var = sum_tail
    r (1 - r) M[d, i]^2``; for ``n <= max_enumerated + 2`` there is no tail. Raising any ``r[d, t]`` never
    raises ``p_bar[i, t]``, with or without a tail. The diagonal is meaningless.

    Sources: the ratio contest function of Bueno de Mesquita (1981) and Fearon (1995), as
    ``war.win_probability``; defenders joining with a reliability, Leeds, Long and Mitchell (2000) and Leeds
    (2003). The exact aggregation over who joins is inspired by them, not given by them.
    """
    cap = np.asarray(local_cap, dtype=float)
    phi = np.asarray(perception, dtype=float)
    R, D = _defenders(np.asarray(reliability, dtype=float))
    n = cap.shape[0]
    C = cap.T[:, None, D]  # C[i, 0, k] = M[D_k, i], the same for every target
    defends = R > 0.0
    # Defenders first, most capable first; non-defenders last (they join with probability 0).
    order = np.argsort(np.where(defends, -C, np.inf), axis=-1, kind="stable")
    Rs, Cs = np.take_along_axis(R, order, -1), np.take_along_axis(C, order, -1)
    affordable = int(np.log2(max(budget // (n * n), 1)))
    k = min(max_enumerated, affordable, int(defends.sum(axis=-1).max(initial=0)))
    tail = (Rs[..., k:] * Cs[..., k:]).sum(axis=-1)
    # Pairs flattened to one contiguous axis (n * n), so that each step below is one long vector operation.
    r_k = np.ascontiguousarray(Rs[..., :k].reshape(n * n, k).T)  # (k, n * n)
    stays_out = 1.0 - r_k
    c_k = Cs[..., :k].reshape(n * n, k).T * phi.reshape(-1)  # phi times each enumerated defender's capability
    # Every subset of the k enumerated defenders (leading axis, 2**k), built by doubling: subset s + 2**e adds
    # defender e to subset s. Its probability, and the ratio's denominator M[i, t] + phi * (defending side).
    prob = np.empty((2**k, n * n))
    den = np.empty((2**k, n * n))
    prob[0] = 1.0
    den[0] = (cap + phi * (cap.T + tail)).reshape(-1)
    for e in range(k):
        half = 2**e
        np.multiply(prob[:half], r_k[e], out=prob[half : 2 * half])
        prob[:half] *= stays_out[e]
        np.add(den[:half], c_k[e], out=den[half : 2 * half])
    num = cap.reshape(-1)
    if den[0].min(initial=1.0) > 0.0:  # den[0], the empty subset's, is each pair's smallest (capabilities >= 0)
        ratio = num / den
    else:  # a zero denominator means neither side has capability: an even chance
        ratio = np.divide(num, den, out=np.full(den.shape, 0.5), where=den > 0.0)
    return np.einsum("sp,sp->p", prob, ratio).reshape(n, n)


def expected_war_cost(dyad_cost: Array, reliability: Array) -> Array:
    """``c_bar[i, t]``: the attacker's expected cost of a war with ``t`` and whoever joins ``t``'s defence.

    A war that draws in a costlier defender costs the attacker that defender's dyadic cost (a war that draws
    in a nuclear defender is a nuclear war):

        c_bar[i, t] = E_J max(c[i, t], max_{d in J} c[i, d])

    with ``J`` the joining defenders as in ``coalition_win_probability``. Exact for any number of defenders
    without enumeration, because the maximum of independent joins is reached by the first to join in
    decreasing order of ``v_d = max(c[i, t], c[i, d])``:

        c_bar[i, t] = sum_k v_(k) r_(k) prod_{l < k} (1 - r_(l)) + c[i, t] prod_k (1 - r_(k)).

    With ``c[i, t] = c_i`` for every ``t``, ``c_bar[i, t] = c_i``. The diagonal is meaningless. The rule is
    this design's (docs/design/bargaining.md §3.2); no source gives it.
    """
    c = np.asarray(dyad_cost, dtype=float)
    R, D = _defenders(np.asarray(reliability, dtype=float))
    if not D.size:
        return c.copy()
    V = np.maximum(c[:, :, None], c[:, None, D])  # V[i, t, k] = max(c[i, t], c[i, D_k])
    order = np.argsort(-V, axis=-1, kind="stable")
    Rs, Vs = np.take_along_axis(R, order, -1), np.take_along_axis(V, order, -1)
    stay_out = np.cumprod(1.0 - Rs, axis=-1)
    before = np.concatenate((np.ones_like(stay_out[..., :1]), stay_out[..., :-1]), axis=-1)
    return (Vs * Rs * before).sum(axis=-1) + c * stay_out[..., -1]


def war_values(u_base_sum: Array, G: Array, L: Array, p_bar: Array, threat_cost: Array) -> tuple[Array, Array]:
    """The attacker's and the target's values of the war ``i`` starts against ``t``, before private costs.

        W_att[i, t] = U_i(b) + p_bar[i, t] G[i, t] + (1 - p_bar[i, t]) L[i, t] - k[i, t]
        W_def[t, i] = U_t(b) + (1 - p_bar[i, t]) G[t, i] + p_bar[i, t] L[t, i]

    ``U(b)`` the utility of the baseline (``u_base_sum``, ``(n,)``), ``G[i, t]`` the spoils if ``i`` defeats
    ``t``, ``L[i, t]`` the change for ``i`` if ``t`` defeats ``i`` (docs/design/bargaining.md §3.2), ``k`` the
    sanctions threats' cost to the attacker. Note the order: ``W_def[t, i]`` is ``t``'s value when ``i``
    attacks ``t``, so both arrays are indexed ``[holder of the value, other side]``. Diagonals meaningless.

    Source: Fearon (1995), war as a costly lottery over what is in dispute; the victor here takes only the
    loser's consent (the spoils rule of §3.2, inspired by Schelling 1966 and Putnam 1988).
    """
    u = np.asarray(u_base_sum, dtype=float)[:, None]
    w_att = u + p_bar * G + (1.0 - p_bar) * L - threat_cost
    w_def = u + (1.0 - p_bar.T) * G + p_bar.T * L
    return w_att, w_def
