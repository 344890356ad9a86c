"""Known-answer tests of the pure rule functions in ``sim.rules``.

In the spirit of the Axelrod library's strategy tests: each rule is fed a small input whose
result is worked out by hand in the comments, from the equation in the rule's docstring.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from sim.rules.acceptance import Side, evaluate
from sim.rules.bargaining import (
    Group,
    Problem,
    best_package,
    expected_utility,
    group_probabilities,
    rule_met,
    rule_probability,
)
from sim.rules.coalitions import war_values as coalition_war_values
from sim.rules.dynamics import (
    climb_threshold,
    concession,
    desired_rung,
    next_rung,
    pull_toward_bloc,
    update_trust,
)
from sim.rules.spoils import consent_intervals, disputes, spoils, war_outcomes
from sim.rules.utility import compromise, discounted_gains, effective_trust, issue_utilities, project
from sim.rules.war import CostPriors, survival, win_probability

A = np.asarray
N_RANDOM_PROBLEMS = 40


def side(
    position,
    salience,
    *,
    id: str = "X",
    risk: float = 1.0,
    red_low=None,
    red_high=None,
    trust: float = 1.0,
    war_value: float = -100.0,
    prior: tuple[str, float, float, float] = ("fixed", 0.0, 0.0, 0.0),
    values_legal_form: float = 0.0,
    binding_cost: float = 0.0,
    linkage: frozenset[int] = frozenset(),
) -> Side:
    """A Side with harmless defaults: full trust, no war option worth having, no red lines."""
    position = A(position, dtype=float)
    return Side(
        id=id,
        position=position,
        salience=A(salience, dtype=float),
        risk=risk,
        red_low=np.zeros_like(position) if red_low is None else A(red_low, dtype=float),
        red_high=np.ones_like(position) if red_high is None else A(red_high, dtype=float),
        trust=trust,
        war_value=war_value,
        prior=prior,
        values_legal_form=values_legal_form,
        binding_cost=binding_cost,
        linkage=linkage,
    )


def problem(proposer: Side, recipients: list[Side] | list[Group], baseline, **kw) -> Problem:
    baseline = A(baseline, dtype=float)
    m = baseline.size
    groups = tuple(r if isinstance(r, Group) else Group(head=r) for r in recipients)
    defaults = dict(
        open_issues=np.ones(m, dtype=bool),
        compliance=np.zeros(m),
        allowed=[None] * m,
        no_deal=float(issue_utilities(baseline, proposer.position, proposer.salience, proposer.risk).sum()),
    )
    defaults.update(kw)
    return Problem(proposer=proposer, groups=groups, baseline=baseline, **defaults)


# =========================================================================== utility.py


class TestIssueUtilities:
    # outcome x = [0.2, 0.8]
    # actor 0: p = [0, 1],     s = [1, 0.5]  -> |x - p| = [0.2, 0.2] -> u = [-0.2, -0.1]
    # actor 1: p = [0.5, 0.5], s = [0.2, 1]  -> |x - p| = [0.3, 0.3] -> u = [-0.06, -0.3]
    x = A([0.2, 0.8])
    pos = A([[0.0, 1.0], [0.5, 0.5]])
    sal = A([[1.0, 0.5], [0.2, 1.0]])

    def test_linear(self) -> None:
        u = issue_utilities(self.x, self.pos, self.sal)
        np.testing.assert_allclose(u, [[-0.2, -0.1], [-0.06, -0.3]])

    def test_scalar_risk_exponent(self) -> None:
        # r = 2: |x - p|^2 = 0.04 / 0.09
        u = issue_utilities(self.x, self.pos, self.sal, 2.0)
        np.testing.assert_allclose(u, [[-0.04, -0.02], [-0.018, -0.09]])

    def test_per_actor_risk_exponent(self) -> None:
        # r = [1, 2]: actor 0 linear, actor 1 squared
        u = issue_utilities(self.x, self.pos, self.sal, A([1.0, 2.0]))
        np.testing.assert_allclose(u, [[-0.2, -0.1], [-0.018, -0.09]])

    def test_risk_seeking_exponent(self) -> None:
        # r = 0.5 at distance 0.25: sqrt(0.25) = 0.5
        assert issue_utilities(A([0.25]), A([0.0]), A([0.6]), 0.5) == pytest.approx([-0.3])

    def test_ideal_outcome_is_zero_and_zero_salience_is_indifferent(self) -> None:
        np.testing.assert_allclose(issue_utilities(self.pos[0], self.pos[0], self.sal[0]), [0.0, 0.0])
        np.testing.assert_allclose(issue_utilities(self.x, self.pos[0], np.zeros(2)), [0.0, 0.0])

    def test_convexity_of_risk_aversion(self) -> None:
        # risk-averse (r = 2) loses less than linear at small distances and more at large ones... on [0, 1]
        # d^2 <= d, so r > 1 makes utility on [0, 1] weakly higher: -d^2 >= -d
        d = np.linspace(0, 1, 11)
        assert np.all(issue_utilities(d, 0.0, 1.0, 2.0) >= issue_utilities(d, 0.0, 1.0, 1.0) - 1e-15)

    def test_utility_sums_over_issues(self) -> None:
        np.testing.assert_allclose(issue_utilities(self.x, self.pos, self.sal).sum(axis=-1), [-0.3, -0.36])
        np.testing.assert_allclose(
            issue_utilities(self.x, self.pos, self.sal, A([1.0, 2.0])).sum(axis=-1), [-0.3, -0.108]
        )


class TestEffectiveTrust:
    def test_political_form_leaves_trust_unchanged(self) -> None:
        assert effective_trust(0.4, 1.0, binding=False, legal_boost=0.5) == pytest.approx(0.4)

    def test_binding_form_removes_share_of_distrust(self) -> None:
        # 0.4 + 0.5 * 1.0 * (1 - 0.4) = 0.7
        assert effective_trust(0.4, 1.0, binding=True, legal_boost=0.5) == pytest.approx(0.7)
        # v_legal = 0.5: 0.4 + 0.5 * 0.5 * 0.6 = 0.55
        assert effective_trust(0.4, 0.5, binding=True, legal_boost=0.5) == pytest.approx(0.55)

    def test_binding_form_is_worthless_to_actor_that_does_not_value_it(self) -> None:
        assert effective_trust(0.4, 0.0, binding=True, legal_boost=1.0) == pytest.approx(0.4)

    def test_full_boost_and_full_value_mean_full_trust(self) -> None:
        assert effective_trust(0.1, 1.0, binding=True, legal_boost=1.0) == pytest.approx(1.0)

    def test_vectorised(self) -> None:
        # [0, 0.5, 1] with boost 0.5, v = [1, 0, 1] -> [0.5, 0.5, 1]
        out = effective_trust(A([0.0, 0.5, 1.0]), A([1.0, 0.0, 1.0]), True, 0.5)
        np.testing.assert_allclose(out, [0.5, 0.5, 1.0])


class TestDiscountedChange:
    gains = A([0.3, -0.2, 0.1])
    kappa = A([1.0, 1.0, 0.5])

    def test_gains_discounted_losses_not(self) -> None:
        # tau = 0.4: weights [1 - 1*0.6, 1 (loss), 1 - 0.5*0.6] = [0.4, 1, 0.7]
        # 0.3*0.4 - 0.2 + 0.1*0.7 = 0.12 - 0.2 + 0.07 = -0.01
        assert discounted_gains(self.gains, self.kappa, 0.4).sum(axis=-1) == pytest.approx(-0.01)

    def test_full_trust_is_plain_sum(self) -> None:
        assert discounted_gains(self.gains, self.kappa, 1.0).sum(axis=-1) == pytest.approx(0.2)

    def test_no_trust_keeps_only_self_enforcing_share(self) -> None:
        # tau = 0: weights [0, 1, 0.5] -> 0 - 0.2 + 0.05
        assert discounted_gains(self.gains, self.kappa, 0.0).sum(axis=-1) == pytest.approx(-0.15)

    def test_loss_never_discounted(self) -> None:
        assert discounted_gains(A([-0.5]), A([1.0]), 0.0).sum(axis=-1) == pytest.approx(-0.5)

    def test_batched_over_rows_with_per_row_trust(self) -> None:
        g = A([[0.3, -0.2], [0.5, 0.5]])
        out = discounted_gains(g, A([1.0, 0.0]), A([[0.5], [0.0]])).sum(axis=-1)
        # row 0: 0.3*0.5 - 0.2 = -0.05; row 1: 0.5*0 + 0.5*1 (compliance 0) = 0.5
        np.testing.assert_allclose(out, [-0.05, 0.5])


class TestCompromise:
    def test_capability_salience_weighted_mean(self) -> None:
        # issue 0: w = c*s = [1*1, 2*0.5, 1*1] = [1, 1, 1] -> (0 + 1 + 0.5) / 3 = 0.5
        # issue 1: w = [1*0.2, 2*0, 1*0.6] = [0.2, 0, 0.6] -> (0.2*1 + 0.6*0) / 0.8 = 0.25
        pos = A([[0.0, 1.0], [1.0, 0.0], [0.5, 0.0]])
        cap = A([1.0, 2.0, 1.0])
        sal = A([[1.0, 0.2], [0.5, 0.0], [1.0, 0.6]])
        np.testing.assert_allclose(compromise(pos, cap, sal), [0.5, 0.25])

    def test_capability_weights(self) -> None:
        # (3*0 + 1*1) / 4 = 0.25
        assert compromise(A([[0.0], [1.0]]), A([3.0, 1.0]), A([[1.0], [1.0]])) == pytest.approx([0.25])

    def test_no_weight_gives_nan(self) -> None:
        pos = A([[0.2, 0.3], [0.8, 0.9]])
        out = compromise(pos, A([1.0, 0.0]), A([[0.0, 1.0], [1.0, 1.0]]))
        # issue 0: weights [0, 0] -> NaN; issue 1: only actor 0 -> 0.3
        assert np.isnan(out[0])
        assert out[1] == pytest.approx(0.3)

    def test_unanimous_position_is_the_outcome(self) -> None:
        assert compromise(A([[0.7], [0.7]]), A([0.1, 5.0]), A([[0.3], [1.0]])) == pytest.approx([0.7])


class TestProject:
    def test_nearest_point_of_interval(self) -> None:
        out = project(A([-0.1, 0.5, 1.2, 0.3]), A([0.0, 0.6, 0.0, 0.2]), A([1.0, 1.0, 1.0, 0.4]))
        np.testing.assert_allclose(out, [0.0, 0.6, 1.0, 0.3])

    def test_degenerate_interval(self) -> None:
        np.testing.assert_allclose(project(A([0.0, 0.5, 1.0]), A([1.0] * 3), A([1.0] * 3)), [1.0] * 3)


# =========================================================================== war.py


class TestWinProbability:
    def test_ratio(self) -> None:
        assert win_probability(3.0, 1.0) == pytest.approx(0.75)
        assert win_probability(1.0, 3.0) == pytest.approx(0.25)
        assert win_probability(0.0, 2.0) == pytest.approx(0.0)

    def test_zero_over_zero_is_even(self) -> None:
        assert win_probability(0.0, 0.0) == pytest.approx(0.5)

    def test_broadcasts_to_matrix_and_is_complementary(self) -> None:
        c = A([1.0, 3.0, 0.0])
        p = win_probability(c[:, None], c[None, :])
        np.testing.assert_allclose(p, [[0.5, 0.25, 1.0], [0.75, 0.5, 1.0], [0.0, 0.0, 0.5]])
        np.testing.assert_allclose(p + p.T, np.ones((3, 3)))


def war_values(pos, sal, risk, base, p, k, comp, bound=None) -> np.ndarray:
    """The attacker's war values ``W[i, t]`` through the model's rules: spoils over the issues in dispute
    (no red lines, continuous issues), then the lottery with win probabilities ``p`` and threat costs ``k``."""
    n, m = pos.shape
    lo, hi = consent_intervals(pos, sal, np.zeros((n, m)), np.ones((n, m)), base, comp, [None] * m)
    won = war_outcomes(pos, sal, lo, hi, base, comp, [None] * m)
    g, loss = spoils(won.x_win, disputes(won.x_win, won.z, pos, sal, risk, comp), pos, sal, risk, base, bound)
    u_base = issue_utilities(base[None, :], pos, sal, risk).sum(axis=1)
    return coalition_war_values(u_base, g, loss, p, k)[0]


class TestWarValues:
    """Two actors, one issue (Fearon 1995): A wants 1, B wants 0, status quo 0, both competent. On an issue
    only the two hold, the victor gets its ideal, as under the imposition rule before issue 11."""

    pos = A([[1.0], [0.0]])
    sal = A([[1.0], [1.0]])
    risk = A([1.0, 1.0])
    base = A([0.0])
    comp = A([[True], [True]])

    def p_matrix(self, p: float) -> np.ndarray:
        return A([[0.5, p], [1.0 - p, 0.5]])

    def test_two_actor_fearon(self) -> None:
        # U_A(b) = -1. Winning sets x to 1 (gain 1); losing sets it to B's 0 (gain 0):
        #   W_AB = -1 + p * 1 - k_AB = p - 1 - k
        # U_B(b) = 0. Winning keeps 0 (gain 0); losing sets it to A's 1 (gain -1), with prob 1 - p_BA = p:
        #   W_BA = -p - k_BA
        p, k = 0.3, A([[0.0, 0.2], [0.05, 0.0]])
        w = war_values(self.pos, self.sal, self.risk, self.base, self.p_matrix(p), k, self.comp)
        assert w[0, 1] == pytest.approx(p - 1 - 0.2)
        assert w[1, 0] == pytest.approx(-p - 0.05)

    @pytest.mark.parametrize("p", [0.0, 0.25, 0.6, 1.0])
    def test_two_actor_fearon_any_p(self, p: float) -> None:
        w = war_values(self.pos, self.sal, self.risk, self.base, self.p_matrix(p), np.zeros((2, 2)), self.comp)
        assert (w[0, 1], w[1, 0]) == pytest.approx((p - 1, -p))

    def test_risk_exponent(self) -> None:
        # baseline 0.5, r = 2: U_A(b) = -0.25, win gain 0.25, lose gain (u(0) - u(0.5)) = -1 + 0.25 = -0.75
        # W_AB = -0.25 + p * 0.25 + (1 - p) * (-0.75) at p = 0.4: -0.25 + 0.1 - 0.45 = -0.6
        w = war_values(self.pos, self.sal, A([2.0, 2.0]), A([0.5]), self.p_matrix(0.4), np.zeros((2, 2)), self.comp)
        assert w[0, 1] == pytest.approx(-0.6)

    def test_breach_cost_cancels_or_reverses_the_gain(self) -> None:
        p = 0.3
        # beta = 1 for both: overturning is worth nothing: W_AB = -1, W_BA = 0
        bound = A([[1.0], [1.0]])
        w = war_values(self.pos, self.sal, self.risk, self.base, self.p_matrix(p), np.zeros((2, 2)), self.comp, bound)
        assert (w[0, 1], w[1, 0]) == pytest.approx((-1.0, 0.0))
        # beta = 2: A's own reneging costs it: W_AB = -1 + p * (1 - 2) * 1 = -1 - p. A victorious A imposes
        # nothing on what it agreed (clip of 1 - 2 to 0), so B's loss term vanishes: W_BA = 0.
        w = war_values(
            self.pos, self.sal, self.risk, self.base, self.p_matrix(p), np.zeros((2, 2)), self.comp, 2 * bound
        )
        assert (w[0, 1], w[1, 0]) == pytest.approx((-1.0 - p, 0.0))

    def test_breach_cost_counts_for_whoever_overturns(self) -> None:
        # Only A is bound (beta_A = 1): A's victory overturns nothing it may gain (W_AB = -1);
        # B's defeat is A overturning, so B no longer fears it (W_BA = 0). B is free: nothing changes for it.
        bound = A([[1.0], [0.0]])
        w = war_values(self.pos, self.sal, self.risk, self.base, self.p_matrix(0.3), np.zeros((2, 2)), self.comp, bound)
        assert (w[0, 1], w[1, 0]) == pytest.approx((-1.0, 0.0))
        # Only B bound: A's gain is unaffected (-0.7); B's own victory would gain it nothing anyway.
        bound = A([[0.0], [1.0]])
        w = war_values(self.pos, self.sal, self.risk, self.base, self.p_matrix(0.3), np.zeros((2, 2)), self.comp, bound)
        assert (w[0, 1], w[1, 0]) == pytest.approx((-0.7, -0.3))

    def test_three_actors_only_the_losers_consent_changes_hands(self) -> None:
        # One issue, baseline 0.5; A wants 1, B and C want 0; all salience 1; only C has competence.
        # U_i(b) = -0.5 for all. C consents to [0, 0.5] (what it weakly prefers to 0.5).
        pos = A([[1.0], [0.0], [0.0]])
        sal = np.ones((3, 1))
        comp = A([[False], [False], [True]])
        p = A([[0.5, 0.6, 0.7], [0.4, 0.5, 0.2], [0.3, 0.8, 0.5]])
        w = war_values(pos, sal, np.ones(3), A([0.5]), p, np.zeros((3, 3)), comp)
        # A vs B: B holds no right -> nothing to win or lose: W_AB = -0.5, and likewise W_BA
        assert w[0, 1] == pytest.approx(-0.5)
        assert w[1, 0] == pytest.approx(-0.5)
        # A vs C: winning takes C's consent, no other holder: x -> 1 (gain 0.5); losing takes A's consent,
        # which A does not have: W_AC = -0.5 + 0.7 * 0.5 = -0.15
        assert w[0, 2] == pytest.approx(-0.15)
        # C vs A: nothing to win; losing (prob 0.7) x -> 1, gain -0.5: -0.5 - 0.35 = -0.85
        assert w[2, 0] == pytest.approx(-0.85)
        # B vs C: C would consent to B's ideal 0 anyway, so it is not in dispute: nothing to win (the imposition
        # rule gave -0.4 here), and C has nothing to lose to B
        assert w[1, 2] == pytest.approx(-0.5)
        assert w[2, 1] == pytest.approx(-0.5)

    def test_no_position_no_stake(self) -> None:
        # B holds the right but no position (salience 0): it consents to anything, so A can have 1 without a
        # war and nothing is in dispute either way.
        sal = A([[1.0], [0.0]])
        w = war_values(self.pos, sal, self.risk, self.base, self.p_matrix(0.3), np.zeros((2, 2)), self.comp)
        assert w[0, 1] == pytest.approx(-1.0)
        assert w[1, 0] == pytest.approx(0.0)  # B is indifferent


class TestCostPriors:
    priors = CostPriors(["fixed", "uniform", "triangular"], [0.3, 0.0, 1.0], [0.3, 0.0, 1.5], [0.3, 0.6, 3.0])

    def test_sample_is_deterministic_per_seed(self) -> None:
        a = self.priors.sample(np.random.default_rng(12345))
        b = self.priors.sample(np.random.default_rng(12345))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, self.priors.sample(np.random.default_rng(54321)))

    def test_sample_values_follow_numpy_draws_in_actor_order(self) -> None:
        rng = np.random.default_rng(7)
        expected_u = rng.uniform(0.0, 0.6)
        expected_t = rng.triangular(1.0, 1.5, 3.0)
        out = self.priors.sample(np.random.default_rng(7))
        np.testing.assert_allclose(out, [0.3, expected_u, expected_t])

    def test_fixed_cost_consumes_no_random_number(self) -> None:
        only_uniform = CostPriors(["uniform"], [0.0], [0.0], [0.6])
        with_fixed = CostPriors(["fixed", "fixed", "uniform"], [0.2, 0.9, 0.0], [0.2, 0.9, 0.0], [0.2, 0.9, 0.6])
        a = only_uniform.sample(np.random.default_rng(3))
        b = with_fixed.sample(np.random.default_rng(3))
        assert b[2] == a[0]
        np.testing.assert_allclose(b[:2], [0.2, 0.9])

    def test_draws_within_support(self) -> None:
        rng = np.random.default_rng(0)
        draws = np.array([self.priors.sample(rng) for _ in range(500)])
        assert np.all(draws[:, 0] == 0.3)
        assert np.all((draws[:, 1] >= 0.0) & (draws[:, 1] <= 0.6))
        assert np.all((draws[:, 2] >= 1.0) & (draws[:, 2] <= 3.0))

    def test_prior_tuple(self) -> None:
        assert self.priors.prior(2) == ("triangular", 1.0, 1.5, 3.0)
        assert self.priors.prior(0) == ("fixed", 0.3, 0.3, 0.3)


class TestSurvival:
    xs = np.linspace(-0.5, 3.5, 81)

    def test_fixed(self) -> None:
        # P(c >= x) for c = 0.3: 1 for x <= 0.3, else 0
        out = survival(A(["fixed"] * 3), A([0.3] * 3), A([0.3] * 3), A([0.3] * 3), A([0.2, 0.3, 0.31]))
        np.testing.assert_array_equal(out, [1.0, 1.0, 0.0])

    def test_uniform_matches_scipy(self) -> None:
        n = self.xs.size
        out = survival(A(["uniform"] * n), np.full(n, 0.5), np.full(n, 0.5), np.full(n, 2.0), self.xs)
        np.testing.assert_allclose(out, stats.uniform.sf(self.xs, loc=0.5, scale=1.5), atol=1e-12)

    @pytest.mark.parametrize("low,mode,high", [(1.0, 1.5, 3.0), (0.0, 0.0, 0.3), (0.0, 0.3, 0.3), (0.0, 0.05, 0.4)])
    def test_triangular_matches_scipy(self, low: float, mode: float, high: float) -> None:
        n = self.xs.size
        out = survival(A(["triangular"] * n), np.full(n, low), np.full(n, mode), np.full(n, high), self.xs)
        ref = stats.triang.sf(self.xs, c=(mode - low) / (high - low), loc=low, scale=high - low)
        np.testing.assert_allclose(out, ref, atol=1e-12)

    def test_hand_values(self) -> None:
        # uniform [0, 0.3] at 0.1: (0.3 - 0.1) / 0.3 = 2/3
        # triangular (0, 0.1, 0.3) at 0.05: 1 - 0.05^2 / (0.3 * 0.1) = 1 - 1/12
        #                         at 0.2: (0.3 - 0.2)^2 / (0.3 * 0.2) = 1/6
        kind = A(["uniform", "triangular", "triangular"])
        out = survival(kind, A([0.0, 0.0, 0.0]), A([0.0, 0.1, 0.1]), A([0.3, 0.3, 0.3]), A([0.1, 0.05, 0.2]))
        np.testing.assert_allclose(out, [2 / 3, 11 / 12, 1 / 6])

    def test_mixed_kinds_broadcast_over_candidates(self) -> None:
        # (K=2 candidates, S=3 actors) thresholds; one prior per actor on the last axis
        kind = A(["fixed", "uniform", "triangular"])
        low, mode, high = A([0.3, 0.0, 1.0]), A([0.3, 0.0, 1.5]), A([0.3, 0.6, 3.0])
        x = A([[0.0, 0.3, 1.5], [1.0, 0.6, 3.0]])
        out = survival(kind, low, mode, high, x)
        ref = [
            [1.0, 0.5, stats.triang.sf(1.5, c=0.25, loc=1.0, scale=2.0)],
            [0.0, 0.0, 0.0],
        ]
        np.testing.assert_allclose(out, ref, atol=1e-12)
        # kinds given explicitly: same answer
        np.testing.assert_allclose(survival(kind, low, mode, high, x, frozenset(kind.tolist())), out)


# =========================================================================== bargaining.py


class TestRuleMet:
    def test_unanimity(self) -> None:
        assert rule_met([True, True, True], "unanimity")
        assert not rule_met([True, False, True], "unanimity")
        assert rule_met([], "unanimity")
        assert rule_met([], "majority")  # no voters: met (documented)

    def test_majority_strictly_more_than_half(self) -> None:
        assert rule_met([True, True, False], "majority")
        assert not rule_met([True, False], "majority")  # 1 of 2 is a tie, not a majority
        assert not rule_met([True, False, False], "majority")

    def test_majority_with_sure_votes(self) -> None:
        # 1 of 2 plus the proposer's sure vote: 2 of 3
        assert rule_met([True, False], "majority", extra_yes=1)
        # 1 of 3 plus 1 sure: 2 of 4 is a tie
        assert not rule_met([True, False, False], "majority", extra_yes=1)
        assert rule_met([False, False, False], "majority", extra_yes=4)


def brute_force_probability(p: np.ndarray, rule: str, extra_yes: int) -> float:
    """Sum over all 2^n vote patterns of P(pattern) * [rule met]."""
    total = 0.0
    for votes in itertools.product([False, True], repeat=p.size):
        v = np.asarray(votes)
        prob = float(np.prod(np.where(v, p, 1.0 - p)))
        total += prob * rule_met(list(votes), rule, extra_yes)  # type: ignore[arg-type]
    return total


class TestRuleProbability:
    def test_unanimity_is_product(self) -> None:
        assert rule_probability(A([0.5, 0.8, 0.9]), "unanimity") == pytest.approx(0.36)

    def test_majority_hand_case(self) -> None:
        # three voters 0.5, 0.5, 0.5: P(>= 2 yes) = 4/8
        assert rule_probability(A([0.5, 0.5, 0.5]), "majority") == pytest.approx(0.5)
        # two voters 0.6, 0.5 + proposer: need >= 1 of 2: 1 - 0.4 * 0.5 = 0.8
        assert rule_probability(A([0.6, 0.5]), "majority", extra_yes=1) == pytest.approx(0.8)

    @pytest.mark.parametrize("n", range(1, 7))
    @pytest.mark.parametrize("extra_yes", [0, 1])
    @pytest.mark.parametrize("rule", ["majority", "unanimity"])
    def test_matches_brute_force_enumeration(self, n: int, extra_yes: int, rule: str) -> None:
        rng = np.random.default_rng(100 * n + extra_yes)
        for _ in range(5):
            p = rng.uniform(size=n)
            p[rng.uniform(size=n) < 0.2] = rng.choice([0.0, 1.0])  # some sure votes
            expected = brute_force_probability(p, rule, extra_yes if rule == "majority" else 0)
            got = rule_probability(p, rule, extra_yes if rule == "majority" else 0)  # type: ignore[arg-type]
            assert got == pytest.approx(expected, abs=1e-12), (p, rule, extra_yes)

    def test_batched_rows(self) -> None:
        rng = np.random.default_rng(1)
        p = rng.uniform(size=(4, 5))
        out = rule_probability(p, "majority", extra_yes=1)
        assert out.shape == (4,)
        for row, got in zip(p, out, strict=True):
            assert got == pytest.approx(brute_force_probability(row, "majority", 1), abs=1e-12)

    def test_no_voters_unanimity_is_certain(self) -> None:
        assert rule_probability(np.zeros(0), "unanimity") == pytest.approx(1.0)
        assert rule_probability(np.zeros(0), "majority", extra_yes=1) == pytest.approx(1.0)

    def test_no_voters_majority_agrees_with_rule_met(self) -> None:
        # no voters: the rule is met (a bloc whose members all sit at the table decides by its own answer)
        for extra in (0, 1):
            assert rule_probability(np.zeros(0), "majority", extra) == pytest.approx(
                float(rule_met([], "majority", extra))
            )
        assert rule_probability(np.zeros((3, 0)), "unanimity").shape == (3,)


class TestPackageValue:
    def test_gains_discounted_by_trust(self) -> None:
        # p = [0, 0], s = [1, 0.5], baseline [1, 0] -> U(b) = -1
        # outcome [0.2, 0.4]: gains [0.8, -0.2]; compliance [1, 1], tau 0.5 -> 0.4 - 0.2 = 0.2 -> V = -0.8
        # at full trust the gains are 0.8 - 0.2 = 0.6 -> V = -0.4: the trust discount is 0.4
        s = side([0.0, 0.0], [1.0, 0.5], trust=0.5)
        ev = evaluate(
            s,
            A([0.2, 0.4]),
            A([True, True]),
            A([1.0, 0.0]),
            A([1.0, 1.0]),
            A([True, True]),
            private_cost=0.0,
            binding=False,
            legal_boost=0.5,
            ultimatum=False,
        )
        assert ev.trust_effective == 0.5
        assert ev.status_quo_value == pytest.approx(-1.0)
        assert ev.value == pytest.approx(-0.8)
        assert ev.trust_discount == pytest.approx(0.4)


class TestEvaluate:
    def call(self, s: Side, outcome, include, baseline, **kw):
        outcome, baseline = A(outcome, dtype=float), A(baseline, dtype=float)
        args = dict(
            compliance=np.zeros(outcome.size),
            open_issues=np.ones(outcome.size, dtype=bool),
            private_cost=0.0,
            binding=False,
            legal_boost=0.5,
            ultimatum=False,
        )
        args.update(kw)
        return evaluate(s, outcome, A(include, dtype=bool), baseline, **args)

    def test_red_line_rejects_whatever_the_value(self) -> None:
        # ideal 0, status quo 1 (U = -1); outcome 0.6 is worth -0.6 > -1 but lies outside [0, 0.5]
        s = side([0.0], [1.0], red_low=[0.0], red_high=[0.5])
        ev = self.call(s, [0.6], [True], [1.0])
        assert not ev.accepted
        assert ev.reason == "crosses red line"
        assert ev.crossed_red_lines == [0]
        assert ev.value > ev.reservation  # it would have been accepted on value

    def test_red_line_ignores_issues_left_out(self) -> None:
        s = side([0.0, 0.0], [1.0, 1.0], red_low=[0.0, 0.0], red_high=[0.5, 0.5])
        ev = self.call(s, [0.2, 0.9], [True, False], [1.0, 0.9])
        assert ev.accepted
        assert ev.crossed_red_lines == []

    def test_linkage_rejects(self) -> None:
        s = side([0.0, 0.0], [1.0, 1.0], linkage=frozenset({1}))
        ev = self.call(s, [0.0, 1.0], [True, False], [1.0, 1.0])
        assert not ev.accepted
        assert ev.reason == "leaves out a linked issue"
        assert ev.missing_linkage == [1]

    def test_linkage_only_for_open_issues(self) -> None:
        s = side([0.0, 0.0], [1.0, 1.0], linkage=frozenset({1}))
        ev = self.call(s, [0.0, 1.0], [True, False], [1.0, 1.0], open_issues=A([True, False]))
        assert ev.accepted
        assert ev.missing_linkage == []

    def test_value_against_status_quo(self) -> None:
        # ideal 0, baseline 1: outcome 0.4 -> V = -0.4 >= U(sq) = -1, war is hopeless -> accept
        s = side([0.0], [1.0])
        ev = self.call(s, [0.4], [True], [1.0])
        assert ev.accepted and ev.reason == "beats the alternative"
        assert (ev.value, ev.status_quo_value, ev.reservation) == pytest.approx((-0.4, -1.0, -1.0))
        # a package worse than the status quo: baseline 0.2, outcome 0.4 -> -0.4 < -0.2
        ev = self.call(s, [0.4], [True], [0.2])
        assert not ev.accepted and ev.reason == "worse than the status quo"

    def test_value_against_war(self) -> None:
        # war value -0.2, private cost 0.1 -> war option -0.3 > sq -1 -> R = -0.3 > V = -0.4
        s = side([0.0], [1.0], war_value=-0.2)
        ev = self.call(s, [0.4], [True], [1.0], private_cost=0.1)
        assert not ev.accepted and ev.reason == "war is better"
        assert (ev.war_option, ev.reservation) == pytest.approx((-0.3, -0.3))
        # a cheaper package beats war: V(0.25) = -0.25 >= -0.3
        assert self.call(s, [0.25], [True], [1.0], private_cost=0.1).accepted

    def test_ultimatum_reservation_is_the_war_option(self) -> None:
        # sq = 0 (baseline at the ideal); V(0.5) = -0.5; war option -0.4 - 0.2 = -0.6
        s = side([0.0], [1.0], war_value=-0.4)
        normal = self.call(s, [0.5], [True], [0.0], private_cost=0.2)
        assert not normal.accepted and normal.reservation == pytest.approx(0.0)
        ult = self.call(s, [0.5], [True], [0.0], private_cost=0.2, ultimatum=True)
        assert ult.accepted and ult.reservation == pytest.approx(-0.6)
        # and even when war is worse than the status quo, rejection means war
        assert not self.call(s, [0.7], [True], [0.0], private_cost=0.2, ultimatum=True).accepted

    def test_trust_discount_logged(self) -> None:
        # baseline 1, outcome 0 -> gain 1, compliance 1, trust 0.4 -> V = -1 + 0.4 = -0.6, discount 0.6
        s = side([0.0], [1.0], trust=0.4, values_legal_form=1.0)
        ev = self.call(s, [0.0], [True], [1.0], compliance=A([1.0]))
        assert (ev.value, ev.trust, ev.trust_effective, ev.trust_discount) == pytest.approx((-0.6, 0.4, 0.4, 0.6))
        # legally binding, boost 0.5: tau_eff = 0.4 + 0.5 * 0.6 = 0.7 -> V = -0.3, discount 0.3
        ev = self.call(s, [0.0], [True], [1.0], compliance=A([1.0]), binding=True)
        assert (ev.value, ev.trust_effective, ev.trust_discount) == pytest.approx((-0.3, 0.7, 0.3))

    def test_discount_can_turn_acceptance_into_rejection(self) -> None:
        # war option -0.5: undiscounted V = 0 (accept), with trust 0.4 V = -0.6 < -0.5 (reject)
        s = side([0.0], [1.0], trust=0.4, war_value=-0.5)
        assert self.call(s, [0.0], [True], [1.0]).accepted  # compliance 0: nothing to discount
        ev = self.call(s, [0.0], [True], [1.0], compliance=A([1.0]))
        assert not ev.accepted and ev.reason == "war is better"


class TestGroupAndExpectedUtility:
    def test_group_probability_of_bloc_with_members(self) -> None:
        # Recipients: ultimatum-free, uniform cost priors on [0, 1], war values chosen so that at
        # outcome 0.5 (from baseline 1, ideals 0) V = -0.5 and P(accept) = P(c >= W + 0.5) = 0.5 - W.
        def r(w: float, i: str) -> Side:
            return side([0.0], [1.0], id=i, war_value=w, prior=("uniform", 0.0, 0.0, 1.0))

        head, m1, m2 = r(-0.3, "H"), r(-0.1, "M1"), r(0.0, "M2")  # 0.8, 0.6, 0.5
        prop = side([1.0], [1.0], id="P")
        maj = problem(prop, [Group(head=head, members=(m1, m2), rule="majority")], [1.0])
        una = problem(prop, [Group(head=head, members=(m1, m2), rule="unanimity")], [1.0])
        x, inc = A([[0.5]]), A([[True]])
        # majority of two members = both: 0.3; head 0.8 -> 0.24; unanimity likewise
        np.testing.assert_allclose(group_probabilities(maj, x, inc, False), [[0.24]])
        np.testing.assert_allclose(group_probabilities(una, x, inc, False), [[0.24]])
        # three members (0.6, 0.5, 0.5), majority = at least two: all three 0.15; exactly two
        #   0.6*0.5*0.5 (M3 no) + 0.6*0.5*0.5 (M2 no) + 0.4*0.5*0.5 (M1 no) = 0.4  -> 0.55; times head 0.8
        maj3 = problem(prop, [Group(head=head, members=(m1, m2, r(0.0, "M3")), rule="majority")], [1.0])
        np.testing.assert_allclose(group_probabilities(maj3, x, inc, False), [[0.8 * 0.55]])
        alone = problem(prop, [head, m1], [1.0])
        np.testing.assert_allclose(group_probabilities(alone, x, inc, False), [[0.8, 0.6]])

    def test_expected_utility(self) -> None:
        # Proposer ideal 1, baseline 0 (U = -1), no deal -1.5. One recipient (ideal 0, war value 0,
        # cost ~ U[0, 1]) at x = 0.5: V_R = -0.5, P(c >= W - V_R) = P(c >= 0.5) = 0.5.
        # Proposer: V = -0.5;  EU = 0.5 * -0.5 + 0.5 * -1.5 = -1.0
        rec = side([0.0], [1.0], war_value=0.0, prior=("uniform", 0.0, 0.0, 1.0))
        prop = side([1.0], [1.0])
        prob = problem(prop, [rec], [0.0], no_deal=-1.5, ultimatum=True)
        eu, p = expected_utility(prob, A([[0.5], [0.0]]), A([[True], [True]]), False)
        # x = 0: V_R = 0, P(c >= 0) = 1; V = -1 -> EU = -1
        np.testing.assert_allclose(eu, [-1.0, -1.0])
        np.testing.assert_allclose(p, [0.5, 1.0])

    def test_expected_utility_discounts_proposer_gains(self) -> None:
        # proposer trust 0.5, compliance 1: gain 1 (baseline 0 -> 1) worth 0.5 -> V = -1 + 0.5; p = 1
        rec = side([1.0], [1.0])
        prop = side([1.0], [1.0], trust=0.5)
        prob = problem(prop, [rec], [0.0], compliance=A([1.0]))
        eu, p = expected_utility(prob, A([[1.0]]), A([[True]]), False)
        assert (eu[0], p[0]) == pytest.approx((-0.5, 1.0))

    def test_expected_utility_charges_binding_cost(self) -> None:
        rec = side([0.0], [1.0], values_legal_form=1.0)
        prop = side([1.0], [1.0], binding_cost=0.1)
        prob = problem(prop, [rec], [1.0])
        eu_pol, _ = expected_utility(prob, A([[1.0]]), A([[True]]), False)
        eu_bin, _ = expected_utility(prob, A([[1.0]]), A([[True]]), True)
        assert eu_pol[0] - eu_bin[0] == pytest.approx(0.1)


class TestBestPackage:
    @pytest.mark.parametrize("p", [0.3, 0.5, 0.6, 0.95])
    def test_fearon_one_issue_demand(self, p: float) -> None:
        # A (ideal 1) makes an ultimatum to B (ideal 0, c_B ~ U[0, 0.3]); status quo 0, c_A = 0.1.
        # W_B = -p (gross), no deal for A = p - 1 - 0.1. Optimum x* = min(1, p + (0.3 - 0.1) / 2);
        # adoption probability S_B(x* - p) = (0.3 - (x* - p)) / 0.3.
        b = side([0.0], [1.0], id="B", war_value=-p, prior=("uniform", 0.0, 0.0, 0.3))
        a = side([1.0], [1.0], id="A")
        prob = problem(a, [b], [0.0], no_deal=p - 1 - 0.1, ultimatum=True)
        prop = best_package(prob)
        x_star = min(1.0, p + (0.3 - 0.1) / 2)
        assert prop.include[0]
        assert abs(prop.values[0] - x_star) <= 1e-3
        assert prop.p_adopt == pytest.approx((0.3 - (x_star - p)) / 0.3, abs=5e-3)
        assert prop.legal_form == "political"

    def test_logrolling(self) -> None:
        # P: ideal [1, 1], salience [1, 0.1]; R: ideal [0, 0], salience [0.5, 1]; baseline [0.5, 0.5].
        # R accepts any package it weakly prefers to the status quo (its war option is hopeless):
        #   0.5 * (x0 - 0.5) + (x1 - 0.5) <= 0.   P maximises x0 + 0.1 * x1.
        # Per unit of R's loss, issue 0 gives P 1 / 0.5 = 2 and issue 1 only 0.1 / 1 = 0.1, so P takes
        # all of issue 0 (x0 = 1, costing R 0.25) and pays for it on issue 1: x1 = 0.5 - 0.25 = 0.25,
        # below the status quo toward R. Without the trade (one issue at a time) nothing moves.
        pp = side([1.0, 1.0], [1.0, 0.1], id="P")
        rr = side([0.0, 0.0], [0.5, 1.0], id="R")
        prop = best_package(problem(pp, [rr], [0.5, 0.5]))
        assert prop.include.all()
        np.testing.assert_allclose(prop.values, [1.0, 0.25], atol=1e-3)
        assert prop.p_adopt == pytest.approx(1.0)
        # issue by issue P could gain nothing: R rejects any rise of x0 alone, so EU = no deal = -0.55
        only0 = best_package(problem(pp, [rr], [0.5, 0.5], open_issues=A([True, False])))
        assert only0.expected_utility == pytest.approx(-0.55)
        assert prop.expected_utility == pytest.approx(-0.075, abs=1e-3)  # -(1 - 1) - 0.1 * (1 - 0.25)

    def test_stays_inside_own_red_line(self) -> None:
        # The recipient would gladly accept 0.2 (its ideal), but the proposer's red line is [0.5, 0.8].
        pp = side([0.7], [1.0], red_low=[0.5], red_high=[0.8])
        rr = side([0.0], [1.0], war_value=0.0, prior=("uniform", 0.0, 0.0, 1.0))
        prop = best_package(problem(pp, [rr], [1.0]))
        assert prop.include[0]
        assert 0.5 - 1e-9 <= prop.values[0] <= 0.8 + 1e-9

    def test_keeps_linked_issue_even_if_no_deal_is_possible_on_it(self) -> None:
        # Issue 0 linked by the proposer; the recipient's public red line [0.6, 1] does not meet the
        # proposer's [0, 0.3]. The package must still include issue 0, within [0, 0.3].
        pp = side([0.0, 0.5], [1.0, 0.5], red_high=[0.3, 1.0], linkage=frozenset({0}))
        rr = side([1.0, 0.5], [1.0, 0.5], red_low=[0.6, 0.0])
        prop = best_package(problem(pp, [rr], [1.0, 0.0]))
        assert prop.include[0]
        assert prop.values[0] <= 0.3 + 1e-9

    def test_linked_issue_with_disjoint_red_lines_stays_inside_own_red_line(self) -> None:
        # P links issue 0 and accepts only [0, 0.3] on it; R accepts only [0.6, 1] and wants 0.6.
        # Baseline [1, 0]. The package [0.6, 1] suits both on value (R: +0.4 - 0.2; P: +0.04 + 1) but
        # crosses P's own red line: best_package must stay in [0, 0.3] (it once started outside it).
        rr = side([0.6, 0.0], [1.0, 0.2], red_low=[0.6, 0.0])
        pp = side([0.0, 1.0], [0.1, 1.0], red_high=[0.3, 1.0], linkage=frozenset({0}))
        prop = best_package(problem(pp, [rr], [1.0, 0.0]))
        assert prop.include[0]
        assert prop.values[0] <= 0.3 + 1e-9, prop

    def test_leaves_out_unlinked_issue_whose_red_lines_do_not_meet(self) -> None:
        pp = side([0.0, 0.5], [1.0, 0.5], red_high=[0.3, 1.0])
        rr = side([1.0, 0.5], [1.0, 0.5], red_low=[0.6, 0.0])
        prop = best_package(problem(pp, [rr], [1.0, 0.0]))
        assert not prop.include[0]
        assert prop.values[0] == 1.0  # baseline where not included
        assert prop.include[1] and prop.p_adopt > 0

    def test_indivisible_issue_gets_an_allowed_value(self) -> None:
        pp = side([1.0, 0.0], [0.2, 1.0])
        rr = side([0.0, 1.0], [1.0, 0.2])
        prop = best_package(problem(pp, [rr], [0.5, 0.5], allowed=[[0.0, 0.5, 1.0], None]))
        assert prop.values[0] in (0.0, 0.5, 1.0)

    def test_honest_broker_maximises_adoption(self) -> None:
        # Broker with no salience. Recipients R1 (ideal 0) and R2 (ideal 0.4), baseline 1, so any
        # x in [0, 1] is a gain for both; war values 0 and costs ~ U[0, 1]:
        #   P1 = P(c >= x) = 1 - x,  P2 = P(c >= |x - 0.4|) = 1 - |x - 0.4|
        # Product on [0, 0.4]: (1 - x)(0.6 + x), maximal at x = 0.2 with 0.64.
        broker = side([0.5], [0.0], id="OSCE")
        r1 = side([0.0], [1.0], id="R1", war_value=0.0, prior=("uniform", 0.0, 0.0, 1.0))
        r2 = side([0.4], [1.0], id="R2", war_value=0.0, prior=("uniform", 0.0, 0.0, 1.0))
        prob = problem(broker, [r1, r2], [1.0], no_deal=0.0)
        prop = best_package(prob)
        assert prop.include[0]
        assert prop.values[0] == pytest.approx(0.2, abs=1e-3)
        assert prop.p_adopt == pytest.approx(0.64, abs=1e-4)
        xs = np.linspace(0, 1, 2001)[:, None]
        _, p = expected_utility(prob, xs, np.ones_like(xs, dtype=bool), False)
        assert prop.p_adopt >= p.max() - 1e-6

    def test_binding_form_when_recipient_values_it(self) -> None:
        # R (ideal 0, baseline 1) distrusts P (0.2), values legal form and has a war option of -0.5
        # (fixed cost 0). With compliance 1 its best political package (x = 0) is worth -1 + 0.2 = -0.8
        # < -0.5: no political deal. Binding (boost 0.5): tau = 0.6, V = -1 + 0.6 (1 - x) >= -0.5
        # iff x <= 1/6. P (ideal 1, salience 0.1, no deal -1) prefers the binding deal at x ~ 1/6.
        rr = side([0.0], [1.0], trust=0.2, values_legal_form=1.0, war_value=-0.5)
        pp = side([1.0], [0.1])
        prob = problem(pp, [rr], [1.0], compliance=A([1.0]), legal_boost=0.5, no_deal=-1.0)
        prop = best_package(prob)
        assert prop.legal_form == "legally_binding"
        assert prop.p_adopt == pytest.approx(1.0)
        assert prop.values[0] == pytest.approx(1 / 6, abs=1e-3)
        assert prop.values[0] <= 1 / 6 + 1e-9

    def test_random_problems_respect_own_red_lines_and_linkage(self) -> None:
        rng = np.random.default_rng(2024)
        for trial in range(N_RANDOM_PROBLEMS):
            m = int(rng.integers(1, 4))
            n_rec = int(rng.integers(1, 3))

            def rand_side(i: str, m: int, proposer: bool = False) -> Side:
                lo = rng.uniform(0, 1, m) * (rng.uniform(size=m) < 0.6)
                hi = np.minimum(1.0, lo + rng.uniform(0, 1, m))
                pos = rng.uniform(lo, hi)
                link = frozenset(int(j) for j in np.flatnonzero(rng.uniform(size=m) < 0.3))
                return side(
                    pos,
                    rng.uniform(0, 1, m) * (rng.uniform(size=m) < 0.9),
                    id=i,
                    risk=float(rng.choice([1.0, 2.0])),
                    red_low=lo,
                    red_high=hi,
                    trust=float(rng.uniform()),
                    war_value=float(rng.uniform(-3, 0)),
                    prior=("uniform", 0.0, 0.0, float(rng.uniform(0.1, 2))),
                    values_legal_form=float(rng.uniform() * (rng.uniform() < 0.5)),
                    linkage=link if not proposer or rng.uniform() < 0.8 else frozenset(),
                )

            pp = rand_side("P", m, proposer=True)
            recs = [rand_side(f"R{k}", m) for k in range(n_rec)]
            open_issues = rng.uniform(size=m) < 0.8
            open_issues[int(rng.integers(m))] = True
            allowed = [[0.0, 1.0] if rng.uniform() < 0.2 else None for _ in range(m)]
            for sd in (pp, *recs):  # as the scenario validator demands: a red line holds an allowed value
                for j, a in enumerate(allowed):
                    if a is not None:
                        lo, hi = [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0)][int(rng.integers(3))]
                        sd.red_low[j], sd.red_high[j] = lo, hi
                        sd.position[j] = np.clip(sd.position[j], lo, hi)
            baseline = A([rng.choice(a) if a else rng.uniform() for a in allowed])
            prob = problem(
                pp,
                recs,
                baseline,
                open_issues=open_issues,
                compliance=rng.uniform(0, 1, m),
                allowed=allowed,
                ultimatum=bool(rng.uniform() < 0.2),
                red_lines_public=bool(rng.uniform() < 0.7),
                grid=11,
            )
            prop = best_package(prob, anchor=rng.uniform(0, 1, m))
            inc = prop.include
            ctx = f"trial {trial}: values {prop.values}, include {inc}, red line {pp.red_low}..{pp.red_high}"
            assert not (inc & ~open_issues).any(), ctx
            np.testing.assert_array_equal(prop.values[~inc], baseline[~inc], err_msg=ctx)
            assert np.all(prop.values[inc] >= pp.red_low[inc] - 1e-9), ctx
            assert np.all(prop.values[inc] <= pp.red_high[inc] + 1e-9), ctx
            for j in pp.linkage:
                if open_issues[j]:
                    assert inc[j], f"{ctx}: linked issue {j} left out"
            for j, a in enumerate(allowed):
                if a is not None and inc[j]:
                    assert prop.values[j] in a, ctx
            assert 0.0 <= prop.p_adopt <= 1.0


# =========================================================================== dynamics.py


class TestPullTowardBloc:
    def test_hand_case(self) -> None:
        # pull 0.25: issue 0 shared: 0.2 + 0.25 * (1 - 0.2) = 0.4; issue 1 not shared: 0.8
        out = pull_toward_bloc(A([0.2, 0.8]), A([1.0, 0.0]), A([True, False]), A([0.0, 0.0]), A([1.0, 1.0]), 0.25)
        np.testing.assert_allclose(out, [0.4, 0.8])

    def test_red_line(self) -> None:
        out = pull_toward_bloc(A([0.2, 0.8]), A([1.0, 0.0]), A([True, True]), A([0.0, 0.7]), A([0.3, 1.0]), 0.25)
        # issue 0: 0.4 -> clipped to 0.3; issue 1: 0.8 - 0.2 = 0.6 -> clipped to 0.7
        np.testing.assert_allclose(out, [0.3, 0.7])

    def test_full_pull_adopts_bloc_position(self) -> None:
        out = pull_toward_bloc(A([0.2]), A([0.9]), A([True]), A([0.0]), A([1.0]), 1.0)
        assert out == pytest.approx([0.9])


class TestConcession:
    def test_hand_case(self) -> None:
        # recipient [0, 0], proposer [1, 1], proposal [0.5, 1.2], salience [1, 3]
        # closer = |r - k| - |r - x| = [1 - 0.5, 1 - 1.2] = [0.5, -0.2] -> [0.5, 0]
        # (1 * 0.5 + 3 * 0) / 4 = 0.125
        c = concession(A([0.0, 0.0]), A([1.0, 1.0]), A([0.5, 1.2]), A([True, True]), A([1.0, 3.0]))
        assert c == pytest.approx(0.125)

    def test_no_move_is_no_concession(self) -> None:
        assert concession(A([0.0, 0.3]), A([1.0, 0.8]), A([1.0, 0.8]), A([True, True]), A([1.0, 1.0])) == 0.0

    def test_full_concession_is_one(self) -> None:
        c = concession(A([0.0, 0.3]), A([1.0, 1.3]), A([0.0, 0.3]), A([True, True]), A([0.5, 0.5]))
        assert c == pytest.approx(1.0)

    def test_excluded_issues_and_zero_salience(self) -> None:
        assert concession(A([0.0]), A([1.0]), A([0.0]), A([False]), A([1.0])) == 0.0
        assert concession(A([0.0]), A([1.0]), A([0.0]), A([True]), A([0.0])) == 0.0

    def test_in_unit_interval(self) -> None:
        rng = np.random.default_rng(5)
        for _ in range(200):
            r, k, x, s = rng.uniform(size=(4, 3))
            c = concession(r, k, x, rng.uniform(size=3) < 0.7, s)
            assert 0.0 <= c <= 1.0


class TestUpdateTrust:
    def test_gain(self) -> None:
        assert update_trust(0.5, 1.0, 0.0, 0.1, 2.0) == pytest.approx(0.6)

    def test_loss_is_loss_aversion_times_faster(self) -> None:
        assert update_trust(0.5, 0.0, 1.0, 0.1, 2.0) == pytest.approx(0.3)
        up = update_trust(0.5, 0.4, 0.0, 0.1, 3.0) - 0.5
        down = 0.5 - update_trust(0.5, 0.0, 0.4, 0.1, 3.0)
        assert down == pytest.approx(3.0 * up)

    def test_mixed(self) -> None:
        # 0.5 + 0.1 * 0.5 - 2 * 0.1 * 0.25 = 0.5
        assert update_trust(0.5, 0.5, 0.25, 0.1, 2.0) == pytest.approx(0.5)

    def test_clipped(self) -> None:
        assert update_trust(0.95, 1.0, 0.0, 0.1, 2.0) == 1.0
        assert update_trust(0.05, 0.0, 1.0, 0.1, 2.0) == 0.0

    def test_element_wise_on_arrays(self) -> None:
        out = update_trust(np.array([0.5, 0.0, 1.0]), np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]), 0.1, 2.0)
        np.testing.assert_allclose(out, [0.6, 0.0, 1.0])


class TestDesiredRung:
    def test_war_only_when_net_positive(self) -> None:
        # Ties: no war (design §3.5). A tie up to rounding (1e-12) is a tie; anything above 1e-9 is war.
        np.testing.assert_array_equal(desired_rung(A([0.0, 1e-12, 1e-6, 0.3, 100.0]), 4, 0.25), [3, 3, 4, 4, 4])

    def test_threshold_agrees_with_the_rung(self) -> None:
        # climb_threshold is where desired_rung first exceeds the current rung, for every rung below war.
        for rung in range(4):
            theta = climb_threshold(rung, 4, 0.25)
            assert desired_rung(A([theta + 1e-6]), 4, 0.25)[0] > rung
            below = theta - 1e-6 if rung < 3 else theta
            assert desired_rung(A([below]), 4, 0.25)[0] <= rung

    def test_one_rung_lower_per_band(self) -> None:
        # band 0.25: floor(-0.1 / 0.25) = -1 -> 3; floor(-0.25/0.25) = -1 -> 3; floor(-0.3/0.25) = -2 -> 2;
        # floor(-0.6/0.25) = -3 -> 1
        np.testing.assert_array_equal(desired_rung(A([-0.1, -0.25, -0.3, -0.6]), 4, 0.25), [3, 3, 2, 1])

    def test_clipped_at_lowest_rung(self) -> None:
        np.testing.assert_array_equal(desired_rung(A([-10.0, -1.0]), 4, 0.25), [0, 0])

    def test_matrix_and_integer_dtype(self) -> None:
        out = desired_rung(A([[0.1, -0.5], [-0.75, -100.0]]), 4, 0.25)
        np.testing.assert_array_equal(out, [[4, 2], [1, 0]])
        assert np.issubdtype(out.dtype, np.integer)


class TestNextRung:
    def test_at_most_one_step(self) -> None:
        out = next_rung(A([0, 3, 2, 4]), A([4, 3, 0, 3]))
        np.testing.assert_array_equal(out, [1, 3, 1, 3])

    def test_reaches_desired(self) -> None:
        cur, want = A([0, 5]), A([3, 1])
        for _ in range(4):
            cur = next_rung(cur, want)
        np.testing.assert_array_equal(cur, want)
