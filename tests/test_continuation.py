"""The value of continuing (sim/rules/continuation.py, design §3.6): fallbacks, the closed forms of §4b and §4c
reproduced through the rules, exact expectations against dense quadrature, the talks' worth and the responder's
cut-off map. The next meeting is tested in test_meetings.py, the proposer's cut-off in test_screening.py."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules.beliefs import quantile
from sim.rules.continuation import (
    FallbackTerms,
    Party,
    continuation_value,
    fallback,
    keep_table,
    keep_value,
    responder_value,
    table_cutoff,
)
from sim.rules.screening import Posterior, Screen, expand, optimal_cutoff
from tests.test_screening import random_games, ultimatum_screen

RULE = settings(max_examples=30, deadline=None, derandomize=True)
TOL = 1e-9


def value_grid(v_min, v_max, points: int) -> np.ndarray:
    """``points`` equally spaced package values from ``v_min`` to ``v_max`` (trailing axis)."""
    return expand(v_min) + np.linspace(0.0, 1.0, points) * (expand(v_max) - expand(v_min))


def cutoff_map(v_grid, audience, side, proposer, days, meets, side_proposes, next_ultimatum, ultimatum):
    """The reference: ``theta(V)`` solved from its equation by bisection, as design §3.6 writes it,

        V - audience = max( C_sk(theta; [q_lo, G(theta))),  W^a_sk - c_bar_sk(theta) )   (``keep_value``)

    over the prior's support ``[L, H]`` (40 halvings: 1e-12 of its width); ``L`` where every type accepts, just
    above ``H`` where none does; at an ultimatum ``W^d_sk - V + audience`` (Fearon 1995). The model tabulates
    the right side on types and inverts it (``keep_table``, ``table_cutoff``); this checks both."""
    V = np.asarray(v_grid, dtype=float)
    aud, ult = expand(audience), expand(np.asarray(ultimatum, dtype=bool))
    fearon = expand(side.fallback.W_def) - V + aud
    if np.all(ult):
        return np.broadcast_to(fearon, np.broadcast_shapes(fearon.shape, ult.shape)).copy()
    s, k = side.expanded(), proposer.expanded()
    args = (expand(days), expand(meets), expand(side_proposes), expand(next_ultimatum))

    def gap(theta):
        return V - aud - keep_value(theta, s, k, *args)

    L, H = k.belief.prior_support()
    lo, hi = (np.broadcast_to(x, np.broadcast_shapes(L.shape, V.shape)).copy() for x in (L, H))
    all_accept, none_accept = gap(lo) >= 0.0, gap(hi) < 0.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        up = gap(mid) >= 0.0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    L, H = np.broadcast_to(L, hi.shape), np.broadcast_to(H, hi.shape)
    theta = np.where(all_accept, L, np.where(none_accept, np.nextafter(H, np.inf), hi))
    return np.where(ult, fearon, theta)


# --- the games of the design's §4 in model utilities (test_screening.py's ultimatum_screen) ----------------------


def two_period(p: float, H: float, c_A: float, kappa: float) -> tuple[Party, Party]:
    """§4b: A (known cost c_A) and B (cost U[0, H]); the day-1 meeting is A's ultimatum; both hold a standoff
    rung costing kappa c per day. B's own game (it never proposes here) is the mirror image. B knows A would
    attack (pi_AB = 1): A's cost c_A is below W^a_AB - U_A(b) = p in both configurations."""
    A = Party(
        FallbackTerms(W_att=p - 1.0, W_def=-1.0, u_base=-1.0, attack_belief=0.0, can_attack=True),
        ultimatum_screen(p),
        Posterior("uniform", 0.0, 0.0, H),
        kappa,
    )
    B = Party(
        FallbackTerms(W_att=-1.0, W_def=-p, u_base=0.0, attack_belief=1.0, can_attack=False),
        Screen(v_max=0.0, v_min_r=-1.0, v_max_r=0.0, lam=1.0, feasible=True, reservation=p - 1.0, slope=1.0),
        Posterior("fixed", c_A, c_A, 0.0),
        kappa,
    )
    return A, B


TWO_PERIOD = [  # the table of §4b: p, H, c_A, kappa, c1, x1*, x2*
    (0.6, 0.3, 0.1, 0.5, 1.0 / 6.0, 0.71667, 0.63333),
    (0.3, 0.3, 0.1, 0.25, 0.2, 0.40, 0.35),
]


# --- fallbacks -------------------------------------------------------------------------------------------------


def test_fallback_by_hand() -> None:
    # Attack worth 0.5 - 0.2 = 0.3; waiting 1 - 0.25 (1 - 0 + 0.2) = 0.7: waiting is better.
    assert np.isclose(fallback(0.5, 0.0, 0.2, 0.2, 1.0, 0.25, True), 0.7)
    # Per type: an array of own costs (and the expected war cost at each); the attack option only where G > 0.
    c = np.array([0.0, 0.4, 2.0])
    F = fallback(0.5, 0.0, 1.5 * c, c, 1.0, 0.5, True)
    assert np.allclose(F, np.maximum(0.5 - 1.5 * c, 1.0 - 0.5 * (1.0 + c)))
    assert np.allclose(fallback(0.5, 0.0, 1.5 * c, c, 1.0, 0.5, False), 1.0 - 0.5 * (1.0 + c))
    # The proposer at an ultimatum has no status quo (ODD 7.8): W^a - c_bar.
    assert np.allclose(fallback(0.5, 0.0, 1.5 * c, c, 1.0, 0.5, True, can_wait=False), 0.5 - 1.5 * c)
    terms = FallbackTerms(W_att=0.5, W_def=0.0, u_base=1.0, attack_belief=0.5, can_attack=True, c_bar1=1.5)
    assert np.allclose(terms.at(c), F)
    assert np.allclose(terms.at_meeting(True, False).at(c), 0.0 - c)  # the responder at an ultimatum: W^d - c
    assert np.allclose(terms.at_meeting(True, True).at(c), 0.5 - 1.5 * c)


# --- §4b through the rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "H", "c_A", "kappa", "c1", "x1", "x2"), TWO_PERIOD)
def test_two_period_day_one_ultimatum(p, H, c_A, kappa, c1, x1, x2) -> None:
    # (a) On day 1 with posterior U[0, theta): x2 = p + (theta - c_A)/2 and A's value E2(theta) (in shares: + 1).
    A, B = two_period(p, H, c_A, kappa)
    theta = np.array([0.12, 0.15, c1, 0.25, H])
    belief = A.belief.truncated_below(theta)
    offer = optimal_cutoff(A.screen, belief, p - 1.0 - c_A)
    assert np.allclose(-offer.offered, p + (theta - c_A) / 2.0, atol=TOL)
    E2 = p + (theta - c_A) ** 2 / (4.0 * theta)
    assert np.allclose(p - 1.0 - c_A + offer.gain + 1.0, E2, atol=TOL)
    # The same through the continuation: A proposes the ultimatum after a day holding the standoff rung.
    C = continuation_value(c_A, replace(A, belief=belief), B, 1.0, True, True, True)
    assert np.allclose(C + 1.0, -kappa * c_A + E2, atol=TOL)
    # x2* at the equilibrium posterior.
    assert abs(p + (c1 - c_A) / 2.0 - x2) < 1e-5


@pytest.mark.parametrize(("p", "H", "c_A", "kappa", "c1", "x1", "x2"), TWO_PERIOD)
def test_two_period_day_zero_cutoff(p, H, c_A, kappa, c1, x1, x2) -> None:
    # (b) B's cut-off from cutoff_map, with C_BA(c; [0, theta)) = -kappa c + max(-p - y*(theta), -p - c), equals
    # theta(x1) = (x1 - p + c_A/2)/(kappa + 1/2) wherever c_A < theta <= H (the derivation's range).
    A, B = two_period(p, H, c_A, kappa)
    x = np.linspace(p, min(1.0, p + H), 257)
    theta = cutoff_map(-x, 0.0, B, A, 1.0, True, False, True, False)
    closed = (x - p + c_A / 2.0) / (kappa + 0.5)
    valid = (closed > c_A) & (closed <= H)
    assert valid.sum() > 50
    assert np.allclose(theta[valid], closed[valid], atol=1e-9)
    assert np.all(np.diff(theta) >= 0.0)  # a worse package for B (larger x) is accepted by fewer types
    # The map solves its equation: at theta, -x = C_BA(theta; [0, theta)) (B cannot attack).
    inner = valid & (closed < H)
    A_theta = replace(A, belief=A.belief.truncated_below(theta))
    C = continuation_value(theta, B, A_theta, 1.0, True, False, True)
    assert np.allclose(C[inner], -x[inner], atol=1e-9)
    y = (theta - c_A) / 2.0
    assert np.allclose(C[inner], (-kappa * theta + np.maximum(-p - y, -p - theta))[inner], atol=1e-9)


@pytest.mark.parametrize(("p", "H", "c_A", "kappa", "c1", "x1", "x2"), TWO_PERIOD)
def test_two_period_day_zero_offer(p, H, c_A, kappa, c1, x1, x2) -> None:
    # (c) A's day-0 objective over x1 through the rules: B accepts iff c_B >= theta(x1) (cutoff_map); after a
    # rejection A's no-deal value is its continuation on the posterior U[0, theta) (design §3.6, N_A).
    A, B = two_period(p, H, c_A, kappa)
    x = np.linspace(p, min(1.0, p + H), 6001)  # step 5e-5
    theta = cutoff_map(-x, 0.0, B, A, 1.0, True, False, True, False)
    accept = A.belief.survival(theta)
    N = continuation_value(c_A, replace(A, belief=A.belief.truncated_below(theta)), B, 1.0, True, True, True)
    EU = accept * (x - 1.0) + (1.0 - accept) * N
    best = np.argmax(EU)
    assert abs(x[best] - x1) < 1e-3 and abs(theta[best] - c1) < 1e-3
    assert abs(x[best] - (p + (c1 - c_A) / 2.0 + kappa * c1)) < 1e-4  # x1* = x2* + kappa c1, unrounded
    # H EU(theta) of the design at the optimum.
    H_EU = H * p + (H - c1) * ((c1 - c_A) / 2.0 + kappa * c1) - kappa * c_A * c1 + (c1 - c_A) ** 2 / 4.0
    assert abs(H * (EU[best] + 1.0) - H_EU) < 1e-6


# --- the responder's value of the other's proposal ---------------------------------------------------------------


def test_signalling_continuation_is_exact() -> None:
    # §4c after B resisted: A's ultimatum on B's posterior [0, c_hat), press (x = 1, a concession costing B the
    # audience cost a) or back down (x = 0); A ~ U[0, 1] presses iff c_A < gamma_T. The design's value for B:
    # -kappa c + (gamma_T / H_A) max(-1 - a, -p - c) (+ 0 when A backs down). gamma_T = 0.74 lies on no grid.
    p, a, kappa, H_A, H_B = 0.5, 0.1, 0.25, 1.0, 1.5
    c_f = 1.0 - p + a
    c_hat = (H_A + (1.0 + a) * (1.0 - p)) * c_f / (kappa * H_A * c_f + 1.0 + a)
    gamma = c_hat / c_f - 1.0 + p
    assert np.isclose(c_hat, 0.744) and np.isclose(gamma, 0.74)
    screen = ultimatum_screen(p, offers=np.array([-1.0, 0.0]), audience=np.array([a, 0.0]))
    A = Party(
        FallbackTerms(W_att=p - 1.0, W_def=-1.0, u_base=-1.0, attack_belief=0.0, can_attack=True),
        screen,
        Posterior("uniform", 0.0, 0.0, H_B, 0.0, c_hat / H_B),
        0.0,
    )
    B = Party(
        FallbackTerms(W_att=-1.0, W_def=-p, u_base=0.0, attack_belief=1.0, can_attack=False),
        screen,
        Posterior("uniform", 0.0, 0.0, H_A),
        kappa,
    )
    c = np.array([0.0, 0.3, 0.6, c_hat, 1.2])
    C = continuation_value(c, B, A, 1.0, True, False, True)
    assert np.allclose(C, -kappa * c + gamma / H_A * np.maximum(-1.0 - a, -p - c), atol=1e-12)
    assert np.isclose(C[3], -1.0)  # c_hat is indifferent between resisting and conceding at once


@pytest.mark.parametrize("finite", [False, True])
@pytest.mark.parametrize("proposer_kind", ["uniform", "triangular"])
def test_responder_value_matches_dense_quadrature(finite: bool, proposer_kind: str) -> None:
    # The payoff max(v(y*(c_k)) - a, F_own) is monotone in the proposer's type (a higher cost lowers F_kr, so
    # its cut-off, so raises the offer), so the midpoint rule with N cells is within (psi_max - psi_min)/N.
    rng = np.random.default_rng(14 + finite)
    m, n_pts = 40, 20000
    # The responder's cost as the proposer believes: U[l, h]; offers from the whole posterior's range and beyond;
    # the responder's fallback and the proposer's chosen where they bind (some offers accepted, some not).
    ell = rng.uniform(0.0, 1.0, m)
    h = ell + rng.uniform(0.1, 1.0, m)
    belief = Posterior("uniform", 0.0, 0.0, 2.0, ell / 2.0, h / 2.0)
    r0, pi = rng.uniform(-1.0, 1.0, m), rng.uniform(0.2, 1.0, m)
    v_min_r, v_max_r = r0 - pi * (h + rng.uniform(-0.3, 0.5, m)), r0 - pi * (ell - rng.uniform(-0.3, 0.5, m))
    screen = Screen(
        v_max=rng.uniform(0.0, 1.0, m),
        v_min_r=v_min_r,
        v_max_r=v_max_r,
        lam=rng.uniform(0.5, 2.0, m),
        feasible=True,
        reservation=r0,
        slope=pi,
    )
    F_own = r0 - pi * (ell + rng.uniform(-0.2, 1.2, m) * (h - ell))
    if finite:
        offers = v_min_r[:, None] + rng.uniform(0.0, 1.0, (m, 3)) * (v_max_r - v_min_r)[:, None]
        screen = replace(screen, offers=offers, audience=rng.uniform(0.0, 0.1, (m, 3)))
    L = rng.uniform(0.0, 0.5, m)
    H = L + rng.uniform(0.5, 2.0, m)
    q_lo = rng.uniform(0.0, 0.3, m)
    prop_belief = Posterior(proposer_kind, L, L + rng.uniform(0.1, 0.9, m) * (H - L), H, q_lo, q_lo + 0.7)
    # The proposer's fallback max(W^a - c_bar(c), U(b) - pi'(U(b) - W^d + c)) passes the values of its offers
    # (V_k(y) for y in [l, h]) in the middle of its own type's range.
    slopes = rng.uniform(0.5, 2.0, (2, m))
    target = screen.v_max - screen.lam * (r0 - v_min_r) + screen.lam * pi * (ell + rng.uniform(0.0, 1.0, m) * (h - ell))
    mid = (L + H) / 2.0
    pi_k = rng.uniform(0.2, 1.0, m)
    proposer = FallbackTerms(
        W_att=target + slopes[0] * mid + rng.uniform(-0.2, 0.2, m),
        W_def=rng.uniform(-1.0, 0.0, m),
        u_base=np.zeros(m),
        attack_belief=pi_k,
        can_attack=rng.uniform(size=m) < 0.7,
        c_bar0=np.zeros(m),
        c_bar1=slopes[0],
    )
    proposer = replace(proposer, W_def=(target + pi_k * mid + rng.uniform(-0.2, 0.2, m)) / pi_k)
    exact = responder_value(F_own, screen, belief, proposer, prop_belief)
    u = prop_belief.q_lo[:, None] + (np.arange(n_pts) + 0.5) / n_pts * (prop_belief.q_hi - prop_belief.q_lo)[:, None]
    c_k = quantile(proposer_kind, L[:, None], prop_belief.mode[:, None], H[:, None], u)
    offers = optimal_cutoff(screen.expanded(), belief.expanded(), proposer.expanded().at(c_k))
    psi = np.maximum(offers.offered, F_own[:, None])
    assert np.all(np.diff(psi, axis=1) >= -TOL)  # the premise of the bound
    assert np.all(np.abs(exact - psi.mean(axis=1)) <= (psi[:, -1] - psi[:, 0]) / n_pts + TOL)
    assert np.sum(psi[:, -1] - psi[:, 0] > 0.05) >= m // 10  # the expectation is not trivial in some cases


# --- the talks' worth ------------------------------------------------------------------------------------------


@st.composite
def dyads(draw: st.DrawFn) -> tuple[Party, Party, float]:
    """Two sides with private costs U[0, H], random frontiers, beliefs and fallbacks; one own type."""
    f = st.floats(-2.0, 2.0)
    unit = st.floats(0.0, 1.0)

    def side() -> Party:
        H = draw(st.floats(0.1, 2.0))
        lo = draw(unit)
        v_min = draw(f)
        return Party(
            FallbackTerms(
                W_att=draw(f), W_def=draw(f), u_base=draw(f), attack_belief=draw(unit), can_attack=draw(st.booleans())
            ),
            Screen(
                v_max=draw(f),
                v_min_r=v_min,
                v_max_r=v_min + draw(st.floats(0.0, 2.0)),
                lam=draw(st.floats(0.0, 3.0)),
                feasible=draw(st.booleans()),
                reservation=draw(f),
                slope=draw(unit),
                audience=draw(st.floats(0.0, 0.3)),
            ),
            Posterior("uniform", 0.0, 0.0, H, lo * 0.9, lo * 0.9 + draw(st.floats(0.0, 1.0)) * (1.0 - lo * 0.9)),
            draw(st.floats(0.0, 0.5)),
        )

    return side(), side(), draw(st.floats(0.0, 2.0))


@RULE
@given(dyads(), st.booleans(), st.booleans())
def test_option_is_nonnegative_and_zero_without_a_settlement(pair, proposes: bool, meets: bool) -> None:
    own, other, c = pair
    days = 3.0
    F = own.fallback.at(c)
    C = continuation_value(c, own, other, days, meets, proposes, False)
    option = C + days * own.holding_rate * c - F
    assert option >= -TOL
    proposer = own if proposes else other
    if not meets or not proposer.screen.feasible:
        assert abs(option) <= TOL


def test_option_can_be_negative_at_an_ultimatum() -> None:
    # B expects A's ultimatum; talks failing elsewhere would leave B the status quo with A attacking w.p. 0.5
    # (F = -0.5 (p + c) = -0.45 at c = 0.3), but at the ultimatum B either accepts x2 = p + (H - c_A)/2 = 0.7 or
    # fights (-p - c = -0.9): the meeting is worth -0.7 to it, less than its fallback.
    A, B = two_period(0.6, 0.3, 0.1, 0.0)
    B = replace(B, fallback=replace(B.fallback, attack_belief=0.5))
    C = continuation_value(0.3, B, A, 1.0, True, False, True)
    assert np.isclose(B.fallback.at(0.3), -0.45) and np.isclose(C, -0.7)


# --- the responder's cut-off -------------------------------------------------------------------------------------


def random_parties(rng: np.random.Generator, m: int) -> tuple[Party, Party]:
    """Two sides facing each other in m random dyads, private costs uniform, proposer's cost uncertain."""

    def side() -> Party:
        H = rng.uniform(0.2, 2.0, m)
        lo = rng.uniform(0.0, 0.5, m)
        screen, _, _ = random_games(rng, m, "uniform")
        return Party(
            FallbackTerms(
                W_att=rng.uniform(-2.0, 0.0, m),
                W_def=rng.uniform(-2.0, 0.0, m),
                u_base=rng.uniform(-1.0, 0.0, m),
                attack_belief=rng.uniform(0.0, 1.0, m),
                can_attack=rng.uniform(size=m) < 0.5,
            ),
            screen,
            Posterior("uniform", 0.0, 0.0, H, lo, lo + rng.uniform(0.1, 0.5, m)),
            rng.uniform(0.0, 0.3, m),
        )

    return side(), side()


@pytest.mark.parametrize("side_proposes", [False, True])
def test_cutoff_map_is_monotone_and_solves_its_equation(side_proposes: bool) -> None:
    rng = np.random.default_rng(15 + side_proposes)
    m = 12
    s, k = random_parties(rng, m)
    v = value_grid(np.full(m, -3.0), np.full(m, 1.0), 129)
    aud = rng.uniform(0.0, 0.2, m)
    days = rng.uniform(1.0, 10.0, m)
    next_ult = rng.uniform(size=m) < 0.5
    theta = cutoff_map(v, aud, s, k, days, True, side_proposes, next_ult, False)
    assert np.all(np.diff(theta, axis=-1) <= 0.0)  # more valuable packages are accepted by more types
    # At an interior cut-off the indifferent type's two values meet.
    L, H = k.belief.prior_support()
    inner = (theta > L[:, None] + 1e-6) & (theta < H[:, None] - 1e-6)
    assert inner.sum() > 100
    ks = k.expanded()
    other = replace(ks, belief=ks.belief.truncated_below(theta))
    args = (days[:, None], True, side_proposes, next_ult[:, None])
    keep = np.maximum(continuation_value(theta, s.expanded(), other, *args), s.expanded().fallback.attack_now(theta))
    assert np.allclose((v - aud[:, None])[inner], keep[inner], atol=1e-8)


def test_cutoff_map_at_an_ultimatum_is_fearon() -> None:
    A, B = two_period(0.6, 0.3, 0.1, 0.5)
    v = value_grid(-1.0, 0.0, 11)
    theta = cutoff_map(v, 0.05, B, A, 1.0, True, False, True, True)
    assert np.allclose(theta, -0.6 - v + 0.05)  # W^d_BA - V + audience


@pytest.mark.parametrize("side_proposes", [False, True])
def test_the_tabulated_cutoff_is_the_bisected_one(side_proposes: bool) -> None:
    """The model's cut-off (``keep_value`` on 1,025 types, ``keep_table``, ``table_cutoff``) against the bisection
    of the design's equation (``cutoff_map`` above), on random dyads: where the reservation falls in the type (the
    design's case) the two agree to the grid's interpolation error, 1e-3 of the prior's width; where it rises, the
    table's running minimum gives a cut-off at or below the bisection's root, never above."""
    rng = np.random.default_rng(25 + side_proposes)
    m = 12
    s, k = random_parties(rng, m)
    v = value_grid(np.full(m, -3.0), np.full(m, 1.0), 65)
    days = rng.uniform(1.0, 10.0, m)
    next_ult = rng.uniform(size=m) < 0.5
    reference = cutoff_map(v, 0.0, s, k, days, True, side_proposes, next_ult, False)
    L, H = k.belief.prior_support()
    types = L[:, None] + np.linspace(0.0, 1.0, 1025) * (H - L)[:, None]
    args = (days[:, None], True, side_proposes, next_ult[:, None])
    keep = keep_value(types, s.expanded(), k.expanded(), *args)
    table = keep_table(keep)
    theta = np.stack([table_cutoff(types[d], table[d], v[d]) for d in range(m)])
    theta = np.clip(theta, L[:, None], np.nextafter(H, np.inf)[:, None])  # the reference's ends
    falling = np.all(np.diff(keep, axis=-1) <= 1e-12, axis=-1)
    assert falling.sum() >= 3, "too few dyads where the design's monotonicity holds for the test to mean much"
    width = (H - L)[:, None]
    assert np.all(np.abs(theta - reference)[falling] <= 1e-3 * width[falling])
    assert np.all(theta <= reference + 1e-3 * width)
