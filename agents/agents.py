"""The actors: states, blocs and organisations, as Mesa agents.

Agents are thin views on the model's numpy arrays (positions, trust, rungs): the O(N^2) dyads
stay cheap, and the rules in ``sim.rules`` stay pure. An agent's own decisions -- what to
propose at a venue, whether to accept a package, which rung to hold toward every other actor --
come from its policy (``agents.policies``, chosen per actor by the scenario), to which its
methods delegate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from agents.policies import POLICIES, Policy
from sim.rules.acceptance import Evaluation, Side
from sim.rules.bargaining import Group, Problem, Proposal
from sim.rules.ladder import LadderKernel

if TYPE_CHECKING:
    from sim.scenario_parts import Actor
    from sim.world import World


class DiplomaticActor(mesa.Agent):
    """An actor of the scenario; ``index`` is its row in the model's arrays.

    It reads the model only through ``sim.world.World`` (the model is a ``mesa.Model`` that
    satisfies it), so the agents never import the model."""

    model: World

    def __init__(self, model: World, spec: Actor, index: int):
        super().__init__(model)
        self.spec = spec
        self.index = index
        self.actor_id = spec.id
        self.name = spec.name
        self.policy: Policy = POLICIES[spec.policy]()

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def capability(self) -> float:
        return float(self.model.capability[self.index])

    @property
    def position(self) -> dict[str, float]:
        m = self.model
        return {
            iid: float(m.position[self.index, j]) for j, iid in enumerate(m.issue_ids) if m.salience[self.index, j] > 0
        }

    def trust_in(self, other: str) -> float:
        return float(self.model.trust[self.index, self.model.index_of[other]])

    def side(self, trust: float, war_value: float, belief: tuple[float, float] = (0.0, 1.0)) -> Side:
        """This actor as it enters a negotiation, with the given trust and war option, and the proposer's
        posterior over its cost (``belief``: quantile interval)."""
        m, i = self.model, self.index
        return Side(
            id=self.actor_id,
            position=m.position[i],
            salience=m.salience[i],
            risk=float(m.risk[i]),
            red_low=m.red_low[i],
            red_high=m.red_high[i],
            trust=float(trust),
            war_value=float(war_value),
            prior=m.priors.prior(i),
            belief=belief,
            values_legal_form=self.spec.traits.values_legal_form,
            binding_cost=self.spec.traits.binding_cost,
            linkage=frozenset(m.issue_index[j] for j in self.spec.traits.linkage),
        )

    def propose(self, problem: Problem, anchor: np.ndarray) -> Proposal:
        """The package this actor tables (its policy's ``propose``)."""
        return self.policy.propose(self, problem, anchor)

    def respond(self, side: Side, proposal: Proposal, problem: Problem) -> Evaluation:
        """Accept or reject a package, with the comparison logged (its policy's ``respond``)."""
        return self.policy.respond(self, side, proposal, problem)

    def choose_rungs(self, kernel: LadderKernel) -> np.ndarray:
        """The next rung toward every actor, ``(n,)`` (its policy's ``choose_rungs``; the model applies it)."""
        return self.policy.choose_rungs(self, kernel)

    def as_group(self, proposer: int, ultimatum: bool, present: frozenset[int]) -> Group:
        """This actor as a decision unit facing ``proposer``: a bloc brings its members who are
        not at the table in their own right."""
        return Group(head=self.model.side_facing(self.index, proposer, ultimatum))


class StateAgent(DiplomaticActor):
    """A sovereign state: decides alone."""


class BlocAgent(DiplomaticActor):
    """An alliance or union (NATO, the EU): accepts by its internal rule among members modelled
    as actors, and its agreements bind them."""

    @property
    def members(self) -> list[str]:
        return list(self.spec.members)

    def as_group(self, proposer: int, ultimatum: bool, present: frozenset[int]) -> Group:
        m = self.model
        members = tuple(
            m.side_facing(m.index_of[a], proposer, ultimatum) for a in self.spec.members if m.index_of[a] not in present
        )
        return Group(head=m.side_facing(self.index, proposer, ultimatum), members=members, rule=self.spec.internal_rule)


class OrganisationAgent(DiplomaticActor):
    """An international organisation (the OSCE): convenes and proposes, never fights."""


AGENT_CLASSES: dict[str, type[DiplomaticActor]] = {
    "state": StateAgent,
    "bloc": BlocAgent,
    "organisation": OrganisationAgent,
}
