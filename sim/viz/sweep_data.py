"""The sweep page's data: which sweep folders there are, one folder read as ``dipsim report`` reads it (or why it
cannot be), and the tables and commands the page shows of it: the summary as sorted on the page, one point's
runs, the ``dipsim run`` command that repeats one run alone.

Folders are opened only under the server's roots (``sim.viz.roots``) or under the folder ``dipsim viz --results``
named (``$DIPSIM_VIZ_RESULTS``); any other is refused unread. No Solara and no matplotlib: the page's components
(``sim.viz.sweep_page``) draw these, and the tests check them without a browser.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from experiments.report import ReportResult, report
from experiments.results import load_runs
from experiments.sweep_reader import point_labels, varied_paths
from sim.messages import MAX_PROBLEM_CHARS, ScenarioError, cut
from sim.options import VIZ_RESULTS_ENV
from sim.viz.commands import run_command
from sim.viz.roots import OutsideRoots, Roots, server_roots

MAX_DEPTH = 3  # how far below the working directory sweep folders are looked for
RUN_DETAIL_COLUMNS = ["replication", "seed", "set", "outcome", "escalation_date", "max_rung", "steps_run", "error"]
SORTS = {
    "design order": None,
    "P(escalation), highest first": False,
    "P(escalation), lowest first": True,
}


def find_sweeps(root: Path, max_depth: int = MAX_DEPTH) -> list[str]:
    """Sweep output folders under ``root`` (itself included, at most ``max_depth`` levels down, hidden folders
    skipped): those holding ``manifest.json`` and ``runs/``. Paths relative to ``root``, sorted."""
    root = Path(root)
    found = []
    for here, dirs, files in os.walk(root):
        rel = Path(here).relative_to(root)
        if "manifest.json" in files and "runs" in dirs:
            found.append(rel.as_posix())
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "runs") if len(rel.parts) < max_depth else []
    return sorted(found)


def load_report(folder: str) -> tuple[ReportResult | None, str | None]:
    """``report(folder, plots=False)``, or the reason the folder cannot be read (None, None for no folder).

    An unforeseen exception's text is cut (``sim.messages.cut``): it may quote a file's contents."""
    if not folder.strip():
        return None, None
    try:
        return report(Path(folder.strip()).expanduser(), plots=False), None
    except ScenarioError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a folder damaged in a way no check foresaw: a message, no traceback
        return None, f"{folder.strip()}: cannot be read ({type(exc).__name__}: {cut(str(exc), MAX_PROBLEM_CHARS)})"


def sweep_roots() -> Roots:
    """What the sweep page may open: the server's roots and the folder ``dipsim viz --results`` named."""
    named = os.environ.get(VIZ_RESULTS_ENV, "").strip()
    return server_roots().with_folders([named]) if named else server_roots()


def report_of_folder(folder: str, roots: Roots) -> tuple[ReportResult | None, str | None]:
    """``load_report`` of a folder under ``roots`` (by its resolved path, the one checked), or why not."""
    if not folder.strip():
        return None, None
    try:
        resolved = roots.check(folder.strip())
    except OutsideRoots as exc:
        return None, str(exc)
    return load_report(str(resolved))


def summary_view(result: ReportResult, sort: str = "design order") -> pd.DataFrame:
    """The summary table as shown: point label, varied values, runs, errors, escalations, P and its interval."""
    t = result.summary
    ascending = SORTS[sort]
    if ascending is not None:
        t = t.sort_values("p_escalation", ascending=ascending, kind="stable", na_position="last")
    labels = point_labels(result.sweep)
    varied = varied_paths(result.sweep)
    view = pd.DataFrame({"point": [labels.get(pid, pid) for pid in t["point_id"]], "id": t["point_id"]})
    for p in varied:
        view[p] = t[p].to_numpy()
    for col in ("runs", "errors", "escalations", "p_escalation", "ci_low", "ci_high", "mean_escalation_step"):
        view[col] = t[col].to_numpy()
    return view.reset_index(drop=True)


def run_details(result: ReportResult) -> pd.DataFrame:
    """``RUN_DETAIL_COLUMNS`` of the runs the report counted (a sweep still running may have written more since:
    the page shows one reading of the folder until Reload)."""
    runs = load_runs(result.out, columns=["point_id", *RUN_DETAIL_COLUMNS])
    return runs.merge(result.sweep.runs[["point_id", "replication"]], on=["point_id", "replication"])


def point_runs(details: pd.DataFrame, point_id: str) -> pd.DataFrame:
    """One point's rows of ``run_details``, in replication order."""
    runs = details[details["point_id"] == point_id]
    return runs[RUN_DETAIL_COLUMNS].sort_values("replication").reset_index(drop=True)


def rerun_command(result: ReportResult, run: pd.Series) -> str:
    """The ``dipsim run`` command that repeats one run of the sweep alone: its scenario, the point's values as
    ``--set``, the run's seed and the sweep's horizon (docs/experiments.md: a run depends on nothing else)."""
    manifest = result.sweep.manifest
    overrides = json.loads(run["set"]) if isinstance(run.get("set"), str) else {}
    horizon = manifest.get("horizon")
    return run_command(manifest.get("scenario"), int(run["seed"]), overrides, int(horizon) if horizon else None)
