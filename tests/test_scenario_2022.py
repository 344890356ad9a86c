"""Emergent behaviour of the bundled 2022 scenario over 200 seeds, under default parameters.

Nothing here is written into the scenario or the code: enlargement, the openings of the week of
talks, the timing and probability of escalation and the counterfactual effects come out of the
rules (docs/ODD.md). ``python -m experiments.check_2022`` prints the same figures, and the
sensitivity of the escalation probability to each parameter.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from experiments.check_2022 import COUNTERFACTUALS, mcnemar_p, run_many

SEEDS = 200
WORKERS = min(2, os.cpu_count() or 1)


@pytest.fixture(scope="module")
def runs() -> dict[str, list]:
    return {name: run_many(SEEDS, overrides, {}, WORKERS) for name, overrides in COUNTERFACTUALS.items()}


def escalated(runs: list) -> np.ndarray:
    return np.array([r.escalated for r in runs])


def test_enlargement_is_never_agreed(runs) -> None:
    assert not any(r.enlargement_agreed for r in runs["baseline"])


def test_openings_by_14_january_in_most_runs(runs) -> None:
    assert np.mean([r.opening_by_week_end for r in runs["baseline"]]) > 0.5


def test_at_most_5_percent_escalate_before_14_january(runs) -> None:
    assert np.mean([r.escalated_before_week_end for r in runs["baseline"]]) <= 0.05


def test_escalation_by_28_february_is_more_likely_than_not(runs) -> None:
    assert escalated(runs["baseline"]).mean() > 0.5


@pytest.mark.parametrize("name", ["no Russian enlargement red line", "Russia-US/NATO trust 0.8"])
def test_counterfactual_lowers_escalation(runs, name: str) -> None:
    base, other = escalated(runs["baseline"]), escalated(runs[name])
    assert base.mean() - other.mean() >= 0.15
    assert mcnemar_p(base, other) < 0.01


def test_without_the_red_line_enlargement_is_agreed_in_some_runs(runs) -> None:
    assert any(r.enlargement_agreed for r in runs["no Russian enlargement red line"])
