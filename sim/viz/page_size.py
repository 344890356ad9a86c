"""The simulation page's size guard (issue 8, item 5): a scenario above ``sim.size``'s limits is refused.

``dipsim run`` and ``dipsim validate`` warn about such a scenario and still run it: the person who typed the
command chose to wait. On the page a visitor would start it for the server (tens of GiB, minutes per step, on
a machine shared with others), so the page refuses it before building the model, with the estimate, and keeps
the model it shows. Applies to typed paths, the ``dipsim viz`` scenario and uploads alike. Nothing here
imports Solara or Mesa.
"""

from __future__ import annotations

from sim import size
from sim.scenario import Scenario


class TooBig(ValueError):
    """A scenario the page will not run. A ValueError, so the page reports it as it does a bad seed."""


def size_problem(sc: Scenario) -> str | None:
    """Why the page refuses ``sc`` (its size, the estimate and the limits), or None when it is within them."""
    est = size.scenario_estimate(sc)
    if est.warning("") is None:
        return None
    return (
        f"{est.actors:,} actors × {est.issues:,} issues: about {est.model_bytes / 2**30:.1f} GiB for a run of "
        f"{est.steps:,} steps and {est.step_seconds:.2g} s per step, above the page's limit of "
        f"{size.MAX_MODEL_BYTES / 2**30:g} GiB per model and {size.MAX_STEP_SECONDS:g} s per step; "
        "the page does not run a scenario this large (dipsim run does, with a warning)"
    )


def check_size(sc: Scenario, file: str) -> None:
    """Raise :class:`TooBig` naming ``file`` when the page refuses ``sc``."""
    problem = size_problem(sc)
    if problem is not None:
        raise TooBig(f"{file}: {problem}")
