"""Costly signals (sim/rules/signals.py, design §3.5): local capability, mobilisation days, the public-threat flag and
the audience cost of backing down; hand cases, loop references over rung paths and properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules.signals import (
    backing_down,
    below_status_quo,
    committed_after_ladder,
    committed_after_table,
    descent_cost,
    initial_committed,
    local_capability,
    next_mobilised,
    settled_disputes,
)

RULE = settings(max_examples=60, deadline=None, derandomize=True)
# The protocol's ladder (authoring §3): 0 de-escalation, 1 status quo (baseline), 2 posturing, 3 non-violent
# (the public-threat rung w - 1), 4 violent (war w), 5 nuclear.
BASELINE, WAR, THREAT = 1, 4, 3


# --- local capability ----------------------------------------------------------------------------------------------


def test_local_capability_by_hand() -> None:
    """g = 0.5, T_m = 30: 0 days -> M_i; 15 days -> 1.25 M_i; 30 days and beyond -> 1.5 M_i (saturated)."""
    cap = np.array([0.4, 0.2])
    days = np.array([[0, 15], [30, 400]])
    m = local_capability(cap, days, 0.5, 30.0)
    assert m[0, 0] == 0.4  # unmobilised: exactly its own capability
    assert np.allclose(m, [[0.4, 0.4 * 1.25], [0.2 * 1.5, 0.2 * 1.5]], rtol=0.0, atol=1e-15)


@RULE
@given(st.floats(0.0, 1000.0), st.floats(0.0, 2.0), st.floats(0.5, 365.0), st.integers(0, 800), st.integers(0, 800))
def test_local_capability_is_monotone_and_saturates(cap: float, g: float, t_m: float, d1: int, d2: int) -> None:
    lo, hi = min(d1, d2), max(d1, d2)
    m = local_capability(np.array([cap]), np.array([[lo, hi]]), g, t_m)[0]
    assert cap <= m[0] <= m[1] <= cap * (1.0 + g) * (1.0 + 1e-15)
    if lo >= t_m:
        assert m[0] == m[1] == cap * (1.0 + g)  # saturated: more days add nothing
    else:
        assert np.isclose(m[0], cap * (1.0 + g * lo / t_m), rtol=1e-14, atol=0.0)


# --- mobilisation days -------------------------------------------------------------------------------------------


def test_next_mobilised_by_hand() -> None:
    """Each rung of the ladder once, after 7 days: only posturing and non-violent count on."""
    rung = np.array([[0, 1, 2], [3, 4, 5]])
    out = next_mobilised(np.full((2, 3), 7), rung, BASELINE, WAR)
    assert out.tolist() == [[0, 0, 8], [8, 0, 0]]


def reference_days(path: list[int]) -> list[int]:
    """The length of the current unbroken run of military rungs after each day of a rung path."""
    out, run = [], 0
    for rho in path:
        run = run + 1 if BASELINE < rho < WAR else 0
        out.append(run)
    return out


@RULE
@given(st.lists(st.integers(0, 5), min_size=1, max_size=60))
def test_next_mobilised_counts_unbroken_military_days(path: list[int]) -> None:
    """Along any rung path, tau is the length of the current run of military rungs: reset on leaving them, never
    counted at the baseline, below it, at war or above it."""
    tau, got = np.zeros((1, 1), dtype=int), []
    for rho in path:
        tau = next_mobilised(tau, np.array([[rho]]), BASELINE, WAR)
        got.append(int(tau[0, 0]))
    assert got == reference_days(path)
    assert all(d == 0 for d, rho in zip(got, path, strict=True) if not BASELINE < rho < WAR)


# --- the public-threat flag --------------------------------------------------------------------------------------


def test_initial_committed() -> None:
    """A rung standing at w - 1 on the start date (sanctions in force, authoring §8) is a threat already made."""
    assert initial_committed(np.array([[1, 3], [2, 3]]), WAR).tolist() == [[False, True], [False, True]]


def test_settled_disputes_by_hand() -> None:
    disputed = np.zeros((3, 3, 2), dtype=bool)
    disputed[1, 0, 0] = True  # 1 against 0 on issue 0: in the union for (0, 1) and (1, 0)
    disputed[0, 2, 1] = True  # 0 against 2 on issue 1
    agreed = np.array([[True, False], [False, False], [False, True]])  # 0 bound on issue 0, 2 on issue 1
    assert settled_disputes(agreed, disputed).tolist() == [
        [False, True, False],  # 0 agreed on issue 0, disputed with 1 (in 1's direction); not with 2
        [False, False, False],  # 1 agreed on nothing
        [True, False, False],  # 2 agreed on issue 1, disputed by 0 against 2
    ]


def test_flag_through_a_crisis_by_hand() -> None:
    """One dyad: climb to w - 1 (set), hold (kept), agreement (cleared), hold (not set again), descend, climb back
    (set), concede at the table (cleared), climb again... descend while committed (cleared, charged)."""
    a = np.array([[False]])
    a = committed_after_ladder(a, np.array([[2]]), np.array([[THREAT]]), WAR)
    assert a[0, 0]
    a = committed_after_ladder(a, np.array([[THREAT]]), np.array([[THREAT]]), WAR)
    assert a[0, 0]
    a = committed_after_table(a, np.array([[True]]), np.array([[False]]))
    assert not a[0, 0]
    a = committed_after_ladder(a, np.array([[THREAT]]), np.array([[THREAT]]), WAR)
    assert not a[0, 0]
    a = committed_after_ladder(a, np.array([[THREAT]]), np.array([[2]]), WAR)
    a = committed_after_ladder(a, np.array([[2]]), np.array([[THREAT]]), WAR)
    assert a[0, 0]
    a = committed_after_table(a, np.array([[False]]), np.array([[True]]))
    assert not a[0, 0]
    a = committed_after_ladder(a, np.array([[THREAT]]), np.array([[2]]), WAR)
    a = committed_after_ladder(a, np.array([[2]]), np.array([[THREAT]]), WAR)
    assert descent_cost(a, np.array([[THREAT]]), np.array([[2]]), np.array([[0.3]]))[0, 0] == 0.3
    assert not committed_after_ladder(a, np.array([[THREAT]]), np.array([[2]]), WAR)[0, 0]


@RULE
@given(
    st.integers(0, THREAT),
    st.lists(st.tuples(st.integers(-1, 1), st.booleans(), st.booleans()), min_size=1, max_size=40),
)
def test_flag_equals_its_history_definition(start: int, days: list[tuple[int, bool, bool]]) -> None:
    """Along random paths (one rung a day, capped at w - 1, random agreements and concessions): the flag is set iff
    the last threat made (a climb to w - 1, or w - 1 on the start date) came after the last discharge (an
    agreement, a concession at the table, or any descent); a descent is charged iff the flag stood when it was
    taken. Events are timed 2 day (the table) and 2 day + 1 (the ladder): the table comes first in a day."""
    a = initial_committed(np.array([[start]]), WAR)
    rho, last_threat, last_clear = start, (0 if start == THREAT else -1), -1
    for day, (move, agreed, conceded) in enumerate(days, start=1):
        a = committed_after_table(a, np.array([[agreed]]), np.array([[conceded]]))
        last_clear = 2 * day if (agreed or conceded) else last_clear
        new = min(max(rho + move, 0), THREAT)
        charged = descent_cost(a, np.array([[rho]]), np.array([[new]]), np.array([[1.0]]))[0, 0]
        assert charged == (1.0 if (new < rho and last_threat > last_clear) else 0.0)
        a = committed_after_ladder(a, np.array([[rho]]), np.array([[new]]), WAR)
        last_clear = 2 * day + 1 if new < rho else last_clear
        last_threat = 2 * day + 1 if (rho < THREAT and new == THREAT) else last_threat
        rho = new
        assert bool(a[0, 0]) == (last_threat > last_clear)


# --- backing down ------------------------------------------------------------------------------------------------


def test_backing_down_by_hand() -> None:
    """Charged only to a committed actor accepting strictly less than the status quo on the disputed issues."""
    value = np.array([[-1.0, -0.5, -0.5, -0.5 - 1e-12]])
    status_quo = np.array([[-0.5, -0.5, -0.8, -0.5]])
    committed = np.array([[True, True, True, True]])
    audience = np.array([[0.2, 0.2, 0.2, 0.2]])
    assert backing_down(value, status_quo, committed, audience).tolist() == [[0.2, 0.0, 0.0, 0.0]]
    assert backing_down(value, status_quo, ~committed, audience).tolist() == [[0.0] * 4]
    assert below_status_quo(value, status_quo).tolist() == [[True, False, False, False]]  # rounding is no concession


def test_descent_cost_by_hand() -> None:
    committed = np.array([[True, True, False, True]])
    before = np.array([[THREAT, THREAT, THREAT, 2]])
    after = np.array([[2, THREAT, 2, THREAT]])
    audience = np.array([[0.25, 0.25, 0.25, 0.25]])
    assert descent_cost(committed, before, after, audience).tolist() == [[0.25, 0.0, 0.0, 0.0]]


@RULE
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_backing_down_is_non_increasing_in_the_value(seed: int, n: int) -> None:
    """A better package never costs more audience cost; the charge is either 0 or a_it."""
    rng = np.random.default_rng(seed)
    v1, sq, audience = rng.uniform(-2, 0, (n, n)), rng.uniform(-2, 0, (n, n)), rng.uniform(0, 1, (n, n))
    v2 = v1 + rng.uniform(0, 1, (n, n))
    committed = rng.uniform(size=(n, n)) < 0.5
    b1, b2 = backing_down(v1, sq, committed, audience), backing_down(v2, sq, committed, audience)
    assert np.all(b2 <= b1)
    assert np.all((b1 == 0.0) | (b1 == audience))
