"""The statistics of a sweep, computed from its per-run rows (``runs/``), so that a report of an interrupted sweep,
or of one whose ``summary.parquet`` is stale, is still right. pandas, numpy, statsmodels and SALib; no plotting.

- ``summary_table(out)``: ``experiments.results.summarise`` (one row per point, recounted from ``runs/``) with
  the point's name (when points are named), its varied values, runs, errors, escalations, ``p_escalation``
  with its Wilson 95% interval, the mean escalation step and the share of runs agreeing each issue.
  ``runs`` counts every row, ``errors`` the rows that raised; the probability is over ``runs - errors``.
- ``sensitivity_indices(out)``: Sobol (S1, ST and their confidence) or Morris (mu, mu*, sigma, mu* confidence)
  indices computed with SALib from each design row's escalation probability, or None when the sampler gives none.
- ``survival_curves(out)``: Kaplan-Meier curves of the time to escalation per point (statsmodels
  ``SurvfuncRight``), long form: point_id, name, label, step, survival, ci_low, ci_high, at_risk, events.
- ``pooled(table, by)``: the escalation probability pooling the runs of the points that share values.

``out`` is a sweep folder or a :class:`~experiments.sweep_reader.Sweep` already read.

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
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.results import AGREED_PREFIX, DuplicateRowsWarning, summarise, wilson
from experiments.sweep_reader import Sweep, as_sweep, is_named, point_labels
from sim.messages import ScenarioError
from sim.yamlio import read_raw

#: The columns of ``summary_table`` after the point's id, name and paths (then one ``agreed__<issue>`` per issue).
SUMMARY_COLUMNS = ("runs", "errors", "escalations", "p_escalation", "ci_low", "ci_high", "mean_escalation_step")
Z95 = 1.959963984540054

# --------------------------------------------------------------------------- the summary


def _ok_and_escalated(runs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Rows that ran without error, and rows that escalated (among those), as ``summarise`` counts them."""
    ok = runs["error"].isna()
    return ok, ok & runs["escalated"].astype("boolean").fillna(False).astype(bool)


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
    sw = as_sweep(out)
    with warnings.catch_warnings():  # read_sweep's notes already say so
        warnings.simplefilter("ignore", DuplicateRowsWarning)
        table = summarise(sw.out, parts=sw.parts)
    agreed = [c for c in table.columns if c.startswith(AGREED_PREFIX)]
    unlisted = set(sw.points["point_id"]) - set(table["point_id"])
    if unlisted:
        table = pd.concat([table, _unlisted_rows(sw, unlisted, agreed)], ignore_index=True)
    keep = ["point_id"] + (["name"] if is_named(sw.points) else []) + sw.paths
    return table[keep + list(SUMMARY_COLUMNS) + agreed].reset_index(drop=True)


def pooled(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Escalation probability and Wilson interval pooling the runs of the points sharing ``by``."""
    g = table.assign(n=table["runs"] - table["errors"]).groupby(by, sort=True, dropna=False)
    pooled = g[["escalations", "n"]].sum().reset_index()
    pooled["p"] = np.where(pooled["n"] > 0, pooled["escalations"] / pooled["n"].where(pooled["n"] > 0, 1), np.nan)
    bounds = [wilson(k, n) for k, n in zip(pooled["escalations"], pooled["n"], strict=True)]
    pooled["low"], pooled["high"] = [b[0] for b in bounds], [b[1] for b in bounds]
    return pooled


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


def sensitivity(sw: Sweep, table: pd.DataFrame) -> tuple[pd.DataFrame | None, str | None]:
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
    sw = as_sweep(out)
    df, note = sensitivity(sw, summary_table(sw))
    if note:
        warnings.warn(note, stacklevel=2)
    return df


def indices_method(df: pd.DataFrame | None) -> str:
    """sobol | morris: how the indices in ``df`` were computed."""
    if df is None:
        return ""
    return str(df.attrs.get("method", "sobol" if "S1" in df.columns else "morris"))


# --------------------------------------------------------------------------- survival


def survival_curves(out: str | Path | Sweep, censoring: str = "horizon") -> pd.DataFrame:
    """Kaplan-Meier survival (no escalation yet) per point against steps run, with pointwise 95% intervals.

    ``censoring="horizon"`` (default): runs that did not escalate are censored at the horizon (the manifest's
    ``horizon``, else the largest ``steps_run``); ``"steps_run"``: at their own ``steps_run``. The interval is
    the log(-log) transform of statsmodels' Greenwood standard error; it is NaN where the survival is 0.
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    if censoring not in ("horizon", "steps_run"):
        raise ValueError(f"censoring must be 'horizon' or 'steps_run', not {censoring!r}")
    sw = as_sweep(out)
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
