"""dipsim's model engine: scenario loading, the rules and the Mesa model.

``from sim import DiplomacyModel, load_scenario``. The names are loaded on first use (PEP 562), so
that importing a submodule such as ``sim.rules`` -- as the agents do -- does not pull in the model.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "DiplomacyModel": "sim.model",
    "RunResult": "sim.result",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.messages",
    "load_scenario": "sim.loading",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
