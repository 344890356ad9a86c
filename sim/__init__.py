"""dipsim's model engine: scenario loading, the rules and the Mesa model."""

from sim.model import DiplomacyModel
from sim.result import RunResult
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["DiplomacyModel", "RunResult", "Scenario", "ScenarioError", "load_scenario"]
