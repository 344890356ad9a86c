"""Sweep folders for the report and the sweep page's tests. ``write_sweep``: synthetic output folders of
``dipsim sweep``, written to the contract of docs/experiments.md, whose runs are Bernoulli draws with a known
escalation probability per point, so reports of them can be checked exactly. ``grid_experiment``: a small
experiment file for a real sweep of the 2022 scenario."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

SCENARIO_2022 = Path(__file__).resolve().parent.parent / "configs" / "european_security_2022.yaml"
HORIZON = 60
TRUST = "trust.RUS.USA"
RESOLVE = "actors.USA.traits.resolve"


def canonical(overrides: dict[str, Any]) -> str:
    return json.dumps(overrides, sort_keys=True, separators=(",", ":"))


def point_id(overrides: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(overrides).encode()).hexdigest()[:16]


def run_seed(experiment_seed: int, pid: str, r: int) -> int:
    s = np.random.SeedSequence(entropy=experiment_seed, spawn_key=(int(pid, 16), r)).generate_state(2, np.uint32)
    return int(s[0]) | (int(s[1]) & 0x7FFFFFFF) << 32


def write_sweep(
    out: Path,
    values: list[dict[str, Any]],
    p_of: Callable[[dict[str, Any]], float],
    reps: int = 40,
    names: list[str] | None = None,
    salib: dict[str, Any] | None = None,
    design_rows: list[int] | None = None,
    error_every: int = 0,
    shuffle_points: bool = False,
    seed: int = 7,
    part_rows: int = 700,
    horizon: int | None = None,
    end_early: bool = False,
) -> Path:
    """A sweep output folder: manifest, points, runs in several parts, summary. Runs are Bernoulli(p_of(point)).

    SALib designs (``salib``: sampler, problem, calc_second_order, num_levels) are stored as the runner does:
    manifest sampler/salib_problem, design.parquet, levels in experiment.yaml. ``horizon`` goes in the manifest;
    ``end_early``: every run that does not escalate ends in an agreement before step HORIZON.
    """
    paths = sorted({k for v in values for k in v}) if names else list(values[0])
    points: dict[str, dict[str, Any]] = {}
    for k, v in enumerate(values):
        pid = point_id(v)
        row = points.setdefault(pid, {"point_id": pid, "set": canonical(v), **{p: v.get(p) for p in paths}})
        if names:
            row["name"] = names[k]
    rows = []
    n = 0
    for pid, pt in points.items():
        values_here = {p: pt[p] for p in paths}
        p = p_of(values_here)
        for r in range(reps):
            s = run_seed(seed, pid, r)
            rng = np.random.default_rng(s)
            base = {"point_id": pid, "replication": r, "seed": s, "set": pt["set"], **values_here}
            n += 1
            if error_every and n % error_every == 0:
                rows.append(
                    {
                        **base,
                        "outcome": None,
                        "escalated": None,
                        "escalation_step": np.nan,
                        "escalation_date": None,
                        "max_rung": None,
                        "max_rung_score": np.nan,
                        "agreed_issues": None,
                        "steps_run": 0,
                        "wall_time": 0.001,
                        "error": "ValueError: boom",
                    }
                )
                continue
            escalated = bool(rng.random() < p)
            step = int(rng.integers(0, HORIZON)) if escalated else None
            agreed = not escalated and (end_early or rng.random() < 0.3)
            steps_run = step + 1 if escalated else (int(rng.integers(5, HORIZON)) if agreed else HORIZON)
            rows.append(
                {
                    **base,
                    "outcome": "escalation" if escalated else "agreement" if agreed else "stalemate",
                    "escalated": escalated,
                    "escalation_step": float(step) if escalated else np.nan,
                    "escalation_date": f"2022-01-{1 + step % 28:02d}" if escalated else None,
                    "max_rung": "war" if escalated else "threat",
                    "max_rung_score": 1.0 if escalated else 0.4,
                    "agreed_issues": "arms,nato" if agreed else "",
                    "steps_run": steps_run,
                    "wall_time": 0.01,
                    "error": None,
                }
            )
    runs = pd.DataFrame(rows)
    runs["escalated"] = runs["escalated"].astype("boolean")
    (out / "runs").mkdir(parents=True)
    for k, start in enumerate(range(0, len(runs), part_rows)):
        runs.iloc[start : start + part_rows].to_parquet(out / "runs" / f"part-{k:05d}.parquet", index=False)
    (out / "runs" / "part-99999.parquet.tmp").write_bytes(b"half-written")  # must be ignored

    pts = pd.DataFrame(list(points.values()))
    if shuffle_points:
        pts = pts.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pts.to_parquet(out / "points.parquet", index=False)

    # What the runner would write as summary.parquet (not read by the report; compared in a test).
    ok = runs["error"].isna()
    g = runs.assign(ok=ok, esc=runs["escalated"].fillna(False) & ok).groupby("point_id")
    summ = pd.DataFrame({"runs": g.size(), "errors": g.size() - g["ok"].sum(), "escalations": g["esc"].sum()})
    nn = summ["runs"] - summ["errors"]
    summ["p_escalation"] = summ["escalations"] / nn
    with np.errstate(divide="ignore", invalid="ignore"):  # a point whose runs all raised: n = 0, NaN bounds
        summ["ci_low"], summ["ci_high"] = proportion_confint(summ["escalations"], nn, method="wilson")
    summ.reset_index().to_parquet(out / "summary.parquet", index=False)

    manifest: dict[str, Any] = {
        "experiment_file": "synthetic.yaml",
        "experiment_sha256": "0" * 64,
        "paths": paths,
        "horizon": horizon,
    }
    if salib:
        manifest.update(
            sampler=salib["sampler"], salib_problem=salib["problem"], calc_second_order=salib.get("calc_second_order")
        )
        design = pd.DataFrame({"row": design_rows, "point_id": [point_id(v) for v in values]})
        for name in salib["problem"]["names"]:
            design[name] = [v[name] for v in values]
        design.to_parquet(out / "design.parquet", index=False)
        levels = f"\n  levels: {salib['num_levels']}" if "num_levels" in salib else ""
        (out / "experiment.yaml").write_text(f"id: synthetic\ndesign:\n  sampler: {salib['sampler']}{levels}\n")
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def grid_values() -> list[dict[str, Any]]:
    return [{TRUST: t, RESOLVE: r} for t in (0.1, 0.3, 0.5, 0.9) for r in (0.4, 0.8)]


def grid_p(v: dict[str, Any]) -> float:
    return 0.8 * (1 - v[TRUST]) * v[RESOLVE]


def grid_experiment(path: Path, resolve: list[float], seed: int = 5, reps: int = 4) -> Path:
    """An experiment file: Russia's trust in the US (0.1, 0.5, 0.9) x US resolve (``resolve``) on the 2022
    scenario, ``reps`` runs per point."""
    grid = {TRUST: [0.1, 0.5, 0.9], RESOLVE: resolve}
    spec = {
        "id": path.stem,
        "scenario": str(SCENARIO_2022),
        "seed": seed,
        "replications": {"fixed": reps},
        "design": {"sampler": "grid", "grid": grid},
    }
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")  # JSON is YAML
    return path
