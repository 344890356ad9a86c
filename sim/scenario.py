"""A scenario: a whole crisis as one validated, immutable object (:class:`Scenario`), and the check that every
id it names exists.

Data flows one way: a YAML file is read into a plain dict, overrides are applied to that dict by path
(``sim.loading``), and the result is validated into the :class:`Scenario` that the model reads. Nothing
here imports Mesa.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.params import Parameters
from sim.scenario_parts import Actor, Beliefs, Calendar, Event, Ident, Issue, Ladder, Strict, Trust, Venue

SCHEMA_VERSION = 1


class Scenario(Strict):
    """A whole crisis: everything the model needs, and nothing about its outcome."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: Ident
    name: str
    description: str = ""
    calendar: Calendar
    ladder: Ladder
    issues: Annotated[list[Issue], Field(min_length=1)]
    actors: Annotated[list[Actor], Field(min_length=2)]
    beliefs: Beliefs = Beliefs()
    trust: Trust
    venues: list[Venue] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    parameters: Parameters = Parameters()
    references: dict[Ident, str] = Field(
        default_factory=dict,
        exclude=True,  # documentation for the sources, not model input: not part of the config's hash
        description="Works the sources cite, by key: a source quoting one ends with [key] (docs/authoring.md).",
    )

    @field_validator("issues", "actors", "venues")
    @classmethod
    def _unique(cls, items: list[Any]) -> list[Any]:
        counts = Counter(i.id for i in items)  # not ids.count(): quadratic in a 10,000-actor scenario
        dup = sorted(i for i, c in counts.items() if c > 1)
        if dup:
            raise ValueError(f"duplicate id(s): {', '.join(dup)}")
        return items

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        errors = list(reference_errors(self))
        if errors:
            raise References(errors)
        return self

    @property
    def actor_ids(self) -> list[str]:
        return [a.id for a in self.actors]

    @property
    def issue_ids(self) -> list[str]:
        return [i.id for i in self.issues]


class References(ValueError):
    """Every cross-reference of a scenario that does not resolve, as (field path, problem) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))


def reference_errors(s: Scenario) -> list[tuple[str, str]]:
    """Every cross-reference that does not resolve, as (field path, problem)."""
    actors = set(s.actor_ids)
    issues = set(s.issue_ids)
    rungs = {r.id for r in s.ladder.rungs}
    out: list[tuple[str, str]] = []

    def need(cond: bool, path: str, msg: str) -> None:
        if not cond:
            out.append((path, msg))

    for i, issue in enumerate(s.issues):
        for a in issue.competence:
            need(a in actors, f"issues.{i}.competence", f"unknown actor {a!r}")
    kinds = {a.id: a.kind for a in s.actors}
    issue_by_id = {x.id: x for x in s.issues}  # dicts, not scans: linear in the scenario's size
    actor_by_id = {a.id: a for a in s.actors}
    member_of = {a.id: set(a.members) for a in s.actors}
    for i, a in enumerate(s.actors):
        need(len(set(a.members)) == len(a.members), f"actors.{i}.members", "a member is listed twice")
        for m in a.members:
            need(m in actors, f"actors.{i}.members", f"member {m!r} is not an actor")
            need(
                a.id not in member_of.get(m, set()),
                f"actors.{i}.members",
                f"{m!r} and {a.id!r} are members of each other",
            )
        for iss in a.positions:
            need(iss in issues, f"actors.{i}.positions.{iss}", f"unknown issue {iss!r}")
        for iss in a.traits.linkage:
            need(iss in issues, f"actors.{i}.traits.linkage", f"unknown issue {iss!r}")
        for k, t in enumerate(a.threats):
            need(t.target in actors, f"actors.{i}.threats.{k}.target", f"unknown actor {t.target!r}")
            for p in t.protects:
                need(p in actors, f"actors.{i}.threats.{k}.protects", f"unknown actor {p!r}")
                need(p != t.target, f"actors.{i}.threats.{k}.protects", f"{p!r} cannot be protected from itself")
        ir = a.initial_rung
        if ir.default is not None:
            need(ir.default in rungs, f"actors.{i}.initial_rung.default", f"unknown rung {ir.default!r}")
            need(
                ir.default not in rungs or s.ladder.index(ir.default) < s.ladder.index(s.ladder.war),
                f"actors.{i}.initial_rung.default",
                "an initial rung must lie below the war rung",
            )
        for tgt, rung in ir.toward.items():
            need(tgt in actors and tgt != a.id, f"actors.{i}.initial_rung.toward.{tgt}", f"unknown target {tgt!r}")
            need(rung in rungs, f"actors.{i}.initial_rung.toward.{tgt}", f"unknown rung {rung!r}")
            need(
                rung not in rungs or s.ladder.index(rung) < s.ladder.index(s.ladder.war),
                f"actors.{i}.initial_rung.toward.{tgt}",
                "an initial rung must lie below the war rung",
            )
        for iss, pos in a.positions.items():
            issue = issue_by_id.get(iss)
            if issue is not None and issue.values is not None and pos.red_line is not None:
                lo, hi = pos.red_line
                need(
                    any(lo <= v <= hi for v in issue.values),
                    f"actors.{i}.positions.{iss}.red_line",
                    "contains none of the issue's allowed values",
                )
    for frm, row in (s.trust.__pydantic_extra__ or {}).items():
        need(frm in actors, f"trust.{frm}", "unknown actor")
        for to in row:
            need(to in actors and to != frm, f"trust.{frm}.{to}", "unknown actor, or the same actor")

    def on_grid(date: dt.date) -> bool:
        return (date - s.calendar.start).days % s.calendar.step_days == 0

    for i, v in enumerate(s.venues):
        for p in v.participants:
            need(p in actors, f"venues.{i}.participants", f"unknown actor {p!r}")
            need(
                v.format != "ultimatum" or kinds.get(p) != "organisation",
                f"venues.{i}.participants",
                f"{p!r} is an organisation, and organisations never fight: it cannot take part in an ultimatum",
            )
        need(
            on_grid(v.date), f"venues.{i}.date", f"{v.date} does not fall on a step (every {s.calendar.step_days} days)"
        )
        for iss in v.agenda:
            need(iss in issues, f"venues.{i}.agenda", f"unknown issue {iss!r}")
        need(
            s.calendar.start <= v.date <= s.calendar.end,
            f"venues.{i}.date",
            f"{v.date} lies outside the calendar {s.calendar.start}..{s.calendar.end}",
        )
    for i, e in enumerate(s.events):
        need(e.actor in actors, f"events.{i}.actor", f"unknown actor {e.actor!r}")
        need(
            on_grid(e.date), f"events.{i}.date", f"{e.date} does not fall on a step (every {s.calendar.step_days} days)"
        )
        if e.target is not None:
            need(
                e.target in actors and e.target != e.actor, f"events.{i}.target", f"unknown or same actor {e.target!r}"
            )
        if e.issue is not None:
            need(e.issue in issues, f"events.{i}.issue", f"unknown issue {e.issue!r}")
            holder = actor_by_id.get(e.actor)
            need(
                holder is None or e.issue in holder.positions,
                f"events.{i}.issue",
                f"{e.actor!r} holds no position on {e.issue!r}, so its salience cannot change",
            )
        need(
            s.calendar.start <= e.date <= s.calendar.end,
            f"events.{i}.date",
            f"{e.date} lies outside the calendar",
        )
    for i, m in enumerate(s.beliefs.misperception):
        for f in ("observer", "target"):
            need(getattr(m, f) in actors, f"beliefs.misperception.{i}.{f}", "unknown actor")
        need(m.observer != m.target, f"beliefs.misperception.{i}.target", "an actor does not misperceive itself")
    return out
