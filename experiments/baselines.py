"""The two baselines the backtest scores dipsim against, each forecasting every crisis without its own outcome.

* **Base rate**: each class's share among the *other* crises of the library (leave-one-out).
* **Logistic regression** on two covariates observable at the start (docs/authoring.md, section 11): the log
  capability ratio of the crisis's principal dyad, ``log(max(c_a, c_b) / min(c_a, c_b))`` from the scenario's
  capability shares, and whether both sides of the dyad had nuclear weapons (``configs/crises/covariates.csv``).
  Fitted leave-one-crisis-out with scikit-learn (standardised covariates, L2 penalty, C = 1, scikit-learn's
  defaults): P(war) by a binary fit, the three classes by a multinomial fit.

The covariates file is optional for a user's own library: without it the regression is not fitted and the
table says so. When it exists it must name every crisis; a missing row or a bad value is refused naming the
file, the row and the field.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from experiments.scores import CLASSES, leave_one_out_rate
from sim.messages import ScenarioError

if TYPE_CHECKING:
    from experiments.library import Crisis

COVARIATES_FILE = "covariates.csv"
FIELDS = ("crisis", "side_a", "side_b", "nuclear_a", "nuclear_b", "source")
MIN_SHARE = 1e-3  # the smallest capability share the protocol writes (3 decimals): a 0 share is read as this
BOOL = {"true": True, "false": False}


@dataclass(frozen=True)
class Covariates:
    """One crisis's covariates: the principal dyad's log capability ratio and whether both are nuclear-armed,
    and the dyad itself (``side_a`` the challenger, ``side_b`` the target; ``experiments.statics`` reads them)."""

    log_capability_ratio: float
    nuclear_dyad: bool
    side_a: str
    side_b: str


def load_covariates(folder: Path, crises: list[Crisis]) -> dict[str, Covariates] | None:
    """The covariates of every crisis from ``folder/covariates.csv``, or None when the file does not exist.

    Refused (ScenarioError naming the file, ``row N.field``): a missing column, a crisis without a row or with
    two, a side that is not an actor of the crisis, a nuclear flag other than true/false, an empty source (a
    short row's missing fields are empty)."""
    path = folder / COVARIATES_FILE
    if not path.is_file():
        return None
    file = str(path)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(file, [("", f"cannot be read: {exc}")]) from None
    missing = [f for f in FIELDS if f not in header]
    if missing:
        raise ScenarioError(file, [("", f"no column {f!r}") for f in missing])
    by_id = {c.scenario.id: c for c in crises}
    problems: list[tuple[str, str]] = []
    out: dict[str, Covariates] = {}
    seen: dict[str, int] = {}
    for k, raw in enumerate(rows, start=2):  # line 1 is the header
        row = {f: (raw.get(f) or "").strip() for f in FIELDS}  # a short row's missing fields read as empty
        crisis = by_id.get(row["crisis"])
        if crisis is None:
            continue  # a crisis of another folder: not this backtest's
        if row["crisis"] in seen:
            problems.append((f"row {k}.crisis", f"{row['crisis']!r} again (row {seen[row['crisis']]} has it)"))
            continue
        seen[row["crisis"]] = k
        sides = (row["side_a"], row["side_b"])
        flags = [BOOL.get(row[f].lower()) for f in ("nuclear_a", "nuclear_b")]
        here = [
            (f"row {k}.{field}", f"{actor!r} is not an actor of {crisis.scenario.id}")
            for field, actor in zip(("side_a", "side_b"), sides, strict=True)
            if actor not in crisis.scenario.actor_ids
        ]
        here += [
            (f"row {k}.{field}", f"{row[field]!r} is not true or false")
            for field, flag in zip(("nuclear_a", "nuclear_b"), flags, strict=True)
            if flag is None
        ]
        if not row["source"]:
            here.append((f"row {k}.source", "empty"))
        if sides[0] == sides[1]:
            here.append((f"row {k}.side_b", "the same actor as side_a"))
        problems += here
        if here:
            continue
        cap = {a.id: a.capability for a in crisis.scenario.actors}
        ca, cb = (max(cap[s], MIN_SHARE) for s in sides)
        out[crisis.scenario.id] = Covariates(
            math.log(max(ca, cb) / min(ca, cb)), bool(flags[0] and flags[1]), sides[0], sides[1]
        )
    problems += [("crisis", f"no row for crisis {c!r}") for c in by_id if c not in seen]
    if problems:
        raise ScenarioError(file, problems)
    return out


def base_rate(outcome: NDArray[np.int_]) -> NDArray[np.float64]:
    """Each crisis's forecast of each class (``CLASSES`` order): the class's share among the other crises."""
    return np.column_stack([leave_one_out_rate(outcome == c) for c in range(len(CLASSES))])


def logistic(x: NDArray[np.float64], outcome: NDArray[np.int_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Leave-one-crisis-out logistic forecasts: (P(war) from a binary fit, the class probabilities from a
    multinomial fit), each crisis forecast by the model fitted on the others. A fold whose training crises all
    share one outcome cannot be fitted: its forecast is that outcome's base rate (1 for it)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = len(outcome)
    war = (outcome == CLASSES.index("war")).astype(int)
    p_war = np.empty(n)
    probs = np.zeros((n, len(CLASSES)))
    for i in range(n):
        train = np.arange(n) != i
        for y, target in ((war, None), (outcome, probs)):
            labels = np.unique(y[train])
            if labels.size < 2:
                share = np.zeros(len(CLASSES) if target is not None else 2)
                share[int(labels[0])] = 1.0
            else:
                fit = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[train], y[train])
                share = np.zeros(len(CLASSES) if target is not None else 2)
                share[fit.classes_] = fit.predict_proba(x[i : i + 1])[0]
            if target is None:
                p_war[i] = share[1]
            else:
                target[i] = share
    return p_war, probs
