"""The venue protocol: a meeting's proposals, answers, adoption, ratification and aftermath.

``hold(world, venue, t)`` runs one meeting on the model's state (see ``sim.world.World``): each
participant, chair first, tables a package to all the others (at an ultimatum only the chair,
once); recipients answer by the acceptance rule; an adopted package binds issue by issue once
every competent actor consents; then positions and trust move. Every answer is a row of the
decision log (``DECISION_COLUMNS``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sim.rules.acceptance import Evaluation, Side, answer_cutoff
from sim.rules.bargaining import Group, Problem, Proposal, rule_met
from sim.rules.dynamics import concession, update_trust
from sim.rules.utility import compromise
from sim.scenario_parts import Venue
from sim.world import World

# The decision log: one row per evaluation of a package, with what was compared (why it was accepted or not).
DECISION_COLUMNS = [
    "step",
    "date",
    "venue",
    "proposer",
    "actor",
    "package",
    "legal_form",
    "accepted",
    "reason",
    "value",
    "status_quo_value",
    "war_option",
    "reservation",
    "trust",
    "trust_effective",
    "trust_discount",
    "crossed_red_lines",
    "missing_linkage",
    "ratification",
]


@dataclass(frozen=True)
class Meeting:
    """A venue being held on step ``step``: who sits at the table, and its record in the venue log."""

    venue: Venue
    step: int
    participants: tuple[int, ...]  # actor indices, chair first
    present: frozenset[int]
    ultimatum: bool
    record: dict[str, Any]


@dataclass(frozen=True)
class Tabled:
    """A package on the table: who proposed it to whom, what the proposer knew, what it offered."""

    proposer: int
    recipients: list[int]
    groups: tuple[Group, ...]  # the recipients as decision units, in the order of ``recipients``
    problem: Problem
    proposal: Proposal
    package: dict[str, float]  # issue id -> proposed value, the included issues (as logged)


def hold(world: World, venue: Venue, t: int) -> None:
    """A meeting: participants, chair first, each table a package to all the others (at an
    ultimatum only the chair does, once)."""
    parts = [world.index_of[p] for p in venue.order]
    record = {
        "id": venue.id,
        "name": venue.name,
        "date": venue.date.isoformat(),
        "step": t,
        "participants": list(venue.order),
        "proposals": [],
    }
    world.venue_log.append(record)
    once = venue.format == "ultimatum"
    # A rejected ultimatum means war only if the chair has something to gain by it (ODD 7.5, 7.8); else the
    # chair's one proposal is an ordinary one.
    threat = once and len(parts) > 1 and world.attackable[parts[0], parts[1]]
    meeting = Meeting(venue, t, tuple(parts), frozenset(parts), bool(threat), record)
    agenda = np.zeros(len(world.issue_ids), dtype=bool)
    agenda[[world.issue_index[j] for j in venue.agenda]] = True
    for k in parts[:1] if once else parts:
        open_issues = agenda & ~world.agreed
        if not open_issues.any():
            break
        _decide(world, meeting, _table(world, meeting, k, open_issues))
        if world.outcome is not None:
            break


def _table(world: World, meeting: Meeting, k: int, open_issues: np.ndarray) -> Tabled:
    """Actor ``k`` chooses its package for everyone else at the table (see ``best_package``)."""
    ultimatum, parts = meeting.ultimatum, list(meeting.participants)  # a list indexes the arrays by actor
    # An agreement earlier in the step moved the baseline: the values the answers compare with must start from it.
    world.refresh_war()
    others = [r for r in parts if r != k]
    groups = tuple(world.actor_agents[r].as_group(k, ultimatum, meeting.present) for r in others)
    if ultimatum:  # no deal means war with the recipient
        no_deal = world.war[k, others[0]] - world.private_cost[k]
    else:  # what failed talks leave it: its best continuation with a recipient, or attacking one (ODD 7.7)
        calm = world.dyad_values(meeting.step).calm[k, others]
        attack = np.where(world.attackable[k, others], world.war[k, others] - world.private_cost[k], -np.inf)
        no_deal = float(np.maximum(calm, attack).max())
    # Face to face with one decision-maker the proposer anticipates what a rejection would teach it (ODD 7.7).
    bilateral = not ultimatum and len(groups) == 1 and not groups[0].members
    no_deal_table = world.no_deal_table(meeting.step, k, others[0]) if bilateral else None
    me = world.actor_agents[k].side(world.trust[k, others].mean(), world.best_war[k])
    problem = Problem(
        proposer=me,
        groups=groups,
        baseline=world.baseline.copy(),
        open_issues=open_issues,
        compliance=world.compliance,
        allowed=world.allowed,
        no_deal=float(no_deal),
        no_deal_table=no_deal_table,
        venue_rule=meeting.venue.decision_rule,
        ultimatum=ultimatum,
        legal_boost=world.params.legal_boost,
        red_lines_public=world.config.beliefs.red_lines == "public",
    )
    anchor = compromise(world.position[parts], world.capability[parts], world.salience[parts])
    proposal = world.actor_agents[k].propose(problem, anchor)
    package = {world.issue_ids[j]: round(float(proposal.values[j]), 6) for j in np.flatnonzero(proposal.include)}
    return Tabled(k, others, groups, problem, proposal, package)


def _decide(world: World, meeting: Meeting, tabled: Tabled) -> None:
    """Recipients respond; the package is adopted by the venue's rule; agreements bind."""
    k, others, proposal = tabled.proposer, tabled.recipients, tabled.proposal
    _demand(world, [k], proposal.values, proposal.include)
    accepted_groups: list[bool] = []
    yes: set[int] = {k}
    for r, group in zip(others, tabled.groups, strict=True):
        sides = (group.head, *group.members)
        evals = [world.actor_agents[world.index_of[s.id]].respond(s, proposal, tabled.problem) for s in sides]
        for s, ev in zip(sides, evals, strict=True):
            _log_decision(world, meeting, tabled, ev, s, tabled.problem)
            _observed(world, s, ev, tabled.problem)
        said_yes = [world.index_of[s.id] for s, ev in zip(sides, evals, strict=True) if ev.accepted]
        _demand(world, said_yes, proposal.values, proposal.include, blocs=False)
        ok = evals[0].accepted and rule_met([e.accepted for e in evals[1:]], group.rule)
        accepted_groups.append(ok)
        if ok:
            yes.add(r)
    adopted = rule_met(accepted_groups, meeting.venue.decision_rule, extra_yes=1)
    meeting.record["proposals"].append(
        {
            "proposer": world.actor_ids[k],
            "recipients": [world.actor_ids[r] for r in others],
            "package": tabled.package,
            "legal_form": proposal.legal_form,
            "accepted_by": [world.actor_ids[r] for r in others if r in yes],
            "rejected_by": [world.actor_ids[r] for r in others if r not in yes],
            "adopted": adopted,
        }
    )
    # A package accepted within one alliance family coordinates positions but settles nothing.
    if adopted and len({int(world.side_of[x]) for x in yes}) > 1:
        _bind(world, meeting, tabled, yes)
    elif not adopted and meeting.ultimatum:
        world.record_war(k, others[0], meeting.step)
    _reciprocate(world, tabled)


def _bind(world: World, meeting: Meeting, tabled: Tabled, yes: set[int]) -> None:
    """Each ratified issue of an adopted package is agreed and binds ``yes`` and their blocs' members."""
    proposal, venue = tabled.proposal, meeting.venue
    bound = sorted(yes | {mem for x in yes for mem in world.members.get(x, [])})
    for j in np.flatnonzero(proposal.include):
        if not _ratified(world, meeting, tabled, j, yes):
            continue
        world.agreed[j] = True
        world.baseline[j] = proposal.values[j]
        world.party[bound, j] = 1.0
        world.demand[bound, j] = proposal.values[j]
        world.agreements.append(
            {
                "issue": world.issue_ids[j],
                "value": round(float(proposal.values[j]), 6),
                "venue": venue.id,
                "step": meeting.step,
                "date": venue.date.isoformat(),
                "parties": sorted(world.actor_ids[x] for x in yes),
            }
        )


def _ratified(world: World, meeting: Meeting, tabled: Tabled, j: int, yes: set[int]) -> bool:
    """Issue ``j`` of an adopted package binds when every actor with competence for it consents:
    those at the table by accepting, those absent by ratifying the package (Putnam 1988's
    two-level game; nothing about Ukraine without Ukraine)."""
    for d in np.flatnonzero(world.competence[:, j]):
        if d in yes:
            continue
        if d in meeting.present:
            return False
        ratifying = replace(tabled.problem, ultimatum=False)  # an absent actor weighs peace as usual
        side = world.side_facing(d, tabled.proposer, False)
        ev = world.actor_agents[d].respond(side, tabled.proposal, ratifying)
        _log_decision(world, meeting, tabled, ev, side, ratifying, ratification=True)
        _observed(world, side, ev, ratifying)
        if not ev.accepted:
            return False
        _demand(world, [d], tabled.proposal.values, tabled.proposal.include, blocs=False)
    return True


def _observed(world: World, side: Side, ev: Evaluation, problem: Problem) -> None:
    """Everyone learns from an answer that was not blocked (blocks are public and do not depend on the cost);
    with private red lines no one can tell a block from a refusal, so no one learns from answers; nor from the
    answers of an actor whose policy does not reveal its type (its answer is not the cut-off rule's)."""
    if ev.crossed_red_lines or ev.missing_linkage or not problem.red_lines_public:
        return
    i = world.index_of[side.id]
    if not world.revealing[i]:
        return
    theta = answer_cutoff(side, ev.value, ev.status_quo_value, problem.ultimatum)
    world.learn(i, theta, ev.accepted)


def _reciprocate(world: World, tabled: Tabled) -> None:
    """Trust answers concessions (reciprocity, ODD 7.11). Positions do not move (ODD 7.10)."""
    p, k, proposal = world.params, tabled.proposer, tabled.proposal
    # A proposer with no stance on an issue concedes nothing there: measure from the baseline.
    stance = np.where(world.salience[k] > 0, world.position[k], world.baseline)
    for r in tabled.recipients:
        good = concession(world.position[r], stance, proposal.values, proposal.include, world.salience[r])
        world.trust[r, k] = update_trust(world.trust[r, k], good, 0.0, p.trust_gain, p.loss_aversion)


def _demand(world: World, actors: list[int], values: np.ndarray, include: np.ndarray, blocs: bool = True) -> None:
    """What ``actors`` tabled or accepted on the included issues becomes their demand there (ODD 7.10): recorded
    and shown, read by no rule. What a bloc tables is also its members' demand on the issues they hold a position
    on (``blocs``); an answer is each side's own (members of a group answer for themselves)."""
    for i in actors:
        world.demand[i, include] = values[include]
        for x in world.members.get(i, []) if blocs else ():
            shared = include & (world.salience[x] > 0)
            world.demand[x, shared] = values[shared]


def _log_decision(
    world: World,
    meeting: Meeting,
    tabled: Tabled,
    ev: Evaluation,
    side: Side,
    problem: Problem,
    ratification: bool = False,
) -> None:
    """One row of the decision log: an answer to the tabled package and what it compared (and, when the model
    records decisions, what the answer was computed from: ``side`` and ``problem``, for ``sim.explain``)."""
    if world.explainer is not None:
        world.explainer.evaluation(
            world, meeting.step, meeting.venue.id, tabled.proposer, side, tabled.proposal, problem, ev, ratification
        )
    world.datacollector.add_table_row(
        "decisions",
        {
            "step": meeting.step,
            "date": meeting.venue.date.isoformat(),
            "venue": meeting.venue.id,
            "proposer": world.actor_ids[tabled.proposer],
            "actor": ev.actor,
            "package": tabled.package,
            "legal_form": tabled.proposal.legal_form,
            "accepted": ev.accepted,
            "reason": ev.reason,
            "value": ev.value,
            "status_quo_value": ev.status_quo_value,
            "war_option": ev.war_option,
            "reservation": ev.reservation,
            "trust": ev.trust,
            "trust_effective": ev.trust_effective,
            "trust_discount": ev.trust_discount,
            "crossed_red_lines": [world.issue_ids[j] for j in ev.crossed_red_lines],
            "missing_linkage": [world.issue_ids[j] for j in ev.missing_linkage],
            "ratification": ratification,
        },
    )
