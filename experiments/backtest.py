"""``dipsim backtest``: every crisis of a library run many times on the sweep machinery, then scored.

``backtest(folder, out, seeds, ...)`` loads the library (``experiments.library.load_library``: every scenario
with its outcome record, refused before anything runs when one is missing or bad), writes one experiment file
per crisis into ``out/experiments/`` (the crisis's scenario as authored, one point, ``seeds`` replications,
the backtest's seed) and sweeps it into ``out/<crisis id>/`` with ``experiments.sweep.sweep``: parallel,
resumable after Ctrl-C (the finished runs are kept; the same command runs only the missing ones), Parquet
parts, progress on stderr. More seeds later extend the folders (the same scenario and seed keep their runs).
The scores are then read from the folders by ``experiments.backtest_report``, over the first ``seeds``
replications of each (a smaller ``--seeds`` than a folder holds scores that many). The outcome records are
loaded and checked with the scenarios, before the first run, but no run sees them: a run reads its scenario
file only.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from experiments.backtest_report import BacktestReport, score_library
from experiments.library import LIBRARY, Crisis, load_library
from experiments.spec import load_experiment
from experiments.store import write_file
from experiments.sweep import SweepStats, sweep
from experiments.sweep_folder import OutputFolderError, is_new_folder, runs_fingerprint
from sim.options import BACKTEST_SEEDS

DEFAULT_OUT = Path("runs") / "backtest"
DEFAULT_SEED = 0  # the backtest's experiment seed; each run's seed derives from it, the crisis and the replication


@dataclass(frozen=True)
class Backtest:
    """What a backtest ran and what it scored."""

    crises: list[Crisis]
    sweeps: list[SweepStats]
    report: BacktestReport


def experiment_yaml(crisis: Crisis, seeds: int, seed: int) -> str:
    """The experiment file that runs ``crisis`` as authored: one point without overrides, ``seeds``
    replications, experiment seed ``seed`` (docs/experiments.md)."""
    doc = {
        "id": crisis.scenario.id,
        "description": f"dipsim backtest: {crisis.scenario.name}, as authored",
        "scenario": str(crisis.path.resolve()),
        "seed": seed,
        "replications": {"fixed": seeds},
        "design": {"sampler": "points", "points": [{"name": "as_authored", "set": {}}]},
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def refuse_other_runs(crises: list[Crisis], out: Path, seed: int) -> None:
    """Refuse, before anything is written, an output folder whose crisis folders hold runs of another seed or of
    another version of a crisis file (OutputFolderError naming the folder): the same command with another
    ``--seed`` would otherwise fail half-way, after overwriting the experiment files of the crises before."""
    problems = []
    for crisis in crises:
        folder = out / crisis.scenario.id
        manifest = folder / "manifest.json"
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if folder.is_dir() and not is_new_folder(folder):
                problems.append((crisis.scenario.id, "not empty and not a sweep folder (no manifest.json)"))
            elif folder.exists() and not folder.is_dir():
                problems.append((crisis.scenario.id, "exists and is not a folder"))
            continue
        except (OSError, ValueError) as exc:
            problems.append((f"{crisis.scenario.id}/manifest.json", f"cannot be read: {exc}"))
            continue
        if old.get("runs_fingerprint") != runs_fingerprint(crisis.path.resolve(), seed, None):
            problems.append(
                (
                    f"{crisis.scenario.id}/manifest.json",
                    f"holds runs of seed {old.get('seed')} or of another version of {crisis.path.name}, not of "
                    f"seed {seed} and this file: give another --out, or delete the folder to start again",
                )
            )
    if problems:
        raise OutputFolderError(str(out), problems)


def backtest(
    folder: str | Path = LIBRARY,
    out: str | Path = DEFAULT_OUT,
    seeds: int = BACKTEST_SEEDS,
    workers: int | None = None,
    seed: int = DEFAULT_SEED,
    progress: bool | None = None,
) -> Backtest:
    """Run and score the library in ``folder``; see the module docstring. A ScenarioError (a bad scenario, a
    missing or bad outcome record, bad covariates, an output folder that holds something else) is raised
    before any run; KeyboardInterrupt and ``experiments.sweep.SweepFailed`` pass through with the finished
    runs kept."""
    folder, out = Path(folder), Path(out)
    crises = load_library(folder)
    from experiments.baselines import load_covariates

    covariates = load_covariates(folder, crises)  # checked before the first run, used after the last
    refuse_other_runs(crises, out, seed)
    stats = []
    for k, crisis in enumerate(crises, start=1):
        if progress is not False:
            print(f"backtest: crisis {k}/{len(crises)}: {crisis.scenario.id}", file=sys.stderr, flush=True)
        exp_path = out / "experiments" / f"{crisis.scenario.id}.yaml"
        exp_path.parent.mkdir(parents=True, exist_ok=True)
        write_file(exp_path, experiment_yaml(crisis, seeds, seed).encode())
        stats.append(sweep(load_experiment(exp_path), out / crisis.scenario.id, workers=workers, progress=progress))
    report = score_library(crises, out, covariates, seeds)
    report.write(out)
    return Backtest(crises, stats, report)
