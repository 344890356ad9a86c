"""What happened in each crisis of the library, kept apart from the scenarios (docs/authoring.md, section 9).

One file per crisis, ``configs/outcomes/<crisis id>.yaml``, coded as the International Crisis Behavior project
codes crises: the highest level of violence, the form of the outcome, the dates of the first serious violence
and of the end, and the first war's dyad, each with its source. Only the backtest reads these files: the
engine never imports this module (an import contract), and a test shows that loading a scenario and running
the model open no outcome file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.loading import BUNDLED_CONFIGS, validation_problems
from sim.messages import ScenarioError
from sim.scenario import Scenario
from sim.scenario_parts import Ident, Source
from sim.yamlio import read_raw

OUTCOMES_DIR = BUNDLED_CONFIGS / "outcomes"

Violence = Literal["none", "minor_clashes", "serious_clashes", "full_scale_war"]
OutcomeForm = Literal["formal_agreement", "tacit_understanding", "unilateral_act", "imposed", "faded"]


class Outcome(BaseModel):
    """One crisis's outcome, ICB-coded, every value with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    crisis: Ident
    icb: Annotated[int, Field(ge=1)] | None
    violence: Violence
    violence_source: Source
    outcome_form: OutcomeForm
    outcome_form_source: Source
    first_serious_violence: dt.date | None
    first_serious_violence_source: Source
    war_dyad: tuple[Ident, Ident] | None
    war_dyad_source: Source | None = None
    end: dt.date
    end_source: Source
    references: dict[Ident, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Outcome:
        if self.war_dyad is not None and self.war_dyad_source is None:
            raise ValueError("war_dyad needs war_dyad_source")
        if self.violence == "full_scale_war" and self.war_dyad is None:
            raise ValueError("a full-scale war needs war_dyad (who attacked whom)")
        if self.violence in ("serious_clashes", "full_scale_war") and self.first_serious_violence is None:
            raise ValueError(f"violence {self.violence} needs the date of first_serious_violence")
        return self

    @property
    def war(self) -> bool:
        """War, as the backtest scores it: ICB's full-scale war."""
        return self.violence == "full_scale_war"

    @property
    def agreement(self) -> bool:
        """A negotiated end, as the backtest scores it: a formal agreement without war."""
        return self.outcome_form == "formal_agreement" and not self.war


def load_outcome(path: str | Path, scenario: Scenario | None = None) -> Outcome:
    """Read and validate one outcome file; with ``scenario``, check that it is that crisis's and that its war
    dyad names the scenario's actors. Bad input raises ScenarioError naming the file and field."""
    raw = read_raw(path)
    try:
        outcome = Outcome.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(str(path), validation_problems(exc, raw)) from None
    if scenario is not None:
        problems = []
        if outcome.crisis != scenario.id:
            problems.append(("crisis", f"{outcome.crisis!r} is not the scenario's id {scenario.id!r}"))
        for k, actor in enumerate(outcome.war_dyad or ()):
            if actor not in scenario.actor_ids:
                problems.append((f"war_dyad.{k}", f"{actor!r} is not an actor of {scenario.id}"))
        if problems:
            raise ScenarioError(str(path), problems)
    return outcome


def outcome_path(crisis_id: str, outcomes: Path = OUTCOMES_DIR) -> Path:
    """Where a crisis's outcome record lives."""
    return outcomes / f"{crisis_id}.yaml"
