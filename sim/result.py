"""RunResult: the one record of a run that the CLI, the batch runner and the UI all read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

RESULT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RunResult:
    """Outcome and key records of one run; ``to_dict`` is the CLI's ``--json`` object."""

    scenario: str
    config_sha256: str
    seed: int | None
    params: dict[str, float]
    steps_run: int
    outcome: str  # agreement | stalemate | escalation | truncated
    escalation: dict[str, Any] | None
    max_rung: dict[str, Any]
    agreements: list[dict[str, Any]]
    initial_positions: dict[str, dict[str, float]]
    final_positions: dict[str, dict[str, float]]
    trust: dict[str, dict[str, float]]
    venues: list[dict[str, Any]]
    final_date: str
    policies: dict[str, str] = field(default_factory=dict)  # actor id -> its policy's name (agents.policies)
    schema_version: int = field(default=RESULT_SCHEMA_VERSION)

    @property
    def escalated(self) -> bool:
        return self.outcome == "escalation"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["escalated"] = self.escalated
        return d

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no timestamps or timings, so equal runs are byte-identical."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False)
