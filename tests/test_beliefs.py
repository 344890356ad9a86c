"""Beliefs about private costs (sim/rules/beliefs.py, design §3.4): hand-computed cases, scipy references,
Bayes exactness against conditioned Monte Carlo samples, and the properties of the interval update."""

from __future__ import annotations

from random import Random

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from sim.rules.beliefs import (
    cdf,
    cost_quantile,
    observe,
    posterior_mean,
    posterior_points,
    posterior_survival,
    quantile,
)
from sim.rules.war import survival

RULE = settings(max_examples=60, deadline=None, derandomize=True)
HEAVY = settings(max_examples=25, deadline=None, derandomize=True)  # whole lists of priors, or scipy per element
TOL = 1e-9


@st.composite
def priors(draw: st.DrawFn, kinds: tuple[str, ...] = ("uniform", "triangular")) -> tuple[str, float, float, float]:
    """A prior the scenario schema accepts (0 <= low < high <= 10, low <= mode <= high), modes at the ends included."""
    kind = draw(st.sampled_from(kinds))
    low = draw(st.floats(0.0, 5.0))
    span = draw(st.floats(1e-3, 5.0))
    high = low + span
    if kind == "fixed":
        return kind, low, low, 0.0  # as CostPriors holds a fixed cost: mode = low, high unset (0)
    frac = draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)))
    return kind, low, min(low + frac * span, high), high


@st.composite
def intervals(draw: st.DrawFn) -> tuple[float, float]:
    """A belief interval ``q_lo < q_hi`` in [0, 1], at least 1e-9 wide: on narrower ones the posterior survival
    divides rounding errors of ``F`` (absolute, about 1e-16) by the width, so no reference agrees to 1e-6."""
    a, b = draw(st.floats(0.0, 1.0)), draw(st.floats(0.0, 1.0))
    if abs(a - b) < 1e-9:
        return (0.0, 1.0)
    return min(a, b), max(a, b)


def scipy_prior(kind: str, low: float, mode: float, high: float) -> stats.rv_continuous:
    """The same prior as scipy builds it: an independent implementation of F and F^-1."""
    if kind == "uniform":
        return stats.uniform(loc=low, scale=high - low)
    return stats.triang((mode - low) / (high - low), loc=low, scale=high - low)


# --- the prior: CDF, quantile, type ---------------------------------------------------------------------------


def test_cdf_by_hand() -> None:
    # uniform U[1, 3]; triangle (0, 1, 2): (y - L)^2 / ((H - L)(M - L)) = y^2 / 2 left of 1, 1 - (2 - y)^2 / 2 right
    assert cdf("uniform", 1.0, 1.0, 3.0, np.array([0.5, 2.0, 3.5])).tolist() == [0.0, 0.5, 1.0]
    y = np.array([-1.0, 0.5, 1.0, 1.5, 2.5])
    assert np.allclose(cdf("triangular", 0.0, 1.0, 2.0, y), [0.0, 0.125, 0.5, 0.875, 1.0])
    assert np.isclose(cdf("triangular", 0.0, 0.0, 2.0, 1.0), 0.75)  # mode at low: 1 - 1 / 4
    assert np.isclose(cdf("triangular", 0.0, 2.0, 2.0, 1.0), 0.25)  # mode at high: 1 / 4
    # a fixed cost: F(y) = P(c < y), a step just after the atom
    assert cdf("fixed", 0.3, 0.3, 0.0, np.array([0.2, 0.3, 0.3 + 1e-12])).tolist() == [0.0, 0.0, 1.0]


def test_quantile_and_type_by_hand() -> None:
    u = np.array([0.0, 0.125, 0.5, 0.875, 1.0])
    assert np.allclose(quantile("triangular", 0.0, 1.0, 2.0, u), [0.0, 0.5, 1.0, 1.5, 2.0])
    assert np.isclose(quantile("uniform", 1.0, 1.0, 3.0, 0.25), 1.5)
    assert quantile("fixed", 0.3, 0.3, 0.0, np.array([0.0, 0.7, 1.0])).tolist() == [0.3] * 3
    assert np.isclose(cost_quantile("uniform", 1.0, 1.0, 3.0, 2.5), 0.75)
    assert np.isclose(cost_quantile("triangular", 0.0, 1.0, 2.0, 1.5), 0.875)
    assert cost_quantile("fixed", 0.3, 0.3, 0.0, 0.3) == 0.5  # no type: the middle of the atom's quantiles


def test_types_of_prior_draws_are_uniform() -> None:
    """Probability integral transform: q = F(c) of costs drawn as CostPriors draws them is U[0, 1]."""
    rng = np.random.default_rng(11)
    c = rng.triangular(0.1, 0.25, 0.6, 20_000)
    assert stats.kstest(cost_quantile("triangular", 0.1, 0.25, 0.6, c), "uniform").pvalue > 1e-3


@RULE
@given(priors(), st.floats(0.0, 1.0))
def test_cdf_inverts_quantile(prior: tuple[str, float, float, float], u: float) -> None:
    assert abs(cdf(*prior, quantile(*prior, u)) - u) < TOL


@RULE
@given(priors(), st.floats(0.0, 1.0))
def test_quantile_inverts_cdf(prior: tuple[str, float, float, float], t: float) -> None:
    kind, low, mode, high = prior
    y = low + t * (high - low)
    assert abs(quantile(*prior, cdf(*prior, y)) - y) < TOL * (1.0 + high)


@RULE
@given(priors(("fixed", "uniform", "triangular")), st.floats(-0.5, 1.5), st.sampled_from(["low", "mode", "high", "t"]))
def test_cdf_is_one_minus_war_survival(prior: tuple[str, float, float, float], t: float, at: str) -> None:
    """Everywhere, the atom of a fixed cost included: F(y) = P(c < y) = 1 - P(c >= y)."""
    kind, low, mode, high = prior
    y = {"low": low, "mode": mode, "high": high, "t": low + t * (max(high, low) - low + 1.0)}[at]
    k, lo, mo, hi = np.array([kind]), np.array([low]), np.array([mode]), np.array([high])
    assert abs(cdf(k, lo, mo, hi, y) - (1.0 - survival(k, lo, mo, hi, np.array([y]))))[0] < 1e-12


@HEAVY
@given(st.lists(priors(("fixed", "uniform", "triangular")), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_full_interval_posterior_is_war_survival(prior_list: list[tuple[str, float, float, float]], seed: int) -> None:
    """[q_lo, q_hi] = [0, 1] is the prior: posterior_survival equals war.survival, mixed kinds broadcast."""
    kind, low, mode, high = (np.array(v) for v in zip(*prior_list, strict=True))
    y = np.random.default_rng(seed).uniform(-1.0, 11.0, (7, kind.size))
    y[0] = low  # the fixed costs' atoms
    ours = posterior_survival(kind, low, mode, high, np.zeros(kind.size), np.ones(kind.size), y)
    assert ours.shape == (7, kind.size)
    assert np.allclose(ours, survival(kind, low, mode, high, y), rtol=0.0, atol=1e-12)


@HEAVY
@given(st.data())
def test_vectorised_equals_scipy_loop(data: st.DataObject) -> None:
    """cdf, quantile, posterior survival and mean over mixed arrays against scipy, one element at a time."""
    prior_list = data.draw(st.lists(priors(), min_size=1, max_size=4))
    kind, low, mode, high = (np.array(v) for v in zip(*prior_list, strict=True))
    bounds = [data.draw(intervals()) for _ in prior_list]
    q_lo, q_hi = (np.array(v) for v in zip(*bounds, strict=True))
    u = np.array([data.draw(st.floats(0.0, 1.0)) for _ in prior_list])
    y = low + np.array([data.draw(st.floats(-0.2, 1.2)) for _ in prior_list]) * (high - low)
    f, qf = cdf(kind, low, mode, high, y), quantile(kind, low, mode, high, u)
    s = posterior_survival(kind, low, mode, high, q_lo, q_hi, y)
    mean = posterior_mean(kind, low, mode, high, q_lo, q_hi)
    for i, p in enumerate(prior_list):
        ref = scipy_prior(*p)
        assert abs(f[i] - ref.cdf(y[i])) < TOL
        assert abs(qf[i] - ref.ppf(u[i])) < TOL * (1.0 + p[3])
        assert abs(s[i] - np.clip((q_hi[i] - ref.cdf(y[i])) / (q_hi[i] - q_lo[i]), 0.0, 1.0)) < 1e-6
        integral, _ = integrate.quad(ref.ppf, q_lo[i], q_hi[i], epsabs=1e-12, epsrel=1e-10)
        assert abs(mean[i] - integral / (q_hi[i] - q_lo[i])) < 1e-7 * (1.0 + p[3])


# --- Bayes' rule: the interval posterior is the conditional distribution -----------------------------------------


def draw_costs(rng: np.random.Generator, prior: tuple[str, float, float, float], size: int) -> np.ndarray:
    """Costs drawn from the prior with the Generator calls CostPriors.sample makes."""
    kind, low, mode, high = prior
    return rng.uniform(low, high, size) if kind == "uniform" else rng.triangular(low, mode, high, size)


BAYES_PRIORS = [
    ("uniform", 0.2, 0.2, 0.8),
    ("triangular", 0.1, 0.3, 1.0),
    ("triangular", 0.0, 0.0, 0.5),  # mode at low
    ("triangular", 0.5, 1.5, 1.5),  # mode at high
]


@pytest.mark.parametrize(("seed", "prior"), list(enumerate(BAYES_PRIORS)))
def test_bayes_exactness(seed: int, prior: tuple[str, float, float, float]) -> None:
    """10^5 costs from the prior conditioned on the events a hidden cost generated (c < theta or c >= theta for
    random thresholds, some outside the support) are distributed as the interval posterior (KS p > 1e-3), and
    their mean is posterior_mean's within 4 standard errors; the prior itself is rejected (the test has power)."""
    kind, low, mode, high = prior
    rng = np.random.default_rng(1000 + seed)
    sample, hidden = draw_costs(rng, prior, 100_000), draw_costs(rng, prior, 1)[0]
    span = high - low
    thresholds = np.concatenate([[low - 0.1 * span, high + 0.1 * span], rng.uniform(low, high, 6)])
    rng.shuffle(thresholds)
    keep = np.ones(sample.size, dtype=bool)
    q_lo, q_hi = np.array(0.0), np.array(1.0)
    for theta in thresholds:
        below = bool(hidden < theta)
        keep &= (sample < theta) == below
        q_lo, q_hi = observe(q_lo, q_hi, cdf(*prior, theta), below)
    cond = sample[keep]
    assert cond.size >= 1000
    assert q_lo <= cost_quantile(*prior, hidden) < q_hi
    assert stats.kstest(cond, lambda y: 1.0 - posterior_survival(*prior, q_lo, q_hi, y)).pvalue > 1e-3
    assert stats.kstest(cond, lambda y: cdf(*prior, y)).pvalue < 1e-3
    assert abs(cond.mean() - posterior_mean(*prior, q_lo, q_hi)) < 4.0 * cond.std(ddof=1) / np.sqrt(cond.size)


# --- the update ---------------------------------------------------------------------------------------------------


def test_observe_by_hand() -> None:
    """From [0.2, 0.5): three updates, one redundant observation, four of zero posterior probability, one masked."""
    q_obs = np.array([0.4, 0.3, 0.7, 0.2, 0.1, 0.5, 0.9, 0.4])
    below = np.array([True, False, True, True, True, False, False, True])
    mask = np.array([True] * 7 + [False])
    lo, hi = observe(np.full(8, 0.2), np.full(8, 0.5), q_obs, below, mask)
    assert lo.tolist() == [0.2, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]
    assert hi.tolist() == [0.4, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]


def test_off_path_observations_do_not_commute() -> None:
    """Contradictory observations: the second has zero probability given the first, so the first one stands."""
    assert observe(*observe(0.0, 1.0, 0.3, True), 0.6, False) == (0.0, 0.3)
    assert observe(*observe(0.0, 1.0, 0.6, False), 0.3, True) == (0.6, 1.0)


@RULE
@given(st.data(), st.floats(0.0, 1.0), st.booleans())
def test_observe_is_bayes_rule_or_unchanged(data: st.DataObject, q_obs: float, below: bool) -> None:
    """Posterior probability of the event under the current belief > 0: the intersection; else unchanged."""
    lo, hi = data.draw(intervals())
    prob = ((min(hi, q_obs) - lo) if below else (hi - max(lo, q_obs))) / (hi - lo)
    new = observe(lo, hi, q_obs, below)
    if prob > 0.0:
        assert new == ((lo, min(hi, q_obs)) if below else (max(lo, q_obs), hi))
    else:
        assert new == (lo, hi)
    assert observe(*new, q_obs, below) == new  # idempotent, on path or off


@RULE
@given(
    st.floats(0.0, 1.0, exclude_max=True),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=10),
    st.randoms(use_true_random=False),
)
def test_on_path_updates_commute(q: float, q_obs: list[float], rnd: Random) -> None:
    """Observations a hidden type q generated give the same interval in any order: (max of the lower cuts,
    min of the upper cuts), which contains q; repeating each observation changes nothing."""
    obs = [(o, q < o) for o in q_obs]
    shuffled = list(obs)
    rnd.shuffle(shuffled)
    results = []
    for order in (obs, obs[::-1], shuffled, [o for o in obs for _ in range(2)]):
        lo, hi = np.array(0.0), np.array(1.0)
        for o, below in order:
            lo, hi = observe(lo, hi, o, below)
        results.append((float(lo), float(hi)))
    expected = (max([0.0] + [o for o, b in obs if not b]), min([1.0] + [o for o, b in obs if b]))
    assert results == [expected] * 4
    assert expected[0] <= q < expected[1]


@RULE
@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=12))
def test_interval_only_shrinks(obs: list[tuple[float, bool]]) -> None:
    """Any sequence, off-path observations included: q_lo never falls, q_hi never rises, q_lo < q_hi stays."""
    lo, hi = np.array(0.0), np.array(1.0)
    for o, below in obs:
        new_lo, new_hi = observe(lo, hi, o, below)
        assert lo <= new_lo < new_hi <= hi
        lo, hi = new_lo, new_hi


@RULE
@given(priors(("fixed",)), st.floats(-1.0, 11.0), st.booleans())
def test_fixed_costs_carry_no_belief(prior: tuple[str, float, float, float], theta: float, below: bool) -> None:
    """A fixed cost's observations leave [0, 1] as it is (on path certain, off path impossible), and its posterior
    is the known cost whatever the interval."""
    kind, low, mode, high = prior
    assert observe(0.0, 1.0, cdf(*prior, theta), below) == (0.0, 1.0)
    assert posterior_survival(*prior, 0.2, 0.3, theta) == float(low >= theta)
    assert posterior_mean(*prior, 0.2, 0.3) == low
    assert posterior_points(*prior, 0.2, 0.3, k=4).tolist() == [low] * 4


# --- expectations ---------------------------------------------------------------------------------------------------


def test_posterior_mean_by_hand() -> None:
    # U[1, 3] on [0.25, 0.5]: U[1.5, 2], mean 1.75; triangle (0, 1, 2) on [0, 0.5]: left half, mean 2/3
    assert np.isclose(posterior_mean("uniform", 1.0, 1.0, 3.0, 0.25, 0.5), 1.75)
    assert np.isclose(posterior_mean("triangular", 0.0, 1.0, 2.0, 0.0, 0.5), 2.0 / 3.0)
    assert np.isclose(posterior_mean("triangular", 0.0, 1.0, 2.0, 0.0, 1.0), 1.0)


@RULE
@given(priors(), st.floats(0.0, 1.0), st.floats(0.0, 1e-9))
@example(("triangular", 0.0, 1.0, 2.0), 0.5, 0.0)
def test_point_and_narrow_beliefs(prior: tuple[str, float, float, float], q: float, width: float) -> None:
    """A point belief is a known cost F^-1(q); a narrow interval's mean lies between its end quantiles."""
    c = quantile(*prior, q)
    assert posterior_survival(*prior, q, q, c) == 1.0
    assert posterior_survival(*prior, q, q, c + 1e-9) == 0.0
    assert abs(posterior_mean(*prior, q, q) - c) < TOL * (1.0 + prior[3])
    assert posterior_points(*prior, q, q, k=3).tolist() == [float(c)] * 3
    hi = min(q + width, 1.0)
    assert quantile(*prior, q) - TOL <= posterior_mean(*prior, q, hi) <= quantile(*prior, hi) + TOL


@RULE
@given(priors(), st.data(), st.floats(-0.1, 1.1), st.integers(1, 80))
def test_posterior_points(prior: tuple[str, float, float, float], data: st.DataObject, t: float, k: int) -> None:
    """k sorted points inside the posterior's support whose share above any y is within 1/(2k) of the posterior
    survival (midpoint rule); for a uniform prior their mean is the closed-form mean."""
    kind, low, mode, high = prior
    lo, hi = data.draw(intervals())
    pts = posterior_points(*prior, lo, hi, k=k)
    assert pts.shape == (k,)
    assert np.all(np.diff(pts) >= 0.0)
    assert quantile(*prior, lo) - TOL <= pts[0] and pts[-1] <= quantile(*prior, hi) + TOL
    y = low + t * (high - low)
    assert abs(np.mean(pts >= y) - posterior_survival(*prior, lo, hi, y)) <= 0.5 / k + 1e-9
    if kind == "uniform":
        assert abs(pts.mean() - posterior_mean(*prior, lo, hi)) < TOL * (1.0 + high)


def test_posterior_points_broadcast() -> None:
    kinds, low, mode, high = np.array(["uniform", "triangular", "fixed"]), np.zeros(3), np.zeros(3), np.ones(3)
    assert posterior_points(kinds, low, mode, high, np.zeros(3), np.ones(3), k=5).shape == (3, 5)
    assert posterior_points("uniform", 0.0, 0.0, 1.0, np.zeros((2, 3)), np.ones((2, 3)), k=5).shape == (2, 3, 5)
    assert posterior_points(kinds, low, mode, high, 0.0, 1.0, k=5)[2].tolist() == [0.0] * 5
