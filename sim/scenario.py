"""Scenario configuration: the YAML schema, its validation, and ``--set`` overrides.

Data flows one way: a YAML file is read into a plain dict, overrides are applied to that
dict by path (the same paths for ``dipsim run --set`` and for sweeps), and the result is
validated into immutable :class:`Scenario` objects that the model reads. Nothing here
imports Mesa.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.messages import MAX_PATH_CHARS, ScenarioError, cut, name_text, path_str, value_text
from sim.params import Parameters
from sim.yamlio import YAMLInputError, load_yaml, read_raw  # read_raw and ScenarioError: imported from here too

SCHEMA_VERSION = 1
BUNDLED_CONFIGS = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_SCENARIO = BUNDLED_CONFIGS / "european_security_2022.yaml"

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Source = Annotated[
    str,
    Field(
        min_length=1,
        description='A word-for-word quote from the record, or "assumption: <reason>".',
    ),
]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Calendar(_Strict):
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


class Rung(_Strict):
    id: Ident
    label: str = ""
    score: Annotated[float, Field(ge=-100, le=100)]


class Ladder(_Strict):
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


class Issue(_Strict):
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


class Position(_Strict):
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


class Traits(_Strict):
    """Behavioural traits; each defaults to the neutral value."""

    flexibility: Unit = Field(default=0.5, description="Scales how far positions move toward others' proposals.")
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


class CostPrior(_Strict):
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


class Threat(_Strict):
    """A standing deterrence or sanctions threat: war by ``target`` against any of ``protects``
    costs ``target`` an extra ``cost``, scaled by the threatener's resolve."""

    target: Ident
    protects: Annotated[list[Ident], Field(min_length=1)]
    cost: Annotated[float, Field(ge=0.0, le=10.0)]
    kind: Literal["deterrence", "sanctions"] = "deterrence"
    source: Source


class InitialRungs(_Strict):
    default: Ident | None = None
    toward: dict[Ident, Ident] = Field(default_factory=dict)
    source: Source | None = None


class Actor(_Strict):
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
    source: Source

    @model_validator(mode="after")
    def _members(self) -> Actor:
        if self.members and self.kind != "bloc":
            raise ValueError("only a bloc has members")
        if self.id in self.members:
            raise ValueError("a bloc cannot be its own member")
        return self


class Misperception(_Strict):
    """``observer`` sees ``target``'s capability scaled by ``capability_factor``."""

    observer: Ident
    target: Ident
    capability_factor: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    source: Source


class Beliefs(_Strict):
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


class Venue(_Strict):
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


class Event(_Strict):
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


class Scenario(_Strict):
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
            raise _References(errors)
        return self

    @property
    def actor_ids(self) -> list[str]:
        return [a.id for a in self.actors]

    @property
    def issue_ids(self) -> list[str]:
        return [i.id for i in self.issues]


class _References(ValueError):
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


# --------------------------------------------------------------------------- loading


def validate_raw(raw: dict[str, Any], file: str, *, show_values: bool = True) -> Scenario:
    """Validate a raw config dict; collect every problem into one ScenarioError.

    ``show_values``: whether a message may quote a value of ``raw`` (cut to 40 characters; see
    ``sim.messages``). True for the command line, where the file is the user's own; pass False for a
    file reached any other way (the browser page, an experiment's base scenario). Field names and ids
    are shown either way; the value of an unknown key never is.
    """
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        errors: list[tuple[str, str]] = []
        for e in exc.errors():
            ctx_err = (e.get("ctx") or {}).get("error")
            if isinstance(ctx_err, _References):
                errors.extend((path_str(_split(p), raw, show_values), m) for p, m in ctx_err.errors)
                continue
            msg = e["msg"].removeprefix("Value error, ")
            got = e.get("input")
            shown = show_values and e["type"] not in ("missing", "extra_forbidden")
            if shown and (got is None or isinstance(got, str | int | float | bool)):
                msg += f" (got {value_text(got)})"
            loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith(("function-", "tagged"))))
            errors.append((path_str(loc, raw, show_values), msg))
        raise ScenarioError(file, errors) from None


def _split(path: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def load_scenario(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, *, show_values: bool = True
) -> Scenario:
    """Load, override and validate a scenario file (default: the bundled 2022 scenario).

    ``show_values``: whether error messages may quote the file's values (short ones, cut to 40
    characters). Keep the default True only for a file the user named on the command line; the
    browser page and any file named inside another file pass False, so that pointing the loader at a
    file that is not a scenario (a password or credentials file) never shows its content.
    """
    path = DEFAULT_SCENARIO if path is None else Path(path)
    raw = read_raw(path, show_values=show_values)
    if overrides:
        raw = apply_overrides(raw, overrides, str(path))
    return validate_raw(raw, str(path), show_values=show_values)


def config_sha256(scenario: Scenario) -> str:
    """Hash of the validated scenario (after overrides), canonical JSON."""
    blob = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- overrides


def parse_set(items: list[str]) -> dict[str, Any]:
    """Parse ``PATH=VALUE`` strings; the value is read as YAML (numbers, null, lists), safely
    (``sim.yamlio.load_yaml``: no aliases, dates left as strings)."""
    out: dict[str, Any] = {}
    for item in items:
        path, sep, value = item.partition("=")
        shown = value_text(item)
        if not sep or not path:
            raise ValueError(f"--set {shown}: expected PATH=VALUE")
        try:
            out[path.strip()] = load_yaml(value) if value.strip() else None
        except YAMLInputError as exc:
            raise ValueError(f"--set {shown}: the value is not valid YAML ({exc})") from None
    return out


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any], file: str) -> dict[str, Any]:
    """Return a copy of ``raw`` with each ``path: value`` set.

    A path is dotted: mapping keys, and list items by their ``id`` (``venues.geneva.date``)
    or index. Setting a list item to null removes it (``venues.geneva=null``). A path must
    exist, with two exceptions whose keys are known: ``parameters.NAME`` for any model
    parameter and ``trust.FROM.TO`` for two actors. Ids and indices refer to the file as
    written and removals happen last, so the result does not depend on the order of the paths.
    """
    raw = copy.deepcopy(raw)
    errors: list[tuple[str, str]] = []
    actor_ids = {a.get("id") for a in raw.get("actors", []) if isinstance(a, dict)}
    removals: list[tuple[list[Any], Any]] = []
    for path in sorted(overrides):
        try:
            _set_path(raw, path.split("."), overrides[path], actor_ids, removals)
        except KeyError as exc:
            errors.append((path, f"unknown --set path: {exc.args[0]}"))
    if errors:
        raise ScenarioError(file, errors)
    for container, item in removals:
        if any(x is item for x in container):
            container[:] = [x for x in container if x is not item]
    return raw


def _set_path(
    raw: dict[str, Any], parts: list[str], value: Any, actor_ids: set[Any], removals: list[tuple[list[Any], Any]]
) -> None:
    node: Any = raw
    for depth, key in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            idx = next((i for i, x in enumerate(node) if isinstance(x, dict) and x.get("id") == key), None)
            if idx is None and key.isdigit() and int(key) < len(node):
                idx = int(key)
            if idx is None:
                raise KeyError(f"no item {name_text(key)!r} at {cut(here, MAX_PATH_CHARS)}")
            if last:
                if value is None:
                    removals.append((node, node[idx]))
                else:
                    node[idx] = value
                return
            node = node[idx]
        elif isinstance(node, dict):
            creatable = (
                (depth == 0 and key == "parameters" and len(parts) == 2)
                or (parts[0] == "parameters" and depth == 1 and key in Parameters.model_fields)
                or (parts[0] == "trust" and 1 <= depth <= 2 and key in actor_ids and len(parts) == 3)
            )
            if key not in node and not creatable:
                raise KeyError(f"no key {name_text(key)!r} at {cut(here, MAX_PATH_CHARS)}")
            if last:
                node[key] = value
                return
            if key not in node:
                node[key] = {}
            node = node[key]
        else:
            raise KeyError(f"{'.'.join(parts[:depth])} is a value, not a mapping or list")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, for editors."""
    return Scenario.model_json_schema()
