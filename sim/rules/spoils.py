"""Spoils of war: a victor takes the loser's consent on what divides them, and nothing more.

Design: ``docs/design/bargaining.md`` §3.2. A holder of a right on an issue (competence ``C_kj``)
consents to an outcome it weakly prefers to the baseline and that respects its red line; no change
needs no consent. A victor stands in the loser's shoes, every other holder keeps its own consent,
and only the issues on which the loser's veto binds against the victor change in the war.

Fearon (1995) for war as a lottery over the issues in dispute; the consent rule is inspired by
Schelling (1966) (compellence: the victor compels the loser on what is the loser's to decide) and by
Putnam (1988) (an outcome needs every holder's consent); the exact rule is the design's.

Pure numpy functions; no Mesa. Shapes: ``n`` actors, ``m`` issues; ``allowed[j]`` lists the allowed values
of an indivisible issue, ``None`` for a continuous one on [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.rules.acceptance import RED_TOL
from sim.rules.utility import Array, issue_utilities

DISPUTE_EPS = 1e-9  # a victory must beat the consensual outcome by more than rounding to put an issue in dispute


def allowed_table(allowed: Sequence[Sequence[float] | None]) -> tuple[NDArray[np.intp], Array]:
    """The indivisible issues' indices ``(q,)`` and their allowed values ``(q, k)``, padded with NaN."""
    rows = [(j, values) for j, values in enumerate(allowed) if values is not None]
    table = np.full((len(rows), max((len(values) for _, values in rows), default=0)), np.nan)
    for row, (_, values) in enumerate(rows):
        table[row, : len(values)] = values
    return np.asarray([j for j, _ in rows], dtype=np.intp), table


def consent_intervals(
    position: Array,
    salience: Array,
    red_low: Array,
    red_high: Array,
    baseline: Array,
    competence: Array,
    allowed: Sequence[Sequence[float] | None],
) -> tuple[Array, Array]:
    """What each holder of a right consents to: ``I_kj = {x in X_j: u_kj(x) >= u_kj(b_j), x_low_kj <= x <= x_high_kj}``.

    ``u_kj(x) = -s_kj |x - p_kj|^r_k`` falls with the distance to ``p_kj`` whatever the exponent, so for
    ``s_kj > 0`` the set is ``[p_kj - |b_j - p_kj|, p_kj + |b_j - p_kj|] ∩ [x_low_kj, x_high_kj] ∩ X_j``
    (the risk attitude does not enter); a holder with ``s_kj = 0`` is indifferent and consents to its red
    line ∩ ``X_j``. Returns ``(lo, hi)``, each ``(n, m)``:

    - continuous issue: the interval's ends; a red line within ``RED_TOL`` of the set still meets it (as in
      the acceptance rule), at the point ``lo``;
    - indivisible issue: the smallest and largest allowed value in the set (each within ``RED_TOL``); every
      allowed value between them is in the set too, since the set is an interval;
    - empty set (the baseline outside the holder's red line and nothing admissible): ``lo = +inf``,
      ``hi = -inf``, a veto of every change; ``b_j`` stays available because no change needs no consent;
    - NaN where ``C_kj = 0`` (no right, no consent to give).

    Source: bargaining.md §3.2 (consent), inspired by Putnam (1988).
    """
    d = np.abs(baseline - position)
    # The baseline lies in its own better-than-baseline set; min/max keep it there exactly, not only up to rounding
    # (p - |b - p| may round past b).
    u_lo = np.where(salience > 0.0, np.minimum(position - d, baseline), -np.inf)
    u_hi = np.where(salience > 0.0, np.maximum(position + d, baseline), np.inf)
    raw_lo = np.maximum(np.maximum(u_lo, red_low), 0.0)
    raw_hi = np.minimum(np.minimum(u_hi, red_high), 1.0)
    empty = raw_lo > raw_hi + RED_TOL
    lo = np.where(empty, np.inf, raw_lo)
    hi = np.where(empty, -np.inf, np.maximum(raw_hi, raw_lo))
    idx, v = allowed_table(allowed)
    if idx.size:
        ok = (v >= raw_lo[:, idx, None] - RED_TOL) & (v <= raw_hi[:, idx, None] + RED_TOL)  # (n, q, k); NaN pads fail
        lo[:, idx] = np.where(ok, v, np.inf).min(axis=2)
        hi[:, idx] = np.where(ok, v, -np.inf).max(axis=2)
    has = competence.astype(bool)
    return np.where(has, lo, np.nan), np.where(has, hi, np.nan)


@dataclass(frozen=True)
class WarOutcomes:
    """What each actor would make of each issue by defeating each other actor (see ``war_outcomes``)."""

    x_win: Array  # (n, n, m) x^{i>t}_j: the outcome on j if i defeats t; the diagonal is z
    z: Array  # (n, m) z_ij: i's favourite among what every holder consents to, or the baseline


def war_outcomes(
    position: Array,
    salience: Array,
    lo: Array,
    hi: Array,
    baseline: Array,
    competence: Array,
    allowed: Sequence[Sequence[float] | None],
) -> WarOutcomes:
    """A victory's outcome, ``x^{i>t}_j = argmax_{x in Q^{-t}_j ∪ {b_j}} u_ij(x)``, and ``z_ij`` likewise on ``Q_j``.

    ``Q^{-t}_j = ∩_{k in K_j \\ {t}} I_kj`` (all of ``X_j`` if no other holder): ``t``'s consent passes to the
    victor ``i``, every other holder keeps its own (shared rights stay shared), and ``Q_j = ∩_{k in K_j} I_kj``.
    ``lo, hi`` are ``consent_intervals``. The argmax is the candidate nearest ``p_ij`` (``u_ij`` falls with the
    distance for any exponent, so the risk attitude does not enter); among equally near candidates (exact
    float equality) the one nearest ``b_j`` -- a war changes nothing it need not, and an actor with
    ``s_ij = 0`` (indifferent) leaves ``b_j``. Continuous issue: the nearest point of ``[L, H]`` to ``p_ij``
    if ``L <= H + RED_TOL`` (bounds missing by at most ``RED_TOL`` meet at ``H``), else ``b_j``.
    Indivisible issue: an allowed value in ``[L, H]``, ends included; the ends are allowed values themselves, so
    every such value lies in every remaining holder's set. ``x_win[i, i] = z[i]`` (defeating oneself
    transfers no consent).

    Vectorised: ``max_{k != t} lo_kj`` is the largest ``lo`` of the issue unless ``t`` holds it, then the second
    largest (likewise the smallest ``hi``), so all ``n`` exclusions come from two maxima per issue.

    Source: bargaining.md §3.2; Schelling (1966) (compellence), inspiration only.
    """
    n, m = position.shape
    has = competence.astype(bool)
    lo_k = np.where(has, lo, -np.inf)
    hi_k = np.where(has, hi, np.inf)
    cols = np.arange(m)
    top = np.argmax(lo_k, axis=0)
    bot = np.argmin(hi_k, axis=0)
    lo1, hi1 = lo_k[top, cols], hi_k[bot, cols]
    lo_k[top, cols] = -np.inf
    hi_k[bot, cols] = np.inf
    lo2, hi2 = lo_k.max(axis=0), hi_k.min(axis=0)
    rows = np.arange(n)[:, None]
    # Row t: Q^{-t}; row n: Q (nobody excluded). An issue with no remaining holder is all of [0, 1].
    q_lo = np.maximum(np.vstack([np.where(rows == top, lo2, lo1), lo1]), 0.0)
    q_hi = np.minimum(np.vstack([np.where(rows == bot, hi2, hi1), hi1]), 1.0)

    p = position[:, None, :]
    b = baseline[None, None, :]
    met = q_lo <= q_hi + RED_TOL
    nearest = np.minimum(np.maximum(p, np.minimum(q_lo, q_hi)[None]), q_hi[None])  # (n, n + 1, m)
    better = met[None] & (salience[:, None, :] > 0.0) & (np.abs(nearest - p) < np.abs(b - p))
    x = np.where(better, nearest, b)
    idx, table = allowed_table(allowed)
    if idx.size:
        bq = baseline[idx]
        v = np.concatenate([bq[:, None], table], axis=1)  # (q, k + 1): b_j needs no consent
        # Candidates in order of their distance to b_j (b_j first, NaN pads last): argmin's first minimum is then
        # the tie-break.
        v = np.take_along_axis(v, np.argsort(np.abs(v - bq[:, None]), axis=1, kind="stable"), axis=1)
        inside = (v >= q_lo[:, idx, None]) & (v <= q_hi[:, idx, None])  # (n + 1, q, k + 1); NaN pads fail
        inside[:, :, 0] = True
        dist = np.where(inside[None], np.abs(v - position[:, idx, None])[:, None], np.inf)  # (n, n + 1, q, k + 1)
        pick = np.argmin(dist, axis=3)  # (n, n + 1, q)
        x[:, :, idx] = np.where(salience[:, None, idx] > 0.0, v[np.arange(idx.size), pick], bq)
    x_win = x[:, :n, :].copy()
    z = x[:, n, :]
    x_win[np.arange(n), np.arange(n)] = z
    return WarOutcomes(x_win, z)


def _pair_utilities(outcome: Array, position: Array, salience: Array, risk: Array) -> Array:
    """``u_ij(outcome[i, t, j]) = -s_ij |outcome[i, t, j] - p_ij|^r_i`` (``issue_utilities`` with the valuing actor
    first), skipping the power when every actor is risk neutral (the library's actors all are; it is the costliest
    step)."""
    r = np.asarray(risk, dtype=float)
    dist = np.abs(outcome - position[:, None, :])
    return -salience[:, None, :] * (dist if np.all(r == 1.0) else dist ** r.reshape(-1, 1, 1))


def disputes(x_win: Array, z: Array, position: Array, salience: Array, risk: Array, competence: Array) -> Array:
    """Issues in dispute, ``D_it = {j: C_tj = 1, u_ij(x^{i>t}_j) > u_ij(z_ij) + 1e-9}``: bool ``(n, n, m)``.

    ``t``'s veto binds against ``i`` on ``j``: winning ``t``'s consent gets ``i`` more than it can have with
    everyone's consent. The diagonal is False. Source: bargaining.md §3.2.
    """
    u_win = _pair_utilities(x_win, position, salience, risk)
    u_z = issue_utilities(z, position, salience, risk)
    out = competence.astype(bool)[None, :, :] & (u_win > u_z[:, None, :] + DISPUTE_EPS)
    out[np.arange(x_win.shape[0]), np.arange(x_win.shape[0])] = False
    return out


def spoils(
    x_win: Array,
    disputed: Array,
    position: Array,
    salience: Array,
    risk: Array,
    baseline: Array,
    bound: Array | None = None,
) -> tuple[Array, Array]:
    """Spoils of victory ``G`` and loss in defeat ``L``, each ``(n, n)`` indexed ``[i, t]``: the sums over issues
    of ``spoils_by_issue``."""
    gain, loss = spoils_by_issue(x_win, disputed, position, salience, risk, baseline, bound)
    return gain.sum(axis=2), loss.sum(axis=2)


def spoils_by_issue(
    x_win: Array,
    disputed: Array,
    position: Array,
    salience: Array,
    risk: Array,
    baseline: Array,
    bound: Array | None = None,
) -> tuple[Array, Array]:
    """Per issue, what a victory gains and a defeat costs, each ``(n, n, m)`` indexed ``[i, t, j]``:

        G_itj = 1[j in D_it] (1 - beta B_ij) [u_ij(x^{i>t}_j) - u_ij(b_j)]
        L_itj = 1[j in D_ti] [1 - beta B_tj]_0^1 [u_ij(x^{t>i}_j) - u_ij(b_j)]

    ``bound = beta * B`` (party times ``breach_cost``; ``None``: no agreement binds).
    Only disputed issues change in a war; a victor pays for overturning its own agreements in full (a net loss
    where ``beta B_ij > 1``), a victorious ``t`` imposes at most the whole stake, and nothing where reneging
    would cost it more than it gains (ODD 7.5). Fearon (1995): war as a lottery over the issues in dispute;
    the breach cost as in ODD 7.5 (Guzman 2008). Source of the exact rule: bargaining.md §3.2.

    Signs: a disputed issue has ``u_ij(x^{i>t}_j) > u_ij(z_ij) + 1e-9 >= u_ij(b_j)``, so ``G >= 0`` wherever
    ``beta B <= 1``. ``x^{t>i}_j`` lies outside ``i``'s consent set; without red lines that means
    ``u_ij(x^{t>i}_j) < u_ij(b_j)`` and ``L <= 0``, but a red line that cuts into ``i``'s better-than-baseline set
    can make a defeat a utility gain on that issue (an outcome ``i`` prefers in utility yet refuses).
    """
    u_base = issue_utilities(baseline[None, :], position, salience, risk)[:, None, :]
    gain = _pair_utilities(x_win, position, salience, risk) - u_base
    change = _pair_utilities(x_win.transpose(1, 0, 2), position, salience, risk) - u_base  # [i, t]: t won
    if bound is None:
        w_win = w_lose = 1.0
    else:
        w_win = (1.0 - bound)[:, None, :]
        w_lose = np.clip(1.0 - bound, 0.0, 1.0)[None, :, :]
    return np.where(disputed, w_win * gain, 0.0), np.where(disputed.transpose(1, 0, 2), w_lose * change, 0.0)
