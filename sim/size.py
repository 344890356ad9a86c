"""How much memory and time a scenario will need, estimated from its size before it runs.

The model holds every actor pair in ``n x n`` arrays (trust, rungs, war values, threat costs,
perception, ...), and one step recomputes them all, so memory and time grow with the square of the
number of actors ``n``. Three further terms matter:

* the war values look at each competence pair (an actor that must consent on an issue: the issue's
  ``competence`` list, or every actor holding a position on it), ``P`` of them, against every actor:
  ``n x P`` temporaries and an ``n x n x P`` product;
* the data collector keeps a copy of trust, rungs and the belief bounds (``4 x 8 n^2`` bytes) and positions
  and demands (``2 x 8 n m``) for every step run, so a run to the horizon of ``S`` steps keeps ``S`` of them;
* the cost of each array element grows with ``n`` once the arrays no longer fit in the caches.

Fitted here (2 shared cores, other jobs running; ``experiments.generate.random_scenario`` at 20
issues, 200 to 5,000 actors, with its few-actor competence lists, P ~ 60, and with every holder
competent, P ~ 11 n; tracemalloc for memory, the fastest of up to 8 steps without a venue for time)::

    bytes   = 115 n^2 + 20.5 n P + 150 n^2 m + S (32 n^2 + 16 n m)
    seconds = n^2 (6.0e-8 + 3.7e-11 n) + 4.6e-11 n^2 P + 7.5e-7 n^2 m      (one step without a venue)

The ``n^2 m`` terms came with issue 11 (7 December 2026): the spoils of every ordered pair's war, issue by
issue, and the expected balance of power over the target's defenders (enumerated within a fixed budget of
terms); measured at 20 issues: 133 MiB and 0.18 s a step at n = 200, 346 MiB and 0.55 s at 400, 1.8 GiB and
3.6 s at 800 (P ~ 60), on a machine running other jobs. The time term was refitted on 8 December 2026, when the
settlement frontier of every pair's next meeting (``sim.rules.frontier``, ``n x n x m`` candidates) entered each
step: the fastest step without a venue 0.53 s at n = 200 (median 0.68 s) and 1.4 s at 300 (median 2.3 s), against
0.20 s and 0.46 s from the old coefficient 2.5e-7.

115 n^2 is the model (35 n^2, measured 1.6 MiB at n = 200, 83 MiB at 1,600) plus a step's
temporaries (80 n^2 + 20.5 n P: 195 MiB at n = 1,600, P = 58; 188 MiB at n = 800, P = 8,901). Time:
measured 3.1 ms at n = 200, 0.23 s at 1,600, 2.1 s at 3,200 and 9.8 s at 5,000 (P ~ 60), 0.45 s at
800 with P = 8,901; the formula is within a factor of two of each. A step with a venue takes about
twice as long. Those figures predate issue 11. At 10,000 actors and 20 issues (P = 60) the formula gave 12 GiB
for the model and one step and 43 s per step before it (the issue reported 12 GB and 253 s on another machine);
with the n^2 m terms it gives 293 GiB and about 1,540 s, far beyond what this model can run. These are
estimates for a warning, not guarantees: a run that ends early keeps fewer steps. Nothing here imports Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.scenario import Scenario

# Stated limits: above either, `dipsim run` and `dipsim validate` warn (and still run).
MAX_MODEL_BYTES = 2 * 2**30  # memory of one model run to its horizon
MAX_STEP_SECONDS = 1.0  # one step without a venue

# Coefficients of the fit in the module doc.
BYTES_PER_DYAD = 115.0  # model and a step's temporaries
BYTES_PER_ACTOR_PAIR = 20.5  # per actor and competence pair: the war values' temporaries
BYTES_KEPT_PER_DYAD_STEP = 32.0  # trust, rungs and the two belief bounds copied by the data collector each step
BYTES_PER_DYAD_ISSUE = 150.0  # issue 11's spoils: what each victory brings on each issue, and its temporaries
BYTES_KEPT_PER_POSITION_STEP = 16.0  # positions and demands copied each step
SECONDS_PER_DYAD = 6.0e-8
SECONDS_PER_DYAD_ACTOR = 3.7e-11  # the cost of an element grows as the arrays outgrow the caches
SECONDS_PER_DYAD_PAIR = 4.6e-11
SECONDS_PER_DYAD_ISSUE = 7.5e-7  # the spoils, and (since 8 December 2026) each pair's settlement frontier


@dataclass(frozen=True)
class SizeEstimate:
    """A scenario's size and its estimated peak memory (a run to the horizon) and time per step."""

    actors: int
    issues: int
    pairs: int  # competence pairs (actor, issue)
    steps: int  # steps to the horizon
    model_bytes: float
    step_seconds: float

    @property
    def too_big(self) -> bool:
        return self.model_bytes > MAX_MODEL_BYTES or self.step_seconds > MAX_STEP_SECONDS

    def warning(self, file: str) -> str | None:
        """The warning line for ``file`` when either limit is exceeded, else None."""
        if not self.too_big:
            return None
        return (
            f"warning: {file}: {self.actors:,} actors × {self.issues:,} issues: about "
            f"{self.model_bytes / 2**30:.1f} GiB for a run of {self.steps:,} steps and "
            f"{self.step_seconds:.2g} s per step, above the limit of {MAX_MODEL_BYTES / 2**30:g} GiB per model "
            f"or {MAX_STEP_SECONDS:g} s per step; it will run, slowly"
        )


def estimate(actors: int, issues: int, pairs: int, steps: int) -> SizeEstimate:
    """The estimate for ``actors`` actors, ``issues`` issues, ``pairs`` competence pairs and a horizon of
    ``steps`` steps (the formula of the module doc)."""
    n, m, p, s = float(actors), float(issues), float(pairs), float(steps)
    kept = s * (BYTES_KEPT_PER_DYAD_STEP * n * n + BYTES_KEPT_PER_POSITION_STEP * n * m)
    model_bytes = BYTES_PER_DYAD * n * n + BYTES_PER_ACTOR_PAIR * n * p + BYTES_PER_DYAD_ISSUE * n * n * m + kept
    step_seconds = n * n * (SECONDS_PER_DYAD + SECONDS_PER_DYAD_ACTOR * n) + SECONDS_PER_DYAD_PAIR * n * n * p
    step_seconds += SECONDS_PER_DYAD_ISSUE * n * n * m
    return SizeEstimate(actors, issues, pairs, steps, model_bytes, step_seconds)


def competence_pairs(sc: Scenario) -> int:
    """(actor, issue) pairs whose consent an agreement needs, counted as the model does: an issue's
    ``competence`` list, or else every actor with a position of positive salience on it."""
    holders: dict[str, int] = {}
    for a in sc.actors:
        for iid, pos in a.positions.items():
            if pos.salience > 0:
                holders[iid] = holders.get(iid, 0) + 1
    return sum(len(set(i.competence)) if i.competence else holders.get(i.id, 0) for i in sc.issues)


def scenario_estimate(sc: Scenario, max_steps: int | None = None) -> SizeEstimate:
    """The estimate for a validated scenario, run to its horizon or for at most ``max_steps`` steps."""
    steps = sc.calendar.n_steps if max_steps is None else min(max_steps, sc.calendar.n_steps)
    return estimate(len(sc.actors), len(sc.issues), competence_pairs(sc), steps)
