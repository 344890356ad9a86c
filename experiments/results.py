"""Reading a sweep's output folder: per-run rows, points, summary and manifest, as pandas DataFrames.

This is the Python API the report (and users) read results through; the layout is docs/experiments.md.

``load_runs(out)``      every run row of the sound parts ``out/runs/part-*.parquet``, sorted by (point_id, replication)
``load_points(out)``    ``out/points.parquet``: one row per point, in the experiment's order
``load_summary(out)``   ``out/summary.parquet`` (recomputed from runs/ when it is not there yet)
``load_manifest(out)``  ``out/manifest.json`` as a dict
``summarise(out)``      the summary, recomputed from runs/ alone (streamed part by part)
``part_files(out)``     the part files; ``experiments.store.verified_parts`` sorts them into sound and damaged

Both readers of runs/ read only the parts that pass ``experiments.store``'s checks (the checksum and row count
the manifest records) unless given the parts to read, and warn (``DamagedPartsWarning``) about the others.
``wilson(k, n)``        the Wilson 95% interval (statsmodels ``proportion_confint(method="wilson")``)

Nothing here imports Dask or starts processes.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from experiments.folder import inside
from experiments.store import PART_RE, part_files, verified_parts, write_file

__all__ = [
    "AGREED_PREFIX",
    "PART_RE",
    "DamagedPartsWarning",
    "DuplicateRowsWarning",
    "load_manifest",
    "load_points",
    "load_runs",
    "load_summary",
    "duplicate_rows",
    "part_files",
    "sound_parts",
    "summarise",
    "wilson",
    "write_table_atomic",
]

RUN_COLUMNS_BEFORE = ["point_id", "replication", "seed", "set"]  # then one column per varied path
RUN_COLUMNS_AFTER = [
    "outcome",
    "escalated",
    "escalation_step",
    "escalation_date",
    "escalation_actor",
    "escalation_target",
    "max_rung",
    "max_rung_score",
    "agreed_issues",
    "steps_run",
    "wall_time",
    "error",
]
AGREED_PREFIX = "agreed__"


def wilson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials; (nan, nan) when ``n == 0``."""
    if n <= 0:
        return math.nan, math.nan
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(int(k), int(n), alpha=alpha, method="wilson")
    return float(low), float(high)


class DamagedPartsWarning(UserWarning):
    """Some part files of a sweep folder failed their checks and were left out of what was read."""


def sound_parts(out: str | Path) -> list[Path]:
    """The parts of ``out`` that pass their checks; a DamagedPartsWarning names each one left out and why."""
    good, damaged = verified_parts(out)
    if damaged:
        listed = "; ".join(str(d) for d in damaged)
        warnings.warn(f"{out}: {len(damaged)} damaged part(s) left out: {listed}", DamagedPartsWarning, stacklevel=3)
    return good


class DuplicateRowsWarning(UserWarning):
    """Some (point_id, replication) keys appear in more than one row; each is counted once (its first row)."""


def duplicate_rows(parts: list[Path]) -> dict[Path, np.ndarray]:
    """{part: indices of its rows whose (point_id, replication) key an earlier row already has}, parts in the
    order given (part number), rows in file order; empty when every key appears once. Reads two columns."""
    keys = [pq.read_table(f, columns=["point_id", "replication"]).to_pandas() for f in parts]
    if not keys:
        return {}
    both = pd.concat(keys, ignore_index=True)
    dup = both.duplicated(["point_id", "replication"], keep="first").to_numpy()
    if not dup.any():
        return {}
    found: dict[Path, np.ndarray] = {}
    start = 0
    for f, k in zip(parts, keys, strict=True):
        rows = np.flatnonzero(dup[start : start + len(k)])
        if len(rows):
            found[f] = rows
        start += len(k)
    return found


def _warn_duplicates(out: str | Path, dups: dict[Path, np.ndarray]) -> None:
    if dups:
        n = sum(len(v) for v in dups.values())
        where = ", ".join(f"runs/{f.name}" for f in dups)
        message = f"{out}: {n} run row(s) repeat a (point_id, replication) key of an earlier row ({where}); "
        warnings.warn(message + "each key is counted once", DuplicateRowsWarning, stacklevel=3)


def _without(table: pa.Table, rows: np.ndarray | None) -> pa.Table:
    if rows is None or not len(rows):
        return table
    keep = np.ones(table.num_rows, dtype=bool)
    keep[rows] = False
    return table.filter(pa.array(keep))


def load_manifest(out: str | Path) -> dict[str, Any]:
    """``out/manifest.json``; OSError or ValueError (``OutsideFolder`` for a link or a file outside ``out``)."""
    return json.loads(inside(out, "manifest.json").read_text(encoding="utf-8"))


def load_points(out: str | Path) -> pd.DataFrame:
    """One row per point: point_id, name, set (canonical JSON), one column per varied path."""
    return pd.read_parquet(inside(out, "points.parquet"))


def load_runs(out: str | Path, columns: list[str] | None = None, parts: list[Path] | None = None) -> pd.DataFrame:
    """Every run row of a sweep folder, sorted by (point_id, replication), each key once (a key found in two
    rows, a part written twice, is read from its first: DuplicateRowsWarning). ``columns``: a subset to read;
    ``parts``: the part files to read (default: ``sound_parts(out)``)."""
    files = sound_parts(out) if parts is None else parts
    if not files:
        names = columns or [*RUN_COLUMNS_BEFORE, *_path_columns(out), *RUN_COLUMNS_AFTER]
        return pd.DataFrame(columns=names)
    read = None if columns is None else list(dict.fromkeys(["point_id", "replication", *columns]))
    # One schema over every part: a part written before a column was added (store.ADDED_LATER) reads it as null.
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    dups = duplicate_rows(files)
    if dups:
        _warn_duplicates(out, dups)
        table = pa.concat_tables(
            [
                _without(ds.dataset(str(f), format="parquet", schema=schema).to_table(columns=read), dups.get(f))
                for f in files
            ]
        )
    else:
        table = ds.dataset([str(f) for f in files], format="parquet", schema=schema).to_table(columns=read)
    table = table.sort_by([("point_id", "ascending"), ("replication", "ascending")])
    df = table.to_pandas()
    if columns is not None:
        df = df[columns]
    return df.reset_index(drop=True)


def load_summary(out: str | Path) -> pd.DataFrame:
    """The summary table; recomputed from runs/ (not written) when summary.parquet is missing."""
    path = inside(out, "summary.parquet")
    return pd.read_parquet(path) if path.exists() else summarise(out)


def _path_columns(out: str | Path) -> list[str]:
    try:
        return list(load_manifest(out).get("paths", []))
    except (OSError, ValueError):
        return []


def summarise(out: str | Path, parts: list[Path] | None = None) -> pd.DataFrame:
    """Per-point summary recomputed from ``out/runs`` alone, one part file at a time (memory stays flat).

    Columns: point_id, name, set, the path columns, runs, errors, escalations, p_escalation, ci_low, ci_high
    (Wilson 95% over the runs without error), mean_escalation_step (over escalated runs), and
    ``agreed__<issue>`` (share of the runs without error that agreed the issue), for the scenario's issues
    (from the manifest) and any other issue seen in the rows. Points are in the experiment's order; a point
    with no run yet has runs 0 and NaN rates. ``parts``: the part files to count (default: ``sound_parts(out)``).
    """
    out = Path(out)
    points = load_points(out)
    try:
        issues: list[str] = list(load_manifest(out).get("issues", []))
    except (OSError, ValueError):
        issues = []
    acc: dict[str, dict[str, Any]] = {}
    cols = ["point_id", "escalated", "escalation_step", "agreed_issues", "error"]
    files = sound_parts(out) if parts is None else parts
    dups = duplicate_rows(files)
    _warn_duplicates(out, dups)
    for f in files:
        df = _without(pq.read_table(f, columns=cols), dups.get(f)).to_pandas()
        ok = df["error"].isna()
        esc = ok & df["escalated"].fillna(False).astype(bool)
        agreed = df["agreed_issues"].fillna("")
        seen = {i for s in agreed.unique() for i in s.split(",") if i}
        issues.extend(sorted(seen - set(issues)))
        wrapped = "," + agreed + ","
        frame = pd.DataFrame(
            {
                "point_id": df["point_id"],
                "runs": 1,
                "errors": (~ok).astype(int),
                "ok": ok.astype(int),
                "escalations": esc.astype(int),
                "step_sum": df["escalation_step"].where(esc, 0.0).fillna(0.0),
                "step_n": (esc & df["escalation_step"].notna()).astype(int),
            }
        )
        for issue in issues:
            frame[AGREED_PREFIX + issue] = (ok & wrapped.str.contains("," + issue + ",", regex=False)).astype(int)
        for pid, g in frame.groupby("point_id", sort=False):
            sums = g.drop(columns="point_id").sum()
            a = acc.setdefault(str(pid), {})
            for key, value in sums.items():
                a[key] = a.get(key, 0) + value
    rows = []
    for pid in points["point_id"]:
        a = acc.get(pid, {})
        ok_n = int(a.get("ok", 0))
        k = int(a.get("escalations", 0))
        low, high = wilson(k, ok_n)
        row: dict[str, Any] = {
            "point_id": pid,
            "runs": int(a.get("runs", 0)),
            "errors": int(a.get("errors", 0)),
            "escalations": k,
            "p_escalation": k / ok_n if ok_n else math.nan,
            "ci_low": low,
            "ci_high": high,
            "mean_escalation_step": a["step_sum"] / a["step_n"] if a.get("step_n") else math.nan,
        }
        for issue in issues:
            col = AGREED_PREFIX + issue
            row[col] = a.get(col, 0) / ok_n if ok_n else math.nan
        rows.append(row)
    stats = pd.DataFrame(rows, columns=_summary_stat_columns(issues))
    summary = points.merge(stats, on="point_id", how="left", sort=False)
    for col in ("runs", "errors", "escalations"):
        summary[col] = summary[col].astype(np.int64)
    return summary


def _summary_stat_columns(issues: list[str]) -> list[str]:
    return [
        "point_id",
        "runs",
        "errors",
        "escalations",
        "p_escalation",
        "ci_low",
        "ci_high",
        "mean_escalation_step",
        *(AGREED_PREFIX + i for i in issues),
    ]


def write_table_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file under a temporary name in the same folder, then rename it into place
    (``experiments.store.write_file``: StoreWriteError if it cannot be written)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_file(path, sink.getvalue().to_pybytes())
