"""Forecast scores of the backtest: how well the model's probabilities match what happened, crisis by crisis.

Each function takes one forecast per crisis and the observed outcome, and is computed by scikit-learn where
scikit-learn has it (the well-kept reference implementations); the docstring gives the equation. Baselines
are scored the same way, so the model's figures read against theirs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

CLASSES = ("agreement", "no_agreement_no_war", "war")  # the three-class outcome, in this order
EPS = 1e-6  # probabilities are clipped to [EPS, 1 - EPS] for the log loss: a 0 forecast of what happened is not -inf


def brier(p_war: ArrayLike, war: ArrayLike) -> float:
    """Brier score of P(war): ``B = (1/n) sum_i (p_i - o_i)^2``, o_i = 1 if crisis i ended in war (Brier 1950).
    0 is perfect; always forecasting 1/2 scores 0.25."""
    return float(brier_score_loss(np.asarray(war, dtype=int), np.asarray(p_war, dtype=float), labels=[0, 1]))


def brier_multi(probs: ArrayLike, outcome: ArrayLike) -> float:
    """Brier's multi-category score: ``B = (1/n) sum_i sum_k (p_ik - o_ik)^2`` over the three classes of
    ``CLASSES`` (Brier 1950, eq. 1); ``outcome`` holds class indices. 0 is perfect, 2 the worst."""
    return float(
        brier_score_loss(
            np.asarray(outcome, dtype=int), np.asarray(probs, dtype=float), labels=list(range(len(CLASSES)))
        )
    )


def log_score(probs: ArrayLike, outcome: ArrayLike) -> float:
    """Log loss over the three classes: ``L = -(1/n) sum_i log p_{i, o_i}``, each probability clipped to
    [EPS, 1 - EPS] and rows renormalised (Good 1952)."""
    p = np.clip(np.asarray(probs, dtype=float), EPS, 1 - EPS)
    p /= p.sum(axis=1, keepdims=True)
    return float(log_loss(np.asarray(outcome, dtype=int), p, labels=list(range(len(CLASSES)))))


def roc_auc(p_war: ArrayLike, war: ArrayLike) -> float:
    """Area under the ROC curve of P(war): the probability that a crisis that ended in war got a higher
    forecast than one that did not, ties counting 1/2 (Hanley and McNeil 1982). NaN with one class only."""
    y = np.asarray(war, dtype=int)
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, np.asarray(p_war, dtype=float)))


def right_side(p_war: ArrayLike, war: ArrayLike) -> float:
    """Share of crises on the right side of 1/2: P(war) > 1/2 where war came, < 1/2 where it did not;
    exactly 1/2 counts half."""
    p, y = np.asarray(p_war, dtype=float), np.asarray(war, dtype=bool)
    hit = np.where(y, p > 0.5, p < 0.5).astype(float)
    hit[p == 0.5] = 0.5
    return float(hit.mean())


def leave_one_out_rate(events: ArrayLike) -> NDArray[np.float64]:
    """The base-rate forecast of each crisis: the share of the *other* crises in which the event happened
    (so no crisis's own outcome enters its forecast)."""
    e = np.asarray(events, dtype=float)
    n = e.size
    if n < 2:
        raise ValueError("a leave-one-out rate needs at least two crises")
    return (e.sum() - e) / (n - 1)
