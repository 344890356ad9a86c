"""One output folder of ``dipsim sweep``, read and checked once (``read_sweep``), and what its points are: the
paths they vary, whether they are named, and a short unique label for each.

The folder follows docs/experiments.md and is read with ``experiments.results`` (which does not import the
model), only through the folder's own files (``experiments.folder``) and only from the part files whose checksums
hold (``experiments.store``): a sweep may still be writing the folder, so a reader never changes it. Statistics
(``experiments.statistics``), figures (``experiments.figures``), the text report (``experiments.report``) and
the browser's sweep page all start from the :class:`Sweep` read here.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.folder import OutsideFolder, inside, status_of
from experiments.results import DuplicateRowsWarning, load_manifest, load_points, load_runs
from experiments.store import Damage, verified_parts
from sim.messages import ScenarioError

#: Columns of points.parquet that are not parameter paths.
POINT_COLUMNS = ("point_id", "name", "set")
#: Run columns the report reads (a subset keeps memory down on large sweeps).
READ_RUN_COLUMNS = ("point_id", "replication", "escalated", "escalation_step", "steps_run", "error", "agreed_issues")


@dataclass
class Sweep:
    """One output folder, read once: manifest, points, per-run rows and the varied paths."""

    out: Path
    manifest: dict[str, Any]
    points: pd.DataFrame
    runs: pd.DataFrame
    paths: list[str]
    design: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    parts: list[Path] | None = None  # the sound part files the runs were read from (None: every part)
    damaged: list[Damage] = field(default_factory=list)  # the parts left out, and why

    @property
    def sampler(self) -> str | None:
        """grid | points | lhs | sobol | morris, as the manifest says (None if it does not)."""
        s = self.manifest.get("sampler")
        return s if isinstance(s, str) else None


def _read_parquet(out: Path, name: str, read: Any) -> pd.DataFrame:
    """``read(out)`` for the Parquet file ``name``; a damaged file is a ScenarioError naming it."""
    try:
        return read(out)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ScenarioError(str(out), [(name, f"unreadable Parquet file: {exc}")]) from None


NOT_SWEEP = "not the output folder of `dipsim sweep`"


def check_folder(out: str | Path) -> Path:
    """``out`` if it is a folder with a manifest.json (a sweep's, possibly with no runs yet), else ScenarioError."""
    out = Path(out)
    file = str(out)
    if not out.exists():
        raise ScenarioError(file, [("", "no such folder")])
    if not out.is_dir():
        raise ScenarioError(file, [("", f"not a folder ({NOT_SWEEP})")])
    for name in ("manifest.json", "runs", "points.parquet", "summary.parquet", "design.parquet"):
        try:
            inside(out, name)  # the folder's own files only: no link out of it is followed
        except OutsideFolder as exc:
            raise ScenarioError(file, [(name, str(exc).removeprefix(f"{out}: {name}: "))]) from None
    if not (out / "manifest.json").is_file():
        raise ScenarioError(file, [("manifest.json", f"missing: {NOT_SWEEP}")])
    return out


def read_sweep(out: str | Path) -> Sweep:
    """Read an output folder of ``dipsim sweep``; ScenarioError naming the folder if it is not one."""
    out = check_folder(out)
    file = str(out)
    try:
        manifest = load_manifest(out)
    except (OSError, ValueError) as exc:
        raise ScenarioError(file, [("manifest.json", f"unreadable: {exc}")]) from None
    if not isinstance(manifest, dict):
        raise ScenarioError(file, [("manifest.json", "not a JSON object")])
    if not (out / "runs").is_dir():
        raise ScenarioError(file, [("runs", f"missing: {NOT_SWEEP}")])
    status, unrecorded = status_of(out, manifest)
    manifest = {**manifest, "status": status}
    parts, damaged = verified_parts(out)  # a reader never moves a part: a sweep may be writing this folder
    with warnings.catch_warnings(record=True) as repeated:
        warnings.simplefilter("always", DuplicateRowsWarning)
        runs = _read_parquet(out, "runs", lambda o: load_runs(o, columns=list(READ_RUN_COLUMNS), parts=parts))
    if runs.empty and damaged:
        problems = [(f"runs/{d.path.name}", d.reason) for d in damaged]
        raise ScenarioError(file, [*problems, ("runs", f"no sound part left: {_resume_hint(manifest, out)}")])
    if runs.empty:
        raise ScenarioError(file, [("runs", "no run rows yet (runs/part-*.parquet)")])
    if not (out / "points.parquet").is_file():
        raise ScenarioError(file, [("points.parquet", f"missing: {NOT_SWEEP}")])
    points = _read_parquet(out, "points.parquet", load_points)
    design = None
    if (out / "design.parquet").is_file():  # sobol/morris: the sample matrix with the point each row ran as
        design = _read_parquet(out, "design.parquet", lambda o: pd.read_parquet(o / "design.parquet"))

    notes = [f"warning: {d}; left out of this report" for d in damaged]
    notes += [f"warning: {w.message}" for w in repeated if issubclass(w.category, DuplicateRowsWarning)]
    if unrecorded is not None:
        notes.append(f"status: interrupted ({unrecorded}); {_resume_hint(manifest, out, 'finish it')}")
    if damaged:
        notes.append(f"{len(damaged)} damaged part(s): {_resume_hint(manifest, out)}")
    unknown = list(dict.fromkeys(runs.loc[~runs["point_id"].isin(points["point_id"]), "point_id"]))
    if unknown:
        # The runner writes points.parquet once: points added to the experiment later are only in runs/.
        notes.append(f"warning: {len(unknown)} point id(s) in runs/ are not in points.parquet")
        points = pd.concat([points, pd.DataFrame({"point_id": unknown})], ignore_index=True)
    paths = [c for c in points.columns if c not in POINT_COLUMNS]
    listed = manifest.get("paths")
    if isinstance(listed, list) and set(listed) <= set(paths):
        paths = [str(p) for p in listed]  # the experiment's order
    return Sweep(
        out=out,
        manifest=manifest,
        points=points,
        runs=runs,
        paths=paths,
        design=design,
        notes=notes,
        parts=parts,
        damaged=damaged,
    )


def _resume_hint(manifest: dict[str, Any], out: Path, why: str = "") -> str:
    """How to set damaged parts aside and run their runs again (or ``why``): the same sweep once more."""
    experiment = manifest.get("experiment_file") or "EXPERIMENT"
    why = why or "set them aside (kept in damaged/) and run their runs again"
    return f"run `dipsim sweep {experiment} --out {out}` to {why}"


def as_sweep(out: str | Path | Sweep) -> Sweep:
    """``out`` itself if already read, else ``read_sweep(out)``: the statistics take either."""
    return out if isinstance(out, Sweep) else read_sweep(out)


def is_named(points: pd.DataFrame) -> bool:
    """Whether the points are named (counterfactual ``points`` designs)."""
    return "name" in points.columns and points["name"].notna().any()


def varied_paths(sw: Sweep) -> list[str]:
    """The paths whose value differs between the points."""
    return [p for p in sw.paths if sw.points[p].nunique(dropna=False) > 1]


def point_labels(sw: Sweep) -> dict[str, str]:
    """A short label per point, unique (legends and the sweep page's choices use it): its name, its varied values
    or its id; a label two points would share gets the point's id."""
    pts = sw.points
    varied = varied_paths(sw)
    out: dict[str, str] = {}
    for _, row in pts.iterrows():
        pid = row["point_id"]
        if "name" in pts.columns and isinstance(row["name"], str) and row["name"]:
            out[pid] = row["name"]
        elif varied and len(varied) <= 3 and row[varied].notna().all():
            out[pid] = ", ".join(f"{p}={show_value(row[p])}" for p in varied)
        else:  # also a point with runs but not in points.parquet: its values are unknown
            out[pid] = f"point {pid}" if len(pts) > 1 else "all runs"
    counts = pd.Series(list(out.values())).value_counts()
    return {pid: f"{label} [{pid}]" if counts[label] > 1 else label for pid, label in out.items()}


def show_value(x: Any) -> str:
    """A point's value as labels, tables and axes show it: 4 significant digits, ``-`` for a missing one."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float | np.floating):
        return f"{x:.4g}"
    return str(x)
