"""Comparative statics over the crisis library: each crisis as authored against the same crisis under an
intervention that theory says cannot move P(war) one way, on the same seeds (issue 11's acceptance).

``python -m experiments.statics [DIR] [--seeds N] [--workers N] [--out DIR]`` writes, for every crisis of the
library (``experiments.library``), one *paired* experiment (``paired: true``: every point runs the same seeds,
so runs compare one by one) with a point per intervention, sweeps it into ``OUT/<crisis id>/`` (resumable, as
``dipsim sweep``), and prints one row per (crisis, intervention):

* ``trust_up``: every initial trust value (the default and each pair) raised by ``TRUST_STEP``, at most 1: more
  trust must not raise P(war) (trust discounts the value of a settlement, and only peace gains from it);
* ``costs_up``: every actor's cost-of-war prior scaled by ``COST_FACTOR``: a costlier war must not raise P(war)
  (Fearon 1995: the bargaining range widens with the costs);
* ``no_venues``: every venue removed: with no meeting there is no agreement and no value of talks to come, so
  P(war) must not fall.

Each row gives P(war) as authored and under the intervention, the discordant pairs, and the one-sided exact
McNemar p-value of a move in the wrong direction (``scipy.stats.binomtest`` on the discordant pairs); p < 0.05
is a failure of the model, not bad luck. ``no_dispute_wars`` is the share of the as-authored runs whose war is
between two actors with no issue in dispute (no issue on which both hold a position with different ideals).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from experiments.library import LIBRARY, Crisis, load_library
from experiments.results import load_runs
from experiments.spec import load_experiment, point_id
from experiments.store import write_file
from experiments.sweep import sweep
from sim.scenario import Scenario

TRUST_STEP = 0.2
COST_FACTOR = 1.5
LEVEL = 0.05  # issue 11: "a one-sided exact McNemar p < 0.05 in the wrong direction is a failure"


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


#: Each intervention: its overrides, and the direction P(war) must not move (+1: must not rise; -1: not fall).
INTERVENTIONS: dict[str, tuple[Callable[[Scenario], dict[str, Any]], int]] = {
    "trust_up": (trust_up, +1),
    "costs_up": (costs_up, +1),
    "no_venues": (no_venues, -1),
}


def experiment_yaml(crisis: Crisis, seeds: int, seed: int) -> str:
    """The paired experiment of one crisis: the scenario as authored and one point per intervention."""
    points = [{"name": "as_authored", "set": {}}]
    points += [{"name": name, "set": make(crisis.scenario)} for name, (make, _) in INTERVENTIONS.items()]
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


def crisis_rows(crisis: Crisis, out: Path, seeds: int) -> list[dict[str, Any]]:
    """One row per intervention of one crisis, from its paired folder."""
    runs = load_runs(out, columns=["point_id", "replication", "outcome", "escalation_actor", "escalation_target"])
    runs = runs[runs["replication"] < seeds]
    wars = runs.assign(war=runs["outcome"] == "escalation").pivot(index="replication", columns="point_id", values="war")
    base_id = point_id({})
    base = wars[base_id].astype(bool)
    mine = runs[(runs["point_id"] == base_id) & (runs["outcome"] == "escalation")]
    pairs = disputed(crisis.scenario)
    quiet = sum(
        frozenset(p) not in pairs for p in zip(mine["escalation_actor"], mine["escalation_target"], strict=True)
    )
    rows = []
    for name, (make, direction) in INTERVENTIONS.items():
        overrides = make(crisis.scenario)
        if not overrides:
            continue  # e.g. no venue to remove
        other = wars[point_id(overrides)].astype(bool)
        only_base, only_other, p = mcnemar_wrong_way(base, other, direction)
        rows.append(
            {
                "crisis": crisis.scenario.id,
                "intervention": name,
                "must_not": "rise" if direction > 0 else "fall",
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
    rows = []
    for k, crisis in enumerate(crises, start=1):
        print(f"statics: crisis {k}/{len(crises)}: {crisis.scenario.id}", file=sys.stderr, flush=True)
        path = out / "experiments" / f"{crisis.scenario.id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file(path, experiment_yaml(crisis, seeds, seed).encode())
        sweep(load_experiment(path), out / crisis.scenario.id, workers=workers, progress=None)
        rows += crisis_rows(crisis, out / crisis.scenario.id, seeds)
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
    print(f"\n{len(failed)} of {len(table)} comparisons move P(war) the wrong way (one-sided McNemar p < {LEVEL})")
    print(
        f"runs at war with no issue in dispute: {table.groupby('crisis')['no_dispute_wars'].first().max():.1%} at most"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
