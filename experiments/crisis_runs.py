"""One crisis's backtest runs set against its history: P(war), P(agreement), outcome shares, the first war's dyad
and date, and the share of *hollow* runs (issue 10).

``crisis_row(crisis, runs)`` reads the run rows of the crisis's sweep folder (``experiments.results.load_runs``)
and returns one row of the backtest's crisis table. A run's class is read as the crisis's history is
(docs/authoring.md, section 9): ``escalation`` is war, ``agreement`` (every agenda issue agreed) is agreement,
and a run that reaches the horizon (``stalemate``) or was cut short (``truncated``) is neither.

A run is hollow when it goes to war where the record gives no ground for it:

* **early**: war within ``EARLY_DAYS`` days of the start (its date at most ``EARLY_DAYS`` days after the start
  date) where history had none that early: the crisis had no war, or its first serious violence came later
  (before a single meeting could be held, in most crises);
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
RUN_COLUMNS = [
    "replication",
    "outcome",
    "escalated",
    "escalation_date",
    "escalation_actor",
    "escalation_target",
    "error",
]

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
    # history's war within EARLY_DAYS of the start makes an early war in a run no sign of hollowness
    history_early = war_date is not None and (war_date - start).days <= EARLY_DAYS
    row.update(_dyads(war, history_dyad, allied_pairs(crisis.scenario), n))
    if k:
        days = (pd.to_datetime(war["escalation_date"]) - pd.Timestamp(start)).dt.days
        row["model_date"] = (start + dt.timedelta(days=round(float(days.median())))).isoformat()
        row["hollow_early"] = 0.0 if history_early else float((days <= EARLY_DAYS).sum()) / n
    else:
        row["model_date"] = None
        row["hollow_early"] = 0.0 if n else np.nan
    return row


def _dyads(war: pd.DataFrame, history_dyad: frozenset[str] | None, allies: set[frozenset[str]], n: int) -> dict:
    """The most frequent war dyad of the war runs ``war`` (attacker-target) and its share of them, the share fought
    between history's belligerents (either order), and the share of all ``n`` runs that are wars between allies.
    A war row written before dipsim recorded the dyad (``store.ADDED_LATER``) has none and is left out."""
    known = war[war["escalation_actor"].notna() & war["escalation_target"].notna()]
    dyads = Counter(zip(known["escalation_actor"], known["escalation_target"], strict=True))
    if not dyads:
        return {"model_dyad": None, "model_dyad_share": np.nan, "history_dyad_share": np.nan,
                "hollow_allies": 0.0 if n else np.nan}  # fmt: skip
    (a, b), count = max(dyads.items(), key=lambda kv: (kv[1], str(kv[0])))
    pairs = [frozenset(p) for p in dyads.elements()]
    return {
        "model_dyad": _dyad(a, b),
        "model_dyad_share": count / len(known),
        "history_dyad_share": sum(p == history_dyad for p in pairs) / len(known) if history_dyad else np.nan,
        "hollow_allies": sum(p in allies for p in pairs) / n,
    }
