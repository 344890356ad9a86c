"""The value of continuing (sim/rules/continuation.py, design §3.6): the closed forms of §4a and §4b reproduced
through the rules, the proposer's cut-off against brute-force searches, exact expectations against dense
quadrature, the talks' worth, the responder's cut-off map, and the next meeting against a loop."""

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
    Posterior,
    Screen,
    continuation_value,
    cutoff_map,
    fallback,
    interpolate_cutoff,
    next_meetings,
    optimal_cutoff,
    responder_value,
    value_grid,
)

RULE = settings(max_examples=30, deadline=None, derandomize=True)
TOL = 1e-9


# --- the games of the design's §4 in model utilities -------------------------------------------------------------
# One issue, status quo 0, A's ideal 1, B's 0, saliences 1 (design §4): u_A(x) = -(1 - x), u_B(x) = -x, so
# U_A(b) = -1, U_B(b) = 0, W^a_AB = p - 1, W^d_BA = -p, G_BA = 0 (B cannot attack); the frontier runs from
# x = 0 to x = 1: V_A in [-1, 0], V_B in [-1, 0], lambda = 1.


def ultimatum_screen(p: float, **kw: object) -> Screen:
    """A's game at an ultimatum to B: B's reservation W^d_BA = -p with pi = 1 (design §3.6)."""
    return Screen(v_max=0.0, v_min_r=-1.0, v_max_r=0.0, lam=1.0, feasible=True, reservation=-p, slope=1.0, **kw)


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


# --- the next meeting ------------------------------------------------------------------------------------------


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
    # On step 2 itself the ultimatum counts only for a table answer (same day); otherwise step 3's offer is next.
    later = next_meetings(steps, part, proposers, ultimatum, now=2, step_days=1.0)
    assert later.proposer[0, 2] == 0 and later.days[0, 2] == 1.0 and not later.ultimatum[0, 2]
    same = next_meetings(steps, part, proposers, ultimatum, now=2, step_days=1.0, same_day=True)
    assert same.proposer[0, 2] == 2 and same.days[0, 2] == 0.0 and same.ultimatum[0, 2]
    # Nothing left: no meeting, one step to the next decision.
    none = next_meetings(steps, part, proposers, ultimatum, now=6, step_days=7.0)
    assert not none.exists.any() and (none.proposer == -1).all() and (none.days == 7.0).all()


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
                    found = ((steps[v] - now) * 2.0, ultimatum[v], first)
                    break
            if found is None:
                assert not m.exists[i, t] and m.proposer[i, t] == -1 and m.days[i, t] == 2.0
            else:
                assert m.exists[i, t] and (m.days[i, t], m.ultimatum[i, t], m.proposer[i, t]) == found


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


# --- the proposer's cut-off ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "x_star"), [(0.3, 0.4), (0.6, 0.7), (0.95, 1.0)])
def test_fearon_ultimatum(p: float, x_star: float) -> None:
    # §4a: lambda = pi = 1, posterior [0, 1] of U[0, H]: x* = min(1, p + (H - c_A)/2), H = 0.3, c_A = 0.1.
    offer = optimal_cutoff(ultimatum_screen(p), Posterior("uniform", 0.0, 0.0, 0.3), p - 1.0 - 0.1)
    assert np.isclose(-offer.offered, x_star)  # B's value of x is -x
    assert np.isclose(offer.accept, 1.0 - (x_star - p) / 0.3)


def random_games(rng: np.random.Generator, m: int, kind: str) -> tuple[Screen, Posterior, np.ndarray]:
    """m random games: priors on [L, H], posteriors, frontiers and fallbacks chosen so that Y lies inside,
    across, below and above the posterior's support, and deals are sometimes worse than the fallback."""
    L = rng.uniform(0.0, 1.0, m)
    H = L + rng.uniform(0.05, 2.0, m)
    mode = L + rng.uniform(0.05, 0.95, m) * (H - L)
    q = np.sort(rng.uniform(0.0, 1.0, (2, m)), axis=0)
    q[1] = np.maximum(q[1], q[0] + 0.02)
    belief = Posterior(kind, L, mode, H, q[0], np.minimum(q[1], 1.0))
    v_min_r = rng.uniform(-2.0, 0.0, m)
    screen = Screen(
        v_max=rng.uniform(0.0, 2.0, m),
        v_min_r=v_min_r,
        v_max_r=v_min_r + rng.uniform(0.1, 3.0, m),
        lam=rng.uniform(0.2, 3.0, m),
        feasible=True,
        reservation=rng.uniform(-2.0, 2.0, m),
        slope=rng.uniform(0.1, 1.0, m),
        audience=rng.uniform(0.0, 0.3, m),
    )
    F = screen.value0() - rng.uniform(-1.0, 3.0, m)
    # Half the games: Y covers the support and the fallback puts the uniform case's vertex inside it.
    wide = rng.uniform(size=m) < 0.5
    ell, h = belief.support()
    v0 = screen.reservation + screen.audience
    wide_screen = replace(screen, v_min_r=v0 - screen.slope * (h + 0.5), v_max_r=v0 - screen.slope * (ell - 0.5))
    screen = replace(
        screen,
        v_min_r=np.where(wide, wide_screen.v_min_r, screen.v_min_r),
        v_max_r=np.where(wide, wide_screen.v_max_r, screen.v_max_r),
    )
    b = screen.lam * screen.slope
    F = np.where(wide, screen.value0() - b * (h - 2.0 * rng.uniform(ell, h)), F)
    return screen, belief, F


def brute_force(screen: Screen, belief: Posterior, F: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """max over a grid of Y of S(y)(V_k(y) - F), and 0 for no deal; the grid's step."""
    y_lo, y_hi = screen.bounds()
    ys = y_lo[:, None] + np.linspace(0.0, 1.0, points) * (y_hi - y_lo)[:, None]
    V = screen.value0()[:, None] + (screen.lam * screen.slope)[:, None] * ys
    g = belief.expanded().survival(ys) * (V - F[:, None])
    return np.maximum(g.max(axis=1), 0.0), (y_hi - y_lo) / (points - 1)


def test_uniform_closed_form_is_the_brute_force_maximum() -> None:
    rng = np.random.default_rng(11)
    screen, belief, F = random_games(rng, 200, "uniform")
    offer = optimal_cutoff(screen, belief, F)
    best, step = brute_force(screen, belief, F, 20001)
    # |g'| <= b + max_Y |a + b y| / (h - l) on Y: the grid's maximum is within that times its step.
    a, b = screen.value0() - F, screen.lam * screen.slope
    (y_lo, y_hi), (ell, h) = screen.bounds(), belief.support()
    lipschitz = b + np.maximum(abs(a + b * y_lo), abs(a + b * y_hi)) / (h - ell)
    assert np.all(np.abs(offer.gain - best) <= lipschitz * step + TOL)
    # The gain is what the chosen cut-off earns, inside Y.
    deal = offer.accept > 0.0
    y = offer.cutoff[deal]
    assert np.all((y >= y_lo[deal] - TOL) & (y <= y_hi[deal] + TOL))
    assert np.allclose(offer.gain[deal], belief.survival(offer.cutoff)[deal] * (offer.value - F)[deal])
    assert np.allclose(offer.accept[deal], belief.survival(offer.cutoff)[deal])
    assert np.allclose(offer.offered[deal], (screen.reservation - screen.slope * offer.cutoff)[deal])
    # The design's formula, y* = clip_{Y cap [l, h]}(h/2 - (V_k(0) - F)/(2 lam pi)), wherever Y meets [l, h].
    meet = (np.maximum(ell, y_lo) <= np.minimum(h, y_hi)) & deal
    design = np.clip(h / 2.0 - a / (2.0 * b), np.maximum(ell, y_lo), np.minimum(h, y_hi))
    assert meet.sum() > 50 and (~meet & deal).sum() > 5  # both cases drawn
    assert np.allclose(offer.cutoff[meet], design[meet])
    # Y wholly below l: every type accepts the least generous feasible offer.
    below = (y_hi < ell) & deal
    assert below.any() and np.allclose(offer.cutoff[below], y_hi[below])


def test_triangular_cutoff_is_the_brute_force_maximum() -> None:
    rng = np.random.default_rng(12)
    screen, belief, F = random_games(rng, 200, "triangular")
    offer = optimal_cutoff(screen, belief, F)
    best, step = brute_force(screen, belief, F, 20001)
    # The rule is exact, so it is never below a grid's maximum. The grid is below the true maximum by at most
    # sup|g''| D^2 / 8 near an interior maximum (sup|g''| <= (sup|f'| max|a + b y| + 2 sup f b) / (q_hi - q_lo)
    # for the prior density f) and by |g'| D <= (b + sup f max|a + b y| / (q_hi - q_lo)) D at a kink (S at l).
    a, b = screen.value0() - F, screen.lam * screen.slope
    y_lo, y_hi = screen.bounds()
    (ell, h), (L, M, H) = belief.support(), (belief.low, belief.mode, belief.high)
    lo, hi = np.maximum(ell, y_lo), np.minimum(h, y_hi)
    width = belief.q_hi - belief.q_lo
    f_max, df_max = 2.0 / (H - L), 2.0 / ((H - L) * np.minimum(M - L, H - M))
    top = np.maximum(abs(a + b * lo), abs(a + b * hi))
    curvature = (df_max * top + 2.0 * f_max * b) / width
    lipschitz = b + f_max * top / width
    assert np.all(offer.gain >= best - TOL)
    assert np.all(offer.gain <= best + np.maximum(curvature * step**2 / 8.0, lipschitz * step) + TOL)
    deal = offer.accept > 0.0
    assert deal.sum() > 50
    assert np.allclose(offer.gain[deal], belief.survival(offer.cutoff)[deal] * (offer.value - F)[deal])
    # Maxima inside the support on both sides of the mode are drawn (not only the ends of Y).
    inside = deal & (offer.cutoff > lo + 1e-6) & (offer.cutoff < hi - 1e-6)
    assert (inside & (offer.cutoff < M)).sum() > 5 and (inside & (offer.cutoff > M)).sum() > 5


def test_finite_offers_pick_the_best_element() -> None:
    rng = np.random.default_rng(13)
    m, k = 60, 4
    screen, belief, F = random_games(rng, m, "uniform")
    offers = screen.v_min_r[:, None] + rng.uniform(0.0, 1.0, (m, k)) * (screen.v_max_r - screen.v_min_r)[:, None]
    offers[::3, -1] = np.nan  # padding
    aud = rng.uniform(0.0, 0.3, (m, k))
    finite = replace(screen, offers=offers, audience=aud)
    offer = optimal_cutoff(finite, belief, F)
    for e in range(m):
        post = Posterior("uniform", belief.low[e], belief.mode[e], belief.high[e], belief.q_lo[e], belief.q_hi[e])
        options = []  # (gain, acceptance, cut-off, responder's net value) of each offer, in order
        for j in range(k):
            if np.isnan(offers[e, j]):
                continue
            net = offers[e, j] - aud[e, j]
            y = (screen.reservation[e] - net) / screen.slope[e]
            S = float(post.survival(y))
            options.append(
                (S * (screen.v_max[e] - screen.lam[e] * (offers[e, j] - screen.v_min_r[e]) - F[e]), S, y, net)
            )
        gain, S, y, net = max(options, key=lambda o: o[0])  # the first of equal maxima, as argmax
        if S > 0.0 and gain >= 0.0:
            assert np.isclose(offer.gain[e], gain) and offer.cutoff[e] == y and offer.offered[e] == net
        else:
            assert offer.gain[e] == 0.0 and offer.cutoff[e] == np.inf


def test_zero_slope_offers_the_status_quo_iff_it_beats_the_fallback() -> None:
    # pi = 0: the responder accepts iff v >= U_r(b) whatever its cost, so the offer is v_r = U_r(b) (design §3.6).
    screen = Screen(v_max=1.0, v_min_r=-1.0, v_max_r=1.0, lam=2.0, feasible=True, reservation=0.2, slope=0.0)
    belief = Posterior("uniform", 0.0, 0.0, 1.0, 0.2, 0.7)
    offer = optimal_cutoff(screen, belief, np.array([-0.5, 0.0, -0.6 + 1e-12]))
    # V_k at v_r = 0.2: 1 - 2 (0.2 + 1) = -1.4; F = -0.5 and 0 are better: no deal; a fallback below -1.4 deals.
    assert offer.gain.tolist() == [0.0, 0.0, 0.0] and np.all(offer.offered == -np.inf)
    offer = optimal_cutoff(screen, belief, np.array([-1.5, -2.0]))
    assert np.allclose(offer.gain, [0.1, 0.6]) and np.all(offer.accept == 1.0) and np.allclose(offer.offered, 0.2)
    # Infeasible: U_r(b) outside the frontier, or the frontier flagged infeasible.
    assert optimal_cutoff(replace(screen, v_max_r=0.1), belief, -2.0).gain == 0.0
    assert optimal_cutoff(replace(screen, feasible=False), belief, -2.0).gain == 0.0


def test_known_cost() -> None:
    # A point posterior at c0 = 0.25: the offer that leaves type c0 indifferent iff it beats the fallback.
    screen = ultimatum_screen(0.6)
    for belief in (Posterior("fixed", 0.25, 0.25, 0.0), Posterior("uniform", 0.0, 0.0, 1.0, 0.25, 0.25)):
        offer = optimal_cutoff(screen, belief, np.array([-0.5, -0.3]))  # V_A(c0) = p - 1 + c0 = -0.15
        assert np.allclose(offer.cutoff, 0.25) and np.allclose(offer.gain, [0.35, 0.15])
        assert optimal_cutoff(screen, belief, -0.1).gain == 0.0


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


def test_interpolate_cutoff() -> None:
    v = value_grid(np.array([0.0, -1.0]), np.array([1.0, 1.0]), 5)
    theta = np.array([[4.0, 3.0, 2.0, 1.0, 0.0], [8.0, 6.0, 4.0, 2.0, 0.0]])
    out = interpolate_cutoff(v, theta, np.array([0.125, 0.25]))
    assert np.allclose(out, [3.5, 3.0])
    assert np.allclose(interpolate_cutoff(v, theta, np.array([-5.0, 5.0])), [4.0, 0.0])  # ends beyond the grid
