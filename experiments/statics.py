"""Comparative statics over the crisis library: each crisis as authored against the same crisis under an
intervention that theory says cannot move a war statistic one way, on the same seeds (issue 11's acceptance).

``python -m experiments.statics [DIR] [--seeds N] [--workers N] [--out DIR]`` writes, for every crisis of the
library (``experiments.library``), one *paired* experiment (``paired: true``: every point runs the same seeds,
so runs compare one by one) with a point per intervention, sweeps it into ``OUT/<crisis id>/`` (resumable, as
``dipsim sweep``), and prints one row per (crisis, intervention):

* ``trust_up``: every initial trust value (the default and each pair) raised by ``TRUST_STEP``, at most 1: more
  trust must not raise P(war) (trust discounts the value of a settlement, and only peace gains from it);
* ``costs_up``: every actor's cost-of-war prior scaled by ``COST_FACTOR``: a costlier war must not raise P(war)
  (Fearon 1995: the bargaining range widens with the costs);
* ``no_venues``: every venue removed: with no meeting there is no agreement and no value of talks to come, so
  P(war) must not fall;
* ``defence``: the most capable actor that can fight, other than the crisis's two sides (``side_a``, the
  challenger, and ``side_b``, the target, of ``DIR/covariates.csv``, fixed before any run: docs/authoring.md
  section 11), makes a public deterrence threat against the challenger protecting the target, at resolve 1: a
  credible defence commitment to the target must not raise P(attack on the target), the share of runs whose war
  has the target as its target (Leeds 2003; Huth 1988; design section 5 item 4). A crisis with no such actor,
  or a library without ``covariates.csv``, has no ``defence`` point.

Each row gives the intervention's statistic (``statistic``: any war, or a war on the target) as authored and
under the intervention, the discordant pairs, and the one-sided exact McNemar p-value of a move in the wrong
direction (``scipy.stats.binomtest`` on the discordant pairs); p < 0.05 is a failure of the model, not bad
luck. ``no_dispute_wars`` is the share of the as-authored runs whose war is between two actors with no issue
in dispute (no issue on which both hold a position with different ideals).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import yaml

from experiments.baselines import load_covariates
from experiments.library import LIBRARY, Crisis, load_library
from experiments.results import load_runs
from experiments.spec import load_experiment, point_id
from experiments.store import write_file
from experiments.sweep import sweep
from sim.scenario import Scenario

TRUST_STEP = 0.2
COST_FACTOR = 1.5
LEVEL = 0.05  # issue 11: "a one-sided exact McNemar p < 0.05 in the wrong direction is a failure"
DEFENCE_SOURCE = "assumption: comparative static of issue 11 (a credible defence commitment)"

#: A crisis's principal dyad (``side_a``, ``side_b``) from ``covariates.csv``: the challenger and the target.
Sides = tuple[str, str]


def trust_up(sc: Scenario) -> dict[str, Any]:
    """Every initial trust value raised by ``TRUST_STEP`` (at most 1): the default and each pair set."""
    extra = sc.trust.__pydantic_extra__ or {}
    out: dict[str, Any] = {"trust.default": min(1.0, sc.trust.default + TRUST_STEP)}
    for a, row in extra.items():
        for b, v in row.items():
            out[f"trust.{a}.{b}"] = min(1.0, float(v) + TRUST_STEP)
    return out


def costs_up(sc: Scenario) -> dict[str, Any]:
    """Every actor's cost prior scaled by ``COST_FACTOR`` (its bounds and mode; the schema's cap of 10 kept)."""
    out: dict[str, Any] = {}
    for a in sc.actors:
        c = a.conflict_cost
        for name in ("low", "mode", "high"):
            value = getattr(c, name)
            if value is not None and not (c.distribution == "fixed" and name != "low"):
                out[f"actors.{a.id}.conflict_cost.{name}"] = round(min(10.0, value * COST_FACTOR), 6)
    return out


def no_venues(sc: Scenario) -> dict[str, Any]:
    """Every venue removed."""
    return {f"venues.{v.id}": None for v in sc.venues}


def defender(sc: Scenario, sides: Sides) -> str | None:
    """The most capable actor that can fight (any kind but an organisation) other than the two sides, the
    first in the file on a tie; None when there is none."""
    fighters = [a for a in sc.actors if a.kind != "organisation" and a.id not in sides]
    return max(fighters, key=lambda a: a.capability).id if fighters else None


def defence(sc: Scenario, sides: Sides | None) -> dict[str, Any]:
    """The defender (``defender``) adds a public deterrence threat against the challenger ``sides[0]``
    protecting the target ``sides[1]`` (cost 1) and its resolve is set to 1, so that it joins a war on the
    target with the full alliance reliability (``sim.rules.coalitions.reliability``: ``r0 * resolve *
    min(1, cost)``). No overrides without sides or without a defender. Resolve 1 also strengthens any threat
    the defender had already made (its sanctions costs and its other commitments scale with resolve).

    Why P(attack on the target) must not rise: a defensive alliance of the target deters initiation (Leeds
    2003), as a protector's credible threat deters attacks on its protege (Huth 1988); in the model the defender
    only joins the target's side, so every attacker's value of attacking the target falls and the value of a war
    the target starts does not move (docs/design/bargaining.md section 5 item 4).

    The defender is replaced as a whole (``actors.<id>``, its validated fields as plain data): a dotted path
    must exist in the file (``sim.loading.apply_overrides``), and an actor may be written without ``threats``
    or ``traits``."""
    if sides is None or (who := defender(sc, sides)) is None:
        return {}
    actor = next(a for a in sc.actors if a.id == who).model_dump(mode="json")
    actor["threats"].append(
        {"kind": "deterrence", "target": sides[0], "protects": [sides[1]], "cost": 1.0, "source": DEFENCE_SOURCE}
    )
    actor["traits"]["resolve"] = 1.0
    return {f"actors.{who}": actor}


def war(runs: pd.DataFrame, sides: Sides | None) -> pd.Series:
    """Per run of ``runs`` (``experiments.results.load_runs``): whether it ended in war, between any two actors
    (``sides`` is not read)."""
    return runs["outcome"] == "escalation"


def war_on_target(runs: pd.DataFrame, sides: Sides | None) -> pd.Series:
    """Per run: whether it ended in a war whose target (``escalation_target``) is ``sides[1]``, whoever
    attacked; never without sides."""
    if sides is None:
        return pd.Series(False, index=runs.index)
    return war(runs, sides) & (runs["escalation_target"] == sides[1])


class Intervention(NamedTuple):
    """An intervention: its overrides of a crisis, the statistic it acts on (per run, from the runs frame), that
    statistic's name in the table, and the direction it must not move (+1: must not rise; -1: must not fall)."""

    make: Callable[[Scenario, Sides | None], dict[str, Any]]
    outcome: Callable[[pd.DataFrame, Sides | None], pd.Series]
    statistic: str
    direction: int


#: Each intervention by name; the first three need only the scenario and count every war.
INTERVENTIONS: dict[str, Intervention] = {
    "trust_up": Intervention(lambda sc, _: trust_up(sc), war, "war", +1),
    "costs_up": Intervention(lambda sc, _: costs_up(sc), war, "war", +1),
    "no_venues": Intervention(lambda sc, _: no_venues(sc), war, "war", -1),
    "defence": Intervention(defence, war_on_target, "war on side_b", +1),
}


def experiment_yaml(crisis: Crisis, seeds: int, seed: int, sides: Sides | None) -> str:
    """The paired experiment of one crisis with principal dyad ``sides``: the scenario as authored and one point
    per intervention that changes it."""
    points = [{"name": "as_authored", "set": {}}]
    points += [{"name": name, "set": iv.make(crisis.scenario, sides)} for name, iv in INTERVENTIONS.items()]
    doc = {
        "id": crisis.scenario.id,
        "description": f"comparative statics of {crisis.scenario.name}",
        "scenario": str(crisis.path.resolve()),
        "seed": seed,
        "paired": True,
        "replications": {"fixed": seeds},
        "design": {"sampler": "points", "points": [p for p in points if p["name"] == "as_authored" or p["set"]]},
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def disputed(sc: Scenario) -> set[frozenset[str]]:
    """The pairs of actors with an issue in dispute: both hold a position on it, with different ideals."""
    ideal = {(a.id, j): p.ideal for a in sc.actors for j, p in a.positions.items() if p.salience > 0}
    ids = sc.actor_ids
    return {
        frozenset((a, b))
        for a in ids
        for b in ids
        if a < b and any((a, j) in ideal and (b, j) in ideal and ideal[a, j] != ideal[b, j] for j in sc.issue_ids)
    }


def mcnemar_wrong_way(
    base: pd.Series | np.ndarray, other: pd.Series | np.ndarray, direction: int
) -> tuple[int, int, float]:
    """Discordant pairs (base war only, other war only) and the one-sided exact McNemar p-value of a move in
    the wrong direction: P(X >= wrong) with X ~ Binomial(discordant, 1/2)."""
    from scipy.stats import binomtest

    only_base = int((base & ~other).sum())
    only_other = int((other & ~base).sum())
    wrong = only_other if direction > 0 else only_base
    n = only_base + only_other
    p = binomtest(wrong, n, 0.5, alternative="greater").pvalue if n else 1.0
    return only_base, only_other, float(p)


def crisis_rows(crisis: Crisis, out: Path, seeds: int, sides: Sides | None) -> list[dict[str, Any]]:
    """One row per intervention of one crisis (principal dyad ``sides``), from its paired folder."""
    runs = load_runs(out, columns=["point_id", "replication", "outcome", "escalation_actor", "escalation_target"])
    runs = runs[runs["replication"] < seeds]
    base_id = point_id({})
    mine = runs[(runs["point_id"] == base_id) & (runs["outcome"] == "escalation")]
    pairs = disputed(crisis.scenario)
    quiet = sum(
        frozenset(p) not in pairs for p in zip(mine["escalation_actor"], mine["escalation_target"], strict=True)
    )
    rows = []
    for name, iv in INTERVENTIONS.items():
        overrides = iv.make(crisis.scenario, sides)
        if not overrides:
            continue  # e.g. no venue to remove
        hits = runs.assign(hit=iv.outcome(runs, sides)).pivot(index="replication", columns="point_id", values="hit")
        base = hits[base_id].astype(bool)
        other = hits[point_id(overrides)].astype(bool)
        only_base, only_other, p = mcnemar_wrong_way(base, other, iv.direction)
        rows.append(
            {
                "crisis": crisis.scenario.id,
                "intervention": name,
                "statistic": iv.statistic,
                "must_not": "rise" if iv.direction > 0 else "fall",
                "p_war": base.mean(),
                "p_war_after": other.mean(),
                "war_only_before": only_base,
                "war_only_after": only_other,
                "p_wrong_way": p,
                "failed": p < LEVEL,
                "no_dispute_wars": quiet / len(base),
            }
        )
    return rows


def statics(folder: Path, out: Path, seeds: int, workers: int | None, seed: int = 0) -> pd.DataFrame:
    """Run and read the comparative statics of the library in ``folder``; see the module docstring."""
    crises = load_library(folder)
    covariates = load_covariates(folder, crises)  # the sides; checked before the first run; None: no defence
    rows = []
    for k, crisis in enumerate(crises, start=1):
        print(f"statics: crisis {k}/{len(crises)}: {crisis.scenario.id}", file=sys.stderr, flush=True)
        cov = None if covariates is None else covariates[crisis.scenario.id]
        sides = None if cov is None else (cov.side_a, cov.side_b)
        path = out / "experiments" / f"{crisis.scenario.id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, experiment_yaml(crisis, seeds, seed, sides).encode())
        sweep(load_experiment(path), out / crisis.scenario.id, workers=workers, progress=None)
        rows += crisis_rows(crisis, out / crisis.scenario.id, seeds, sides)
    table = pd.DataFrame(rows)
    table.to_csv(out / "statics.csv", index=False)
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.statics", description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", default=str(LIBRARY), help="crisis library (default: configs/crises)")
    ap.add_argument("--seeds", type=int, default=200, help="paired runs per crisis and point (default: 200)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: every core)")
    ap.add_argument("--out", default="runs/statics", help="output folder (default: runs/statics)")
    args = ap.parse_args(argv)
    table = statics(Path(args.dir), Path(args.out), args.seeds, args.workers)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    failed = table[table["failed"]]
    print(
        f"\n{len(failed)} of {len(table)} comparisons move their statistic the wrong way "
        f"(one-sided McNemar p < {LEVEL})"
    )
    print(
        f"runs at war with no issue in dispute: {table.groupby('crisis')['no_dispute_wars'].first().max():.1%} at most"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
