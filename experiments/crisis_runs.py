"""One crisis's backtest runs set against its history: P(war), P(agreement), outcome shares, the first war's dyad
and date, and the share of *hollow* runs (issue 10).

``crisis_row(crisis, runs)`` reads the run rows of the crisis's sweep folder (``experiments.results.load_runs``)
and returns one row of the backtest's crisis table. A run's class is read as the crisis's history is
(docs/authoring.md, section 9): ``escalation`` is war, ``agreement`` (every agenda issue agreed) is agreement,
and a run that reaches the horizon (``stalemate``) or was cut short (``truncated``) is neither.

A run is hollow when it goes to war where the record gives no ground for it:

* **early**: war within ``EARLY_DAYS`` days of the start in a crisis whose history had no war (before a single
  meeting could be held, in most crises);
* **between allies**: war between a bloc and one of its members, two members of one bloc, or two actors whose
  initial trust in each other is that of formal allies under the authoring protocol's trust rubric
  (``ALLY_TRUST``, docs/authoring.md section 6) both ways.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from experiments.results import wilson
from experiments.scores import CLASSES

if TYPE_CHECKING:
    from experiments.library import Crisis
    from sim.scenario import Scenario

EARLY_DAYS = 3  # issue 10: "war within 3 days of the start where history had none"
ALLY_TRUST = 0.8  # docs/authoring.md, section 6: "0.8 formal allies (a defence treaty in force)"

#: The run columns a crisis row needs.
RUN_COLUMNS = ["outcome", "escalated", "escalation_date", "escalation_actor", "escalation_target", "error"]

RUN_CLASS = {"agreement": "agreement", "stalemate": "no_agreement_no_war", "truncated": "no_agreement_no_war"}


def run_class(outcome: str) -> str:
    """A run's class among ``experiments.scores.CLASSES``: war, agreement, or neither."""
    return "war" if outcome == "escalation" else RUN_CLASS[outcome]


def allied_pairs(scenario: Scenario) -> set[frozenset[str]]:
    """The unordered pairs of actors that are allies: a bloc and its member, two members of one bloc, or a
    mutual initial trust of at least ``ALLY_TRUST`` (the protocol's row for formal allies)."""
    pairs: set[frozenset[str]] = set()
    for actor in scenario.actors:
        members = [m for m in actor.members if m in scenario.actor_ids]
        pairs.update(frozenset((actor.id, m)) for m in members)
        pairs.update(frozenset((a, b)) for a in members for b in members if a != b)
    trust = scenario.trust
    extra = trust.__pydantic_extra__ or {}

    def initial(a: str, b: str) -> float:
        return float(extra.get(a, {}).get(b, trust.default))

    ids = scenario.actor_ids
    pairs.update(
        frozenset((a, b))
        for a in ids
        for b in ids
        if a < b and initial(a, b) >= ALLY_TRUST and initial(b, a) >= ALLY_TRUST
    )
    return pairs


def _dyad(a: Any, b: Any) -> str:
    return f"{a}-{b}"


def crisis_row(crisis: Crisis, runs: pd.DataFrame) -> dict[str, Any]:
    """The crisis's row of the backtest table from its run rows (columns ``RUN_COLUMNS``); see the module
    docstring. Rates are over the runs without error; ``errors`` counts the others."""
    ok = runs[runs["error"].isna()]
    n = len(ok)
    classes = Counter(run_class(o) for o in ok["outcome"])
    war = ok[ok["outcome"] == "escalation"]
    k = len(war)
    low, high = wilson(k, n)
    start = crisis.scenario.calendar.start
    history = crisis.history
    o = crisis.outcome
    row: dict[str, Any] = {
        "crisis": crisis.scenario.id,
        "history": history,
        "runs": n,
        "errors": len(runs) - n,
        "p_war": k / n if n else np.nan,
        "ci_low": low,
        "ci_high": high,
        "p_agreement": classes["agreement"] / n if n else np.nan,
        **{f"share_{c}": classes[c] / n if n else np.nan for c in CLASSES},
    }
    history_dyad = frozenset(o.war_dyad) if o.war_dyad else None
    row["history_dyad"] = _dyad(*o.war_dyad) if o.war_dyad else None
    war_date = o.first_serious_violence if history == "war" else None
    row["history_date"] = war_date.isoformat() if war_date else None
    if k:
        dyads = Counter(zip(war["escalation_actor"], war["escalation_target"], strict=True))
        (a, b), count = max(dyads.items(), key=lambda kv: (kv[1], str(kv[0])))
        dates = pd.to_datetime(war["escalation_date"])
        days = (dates - pd.Timestamp(start)).dt.days
        pairs = [frozenset(p) for p in zip(war["escalation_actor"], war["escalation_target"], strict=True)]
        allies = allied_pairs(crisis.scenario)
        row.update(
            model_dyad=_dyad(a, b),
            model_dyad_share=count / k,
            history_dyad_share=(sum(p == history_dyad for p in pairs) / k) if history_dyad else np.nan,
            model_date=(start + dt.timedelta(days=round(float(days.median())))).isoformat(),
            hollow_early=(float((days < EARLY_DAYS).sum()) / n) if history != "war" else 0.0,
            hollow_allies=sum(p in allies for p in pairs) / n,
        )
    else:
        row.update(
            model_dyad=None,
            model_dyad_share=np.nan,
            history_dyad_share=np.nan,
            model_date=None,
            hollow_early=0.0 if n else np.nan,
            hollow_allies=0.0 if n else np.nan,
        )
    return row
