"""The parts of a scenario file as pydantic models: calendar, ladder, issues, positions, actors, beliefs,
trust, venues and events. ``sim.scenario.Scenario`` puts them together and checks their cross-references.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Source = Annotated[
    str,
    Field(
        min_length=1,
        description='A word-for-word quote from the record, or "assumption: <reason>".',
    ),
]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Calendar(Strict):
    """Start date, step length and horizon; venues and events land on steps by their date."""

    start: dt.date
    end: dt.date = Field(description="Horizon: the last simulated day (inclusive).")
    step_days: Annotated[int, Field(ge=1, le=365)] = 1

    @model_validator(mode="after")
    def _order(self) -> Calendar:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if self.n_steps > 10_000:
            raise ValueError("more than 10,000 steps between start and end")
        return self

    @property
    def n_steps(self) -> int:
        return (self.end - self.start).days // self.step_days + 1

    def step_of(self, date: dt.date) -> int:
        return (date - self.start).days // self.step_days

    def date_of(self, step: int) -> dt.date:
        return self.start + dt.timedelta(days=step * self.step_days)


class Rung(Strict):
    id: Ident
    label: str = ""
    score: Annotated[float, Field(ge=-100, le=100)]


class Ladder(Strict):
    """Escalation ladder: rungs in increasing order of score, and which rung is war."""

    rungs: Annotated[list[Rung], Field(min_length=2)]
    war: Ident
    baseline: Ident = Field(description="The rung an actor holds toward others by default (status quo).")
    source: Source

    @model_validator(mode="after")
    def _check(self) -> Ladder:
        ids = [r.id for r in self.rungs]
        if len(set(ids)) != len(ids):
            raise ValueError("rung ids must be unique")
        scores = [r.score for r in self.rungs]
        if scores != sorted(scores) or len(set(scores)) != len(scores):
            raise ValueError("rungs must be listed in strictly increasing order of score")
        for name in ("war", "baseline"):
            if getattr(self, name) not in ids:
                raise ValueError(f"{name} rung {getattr(self, name)!r} is not a rung of the ladder")
        if ids.index(self.baseline) >= ids.index(self.war):
            raise ValueError("the baseline rung must lie below the war rung")
        return self

    def index(self, rung_id: str) -> int:
        return [r.id for r in self.rungs].index(rung_id)


class Issue(Strict):
    """An issue in dispute on a [0, 1] scale whose two ends are named."""

    id: Ident
    label: str
    low: str = Field(description="What 0 on the scale means.")
    high: str = Field(description="What 1 on the scale means.")
    status_quo: Unit
    values: list[Unit] | None = Field(
        default=None, description="Allowed values of an indivisible issue; omitted for a continuous one."
    )
    competence: list[Ident] = Field(
        default_factory=list,
        description="Actors whose consent an agreement on this issue needs; empty: every actor holding a position.",
    )
    compliance: Unit = Field(
        default=1.0,
        description="Share of a gain on this issue that depends on the other side's future compliance.",
    )
    source: Source

    @model_validator(mode="after")
    def _values(self) -> Issue:
        if self.values is not None:
            if len(self.values) < 2 or len(set(self.values)) != len(self.values):
                raise ValueError("values must list at least two distinct allowed values")
            if self.status_quo not in self.values:
                raise ValueError("status_quo must be one of the allowed values")
        return self


class Position(Strict):
    """An actor's stance on one issue: ideal point, salience and red line."""

    ideal: Unit
    salience: Unit
    red_line: tuple[Unit, Unit] | None = Field(
        default=None, description="The interval of outcomes the actor can accept, or null for none."
    )
    source: Source

    @model_validator(mode="after")
    def _inside(self) -> Position:
        if self.red_line is not None:
            lo, hi = self.red_line
            if lo > hi:
                raise ValueError("red_line must be [low, high] with low <= high")
            if not lo <= self.ideal <= hi:
                raise ValueError(f"the ideal point {self.ideal} lies outside the red line [{lo}, {hi}]")
        return self


class Traits(Strict):
    """Behavioural traits; each defaults to the neutral value."""

    flexibility: Unit = Field(
        default=0.5,
        description="Openness to concessions; kept for the reciprocator policy (docs/design/bargaining.md §3.8), "
        "read by no rule since positions stopped moving toward proposals.",
    )
    resolve: Unit = Field(default=0.5, description="Scales the credibility of this actor's threats.")
    risk_attitude: Annotated[float, Field(ge=0.5, le=3.0)] = Field(
        default=1.0, description="Exponent on distance in utilities: 1 neutral, >1 risk-averse."
    )
    values_legal_form: Unit = Field(
        default=0.0, description="How much a legally binding form lowers this actor's trust discount."
    )
    binding_cost: Unit = Field(default=0.0, description="Utility cost to this actor of committing itself legally.")
    linkage: list[Ident] = Field(
        default_factory=list, description="Issues without which this actor accepts no package (issue linkage)."
    )


class CostPrior(Strict):
    """A private cost of conflict, drawn once per run from this distribution (the shared prior)."""

    distribution: Literal["fixed", "uniform", "triangular"]
    low: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    mode: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    high: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    source: Source

    @model_validator(mode="after")
    def _shape(self) -> CostPrior:
        if self.distribution == "fixed":
            if self.high != self.low and self.high != 0.0:
                raise ValueError("a fixed cost takes low only (the value)")
        elif self.high <= self.low:
            raise ValueError("high must exceed low")
        if self.distribution == "triangular" and (self.mode is None or not self.low <= self.mode <= self.high):
            raise ValueError("a triangular prior needs low <= mode <= high")
        return self


class Threat(Strict):
    """A standing deterrence or sanctions threat: war by ``target`` against any of ``protects``
    costs ``target`` an extra ``cost``, scaled by the threatener's resolve."""

    target: Ident
    protects: Annotated[list[Ident], Field(min_length=1)]
    cost: Annotated[float, Field(ge=0.0, le=10.0)]
    kind: Literal["deterrence", "sanctions"] = "deterrence"
    source: Source


class InitialRungs(Strict):
    default: Ident | None = None
    toward: dict[Ident, Ident] = Field(default_factory=dict)
    source: Source | None = None


# The names of agents.policies.POLICIES (the engine does not import the agents; a test keeps the two in step).
PolicyName = Literal["bayesian", "hardliner", "reciprocator"]


class Actor(Strict):
    id: Ident
    name: str
    kind: Literal["state", "bloc", "organisation"]
    capability: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        description="Own capability; a bloc's excludes members modelled separately."
    )
    members: list[Ident] = Field(default_factory=list)
    internal_rule: Literal["unanimity", "majority"] = Field(
        default="unanimity", description="How a bloc decides to accept: by its members modelled as actors."
    )
    positions: dict[Ident, Position] = Field(default_factory=dict)
    traits: Traits = Traits()
    conflict_cost: CostPrior
    threats: list[Threat] = Field(default_factory=list)
    initial_rung: InitialRungs = InitialRungs()
    # Left out of the dump (and so of the config hash) when it is the default: a file that does not name a
    # policy hashes as it did before policies existed, and naming the default changes nothing.
    policy: PolicyName = Field(
        default="bayesian",
        exclude_if=lambda v: v == "bayesian",
        description="Where this actor's choices come from (agents/policies.py): bayesian (the default), "
        "hardliner or reciprocator. For comparing policies; the crisis library never sets it.",
    )
    source: Source

    @model_validator(mode="after")
    def _members(self) -> Actor:
        if self.members and self.kind != "bloc":
            raise ValueError("only a bloc has members")
        if self.id in self.members:
            raise ValueError("a bloc cannot be its own member")
        return self


class Misperception(Strict):
    """``observer`` sees ``target``'s capability scaled by ``capability_factor``."""

    observer: Ident
    target: Ident
    capability_factor: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    source: Source


class Beliefs(Strict):
    red_lines: Literal["public", "private"] = Field(
        default="public", description="Whether proposers know recipients' red lines."
    )
    misperception: list[Misperception] = Field(default_factory=list)


class Trust(BaseModel):
    """Initial dyadic trust: a default plus overrides ``FROM: {TO: value}``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, dict[str, Unit]]
    default: Unit = 0.5
    source: Source


class Venue(Strict):
    id: Ident
    name: str
    place: str
    date: dt.date
    format: Literal["bilateral", "council", "multilateral", "ultimatum"]
    participants: Annotated[list[Ident], Field(min_length=2)]
    chair: Ident | None = None
    agenda: Annotated[list[Ident], Field(min_length=1)]
    decision_rule: Literal["unanimity", "majority"] = "unanimity"
    source: Source

    @model_validator(mode="after")
    def _shape(self) -> Venue:
        if len(set(self.participants)) != len(self.participants):
            raise ValueError("participants must be distinct")
        if self.format in ("bilateral", "ultimatum") and len(self.participants) != 2:
            raise ValueError(f"a {self.format} venue has exactly two participants")
        if self.chair is not None and self.chair not in self.participants:
            raise ValueError(f"chair {self.chair!r} is not a participant")
        return self

    @property
    def order(self) -> list[str]:
        """Participants in proposing order: chair first."""
        chair = self.chair or self.participants[0]
        return [chair] + [p for p in self.participants if p != chair]


class Event(Strict):
    """An exogenous shock at a date. It changes a state variable; it never sets an outcome."""

    date: dt.date
    kind: Literal["capability", "trust", "salience"]
    actor: Ident
    target: Ident | None = Field(default=None, description="The other actor, for a trust event.")
    issue: Ident | None = Field(default=None, description="The issue, for a salience event.")
    delta: Annotated[float, Field(ge=-1000.0, le=1000.0)]
    source: Source

    @model_validator(mode="after")
    def _fields(self) -> Event:
        if self.kind == "trust" and self.target is None:
            raise ValueError("a trust event needs target")
        if self.kind == "salience" and self.issue is None:
            raise ValueError("a salience event needs issue")
        return self
