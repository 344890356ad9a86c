"""The escalation ladder's rules per policy, and the kernel they read (docs/design/bargaining.md §3.8).

The model builds one ``LadderKernel`` per step: the state every policy reads, and the default policy's choice
for every dyad computed in one vectorised call (``band_rungs``). Each policy returns its own row: the default
reads it off the kernel, the others apply ``hard_line_rungs`` or ``reciprocal_rungs`` to their row. Every rule
keeps the attack guard (``guard``) and climbs at most one rung per step (``dynamics.next_rung``).

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rules.dynamics import desired_rung, next_rung
from sim.rules.utility import Array
from sim.rules.values import DyadValues


@dataclass(frozen=True)
class LadderKernel:
    """What the actors choose their rungs from on one step (read only; the model applies the choices).

    ``net = W - c - K`` (war value less the private cost less the value of not attacking), ``noisy`` adds the
    model's noise, ``chosen`` is the default policy's next rung toward every actor (``band_rungs``)."""

    values: DyadValues  # the one account of the dyad's values (sim.rules.values)
    net: Array  # (n, n)
    noisy: Array  # (n, n)
    chosen: Array  # (n, n) int: the default policy's next rung
    rung: Array  # (n, n) int: rung[i, t], the rung i holds toward t today
    war: Array  # (n, n) gross war values W^a[i, t]
    private_cost: Array  # (n,)
    u_base: Array  # (n,) U_i(b), the value of the baseline
    attackable: Array  # (n, n) bool: i can fight t and has something to gain by it (G_it > 0)
    war_index: int
    baseline_rung: int

    def row(self, i: int) -> ActorRow:
        """Actor ``i``'s view of the step: its rows, the rungs held toward it, its cost and baseline value."""
        return ActorRow(
            rung=self.rung[i],
            faced=self.rung[:, i],
            attackable=self.attackable[i],
            attacked=self.attackable[:, i],
            war=self.war[i],
            cost=float(self.private_cost[i]),
            u_base=float(self.u_base[i]),
            war_index=self.war_index,
            baseline_rung=self.baseline_rung,
        )


@dataclass(frozen=True)
class ActorRow:
    """One actor's row of the kernel, what a non-default policy's ladder reads (``LadderKernel.row``)."""

    rung: Array  # (n,) the rung it holds toward each t
    faced: Array  # (n,) the rung each t holds toward it
    attackable: Array  # (n,) bool: G_it > 0
    attacked: Array  # (n,) bool: G_ti > 0
    war: Array  # (n,) W^a toward each t
    cost: float
    u_base: float
    war_index: int
    baseline_rung: int


def guard(desired: Array, attackable: Array, attacked: Array, war_index: int, baseline_rung: int) -> Array:
    """The attack guard (ODD 7.15): war only over a dispute; short of war, mobilising against an actor that has
    something to gain by attacking; otherwise no rung above the baseline.

    ``k = k*`` where ``G_it > 0`` (``attackable``), ``min(k*, w - 1)`` where only ``G_ti > 0`` (``attacked``,
    the transpose), else ``min(k*, beta_0)``. Element-wise: rows or whole matrices."""
    below_war = np.minimum(desired, war_index - 1)
    return np.where(attackable, desired, np.where(attacked, below_war, np.minimum(desired, baseline_rung)))


def band_rungs(noisy: Array, rung: Array, attackable: Array, war_index: int, baseline_rung: int, band: float) -> Array:
    """The default policy's next rung toward every actor: ``next_rung(rho, guard(desired_rung(Delta)))``, the band
    ladder of ODD 7.15 (``dynamics.desired_rung``: war iff ``Delta > 1e-9``; Kahn 1965; Schelling 1966)."""
    desired = guard(desired_rung(noisy, war_index, band), attackable, attackable.T, war_index, baseline_rung)
    return next_rung(rung, desired)


def attack_pays(war: Array, cost: float, u_base: float) -> Array:
    """Whether attacking beats the baseline outright: ``W^a - c > U(b)`` (strictly: ties, no war). The hard-liner's
    and the reciprocator's test; neither counts the value of waiting for talks."""
    return np.asarray(war, dtype=float) - cost > u_base


def hard_line_rungs(row: ActorRow) -> Array:
    """A hard-liner's next rung toward each ``t`` (one actor's row).

    Toward every ``t`` with ``G_it > 0`` it aims at the public threat ``w - 1`` and at war iff ``W^a - c > U(b)``;
    toward the others it never steps down of its own accord (it holds its rung), within the guard. One rung per
    step, so it attacks only from ``w - 1``. Inspired by Leng (1993), the "bullying" strategy, and Snyder and
    Diesing (1977), the hard line: coercion without accommodation."""
    w = row.war_index
    aim = np.where(attack_pays(row.war, row.cost, row.u_base), w, w - 1)
    desired = np.where(row.attackable, aim, row.rung)
    return next_rung(row.rung, guard(desired, row.attackable, row.attacked, w, row.baseline_rung))


def reciprocal_rungs(row: ActorRow) -> Array:
    """A reciprocator's next rung toward each ``t`` (one actor's row); ``faced[t]`` is the rung ``t`` holds toward it.

    It aims at ``min(faced, w - 1)`` within the guard; it attacks only from ``w - 1``, only if ``t`` holds
    ``w - 1`` toward it, and only if ``W^a - c > U(b)``. One rung per step, up or down: it matches escalation and
    de-escalation alike. Axelrod (1984), tit for tat; Leng (1993), the reciprocating strategy; Huth (1988), firm
    but flexible deterrence; the ladder form is inspired by them (none gives this rule)."""
    w = row.war_index
    desired = np.minimum(row.faced, w - 1)
    strike = (row.rung == w - 1) & (row.faced == w - 1) & attack_pays(row.war, row.cost, row.u_base)
    desired = np.where(strike, w, desired)
    return next_rung(row.rung, guard(desired, row.attackable, row.attacked, w, row.baseline_rung))
