"""Property-based tests (Hypothesis): invariants of whole runs and of the pure rules.

Runs of the bundled 2022 scenario take ~0.1-0.2 s, so the run-level properties use few examples.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.loading import load_scenario
from sim.model import DiplomacyModel
from sim.params import Parameters, parameter_bounds
from sim.rules.bargaining import rule_probability
from sim.rules.dynamics import update_trust
from sim.rules.utility import project
from sim.scenario import Scenario

VALIDATION = Path(__file__).resolve().parent.parent / "configs" / "validation"
TOL = 1e-9
RUNS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES = settings(max_examples=200, deadline=None)

# Variants of the bundled scenario (as `dipsim run --set` would make them), so that runs reach
# agreements too: the default 2022 run rarely agrees on anything.
WEST = ("USA", "NATO", "FRA", "EU", "UKR", "GEO")
VARIANTS: dict[str, dict[str, Any]] = {
    "bundled": {},
    "no_russian_enlargement_red_line": {
        "actors.RUS.positions.nato_ukraine.red_line": None,
        "actors.RUS.positions.nato_georgia.red_line": None,
        "actors.RUS.traits.linkage": [],
    },
    "high_trust": {
        **{f"trust.RUS.{w}": 0.9 for w in WEST},
        **{f"trust.{w}.RUS": 0.9 for w in WEST},
    },
}


@cache
def scenario(variant: str) -> Scenario:
    if variant.startswith("validation/"):
        return load_scenario(VALIDATION / f"{variant.removeprefix('validation/')}.yaml")
    return load_scenario(None, VARIANTS[variant] or None)


def _bounds(name: str) -> st.SearchStrategy[float]:
    """Floats within the bounds a Parameters field declares (ge/gt/le/lt metadata)."""
    lo, hi, excl_lo, excl_hi = parameter_bounds(name)
    assert math.isfinite(lo) and math.isfinite(hi), f"parameter {name} has no declared bounds"
    return st.floats(lo, hi, exclude_min=excl_lo, exclude_max=excl_hi, allow_nan=False, allow_infinity=False)


# A random subset of the parameters, each anywhere within its documented range.
PARAMS = st.fixed_dictionaries({}, optional={name: _bounds(name) for name in Parameters.model_fields})
SEEDS = st.integers(0, 2**32 - 1)


def test_parameter_strategy_covers_every_parameter() -> None:
    for name in Parameters.model_fields:
        _bounds(name)  # every knob has declared bounds to draw from


def check_state(m: DiplomacyModel) -> None:
    """Positions in [0, 1] and inside every actor's red line; trust in [0, 1]."""
    where = f"step {m.day} ({m.date})"
    assert np.all(np.isfinite(m.position)), where
    assert np.all((m.position >= -TOL) & (m.position <= 1 + TOL)), where
    bad = np.argwhere((m.position < m.red_low - TOL) | (m.position > m.red_high + TOL))
    assert bad.size == 0, [
        (where, m.actor_ids[i], m.issue_ids[j], m.position[i, j], (m.red_low[i, j], m.red_high[i, j])) for i, j in bad
    ]
    assert np.all(np.isfinite(m.trust)), where
    assert np.all((m.trust >= 0.0) & (m.trust <= 1.0)), where


def check_agreements(m: DiplomacyModel) -> None:
    """Every agreed value lies within the red line of every party to the agreement."""
    for a in m.agreements:
        j = m.issue_index[a["issue"]]
        for party in a["parties"]:
            i = m.index_of[party]
            lo, hi = m.red_low[i, j], m.red_high[i, j]
            assert lo - 1e-6 <= a["value"] <= hi + 1e-6, f"{a} crosses the red line [{lo}, {hi}] of {party}"
        allowed = m.allowed[j]
        if allowed is not None:
            assert min(abs(a["value"] - v) for v in allowed) <= 1e-6, f"{a}: not an allowed value {allowed}"


def run_checked(variant: str, seed: int, params: dict[str, float]) -> DiplomacyModel:
    m = DiplomacyModel(scenario(variant), rng=seed, **params)
    check_state(m)
    while m.running:
        m.step()
        check_state(m)
        check_agreements(m)
    return m


# --------------------------------------------------------------------------- (a) state invariants


@RUNS
@given(variant=st.sampled_from(sorted(VARIANTS)), seed=SEEDS, params=PARAMS)
def test_positions_and_trust_stay_valid_every_step(variant: str, seed: int, params: dict[str, float]) -> None:
    run_checked(variant, seed, params)


# --------------------------------------------------------------------------- (b) agreements


@RUNS
@given(
    variant=st.sampled_from(sorted(VARIANTS) + ["validation/fearon_p030", "validation/fearon_triangular"]),
    seed=SEEDS,
    params=PARAMS,
)
def test_agreements_respect_every_partys_red_line(variant: str, seed: int, params: dict[str, float]) -> None:
    m = run_checked(variant, seed, params)
    check_agreements(m)


def test_agreement_property_is_not_vacuous() -> None:
    """The red-line check above must see real agreements: the counterfactual without Russia's
    enlargement red line reaches some under default parameters."""
    n = 0
    for seed in range(4):
        m = run_checked("no_russian_enlargement_red_line", seed, {})
        n += len(m.agreements)
    assert n > 0, "no agreements in 4 runs of the counterfactual: the agreement property checks nothing"


# --------------------------------------------------------------------------- (c) reproducibility


def run_json(variant: str, seed: int, params: dict[str, float]) -> str:
    return DiplomacyModel(scenario(variant), rng=seed, **params).run().to_json()


@settings(max_examples=8, deadline=None)
@given(variant=st.sampled_from(sorted(VARIANTS)), seed=SEEDS, other=SEEDS, params=PARAMS)
def test_same_seed_same_json_and_no_interference(variant: str, seed: int, other: int, params: dict) -> None:
    expected = run_json(variant, seed, params)
    expected_other = run_json(variant, other, params)
    # Three live models stepped in turn, with the global numpy state disturbed between steps.
    models = [DiplomacyModel(scenario(variant), rng=s, **params) for s in (seed, other, seed)]
    np.random.seed(seed % 1000)
    while any(m.running for m in models):
        for m in models:
            m.step()
            np.random.random()
    results = [m.result().to_json() for m in models]
    assert results[0] == expected
    assert results[2] == expected
    assert results[1] == expected_other


# --------------------------------------------------------------------------- (d) rule invariants


@RULES
@given(
    trust=st.floats(0, 1),
    good=st.floats(0, 1),
    bad=st.floats(0, 1),
    more=st.floats(0, 1),
    gain=st.floats(0, 1),
    lam=st.floats(1, 5),
)
def test_update_trust_invariants(trust: float, good: float, bad: float, more: float, gain: float, lam: float) -> None:
    t = update_trust(trust, good, bad, gain, lam)
    assert 0.0 <= t <= 1.0
    assert update_trust(trust, good + more, bad, gain, lam) >= t  # more good, no less trust
    assert update_trust(trust, good, bad + more, gain, lam) <= t  # more bad, no more trust
    assert update_trust(trust, good, good, gain, lam) <= trust + 1e-12  # equal good and bad never builds trust
    assert update_trust(trust, 0.0, 0.0, gain, lam) == pytest.approx(trust)


@RULES
@given(
    data=st.data(),
    m=st.integers(1, 8),
)
def test_project_invariants(data: st.DataObject, m: int) -> None:
    real = st.floats(-10, 10, allow_nan=False)
    v = data.draw(hnp.arrays(np.float64, m, elements=real))
    a = data.draw(hnp.arrays(np.float64, m, elements=real))
    b = data.draw(hnp.arrays(np.float64, m, elements=real))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    out = project(v, lo, hi)
    assert np.all((out >= lo) & (out <= hi))
    np.testing.assert_array_equal(project(out, lo, hi), out)  # idempotent
    inside = (v >= lo) & (v <= hi)
    np.testing.assert_array_equal(out[inside], v[inside])  # identity inside
    y = lo + data.draw(hnp.arrays(np.float64, m, elements=st.floats(0, 1))) * (hi - lo)
    assert np.all(np.abs(out - v) <= np.abs(y - v) + 1e-12)  # nearest point of the interval


# --------------------------------------------------------------------------- (e) rule_probability


@RULES
@given(
    p=hnp.arrays(np.float64, st.integers(1, 7), elements=st.floats(0, 1)),
    rule=st.sampled_from(["unanimity", "majority"]),
    extra=st.integers(0, 3),
    data=st.data(),
)
def test_rule_probability_is_a_monotone_probability(p: np.ndarray, rule: str, extra: int, data: st.DataObject) -> None:
    q = float(rule_probability(p, rule, extra))  # type: ignore[arg-type]
    assert -1e-12 <= q <= 1 + 1e-12
    assert math.isfinite(q)
    k = data.draw(st.integers(0, p.size - 1))
    higher = p.copy()
    higher[k] = data.draw(st.floats(p[k], 1.0))
    assert float(rule_probability(higher, rule, extra)) >= q - 1e-12  # type: ignore[arg-type]
    # everyone sure: certain; no one: only the sure votes can carry it
    assert float(rule_probability(np.ones_like(p), rule, extra)) == pytest.approx(1.0)  # type: ignore[arg-type]
