"""The narrow interfaces between the engine and the actors.

``World`` is what the actors (``agents``) and the venue protocol (``sim.venues``) read from and
write to the model; ``Negotiator`` is what the engine asks of an actor. ``DiplomacyModel`` and
the agent classes satisfy them structurally, so neither the agents nor the venues import the
model, and only the model imports the agents (to build them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from sim.params import Parameters
    from sim.rules.acceptance import Evaluation, Side
    from sim.rules.bargaining import Group, Problem, Proposal
    from sim.rules.values import DyadValues
    from sim.rules.war import CostPriors
    from sim.scenario import Scenario


class Tables(Protocol):
    """The model's data collector as the venues see it: they append rows to its tables (the decision log)."""

    def add_table_row(self, table_name: str, row: dict[str, Any]) -> None: ...


class Recorder(Protocol):
    """What records decisions for ``sim.explain`` (``DiplomacyModel(explain=True)``): the venues hand it
    each answer to a package with what the answer was computed from."""

    def evaluation(
        self,
        world: World,
        step: int,
        venue: str,
        proposer: int,
        side: Side,
        proposal: Proposal,
        problem: Problem,
        ev: Evaluation,
        ratification: bool,
    ) -> None: ...


class Negotiator(Protocol):
    """An actor as the venues see it: it enters talks, proposes and answers (by its policy)."""

    def side(self, trust: float, war_value: float) -> Side: ...

    def propose(self, problem: Problem, anchor: np.ndarray) -> Proposal: ...

    def respond(self, side: Side, proposal: Proposal, problem: Problem) -> Evaluation: ...

    def as_group(self, proposer: int, ultimatum: bool, present: frozenset[int]) -> Group: ...


class World(Protocol):
    """The model's state as actors and venues see it: arrays over actors ``n`` and issues ``m``."""

    config: Scenario
    params: Parameters
    datacollector: Tables
    actor_ids: list[str]
    issue_ids: list[str]
    index_of: dict[str, int]
    issue_index: dict[str, int]
    capability: np.ndarray  # (n,)
    position: np.ndarray  # (n, m) ideal points: moved only by bloc coordination (ODD 7.10, 7.12)
    demand: np.ndarray  # (n, m) what each last tabled, accepted or agreed to, per issue (ODD 7.10); read by no rule
    salience: np.ndarray  # (n, m)
    risk: np.ndarray  # (n,)
    red_low: np.ndarray  # (n, m)
    red_high: np.ndarray  # (n, m)
    trust: np.ndarray  # (n, n): trust[i, k] is i's trust in k
    compliance: np.ndarray  # (m,)
    allowed: list[list[float] | None]
    baseline: np.ndarray  # (m,) status quo or agreed values
    agreed: np.ndarray  # (m,) bool
    party: np.ndarray  # (n, m) 1 where bound by an agreement
    competence: np.ndarray  # (n, m) bool
    side_of: np.ndarray  # (n,) alliance family
    members: dict[int, list[int]]
    priors: CostPriors
    private_cost: np.ndarray  # (n,)
    war: np.ndarray  # (n, n) gross war values at the last refresh: war[i, t], i attacking t
    war_def: np.ndarray  # (n, n) war_def[t, i]: t's value of the war i starts against it
    gain: np.ndarray  # (n, n) spoils of victory G[i, t]
    attackable: np.ndarray  # (n, n) bool: i can fight t and has something to gain by it
    best_war: np.ndarray  # (n,) best war value over the actors one can attack
    outcome: str | None
    explainer: Recorder | None  # None unless the model records decisions (sim.explain)
    explained: np.ndarray  # (n,) bool: the actors whose decisions sim.explain takes apart (the default policy's)
    revealing: np.ndarray  # (n,) bool: the actors whose answers observers learn from (policy classifier)
    venue_log: list[dict[str, Any]]
    agreements: list[dict[str, Any]]

    @property
    def actor_agents(self) -> Sequence[Negotiator]: ...

    def side_facing(self, i: int, proposer: int, ultimatum: bool) -> Side: ...

    def refresh_war(self) -> None: ...

    def dyad_values(self, t: int) -> DyadValues: ...

    def no_deal_table(self, t: int, k: int, r: int) -> tuple[np.ndarray, np.ndarray]: ...

    def record_war(self, i: int, k: int, t: int) -> None: ...

    def learn(self, i: int, threshold: float, accepted: bool) -> None: ...
