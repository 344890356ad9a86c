"""Positions move only through named mechanisms (ODD 7.10, 7.12; design §3.7, issue 11 item 7): ideal points
only by bloc coordination; what an actor tables, accepts or agrees to is its demand, which no rule reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.model import DiplomacyModel
from tests.test_values import fearon_meeting

REPO = Path(__file__).resolve().parent.parent
CASES = [
    (None, 0),
    (None, 1),
    (REPO / "configs" / "crises" / "berlin_1948.yaml", 0),
    (REPO / "configs" / "crises" / "suez_1956.yaml", 0),
]
TOL = 1e-12


def stepped(config: Path | None, seed: int) -> tuple[DiplomacyModel, list[dict[str, np.ndarray | list]]]:
    """Run step by step, keeping positions, demands and what happened at each step's venues."""
    model = DiplomacyModel(config, rng=seed)
    frames = []
    while model.running:
        before = (model.position.copy(), model.demand.copy(), len(model.venue_log), len(model.agreements))
        model.step()
        frames.append(
            {
                "position": (before[0], model.position.copy()),
                "demand": (before[1], model.demand.copy()),
                "proposals": [p for v in model.venue_log[before[2] :] for p in v["proposals"]],
                "agreements": model.agreements[before[3] :],
            }
        )
    return model, frames


@pytest.mark.parametrize(("config", "seed"), CASES, ids=lambda x: getattr(x, "stem", str(x)))
def test_ideal_points_move_only_toward_the_bloc(config: Path | None, seed: int) -> None:
    """An actor in no bloc keeps its ideal points for the whole run; a member's stay between where they were and
    its blocs' (pulled toward each in turn, issue by issue: bloc pull, ODD 7.12), and a bloc's own never move."""
    model, frames = stepped(config, seed)
    blocs_of = {x: [b for b, ms in model.members.items() if x in ms] for x in range(len(model.actor_ids))}
    for f in frames:
        old, new = f["position"]
        for i, blocs in blocs_of.items():
            ends = np.vstack([old[i], *(old[b] for b in blocs)])
            assert np.all(new[i] >= ends.min(axis=0) - TOL) and np.all(new[i] <= ends.max(axis=0) + TOL)
            if not blocs:
                np.testing.assert_array_equal(new[i], old[i])


@pytest.mark.parametrize(("config", "seed"), CASES, ids=lambda x: getattr(x, "stem", str(x)))
def test_demand_changes_only_to_what_was_tabled_accepted_or_agreed(config: Path | None, seed: int) -> None:
    """Every change of ``demand[i, j]`` on a step is to the value on ``j`` of a package that ``i`` or one of its
    blocs tabled at that step's venues, of one that ``i`` itself accepted (the decision log: members of a group
    answer for themselves; ratifications included), or of an agreement on ``j`` that step; on days without a
    venue nothing changes."""
    model, frames = stepped(config, seed)
    blocs_of = {x: [b for b, ms in model.members.items() if x in ms] for x in range(len(model.actor_ids))}
    decisions = model.decisions_frame()
    for step, f in enumerate(frames):
        old, new = f["demand"]
        changed = np.argwhere(np.abs(new - old) > TOL)
        if not f["proposals"]:
            assert changed.size == 0
        taken = decisions[(decisions["step"] == step) & decisions["accepted"]]
        for i, j in changed:
            me, issue = model.actor_ids[i], model.issue_ids[j]
            tablers = {me} | {model.actor_ids[b] for b in blocs_of[i]}
            seen = [p["package"][issue] for p in f["proposals"] if issue in p["package"] and p["proposer"] in tablers]
            seen += [
                pk[issue] for a, pk in zip(taken["actor"], taken["package"], strict=True) if a == me and issue in pk
            ]
            seen += [a["value"] for a in f["agreements"] if a["issue"] == issue]
            assert any(abs(new[i, j] - v) <= 1e-6 for v in seen), (me, issue, new[i, j], seen)


@pytest.mark.parametrize("seed", range(6))
def test_demand_is_the_last_offer_made_or_taken(seed: int) -> None:
    """Fearon's two actors at a bilateral meeting on day 1 (tests/test_values.py): A tables first, then B; each
    one's demand is the package it tabled, unless it then accepted the other's, or an agreement set it."""
    model = DiplomacyModel(fearon_meeting("bilateral"), rng=seed)
    model.run()
    proposals = [p for v in model.venue_log for p in v["proposals"]]
    assert proposals  # the meeting happened (no war on day 0: a meeting that can settle something is ahead)
    last = {"A": None, "B": None}
    for p in proposals:
        last[p["proposer"]] = p["package"]["x"]
        for r in p["accepted_by"]:
            last[r] = p["package"]["x"]
    for a in model.agreements:
        for r in a["parties"]:
            last[r] = a["value"]
    for i, aid in enumerate(model.actor_ids):
        expected = model.initial_position[i, 0] if last[aid] is None else last[aid]
        assert model.demand[i, 0] == pytest.approx(expected, abs=1e-6)
