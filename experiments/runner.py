"""The batch runner behind ``dipsim sweep``: every (point, replication) of an experiment, resumable.

``sweep(exp, out, workers, scheduler, progress)`` runs the experiment loaded by
``experiments.spec.load_experiment`` into the folder ``out`` (layout and columns: docs/experiments.md):

* the runs go in chunks through one ``concurrent.futures`` executor interface: a local
  ``ProcessPoolExecutor`` (forkserver; ``workers`` defaults to every core), ``--scheduler local`` (a Dask
  ``LocalCluster`` on 127.0.0.1, closed at the end) or ``--scheduler ADDRESS`` (an existing Dask cluster,
  whose workers must have dipsim installed and see the scenario file at the same path);
* rows are buffered and written as Parquet part files of at most ``PART_ROWS`` rows, at the latest every
  ``FLUSH_SECONDS`` (environment variable ``DIPSIM_SWEEP_FLUSH_SECONDS`` overrides it), each written under a
  temporary name and renamed into place, so a part is complete or absent;
* a rerun reads the (point_id, replication) keys already in ``runs/`` and schedules only the missing ones;
  the folder's lock is taken before its manifest is read, a new folder gets its manifest first, and a folder
  holding another experiment file (by sha256) or other files without a manifest is refused;
* the pool's workers exit by themselves when the sweeping process dies, even killed alone with kill -9;
* adaptive replications are decided per point, in replication order, on complete prefixes only, so the
  runs done do not depend on the workers or on the order in which runs finish;
* a run that raises is recorded with its seed and ``error`` ("Type: message") and the sweep goes on;
* each part's sha256 and row count go in the manifest as it is written (``experiments.store``); a rerun sets
  aside parts that fail their checks (into ``damaged/``, kept) and runs their keys again;
* SIGTERM stops a sweep as Ctrl-C does (finished runs kept, status "interrupted"), and so does a write error
  (``experiments.store.StoreWriteError``); a signal never stops it half-way through writing a part and the
  bookkeeping around it (``experiments.interrupt``). If even the manifest cannot be written, it still says
  "running" once no sweep holds the folder's lock, and the readers and the next sweep count it as interrupted;
* with progress shown, the first runs are timed in the sweeping process (and kept) to print an estimate.

Beyond the contract's files the folder holds ``design.parquet`` (sobol/morris: each row of the SALib sample
matrix with the point it ran as; rows may repeat a point) and ``.lock`` (held while a sweep writes). The
manifest also records the scenario path, seed, horizon, replications, sampler, paths, issues, SALib problem,
``status`` (running, interrupted, failed, complete), ``runs``, ``parts`` and ``set_aside``
(``experiments.store``) and one entry per session (command, versions, start and end, runs done, workers, what
stopped it). ``run_one`` and ``run_chunk`` are what the workers execute; the readers
(``load_runs``, ``load_points``, ``load_summary``, ``summarise``) live in ``experiments.results``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import math
import multiprocessing
import os
import platform
import select
import signal
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from experiments.estimate import Timing, plan_line
from experiments.folder import UNRECORDED, inside
from experiments.interrupt import SweepInterrupted, critical, interrupts
from experiments.results import (
    DuplicateRowsWarning,
    duplicate_rows,
    load_points,
    load_runs,
    load_summary,
    part_files,
    summarise,
    wilson,
    write_table_atomic,
)
from experiments.spec import canonical
from experiments.store import (
    RUN_FIELDS_AFTER,
    RUN_FIELDS_BEFORE,
    StoreWriteError,
    set_aside,
    write_file,
    write_json,
    write_part,
)
from sim.model import DiplomacyModel
from sim.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from experiments.spec import LoadedExperiment

__all__ = [
    "OutputFolderError",
    "SchedulerError",
    "SweepFailed",
    "SweepInterrupted",
    "SweepStats",
    "load_points",
    "load_runs",
    "load_summary",
    "run_chunk",
    "run_one",
    "summarise",
    "sweep",
]

PART_ROWS = 5000  # rows per part file at most
FLUSH_SECONDS = 10.0  # buffered rows are written at the latest after this long
CHUNK_SECONDS = 1.0  # aimed wall time of one chunk of runs on a worker
PROGRESS_SECONDS = 5.0  # a progress line at least this often when stderr is not a terminal
MAX_CHUNK = 2000
TIMING_RUNS = 4  # runs timed in the sweeping process before the workers start, at most
TIMING_SECONDS = 1.0  # ... and for at most this long (plus one run)
LOCK_TRIES = 5  # attempts to take a folder's lock, 50 ms apart, before it counts as another sweep's

# Per (point, replication) state in the scheduler.
MISSING, NO_ESCALATION, ESCALATION, ERROR, QUEUED = 0, 1, 2, 3, 4


class OutputFolderError(ScenarioError):
    """The output folder cannot take this sweep (another experiment's results, not a sweep folder, in use)."""


class SchedulerError(ScenarioError):
    """``--scheduler ADDRESS`` cannot be reached."""


class SweepFailed(RuntimeError):
    """The executor failed (a worker died, the cluster went away) or a file could not be written (a full disk);
    the rows finished so far are kept."""


# --------------------------------------------------------------------------- one run (in a worker)


@functools.lru_cache(maxsize=64)
def _scenario(path: str, overrides_key: str) -> Scenario:
    """The base scenario at ``path`` with the overrides applied and validated, cached per worker process.

    ``overrides_key`` is the canonical JSON of the overrides (their order does not matter to
    ``apply_overrides``)."""
    return load_scenario(path, json.loads(overrides_key))


def run_one(scenario_path: str, overrides: dict[str, Any], seed: int, horizon: int | None) -> dict[str, Any]:
    """Run one seeded replication and return its row (the run's own columns of docs/experiments.md).

    Returns ``seed``, ``outcome``, ``escalated``, ``escalation_step``, ``escalation_date``, ``max_rung``,
    ``max_rung_score``, ``agreed_issues``, ``steps_run``, ``wall_time`` and ``error``; the runner adds
    ``point_id``, ``replication``, ``set`` and the path columns. Any exception (loading the overridden
    scenario, building or running the model) gives a row with ``error = "Type: message"`` instead of raising.
    """
    t0 = time.perf_counter()
    model: DiplomacyModel | None = None
    try:
        scenario = _scenario(str(scenario_path), canonical(overrides))
        model = DiplomacyModel(scenario, rng=int(seed))
        res = model.run(horizon)
        esc = res.escalation
        row: dict[str, Any] = {
            "seed": int(seed),
            "outcome": res.outcome,
            "escalated": bool(res.escalated),
            "escalation_step": float(esc["step"]) if esc else math.nan,
            "escalation_date": str(esc["date"]) if esc else None,
            "max_rung": str(res.max_rung["id"]),
            "max_rung_score": float(res.max_rung["score"]),
            "agreed_issues": ",".join(sorted({str(a["issue"]) for a in res.agreements})),
            "steps_run": int(res.steps_run),
            "error": None,
        }
    except Exception as exc:  # noqa: BLE001 - one failing run must never stop the sweep
        row = {
            "seed": int(seed),
            "outcome": None,
            "escalated": None,
            "escalation_step": math.nan,
            "escalation_date": None,
            "max_rung": None,
            "max_rung_score": math.nan,
            "agreed_issues": None,
            "steps_run": int(getattr(model, "day", 0) or 0),
            "error": f"{type(exc).__name__}: {exc}",
        }
    row["wall_time"] = time.perf_counter() - t0
    return row


def run_chunk(tasks: list[tuple[str, int, str, dict[str, Any], int, int | None]]) -> list[dict[str, Any]]:
    """Run several runs in one worker task: ``(point_id, replication, scenario_path, overrides, seed, horizon)``."""
    return [
        {"point_id": pid, "replication": int(rep), **run_one(path, overrides, seed, horizon)}
        for pid, rep, path, overrides, seed, horizon in tasks
    ]


def _worker_init(sweeper: int) -> None:
    """Process-pool worker initializer: Ctrl-C is the parent's to handle (it flushes and cancels), and the
    worker exits by itself once the sweeping process ``sweeper`` is gone.

    Killing the sweeping process alone (``kill -9 PID``, not its process group) would otherwise leave the
    workers waiting forever: each holds both ends of the task queue's pipe and the fork server's "alive"
    pipe, so neither they nor the fork server (their parent) ever see end of file. Once the workers exit,
    the fork server and the resource tracker see it and exit too.
    """
    # SIGTERM to the whole process group (a service manager, `timeout`) is the sweeping process's to handle too:
    # it stops in order, and the workers exit once it shuts the pool down or is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    watcher = threading.Thread(
        target=_exit_with, args=(sweeper, os.getppid()), name="dipsim-exit-with-sweeper", daemon=True
    )
    watcher.start()


def _exit_with(sweeper: int, parent: int) -> None:
    """Wait for the process ``sweeper`` to end (or this process's parent to change), then ``os._exit(0)``.

    Linux: a pidfd of ``sweeper`` becomes readable when it terminates (a zombie not yet reaped counts).
    Elsewhere: ``os.kill(sweeper, 0)`` (POSIX) and ``os.getppid()`` once a second.
    """
    pidfd: int | None = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(sweeper)
        except ProcessLookupError:
            os._exit(0)
        except OSError:  # an old kernel or a sandbox without pidfd_open: poll instead
            pidfd = None
    while True:
        if pidfd is not None:
            gone = bool(select.select([pidfd], [], [], 1.0)[0])
        else:
            time.sleep(1.0)
            gone = not _process_alive(sweeper)
        if gone or os.getppid() != parent:
            os._exit(0)


def _process_alive(pid: int) -> bool:
    if os.name != "posix":  # Windows: os.kill would terminate it; the spawned worker's parent is the sweeper
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- columns


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


_ABSENT = object()


def _path_columns(exp: LoadedExperiment) -> tuple[dict[str, pa.DataType], list[dict[str, Any]]]:
    """The type of each path column (float if every value is a number, else JSON text) and each point's values.

    A point that does not set a path (the ``points`` sampler) has null there; a value of null (e.g. a venue
    removed) is the JSON text ``null``.
    """
    types: dict[str, pa.DataType] = {}
    for path in exp.paths:
        values = [p.overrides.get(path, _ABSENT) for p in exp.points]
        present = [v for v in values if v is not _ABSENT]
        types[path] = pa.float64() if present and all(_is_number(v) for v in present) else pa.string()
    statics = []
    for p in exp.points:
        static: dict[str, Any] = {"set": canonical(p.overrides)}
        for path, typ in types.items():
            v = p.overrides.get(path, _ABSENT)
            if v is _ABSENT:
                static[path] = None
            elif typ == pa.float64():
                static[path] = float(v)
            else:
                static[path] = json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)
        statics.append(static)
    return types, statics


def run_schema(path_types: dict[str, pa.DataType]) -> pa.Schema:
    """The Arrow schema of the per-run rows (every part file has exactly this schema)."""
    return pa.schema([*RUN_FIELDS_BEFORE, *path_types.items(), *RUN_FIELDS_AFTER])


# --------------------------------------------------------------------------- the plan


class _Plan:
    """Which (point, replication) keys are done, queued or still to decide, and the queue of work.

    ``codes[i][r]`` is MISSING, QUEUED, or the finished run's NO_ESCALATION / ESCALATION / ERROR;
    ``target[i]`` is the number of replications point ``i`` is planned to have (fixed, or decided so far).
    Memory: one byte per possible replication.
    """

    def __init__(self, exp: LoadedExperiment):
        self.adaptive = exp.adaptive
        n = len(exp.points)
        if exp.fixed is not None:
            cap, first = exp.fixed, exp.fixed
        else:
            assert exp.adaptive is not None
            cap, first = exp.adaptive.max, min(exp.adaptive.min, exp.adaptive.max)
        self.codes = [bytearray(cap) for _ in range(n)]
        self.target = [first] * n
        self.queued_upto = [0] * n
        self.queue: deque[list[int]] = deque()  # [point index, next replication, stop]
        self.done = 0  # finished keys below their point's target
        self.in_flight = 0

    @property
    def planned(self) -> int:
        return sum(self.target)

    def record(self, i: int, r: int, code: int) -> bool:
        """A finished run; False if the key is unknown or already finished (then it is ignored)."""
        c = self.codes[i]
        if r >= len(c) or c[r] in (NO_ESCALATION, ESCALATION, ERROR):
            return False
        if c[r] == QUEUED:
            self.in_flight -= 1
        c[r] = code
        if r < self.target[i]:
            self.done += 1
        return True

    def decide(self, i: int) -> None:
        """Move point ``i``'s target over its complete prefixes, then queue what is missing below it.

        Adaptive rule (docs/experiments.md): with replications ``0..n-1`` all finished, go on to
        ``min(n + batch, max)`` while the Wilson 95% half-width over the runs without error is above
        ``half_width`` and ``n < max``. A prefix in which every run raised stops the point.
        """
        c = self.codes[i]
        ad = self.adaptive
        if ad is not None:
            n = self.target[i]
            while n < ad.max:
                prefix = c[:n]
                if MISSING in prefix or QUEUED in prefix:
                    break
                ok = n - prefix.count(ERROR)
                if ok == 0:
                    break
                low, high = wilson(prefix.count(ESCALATION), ok)
                if (high - low) / 2 <= ad.half_width:
                    break
                new = min(n + ad.batch, ad.max)
                self.done += sum(1 for x in c[n:new] if x in (NO_ESCALATION, ESCALATION, ERROR))
                n = new
            self.target[i] = n
        n = self.target[i]
        if n > self.queued_upto[i]:
            self.queue.append([i, self.queued_upto[i], n])
            self.queued_upto[i] = n

    def take(self, size: int) -> list[tuple[int, int]]:
        """Up to ``size`` keys to run next, marked QUEUED, in queue (and replication) order."""
        out: list[tuple[int, int]] = []
        while self.queue and len(out) < size:
            item = self.queue[0]
            i, r, stop = item
            c = self.codes[i]
            while r < stop and len(out) < size:
                if c[r] == MISSING:
                    c[r] = QUEUED
                    out.append((i, r))
                r += 1
            if r >= stop:
                self.queue.popleft()
            else:
                item[1] = r
        self.in_flight += len(out)
        return out

    def left(self) -> tuple[int, int]:
        """(fewest, most) runs still to do: those below each point's target, and (adaptive) up to ``max`` for a
        point whose target may still grow (runs below its target are still to come)."""
        low = high = 0
        for i, c in enumerate(self.codes):
            below = c[: self.target[i]]
            todo = below.count(MISSING) + below.count(QUEUED)
            low += todo
            high += c.count(MISSING) + c.count(QUEUED) if todo else 0
        return low, high

    def release(self, keys: list[tuple[int, int]]) -> None:
        """Keys of a chunk that will not finish (cancelled): back to MISSING."""
        for i, r in keys:
            if self.codes[i][r] == QUEUED:
                self.codes[i][r] = MISSING
                self.in_flight -= 1


# --------------------------------------------------------------------------- part files


class _PartWriter:
    """Buffers rows; writes ``runs/part-N.parquet`` (N after the highest existing) atomically, each listed with
    its checksum in ``manifest`` (``experiments.store.write_part``)."""

    def __init__(self, out: Path, schema: pa.Schema, part_rows: int, flush_seconds: float, manifest: dict[str, Any]):
        self.runs = out / "runs"
        self.manifest = manifest
        self.manifest_path = out / "manifest.json"
        self.schema = schema
        self.part_rows = max(1, part_rows)
        self.flush_seconds = flush_seconds
        existing = part_files(out)
        self.next = int(existing[-1].name.split("-")[1].split(".")[0]) + 1 if existing else 1
        self.buffer: list[dict[str, Any]] = []
        self.since: float | None = None
        self.rows_written = 0

    def add(self, rows: list[dict[str, Any]]) -> None:
        with critical():
            if rows and self.since is None:
                self.since = time.monotonic()
            self.buffer.extend(rows)
            while len(self.buffer) >= self.part_rows:
                self._write(self.part_rows)
            if not self.buffer:
                self.since = None

    def tick(self) -> None:
        if self.since is not None and time.monotonic() - self.since >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        with critical():
            if self.buffer:
                self._write(len(self.buffer))
            self.since = None

    def _write(self, n: int) -> None:
        """Write the first ``n`` buffered rows as the next part and drop them from the buffer (a critical
        section: a signal never leaves rows both written and buffered, which would write them twice)."""
        rows = self.buffer[:n]
        table = pa.Table.from_pylist(rows, schema=self.schema)
        path = self.runs / f"part-{self.next:06d}.parquet"
        write_part(path, table, self.manifest, lambda: write_json(self.manifest, self.manifest_path))
        self.next += 1
        self.rows_written += len(rows)
        del self.buffer[:n]


# --------------------------------------------------------------------------- progress


class _Progress:
    """A tqdm bar on a terminal; otherwise a line every PROGRESS_SECONDS or every 10%."""

    def __init__(self, mode: str | None, done: int, total: int):
        self.mode = mode
        self.start = time.monotonic()
        self.done0 = done
        self.last_time = self.start
        self.last_decile = self._decile(done, total)
        self.last_done = done
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns
            except (OSError, ValueError):
                width = 0
            size = {"dynamic_ncols": True} if width > 0 else {"ncols": 80}  # a pty may report 0 columns
            self.bar = tqdm(total=total, initial=done, unit="run", file=sys.stderr, **size)

    @staticmethod
    def _decile(done: int, total: int) -> int:
        return (10 * done) // total if total else 10

    def update(self, done: int, total: int, force: bool = False) -> None:
        if self.bar is not None:
            if self.bar.total != total:
                self.bar.total = total
            self.bar.update(done - self.bar.n)
            return
        if self.mode != "lines":
            return
        now = time.monotonic()
        decile = self._decile(done, total)
        due = now - self.last_time >= PROGRESS_SECONDS or decile > self.last_decile
        if (force and done != self.last_done) or (due and done != self.last_done):
            self.last_time, self.last_decile, self.last_done = now, decile, done
            rate = (done - self.done0) / max(now - self.start, 1e-9)
            eta = f"{(total - done) / rate:.0f} s" if rate > 0 else "?"
            print(f"sweep: {done}/{total} runs, {rate:.1f} runs/s, ETA {eta}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _progress_mode(progress: bool | None) -> str | None:
    if progress is False:
        return None
    return "bar" if sys.stderr.isatty() else "lines"


# --------------------------------------------------------------------------- executors


def _mp_context() -> multiprocessing.context.BaseContext:
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # no forkserver on this platform (Windows)
        return multiprocessing.get_context("spawn")
    # Import the model once in the fork server; each worker then starts as a cheap fork of it.
    ctx.set_forkserver_preload(["experiments.runner"])
    return ctx


def _connect(scheduler: str) -> Any:
    """A Dask client of the cluster at ``scheduler`` (checked before the output folder is touched)."""
    import socket
    from urllib.parse import urlsplit

    from distributed import Client

    # A refused or unroutable address fails at once, not after the client's own timeout.
    where = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if where.hostname and where.port:
        try:
            socket.create_connection((where.hostname, where.port), timeout=3).close()
        except OSError as exc:
            raise SchedulerError("--scheduler", [(scheduler, f"cannot reach the Dask scheduler: {exc}")]) from None
    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError("--scheduler", [(scheduler, f"cannot connect to the Dask scheduler: {exc}")]) from None


@contextlib.contextmanager
def _quiet_dask_startup() -> Iterator[None]:
    """While a LocalCluster starts: its worker processes inherit an ignored SIGINT (Ctrl-C is the sweep's to
    handle, as with the process pool) and Dask logging at ERROR (a cancelled chunk is no news)."""
    import logging

    main = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    env_before = os.environ.get("DASK_LOGGING__DISTRIBUTED")
    os.environ["DASK_LOGGING__DISTRIBUTED"] = "error"
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, before)
        if env_before is None:
            os.environ.pop("DASK_LOGGING__DISTRIBUTED", None)
        else:
            os.environ["DASK_LOGGING__DISTRIBUTED"] = env_before
        logging.getLogger("distributed").setLevel(logging.ERROR)


@contextlib.contextmanager
def _executor(scheduler: str | None, workers: int | None, client: Any = None) -> Iterator[tuple[Executor, int, str]]:
    """(executor, number of parallel slots, description); a pool or LocalCluster started here is closed on exit.

    ``client``: an already connected Dask client (``--scheduler ADDRESS``), left open for the caller to close.
    """
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        ex = ProcessPoolExecutor(
            max_workers=n, mp_context=_mp_context(), initializer=_worker_init, initargs=(os.getpid(),)
        )
        try:
            yield ex, n, f"{n} local worker process(es)"
        except BaseException:
            ex.shutdown(wait=False, cancel_futures=True)  # workers finish their current chunk, then exit
            raise
        ex.shutdown(wait=True)
        return
    import logging

    level = logging.getLogger("distributed").level
    with contextlib.ExitStack() as stack:
        stack.callback(logging.getLogger("distributed").setLevel, level)
        if scheduler == "local":
            from distributed import Client, LocalCluster

            n = workers or os.cpu_count() or 1
            with _quiet_dask_startup():
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                    )
                )
            client = stack.enter_context(Client(cluster))
            what = f"Dask LocalCluster, {n} worker process(es) on 127.0.0.1"
        else:
            assert client is not None
            slots = sum(client.nthreads().values())
            n = workers or slots or 1
            what = f"Dask scheduler {scheduler} ({slots} worker thread(s))"
        ex = client.get_executor(pure=False)
        try:
            yield ex, n, what
        finally:
            ex.shutdown(wait=False)


# --------------------------------------------------------------------------- the output folder


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


def _lock(out: Path) -> Callable[[], None]:
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


def _fingerprint(exp: LoadedExperiment) -> str:
    """What every run of a folder depends on besides its point and replication: scenario, seed, horizon."""
    blob = json.dumps(
        {
            "scenario_sha256": hashlib.sha256(exp.scenario_path.read_bytes()).hexdigest(),
            "seed": exp.seed,
            "horizon": exp.horizon,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _describe(exp: LoadedExperiment) -> dict[str, Any]:
    """The manifest's description of the experiment."""
    return {
        "experiment_id": exp.id,
        "experiment_file": str(exp.path),
        "experiment_sha256": exp.sha256,
        "runs_fingerprint": _fingerprint(exp),
        "scenario": str(exp.scenario_path),
        "seed": exp.seed,
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


def _is_new_folder(out: Path) -> bool:
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
        if not _is_new_folder(out):
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


def _open_folder(exp: LoadedExperiment, out: Path) -> tuple[dict[str, Any], Callable[[], None]]:
    """Create or reopen ``out``; refuse one that holds another experiment. Returns (manifest, unlock).

    The lock is taken first and the manifest read under it; a new folder gets its manifest before
    anything else, so a sweep killed at any point leaves a folder the next one takes."""
    manifest_path = out / "manifest.json"
    if out.exists() and not out.is_dir():
        raise OutputFolderError(str(out), [("", "exists and is not a folder")])
    out.mkdir(parents=True, exist_ok=True)
    lock_existed = (out / ".lock").exists()
    unlock = _lock(out)
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


def _write_static_files(exp: LoadedExperiment, out: Path, path_types: dict[str, pa.DataType], statics) -> None:
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


def _read_done(out: Path, plan: _Plan, index: dict[str, int]) -> int:
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


# --------------------------------------------------------------------------- sweep


@dataclass(frozen=True)
class SweepStats:
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
    remote = _connect(scheduler) if scheduler not in (None, "local") else None
    try:
        with interrupts():
            return _sweep(exp, out, workers, scheduler, progress, part_rows, flush_seconds, remote, t0)
    finally:
        if remote is not None:
            remote.close()


def _has_work(plan: _Plan) -> bool:
    return bool(plan.queue) and any(MISSING in c[: plan.target[i]] for i, c in enumerate(plan.codes))


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
        manifest, unlock = _open_folder(exp, out)
    except StoreWriteError as exc:
        raise SweepFailed(f"cannot write to {out}: {exc}") from exc
    # From here on every exit records a status: nothing may raise between "running" and the try.
    s = _Session(manifest)
    try:
        s.plan = plan = _Plan(exp)
        path_types, statics = _path_columns(exp)
        _write_static_files(exp, out, path_types, statics)
        # Before the runs done are read: parts that fail their checks are moved out, so their keys are missing.
        s.moved = set_aside(out, manifest, lambda: write_json(manifest, out / "manifest.json"))
        for message in s.moved:
            print(f"sweep: {out}: {message}", file=sys.stderr, flush=True)
        index = {p.point_id: i for i, p in enumerate(exp.points)}
        _read_done(out, plan, index)
        for i in range(len(exp.points)):
            plan.decide(i)
        s.done_before = plan.done
        s.writer = writer = _PartWriter(out, run_schema(path_types), part_rows, flush_seconds, manifest)
        mode = _progress_mode(progress)
        if _has_work(plan):
            left = plan.left()
            timing, s.errors = _timed_runs(exp, plan, writer, statics, index) if mode is not None else (None, 0)
            if _has_work(plan):
                with _executor(scheduler, workers, remote) as (ex, s.n_slots, what):
                    if mode is not None:
                        # Local workers beyond the cores run no faster; a cluster's slots are its own cores.
                        local = scheduler in (None, "local")
                        parallel = min(s.n_slots, os.cpu_count() or 1) if local else s.n_slots
                        line = plan_line(exp.id, len(exp.points), left, s.done_before, timing, parallel, what)
                        print(line, file=sys.stderr, flush=True)
                    s.errors += _run(exp, plan, writer, statics, ex, s.n_slots, mode)
        writer.flush()
        with warnings.catch_warnings():  # _read_done said it already
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


class _Session:
    """What one sweep session records in the manifest when it ends, however it ends."""

    def __init__(self, manifest: dict[str, Any]):
        self.manifest = manifest
        self.status = "failed"  # until it completes or is interrupted
        self.plan: _Plan | None = None
        self.writer: _PartWriter | None = None
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


def _keep(
    plan: _Plan, rows: list[dict[str, Any]], statics: list[dict[str, Any]], index: dict[str, int], writer: _PartWriter
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
    exp: LoadedExperiment, plan: _Plan, writer: _PartWriter, statics: list[dict[str, Any]], index: dict[str, int]
) -> tuple[Timing | None, int]:
    """Run the first runs to do in this process, one at a time, to time them (they are kept like any other):
    up to TIMING_RUNS runs of the first point to do, for at most TIMING_SECONDS. Returns the timing (None if
    nothing ran) and how many raised."""
    from experiments.spec import run_seed

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
            task = (p.point_id, r, str(exp.scenario_path), p.overrides, run_seed(exp.seed, p.point_id, r), exp.horizon)
            rows = run_chunk([task])
        except BaseException:
            plan.release(keys)  # Ctrl-C or SIGTERM during the run: the sweep stops, the key is not done
            raise
        walls.append(rows[0]["wall_time"])
        errors += _keep(plan, rows, statics, index, writer)
    return (Timing.from_walls(walls) if walls else None), errors


def _run(
    exp: LoadedExperiment,
    plan: _Plan,
    writer: _PartWriter,
    statics: list[dict[str, Any]],
    ex: Executor,
    n_slots: int,
    mode: str | None,
) -> int:
    """The scheduling loop; returns the number of runs that raised."""
    from experiments.spec import run_seed

    scenario_path = str(exp.scenario_path)
    points = exp.points
    index = {p.point_id: i for i, p in enumerate(points)}
    max_in_flight = 2 * n_slots
    in_flight: dict[Future, list[tuple[int, int]]] = {}
    mean_wall: float | None = None
    errors = 0
    bar = _Progress(mode, plan.done, plan.planned)

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
                    run_seed(exp.seed, points[i].point_id, r),
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
