"""The backtest's forecast scores (experiments.scores) against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments import scores


def test_brier_of_p_war_by_hand() -> None:
    # (0.9 - 1)^2 + (0.2 - 0)^2 + (0.5 - 1)^2 + (0 - 0)^2 = 0.01 + 0.04 + 0.25 + 0 = 0.30; / 4
    assert scores.brier([0.9, 0.2, 0.5, 0.0], [1, 0, 1, 0]) == pytest.approx(0.075)
    assert scores.brier([0.5] * 4, [1, 0, 1, 0]) == pytest.approx(0.25)


def test_three_class_brier_by_hand() -> None:
    probs = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]]
    # each row: squared distance to the one-hot outcome; 0.06, 0.14 (outcome 1: .04 + .09 + .01), 0.06
    assert scores.brier_multi(probs, [0, 1, 2]) == pytest.approx((0.06 + 0.14 + 0.06) / 3)
    assert scores.brier_multi([[0, 0, 1]], [0]) == pytest.approx(2.0)  # all mass on a wrong class: the worst


def test_log_score_by_hand_and_clipped() -> None:
    probs = [[0.5, 0.25, 0.25], [0.2, 0.6, 0.2]]
    assert scores.log_score(probs, [0, 1]) == pytest.approx(-(math.log(0.5) + math.log(0.6)) / 2)
    assert math.isfinite(scores.log_score([[1.0, 0.0, 0.0]], [2]))  # a zero forecast of what happened: clipped


def test_roc_auc_counts_ordered_pairs_and_ties() -> None:
    # wars got 0.9 and 0.4, non-wars 0.5 and 0.1: pairs (war > non-war): 0.9>0.5, 0.9>0.1, 0.4>0.1; 0.4<0.5
    assert scores.roc_auc([0.9, 0.4, 0.5, 0.1], [1, 1, 0, 0]) == pytest.approx(3 / 4)
    assert scores.roc_auc([0.3, 0.3], [1, 0]) == pytest.approx(0.5)
    assert math.isnan(scores.roc_auc([0.3, 0.6], [1, 1]))


def test_right_side_of_one_half() -> None:
    assert scores.right_side([0.9, 0.4, 0.5, 0.1], [1, 1, 0, 0]) == pytest.approx((1 + 0 + 0.5 + 1) / 4)


def test_leave_one_out_rate_leaves_each_crisis_out() -> None:
    np.testing.assert_allclose(scores.leave_one_out_rate([1, 0, 0, 1, 0]), [1 / 4, 2 / 4, 2 / 4, 1 / 4, 2 / 4])
    with pytest.raises(ValueError):
        scores.leave_one_out_rate([1])
