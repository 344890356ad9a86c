"""Where a sweep's chunks run: a local process pool or a Dask cluster, behind one ``concurrent.futures`` interface.

``executor(scheduler, workers, client)`` yields (executor, parallel slots, description): a
``ProcessPoolExecutor`` (forkserver, ``workers`` defaults to every core), ``"local"`` (a Dask ``LocalCluster``
on 127.0.0.1, closed at the end) or, with ``client`` from ``connect(address)``, an existing Dask cluster
(whose workers must have dipsim installed and see the scenario file at the same path).

Every task runs with numerical libraries limited to one thread (``one_thread``), in the pool's workers and in
any Dask worker alike, and the worker keeps that limit: with default BLAS threads a 200-actor step measured 4x
slower on 2 cores, because the workers and their BLAS threads fight for the same cores (``dipsim bench
--threads`` shows the figures).
The pool's workers leave Ctrl-C and SIGTERM to the sweeping process and exit by themselves when it dies,
even killed alone with kill -9. Kept apart from the orchestration (``experiments.sweep``): how workers are
started, pinned and supervised is one job, what they are given to do is another.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from threadpoolctl import threadpool_limits

from sim.messages import ScenarioError


class SchedulerError(ScenarioError):
    """``--scheduler ADDRESS`` cannot be reached."""


def one_thread[T](fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` with BLAS and OpenMP limited to one thread in the worker that runs it, for good.

    Set by the task itself, so that it holds on any worker: a pool's, a LocalCluster's, a given cluster's
    (Dask's nanny starts its workers with ``OMP_NUM_THREADS=1`` and the like for the same reason). It is not
    restored after the task: the limit is process-wide, so on a worker running several tasks at once a task
    ending first would lift it under the others (and threadpoolctl lets only the thread that first set an
    OpenBLAS limit change it again). Set on every task, not once, so that a library loaded since is limited
    too; the task's arguments are unpickled before it starts, which imports the model and its libraries."""
    threadpool_limits(limits=1)
    return fn(*args, **kwargs)


class _OneThread(Executor):
    """An executor whose every task runs through ``one_thread``; the context that made it shuts it down."""

    def __init__(self, inner: Executor):
        self.inner = inner

    def submit[T](self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self.inner.submit(one_thread, fn, *args, **kwargs)


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


def mp_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: forks of a fork server that has imported the model (spawn on Windows)."""
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # no forkserver on this platform (Windows)
        return multiprocessing.get_context("spawn")
    # Import the model once in the fork server; each worker then starts as a cheap fork of it.
    ctx.set_forkserver_preload(["experiments.runs", "experiments.executors"])  # the task and its pin
    return ctx


def connect(scheduler: str) -> Any:
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
def executor(scheduler: str | None, workers: int | None, client: Any = None) -> Iterator[tuple[Executor, int, str]]:
    """(executor, number of parallel slots, description); a pool or LocalCluster started here is closed on exit.

    ``client``: an already connected Dask client (``--scheduler ADDRESS``), left open for the caller to close.
    """
    if scheduler is None:
        n = workers or os.cpu_count() or 1
        ex = ProcessPoolExecutor(
            max_workers=n, mp_context=mp_context(), initializer=_worker_init, initargs=(os.getpid(),)
        )
        try:
            yield _OneThread(ex), n, f"{n} local worker process(es)"
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
            yield _OneThread(ex), n, what
        finally:
            ex.shutdown(wait=False)
