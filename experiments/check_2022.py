"""Emergent-behaviour checks of the 2022 scenario over many seeds (issue 2's acceptance figures).

``python -m experiments.check_2022 [--seeds 200] [--workers 2] [--sensitivity]`` prints, for the
bundled scenario under default parameters: how often NATO enlargement is agreed, how often the
openings of the week of talks appear by 14 January, the share of runs escalating before
14 January and by 28 February; the paired counterfactuals (no Russian enlargement red line;
Russia-US and Russia-NATO trust at 0.8) with McNemar tests; and, with ``--sensitivity``, the
escalation probability with each parameter moved 20% down and up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.stats import binomtest

from sim import DiplomacyModel, load_scenario
from sim.params import Parameters

OPENINGS = ("missiles", "exercises", "communication")
ENLARGEMENT = ("nato_ukraine", "nato_georgia")
WEEK_END = dt.date(2022, 1, 14)
COUNTERFACTUALS: dict[str, dict[str, object]] = {
    "baseline": {},
    "no Russian enlargement red line": {f"actors.RUS.positions.{i}.red_line": None for i in ENLARGEMENT},
    "Russia-US/NATO trust 0.8": {
        f"trust.{a}.{b}": 0.8 for a, b in (("RUS", "USA"), ("USA", "RUS"), ("RUS", "NATO"), ("NATO", "RUS"))
    },
}


# Scenario numbers that are modelling assumptions, for --assumptions: path -> value in the file.
ASSUMPTIONS: dict[str, float] = {
    "actors.RUS.conflict_cost.high": 0.6,
    "actors.RUS.capability": 1.0,
    "actors.UKR.capability": 0.25,
    "actors.RUS.positions.nato_ukraine.salience": 1.0,
    "actors.USA.threats.0.cost": 0.1,
    "trust.RUS.USA": 0.2,
}


@dataclass(frozen=True)
class RunSummary:
    escalated: bool
    escalated_before_week_end: bool
    enlargement_agreed: bool
    opening_by_week_end: bool


def run_one(seed: int, overrides: dict[str, object], params: dict[str, float]) -> RunSummary:
    """One run; the openings are read on the evening of 13 January."""
    model = DiplomacyModel(load_scenario(None, overrides or None), rng=seed, **params)
    while model.running and model.config.calendar.date_of(model.day) < WEEK_END:
        model.step()
    rus, usa = model.index_of["RUS"], model.index_of["USA"]
    opening = False
    for issue in OPENINGS:
        j = model.issue_index[issue]
        before = abs(model.initial_position[rus, j] - model.initial_position[usa, j])
        now = abs(model.position[rus, j] - model.position[usa, j])
        opening |= bool(model.agreed[j]) or (before > 0 and now <= before / 2)
    result = model.run()
    date = dt.date.fromisoformat(result.escalation["date"]) if result.escalation else None
    return RunSummary(
        escalated=result.escalated,
        escalated_before_week_end=date is not None and date < WEEK_END,
        enlargement_agreed=any(a["issue"] in ENLARGEMENT for a in result.agreements),
        opening_by_week_end=opening,
    )


def run_many(seeds: int, overrides: dict[str, object], params: dict[str, float], workers: int) -> list[RunSummary]:
    # forkserver: forking a process that already runs threads (numpy, pytest) can deadlock.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        return list(pool.map(partial(run_one, overrides=overrides, params=params), range(seeds), chunksize=10))


def mcnemar_p(base: np.ndarray, other: np.ndarray) -> float:
    """Exact McNemar test on paired binary outcomes: a binomial test on the discordant pairs."""
    b, c = int(np.sum(base & ~other)), int(np.sum(~base & other))
    return 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sensitivity", action="store_true", help="also move each parameter 20%% down and up")
    ap.add_argument(
        "--assumptions", action="store_true", help="also move key assumed scenario numbers 20%% down and up"
    )
    args = ap.parse_args(argv)

    base = None
    for name, overrides in COUNTERFACTUALS.items():
        runs = run_many(args.seeds, overrides, {}, args.workers)
        esc = np.array([r.escalated for r in runs])
        early = np.mean([r.escalated_before_week_end for r in runs])
        line = (
            f"{name:34s} escalation {esc.mean():.3f}  before 14 Jan {early:.3f}"
            f"  enlargement agreed in {sum(r.enlargement_agreed for r in runs)} runs"
            f"  openings by 14 Jan {np.mean([r.opening_by_week_end for r in runs]):.3f}"
        )
        if base is None:
            base = esc
        else:
            line += f"  change {esc.mean() - base.mean():+.3f} (McNemar p = {mcnemar_p(base, esc):.2g})"
        print(line, flush=True)
    if args.sensitivity:
        defaults = Parameters().model_dump()
        for pname, value in defaults.items():
            for factor in (0.8, 1.2):
                field = Parameters.model_fields[pname]
                try:
                    Parameters(**{pname: value * factor})
                except ValueError:
                    print(f"{pname:18s} x{factor}: {value * factor:.4g} is outside the documented range", flush=True)
                    continue
                runs = run_many(args.seeds, {}, {pname: value * factor}, args.workers)
                esc = np.mean([r.escalated for r in runs])
                print(
                    f"{pname:18s} x{factor}: {value * factor:<8.4g} escalation {esc:.3f}"
                    f"  before 14 Jan {np.mean([r.escalated_before_week_end for r in runs]):.3f}"
                    f"  ({field.description})",
                    flush=True,
                )
    if args.assumptions:
        for path, value in ASSUMPTIONS.items():
            for factor in (0.8, 1.2):
                new = min(value * factor, 1.0) if "salience" in path or "trust" in path else value * factor
                runs = run_many(args.seeds, {path: new}, {}, args.workers)
                esc = np.mean([r.escalated for r in runs])
                early = np.mean([r.escalated_before_week_end for r in runs])
                print(f"{path:44s} {value:g} -> {new:<6.4g} escalation {esc:.3f}  before 14 Jan {early:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
