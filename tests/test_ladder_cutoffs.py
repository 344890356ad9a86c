"""The ladder policy's cut-offs (sim/rules/ladder_cutoffs.py, design §3.5): hand cases, properties on random monotone
option values against an independent scalar solver, and design §4c (crisis signalling with audience costs)
reproduced through the pure rules: B's day-0 choice by ``ladder_cutoffs`` over continuation values, A's day-1 press
decision by ``optimal_cutoff``, shares against a seeded Monte Carlo and the design's closed forms."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq

from sim.rules.continuation import FallbackTerms, Party, continuation_value
from sim.rules.ladder_cutoffs import ATTACK, CLIMB, DESCEND, STAY, ladder_cutoffs
from sim.rules.screening import Posterior, Screen, optimal_cutoff

TOL = 1e-10


# --- hand cases: values that do not depend on the posterior -------------------------------------------------------


def linear(alpha: float, beta: float):
    """Phi(c) = alpha - beta c, whatever the posterior."""
    return lambda c, lo, hi: alpha - beta * c


def test_three_options_without_learning_are_the_crossings() -> None:
    # climb 1 - 2c, stay 0.5 - c, descend 0.2 - 0.5 c: climb/stay cross at 0.5, stay/descend at 0.6.
    phi = [None, linear(1.0, 2.0), linear(0.5, 1.0), linear(0.2, 0.5)]
    cut = ladder_cutoffs(phi, 0.0, 1.0, np.array([False, True, True, True]))
    assert abs(cut.climb - 0.5) <= TOL and abs(cut.descend - 0.6) <= TOL and cut.attack == 0.0
    assert cut.converged
    assert list(cut.choice(np.array([0.0, 0.49, 0.55, 0.61, 1.0]))) == [CLIMB, CLIMB, STAY, DESCEND, DESCEND]
    assert cut.interval(ATTACK) == (0.0, 0.0)  # no attack: an empty interval


def test_ties_never_attack_and_keep_the_rung() -> None:
    # Indifferent everywhere: nobody attacks, climbs or descends.
    flat = linear(0.0, 0.0)
    cut = ladder_cutoffs([flat, None, flat, flat], 0.0, 1.0, np.array([True, False, True, True]))
    assert np.all(cut.choice(np.linspace(0.0, 1.0, 11)) == STAY)
    # A known cost (point posterior) at a crossing: attack = stay at c = 0.3 -> stays; just below -> attacks.
    phi = [linear(0.3, 1.0), None, linear(0.0, 0.0), None]
    options = np.array([True, False, True, False])
    for c, option in ((0.3, STAY), (0.3 - 1e-9, ATTACK), (0.3 + 1e-9, STAY)):
        assert ladder_cutoffs(phi, c, c, options).choice(c) == option


def test_squeezed_stay_is_skipped() -> None:
    # Stay 0 - c is below max(climb, descend) for every type: climb 1 - 2c and descend 0.4 - 0.5 c cross at 0.4.
    phi = [None, linear(1.0, 2.0), linear(-1.0, 1.0), linear(0.4, 0.5)]
    cut = ladder_cutoffs(phi, 0.0, 1.0, np.array([False, True, True, True]))
    assert abs(cut.climb - 0.4) <= TOL and cut.converged
    assert list(cut.choice(np.array([0.39, 0.4 - 1e-9, 0.4 + 1e-9, 0.41]))) == [CLIMB, CLIMB, DESCEND, DESCEND]


def test_option_sets_the_ladder_can_have() -> None:
    flat = linear(0.0, 0.0)
    with pytest.raises(ValueError):  # every dyad can stay
        ladder_cutoffs([None, None, None, flat], 0.0, 1.0, np.array([False, False, False, True]))
    with pytest.raises(ValueError):  # attack is the climb from the rung below war
        ladder_cutoffs([flat, flat, flat, None], 0.0, 1.0, np.array([True, True, True, False]))


# --- properties on random monotone values with learning ------------------------------------------------------------


def shape_of(x: np.ndarray) -> np.ndarray:
    """g(x) = x + 0.3 sin(3x): increasing, g' in [0.1, 1.9], not linear."""
    return x + 0.3 * np.sin(3.0 * x)


def random_family(rng: np.random.Generator, m: int):
    """m dyads with Phi_o(c; [l, h]) = alpha_o - beta_o c - delta_o g((l + h)/2): a tougher-looking posterior (lower
    mean cost) is worth more. beta falls from attack to descend by at least D, delta <= 0.3 D, so each gap along its
    own induced posterior falls in c at a rate >= D (1 - 0.3 * 1.9 / 2) > 0 (single crossing) and each best
    response moves by at most 0.4 of a neighbour's move (a contraction). Random option sets, every dyad can stay."""
    D = rng.uniform(0.3, 1.0, m)
    beta = np.cumsum(D[:, None] * rng.uniform(1.0, 3.0, (m, 4)), axis=1)[:, ::-1]  # beta_attack > ... > beta_descend
    delta = rng.uniform(0.0, 0.3, (m, 4)) * D[:, None]
    lo = rng.uniform(0.0, 1.0, m)
    hi = lo + rng.uniform(0.2, 2.0, m)
    # Crossings of neighbours spread over (and beyond) the support, in random order (so some options are squeezed).
    z = lo[:, None] + rng.uniform(-0.3, 1.3, (m, 3)) * (hi - lo)[:, None]
    alpha = np.zeros((m, 4))
    alpha[:, DESCEND] = rng.uniform(-1.0, 1.0, m)
    for o in (STAY, CLIMB, ATTACK):
        alpha[:, o] = alpha[:, o + 1] + (beta[:, o] - beta[:, o + 1]) * z[:, o]
    options = rng.uniform(size=(m, 4)) < 0.6
    options[:, STAY] = True
    options[:, ATTACK] &= ~options[:, CLIMB]  # the climb from the rung below war is the attack

    def phi(o: int):
        return lambda c, lo_, hi_: alpha[:, o] - beta[:, o] * c - delta[:, o] * shape_of(0.5 * (lo_ + hi_))

    return [phi(o) for o in range(4)], lo, hi, options


def nonempty(cut, o: int, options: np.ndarray) -> np.ndarray:
    a, b = cut.interval(o)
    return options[:, o] & (b > a)


def test_random_states_monotone_choice_and_indifference() -> None:
    rng = np.random.default_rng(7)
    m = 400
    phi, lo, hi, options = random_family(rng, m)
    for rounds in (3, 40):
        rate = 1.0 - ladder_cutoffs(phi, lo, hi, options, rounds=rounds).converged.mean()
        print(f"non-convergence rate with {rounds} alternations: {rate:.3f}")
    cut = ladder_cutoffs(phi, lo, hi, options, rounds=40)
    assert cut.converged.all()  # a contraction by at most 0.4^2 per alternation: 40 are plenty for 1e-10
    c = lo[:, None] + np.linspace(0.0, 1.0, 201) * (hi - lo)[:, None]
    choice = np.stack([cut.choice(c[:, j]) for j in range(c.shape[1])], axis=1)
    assert np.all(np.diff(choice, axis=1) >= 0)  # a lower cost never takes a less escalatory option
    assert np.all(options[np.arange(m)[:, None], choice])  # only options the dyad has
    # Equilibrium: each grid type's option is its best among the options taken at the induced posteriors.
    values = np.full((m, 4, c.shape[1]), -np.inf)
    for o in range(4):
        a, b = cut.interval(o)
        on = nonempty(cut, o, options)
        values[:, o] = np.where(on[:, None], phi[o](c.T, a, b).T, -np.inf)
    best = values.max(axis=1)
    chosen = np.take_along_axis(values, choice[:, None, :], axis=1)[:, 0]
    assert np.all(chosen >= best - 1e-9)
    # Indifference at every interior boundary between consecutive options taken (to 1e-8).
    checked = 0
    for i in range(m):
        taken = [o for o in range(4) if nonempty(cut, o, options)[i]]
        for left, right in zip(taken, taken[1:], strict=False):
            t = cut.interval(right)[0][i]
            if not lo[i] + 1e-6 < t < hi[i] - 1e-6:
                continue
            v = [phi[o](np.full(m, t), *cut.interval(o))[i] for o in (left, right)]
            assert abs(v[0] - v[1]) <= 1e-8, (i, left, right)
            checked += 1
    assert checked > m // 2


def scalar_reference(phi, lo: float, hi: float) -> tuple[float, float]:
    """Climb / stay / descend for one dyad, solved jointly by nested Brent root finding (independent of the
    alternation): c_down(t1) solves stay(c; [t1, c]) = descend(c; [c, hi]); t1 solves climb(t1; [lo, t1]) =
    stay(t1; [t1, c_down(t1)])."""

    def down(t1: float) -> float:
        f = lambda c: phi[STAY](c, t1, c) - phi[DESCEND](c, c, hi)  # noqa: E731
        return brentq(f, t1, hi, xtol=1e-14) if f(t1) > 0 > f(hi) else (t1 if f(t1) <= 0 else hi)

    g = lambda t: phi[CLIMB](t, lo, t) - phi[STAY](t, t, down(t))  # noqa: E731
    t1 = brentq(g, lo, hi, xtol=1e-14)
    return t1, down(t1)


def test_alternation_matches_a_joint_scalar_solution() -> None:
    rng = np.random.default_rng(3)
    compared = 0
    for _ in range(40):
        phi, lo, hi, _ = random_family(rng, 1)
        options = np.array([[False, True, True, True]])
        cut = ladder_cutoffs(phi, lo, hi, options, rounds=40)
        one = [lambda c, a, b, f=f: float(f(np.array([c]), np.array([a]), np.array([b]))[0]) for f in phi]
        g_lo = one[CLIMB](lo[0], lo[0], lo[0]) - one[STAY](lo[0], lo[0], hi[0])
        g_hi = one[CLIMB](hi[0], lo[0], hi[0]) - one[STAY](hi[0], hi[0], hi[0])
        if not (g_lo > 0 > g_hi) or not cut.climb[0] < cut.descend[0]:
            continue  # the reference needs an interior climb cut-off and a stay interval
        t1, t2 = scalar_reference(one, lo[0], hi[0])
        assert abs(cut.climb[0] - t1) < 1e-8 and abs(cut.descend[0] - t2) < 1e-8
        compared += 1
    assert compared >= 8


# --- design §4c through the rules ------------------------------------------------------------------------------------

P, KAPPA, H_A, H_B = 0.5, 0.25, 1.0, 1.5
# The table of §4c: a, c_f, c_hat, gamma_T, resisted, war, A backs down, B concedes.
SIGNALLING = [
    (0.1, 0.6, 0.744, 0.74, 0.496, 0.296, 0.12896, 0.57504),
    (0.2, 0.7, 0.81455, 0.66364, 0.54303, 0.30970, 0.18266, 0.50765),
]


def ultimatum(audience: float) -> Screen:
    """A's ultimatum on the indivisible issue: press (x = 1, worth -1 to B, a concession carrying B's audience cost
    if it threatened) or back down (x = 0, B's status quo, worth 0)."""
    return Screen(
        v_max=0.0,
        v_min_r=-1.0,
        v_max_r=0.0,
        lam=1.0,
        feasible=True,
        reservation=-P,
        slope=1.0,
        offers=np.array([-1.0, 0.0]),
        audience=np.array([audience, 0.0]),
    )


def signalling(a: float):
    """B's two options on day 0 as continuation values (design §3.6) of A's day-1 ultimatum: climbing costs
    kappa c for the day and makes conceding cost a; A's posterior on B is U[0, H_B] truncated to [lo, hi]."""
    A = Party(
        FallbackTerms(W_att=P - 1.0, W_def=-1.0, u_base=-1.0, attack_belief=0.0, can_attack=True),
        ultimatum(0.0),
        Posterior("uniform", 0.0, 0.0, H_B),
        0.0,
    )
    B = Party(
        FallbackTerms(W_att=-1.0, W_def=-P, u_base=0.0, attack_belief=1.0, can_attack=False),
        ultimatum(0.0),  # B never proposes here
        Posterior("uniform", 0.0, 0.0, H_A),
        0.0,
    )

    def option(holding: float, audience: float):
        def phi(c, lo, hi):
            belief = replace(A.belief, q_lo=np.clip(lo / H_B, 0.0, 1.0), q_hi=np.clip(hi / H_B, 0.0, 1.0))
            proposer = replace(A, screen=ultimatum(audience), belief=belief)
            return continuation_value(c, replace(B, holding_rate=holding), proposer, 1.0, True, False, True)

        return phi

    return [None, option(KAPPA, a), option(0.0, 0.0), None]


OPTIONS_4C = np.array([False, True, True, False])


def a_presses(a: float, option: int, cut, c_A: np.ndarray):
    """A's day-1 offer on its posterior after B's option (``optimal_cutoff``); pressing is the offer whose cut-off
    is positive (x = 1 is accepted by B iff c_B >= 1 - p + audience; x = 0 by every type)."""
    lower, upper = cut.interval(option)
    belief = Posterior("uniform", 0.0, 0.0, H_B, lower / H_B, upper / H_B)
    offer = optimal_cutoff(ultimatum(a if option == CLIMB else 0.0), belief, P - 1.0 - c_A)
    return offer.cutoff > 0.0, offer.cutoff


@pytest.mark.parametrize(("a", "c_f", "c_hat", "gamma", "resisted", "war", "backs_down", "concedes"), SIGNALLING)
def test_signalling_cutoffs(a, c_f, c_hat, gamma, resisted, war, backs_down, concedes) -> None:
    phi = signalling(a)
    cut = ladder_cutoffs(phi, 0.0, H_B, OPTIONS_4C)
    assert cut.converged
    # The design's boxed closed form, unrounded, and the table.
    closed = (H_A + (1.0 + a) * (1.0 - P)) * c_f / (KAPPA * H_A * c_f + 1.0 + a)
    # (The table rounds to 5 decimals: 0.81455 and 0.66364 are 0.8145454... and 0.6636363..., 5e-6 away.)
    assert abs(cut.climb - closed) < 1e-9 and abs(cut.climb - c_hat) < 5e-6
    # gamma_T: A's press/back-down switch on the posterior [0, c_hat) by bisection on its type.
    g_lo, g_hi = 0.0, H_A
    for _ in range(60):
        mid = 0.5 * (g_lo + g_hi)
        pressed, _ = a_presses(a, CLIMB, cut, np.array(mid))
        g_lo, g_hi = (mid, g_hi) if pressed else (g_lo, mid)
    assert abs(g_lo - (closed / c_f - 1.0 + P)) < 1e-9 and abs(g_lo - gamma) < 5e-6
    # The cut-off is an equilibrium: every type's option is its best at the posteriors the cut-off induces.
    c = np.linspace(0.0, H_B, 3001)
    values = np.stack([phi[o](c, *cut.interval(o)) for o in (CLIMB, STAY)])
    best = np.where(values[0] > values[1], CLIMB, STAY)
    away = np.abs(c - cut.climb) > 1e-8  # the indifferent type itself stays (ties keep the rung)
    assert np.array_equal(cut.choice(c)[away], best[away]) and cut.choice(cut.climb) == STAY


@pytest.mark.parametrize(("a", "c_f", "c_hat", "gamma", "resisted", "war", "backs_down", "concedes"), SIGNALLING)
def test_signalling_shares(a, c_f, c_hat, gamma, resisted, war, backs_down, concedes) -> None:
    cut = ladder_cutoffs(signalling(a), 0.0, H_B, OPTIONS_4C)
    rng = np.random.default_rng(0)
    n = 10**6
    c_A, c_B = rng.uniform(0.0, H_A, n), rng.uniform(0.0, H_B, n)
    # Seed by seed through the rules: B's option, A's offer on the posterior it induces, B's answer.
    option = cut.choice(c_B)
    climbed = option == CLIMB
    pressed, y = np.empty(n, dtype=bool), np.empty(n)
    for o in (CLIMB, STAY):
        at = option == o
        pressed[at], y[at] = a_presses(a, o, cut, c_A[at])
    accepts = c_B >= y
    outcome = {
        "resisted": climbed,
        "war": pressed & ~accepts,
        "backs_down": ~pressed,
        "concedes": pressed & accepts,
    }
    # The design's seed-by-seed classification with its closed-form cut-offs.
    c_hat_x = (H_A + (1.0 + a) * (1.0 - P)) * c_f / (KAPPA * H_A * c_f + 1.0 + a)
    gamma_x = c_hat_x / c_f - 1.0 + P
    design_press = ~(c_B < c_hat_x) | (c_A < gamma_x)
    near = (np.abs(c_B - c_hat_x) < 1e-6) | (np.abs(c_A - gamma_x) < 1e-6) | (np.abs(c_B - c_f) < 1e-6)
    assert near.sum() <= 10
    assert np.array_equal(climbed[~near], (c_B < c_hat_x)[~near])
    assert np.array_equal(pressed[~near], design_press[~near])
    assert np.array_equal(outcome["war"][~near], (climbed & design_press & (c_B < c_f))[~near])
    # Shares: the closed forms (of the rules' cut-offs) against the Monte Carlo (4 sigma) and the table (1e-4).
    g = gamma_x
    exact = {
        "resisted": c_hat_x / H_B,
        "war": c_f / H_B * g / H_A,
        "backs_down": c_hat_x / H_B * (1.0 - g / H_A),
        "concedes": 1.0 - c_hat_x / H_B + (c_hat_x - c_f) / H_B * g / H_A,
    }
    table = {"resisted": resisted, "war": war, "backs_down": backs_down, "concedes": concedes}
    for k, share in outcome.items():
        P_k = exact[k]
        assert abs(share.mean() - P_k) <= 4.0 * np.sqrt(P_k * (1.0 - P_k) / n), (k, share.mean(), P_k)
        assert abs(P_k - table[k]) <= 1e-4, (k, P_k, table[k])
