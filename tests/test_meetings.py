"""The pair's next meeting (sim/rules/meetings.py, design §3.6): a hand-made calendar and a plain loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules.meetings import next_meetings

RULE = settings(max_examples=30, deadline=None, derandomize=True)


def test_next_meetings_by_hand() -> None:
    # Actors 0, 1, 2. Step 2: an ultimatum chaired by 2 (0 and 1 attend): not a meeting of the pair (0, 1).
    # Step 3: an offer venue (validation only) chaired by 0 with 2 present, listed with its chair alone.
    # Step 5: an ordinary venue, proposing order [1, 0, 2].
    steps = [2, 3, 5]
    part = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=bool)
    proposers = [[2, 0, 1], [0], [1, 0, 2]]
    ultimatum = [True, False, False]
    m = next_meetings(steps, part, proposers, ultimatum, now=1, step_days=7.0)
    assert m.exists.tolist() == [[False, True, True], [True, False, True], [True, True, False]]
    assert m.proposer.tolist() == [[-1, 1, 2], [1, -1, 2], [2, 2, -1]]
    assert m.ultimatum.tolist() == [[False, False, True], [False, False, True], [True, True, False]]
    assert m.days.tolist() == [[7.0, 28.0, 7.0], [28.0, 7.0, 7.0], [7.0, 7.0, 7.0]]
    assert m.venue.tolist() == [[-1, 2, 0], [2, -1, 0], [0, 0, -1]]
    # On step 2 itself the ultimatum counts only for a table answer (same day); otherwise step 3's offer is next.
    later = next_meetings(steps, part, proposers, ultimatum, now=2, step_days=1.0)
    assert later.proposer[0, 2] == 0 and later.days[0, 2] == 1.0 and not later.ultimatum[0, 2]
    same = next_meetings(steps, part, proposers, ultimatum, now=2, step_days=1.0, same_day=True)
    assert same.proposer[0, 2] == 2 and same.days[0, 2] == 0.0 and same.ultimatum[0, 2]
    # Nothing left: no meeting, one step to the next decision.
    none = next_meetings(steps, part, proposers, ultimatum, now=6, step_days=7.0)
    assert not none.exists.any() and (none.proposer == -1).all() and (none.days == 7.0).all()
    assert (none.venue == -1).all()


@st.composite
def calendars(draw: st.DrawFn) -> tuple[int, list[int], np.ndarray, list[list[int]], list[bool]]:
    n = draw(st.integers(2, 5))
    k = draw(st.integers(0, 6))
    steps = sorted(draw(st.lists(st.integers(0, 6), min_size=k, max_size=k)))
    part = np.zeros((k, n), dtype=bool)
    proposers, ultimatum = [], []
    for v in range(k):
        who = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=n, unique=True))
        part[v, who] = True
        ult = draw(st.booleans())
        offer = not ult and draw(st.booleans())
        proposers.append(who[:1] if offer else who)
        ultimatum.append(ult)
    return n, steps, part, proposers, ultimatum


@RULE
@given(calendars(), st.integers(0, 6), st.booleans())
def test_next_meetings_matches_a_loop(calendar, now: int, same_day: bool) -> None:
    n, steps, part, proposers, ultimatum = calendar
    m = next_meetings(steps, part, proposers, ultimatum, now, 2.0, same_day)
    for i in range(n):
        for t in range(n):
            found = None
            for v in range(len(steps)):
                if i == t or steps[v] < now or (steps[v] == now and not same_day):
                    continue
                order = proposers[v][:1] if ultimatum[v] else proposers[v]
                if part[v, i] and part[v, t] and (i in order or t in order):
                    first = next(a for a in order if a in (i, t))
                    found = ((steps[v] - now) * 2.0, ultimatum[v], first, v)
                    break
            if found is None:
                assert not m.exists[i, t] and m.proposer[i, t] == -1 and m.days[i, t] == 2.0 and m.venue[i, t] == -1
            else:
                got = (m.days[i, t], m.ultimatum[i, t], m.proposer[i, t], m.venue[i, t])
                assert m.exists[i, t] and got == found
