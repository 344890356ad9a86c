"""Costly signals: mobilisation and public threats, the simple state rules (design §3.5).

Two kinds of costly signal (Fearon 1997): *sinking costs*, paid whatever happens (holding a rung costs
``h_it`` per day, ``costs.holding_costs``; in exchange mobilisation raises the capability brought against the
target), and *tying hands*, a cost paid only if the actor later backs down (a public threat at the rung
below war makes backing down cost the audience cost ``a_it``, ``costs.audience_costs``; Fearon 1994).

Ladder indices: baseline ``beta0``, war ``w``; *military* rungs are ``beta0 < rho < w``; the *public-threat*
rung is ``w - 1``, assumed above the baseline (every shipped ladder: ``beta0 = 1``, ``w = 4``). State: the
consecutive days ``tau_it`` (``mobilised_days``) and the flag ``A_it`` (``committed``) of a public threat.

Order within a day (design §2), which the two flag updates follow: the venues (step 3: agreements, answers),
then ``committed_after_table``; the ladder (step 5: rungs move, ``descent_cost`` charged on the flag the table
left), then ``committed_after_ladder`` and ``next_mobilised``.

Shapes: ``n`` actors, ``m`` issues; ``(n, n)`` arrays are indexed ``[i, t]`` (``i`` toward ``t``), their
diagonal meaningless and never used. Pure numpy functions; no Mesa.
"""

from __future__ import annotations

import numpy as np

from sim.rules.utility import Array

# The tolerance of design §3.2's dispute test (u > u + 1e-9): a package equal to the status quo on the disputed
# issues up to rounding is no concession.
CONCESSION_TOL = 1e-9


def local_capability(capability: Array, mobilised_days: Array, gain: float, days: float) -> Array:
    """``M_it``, the capability ``i`` brings against ``t`` after ``tau_it`` days on a military rung toward it
    (design §3.5), ``(n, n)``:

        M_it = M_i (1 + g min(1, tau_it / T_m))

    ``capability`` is ``M`` (``(n,)``), ``mobilised_days`` is ``tau`` (``(n, n)``), ``gain`` is ``g``
    (``mobilisation_gain``) and ``days`` is ``T_m > 0`` (``mobilisation_days``): the build-up is linear and
    complete after ``T_m`` days, when ``M_it = (1 + g) M_i``; unmobilised, ``M_it = M_i``. Inspired by
    Slantchev (2005): mobilisation raises the chance of prevailing; the linear build-up and its two
    constants are assumptions.
    """
    tau = np.asarray(mobilised_days, dtype=float)
    return np.asarray(capability, dtype=float)[:, None] * (1.0 + gain * np.minimum(1.0, tau / days))


def next_mobilised(mobilised_days: Array, rung: Array, baseline_index: int, war_index: int) -> Array:
    """``tau_it`` after a step (design §3.5): the consecutive steps ``i`` has held a military rung toward
    ``t``, ``(n, n)`` int:

        tau'_it = (tau_it + 1) * 1[beta0 < rho'_it < w]

    ``rung`` is ``rho'``, the rung held after the day's ladder move: a military rung adds a day, anything
    else (the baseline, below it, war) resets the count to 0, so ``tau`` counts only unbroken mobilisation.
    One step is one day in every crisis file (authoring §3). Inspired by Slantchev (2005).
    """
    rho = np.asarray(rung)
    military = (rho > baseline_index) & (rho < war_index)
    return np.where(military, np.asarray(mobilised_days) + 1, 0)


def initial_committed(rung: Array, war_index: int) -> Array:
    """``A_it`` on the start date (design §3.5), bool ``(n, n)``: ``A_it = 1[rho_it = w - 1]``. An initial rung
    at the public-threat rung (sanctions or a threat standing on the start date, authoring §8) is a public
    threat already made."""
    return np.asarray(rung) == war_index - 1


def settled_disputes(agreed: Array, disputed: Array) -> Array:
    """``1[i settled on D_it u D_ti today]``, bool ``(n, n)``: an agreement bound ``i`` today on at least one
    issue in dispute between ``i`` and ``t`` (in either direction):

        settled_it = OR_j agreed_ij and (D_itj or D_tij)

    ``agreed`` is bool ``(n, m)`` (``i`` became party to an agreement on ``j`` today), ``disputed`` the bool
    ``(n, n, m)`` of design §3.2 as it stood before the agreement. This is this module's reading of the design's
    "an agreement on D_it u D_ti" (the design does not say whether one issue or all of them): a deal on what
    the threat was about lets the threatener stand down without backing down, and a deal that concedes on
    those issues is charged at acceptance (``backing_down``), so the reading opens no free exit from a threat.
    """
    d = np.asarray(disputed, dtype=bool)
    either = d | d.transpose(1, 0, 2)
    return (either & np.asarray(agreed, dtype=bool)[:, None, :]).any(axis=2)


def below_status_quo(value_on_disputes: Array, status_quo_on_disputes: Array) -> Array:
    """Whether a package is a concession for ``i`` toward ``t`` (design §3.5), bool ``(n, n)``:

        V_it < U_it(b) - 1e-9

    with ``V_it`` the package's value to ``i`` on the issues of ``D_it u D_ti`` and ``U_it(b)`` the status
    quo's on the same issues (the tolerance is §3.2's dispute test's)."""
    return np.asarray(value_on_disputes, dtype=float) < np.asarray(status_quo_on_disputes, dtype=float) - CONCESSION_TOL


def backing_down(value_on_disputes: Array, status_quo_on_disputes: Array, committed: Array, audience: Array) -> Array:
    """The audience cost ``i`` bears toward ``t`` by accepting a package (design §3.5), ``(n, n)``:

        a_it * 1[A_it] * 1[V_it < U_it(b)]

    ``committed`` is ``A`` (bool), ``audience`` is ``a`` (``costs.audience_costs``), the values as in
    ``below_status_quo``. A committed actor that accepts less than the status quo on what it threatened over
    is punished by its audience; a package at least as good on those issues is no backing down. The descent
    on the ladder is the other way to back down (``descent_cost``). Source: Fearon (1994); Tomz (2007).
    """
    concedes = np.asarray(committed, dtype=bool) & below_status_quo(value_on_disputes, status_quo_on_disputes)
    return np.where(concedes, np.asarray(audience, dtype=float), 0.0)


def descent_cost(committed: Array, rung_before: Array, rung_after: Array, audience: Array) -> Array:
    """The audience cost of descending from a public threat (design §3.5; the ``-a_it 1[A_it, o < rho]`` term
    of the ladder's option values), ``(n, n)``:

        a_it * 1[A_it] * 1[rho'_it < rho_it]

    ``A`` is the flag after the day's table (``committed_after_table``): an agreement on the disputed issues
    has already cleared it, so a committed descent is one "without an agreement on D_it u D_ti". Since ``A_it``
    is set only at ``w - 1`` and cleared by any descent (``committed_after_ladder``), a committed descent is
    a descent from ``w - 1``. Source: Fearon (1994); Tomz (2007).
    """
    down = np.asarray(committed, dtype=bool) & (np.asarray(rung_after) < np.asarray(rung_before))
    return np.where(down, np.asarray(audience, dtype=float), 0.0)


def committed_after_table(committed: Array, settled: Array, conceded: Array) -> Array:
    """``A_it`` after the day's venues (design §3.5), bool ``(n, n)``:

        A'_it = A_it and not settled_it and not conceded_it

    The threat is discharged by an agreement on the disputed issues (``settled_disputes``) or by paying the
    audience cost at the table (``conceded``: ``i`` accepted toward ``t`` a package ``below_status_quo``,
    which ``backing_down`` charges; the caller decides whether an acceptance the venue did not adopt counts).
    """
    return np.asarray(committed, dtype=bool) & ~np.asarray(settled, dtype=bool) & ~np.asarray(conceded, dtype=bool)


def committed_after_ladder(committed: Array, rung_before: Array, rung_after: Array, war_index: int) -> Array:
    """``A_it`` after the day's rung moves (design §3.5), bool ``(n, n)``:

        A'_it = (A_it and rho'_it >= rho_it) or (rho_it < w - 1 = rho'_it)

    Climbing to the rung below war toward ``t`` is a public threat and sets the flag; descending clears it
    (the cost is paid, ``descent_cost``); staying keeps it. Holding ``w - 1`` after the flag was cleared by an
    agreement does not set it again: only a new climb to ``w - 1`` does. Source: Fearon (1994) (public threats
    tie hands).
    """
    before, after = np.asarray(rung_before), np.asarray(rung_after)
    kept = np.asarray(committed, dtype=bool) & (after >= before)
    return kept | ((before < war_index - 1) & (after == war_index - 1))
