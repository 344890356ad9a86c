"""The bundled 2022 scenario over 200 paired seeds: only checks that follow from its structure or from theory.

Every threshold here comes from the scenario's structure or is a test of no effect, never from what the model
happened to produce (issue 10):

- enlargement cannot be agreed: Russia's red lines on Ukraine's and Georgia's membership ([0, 0]) and those of
  the United States and NATO ([1, 1]) do not meet, and an agreement needs both sides' consent;
- removing Russia's red lines, or raising Russia-US and Russia-NATO trust, widens the range of settlements both
  sides prefer to war (Fearon 1995), so escalation must not become more likely; on the same seeds the paired
  McNemar test must reject "no effect" at the 1% level;
- reciprocity must matter: with ``trust_gain`` 0 (trust never answers concessions, rejections or rungs) the same
  seeds must give a different escalation distribution (paired McNemar test, 1%).

Removed in issue 10, because their thresholds had been set after seeing the runs: openings by 14 January in
most runs, at most 5% escalating before 14 January, escalation by 28 February more likely than not, a
15-point counterfactual effect, and enlargement agreed in some runs once the red line is gone.
``python -m experiments.check_2022`` still prints those figures.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from experiments.check_2022 import COUNTERFACTUALS, mcnemar_p, run_many

SEEDS = 200
WORKERS = min(2, os.cpu_count() or 1)
LEVEL = 0.01  # the significance level of every paired test here
NO_RECIPROCITY = "trust_gain 0"


@pytest.fixture(scope="module")
def runs() -> dict[str, list]:
    out = {name: run_many(SEEDS, overrides, {}, WORKERS) for name, overrides in COUNTERFACTUALS.items()}
    out[NO_RECIPROCITY] = run_many(SEEDS, {}, {"trust_gain": 0.0}, WORKERS)
    return out


def escalated(runs: list) -> np.ndarray:
    return np.array([r.escalated for r in runs])


def test_enlargement_is_never_agreed_while_the_red_lines_do_not_meet(runs) -> None:
    assert not any(r.enlargement_agreed for r in runs["baseline"])


@pytest.mark.parametrize("name", ["no Russian enlargement red line", "Russia-US/NATO trust 0.8"])
def test_a_wider_bargaining_range_does_not_raise_escalation(runs, name: str) -> None:
    base, other = escalated(runs["baseline"]), escalated(runs[name])
    assert other.mean() <= base.mean()
    assert mcnemar_p(base, other) < LEVEL


def test_reciprocity_changes_the_escalation_distribution(runs) -> None:
    base, flat = escalated(runs["baseline"]), escalated(runs[NO_RECIPROCITY])
    assert mcnemar_p(base, flat) < LEVEL, (
        f"trust_gain 0 leaves escalation as it was: P = {base.mean():.3f} vs {flat.mean():.3f} over {SEEDS} seeds"
    )
