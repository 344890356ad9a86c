"""Tests of ``sim.rules.spoils`` (bargaining.md §3.2): consent, what a victor can take, disputes, spoils.

Hand cases worked out in the comments from the equations in the docstrings; the design's consequences
(i)-(iv) as property tests; and the vectorised functions against a plain-Python reference written from
the definitions (explicit intersections over the remaining holders, allowed values as sets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules.spoils import DISPUTE_EPS, consent_intervals, disputes, spoils, war_outcomes
from sim.rules.utility import issue_utilities

A = np.asarray
INF = np.inf
TOL = 1e-9  # RED_TOL, the red-line tolerance of the acceptance rule
GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
PROPS = settings(max_examples=60, deadline=None)
REFERENCE = settings(max_examples=150, deadline=None)


@dataclass
class State:
    position: np.ndarray
    salience: np.ndarray
    risk: np.ndarray
    red_low: np.ndarray
    red_high: np.ndarray
    baseline: np.ndarray
    competence: np.ndarray
    allowed: list[list[float] | None]
    bound: np.ndarray | None

    @property
    def n(self) -> int:
        return self.position.shape[0]


def run(s: State):
    """Consent, outcomes, disputes and spoils, as a caller chains them."""
    lo, hi = consent_intervals(s.position, s.salience, s.red_low, s.red_high, s.baseline, s.competence, s.allowed)
    w = war_outcomes(s.position, s.salience, lo, hi, s.baseline, s.competence, s.allowed)
    d = disputes(w.x_win, w.z, s.position, s.salience, s.risk, s.competence)
    g, loss = spoils(w.x_win, d, s.position, s.salience, s.risk, s.baseline, s.bound)
    return lo, hi, w, d, g, loss


def one_issue(
    position, salience, competence, baseline, red_low=None, red_high=None, allowed=None, risk=None, bound=None
):
    """A one-issue state from per-actor lists (red lines default to [0, 1], risk to 1)."""
    n = len(position)

    def col(v) -> np.ndarray:
        return A(v, dtype=float).reshape(n, 1)

    return State(
        position=col(position),
        salience=col(salience),
        risk=A([1.0] * n) if risk is None else A(risk, dtype=float),
        red_low=np.zeros((n, 1)) if red_low is None else col(red_low),
        red_high=np.ones((n, 1)) if red_high is None else col(red_high),
        baseline=A([baseline], dtype=float),
        competence=A(competence, dtype=bool).reshape(n, 1),
        allowed=[allowed],
        bound=None if bound is None else col(bound),
    )


# =========================================================================== consent_intervals


class TestConsentIntervals:
    def test_hand_cases_continuous(self) -> None:
        # b = 0.5. Actor 0: p = 0.3, d = 0.2 -> [0.1, 0.5]. 1: p = 0.1, d = 0.4 -> [-0.3, 0.5] ∩ [0, 1] = [0, 0.5].
        # 2: p = 0.3, red line [0.2, 0.45] -> [0.2, 0.45]. 3: p = 0.3, red line [0, 0.4] (excludes b) -> [0.1, 0.4].
        # 4: s = 0, indifferent -> its red line [0.2, 0.6]. 5: no right -> NaN.
        # 6: p = 0.5 -> d = 0 -> {0.5}. 7: p = 0.55, red line [0.7, 1]: [0.5, 0.6] misses it -> empty (inf, -inf).
        s = one_issue(
            position=[0.3, 0.1, 0.3, 0.3, 0.9, 0.3, 0.5, 0.55],
            salience=[1, 1, 1, 1, 0, 1, 1, 1],
            competence=[1, 1, 1, 1, 1, 0, 1, 1],
            baseline=0.5,
            red_low=[0, 0, 0.2, 0, 0.2, 0, 0, 0.7],
            red_high=[1, 1, 0.45, 0.4, 0.6, 1, 1, 1],
        )
        lo, hi = consent_intervals(s.position, s.salience, s.red_low, s.red_high, s.baseline, s.competence, s.allowed)
        np.testing.assert_allclose(lo[:, 0], [0.1, 0.0, 0.2, 0.1, 0.2, np.nan, 0.5, INF], atol=1e-15)
        np.testing.assert_allclose(hi[:, 0], [0.5, 0.5, 0.45, 0.4, 0.6, np.nan, 0.5, -INF], atol=1e-15)

    @pytest.mark.parametrize("risk", [0.5, 1.0, 2.0])
    def test_the_interval_is_the_better_than_baseline_set_for_any_exponent(self, risk: float) -> None:
        # The set {x: u(x) >= u(b)} on a fine grid, for r = 0.5, 1, 2, is the one interval [p - |b - p|, p + |b - p|].
        p, b = 0.62, 0.35
        s = one_issue([p], [0.7], [1], b)
        lo, hi = consent_intervals(s.position, s.salience, s.red_low, s.red_high, s.baseline, s.competence, s.allowed)
        assert (lo[0, 0], hi[0, 0]) == pytest.approx((0.35, 0.89))
        x = np.linspace(0.0, 1.0, 100_001)
        u = issue_utilities(x, p, 0.7, risk)
        better = u >= float(issue_utilities(b, p, 0.7, risk))
        assert better[(x >= lo[0, 0] + 1e-9) & (x <= hi[0, 0] - 1e-9)].all()
        assert not better[(x < lo[0, 0] - 1e-9) | (x > hi[0, 0] + 1e-9)].any()

    def test_indivisible_hull(self) -> None:
        # Allowed {0, .25, .5, .75, 1}, b = 0.5. Actor 0: p = 0.3 -> [0.1, 0.5] -> {0.25, 0.5}. 1: red line [0, 0.4]
        # -> {0.25}. 2: p = 0.9 -> [0.5, 1.3]; red line [0.2, 0.8] -> [0.5, 0.8] -> {0.5, 0.75}: hull [0.5, 0.75].
        # 3: p = 0.9 -> [0.5, 1] ∩ red line [0.55, 0.7] holds no allowed value -> empty.
        # 4: s = 0, red line [0.3, 1] -> {0.5, 0.75, 1}.
        s = one_issue(
            position=[0.3, 0.3, 0.9, 0.9, 0.1],
            salience=[1, 1, 1, 1, 0],
            competence=[1, 1, 1, 1, 1],
            baseline=0.5,
            red_low=[0, 0, 0.2, 0.55, 0.3],
            red_high=[1, 0.4, 0.8, 0.7, 1],
            allowed=list(GRID),
        )
        lo, hi = consent_intervals(s.position, s.salience, s.red_low, s.red_high, s.baseline, s.competence, s.allowed)
        np.testing.assert_array_equal(lo[:, 0], [0.25, 0.25, 0.5, INF, 0.5])
        np.testing.assert_array_equal(hi[:, 0], [0.5, 0.25, 0.75, -INF, 1.0])

    def test_a_red_line_within_tolerance_still_meets_the_set(self) -> None:
        # p = 0.6, b = 0.4 -> [0.4, 0.8]; a red line from 0.8 + 1e-10 meets it (RED_TOL = 1e-9), from 0.8 + 1e-8 not.
        s = one_issue([0.6, 0.6], [1, 1], [1, 1], 0.4, red_low=[0.8 + 1e-10, 0.8 + 1e-8])
        lo, hi = consent_intervals(s.position, s.salience, s.red_low, s.red_high, s.baseline, s.competence, s.allowed)
        assert lo[0, 0] == hi[0, 0] == 0.8 + 1e-10
        assert (lo[1, 0], hi[1, 0]) == (INF, -INF)
        # Indivisible, allowed {0.5, 1}, b = 1, p = 0.6 -> [0.2, 1]: a red line ending 1e-10 below 0.5 admits 0.5.
        s = one_issue([0.6, 0.6], [1, 1], [1, 1], 1.0, red_high=[0.5 - 1e-10, 0.5 - 1e-8], allowed=[0.5, 1.0])
        lo, hi = consent_intervals(s.position, s.salience, s.red_low, s.red_high, s.baseline, s.competence, s.allowed)
        assert (lo[0, 0], hi[0, 0]) == (0.5, 0.5)
        assert (lo[1, 0], hi[1, 0]) == (INF, -INF)

    def test_the_baseline_is_in_the_set_exactly(self) -> None:
        # p = 0.4, b = 0.15: p - |b - p| rounds to 0.15000000000000002 in floats; the set still starts at b itself
        # (and mirrored, p = 0.2, b = 0.85: p + |b - p| would round to 0.8499999999999999).
        s = one_issue([0.4], [1], [1], 0.15)
        lo, _ = consent_intervals(s.position, s.salience, s.red_low, s.red_high, s.baseline, s.competence, s.allowed)
        assert lo[0, 0] == 0.15
        s = one_issue([0.2], [1], [1], 0.85)
        _, hi = consent_intervals(s.position, s.salience, s.red_low, s.red_high, s.baseline, s.competence, s.allowed)
        assert hi[0, 0] == 0.85


# =========================================================================== war_outcomes: hand cases


class TestWarOutcomes:
    def test_nato_door(self) -> None:
        # Consequence (iv): a victor without a right gets only what the remaining holders accept.
        # Actors RUS 0, UKR 1, NATO 2. Issue 0 "door" (0 closed, 1 open), holders UKR and NATO, b = 1; issue 1
        # "donbas", holder UKR alone, b = 1. RUS wants 0 on both, UKR 1 on both.
        # Variant "open": NATO's ideal is 1 = b, so I_NATO = {1}: defeating UKR, RUS gets nothing on the door
        # (x = b = 1) and the door is not in dispute; it takes the donbas (UKR's consent passes to it): G = 1.
        # Variant "ajar": NATO at 0.7, b = 0.9 -> I_NATO = [0.5, 0.9]; UKR at 1 -> I_UKR = [0.9, 1]: Q = {0.9} so
        # z_RUS = 0.9; defeating UKR, RUS gets NATO's consent boundary 0.5: G = |0.9 - 0| - |0.5 - 0| + 1 = 1.4.
        # Today's imposition rule gives RUS its ideal on both: 0.9 + 1 = 1.9.
        for nato, b_door, x_door, g in [(1.0, 1.0, 1.0, 1.0), (0.7, 0.9, 0.5, 1.4)]:
            s = State(
                position=A([[0.0, 0.0], [1.0, 1.0], [nato, 0.5]]),
                salience=A([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]]),
                risk=A([1.0, 1.0, 1.0]),
                red_low=np.zeros((3, 2)),
                red_high=np.ones((3, 2)),
                baseline=A([b_door, 1.0]),
                competence=A([[0, 0], [1, 1], [1, 0]], dtype=bool),
                allowed=[None, None],
                bound=None,
            )
            _, _, w, d, g_, loss = run(s)
            np.testing.assert_allclose(w.x_win[0, 1], [x_door, 0.0])
            np.testing.assert_array_equal(d[0, 1], [x_door != b_door, True])
            assert g_[0, 1] == pytest.approx(g)
            # UKR's loss in defeat is RUS's victory seen from UKR: door |x - 1| - |b - 1|, donbas -1.
            assert loss[1, 0] == pytest.approx(-(abs(x_door - 1.0) - abs(b_door - 1.0)) - 1.0)
            # RUS holds no right: attacking it gains nothing, and it has nothing to lose in defeat (consequence i).
            assert (g_[:, 0] == 0.0).all() and (loss[0, :] == 0.0).all()

    def test_two_holders_victor_gets_its_ideal_within_its_red_line(self) -> None:
        # Holders {0, 1}, b = 0.5, p_0 = 0.1, p_1 = 0.9; actor 2 holds a position but no right. 0 defeating 1 takes
        # 1's consent and keeps its own: its ideal 0.1; with a red line [0.2, 1] the red line's end 0.2. Actor 2
        # defeating 1 faces 0's consent [0, 0.5] (or [0.2, 0.5] with the red line): nearest to its 0.3 is 0.3.
        for red_low, x0 in [(0.0, 0.1), (0.2, 0.2)]:
            s = one_issue([0.1, 0.9, 0.3], [1, 1, 1], [1, 1, 0], 0.5, red_low=[red_low, 0, 0])
            _, _, w, d, g, _ = run(s)
            assert w.x_win[0, 1, 0] == pytest.approx(x0)
            assert w.x_win[1, 0, 0] == pytest.approx(0.9)
            assert w.x_win[2, 1, 0] == pytest.approx(0.3)
            assert g[0, 1] == pytest.approx(0.5 - x0)

    def test_indivisible_picks_an_allowed_value_every_remaining_holder_accepts(self) -> None:
        # Allowed {0, .25, .5, .75, 1}, b = 0.75. Holders: loser 1 (p = 1) and 2 (p = 0.5 -> {0.25, 0.5, 0.75}).
        # Victor 0 (no right) at 0.3: nearest admissible 0.25 (never the continuous 0.3). At 0.375, 0.25 and 0.5 are
        # equally near (0.125, exact in binary): the one nearer b = 0.75 wins, 0.5.
        for p0, x in [(0.3, 0.25), (0.375, 0.5)]:
            s = one_issue([p0, 1.0, 0.5], [1, 1, 1], [0, 1, 1], 0.75, allowed=list(GRID))
            _, _, w, d, g, _ = run(s)
            assert w.x_win[0, 1, 0] == x
            assert w.z[0, 0] == 0.75  # 1 consents only to {0.75, 1}
            assert d[0, 1, 0]
            assert g[0, 1] == pytest.approx(abs(0.75 - p0) - abs(x - p0))

    def test_an_empty_consent_set_vetoes_every_change(self) -> None:
        # Allowed {0, 1}, b = 1; holder 2 (p = 0.9, red line [0.2, 0.8]) admits no allowed value: defeating 1, the
        # victor 0 still faces 2's veto and the issue stays at b (no change needs no consent).
        s = one_issue([0.0, 1.0, 0.9], [1, 1, 1], [0, 1, 1], 1.0, red_low=[0, 0, 0.2], red_high=[1, 1, 0.8])
        s.allowed = [[0.0, 1.0]]
        _, _, w, d, g, _ = run(s)
        assert w.x_win[0, 1, 0] == 1.0 and not d[0, 1, 0] and g[0, 1] == 0.0

    def test_sets_missing_by_the_tolerance_meet_at_the_upper_bound(self) -> None:
        # b = 0.2, victor 0 at 0.9 without a right, loser 1; remaining holders 2 and 3 are indifferent with red lines
        # [0, 0.6] and [0.6 + 1e-10, 1]: they miss by less than RED_TOL, so they meet, at H = 0.6.
        s = one_issue([0.9, 0.0, 0.5, 0.5], [1, 1, 0, 0], [0, 1, 1, 1], 0.2, red_low=[0, 0, 0, 0.6 + 1e-10])
        s.red_high[2, 0] = 0.6
        _, _, w, _, _, _ = run(s)
        assert w.x_win[0, 1, 0] == 0.6

    def test_ties_go_to_the_baseline(self) -> None:
        # Continuous, b = 0.25, victor 0 at 0.5 (no right); after 1's defeat only 2 remains, indifferent (s = 0)
        # with red line [0.75, 1]: Q = [0.75, 1], nearest 0.75 at distance 0.25 = |b - 0.5|: a tie, so b.
        # An indifferent victor (s = 0) changes nothing either.
        s = one_issue([0.5, 1.0, 0.0, 0.0], [1, 1, 0, 0], [0, 1, 1, 0], 0.25, red_low=[0, 0, 0.75, 0])
        _, _, w, d, _, _ = run(s)
        assert w.x_win[0, 1, 0] == 0.25 and not d[0, 1].any()
        assert w.x_win[3, 1, 0] == 0.25


# =========================================================================== disputes, spoils: hand cases


def test_no_actor_disputes_with_itself() -> None:
    # Whatever outcomes it is given, D_ii is empty: x_win[0, 0] = 1 beats z = 0 for actor 0 (ideal 1), yet no dispute.
    x_win = A([[[1.0], [0.0]], [[0.0], [0.0]]])
    d = disputes(x_win, A([[0.0], [0.0]]), A([[1.0], [0.0]]), A([[1.0], [1.0]]), A([1.0, 1.0]), A([[1], [1]], bool))
    assert not d[0, 0, 0] and not d[1, 1, 0]


class TestSpoilsHand:
    def test_a_victor_overturning_its_own_agreement_pays_in_full(self) -> None:
        # Two holders, b = 0.5, p_0 = 0, p_1 = 1; 0 is bound with beta B = 2: G_01 = (1 - 2) * 0.5 = -0.5 (no floor:
        # G >= 0 needs beta B <= 1); 1's loss in defeat weighs 0's imposition by [1 - 2]_0^1 = 0: L_10 = 0.
        s = one_issue([0.0, 1.0], [1, 1], [1, 1], 0.5, bound=[2.0, 0.0])
        _, _, _, _, g, loss = run(s)
        assert g[0, 1] == pytest.approx(-0.5)
        assert g[1, 0] == pytest.approx(0.5)
        assert loss[1, 0] == 0.0
        assert loss[0, 1] == pytest.approx(-0.5)

    def test_a_red_line_inside_the_better_set_can_make_defeat_a_gain(self) -> None:
        # b = 0.2; actor 0 at 0.5 with red line [0.4, 1]: I_0 = [0.4, 0.8]. Actor 1 at 0.25: I_1 = [0.2, 0.3].
        # Q = empty, so z_1 = b and 1's victory (x = 0.25) is in dispute; for 0 it moves the issue from 0.2 to 0.25,
        # nearer its ideal but beyond its red line: L_01 = -0.25 + 0.3 = +0.05. L <= 0 holds where red lines do not
        # cut into the better-than-baseline set (test_signs).
        s = one_issue([0.5, 0.25], [1, 1], [1, 1], 0.2, red_low=[0.4, 0.0])
        _, _, w, d, _, loss = run(s)
        assert w.x_win[1, 0, 0] == pytest.approx(0.25) and d[1, 0, 0]
        assert loss[0, 1] == pytest.approx(0.05)


# =========================================================================== random states


@st.composite
def states(draw, max_n: int = 6, max_m: int = 5, beta_max: float = 2.0, red_lines: bool = True) -> State:
    """A random state: continuous and indivisible issues, coarse-grid values (ties, boundaries) or not."""
    n, m = draw(st.integers(2, max_n)), draw(st.integers(1, max_m))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    on_grid = draw(st.booleans())
    value = (lambda size: rng.choice(GRID, size)) if on_grid else (lambda size: rng.random(size))
    position = value((n, m))
    salience = np.where(rng.random((n, m)) < 0.25, 0.0, rng.uniform(0.05, 1.0, (n, m)))
    risk = rng.choice([0.5, 1.0, 2.0, 3.0], n) if on_grid else rng.uniform(0.5, 3.0, n)
    a, b = value((n, m)), value((n, m))
    full = rng.random((n, m)) < 0.5 if red_lines else np.ones((n, m), dtype=bool)
    red_low = np.where(full, 0.0, np.minimum(a, b))
    red_high = np.where(full, 1.0, np.maximum(a, b))
    baseline = value(m)
    allowed: list[list[float] | None] = [None] * m
    for j in range(m):
        if rng.random() < 0.4:
            baseline[j] = rng.choice(GRID)
            extra = rng.choice(GRID, rng.integers(1, 4))
            allowed[j] = sorted({float(baseline[j]), *map(float, extra)} | {float(rng.random())})
    competence = rng.random((n, m)) < 0.5
    beta = rng.choice([0.0, 0.5, 1.0, beta_max])
    bound = (rng.random((n, m)) < 0.3) * beta
    return State(position, salience, risk, red_low, red_high, baseline, competence, allowed, bound)


def reference(s: State):
    """The rules written from their definitions, one actor, issue and candidate at a time (plain Python)."""
    n, m = s.position.shape
    P, S, B = s.position.tolist(), s.salience.tolist(), s.baseline.tolist()
    RL, RH, C, R = s.red_low.tolist(), s.red_high.tolist(), s.competence.tolist(), s.risk.tolist()
    bound = [[0.0] * m for _ in range(n)] if s.bound is None else s.bound.tolist()

    def u(i: int, j: int, x: float) -> float:
        return -S[i][j] * abs(x - P[i][j]) ** R[i]

    def consent(k: int, j: int):
        """Continuous: (lo, hi) or None if empty; indivisible: the admissible allowed values."""
        if s.allowed[j] is None:
            d = abs(B[j] - P[k][j])
            lo, hi = (P[k][j] - d, P[k][j] + d) if S[k][j] > 0 else (0.0, 1.0)
            lo, hi = max(lo, RL[k][j], 0.0), min(hi, RH[k][j], 1.0)
            return (lo, hi) if lo <= hi + TOL else None
        return {
            v
            for v in s.allowed[j]
            if (S[k][j] == 0 or u(k, j, v) >= u(k, j, B[j])) and RL[k][j] - TOL <= v <= RH[k][j] + TOL
        }

    def favourite(i: int, j: int, holders: list[int]) -> float:
        b, p = B[j], P[i][j]
        if S[i][j] == 0:
            return b
        cands = [b]
        if s.allowed[j] is None:
            sets = [consent(k, j) for k in holders]
            if all(c is not None for c in sets):
                lo = max([0.0] + [c[0] for c in sets])
                hi = min([1.0] + [c[1] for c in sets])
                if lo <= hi + TOL:
                    lo = min(lo, hi)
                    cands += [lo, hi] + ([p] if lo <= p <= hi else [])
        else:
            vals = set(s.allowed[j])
            for k in holders:
                vals &= consent(k, j)
            cands += sorted(vals)
        return min(cands, key=lambda x: (abs(x - p), abs(x - b)))

    hold = [[k for k in range(n) if C[k][j]] for j in range(m)]
    z = [[favourite(i, j, hold[j]) for j in range(m)] for i in range(n)]
    x = [
        [[z[i][j] if t == i else favourite(i, j, [k for k in hold[j] if k != t]) for j in range(m)] for t in range(n)]
        for i in range(n)
    ]
    d = [
        [
            [t != i and C[t][j] and u(i, j, x[i][t][j]) > u(i, j, z[i][j]) + DISPUTE_EPS for j in range(m)]
            for t in range(n)
        ]
        for i in range(n)
    ]
    g = [[0.0] * n for _ in range(n)]
    loss = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for t in range(n):
            for j in range(m):
                if d[i][t][j]:
                    g[i][t] += (1.0 - bound[i][j]) * (u(i, j, x[i][t][j]) - u(i, j, B[j]))
                if d[t][i][j]:
                    loss[i][t] += min(1.0, max(0.0, 1.0 - bound[t][j])) * (u(i, j, x[t][i][j]) - u(i, j, B[j]))
    cons = [[consent(k, j) if C[k][j] else "none" for j in range(m)] for k in range(n)]
    return cons, A(x), A(z), A(d), A(g), A(loss)


@REFERENCE
@given(states())
def test_vectorised_equals_the_loop_reference(s: State) -> None:
    lo, hi, w, d, g, loss = run(s)
    cons, x, z, d_ref, g_ref, loss_ref = reference(s)
    # Every holder consents to no change wherever its red line allows it, exactly (not only up to rounding).
    b_ok = s.competence & (s.red_low <= s.baseline) & (s.baseline <= s.red_high)
    assert ((lo <= s.baseline) & (s.baseline <= hi))[b_ok].all()
    for k in range(s.n):
        for j, c in enumerate(cons[k]):
            if c == "none":
                assert np.isnan(lo[k, j]) and np.isnan(hi[k, j])
            elif c is None or c == set():
                assert (lo[k, j], hi[k, j]) == (INF, -INF)
            elif isinstance(c, set):
                assert (lo[k, j], hi[k, j]) == (min(c), max(c))
            else:
                np.testing.assert_allclose((lo[k, j], hi[k, j]), c, atol=TOL)
    np.testing.assert_allclose(w.x_win, x, atol=TOL)
    np.testing.assert_allclose(w.z, z, atol=TOL)
    np.testing.assert_array_equal(d, d_ref)
    np.testing.assert_allclose(g, g_ref, atol=TOL)
    np.testing.assert_allclose(loss, loss_ref, atol=TOL)


@PROPS
@given(states(), st.data())
def test_no_right_no_spoils(s: State, data: st.DataObject) -> None:
    # Consequence (i): an actor holding no right cannot be made to give anything up: G_it = 0 for every i, and
    # it loses nothing in defeat (L_ti = 0: no issue is in dispute against it).
    t = data.draw(st.integers(0, s.n - 1))
    s.competence[t] = False
    _, _, _, d, g, loss = run(s)
    assert not d[:, t].any()
    assert (g[:, t] == 0.0).all() and (loss[t, :] == 0.0).all()


@PROPS
@given(states(), st.data())
def test_equal_positions_no_dispute(s: State, data: st.DataObject) -> None:
    # Consequence (ii): t's ideal equals i's wherever both hold a position -> D_it is empty and G_it = 0. Needs t's
    # red line not to veto what i's own consent allows: t's red lines are i's, with i holding every right t holds,
    # or t has no red lines at all.
    i = data.draw(st.integers(0, s.n - 1))
    t = data.draw(st.integers(0, s.n - 1).filter(lambda t: t != i))
    s.position[t] = s.position[i]
    if data.draw(st.booleans()):
        s.red_low[t], s.red_high[t] = s.red_low[i], s.red_high[i]
        s.competence[i] |= s.competence[t]
    else:
        s.red_low[t], s.red_high[t] = 0.0, 1.0
    _, _, _, d, g, _ = run(s)
    assert not d[i, t].any()
    assert g[i, t] == 0.0


@PROPS
@given(states(beta_max=1.0, red_lines=False))
def test_signs(s: State) -> None:
    # G >= 0: a disputed issue has u(x) > u(z) + eps >= u(b) + eps, and 1 - beta B >= 0 when beta <= 1. L <= 0: the
    # loser's veto binds, so the victor's outcome lies outside the loser's consent set, which without red lines is
    # its better-than-baseline set. (With beta B > 1 or red lines either sign can flip: TestSpoilsHand.)
    _, _, _, _, g, loss = run(s)
    assert (g >= 0.0).all()
    assert (loss <= 0.0).all()


@PROPS
@given(states())
def test_a_two_holder_issue_gives_the_victor_its_ideal(s: State) -> None:
    # Consequence (iii): on a continuous issue held by {i, t} alone, i defeating t gets its ideal if it lies within
    # its own red line (i holds a position); whatever third actors want.
    _, _, w, _, _, _ = run(s)
    for j in range(s.position.shape[1]):
        holders = np.flatnonzero(s.competence[:, j])
        if s.allowed[j] is not None or holders.size != 2:
            continue
        for i, t in (holders, holders[::-1]):
            if s.salience[i, j] > 0 and s.red_low[i, j] <= s.position[i, j] <= s.red_high[i, j]:
                assert w.x_win[i, t, j] == pytest.approx(s.position[i, j], abs=1e-12)


@PROPS
@given(st.integers(0, 2**32 - 1))
def test_two_holders_reduce_to_the_imposition_rule(seed: int) -> None:
    # Two actors holding every issue, ideals on opposite sides of the baseline (so each veto binds), red lines
    # around their own ideals, random exponents and breach costs: G and L are the imposition rule's terms, to
    # rounding.
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 6))
    b = rng.uniform(0.1, 0.9, m)
    below = rng.random(m) < 0.5
    lower, upper = rng.uniform(0.0, b - 0.05), rng.uniform(b + 0.05, 1.0)
    position = np.vstack([np.where(below, lower, upper), np.where(below, upper, lower)])
    s = State(
        position=position,
        salience=rng.uniform(0.05, 1.0, (2, m)),
        risk=rng.uniform(0.5, 3.0, 2),
        red_low=rng.uniform(0.0, 1.0, (2, m)) * position,
        red_high=position + rng.uniform(0.0, 1.0, (2, m)) * (1.0 - position),
        baseline=b,
        competence=np.ones((2, m), dtype=bool),
        allowed=[None] * m,
        bound=(rng.random((2, m)) < 0.5) * rng.choice([0.0, 0.5, 1.0, 2.0]),
    )
    _, _, w, d, g, loss = run(s)
    np.testing.assert_allclose(w.x_win[0, 1], position[0], atol=1e-12)
    np.testing.assert_allclose(w.x_win[1, 0], position[1], atol=1e-12)
    assert d[0, 1].all() and d[1, 0].all()
    # The imposition rule (ODD 7.5 before issue 11): winning sets every issue to i's ideal (u = 0), losing to t's.
    u_base = issue_utilities(b[None, :], position, s.salience, s.risk)
    u_other = issue_utilities(position[::-1], position, s.salience, s.risk)  # u_ij(p_tj)
    for i, t in ((0, 1), (1, 0)):
        win = (1.0 - s.bound[i]) * (0.0 - u_base[i])
        lose = np.clip(1.0 - s.bound[t], 0.0, 1.0) * (u_other[i] - u_base[i])
        assert g[i, t] == pytest.approx(win.sum(), abs=1e-12)
        assert loss[i, t] == pytest.approx(lose.sum(), abs=1e-12)
