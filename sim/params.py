"""The model's parameters: defaults, bounds and meaning. Sweeps vary these by name."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Parameters that rules derived in their place (docs/design/bargaining.md §0), and what replaced them.
REMOVED = {
    **{
        name: "the value of the talks ahead is now derived from the pair's next meeting (docs/ODD.md 7.14), not set"
        for name in ("talks_value", "patience_days")
    },
    "concession_rate": "positions no longer move toward proposals; they move only by bloc coordination, and what"
    " an actor tables or accepts is recorded as its demand (docs/ODD.md 7.10)",
}


class Parameters(BaseModel):
    """Knobs of the rules in ``sim.rules``; every one is documented in docs/ODD.md (7 Submodels)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data: Any) -> Any:
        """A parameter the model no longer has is an error that says what replaced it, not a silent no-op."""
        if isinstance(data, dict):
            for name in sorted(set(data) & REMOVED.keys()):
                raise ValueError(f"{name!r} was removed: {REMOVED[name]}")
        return data

    noise: float = Field(
        0.0, ge=0.0, le=2.0, description="Std. dev. of the Gaussian noise on each escalation comparison (utility)."
    )
    rung_band: float = Field(
        0.1, ge=0.001, le=2.0, description="Utility gap between the war rung and each rung below it."
    )
    bloc_pull: float = Field(0.2, ge=0.0, le=1.0, description="Pull of members toward their bloc's position, per step.")
    trust_gain: float = Field(0.1, ge=0.0, le=1.0, description="Trust gained for a full concession (reciprocity).")
    loss_aversion: float = Field(2.0, ge=1.0, le=5.0, description="How much faster trust is lost than gained (>= 1).")
    legal_boost: float = Field(
        0.5, ge=0.0, le=1.0, description="Share of distrust a legally binding form removes, for actors who value it."
    )
    alliance_reliability: float = Field(
        0.75, ge=0.0, le=1.0, description="Chance that an ally joins the defence of an attacked treaty partner."
    )
    breach_cost: float = Field(
        1.0, ge=0.0, le=5.0, description="Cost of overturning an agreement by war, per unit of the stake overturned."
    )


def parameter_bounds(name: str) -> tuple[float, float, bool, bool]:
    """(low, high, low is exclusive, high is exclusive) of a :class:`Parameters` field."""
    low, high, low_open, high_open = -math.inf, math.inf, False, False
    for m in Parameters.model_fields[name].metadata:
        if getattr(m, "ge", None) is not None:
            low = float(m.ge)
        if getattr(m, "gt", None) is not None:
            low, low_open = float(m.gt), True
        if getattr(m, "le", None) is not None:
            high = float(m.le)
        if getattr(m, "lt", None) is not None:
            high, high_open = float(m.lt), True
    return low, high, low_open, high_open
