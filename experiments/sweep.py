"""``dipsim sweep``: every (point, replication) of an experiment into a resumable folder; the public entry.

``sweep(exp, out, workers, scheduler, progress)`` runs the experiment loaded by
``experiments.spec.load_experiment`` into the folder ``out`` (layout and columns: docs/experiments.md). This
module is the orchestration only; each job it drives lives in its own module:

* ``experiments.sweep_folder``: the folder's lock (taken before its manifest is read), the manifest, refusing a
  folder that holds another experiment, the runs already done (a rerun schedules only the missing keys), and
  the status each session ends with;
* ``experiments.plan``: which keys to run; adaptive replications are decided per point on complete prefixes
  only, so the runs done do not depend on the workers or on the order in which runs finish;
* ``experiments.executors``: a local process pool (``workers`` defaults to every core), ``--scheduler local``
  (a Dask LocalCluster) or ``--scheduler ADDRESS`` (an existing Dask cluster), each task on one BLAS thread;
* ``experiments.runs``: what a worker runs; a run that raises is recorded with its seed and ``error``
  ("Type: message") and the sweep goes on;
* ``experiments.store``: rows written as Parquet parts of at most ``PART_ROWS`` rows, at the latest every
  ``FLUSH_SECONDS`` (``DIPSIM_SWEEP_FLUSH_SECONDS`` overrides it), each complete or absent and listed with its
  sha256; a rerun sets aside parts that fail their checks (into ``damaged/``, kept) and runs their keys again;
* ``experiments.progress``: the bar or lines on stderr.

SIGTERM stops a sweep as Ctrl-C does (finished runs kept, status "interrupted"), and so does a write error
(``experiments.store.StoreWriteError``); a signal never stops it half-way through writing a part and the
bookkeeping around it (``experiments.interrupt``). With progress shown, the first runs are timed in the
sweeping process (and kept) to print an estimate. The readers (``load_runs``, ``summarise``, ...) live in
``experiments.results``.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from threadpoolctl import threadpool_limits

from experiments.estimate import Timing, plan_line
from experiments.executors import SchedulerError, connect, executor
from experiments.interrupt import SweepInterrupted, critical, interrupts
from experiments.part_writer import PartWriter
from experiments.plan import ERROR, ESCALATION, NO_ESCALATION, Plan
from experiments.progress import Progress, progress_mode
from experiments.results import DuplicateRowsWarning, summarise, write_table_atomic
from experiments.runs import path_columns, run_chunk, run_schema
from experiments.store import StoreWriteError, set_aside, write_file, write_json
from experiments.sweep_folder import OutputFolderError, Session, open_folder, read_done, write_static_files

if TYPE_CHECKING:
    from experiments.spec import LoadedExperiment

__all__ = ["OutputFolderError", "SchedulerError", "SweepFailed", "SweepInterrupted", "SweepStats", "sweep"]

PART_ROWS = 5000  # rows per part file at most
FLUSH_SECONDS = 10.0  # buffered rows are written at the latest after this long
CHUNK_SECONDS = 1.0  # aimed wall time of one chunk of runs on a worker
MAX_CHUNK = 2000
TIMING_RUNS = 4  # runs timed in the sweeping process before the workers start, at most
TIMING_SECONDS = 1.0  # ... and for at most this long (plus one run)


class SweepFailed(RuntimeError):
    """The executor failed (a worker died, the cluster went away) or a file could not be written (a full disk);
    the rows finished so far are kept."""


@dataclass(frozen=True)
class SweepStats:
    """What a sweep did, for the command's closing line and for callers."""

    out: Path
    points: int
    planned: int  # runs the experiment has at the end (adaptive: as decided)
    done_before: int  # runs found in the folder when the sweep started
    done_now: int  # runs finished in this session
    errors: int  # runs of this session that raised
    seconds: float
    workers: int
    set_aside: tuple[str, ...] = ()  # what the checks of runs/ set aside (or found absent) when the sweep started


def sweep(
    exp: LoadedExperiment,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
    *,
    part_rows: int = PART_ROWS,
    flush_seconds: float | None = None,
) -> SweepStats:
    """Run every missing (point, replication) of ``exp`` into ``out``; see the module docstring.

    ``workers``: local processes (default: every core); ``scheduler``: None (process pool), ``"local"``
    (Dask LocalCluster on loopback) or a Dask scheduler address. ``progress``: False for silence, else a bar
    on a terminal and lines otherwise. On KeyboardInterrupt (or SIGTERM, raised as SweepInterrupted) the
    pending chunks are cancelled, the finished rows written, the manifest updated ("interrupted"), and the
    interrupt re-raised; a write error (StoreWriteError) does the same and raises SweepFailed.
    """
    out = Path(out)
    if flush_seconds is None:
        flush_seconds = float(os.environ.get("DIPSIM_SWEEP_FLUSH_SECONDS", FLUSH_SECONDS))
    t0 = time.perf_counter()
    remote = connect(scheduler) if scheduler not in (None, "local") else None
    try:
        # One BLAS thread here too: the runs timed here estimate the workers' speed, and the workers
        # (pinned by the executor) are not to share the cores with this process's BLAS threads.
        with interrupts(), threadpool_limits(limits=1):
            return _sweep(exp, out, workers, scheduler, progress, part_rows, flush_seconds, remote, t0)
    finally:
        if remote is not None:
            remote.close()


def _sweep(
    exp: LoadedExperiment,
    out: Path,
    workers: int | None,
    scheduler: str | None,
    progress: bool | None,
    part_rows: int,
    flush_seconds: float,
    remote: Any,
    t0: float,
) -> SweepStats:
    try:
        manifest, unlock = open_folder(exp, out)
    except StoreWriteError as exc:
        raise SweepFailed(f"cannot write to {out}: {exc}") from exc
    # From here on every exit records a status: nothing may raise between "running" and the try.
    s = Session(manifest)
    try:
        s.plan = plan = Plan(exp)
        path_types, statics = path_columns(exp)
        write_static_files(exp, out, path_types, statics)
        # Before the runs done are read: parts that fail their checks are moved out, so their keys are missing.
        s.moved = set_aside(out, manifest, lambda: write_json(manifest, out / "manifest.json"))
        for message in s.moved:
            print(f"sweep: {out}: {message}", file=sys.stderr, flush=True)
        index = {p.point_id: i for i, p in enumerate(exp.points)}
        read_done(out, plan, index)
        for i in range(len(exp.points)):
            plan.decide(i)
        s.done_before = plan.done
        s.writer = writer = PartWriter(out, run_schema(path_types), part_rows, flush_seconds, manifest)
        mode = progress_mode(progress)
        if plan.has_work():
            left = plan.left()
            timing, s.errors = _timed_runs(exp, plan, writer, statics, index) if mode is not None else (None, 0)
            if plan.has_work():
                with executor(scheduler, workers, remote) as (ex, s.n_slots, what):
                    if mode is not None:
                        # Local workers beyond the cores run no faster; a cluster's slots are its own cores.
                        local = scheduler in (None, "local")
                        parallel = min(s.n_slots, os.cpu_count() or 1) if local else s.n_slots
                        line = plan_line(exp.id, len(exp.points), left, s.done_before, timing, parallel, what)
                        print(line, file=sys.stderr, flush=True)
                    s.errors += _run(exp, plan, writer, statics, ex, s.n_slots, mode)
        writer.flush()
        with warnings.catch_warnings():  # read_done said it already
            warnings.simplefilter("ignore", DuplicateRowsWarning)
            summary = summarise(out)
        write_table_atomic(pa.Table.from_pandas(summary, preserve_index=False), out / "summary.parquet")
        write_file(out / "summary.csv", summary.to_csv(index=False).encode("utf-8"))
        s.status = "complete"
        if mode is not None:
            print(
                f"sweep: complete: {plan.done} run(s) of {len(exp.points)} point(s) in {out} "
                f"({plan.done - s.done_before} run now, {s.errors} raised)",
                file=sys.stderr,
                flush=True,
            )
    except KeyboardInterrupt as exc:
        s.status = "interrupted"
        s.stopped_by = "SIGTERM" if isinstance(exc, SweepInterrupted) else "Ctrl-C"
        raise
    except StoreWriteError as exc:  # a full disk, a folder made read-only: stop as an interrupt does
        s.write_failed(exc)
        raise SweepFailed(f"cannot write to {out}: {exc}") from exc
    finally:
        with critical():  # a second signal does not stop the manifest being written
            s.finish(out, scheduler)
            unlock()
    return SweepStats(
        out=out,
        points=len(exp.points),
        planned=plan.planned,
        done_before=s.done_before,
        done_now=plan.done - s.done_before,
        errors=s.errors,
        seconds=time.perf_counter() - t0,
        workers=s.n_slots,
        set_aside=tuple(s.moved),
    )


def _keep(
    plan: Plan, rows: list[dict[str, Any]], statics: list[dict[str, Any]], index: dict[str, int], writer: PartWriter
) -> int:
    """Finished rows: recorded in the plan, given their point's columns, buffered for writing, and their points'
    targets decided again. Returns how many raised."""
    errors = 0
    touched = set()
    with critical():  # recorded as done and buffered together
        for row in rows:
            i = index[row["point_id"]]
            err = row["error"] is not None
            errors += err
            plan.record(i, row["replication"], ERROR if err else ESCALATION if row["escalated"] else NO_ESCALATION)
            row.update(statics[i])
            touched.add(i)
        writer.add(rows)
        for i in sorted(touched):
            plan.decide(i)
    return errors


def _timed_runs(
    exp: LoadedExperiment, plan: Plan, writer: PartWriter, statics: list[dict[str, Any]], index: dict[str, int]
) -> tuple[Timing | None, int]:
    """Run the first runs to do in this process, one at a time, to time them (they are kept like any other):
    up to TIMING_RUNS runs of the first point to do, for at most TIMING_SECONDS. Returns the timing (None if
    nothing ran) and how many raised."""
    walls: list[float] = []
    errors = 0
    first = plan.queue[0][0] if plan.queue else None
    t0 = time.perf_counter()
    while len(walls) < TIMING_RUNS and time.perf_counter() - t0 < TIMING_SECONDS and plan.queue:
        if plan.queue[0][0] != first:
            break  # another point: its first run would load its scenario, which Timing counts apart
        keys = plan.take(1)
        if not keys:
            break
        i, r = keys[0]
        p = exp.points[i]
        try:
            task = (p.point_id, r, str(exp.scenario_path), p.overrides, exp.seed_of(p.point_id, r), exp.horizon)
            rows = run_chunk([task])
        except BaseException:
            plan.release(keys)  # Ctrl-C or SIGTERM during the run: the sweep stops, the key is not done
            raise
        walls.append(rows[0]["wall_time"])
        errors += _keep(plan, rows, statics, index, writer)
    return (Timing.from_walls(walls) if walls else None), errors


def _run(
    exp: LoadedExperiment,
    plan: Plan,
    writer: PartWriter,
    statics: list[dict[str, Any]],
    ex: Executor,
    n_slots: int,
    mode: str | None,
) -> int:
    """The scheduling loop; returns the number of runs that raised."""
    scenario_path = str(exp.scenario_path)
    points = exp.points
    index = {p.point_id: i for i, p in enumerate(points)}
    max_in_flight = 2 * n_slots
    in_flight: dict[Future, list[tuple[int, int]]] = {}
    mean_wall: float | None = None
    errors = 0
    bar = Progress(mode, plan.done, plan.planned)

    def chunk_size() -> int:
        base = 4 if mean_wall is None else int(CHUNK_SECONDS / max(mean_wall, 1e-5))
        left = plan.planned - plan.done - plan.in_flight
        return max(1, min(base, math.ceil(left / (2 * n_slots)), MAX_CHUNK))

    def submit() -> None:
        while len(in_flight) < max_in_flight:
            keys = plan.take(chunk_size())
            if not keys:
                return
            tasks = [
                (
                    points[i].point_id,
                    r,
                    scenario_path,
                    points[i].overrides,
                    exp.seed_of(points[i].point_id, r),
                    exp.horizon,
                )
                for i, r in keys
            ]
            in_flight[ex.submit(run_chunk, tasks)] = keys

    def collect(fut: Future) -> None:
        nonlocal mean_wall, errors
        keys = in_flight.pop(fut)
        try:
            rows = fut.result()
        except Exception as exc:
            plan.release(keys)
            what = f"{type(exc).__name__}: {exc}"
            raise SweepFailed(f"a chunk of {len(keys)} run(s) failed in the executor: {what}") from exc
        if rows:
            w = sum(r["wall_time"] for r in rows) / len(rows)
            mean_wall = w if mean_wall is None else 0.7 * mean_wall + 0.3 * w
        errors += _keep(plan, rows, statics, index, writer)

    try:
        submit()
        while in_flight:
            done, _ = wait(list(in_flight), timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                collect(fut)
            submit()
            writer.tick()
            bar.update(plan.done, plan.planned)
        bar.update(plan.done, plan.planned, force=True)
    except BaseException:
        # Ctrl-C or an executor failure: keep what finished, cancel the rest (the caller flushes).
        for fut in list(in_flight):
            fut.cancel()
        for fut in list(in_flight):
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                collect(fut)
            else:
                plan.release(in_flight.pop(fut))
        raise
    finally:
        bar.close()
    return errors
