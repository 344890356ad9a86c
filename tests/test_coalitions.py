"""Tests of ``sim.rules.coalitions``: reliability, the coalition balance of power, the expected cost of war and
the attacker's and target's war values (docs/design/bargaining.md §3.2).

Every expectation is checked three ways: hand cases from the equations, an independent loop that enumerates
every subset of joining defenders with ``itertools``, and a seeded Monte Carlo of who joins (1e5 draws,
tolerance 4 standard errors from the sample variance).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules.coalitions import coalition_win_probability, expected_war_cost, reliability, war_values
from sim.rules.war import win_probability

RULES = settings(max_examples=100, deadline=None)
DRAWS = 100_000
A, B, D = 0, 1, 2


def _ratio(attacker: float, defending: float) -> float:
    """The contest ratio with its 1/2 for two sides without capability (written out, not imported)."""
    return 0.5 if attacker + defending == 0.0 else attacker / (attacker + defending)


def _defenders_of(r: np.ndarray, i: int, t: int) -> list[int]:
    return [d for d in range(r.shape[0]) if d not in (i, t) and r[d, t] > 0.0]


def _subsets(r: np.ndarray, t: int, defenders: list[int]):
    """Every subset of ``defenders`` joining, as (probability, members)."""
    for joins in itertools.product((False, True), repeat=len(defenders)):
        prob = np.prod([r[d, t] if j else 1.0 - r[d, t] for d, j in zip(defenders, joins, strict=True)])
        yield prob, [d for d, j in zip(defenders, joins, strict=True) if j]


def p_bar_loop(M: np.ndarray, r: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Exact p_bar by enumerating every subset of every target's defenders, one pair at a time."""
    n = M.shape[0]
    out = np.full((n, n), np.nan)
    for i, t in itertools.permutations(range(n), 2):
        out[i, t] = sum(
            prob * _ratio(M[i, t], phi[i, t] * (M[t, i] + sum(M[d, i] for d in joined)))
            for prob, joined in _subsets(r, t, _defenders_of(r, i, t))
        )
    return out


def c_bar_loop(c: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Exact c_bar by enumerating every subset of every target's defenders, one pair at a time."""
    n = c.shape[0]
    out = np.full((n, n), np.nan)
    for i, t in itertools.permutations(range(n), 2):
        out[i, t] = sum(
            prob * max([c[i, t], *(c[i, d] for d in joined)]) for prob, joined in _subsets(r, t, _defenders_of(r, i, t))
        )
    return out


def off_diagonal(x: np.ndarray) -> np.ndarray:
    return x[~np.eye(x.shape[0], dtype=bool)]


def random_state(rng: np.random.Generator, n: int, defenders: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local capabilities (some zero), ``defenders`` defenders per target with reliabilities in (0, 1] (some
    exactly 1), and misperception factors in [0.5, 2]."""
    M = rng.uniform(0.0, 1.0, (n, n)) * (rng.uniform(size=(n, n)) > 0.1)
    r = np.zeros((n, n))
    for t in range(n):
        ds = rng.choice([d for d in range(n) if d != t], defenders, replace=False)
        r[ds, t] = np.where(rng.uniform(size=defenders) < 0.2, 1.0, rng.uniform(0.05, 1.0, defenders))
    return M, r, rng.uniform(0.5, 2.0, (n, n))


@st.composite
def states(draw, max_n: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random (M, r, phi) for ``n`` in [2, max_n]: capabilities in [0, 1] with about 15% exactly 0,
    reliabilities with about 40% exactly 0 and 15% exactly 1, the rest uniform, misperception in [0.1, 3].
    Hypothesis draws the size and the seed (numpy fills the arrays: drawing every float through Hypothesis
    is too slow for these sizes)."""
    n = draw(st.integers(2, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    M = rng.uniform(0.0, 1.0, (n, n)) * (rng.uniform(size=(n, n)) > 0.15)
    u = rng.uniform(size=(n, n))
    r = np.where(u < 0.4, 0.0, np.where(u < 0.55, 1.0, rng.uniform(size=(n, n))))
    np.fill_diagonal(r, 0.0)
    return M, r, rng.uniform(0.1, 3.0, (n, n))


# ---------------------------------------------------------------------------------------------- reliability


def test_reliability_treaties_and_deterrence_by_hand():
    r0 = 0.75
    r = reliability(
        5,
        treaty_pairs=[(0, 1), (1, 2)],
        deterrence=[
            (3, 1, 0.5, 2.0),  # cost capped at 1: 0.75 * 0.5 * 1 = 0.375
            (3, 4, 0.8, 0.5),  # 0.75 * 0.8 * 0.5 = 0.3
            (3, 4, 0.2, 1.0),  # a weaker second threat for the same pair: the max stays 0.3
            (0, 1, 0.2, 1.0),  # below the treaty's r0: the treaty stays
            (4, 4, 1.0, 1.0),  # protecting oneself: the diagonal stays 0
        ],
        r0=r0,
    )
    expected = np.zeros((5, 5))
    expected[0, 1] = expected[1, 0] = expected[1, 2] = expected[2, 1] = r0  # treaties are symmetric
    expected[3, 1] = 0.375
    expected[3, 4] = 0.3
    np.testing.assert_allclose(r, expected, rtol=0, atol=1e-15)


def test_reliability_without_commitments_is_zero():
    np.testing.assert_array_equal(reliability(3, [], [], 0.75), np.zeros((3, 3)))


# ---------------------------------------------------------------------------------------------- p_bar by hand


def three_actors(r_db: float, phi_ab: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design §4d: M_A = 0.5, M_B = M_D = 0.25 (against everyone), D protects B with reliability r_db."""
    M = np.repeat(np.array([[0.5], [0.25], [0.25]]), 3, axis=1)
    # As the model would build it: D's deterrence threat protecting B, resolve r_db, cost 1, r0 = 1.
    r = reliability(3, [], [(D, B, r_db, 1.0)], r0=1.0)
    phi = np.ones((3, 3))
    phi[A, B] = phi_ab
    return M, r, phi


@pytest.mark.parametrize("r_db", [0.0, 0.5, 1.0])
def test_p_bar_design_4d(r_db):
    # p_bar = r M_A / (M_A + M_B + M_D) + (1 - r) M_A / (M_A + M_B) = 2/3 - r/6.
    p = coalition_win_probability(*three_actors(r_db))
    assert p[A, B] == pytest.approx(2 / 3 - r_db / 6, abs=1e-15)
    assert p[B, A] == pytest.approx(0.25 / 0.75, abs=1e-15)  # A has no defender
    assert p[D, B] == pytest.approx(0.5, abs=1e-15)  # B's defender attacking B fights alone against B alone
    assert p[A, D] == pytest.approx(0.5 / 0.75, abs=1e-15)  # D protects B, nobody protects D


def test_p_bar_certain_joiner_and_misperception():
    # r = 1: D always joins; A sees B's side doubled: 0.5 / (0.5 + 2 (0.25 + 0.25)) = 1/3.
    p = coalition_win_probability(*three_actors(1.0, phi_ab=2.0))
    assert p[A, B] == pytest.approx(1 / 3, abs=1e-15)


def test_p_bar_two_defenders_certain_and_absent():
    # Four actors, each bringing M_x against everyone; B defended by C (r = 1) and D (r = 0).
    M = np.repeat(np.array([[0.4], [0.2], [0.3], [0.5]]), 4, axis=1)
    r = np.zeros((4, 4))
    r[2, 1] = 1.0
    p = coalition_win_probability(M, r, np.ones((4, 4)))
    assert p[0, 1] == pytest.approx(0.4 / (0.4 + 0.2 + 0.3), abs=1e-15)
    r[3, 1] = 1.0
    p = coalition_win_probability(M, r, np.ones((4, 4)))
    assert p[0, 1] == pytest.approx(0.4 / (0.4 + 0.2 + 0.3 + 0.5), abs=1e-15)


def test_p_bar_local_capability_is_against_the_attacker():
    # M[d, i]: D brings 0.9 against A but 0.1 against anyone else; only A's attack on B meets the 0.9.
    M = np.full((3, 3), 0.5)
    M[D, :] = 0.1
    M[D, A] = 0.9
    r = np.zeros((3, 3))
    r[D, B] = 1.0
    p = coalition_win_probability(M, r, np.ones((3, 3)))
    assert p[A, B] == pytest.approx(0.5 / (0.5 + 0.5 + 0.9), abs=1e-15)


def test_p_bar_without_capability():
    # Nobody has capability: 1/2 whatever joins. A and B without capability and D (0.4) joining with 0.5:
    # 0.5 * 1/2 (D stays out) + 0.5 * 0 (D joins) = 1/4.
    r = np.zeros((3, 3))
    r[D, B] = 0.5
    np.testing.assert_allclose(off_diagonal(coalition_win_probability(np.zeros((3, 3)), r, np.ones((3, 3)))), 0.5)
    M = np.zeros((3, 3))
    M[D, :] = 0.4
    assert coalition_win_probability(M, r, np.ones((3, 3)))[A, B] == pytest.approx(0.25, abs=1e-15)


def test_the_target_never_defends_itself():
    # A diagonal r[t, t] > 0 (which ``reliability`` never makes) must not count t twice.
    M, r, phi = random_state(np.random.default_rng(6), 6, 3)
    selfish = r + np.eye(6)
    np.testing.assert_array_equal(coalition_win_probability(M, selfish, phi), coalition_win_probability(M, r, phi))
    np.testing.assert_array_equal(expected_war_cost(M, selfish), expected_war_cost(M, r))


@RULES
@given(states(max_n=8))
def test_p_bar_without_defenders_is_the_dyadic_win_probability(state):
    M, _, phi = state
    p = coalition_win_probability(M, np.zeros_like(M), phi)
    np.testing.assert_allclose(off_diagonal(p), off_diagonal(win_probability(M, phi * M.T)), rtol=1e-14, atol=0)


# ---------------------------------------------------------------------------------------------- p_bar, exact


@RULES
@given(states())
def test_p_bar_equals_the_loop_enumeration(state):
    M, r, phi = state
    np.testing.assert_allclose(
        off_diagonal(coalition_win_probability(M, r, phi)), off_diagonal(p_bar_loop(M, r, phi)), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize(("seed", "n", "defenders"), [(1, 10, 8), (2, 10, 3)])
def test_p_bar_against_monte_carlo(seed, n, defenders):
    """1e5 draws of who joins; each attacker i reuses the draws for target t (a valid sample for every pair)."""
    rng = np.random.default_rng(seed)
    M, r, phi = random_state(rng, n, defenders)
    p = coalition_win_probability(M, r, phi)
    others = ~np.eye(n, dtype=bool)
    for t in range(n):
        joins = (rng.uniform(size=(DRAWS, n)) < r[:, t]).astype(float)
        joins[:, t] = 0.0
        side = M[t] + np.einsum("kd,di->ki", joins, np.where(others, M, 0.0))  # t's side against i; i never joins
        total = M[:, t] + phi[:, t] * side
        sample = np.where(total > 0.0, M[:, t] / np.where(total > 0.0, total, 1.0), 0.5)
        tol = 4.0 * sample.std(axis=0, ddof=1) / np.sqrt(DRAWS) + 1e-9  # + rounding of a mean of 1e5 equal draws
        i = np.arange(n) != t
        assert np.all(np.abs(p[i, t] - sample.mean(axis=0)[i]) <= tol[i]), t


# ---------------------------------------------------------------------------------------------- p_bar, tail


def test_enumeration_limit_changes_nothing_without_a_tail():
    # n = 10, 8 defenders per target: at most 8 defenders per pair, so every limit >= 8 enumerates all.
    M, r, phi = random_state(np.random.default_rng(4), 10, 8)
    full = coalition_win_probability(M, r, phi, max_enumerated=8)
    np.testing.assert_array_equal(full, coalition_win_probability(M, r, phi, max_enumerated=20))
    np.testing.assert_allclose(off_diagonal(full), off_diagonal(p_bar_loop(M, r, phi)), rtol=0, atol=1e-12)


def test_expected_capability_only_by_hand():
    # max_enumerated = 0: every defender by expected capability. B (0.2) with C (0.3, r = 0.5) and D (0.5,
    # r = 0.4): A (0.4) against 0.2 + 0.15 + 0.2 = 0.55.
    M = np.repeat(np.array([[0.4], [0.2], [0.3], [0.5]]), 4, axis=1)
    r = np.zeros((4, 4))
    r[2, 1], r[3, 1] = 0.5, 0.4
    p = coalition_win_probability(M, r, np.ones((4, 4)), max_enumerated=0)
    assert p[0, 1] == pytest.approx(0.4 / (0.4 + 0.55), abs=1e-15)
    # max_enumerated = 1: D (the most capable) enumerated, C by expectation:
    # 0.4 * 0.4 / (0.4 + 0.35 + 0.5) + 0.6 * 0.4 / (0.4 + 0.35).
    p = coalition_win_probability(M, r, np.ones((4, 4)), max_enumerated=1)
    assert p[0, 1] == pytest.approx(0.4 * 0.4 / 1.25 + 0.6 * 0.4 / 0.75, abs=1e-15)


def jensen_bound(M: np.ndarray, r: np.ndarray, phi: np.ndarray, limit: int) -> np.ndarray:
    """Largest understatement the tail can cause: ``M_i phi^2 Var(tail) / (M_i + phi M_t)^3`` (half the
    largest second derivative of the ratio over the defending side times the tail's variance), with the tail
    the defenders beyond the ``limit`` most capable against ``i`` (ties by index). NaN where both ``M_i`` and
    ``M_t`` are 0 (the ratio jumps from 1/2 to 0 there: no curvature bound)."""
    n = M.shape[0]
    out = np.full((n, n), np.nan)
    for i, t in itertools.permutations(range(n), 2):
        ranked = sorted(_defenders_of(r, i, t), key=lambda d: (-M[d, i], d))
        var = sum(r[d, t] * (1.0 - r[d, t]) * M[d, i] ** 2 for d in ranked[limit:])
        base = M[i, t] + phi[i, t] * M[t, i]
        if base > 0.0:
            out[i, t] = M[i, t] * phi[i, t] ** 2 * var / base**3
    return out


@RULES
@given(states(), st.integers(0, 3))
def test_expected_capability_tail_understates_within_the_curvature_bound(state, limit):
    """Tested: with a tail, 0 <= exact - approximate (Jensen: the ratio is convex in the defending side) and
    exact - approximate <= the curvature bound of ``jensen_bound`` wherever it is defined."""
    M, r, phi = state
    exact = p_bar_loop(M, r, phi)
    approx = coalition_win_probability(M, r, phi, max_enumerated=limit)
    gap = off_diagonal(exact - approx)
    assert np.all(gap >= -1e-12)
    bound = off_diagonal(jensen_bound(M, r, phi, limit))
    defined = ~np.isnan(bound)
    assert np.all(gap[defined] <= bound[defined] + 1e-12)


@RULES
@given(states(), st.data(), st.sampled_from([0, 1, 2, 8]))
def test_raising_a_reliability_never_raises_p_bar(state, data, limit):
    M, r, phi = state
    n = M.shape[0]
    d = data.draw(st.integers(0, n - 1))
    t = data.draw(st.integers(0, n - 1).filter(lambda x: x != d))
    raised = r.copy()
    raised[d, t] = data.draw(st.floats(r[d, t], 1.0))
    before = coalition_win_probability(M, r, phi, max_enumerated=limit)
    after = coalition_win_probability(M, raised, phi, max_enumerated=limit)
    assert np.all(off_diagonal(after - before) <= 1e-12)
    # The attacker's expected cost never falls either.
    assert np.all(off_diagonal(expected_war_cost(M, raised) - expected_war_cost(M, r)) >= -1e-12)


# ---------------------------------------------------------------------------------------------- c_bar


def test_c_bar_by_hand():
    # A's war with B costs 0.1; D (cost 1.0 to A, e.g. nuclear) joins with 0.5: 0.5 * 1.0 + 0.5 * 0.1 = 0.55.
    c = np.array([[99.0, 0.1, 1.0], [0.2, 99.0, 0.2], [0.3, 0.3, 99.0]])
    r = np.zeros((3, 3))
    r[D, B] = 0.5
    r[A, B] = 1.0  # A protects B: irrelevant when A is the attacker (c[A, A] = 99 must not count)
    cb = expected_war_cost(c, r)
    assert cb[A, B] == pytest.approx(0.55, abs=1e-15)
    assert cb[D, B] == pytest.approx(0.3, abs=1e-15)  # D attacking B: A (cost 0.3 to D) joins surely: 0.3
    assert cb[B, A] == pytest.approx(0.2, abs=1e-15)  # nobody defends A
    # Two defenders: D1 (cost 1) and D2 (0.5), each joining with 0.5; base 0.1:
    # 0.5 * 1 + 0.25 * 0.5 + 0.25 * 0.1 = 0.65.
    c4 = np.full((4, 4), 0.1)
    c4[0, 2], c4[0, 3] = 1.0, 0.5
    r4 = np.zeros((4, 4))
    r4[2, 1] = r4[3, 1] = 0.5
    assert expected_war_cost(c4, r4)[0, 1] == pytest.approx(0.65, abs=1e-15)


@RULES
@given(states(), st.integers(0, 2**32 - 1))
def test_c_bar_with_one_cost_per_actor_is_that_cost(state, seed):
    _, r, _ = state
    n = r.shape[0]
    own = np.random.default_rng(seed).uniform(0.0, 2.0, n)
    c = np.repeat(own[:, None], n, axis=1)
    np.testing.assert_allclose(off_diagonal(expected_war_cost(c, r)), off_diagonal(c), rtol=1e-14, atol=0)


@RULES
@given(states())
def test_c_bar_equals_the_loop_enumeration(state):
    c, r, _ = state  # any non-negative (n, n) array serves as dyadic costs
    cb = expected_war_cost(c, r)
    np.testing.assert_allclose(off_diagonal(cb), off_diagonal(c_bar_loop(c, r)), rtol=0, atol=1e-12)
    assert np.all(off_diagonal(cb - c) >= -1e-12)


def test_c_bar_against_monte_carlo():
    """1e5 draws of who joins each target's defence, shared by every attacker as in the p_bar check."""
    rng = np.random.default_rng(5)
    n = 8
    _, r, _ = random_state(rng, n, 5)
    c = rng.uniform(0.1, 2.0, (n, n))
    cb = expected_war_cost(c, r)
    for t in range(n):
        joins = rng.uniform(size=(DRAWS, n)) < r[:, t]
        sample = np.repeat(c[None, :, t], DRAWS, axis=0)  # sample[k, i]: i's cost of the war in draw k
        for d in np.flatnonzero(r[:, t]):  # t's defenders (never t): d, joining, raises i's cost to c[i, d]
            sample = np.maximum(sample, np.where(joins[:, d : d + 1] & (np.arange(n) != d), c[:, d], -np.inf))
        tol = 4.0 * sample.std(axis=0, ddof=1) / np.sqrt(DRAWS) + 1e-9  # + rounding of a mean of 1e5 equal draws
        i = np.arange(n) != t
        assert np.all(np.abs(cb[i, t] - sample.mean(axis=0)[i]) <= tol[i]), t


# ---------------------------------------------------------------------------------------------- war values


def test_war_values_design_section_4_case():
    # Design §4 (top): one issue, status quo 0, A's ideal 1, B's ideal 0, saliences 1, competence {A, B}:
    # U_A(b) = -1, U_B(b) = 0; A's victory sets x = 1 (G_AB = 1, L_BA = u_B(1) - u_B(0) = -1), B's leaves x at
    # the status quo (L_AB = 0, G_BA = 0). So W_att[A, B] = p - 1 and W_def[B, A] = -p.
    u = np.array([-1.0, 0.0])
    G = np.array([[0.0, 1.0], [0.0, 0.0]])
    L = np.array([[0.0, 0.0], [-1.0, 0.0]])
    p = np.array([[0.5, 0.7], [0.2, 0.5]])  # asymmetric, so a transposed index shows
    w_att, w_def = war_values(u, G, L, p, np.zeros((2, 2)))
    assert w_att[A, B] == pytest.approx(0.7 - 1.0, abs=1e-15)  # p - 1
    assert w_def[B, A] == pytest.approx(-0.7, abs=1e-15)  # -p, with p = p_bar[A, B]
    assert w_att[B, A] == pytest.approx(0.2 * 0.0 + 0.8 * -1.0, abs=1e-15)  # B attacking A: p_bar[B, A] = 0.2
    assert w_def[A, B] == pytest.approx(-1.0 + 0.8 * 1.0, abs=1e-15)  # A's value when B attacks it
    k = np.array([[0.0, 0.3], [0.0, 0.0]])
    w_att_k, w_def_k = war_values(u, G, L, p, k)
    np.testing.assert_allclose(w_att_k, w_att - k, rtol=0, atol=1e-15)  # sanctions cost the attacker only
    np.testing.assert_array_equal(w_def_k, w_def)
