"""The proposer's cut-off (sim/rules/screening.py, design §3.6): Fearon's ultimatum (§4a) through the rule, the
closed forms against brute-force searches, finite offer sets, a zero slope and a known cost."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.rules.screening import Posterior, Screen, optimal_cutoff

TOL = 1e-9


# --- the games of the design's §4 in model utilities -------------------------------------------------------------
# One issue, status quo 0, A's ideal 1, B's 0, saliences 1 (design §4): u_A(x) = -(1 - x), u_B(x) = -x, so
# U_A(b) = -1, U_B(b) = 0, W^a_AB = p - 1, W^d_BA = -p, G_BA = 0 (B cannot attack); the frontier runs from
# x = 0 to x = 1: V_A in [-1, 0], V_B in [-1, 0], lambda = 1.


def ultimatum_screen(p: float, **kw: object) -> Screen:
    """A's game at an ultimatum to B: B's reservation W^d_BA = -p with pi = 1 (design §3.6)."""
    return Screen(v_max=0.0, v_min_r=-1.0, v_max_r=0.0, lam=1.0, feasible=True, reservation=-p, slope=1.0, **kw)


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
