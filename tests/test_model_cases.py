"""Small hand-built scenarios, each checking one documented rule of the model (docs/ODD.md).

Every case is a scenario built in memory as a dict (``config`` below: fixed private costs, no
noise), validated with ``Scenario.model_validate`` and run through ``DiplomacyModel``. Fixed costs
of 5 make war worthless for everyone unless a test says otherwise, so runs end only by the rule
under test.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import numpy as np
import pytest

from sim.loading import validate_raw
from sim.messages import ScenarioError
from sim.model import DiplomacyModel
from sim.rules.utility import issue_utilities
from sim.rules.war import win_probability
from sim.scenario import Scenario

SRC = "assumption: test case"
LADDER: dict[str, Any] = {
    "rungs": [
        {"id": "deescalation", "score": -2},
        {"id": "status_quo", "score": 0},
        {"id": "posturing", "score": 4},
        {"id": "nonviolent", "score": 12},
        {"id": "violent", "score": 28},
        {"id": "nuclear", "score": 60},
    ],
    "war": "violent",
    "baseline": "status_quo",
    "source": SRC,
}


# --------------------------------------------------------------------------- builders


def issue(iid: str, status_quo: float = 0.0, competence: list[str] | None = None, compliance: float = 1.0):
    d: dict[str, Any] = {
        "id": iid,
        "label": iid,
        "low": "none",
        "high": "all",
        "status_quo": status_quo,
        "compliance": compliance,
        "source": SRC,
    }
    if competence is not None:
        d["competence"] = competence
    return d


def actor(
    aid: str,
    positions: dict[str, tuple] | None = None,
    capability: float = 1.0,
    cost: float = 5.0,
    kind: str = "state",
    members: list[str] | None = None,
    internal_rule: str | None = None,
    traits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An actor; ``positions`` maps issue -> (ideal, salience) or (ideal, salience, (red_low, red_high))."""
    pos = {}
    for iid, (ideal, salience, *red) in (positions or {}).items():
        pos[iid] = {"ideal": ideal, "salience": salience, "source": SRC}
        if red:
            pos[iid]["red_line"] = list(red[0])
    d: dict[str, Any] = {
        "id": aid,
        "name": aid,
        "kind": kind,
        "capability": capability,
        "positions": pos,
        "conflict_cost": {"distribution": "fixed", "low": cost, "source": SRC},
        "source": SRC,
    }
    if members:
        d["members"] = members
    if internal_rule:
        d["internal_rule"] = internal_rule
    if traits:
        d["traits"] = traits
    return d


def venue(
    vid: str, date: str, participants: list[str], agenda: list[str], fmt: str = "multilateral", rule: str = "unanimity"
) -> dict[str, Any]:
    """A venue chaired by its first participant."""
    return {
        "id": vid,
        "name": vid,
        "place": "here",
        "date": date,
        "format": fmt,
        "participants": participants,
        "agenda": agenda,
        "decision_rule": rule,
        "source": SRC,
    }


def config(
    actors: list[dict[str, Any]],
    issues: list[dict[str, Any]],
    venues: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    start: str = "2000-01-01",
    end: str = "2000-01-10",
    step_days: int = 1,
    beliefs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A minimal valid scenario dict: trust 0.5 everywhere, the 2022 ladder, no noise."""
    d: dict[str, Any] = {
        "schema_version": 1,
        "id": "case",
        "name": "test case",
        "calendar": {"start": start, "end": end, "step_days": step_days},
        "ladder": copy.deepcopy(LADDER),
        "issues": issues,
        "actors": actors,
        "trust": {"default": 0.5, "source": SRC},
        "venues": venues or [],
        "events": events or [],
        "parameters": {"noise": 0.0},
    }
    if beliefs is not None:
        d["beliefs"] = beliefs
    return d


def build(raw: dict[str, Any], seed: int = 0, **params: Any) -> DiplomacyModel:
    return DiplomacyModel(config=Scenario.model_validate(raw), rng=seed, **params)


def proposals(m: DiplomacyModel, venue_id: str | None = None) -> list[dict[str, Any]]:
    return [p for v in m.venue_log if venue_id in (None, v["id"]) for p in v["proposals"]]


def test_builder_gives_a_valid_quiet_scenario() -> None:
    """The builder's defaults: a valid scenario in which nothing happens (no venue, no war)."""
    m = build(config([actor("A", {"x": (1, 1)}), actor("B", {"x": (0, 1)})], [issue("x", 0.5)]))
    r = m.run()
    assert r.outcome == "stalemate" and r.agreements == [] and r.escalation is None


# --------------------------------------------------------------------------- 1. calendar


def step_days_case(venue_date: str) -> dict[str, Any]:
    return config(
        [actor("A", {"x": (1, 1)}), actor("B", {"x": (0.6, 1)})],
        [issue("x", 0.0)],
        [venue("talks", venue_date, ["A", "B"], ["x"], fmt="bilateral")],
        start="2000-01-01",
        end="2000-01-11",
        step_days=2,
    )


def test_step_days_places_venue_on_its_grid_step_and_dates_advance_by_step_days() -> None:
    """Calendar (ODD §2 Scales, §5.9): with step_days 2, step t is start + 2t days, a venue on a
    grid date is held on step (date - start) // 2, and its date is recorded as the venue's date."""
    m = build(step_days_case("2000-01-05"))  # 4 days after the start: step 2
    assert m.n_steps == 6  # (11 - 1) // 2 + 1
    start = dt.date(2000, 1, 1)
    held_at = None
    while m.running:
        m.step()
        assert m.date == start + dt.timedelta(days=2 * (m.day - 1))
        if m.venue_log and held_at is None:
            held_at = m.day - 1
    assert held_at == 2
    (record,) = m.venue_log
    assert record["step"] == 2 and record["date"] == "2000-01-05"
    assert proposals(m), "the venue tabled nothing"
    decisions = m.decisions_frame()
    assert set(decisions["date"]) == {"2000-01-05"} and set(decisions["step"]) == {2}
    assert all(a["date"] == "2000-01-05" and a["step"] == 2 for a in m.agreements)
    # The venue agreed the only agenda issue, so the run ended on that step, dated that day.
    assert m.outcome == "agreement" and m.day == 3 and m.result().final_date == "2000-01-05"


def test_venue_date_off_the_step_grid_is_a_validation_error() -> None:
    """Validation (ODD §6): a venue date that is not a whole number of step_days after the start
    is rejected, and the error names ``venues.<id>.date``."""
    with pytest.raises(ScenarioError) as exc:
        validate_raw(step_days_case("2000-01-04"), "case.yaml")
    paths = [path for path, _ in exc.value.errors]
    assert "venues.talks.date" in paths, exc.value.errors
    assert "venues.talks.date" in str(exc.value)


# --------------------------------------------------------------------------- 2. events


def event_case(**event: Any) -> dict[str, Any]:
    return config(
        [actor("A", {"x": (1, 1)}), actor("B", {"x": (0, 1)})],
        [issue("x", 0.5)],
        events=[{"date": "2000-01-03", "source": SRC, **event}],  # step 2
    )


def test_capability_event_applies_on_its_date_not_before() -> None:
    """Events (ODD §7.16, §3 step 1): a capability event sets M_i <- max(0, M_i + delta) on the
    step of its date, and not before."""
    m = build(event_case(kind="capability", actor="A", delta=2.5))
    a = m.index_of["A"]
    for _ in range(2):
        m.step()
        assert m.capability[a] == 1.0
    m.step()
    assert m.capability[a] == pytest.approx(3.5)
    m.step()
    assert m.capability[a] == pytest.approx(3.5)
    # Capability never goes below zero.
    m = build(event_case(kind="capability", actor="B", delta=-7.0))
    m.run(max_steps=3)
    assert m.capability[m.index_of["B"]] == 0.0


@pytest.mark.parametrize(("delta", "expected"), [(0.3, 0.8), (-0.2, 0.3), (0.9, 1.0), (-0.9, 0.0)])
def test_trust_event_changes_trust_within_unit_interval(delta: float, expected: float) -> None:
    """Events (ODD §7.16): a trust event sets tau_ik <- clip(tau_ik + delta) on its date; trust
    stays in [0, 1]. (trust_gain 0 switches off the trust answers to rung moves, §7.15.)"""
    m = build(event_case(kind="trust", actor="A", target="B", delta=delta), trust_gain=0.0)
    a, b = m.index_of["A"], m.index_of["B"]
    m.run(max_steps=2)
    assert m.trust[a, b] == 0.5
    m.step()
    assert m.trust[a, b] == pytest.approx(expected)
    assert m.trust[b, a] == 0.5  # only the named direction changes
    # With trust answering rung moves too, trust still stays in [0, 1] through the run.
    m = build(event_case(kind="trust", actor="A", target="B", delta=delta))
    m.run()
    assert ((m.trust >= 0.0) & (m.trust <= 1.0)).all()


def test_salience_event_changes_salience_on_its_date() -> None:
    """Events (ODD §7.16): a salience event sets s_ij <- clip(s_ij + delta) on its date."""
    m = build(event_case(kind="salience", actor="B", issue="x", delta=-0.4))
    b, x = m.index_of["B"], m.issue_index["x"]
    m.run(max_steps=2)
    assert m.salience[b, x] == 1.0
    m.step()
    assert m.salience[b, x] == pytest.approx(0.6)
    m = build(event_case(kind="salience", actor="B", issue="x", delta=-3.0))
    m.run(max_steps=3)
    assert m.salience[b, x] == 0.0


# --------------------------------------------------------------------------- 3. misperception


def test_misperception_lowers_the_observers_war_value_only() -> None:
    """Win probability (ODD §7.4, §7.5): A seeing B's capability doubled lowers P_AB and so
    W[A, B]; B's view of A (W[B, A]) is unchanged."""

    def war(misperception: list[dict[str, Any]]) -> np.ndarray:
        raw = config(
            [actor("A", {"x": (1, 1)}), actor("B", {"x": (0, 1)})],
            [issue("x", 0.5)],
            beliefs={"misperception": misperception},
        )
        return build(raw).war

    plain = war([])
    seen = war([{"observer": "A", "target": "B", "capability_factor": 2.0, "source": SRC}])
    a, b = 0, 1
    assert seen[a, b] < plain[a, b] - 1e-9
    assert seen[b, a] == pytest.approx(plain[b, a])
    # Exactly: W_AB = U_A(b) + P * 0.5 - (1 - P) * 0.5 with P = 1 / (1 + 2).
    assert seen[a, b] == pytest.approx(-0.5 + 0.5 / 3 - 0.5 * 2 / 3)
    assert plain[a, b] == pytest.approx(-0.5)


# --------------------------------------------------------------------------- 4. red lines public/private


@pytest.mark.parametrize("fmt", ["bilateral", "ultimatum"])
def test_private_red_lines_are_not_avoided_by_the_proposer(fmt: str) -> None:
    """Beliefs (ODD §4 Sensing, §7.7): with public red lines the proposer's package stays inside
    the recipient's red line; with private ones it ignores it and (here) crosses it, and the
    recipient rejects the package as crossing its red line."""
    ultimatum = fmt == "ultimatum"
    # B would accept up to x = 0.8 on value (bilateral) or anything (ultimatum), but its red line is [0.4, 0.6].
    b_pos = (0, 1, (0, 0.6)) if ultimatum else (0.4, 1, (0.4, 0.6))
    cost = 0.5 if ultimatum else 5.0

    def first(red_lines: str) -> tuple[DiplomacyModel, dict[str, Any]]:
        raw = config(
            [actor("A", {"x": (1, 1)}, cost=cost), actor("B", {"x": b_pos}, cost=cost)],
            [issue("x", 0.5 if ultimatum else 0.0, compliance=0.0)],
            [venue("v", "2000-01-01", ["A", "B"], ["x"], fmt=fmt)],
            beliefs={"red_lines": red_lines},
        )
        m = build(raw)
        m.step()
        return m, proposals(m)[0]

    m, public = first("public")
    assert public["proposer"] == "A" and public["package"]["x"] <= 0.6 + 1e-9
    assert public["accepted_by"] == ["B"] and public["adopted"]
    m, private = first("private")
    assert private["proposer"] == "A" and private["package"]["x"] > 0.6 + 1e-6
    assert private["rejected_by"] == ["B"] and not private["adopted"]
    row = m.decisions_frame().iloc[0]
    assert row["actor"] == "B" and row["reason"] == "crosses red line" and row["crossed_red_lines"] == ["x"]
    if ultimatum:  # a rejected ultimatum is war
        assert m.outcome == "escalation" and m.escalation["actor"] == "A" and m.escalation["target"] == "B"


# --------------------------------------------------------------------------- 5. venue decision rule


@pytest.mark.parametrize("rule", ["majority", "unanimity"])
def test_majority_venue_adopts_with_two_of_three(rule: str) -> None:
    """Adoption (ODD §7.8): with three participants, the proposer (a sure yes) and one recipient
    accepting while the other rejects meet a majority rule (2 of 3) but not unanimity."""
    raw = config(
        [
            actor("P", {"x": (1, 1, (0.8, 1))}),
            actor("Q", {"x": (1, 1)}),
            actor("R", {"x": (0, 1, (0, 0.2))}),  # no package P can table is acceptable to R
        ],
        [issue("x", 0.5, competence=["P", "Q"])],
        [venue("v", "2000-01-01", ["P", "Q", "R"], ["x"], rule=rule)],
    )
    m = build(raw)
    m.step()
    first = proposals(m)[0]
    assert first["proposer"] == "P" and first["accepted_by"] == ["Q"] and first["rejected_by"] == ["R"]
    if rule == "majority":
        assert first["adopted"]
        assert [(a["issue"], a["parties"]) for a in m.agreements] == [("x", ["P", "Q"])]
        assert m.outcome == "agreement"
    else:
        assert not any(p["adopted"] for p in proposals(m))
        assert m.agreements == [] and not m.agreed.any()


def test_majority_venue_needs_more_than_the_proposer() -> None:
    """Adoption (ODD §7.8): under majority with three participants the proposer's own yes is not
    enough: 2 (0 + 1) > 3 fails when both recipients reject."""
    raw = config(
        [actor("P", {"x": (1, 1, (0.8, 1))}), actor("Q", {"x": (0, 1, (0, 0.2))}), actor("R", {"x": (0, 1, (0, 0.2))})],
        [issue("x", 0.5)],
        [venue("v", "2000-01-01", ["P", "Q", "R"], ["x"], rule="majority")],
    )
    m = build(raw)
    m.step()
    first = proposals(m)[0]
    assert first["proposer"] == "P" and first["accepted_by"] == [] and not first["adopted"]


# --------------------------------------------------------------------------- 6. bloc internal rule


@pytest.mark.parametrize(
    ("rule", "n_rejecting", "accepts"),
    [("majority", 1, True), ("majority", 2, False), ("unanimity", 1, False), ("unanimity", 0, True)],
)
def test_bloc_internal_majority_over_absent_members(rule: str, n_rejecting: int, accepts: bool) -> None:
    """Collectives (ODD §4, §7.8): a bloc at the table accepts iff its head accepts and its
    members absent from the venue meet its internal rule (majority: more than half)."""
    members = [
        actor(f"M{i}", {"x": (0, 1, (0, 0.2))} if i <= n_rejecting else {"x": (1, 1)}) for i in (1, 2, 3)
    ]  # M1..M_n_rejecting have a red line no package of P's can respect
    raw = config(
        [
            actor("P", {"x": (1, 1, (0.8, 1))}),
            actor("K", {"x": (1, 1)}, kind="bloc", members=["M1", "M2", "M3"], internal_rule=rule),
            *members,
        ],
        [issue("x", 0.5, competence=["P", "K"])],
        [venue("v", "2000-01-01", ["P", "K"], ["x"], fmt="bilateral")],
    )
    m = build(raw)
    m.step()
    first = proposals(m)[0]
    assert first["proposer"] == "P"
    rows = m.decisions_frame()
    rows = rows[rows["proposer"] == "P"].set_index("actor")["accepted"]
    assert set(rows.index) == {"K", "M1", "M2", "M3"}  # the head and every absent member answer
    assert bool(rows["K"]) and int(rows[["M1", "M2", "M3"]].sum()) == 3 - n_rejecting
    assert first["adopted"] is accepts
    assert first["accepted_by"] == (["K"] if accepts else [])


# --------------------------------------------------------------------------- 7. ratification


@pytest.mark.parametrize("fmt", ["bilateral", "ultimatum"])
@pytest.mark.parametrize("z_accepts", [True, False])
def test_absent_competent_actor_must_ratify(z_accepts: bool, fmt: str) -> None:
    """Ratification (ODD §7.9): an issue whose competence includes an actor absent from the venue
    is agreed only if that actor accepts the package; its evaluation is logged with
    ratification=True. If it rejects, the package is adopted but the issue is not agreed (and
    at an ultimatum there is no war either)."""
    raw = config(
        [
            actor("P", {"x": (1, 1)}),
            actor("Q", {"x": (1, 1)}),
            actor("Z", {"x": (1 if z_accepts else 0, 1)}),  # Z wants x raised, or lowered
        ],
        [issue("x", 0.5, competence=["P", "Q", "Z"])],
        [venue("v", "2000-01-01", ["P", "Q"], ["x"], fmt=fmt)],
    )
    m = build(raw)
    m.step()
    first = proposals(m)[0]
    assert first["adopted"] and first["package"]["x"] > 0.5
    rows = m.decisions_frame()
    ratifications = rows[rows["ratification"]]
    assert len(ratifications) >= 1 and set(ratifications["actor"]) == {"Z"}
    assert not rows[~rows["ratification"]]["actor"].isin(["Z"]).any()  # Z is not asked at the table
    z_first = ratifications.iloc[0]
    assert bool(z_first["accepted"]) is z_accepts
    if z_accepts:
        assert [a["issue"] for a in m.agreements] == ["x"] and m.agreed[m.issue_index["x"]]
        assert m.outcome == "agreement"
    else:
        assert z_first["reason"] == "worse than the status quo"
        assert m.agreements == [] and not m.agreed.any()
        assert m.baseline[m.issue_index["x"]] == 0.5
        assert all(p["adopted"] for p in proposals(m))  # adopted at the table, every time
        assert m.outcome is None and m.escalation is None  # neither agreement nor war: the run goes on


# --------------------------------------------------------------------------- 8. alliance families


def family_case(fmt: str, allied: bool) -> dict[str, Any]:
    members = ["M"] if allied else None
    return config(
        [actor("K", {"x": (1, 1)}, kind="bloc", members=members), actor("M", {"x": (0.9, 1)})],
        [issue("x", 0.0)],
        [venue("v", "2000-01-01", ["K", "M"], ["x"], fmt=fmt)],
    )


@pytest.mark.parametrize("fmt", ["bilateral", "ultimatum"])
def test_agreement_within_one_alliance_family_settles_nothing(fmt: str) -> None:
    """Sides (ODD §2, §7.9): a package adopted by a bloc and its own member settles nothing (no
    agreement, baseline unchanged), and at an ultimatum an accepted package is not war either."""
    m = build(family_case(fmt, allied=True))
    m.step()
    first = proposals(m)[0]
    assert first["proposer"] == "K" and first["adopted"] and first["accepted_by"] == ["M"]
    assert m.agreements == [] and not m.agreed.any() and m.baseline[0] == 0.0
    assert m.outcome is None and m.escalation is None
    assert m.rung[m.index_of["K"], m.index_of["M"]] < m.war_index
    # Control: the same two actors without the alliance do agree.
    m = build(family_case(fmt, allied=False))
    m.step()
    assert [a["issue"] for a in m.agreements] == ["x"] and m.outcome == "agreement"


def test_blocs_sharing_a_member_are_one_side() -> None:
    """Sides (ODD §2): two blocs with a common member are one alliance family (transitively), so
    a package adopted between them settles nothing."""
    raw = config(
        [
            actor("K1", {"x": (1, 1)}, kind="bloc", members=["M"]),
            actor("K2", {"x": (1, 1)}, kind="bloc", members=["M"]),
            actor("M", {"x": (1, 1)}),
        ],
        [issue("x", 0.0, competence=["K1", "K2"])],
        [venue("v", "2000-01-01", ["K1", "K2"], ["x"], fmt="bilateral")],
    )
    m = build(raw)
    m.step()
    assert proposals(m)[0]["adopted"]
    assert m.agreements == [] and not m.agreed.any() and m.outcome is None


# --------------------------------------------------------------------------- 9. linkage


@pytest.mark.parametrize("case", ["open", "not_on_agenda", "already_agreed"])
def test_linkage_rejects_packages_leaving_out_an_open_linked_issue(case: str) -> None:
    """Linkage (ODD §7.8): R, with traits.linkage [y], rejects a package that leaves out y while y
    is on the venue's agenda and open ("leaves out a linked issue"); the same package is accepted
    when y is not on the agenda or already agreed."""
    venues = [venue("v2", "2000-01-03", ["P", "R"], ["x"] if case == "not_on_agenda" else ["x", "y"], "bilateral")]
    if case == "already_agreed":
        venues.insert(0, venue("v1", "2000-01-02", ["S", "R"], ["y"], "bilateral"))
    raw = config(
        [
            actor("P", {"x": (1, 1), "y": (1, 1, (0.8, 1))}),
            # P cannot include y inside R's red line, so it leaves y out.
            actor("R", {"x": (1, 1), "y": (0, 1, (0, 0.2))}, traits={"linkage": ["y"]}),
            actor("S", {"y": (0.1, 1)}),
        ],
        [issue("x", 0.5, competence=["P", "R"]), issue("y", 0.5, competence=["R", "S"])],
        venues,
    )
    m = build(raw)
    m.run()
    first = proposals(m, "v2")[0]
    assert first["proposer"] == "P" and set(first["package"]) == {"x"}
    rows = m.decisions_frame()
    row = rows[(rows["venue"] == "v2") & (rows["proposer"] == "P")].iloc[0]
    if case == "open":
        assert not row["accepted"] and row["reason"] == "leaves out a linked issue"
        assert row["missing_linkage"] == ["y"]
    else:
        if case == "already_agreed":
            assert m.agreed[m.issue_index["y"]] and m.agreements[0]["venue"] == "v1"
        assert row["accepted"] and row["missing_linkage"] == []
        assert first["adopted"]


# --------------------------------------------------------------------------- 10. agreed issues


def test_agreed_issue_leaves_later_agendas_and_becomes_the_baseline() -> None:
    """Agreements (ODD §7.7, §7.9, §7.17): an agreed issue is no longer open, so later packages
    leave it out; its agreed value becomes the baseline; once every agenda issue is agreed the
    outcome is "agreement" and step() does nothing more."""
    raw = config(
        [actor("P", {"x": (1, 1), "y": (1, 0.5)}), actor("Q", {"x": (0.6, 1, (0, 0.8)), "y": (0.7, 0.5)})],
        [issue("x", 0.0), issue("y", 0.0)],
        [
            venue("v1", "2000-01-02", ["P", "Q"], ["x"], "bilateral"),
            venue("v2", "2000-01-04", ["Q", "P"], ["x", "y"], "bilateral"),
        ],
    )
    m = build(raw)
    x, y = m.issue_index["x"], m.issue_index["y"]
    m.run(max_steps=2)
    (deal,) = m.agreements
    assert deal["issue"] == "x" and deal["venue"] == "v1"
    assert deal["value"] == pytest.approx(0.8, abs=1e-6)  # Q's red line binds the proposer
    assert m.agreed[x] and not m.agreed[y]
    assert m.baseline[x] == pytest.approx(deal["value"]) and m.baseline[y] == 0.0
    assert m.outcome is None  # y is still open on v2's agenda
    m.run()
    later = proposals(m, "v2")
    assert later and all("x" not in p["package"] for p in later)
    rows = m.decisions_frame()
    assert all("x" not in pkg for pkg in rows[rows["venue"] == "v2"]["package"])
    assert [a["issue"] for a in m.agreements] == ["x", "y"]
    assert m.baseline[x] == pytest.approx(deal["value"])  # nothing reopened it
    assert m.outcome == "agreement" and not m.running
    day, logs, trust, position = m.day, len(m.venue_log), m.trust.copy(), m.position.copy()
    frames = len(m.datacollector.get_model_vars_dataframe())
    m.step()
    m.step()
    assert (m.day, len(m.venue_log), m.outcome) == (day, logs, "agreement")
    assert np.array_equal(trust, m.trust) and np.array_equal(position, m.position)
    assert len(m.datacollector.get_model_vars_dataframe()) == frames


# --------------------------------------------------------------------------- 11. horizon


@pytest.mark.parametrize("seed", [0, 1])
def test_quiet_run_ends_in_stalemate_at_the_horizon(seed: int) -> None:
    """End of the run (ODD §7.17, §2 Scales): with nothing worth fighting over and no venue, the
    run ends in "stalemate" after exactly N = (end - start) // step_days + 1 steps."""
    raw = config(
        [actor("A", {"x": (0.5, 1)}, cost=1.0), actor("B", {"x": (0.5, 1)}, cost=1.0)],
        [issue("x", 0.5)],
        start="2000-01-01",
        end="2000-01-20",
        step_days=3,
    )
    raw["parameters"] = {}  # default noise: still far from war
    m = build(raw, seed=seed)
    r = m.run()
    assert m.n_steps == 7
    assert r.outcome == "stalemate" and r.steps_run == 7 and r.final_date == "2000-01-19"
    assert r.agreements == [] and r.escalation is None and m.escalation_log == []
    assert len(m.datacollector.get_model_vars_dataframe()) == 7


# --------------------------------------------------------------------------- 12. breach cost


def breach_model(breach_cost: float) -> DiplomacyModel:
    raw = config(
        [
            actor("P", {"x": (1, 1), "y": (1, 0.5)}, capability=2.0),
            actor("Q", {"x": (0.4, 1, (0, 0.5)), "y": (0, 0.5)}),
        ],
        [issue("x", 0.0), issue("y", 0.5)],  # y is on no agenda: it stays at stake
        [venue("v", "2000-01-02", ["P", "Q"], ["x"], "bilateral")],
    )
    return build(raw, breach_cost=breach_cost)


def test_breach_cost_removes_agreed_issue_from_war_gains() -> None:
    """War values (ODD §7.5): once P and Q are parties to an agreement on x, breach_cost = 1
    cancels what war would change on x (W[P, Q] counts only y), while with breach_cost = 0 war
    still promises P its gains on x."""
    bound, free = breach_model(1.0), breach_model(0.0)
    p, q = bound.index_of["P"], bound.index_of["Q"]
    x, y = bound.issue_index["x"], bound.issue_index["y"]
    before = bound.war[p, q]
    assert before == pytest.approx(free.war[p, q])  # no one is bound yet
    for m in (bound, free):
        m.run(max_steps=2)
        assert [a["issue"] for a in m.agreements] == ["x"] and m.party[[p, q], x].tolist() == [1.0, 1.0]
    assert np.allclose(bound.position, free.position) and np.allclose(bound.baseline, free.baseline)
    agreed = bound.baseline[x]
    assert agreed == pytest.approx(0.5, abs=1e-6) and bound.position[p, x] == 1.0  # P would still gain on x

    pos, sal = bound.position, bound.salience
    u_base = issue_utilities(bound.baseline, pos[p], sal[p], 1.0)
    win = float(win_probability(bound.capability[p], bound.capability[q]))
    only_y = u_base.sum() + win * (0.0 - u_base[y]) + (1 - win) * (-sal[p, y] * abs(pos[q, y] - pos[p, y]) - u_base[y])
    assert bound.war[p, q] == pytest.approx(only_y)
    with_x = only_y + win * (0.0 - u_base[x]) + (1 - win) * (-sal[p, x] * abs(pos[q, x] - pos[p, x]) - u_base[x])
    assert free.war[p, q] == pytest.approx(with_x)
    assert free.war[p, q] > bound.war[p, q] + 1e-6
