"""The crisis library as the backtest reads it: each crisis's scenario with its outcome record, and what history
shows at the scenario's horizon.

``load_library(folder)`` pairs every ``*.yaml`` scenario of ``folder`` (default ``configs/crises``) with its
outcome record (default: the ``outcomes`` folder beside it). A folder without scenarios, a crisis without an
outcome record and a record that does not validate are refused with a ScenarioError naming the file and the
field, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from experiments.outcomes import Outcome, load_outcome, outcome_path
from sim.loading import BUNDLED_CONFIGS, load_scenario
from sim.messages import ScenarioError
from sim.scenario import Scenario

LIBRARY = BUNDLED_CONFIGS / "crises"


@dataclass(frozen=True)
class Crisis:
    """One crisis of the library: its scenario file and what happened."""

    path: Path
    scenario: Scenario
    outcome: Outcome

    @property
    def history(self) -> str:
        """What history shows at the scenario's horizon, one of ``experiments.scores.CLASSES``
        (docs/authoring.md, section 9): a war or an agreement after the horizon counts as neither, as a run
        that reaches the horizon does."""
        horizon = self.scenario.calendar.end
        o = self.outcome
        if o.war and o.first_serious_violence is not None and o.first_serious_violence <= horizon:
            return "war"
        if o.agreement and o.end <= horizon:
            return "agreement"
        return "no_agreement_no_war"


def load_library(folder: str | Path = LIBRARY, outcomes: str | Path | None = None) -> list[Crisis]:
    """Every crisis of ``folder`` with its outcome record (from ``outcomes``, default ``folder/../outcomes``),
    in file-name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(str(folder), [("", "no such folder")])
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise ScenarioError(str(folder), [("", "no scenario files (*.yaml) in this folder")])
    records = Path(outcomes) if outcomes is not None else folder.parent / "outcomes"
    crises: list[Crisis] = []
    for path in paths:
        scenario = load_scenario(path)
        twin = next((c.path for c in crises if c.scenario.id == scenario.id), None)
        if twin is not None:  # one id, one outcome record and one output folder: two files cannot share it
            raise ScenarioError(str(path), [("id", f"{scenario.id!r} is also the id of {twin}")])
        record = outcome_path(scenario.id, records)
        if not record.is_file():
            raise ScenarioError(str(path), [("id", f"no outcome record for crisis {scenario.id!r}: {record}")])
        crises.append(Crisis(path, scenario, load_outcome(record, scenario)))
    return crises
