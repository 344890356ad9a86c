"""The bookkeeping of a sweep folder: its lock, its manifest, its static files and the runs already done.

``open_folder`` takes the folder's lock, then creates or reopens the folder (a folder holding another
experiment file, by sha256 or by what its runs depend on, or other files without a manifest is refused) and
starts the session's entry in the manifest; ``Session.finish`` records how the session ended, however it
ended. ``write_static_files`` rewrites ``experiment.yaml``, ``points.parquet`` and ``design.parquet`` every
session; ``read_done`` marks the keys already in ``runs/`` as finished in the plan, so a rerun resumes.
Kept apart from the scheduling (``experiments.sweep``) and the part files (``experiments.store``): this is
what makes a folder resumable and refuses the wrong one; the readers (``experiments.results``) need none of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from experiments.folder import UNRECORDED, inside
from experiments.plan import ERROR, ESCALATION, NO_ESCALATION, Plan
from experiments.results import duplicate_rows, write_table_atomic
from experiments.store import StoreWriteError, part_files, write_file, write_json
from sim.messages import ScenarioError

if TYPE_CHECKING:
    from experiments.part_writer import PartWriter
    from experiments.spec import LoadedExperiment

LOCK_TRIES = 5  # attempts to take a folder's lock, 50 ms apart, before it counts as another sweep's


class OutputFolderError(ScenarioError):
    """The output folder cannot take this sweep (another experiment's results, not a sweep folder, in use)."""


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import mesa
    import numpy

    try:
        dipsim = version("dipsim")
    except PackageNotFoundError:
        dipsim = "unknown"
    return {
        "dipsim": dipsim,
        "mesa": mesa.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pyarrow": pa.__version__,
    }


def lock(out: Path) -> Callable[[], None]:
    """An exclusive lock on ``out/.lock`` (released when the process ends, even by kill -9)."""
    path = out / ".lock"
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        return open(path, "a+").close  # noqa: SIM115
    tries = 0
    while True:
        fh = open(path, "a+")  # noqa: SIM115 - held for the whole sweep
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            tries += 1
            if tries < LOCK_TRIES:  # a reader probing the lock (experiments.folder) holds it for an instant
                time.sleep(0.05)
                continue
            raise OutputFolderError(str(out), [("", "another sweep is writing to this folder")]) from None
        # A refused sweep removes the .lock it created: a lock taken on that removed file is no lock.
        held = os.fstat(fh.fileno())
        try:
            now = os.stat(path)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return fh.close
        fh.close()


def runs_fingerprint(scenario_path: Path, seed: int, horizon: int | None) -> str:
    """What every run of a folder depends on besides its point and replication: scenario, seed, horizon."""
    blob = json.dumps(
        {"scenario_sha256": hashlib.sha256(scenario_path.read_bytes()).hexdigest(), "seed": seed, "horizon": horizon},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _fingerprint(exp: LoadedExperiment) -> str:
    fp = runs_fingerprint(exp.scenario_path, exp.seed, exp.horizon)
    # paired seeds are other runs: such a folder is another's (an unpaired folder keeps its fingerprint)
    return hashlib.sha256(f"{fp}:paired".encode()).hexdigest() if exp.paired else fp


def _describe(exp: LoadedExperiment) -> dict[str, Any]:
    """The manifest's description of the experiment."""
    return {
        "experiment_id": exp.id,
        "experiment_file": str(exp.path),
        "experiment_sha256": exp.sha256,
        "runs_fingerprint": _fingerprint(exp),
        "scenario": str(exp.scenario_path),
        "seed": exp.seed,
        "paired": exp.paired,
        "horizon": exp.horizon,
        "replications": {"fixed": exp.fixed}
        if exp.fixed is not None
        else {"adaptive": vars(exp.adaptive) if exp.adaptive is not None else None},
        "sampler": exp.sampler,
        "paths": list(exp.paths),
        "points": len(exp.points),
        "issues": list(exp.scenario.issue_ids),
        "salib_problem": exp.salib_problem,
        "calc_second_order": exp.calc_second_order,
    }


def is_new_folder(out: Path) -> bool:
    """Nothing in ``out`` but ``.lock``, temporary files and an empty ``runs/`` (a sweep killed while starting)."""
    for p in out.iterdir():
        if p.name == ".lock" or p.name.endswith(".tmp"):
            continue
        if p.name == "runs" and p.is_dir() and all(q.name.endswith(".tmp") for q in p.iterdir()):
            continue
        return False
    return True


def _read_manifest(exp: LoadedExperiment, out: Path) -> dict[str, Any] | None:
    """The manifest of the sweep folder ``out`` (None for a new folder), checked against ``exp``.

    Call with the folder's lock held: another sweep may have finished (and rewritten it) just before."""
    manifest_path = out / "manifest.json"
    if not manifest_path.exists():
        if not is_new_folder(out):
            raise OutputFolderError(
                str(out), [("", "not empty and not a sweep folder (no manifest.json): give another --out")]
            )
        return None
    try:
        old = json.loads(inside(out, "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # OutsideFolder (a link, or a file outside the folder) is a ValueError
        raise OutputFolderError(str(out), [("manifest.json", f"cannot be read: {exc}")]) from None
    if old.get("experiment_sha256") == exp.sha256:
        return old
    if old.get("runs_fingerprint") == _fingerprint(exp):
        # The same scenario, seed and horizon: every run already done is still valid (a run depends
        # only on them, its point and its replication), so new points or replications are added.
        print(f"sweep: {exp.path} changed since {out} was started; keeping the runs already done", file=sys.stderr)
        old.update(_describe(exp))
        return old
    raise OutputFolderError(
        str(out),
        [
            (
                "manifest.json",
                f"this folder holds the runs of another experiment file "
                f"({old.get('experiment_file')}, sha256 {str(old.get('experiment_sha256'))[:12]}...), "
                f"not of {exp.path} (sha256 {exp.sha256[:12]}...): "
                "give another --out, or delete the folder to start again",
            )
        ],
    )


def open_folder(exp: LoadedExperiment, out: Path) -> tuple[dict[str, Any], Callable[[], None]]:
    """Create or reopen ``out``; refuse one that holds another experiment. Returns (manifest, unlock).

    The lock is taken first and the manifest read under it; a new folder gets its manifest before
    anything else, so a sweep killed at any point leaves a folder the next one takes."""
    manifest_path = out / "manifest.json"
    if out.exists() and not out.is_dir():
        raise OutputFolderError(str(out), [("", "exists and is not a folder")])
    out.mkdir(parents=True, exist_ok=True)
    lock_existed = (out / ".lock").exists()
    unlock = lock(out)
    try:
        old = _read_manifest(exp, out)
        manifest = old or {
            **_describe(exp),
            "versions": _versions(),
            "command": " ".join(sys.argv),
            "start_time": _now(),
            "end_time": None,
            "status": "running",
            "runs": 0,
            "sessions": [],
        }
        if old is not None and old["status"] == "running":  # we hold the lock: the sweep that wrote it is gone
            print(f"sweep: {out}: {UNRECORDED}", file=sys.stderr, flush=True)
            last = manifest.get("sessions", [{}])[-1] if manifest.get("sessions") else {}
            if isinstance(last, dict) and last.get("status") is None:
                last.update(status="interrupted", stopped_by="unrecorded (killed, or its disk full)")
        manifest["status"] = "running"
        manifest["end_time"] = None
        manifest.setdefault("sessions", []).append(
            {"start_time": _now(), "end_time": None, "command": " ".join(sys.argv), "versions": _versions()}
        )
        write_json(manifest, manifest_path)
        (out / "runs").mkdir(exist_ok=True)
        for stale in (out / "runs").glob(".part-*.tmp"):  # a part being written when the sweep was killed
            stale.unlink()
        if old is not None and old.get("versions") != _versions():
            print(
                f"sweep: warning: {out} was started with other versions ({old.get('versions')}); "
                "rows from both are mixed",
                file=sys.stderr,
            )
        return manifest, unlock
    except OutputFolderError:
        if not lock_existed:  # a refused folder is left as it was
            with contextlib.suppress(OSError):
                (out / ".lock").unlink()
        unlock()
        raise
    except BaseException:
        unlock()
        raise


def write_static_files(exp: LoadedExperiment, out: Path, path_types: dict[str, pa.DataType], statics) -> None:
    """The experiment as run, its points and (sobol/morris) its design, rewritten every session: a folder
    can take new points (same scenario, seed and horizon), and these files describe the current ones."""
    write_file(out / "experiment.yaml", exp.path.read_bytes())
    fixed = [("point_id", pa.string()), ("name", pa.string()), ("set", pa.string())]
    schema = pa.schema([*fixed, *path_types.items()])
    rows = [{"point_id": p.point_id, "name": p.name, **s} for p, s in zip(exp.points, statics, strict=True)]
    write_table_atomic(pa.Table.from_pylist(rows, schema=schema), out / "points.parquet")
    design = out / "design.parquet"
    if exp.salib_X is None or exp.design_point_ids is None or exp.salib_problem is None:
        design.unlink(missing_ok=True)
        return
    # sobol/morris: the sample matrix row by row with the point each row ran as (rows may repeat a point)
    cols = {"row": pa.array(range(len(exp.design_point_ids)), pa.int64()), "point_id": pa.array(exp.design_point_ids)}
    for j, name in enumerate(exp.salib_problem["names"]):
        cols[name] = pa.array(exp.salib_X[:, j], pa.float64())
    write_table_atomic(pa.table(cols), design)


def read_done(out: Path, plan: Plan, index: dict[str, int]) -> int:
    """Mark the keys already in runs/ as finished, each once (the first row of a key found twice, as
    ``load_runs`` and ``summarise`` read it; said on stderr); returns how many rows were read."""
    seen = 0
    import pyarrow.parquet as pq

    files = part_files(out)
    dups = duplicate_rows(files)
    if dups:
        n = sum(len(v) for v in dups.values())
        where = ", ".join(f"runs/{f.name}" for f in dups)
        print(f"sweep: {out}: {n} row(s) repeat the key of an earlier row ({where}): counted once", file=sys.stderr)
    for f in files:
        t = pq.read_table(f, columns=["point_id", "replication", "escalated", "error"])
        drop = set(dups.get(f, ()))
        for k, (pid, rep, esc, err) in enumerate(zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True)):
            seen += 1
            i = index.get(pid)
            if i is None or k in drop:
                continue
            code = ERROR if err is not None else ESCALATION if esc else NO_ESCALATION
            plan.record(i, rep, code)
    return seen


class Session:
    """What one sweep session records in the manifest when it ends, however it ends."""

    def __init__(self, manifest: dict[str, Any]):
        self.manifest = manifest
        self.status = "failed"  # until it completes or is interrupted
        self.plan: Plan | None = None
        self.writer: PartWriter | None = None
        self.done_before = 0
        self.errors = 0
        self.n_slots = 0
        self.stopped_by: str | None = None
        self.moved: list[str] = []
        self.lost = 0  # finished runs whose rows a write error kept off the disk

    def write_failed(self, exc: OSError) -> None:
        self.status = "interrupted"
        self.stopped_by = self.stopped_by or f"write error: {exc}"
        self.lost = len(self.writer.buffer) if self.writer is not None else 0
        self.writer = None  # its rows could not be written; their runs are missing and run again on resume

    def finish(self, out: Path, scheduler: str | None) -> None:
        """Write the rows still buffered, then the manifest with the status; a write error in either is
        reported on stderr and does not replace the exception that ended the sweep."""
        if self.writer is not None:
            try:
                self.writer.flush()
            except StoreWriteError as exc:
                print(f"sweep: {out}: the last finished runs could not be written: {exc}", file=sys.stderr)
                self.write_failed(exc)
        m = self.manifest
        now = _now()
        m["status"] = self.status
        if self.plan is not None:
            m["runs"] = self.plan.done - self.lost
        m["end_time"] = now if self.status == "complete" else None
        m["sessions"][-1].update(
            end_time=now,
            status=self.status,
            runs=(self.plan.done if self.plan is not None else 0) - self.lost - self.done_before,
            workers=self.n_slots,
            scheduler=scheduler or "processes",
        )
        if self.stopped_by is not None:
            m["sessions"][-1]["stopped_by"] = self.stopped_by
        try:
            write_json(m, out / "manifest.json")
        except OSError as exc:
            print(
                f"sweep: {out}: could not record the status {self.status!r} in manifest.json ({exc}); it still "
                "says 'running', which `dipsim report` and the next sweep read as interrupted",
                file=sys.stderr,
                flush=True,
            )
