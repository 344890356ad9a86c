"""Agents as policies (docs/design/bargaining.md §3.8): where each actor's choices come from.

A policy decides what an actor proposes at a venue, whether it accepts a package and which rung it moves to
toward every other actor. Policies are small, cited, and declare their properties in a ``classifier`` (in the
manner of the Axelrod library's strategies), which the tests check against their behaviour. A policy reads the
world (``sim.world.World``, through the actor) and the step's ``LadderKernel``; it never writes state: the model
and the venues apply its choices, so a run stays deterministic for a seed.

The scenario chooses a policy per actor (``actors[].policy``, default ``bayesian``); ``POLICIES`` maps the names
to the classes. The policy is orthogonal to the actor's kind: an organisation's policy proposes and answers, and
its rungs are never applied (it cannot fight).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from sim.rules.acceptance import Evaluation, Side, evaluate
from sim.rules.bargaining import Problem, Proposal, best_package, expected_utility
from sim.rules.dynamics import concession
from sim.rules.ladder import LadderKernel, hard_line_rungs, reciprocal_rungs
from sim.rules.offers import feasible, ideal_offer, reciprocal_offer, worse_than_ideal

if TYPE_CHECKING:
    from sim.scenario_parts import Actor
    from sim.world import World


class DiplomaticActor(Protocol):
    """An actor as its policy sees it (``agents.agents.DiplomaticActor`` satisfies it): its row in the model's
    arrays, the world it reads and its scenario entry (traits)."""

    index: int
    model: World
    spec: Actor


CLASSIFIER_KEYS = (
    "uses_beliefs",  # reads the posterior over others' costs
    "updates_beliefs",  # its posterior moves when it observes others' answers
    "reveals_type",  # observers learn its private cost from its answers
    "stochastic",  # draws random numbers of its own
    "memory_depth",  # how many past offers it reads (inf: all, through its beliefs)
    "lookahead",  # steps ahead it values (the next meeting: 1)
    "concedes",  # may table or accept less than its ideal
    "initiates_war",  # may attack an actor that does not hold the public threat toward it
    "source",
)


class Policy:
    """The interface: ``propose``, ``respond``, ``choose_rungs``; ``name`` and ``classifier`` declared."""

    name: ClassVar[str]
    classifier: ClassVar[dict[str, Any]]

    def propose(self, actor: DiplomaticActor, problem: Problem, anchor: np.ndarray) -> Proposal:
        raise NotImplementedError

    def respond(self, actor: DiplomaticActor, side: Side, proposal: Proposal, problem: Problem) -> Evaluation:
        raise NotImplementedError

    def choose_rungs(self, actor: DiplomaticActor, kernel: LadderKernel) -> np.ndarray:
        """The next rung toward every actor, ``(n,)`` (the model keeps the rung where the pair cannot fight)."""
        raise NotImplementedError


def cut_off_answer(actor: DiplomaticActor, side: Side, proposal: Proposal, problem: Problem) -> Evaluation:
    """``acceptance.evaluate`` with the actor's own cost: accept iff not blocked and ``V + eps >= R``, with ``R``
    what rejecting keeps (the side's tabulated continuation with the proposer, its attack option included:
    ``c >= theta(V)``, ODD 7.7) or, at an ultimatum, ``W - c`` of the war the proposer would start; a side without
    a table compares with ``max(U(b), W - c)``, ``W`` its war on the proposer."""
    return evaluate(
        side,
        proposal.values,
        proposal.include,
        problem.baseline,
        problem.compliance,
        problem.open_issues,
        private_cost=float(actor.model.private_cost[actor.index]),
        binding=proposal.legal_form == "legally_binding",
        legal_boost=problem.legal_boost,
        ultimatum=problem.ultimatum,
    )


def fixed_offer(problem: Problem, values: np.ndarray, include: np.ndarray) -> Proposal:
    """A politically binding package as tabled, with the proposer's expected utility and adoption chance (as
    ``best_package`` reports them)."""
    values = np.where(include, values, problem.baseline)
    eu, p = expected_utility(problem, values[None], include[None], False)
    return Proposal(
        values=values, include=include, legal_form="political", expected_utility=float(eu[0]), p_adopt=float(p[0])
    )


class BayesianBargainer(Policy):
    """The default: proposes the package of greatest expected utility under its posterior over the recipients'
    costs (``bargaining.best_package``), accepts by the cost cut-off (``cut_off_answer``), and climbs the band
    ladder on the value of war against the value of not attacking (``ladder.band_rungs``, read off the kernel the
    model computes for all dyads at once). Fearon (1995); Powell (1996); Slantchev (2005); Fearon (1994).

    Deterministic given the state: the model's ``noise`` parameter (default 0) is the only randomness of its
    ladder, drawn by the model for all dyads."""

    name = "bayesian"
    classifier: ClassVar[dict[str, Any]] = {
        "uses_beliefs": True,
        "updates_beliefs": True,
        "reveals_type": True,
        "stochastic": False,
        "memory_depth": float("inf"),
        "lookahead": 1,
        "concedes": True,
        "initiates_war": True,
        "source": "Fearon 1995; Powell 1996; Slantchev 2005; Fearon 1994",
    }

    def propose(self, actor: DiplomaticActor, problem: Problem, anchor: np.ndarray) -> Proposal:
        return best_package(problem, anchor)

    def respond(self, actor: DiplomaticActor, side: Side, proposal: Proposal, problem: Problem) -> Evaluation:
        return cut_off_answer(actor, side, proposal, problem)

    def choose_rungs(self, actor: DiplomaticActor, kernel: LadderKernel) -> np.ndarray:
        return kernel.chosen[actor.index]


def _ideal(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    me = problem.proposer
    return ideal_offer(
        me.position, me.salience, me.red_low, me.red_high, problem.open_issues, problem.baseline, problem.allowed
    )


class HardLiner(Policy):
    """Never concedes. Proposes its ideal on every open issue it holds a position on, within its red lines
    (``offers.ideal_offer``); accepts only a package that the cut-off rule accepts and that is nowhere worse for
    it than its ideal (``offers.worse_than_ideal``), that is, only its own ideal; climbs one rung a day toward
    every actor it has something to gain from (``G_it > 0``) up to the public threat ``w - 1`` and attacks iff
    ``W^a - c > U(b)`` (``ladder.hard_line_rungs``). Inspired by Leng (1993), the "bullying" strategy, and Snyder
    and Diesing (1977), the hard line."""

    name = "hardliner"
    classifier: ClassVar[dict[str, Any]] = {
        "uses_beliefs": False,
        "updates_beliefs": False,
        "reveals_type": False,
        "stochastic": False,
        "memory_depth": 0,
        "lookahead": 0,
        "concedes": False,
        "initiates_war": True,
        "source": "Leng 1993 (bullying); Snyder and Diesing 1977 (hard line); inspired by",
    }

    def propose(self, actor: DiplomaticActor, problem: Problem, anchor: np.ndarray) -> Proposal:
        return fixed_offer(problem, *_ideal(problem))

    def respond(self, actor: DiplomaticActor, side: Side, proposal: Proposal, problem: Problem) -> Evaluation:
        ev = cut_off_answer(actor, side, proposal, problem)
        ideal = feasible(side.position, side.red_low, side.red_high, problem.allowed)
        worse = worse_than_ideal(proposal.values, proposal.include, ideal, side.salience)
        if not ev.accepted or not worse.size:
            return ev
        return replace(ev, accepted=False, reason="worse than its ideal")

    def choose_rungs(self, actor: DiplomaticActor, kernel: LadderKernel) -> np.ndarray:
        return hard_line_rungs(kernel.row(actor.index))


def _offers(world: World) -> list[tuple[str, list[str], dict[str, float]]]:
    """Every package tabled so far, in the order tabled: (proposer, recipients, package) from the venue log."""
    return [(p["proposer"], p["recipients"], p["package"]) for v in world.venue_log for p in v["proposals"]]


def _package(world: World, package: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    values, include = world.baseline.copy(), np.zeros(len(world.issue_ids), dtype=bool)
    for iid, x in package.items():
        j = world.issue_index[iid]
        values[j], include[j] = x, True
    return values, include


class Reciprocator(Policy):
    """Tit for tat at the table and on the ladder. Opens at its ideal (as the hard-liner); then, if the last
    offer made to it by a counterpart at the table is newer than its own last offer and conceded (``gamma > 0``,
    ``dynamics.concession``, ODD 7.11), moves a share ``f_i`` (its ``flexibility``) of the gap toward it, else
    repeats its last offer (``offers.reciprocal_offer``). Accepts iff ``V >= max(U(b), W^a - c)``, ``W^a`` its war on
    the proposer (``cut_off_answer`` without the continuation table). On the ladder it matches the rung each ``t``
    holds toward it, capped at ``w - 1`` and within the guard, and attacks only from ``w - 1`` when ``t`` holds
    ``w - 1`` toward it and ``W^a - c > U(b)`` (``ladder.reciprocal_rungs``). Axelrod (1984), tit for tat; Leng
    (1993), the reciprocating strategy; Huth (1988), firm but flexible; inspired by them (none gives these exact
    rules).

    Its answers depend on its cost, but observers do not learn from them (``reveals_type`` False): the shared
    beliefs model answers by the default rule only. It remembers one offer each way, read from the venue log."""

    name = "reciprocator"
    classifier: ClassVar[dict[str, Any]] = {
        "uses_beliefs": False,
        "updates_beliefs": False,
        "reveals_type": False,
        "stochastic": False,
        "memory_depth": 1,
        "lookahead": 0,
        "concedes": True,
        "initiates_war": False,
        "source": "Axelrod 1984 (tit for tat); Leng 1993 (reciprocating); Huth 1988 (firm but flexible); inspired by",
    }

    def propose(self, actor: DiplomaticActor, problem: Problem, anchor: np.ndarray) -> Proposal:
        world, me = actor.model, problem.proposer
        ideal, include = _ideal(problem)
        offers = _offers(world)
        mine = [n for n, (k, _, _) in enumerate(offers) if k == me.id]
        if not mine:
            return fixed_offer(problem, ideal, include)
        own, own_inc = _package(world, offers[mine[-1]][2])
        counterparts = {g.head.id for g in problem.groups}
        theirs = [n for n, (k, to, _) in enumerate(offers) if k in counterparts and me.id in to and n > mine[-1]]
        their, their_inc, conceded = own, np.zeros_like(own_inc), False
        if theirs:
            k_id, _, package = offers[theirs[-1]]
            their, their_inc = _package(world, package)
            k = world.index_of[k_id]
            stance = np.where(world.salience[k] > 0, world.position[k], world.baseline)
            conceded = concession(me.position, stance, their, their_inc, me.salience) > 0.0
        share = actor.spec.traits.flexibility
        values = reciprocal_offer(
            own, own_inc, their, their_inc, conceded, share, ideal, include, me.red_low, me.red_high, problem.allowed
        )
        return fixed_offer(problem, values, include)

    def respond(self, actor: DiplomaticActor, side: Side, proposal: Proposal, problem: Problem) -> Evaluation:
        # No lookahead: the status quo or its war on the proposer, not the continuation the default reads.
        return cut_off_answer(actor, replace(side, keep=None), proposal, problem)

    def choose_rungs(self, actor: DiplomaticActor, kernel: LadderKernel) -> np.ndarray:
        return reciprocal_rungs(kernel.row(actor.index))


POLICIES: dict[str, type[Policy]] = {
    "bayesian": BayesianBargainer,
    "hardliner": HardLiner,
    "reciprocator": Reciprocator,
}
