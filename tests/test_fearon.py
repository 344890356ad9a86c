"""Analytic checks against Fearon (1995): an ultimatum under private information about costs.

A (proposer) and B bargain over one continuous issue x on [0, 1]; status quo 0, A wants 1, B
wants 0. A prevails in war with probability p, so war gives A ``p - c_A`` and B ``1 - p - c_B``
(in the model's utilities, ``p - 1 - c_A`` and ``-p - c_B``). A knows only the prior over c_B, so
it demands ``x* = argmax_x S_B(x - p) (x - 1) + (1 - S_B(x - p)) (p - 1 - c_A)`` with
``S_B(t) = P(c_B >= t)``. B accepts iff ``c_B >= x - p``; otherwise there is war. With c_A = 0.1
and c_B ~ U[0, 0.3] the optimum is ``x* = min(1, p + (0.3 - 0.1) / 2)`` and the chance of war is
``(x* - p) / 0.3``.

The configs are configs/validation/fearon_*.yaml.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from sim.loading import load_scenario
from sim.model import DiplomacyModel
from sim.scenario import Scenario

VALIDATION = Path(__file__).resolve().parent.parent / "configs" / "validation"
N_SEEDS = 2_000
C_A = 0.1
B = 1  # B's row in the model's arrays (actors are listed A, B)
TIE = 1e-6  # the logged package is rounded to 6 decimals: draws this close to the threshold are ambiguous

# config, p, closed-form demand x*, closed-form war share
UNIFORM_CASES = [
    ("fearon_p030", 0.3, 0.4, 1 / 3),
    ("fearon_p060", 0.6, 0.7, 1 / 3),
    ("fearon_p095", 0.95, 1.0, 1 / 6),
]
TRIANGULAR = ("fearon_triangular", 0.5, (0.0, 0.05, 0.4))  # config, p, (low, mode, high) of c_B


def triangular_survival(t: np.ndarray, low: float, mode: float, high: float) -> np.ndarray:
    """P(c >= t) for c ~ triangular(low, mode, high), written out from the density."""
    t = np.asarray(t, dtype=float)
    out = np.empty_like(t)
    cdf_left = (t - low) ** 2 / ((high - low) * (mode - low))  # CDF for low <= t <= mode
    cdf_right = 1.0 - (high - t) ** 2 / ((high - low) * (high - mode))  # CDF for mode <= t <= high
    out[:] = np.where(t <= mode, 1.0 - cdf_left, 1.0 - cdf_right)
    out[t <= low] = 1.0
    out[t >= high] = 0.0
    return out


def proposer_eu(x: np.ndarray, p: float, survival) -> np.ndarray:
    s = survival(x - p)
    return s * (x - 1.0) + (1.0 - s) * (p - 1.0 - C_A)


def triangular_optimum() -> tuple[float, float]:
    """Brute-force argmax of A's expected utility on 100,001 points, and the war chance there."""
    _, p, (lo, mode, hi) = TRIANGULAR
    xs = np.linspace(0.0, 1.0, 100_001)
    eu = proposer_eu(xs, p, lambda t: triangular_survival(t, lo, mode, hi))
    x_star = float(xs[eu.argmax()])
    return x_star, 1.0 - float(triangular_survival(np.array([x_star - p]), lo, mode, hi)[0])


@cache
def scenario(name: str) -> Scenario:
    return load_scenario(VALIDATION / f"{name}.yaml")


@cache
def runs(name: str) -> tuple[dict, ...]:
    """One run per seed 0..N_SEEDS-1: the demand, B's drawn cost and the result."""
    sc = scenario(name)
    out = []
    for seed in range(N_SEEDS):
        m = DiplomacyModel(sc, rng=seed)
        res = m.run()
        out.append(
            {
                "seed": seed,
                "demand": m.venue_log[0]["proposals"][0]["package"]["x"],
                "c_b": float(m.private_cost[B]),
                "c_a": float(m.private_cost[0]),
                "result": res,
            }
        )
    return tuple(out)


def all_cases() -> list[tuple[str, float, float]]:
    """(config, p, expected demand) for every case, the triangular one by brute force."""
    return [(n, p, x) for n, p, x, _ in UNIFORM_CASES] + [(TRIANGULAR[0], TRIANGULAR[1], triangular_optimum()[0])]


# --------------------------------------------------------------------------- configs


@pytest.mark.parametrize("path", sorted(VALIDATION.glob("*.yaml")), ids=lambda p: p.name)
def test_validation_config_loads(path: Path) -> None:
    assert load_scenario(path).id == path.stem


def test_validation_configs_exist() -> None:
    names = {p.stem for p in VALIDATION.glob("*.yaml")}
    assert {n for n, *_ in UNIFORM_CASES} | {TRIANGULAR[0]} <= names


@pytest.mark.parametrize("name,p", [(n, p) for n, p, *_ in UNIFORM_CASES] + [TRIANGULAR[:2]])
def test_config_encodes_the_textbook_case(name: str, p: float) -> None:
    sc = scenario(name)
    a, b = sc.actors
    assert (a.id, b.id) == ("A", "B")
    assert a.capability / (a.capability + b.capability) == pytest.approx(p, abs=1e-12)
    assert (a.conflict_cost.distribution, a.conflict_cost.low) == ("fixed", C_A)
    assert sc.parameters.noise == 0
    (issue,) = sc.issues
    assert (issue.status_quo, issue.compliance, issue.values) == (0, 0, None)
    (venue,) = sc.venues
    assert (venue.format, venue.chair, venue.agenda, venue.date) == ("ultimatum", "A", ["x"], sc.calendar.start)


# --------------------------------------------------------------------------- the demand


@pytest.mark.parametrize("name,p,x_star", all_cases())
def test_demand_is_the_optimum(name: str, p: float, x_star: float) -> None:
    demands = {r["demand"] for r in runs(name)}
    assert len(demands) == 1, f"{name}: the demand should not depend on B's private draw: {sorted(demands)[:5]}"
    (demand,) = demands
    assert abs(demand - x_star) <= 1e-3, f"{name}: demand {demand}, optimum {x_star}"


def test_uniform_closed_form_matches_brute_force() -> None:
    """The test's own closed form x* = min(1, p + 0.1) agrees with a grid maximisation."""
    xs = np.linspace(0.0, 1.0, 100_001)
    for _, p, x_star, share in UNIFORM_CASES:
        eu = proposer_eu(xs, p, lambda t: np.clip((0.3 - t) / 0.3, 0.0, 1.0))
        assert abs(xs[eu.argmax()] - x_star) <= 1e-4
        assert (x_star - p) / 0.3 == pytest.approx(share)


def test_triangular_survival_is_a_survival_function() -> None:
    """Independent check of the test's survival function against sampling."""
    lo, mode, hi = TRIANGULAR[2]
    draws = np.random.default_rng(0).triangular(lo, mode, hi, 200_000)
    ts = np.linspace(-0.05, 0.45, 51)
    empirical = (draws[:, None] >= ts[None, :]).mean(axis=0)
    assert np.abs(empirical - triangular_survival(ts, lo, mode, hi)).max() < 0.005


# --------------------------------------------------------------------------- war and peace, seed by seed


@pytest.mark.parametrize("name,p,x_star", all_cases())
def test_war_exactly_when_cost_below_demand_minus_p(name: str, p: float, x_star: float) -> None:
    ambiguous = 0
    for r in runs(name):
        x, c_b, res = r["demand"], r["c_b"], r["result"]
        assert r["c_a"] == C_A
        gap = c_b - (x - p)
        if abs(gap) <= TIE:
            ambiguous += 1
            continue
        war = gap < 0
        assert (res.outcome == "escalation") == war, (
            f"{name} seed {r['seed']}: c_B={c_b:.6f}, x-p={x - p:.6f}, outcome {res.outcome}"
        )
        if war:
            assert res.escalation is not None
            assert (res.escalation["actor"], res.escalation["target"]) == ("A", "B"), f"seed {r['seed']}"
            assert res.escalation["rung"] == "violent"
            assert res.escalation["step"] == 0
            assert res.agreements == []
        else:
            assert res.outcome == "agreement", f"{name} seed {r['seed']}: {res.outcome}"
            assert res.escalation is None
            assert len(res.agreements) == 1
            agreement = res.agreements[0]
            assert agreement["issue"] == "x"
            assert agreement["value"] == pytest.approx(x, abs=1e-9)
            assert agreement["parties"] == ["A", "B"]
            assert agreement["step"] == 0
    assert ambiguous <= 2, f"{name}: {ambiguous} draws within {TIE} of the threshold"


@pytest.mark.parametrize("name,p,x_star,share", UNIFORM_CASES)
def test_war_share_matches_closed_form(name: str, p: float, x_star: float, share: float) -> None:
    wars = sum(r["result"].outcome == "escalation" for r in runs(name))
    assert abs(wars / N_SEEDS - share) <= 0.03, f"{name}: war share {wars / N_SEEDS:.4f}, closed form {share:.4f}"


def test_triangular_war_share() -> None:
    name = TRIANGULAR[0]
    _, share = triangular_optimum()
    wars = sum(r["result"].outcome == "escalation" for r in runs(name))
    assert abs(wars / N_SEEDS - share) <= 0.03, f"{name}: war share {wars / N_SEEDS:.4f}, brute force {share:.4f}"
