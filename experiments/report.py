"""``dipsim report DIR``: tables and plots from the output folder of ``dipsim sweep``.

The folder follows docs/experiments.md and is read with ``experiments.results`` (which does not import the
model). Everything here is computed from the per-run rows (``runs/``), so a report of an interrupted sweep,
or of one whose ``summary.parquet`` is stale, is still right:

- ``summary_table(out)``: ``experiments.results.summarise`` (one row per point, recounted from ``runs/``) with
  the point's name (when points are named), its varied values, runs, errors, escalations, ``p_escalation``
  with its Wilson 95% interval, the mean escalation step and the share of runs agreeing each issue.
  ``runs`` counts every row, ``errors`` the rows that raised; the probability is over ``runs - errors``.
- ``sensitivity_indices(out)``: Sobol (S1, ST and their confidence) or Morris (mu, mu*, sigma, mu* confidence)
  indices computed with SALib from each design row's escalation probability, or None when the sampler gives none.
- ``survival_curves(out)``: Kaplan-Meier curves of the time to escalation per point (statsmodels
  ``SurvfuncRight``), long form: point_id, name, label, step, survival, ci_low, ci_high, at_risk, events.
- ``report(out, plots=True)``: all of the above, the printed text, and PNG plots in ``DIR/plots/``.

SALib designs (sobol, morris) are read as the runner writes them: ``manifest.json`` has ``"sampler": "sobol" |
"morris"``, ``"salib_problem"`` (SALib's problem dict) and ``"calc_second_order"``, and ``design.parquet`` holds
the sample matrix X row by row: ``row`` (int), ``point_id`` (the point the row ran as; rows may repeat a point)
and one float column per ``salib_problem["names"]``. Y is each design row's escalation probability. Morris needs
the number of levels: ``design.levels`` of the copied ``experiment.yaml``, else SALib's default 4. SALib's
bootstrap seed is the manifest's ``seed`` or 1 (SALib's sobol ignores 0), so a report is reproducible.

Time to escalation: a run that escalates during step ``k`` (``escalation_step``, counted from 0) escalates after
``k + 1`` steps. A run that did not escalate is censored at the horizon (the manifest's ``horizon``; without one,
the largest ``steps_run`` of the sweep): one that ended early in an agreement can no longer escalate, so cutting
it off at its own ``steps_run`` would treat agreements as lost to follow-up and overstate the risk. With this
choice ``1 - S(horizon)`` equals the point's ``p_escalation``. ``censoring="steps_run"`` gives the other convention.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.folder import OutsideFolder, inside, status_of
from experiments.results import (
    AGREED_PREFIX,
    DuplicateRowsWarning,
    load_manifest,
    load_points,
    load_runs,
    summarise,
    wilson,
)
from experiments.store import Damage, verified_parts
from sim.scenario import ScenarioError
from sim.yamlio import read_raw

#: Columns of points.parquet that are not parameter paths.
POINT_COLUMNS = ("point_id", "name", "set")
#: Run columns the report reads (a subset keeps memory down on large sweeps).
READ_RUN_COLUMNS = ("point_id", "replication", "escalated", "escalation_step", "steps_run", "error", "agreed_issues")
#: The columns of ``summary_table`` after the point's id, name and paths (then one ``agreed__<issue>`` per issue).
SUMMARY_COLUMNS = ("runs", "errors", "escalations", "p_escalation", "ci_low", "ci_high", "mean_escalation_step")
MAX_SURVIVAL_CURVES = 8
Z95 = 1.959963984540054


# --------------------------------------------------------------------------- reading a sweep folder


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


def _sweep(out: str | Path | Sweep) -> Sweep:
    return out if isinstance(out, Sweep) else read_sweep(out)


# --------------------------------------------------------------------------- the summary


def _ok_and_escalated(runs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Rows that ran without error, and rows that escalated (among those), as ``summarise`` counts them."""
    ok = runs["error"].isna()
    return ok, ok & runs["escalated"].astype("boolean").fillna(False).astype(bool)


def is_named(points: pd.DataFrame) -> bool:
    """Whether the points are named (counterfactual ``points`` designs)."""
    return "name" in points.columns and points["name"].notna().any()


def _unlisted_rows(sw: Sweep, ids: set[str], agreed: list[str]) -> pd.DataFrame:
    """``summarise``'s row for each point id that has runs but is not in points.parquet (summarise skips them)."""
    runs = sw.runs[sw.runs["point_id"].isin(ids)]
    ok, esc = _ok_and_escalated(runs)
    issues = runs["agreed_issues"].where(ok).fillna("").str.split(",")
    rows = []
    for pid, g in runs.groupby("point_id", sort=False):
        n, k = int(ok[g.index].sum()), int(esc[g.index].sum())
        low, high = wilson(k, n)
        row = {"point_id": pid, "runs": len(g), "errors": len(g) - n, "escalations": k}
        row |= {"p_escalation": k / n if n else math.nan, "ci_low": low, "ci_high": high}
        row["mean_escalation_step"] = pd.to_numeric(g["escalation_step"]).where(esc[g.index]).mean()
        for col in agreed:
            issue = col.removeprefix(AGREED_PREFIX)
            row[col] = sum(issue in i for i in issues[g.index]) / n if n else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(out: str | Path | Sweep) -> pd.DataFrame:
    """``experiments.results.summarise``: one row per point, in points.parquet order, recounted from ``runs/``.

    Columns: point_id, name (when the points are named), the paths, SUMMARY_COLUMNS and ``agreed__<issue>``.
    Point ids that have runs but are not in points.parquet get a row too, at the end (their paths empty).
    """
    sw = _sweep(out)
    with warnings.catch_warnings():  # read_sweep's notes already say so
        warnings.simplefilter("ignore", DuplicateRowsWarning)
        table = summarise(sw.out, parts=sw.parts)
    agreed = [c for c in table.columns if c.startswith(AGREED_PREFIX)]
    unlisted = set(sw.points["point_id"]) - set(table["point_id"])
    if unlisted:
        table = pd.concat([table, _unlisted_rows(sw, unlisted, agreed)], ignore_index=True)
    keep = ["point_id"] + (["name"] if is_named(sw.points) else []) + sw.paths
    return table[keep + list(SUMMARY_COLUMNS) + agreed].reset_index(drop=True)


def _fmt_value(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float | np.floating):
        return f"{x:.4g}"
    return str(x)


def format_summary(table: pd.DataFrame, paths: list[str], max_rows: int | None = 40) -> str:
    """The summary as a fixed-width text table (at most ``max_rows`` rows; None or 0 for all)."""
    shown = table if not max_rows or len(table) <= max_rows else table.head(max_rows)
    view = pd.DataFrame({"point": shown["point_id"]})
    if "name" in shown.columns:
        view["name"] = shown["name"].map(_fmt_value)
    for p in paths:
        view[p] = shown[p].map(_fmt_value)
    view["runs"] = shown["runs"]
    view["errors"] = shown["errors"]
    view["escalations"] = shown["escalations"]

    def p_ci(row: pd.Series) -> str:
        if pd.isna(row["p_escalation"]):
            return "-"
        return f"{row['p_escalation']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"

    view["p_escalation [Wilson 95%]"] = shown.apply(p_ci, axis=1) if len(shown) else []
    view["mean_esc_step"] = shown["mean_escalation_step"].map(lambda x: "-" if pd.isna(x) else f"{x:.1f}")
    text = view.to_string(index=False)
    if len(shown) < len(table):
        text += f"\n... showing {len(shown)} of {len(table)} points (--rows 0 shows all; summary_table() has them)"
    return text


# --------------------------------------------------------------------------- sensitivity indices


def _salib_spec(sw: Sweep) -> dict[str, Any] | None:
    """The SALib settings of a sobol/morris sweep (see the module docstring), or None."""
    m = sw.manifest
    if m.get("sampler") not in ("sobol", "morris") or not isinstance(m.get("salib_problem"), dict):
        return None
    spec = {"sampler": m["sampler"], "problem": m["salib_problem"]}
    for key in ("calc_second_order", "seed"):
        if m.get(key) is not None:
            spec[key] = m[key]
    if spec["sampler"] == "morris":
        spec["num_levels"] = _experiment_levels(sw.out)
    return spec


def _experiment_levels(out: Path) -> int:
    """``design.levels`` of the experiment file copied into the folder (SALib's default 4 if absent)."""
    try:
        return int(read_raw(out / "experiment.yaml")["design"].get("levels", 4))
    except (ScenarioError, ValueError, TypeError, KeyError, AttributeError):
        return 4


def _design_rows(sw: Sweep, names: list[str]) -> tuple[list[str], np.ndarray]:
    """The point id of each design row, in row order, and the design matrix X (from design.parquet)."""
    if sw.design is None:
        raise ValueError("no design.parquet to map the design rows to points")
    missing = [n for n in ["row", "point_id", *names] if n not in sw.design.columns]
    if missing:
        raise ValueError(f"design.parquet has no column {', '.join(missing)}")
    d = sw.design.sort_values("row")
    if list(d["row"]) != list(range(len(d))):
        raise ValueError("the rows of design.parquet are not 0..N-1")
    return [str(x) for x in d["point_id"]], d[names].to_numpy(dtype=float)


def _sensitivity(sw: Sweep, table: pd.DataFrame) -> tuple[pd.DataFrame | None, str | None]:
    """(indices, None), or (None, why not) when the design has SALib indices that cannot be computed yet."""
    salib = _salib_spec(sw)
    if not salib:
        return None, None
    method = salib["sampler"]
    try:
        problem = dict(salib["problem"])
        names = [str(n) for n in problem["names"]]
        ids, X = _design_rows(sw, names)
        Y = table.set_index("point_id")["p_escalation"].loc[ids].to_numpy(dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"{method} indices not computed: {exc}"
    if np.isnan(Y).any():
        n = int(np.isnan(Y).sum())
        return None, f"{method} indices not computed: {n} of {len(Y)} design rows have no successful run yet"
    seed = int(salib.get("seed") or 1)  # SALib's sobol.analyze ignores a seed of 0 (unseeded bootstrap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant Y divides by a zero variance
        try:
            if method == "sobol":
                from SALib.analyze import sobol

                second = bool(salib.get("calc_second_order", True))
                si = sobol.analyze(problem, Y, calc_second_order=second, seed=seed)
            else:
                from SALib.analyze import morris

                si = morris.analyze(problem, X, Y, num_levels=int(salib["num_levels"]), seed=seed)
        except (ValueError, RuntimeError, IndexError) as exc:
            return None, f"{method} indices not computed: SALib: {exc}"
    labels = si.get("names")
    if labels is None:
        labels = list(dict.fromkeys(problem["groups"])) if problem.get("groups") else names
    labels = [str(x) for x in labels]
    cols = ["S1", "S1_conf", "ST", "ST_conf"] if method == "sobol" else ["mu", "mu_star", "sigma", "mu_star_conf"]
    df = pd.DataFrame({"parameter": labels, **{c: np.asarray(si[c], dtype=float) for c in cols}})
    df.attrs["method"] = method
    if not np.isfinite(Y.std()) or Y.std() == 0:
        return df, f"{method} indices: the escalation probability is the same at every point (indices undefined)"
    return df, None


def sensitivity_indices(out: str | Path | Sweep) -> pd.DataFrame | None:
    """Sobol or Morris indices of P(escalation), or None when the design has none (warns when it cannot)."""
    sw = _sweep(out)
    df, note = _sensitivity(sw, summary_table(sw))
    if note:
        warnings.warn(note, stacklevel=2)
    return df


def _method(df: pd.DataFrame | None) -> str:
    """sobol | morris: how the indices in ``df`` were computed."""
    if df is None:
        return ""
    return str(df.attrs.get("method", "sobol" if "S1" in df.columns else "morris"))


def format_indices(df: pd.DataFrame) -> str:
    method = _method(df)
    head = (
        "Sobol indices of P(escalation) (S1 first order, ST total; *_conf: 95% bootstrap half-width)"
        if method == "sobol"
        else "Morris indices of P(escalation) (mu*, sigma; mu_star_conf: 95% bootstrap half-width)"
    )
    return head + "\n" + df.to_string(index=False, float_format=lambda x: f"{x:.3f}")


# --------------------------------------------------------------------------- survival


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
            out[pid] = ", ".join(f"{p}={_fmt_value(row[p])}" for p in varied)
        else:  # also a point with runs but not in points.parquet: its values are unknown
            out[pid] = f"point {pid}" if len(pts) > 1 else "all runs"
    counts = pd.Series(list(out.values())).value_counts()
    return {pid: f"{label} [{pid}]" if counts[label] > 1 else label for pid, label in out.items()}


def survival_curves(out: str | Path | Sweep, censoring: str = "horizon") -> pd.DataFrame:
    """Kaplan-Meier survival (no escalation yet) per point against steps run, with pointwise 95% intervals.

    ``censoring="horizon"`` (default): runs that did not escalate are censored at the horizon (the manifest's
    ``horizon``, else the largest ``steps_run``); ``"steps_run"``: at their own ``steps_run``. The interval is
    the log(-log) transform of statsmodels' Greenwood standard error; it is NaN where the survival is 0.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    if censoring not in ("horizon", "steps_run"):
        raise ValueError(f"censoring must be 'horizon' or 'steps_run', not {censoring!r}")
    sw = _sweep(out)
    runs = sw.runs
    ok, esc = _ok_and_escalated(runs)
    steps_run = pd.to_numeric(runs["steps_run"], errors="coerce")
    horizon = sw.manifest.get("horizon")
    if horizon is None:
        # No horizon: the runs went to the end of the scenario's calendar, whose length the folder does not
        # record. The longest run is that length unless every run ended early (then the curves stop short).
        horizon = steps_run[ok].max() if ok.any() else 0.0
    horizon = float(horizon)
    esc_time = pd.to_numeric(runs["escalation_step"], errors="coerce") + 1
    esc_time = esc_time.fillna(steps_run)  # an escalated row without a step: its last step
    cens_time = pd.Series(horizon, index=runs.index) if censoring == "horizon" else steps_run
    time = esc_time.where(esc, cens_time)
    frame = pd.DataFrame({"point_id": runs["point_id"], "time": time, "status": esc.astype(int)})[ok]
    labels = point_labels(sw)
    names = sw.points.set_index("point_id")["name"] if "name" in sw.points.columns else None
    by_point = dict(list(frame.groupby("point_id", sort=False)))
    pieces = []
    for pid in sw.points["point_id"]:
        g = by_point.get(pid)
        if g is None:
            continue
        sf = SurvfuncRight(g["time"].to_numpy(dtype=float), g["status"].to_numpy(dtype=int))
        s = np.asarray(sf.surv_prob, dtype=float)
        se = np.asarray(sf.surv_prob_se, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = np.log(-np.log(s))
            half = Z95 * se / np.abs(s * np.log(s))
            low = np.exp(-np.exp(ll + half))
            high = np.exp(-np.exp(ll - half))
        low = np.where(s >= 1, 1.0, np.where(s <= 0, np.nan, low))
        high = np.where(s >= 1, 1.0, np.where(s <= 0, np.nan, high))
        end = max(float(g["time"].max()), horizon if censoring == "horizon" else 0.0)
        steps = np.concatenate([[0.0], np.asarray(sf.surv_times, dtype=float)])
        surv = np.concatenate([[1.0], s])
        lo = np.concatenate([[1.0], low])
        hi = np.concatenate([[1.0], high])
        at_risk = np.concatenate([[len(g)], np.asarray(sf.n_risk, dtype=float)])
        events = np.concatenate([[0.0], np.asarray(sf.n_events, dtype=float)])
        if end > steps[-1]:  # carry the curve to the end of follow-up
            steps = np.append(steps, end)
            surv, lo, hi = np.append(surv, surv[-1]), np.append(lo, lo[-1]), np.append(hi, hi[-1])
            at_risk = np.append(at_risk, int((g["time"] >= end).sum()))
            events = np.append(events, 0.0)
        pieces.append(
            pd.DataFrame(
                {
                    "point_id": pid,
                    "name": None if names is None else names.get(pid),
                    "label": labels.get(pid, pid),
                    "step": steps,
                    "survival": surv,
                    "ci_low": lo,
                    "ci_high": hi,
                    "at_risk": at_risk.astype("int64"),
                    "events": events.astype("int64"),
                }
            )
        )
    cols = ["point_id", "name", "label", "step", "survival", "ci_low", "ci_high", "at_risk", "events"]
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=cols)


# --------------------------------------------------------------------------- plots


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.notna().all()


def _sorted_values(s: pd.Series) -> list[Any]:
    vals = list(pd.unique(s))
    return sorted(vals) if _numeric(s) else sorted(vals, key=lambda v: str(v))


def _grid_paths(sw: Sweep, table: pd.DataFrame) -> list[str] | None:
    """The varied paths if the points are exactly their full Cartesian product (each combination once)."""
    if sw.sampler not in (None, "grid") or is_named(sw.points):
        return None
    varied = varied_paths(sw)
    if not varied or table[varied].isna().any().any():
        return None
    combos = table[varied].astype(str).drop_duplicates()
    size = math.prod(table[p].nunique() for p in varied)
    return varied if len(combos) == len(table) == size else None


def _figure(width: float = 7.0, height: float = 4.5) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no global state, Agg canvas for PNG

    return Figure(figsize=(width, height), layout="constrained")


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def _pooled(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Escalation probability and Wilson interval pooling the runs of the points sharing ``by``."""
    g = table.assign(n=table["runs"] - table["errors"]).groupby(by, sort=True, dropna=False)
    pooled = g[["escalations", "n"]].sum().reset_index()
    pooled["p"] = np.where(pooled["n"] > 0, pooled["escalations"] / pooled["n"].where(pooled["n"] > 0, 1), np.nan)
    bounds = [wilson(k, n) for k, n in zip(pooled["escalations"], pooled["n"], strict=True)]
    pooled["low"], pooled["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    return pooled


def probability_paths(sw: Sweep, table: pd.DataFrame) -> list[str]:
    """The varied paths that get a P(escalation) line plot: numeric, with at least 3 values."""
    return [p for p in varied_paths(sw) if _numeric(table[p]) and table[p].nunique() >= 3]


def probability_figure(sw: Sweep, table: pd.DataFrame, path: str) -> Any:
    """P(escalation) against ``path``, with its 95% band.

    A two-parameter grid gets one line per value of the other parameter; a larger grid pools the runs of the
    points sharing a value of ``path``; any other design shows each point with its Wilson interval.
    """
    import matplotlib

    grid = _grid_paths(sw, table)
    fig = _figure()
    ax = fig.add_subplot()
    if grid is not None and path in grid:
        others = [p for p in grid if p != path]
        if len(others) == 1:
            other = others[0]
            values = _sorted_values(table[other])
            cmap = matplotlib.colormaps["viridis"]
            for i, v in enumerate(values):
                sub = _pooled(table[table[other] == v], [path])
                color = cmap(i / max(1, len(values) - 1) * 0.9)
                ax.plot(sub[path], sub["p"], marker="o", color=color, label=f"{_fmt_value(v)}")
                ax.fill_between(sub[path], sub["low"], sub["high"], color=color, alpha=0.18, linewidth=0)
            ax.legend(title=other, fontsize="small", title_fontsize="small")
            title = f"P(escalation) against {path}, one line per {other}"
        else:
            sub = _pooled(table, [path])
            ax.plot(sub[path], sub["p"], marker="o", color="C0", label="P(escalation)")
            ax.fill_between(sub[path], sub["low"], sub["high"], color="C0", alpha=0.2, linewidth=0, label="95%")
            what = "pooled over the other parameters" if others else "Wilson 95% band"
            title = f"P(escalation) against {path} ({what})"
    else:
        ok = table["p_escalation"].notna()
        x, p = table.loc[ok, path], table.loc[ok, "p_escalation"]
        # Wilson bounds can sit a rounding error inside p at 0 or 1: clip so the bars are never negative.
        err = np.clip(np.vstack([p - table.loc[ok, "ci_low"], table.loc[ok, "ci_high"] - p]), 0.0, None)
        ax.errorbar(x, p, yerr=err, fmt="o", markersize=3, alpha=0.6, elinewidth=0.8, color="C0")
        title = f"P(escalation) at each point against {path} (bars: Wilson 95%)"
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel(path)
    ax.set_ylabel("P(escalation)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    return fig


def heatmap_paths(sw: Sweep, table: pd.DataFrame) -> tuple[str, str] | None:
    """The two paths of a two-parameter grid (the heatmap's x and y), else None."""
    grid = _grid_paths(sw, table)
    return (grid[0], grid[1]) if grid is not None and len(grid) == 2 else None


def heatmap_figure(sw: Sweep, table: pd.DataFrame) -> Any | None:
    """A heatmap of P(escalation) when the design is a two-parameter grid (else None)."""
    grid = heatmap_paths(sw, table)
    if grid is None:
        return None
    xp, yp = grid
    xs, ys = _sorted_values(table[xp]), _sorted_values(table[yp])
    z = np.full((len(ys), len(xs)), np.nan)
    lo, hi = z.copy(), z.copy()
    for _, row in table.iterrows():
        i, j = ys.index(row[yp]), xs.index(row[xp])
        z[i, j], lo[i, j], hi[i, j] = row["p_escalation"], row["ci_low"], row["ci_high"]
    fig = _figure(max(5.0, 1.0 + 0.9 * len(xs)), max(3.5, 1.2 + 0.6 * len(ys)))
    ax = fig.add_subplot()
    im = ax.imshow(z, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(xs)), [_fmt_value(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_fmt_value(v) for v in ys])
    ax.set_xlabel(xp)
    ax.set_ylabel(yp)
    fig.colorbar(im, ax=ax, label="P(escalation)")
    if len(xs) * len(ys) <= 150:
        for i in range(len(ys)):
            for j in range(len(xs)):
                if np.isnan(z[i, j]):
                    continue
                text = f"{z[i, j]:.2f}"
                if len(xs) <= 8 and len(ys) <= 10:
                    text += f"\n[{lo[i, j]:.2f}, {hi[i, j]:.2f}]"
                color = "white" if z[i, j] < 0.6 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize="x-small", color=color)
    ax.set_title("P(escalation) [Wilson 95%]", fontsize="medium")
    return fig


def points_figure(sw: Sweep, table: pd.DataFrame) -> Any | None:
    """P(escalation) per named point (counterfactuals) as horizontal bars with their interval (else None)."""
    if not is_named(sw.points):
        return None
    t = table.iloc[::-1]
    labels = [n if isinstance(n, str) else pid for n, pid in zip(t["name"], t["point_id"], strict=True)]
    p = t["p_escalation"].to_numpy(dtype=float)
    err = np.vstack([p - t["ci_low"].to_numpy(dtype=float), t["ci_high"].to_numpy(dtype=float) - p])
    fig = _figure(7.0, max(2.5, 0.8 + 0.45 * len(t)))
    ax = fig.add_subplot()
    ax.barh(range(len(t)), np.nan_to_num(p), xerr=np.nan_to_num(err), color="C0", alpha=0.8, capsize=3)
    ax.set_yticks(range(len(t)), labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(escalation) (bars: Wilson 95%)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("P(escalation) per counterfactual", fontsize="medium")
    return fig


def indices_figure(df: pd.DataFrame | None) -> Any | None:
    """Sobol S1/ST or Morris mu*/sigma as grouped bars, confidence as error bars (None without indices)."""
    if df is None or df.empty:
        return None
    method = _method(df)
    x = np.arange(len(df))
    width = 0.38
    fig = _figure(max(5.0, 1.5 + 0.8 * len(df)), 4.5)
    ax = fig.add_subplot()
    if method == "sobol":
        ax.bar(x - width / 2, df["S1"], width, yerr=df["S1_conf"], capsize=3, label="S1 (first order)")
        ax.bar(x + width / 2, df["ST"], width, yerr=df["ST_conf"], capsize=3, label="ST (total)")
        ax.set_ylabel("Sobol index of P(escalation)")
        ax.axhline(0, color="black", linewidth=0.6)
    else:
        ax.bar(x - width / 2, df["mu_star"], width, yerr=df["mu_star_conf"], capsize=3, label="mu* (95% conf)")
        ax.bar(x + width / 2, df["sigma"], width, label="sigma")
        ax.set_ylabel("Morris elementary effects on P(escalation)")
    ax.set_xticks(x, df["parameter"], rotation=30 if len(df) > 3 else 0, ha="right" if len(df) > 3 else "center")
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(f"{method.capitalize()} sensitivity indices (error bars: 95% confidence)", fontsize="medium")
    return fig


def survival_choice(table: pd.DataFrame) -> tuple[list[str], str | None]:
    """The points whose curves the report draws, among those with a run that did not raise: all if at most
    MAX_SURVIVAL_CURVES (in design order), else the MAX_SURVIVAL_CURVES with the highest P(escalation); and the
    legend title saying so (or None)."""
    ranked = table.dropna(subset=["p_escalation"]).sort_values("p_escalation", ascending=False, kind="stable")
    chosen = list(ranked["point_id"])
    if len(chosen) > MAX_SURVIVAL_CURVES:
        return chosen[:MAX_SURVIVAL_CURVES], f"{MAX_SURVIVAL_CURVES} of {len(chosen)} points, highest P(escalation)"
    return [p for p in table["point_id"] if p in set(chosen)], None


def survival_figure(
    curves: pd.DataFrame, table: pd.DataFrame, chosen: list[str] | None = None, censoring: str = "horizon"
) -> Any | None:
    """Kaplan-Meier curves of the points ``chosen`` (default: ``survival_choice``); None without curves.
    ``censoring`` names how ``curves`` were censored (see ``survival_curves``), for the title."""
    if curves.empty:
        return None
    legend_title = None
    if chosen is None:
        chosen, legend_title = survival_choice(table)
    fig = _figure(7.5, 4.8)
    ax = fig.add_subplot()
    alpha = 0.15 if len(chosen) <= 3 else 0.06
    for k, pid in enumerate(chosen):
        c = curves[curves["point_id"] == pid]
        if c.empty:
            continue
        color = f"C{k % 10}"
        ax.step(c["step"], c["survival"], where="post", color=color, label=str(c["label"].iloc[0]))
        ax.fill_between(c["step"], c["ci_low"], c["ci_high"], step="post", color=color, alpha=alpha, linewidth=0)
    ax.set_xlabel("steps run")
    ax.set_ylabel("P(no escalation yet)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title, fontsize="x-small", title_fontsize="x-small", loc="best")
    where = "at horizon" if censoring == "horizon" else "at its last step"
    ax.set_title(f"Time to escalation (Kaplan-Meier, 95% band; no escalation = censored {where})", fontsize="small")
    return fig


def figures(
    sw: Sweep, table: pd.DataFrame, indices: pd.DataFrame | None, curves: pd.DataFrame
) -> Iterator[tuple[str, Any]]:
    """Every plot of the report with its PNG file name, one at a time (each can be saved and dropped before the
    next is drawn). The browser's sweep page draws the same figures with the same functions."""
    for path in probability_paths(sw, table):
        yield f"p_escalation_vs_{_slug(path)}.png", probability_figure(sw, table, path)
    if (fig := heatmap_figure(sw, table)) is not None:
        yield "heatmap.png", fig
    if (fig := points_figure(sw, table)) is not None:
        yield "p_escalation_by_point.png", fig
    if (fig := indices_figure(indices)) is not None:
        yield f"sensitivity_{_method(indices)}.png", fig
    if (fig := survival_figure(curves, table)) is not None:
        yield "survival.png", fig


# --------------------------------------------------------------------------- the report


def headline(table: pd.DataFrame) -> str:
    """Points, runs, errors and escalations of a summary table, in one line."""
    return (
        f"{len(table)} point(s), {int(table['runs'].sum())} run(s), {int(table['errors'].sum())} error(s), "
        f"{int(table['escalations'].sum())} escalation(s)"
    )


# Compared by identity: Solara's memos compare their dependencies with ==, which DataFrames do not support.
@dataclass(eq=False)
class ReportResult:
    """What ``report`` computed and wrote; ``text`` is what ``dipsim report`` prints."""

    out: Path
    summary: pd.DataFrame
    indices: pd.DataFrame | None
    survival: pd.DataFrame
    plots: list[Path]
    notes: list[str]
    text: str
    sweep: Sweep


def report(out: Path | str, plots: bool = True, max_rows: int | None = 40) -> ReportResult:
    """Summarise an output folder of ``dipsim sweep`` and (if ``plots``) write PNGs into ``out/plots/``."""
    sw = read_sweep(out)
    table = summary_table(sw)
    indices, note = _sensitivity(sw, table)
    notes = list(sw.notes) + ([note] if note else [])
    curves = survival_curves(sw)
    written: list[Path] = []
    if plots:
        written = [_save(fig, sw.out / "plots" / name) for name, fig in figures(sw, table, indices, curves)]

    lines = [f"{sw.out}: {headline(table)}", "", format_summary(table, varied_paths(sw) or sw.paths, max_rows)]
    if indices is not None:
        lines += ["", format_indices(indices)]
    if notes:
        lines += [""] + notes
    if written:
        lines += ["", f"plots written to {sw.out / 'plots'}: " + ", ".join(p.name for p in written)]
    text = "\n".join(lines)
    return ReportResult(
        out=sw.out, summary=table, indices=indices, survival=curves, plots=written, notes=notes, text=text, sweep=sw
    )
