"""The pair's next meeting (docs/design/bargaining.md §3.6, "The next meeting"; pure part of step 6, not wired).

Actors look one meeting ahead (lookahead 1, a documented bound on rationality): for each ordered pair, the first
venue after the current decision point in which one of the two proposes to the other, how many days away it is,
its format, the pair's proposer there and which venue it is. The continuation (``sim.rules.continuation``) reads it.

Pure numpy functions and small frozen dataclasses; no Mesa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.rules.utility import Array


@dataclass(frozen=True)
class NextMeeting:
    """For every ordered pair ``(i, t)``: the pair's next meeting (design §3.6). Arrays ``(n, n)``; the
    diagonal has no meeting."""

    days: Array  # days until it; step_days (the next decision) where there is none
    exists: Array  # bool
    ultimatum: Array  # bool: the meeting is an ultimatum (rejection is war)
    proposer: Array  # int: the pair's proposer there (i or t); -1 where there is no meeting
    venue: Array  # int: the meeting's index in the venues given; -1 where there is none


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
        venue_it = v (its index in the venues given), -1 if none

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
    venue = np.full((n, n), -1, dtype=int)
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
        venue[meet] = v
        ultimatum[meet] = ult
        proposer[meet] = np.where(rank[:, None] < rank[None, :], idx[:, None], idx[None, :])[meet]
    return NextMeeting(days, exists, ultimatum, proposer, venue)
