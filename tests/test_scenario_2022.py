"""The bundled 2022 scenario over 200 paired seeds: only checks that follow from its structure or from theory.

Every threshold here comes from the scenario's structure or is a test of no effect, never from what the model
happened to produce (issue 10):

- enlargement cannot be agreed: Russia's red lines on Ukraine's and Georgia's membership ([0, 0]) and those of
  the United States and NATO ([1, 1]) do not meet, and an agreement needs both sides' consent;
- removing Russia's red lines, or raising Russia-US and Russia-NATO trust, widens the range of settlements both
  sides prefer to war (Fearon 1995), so escalation must not become more likely: on the same seeds, a one-sided
  exact McNemar test of a rise (issue 11's form: p < 0.05 in the wrong direction is a failure) must not reject.

Issue 11 restated the wider-range test: it used to demand a significant fall at 1%, a property of the rules of
the day (a wider range can leave escalation where it was without contradicting theory). It deleted the test that
``trust_gain`` 0 must change the escalation distribution (paired McNemar, 1%): it rested on the proposer's
surprise update of trust, which step 5 replaced by learning about costs, and under the spoils rule of step 2
2022 escalates in 1 run of 200, so no paired test can tell the two arms apart (0.005 against 0.010). The trust
test was an expected failure from step 3 to step 8 (trust 0.8 raised escalation from 0.220 to 0.290, p = 1e-4,
through Russia's positions drifting toward the proposals it rejected); step 8 removed the drift and the mark.

Removed in issue 10, because their thresholds had been set after seeing the runs: openings by 14 January in
most runs, at most 5% escalating before 14 January, escalation by 28 February more likely than not, a
15-point counterfactual effect, and enlargement agreed in some runs once the red line is gone.
``python -m experiments.check_2022`` still prints those figures.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from experiments.check_2022 import COUNTERFACTUALS, run_many
from experiments.statics import LEVEL as WRONG_WAY_LEVEL
from experiments.statics import mcnemar_wrong_way

SEEDS = 200
WORKERS = min(2, os.cpu_count() or 1)


@pytest.fixture(scope="module")
def runs() -> dict[str, list]:
    return {name: run_many(SEEDS, overrides, {}, WORKERS) for name, overrides in COUNTERFACTUALS.items()}


def escalated(runs: list) -> np.ndarray:
    return np.array([r.escalated for r in runs])


def test_enlargement_is_never_agreed_while_the_red_lines_do_not_meet(runs) -> None:
    assert not any(r.enlargement_agreed for r in runs["baseline"])


@pytest.mark.parametrize("name", ["no Russian enlargement red line", "Russia-US/NATO trust 0.8"])
def test_a_wider_bargaining_range_does_not_raise_escalation(runs, name: str) -> None:
    base, other = escalated(runs["baseline"]), escalated(runs[name])
    only_base, only_other, p = mcnemar_wrong_way(base, other, direction=+1)
    assert p >= WRONG_WAY_LEVEL, (
        f"{name} raised escalation: {only_other} seeds escalate only with it, {only_base} only without (p = {p:.4f})"
    )
