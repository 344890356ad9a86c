"""Every task a sweep gives its workers runs on one BLAS thread, and so do the sweeping process's own runs.

With default BLAS threads (one per core) the workers and their BLAS threads fight for the same cores; each
test asks the process that ran the task how many threads its BLAS libraries have, so it fails if the pinning
is left out (on a machine with one core there is nothing to pin, and the tests are skipped).
"""

from __future__ import annotations

from pathlib import Path

import dask
import distributed  # noqa: F401 - merges its defaults into dask.config on import: before the test sets one
import numpy  # noqa: F401 - loads numpy's BLAS in a worker when it unpickles blas_threads, before the task runs
import pytest
from threadpoolctl import threadpool_info

from experiments import sweep as sweep_module
from experiments.executors import executor
from experiments.runs import run_chunk
from experiments.spec import load_experiment
from tests.sweep_helpers import FEARON_GRID


def blas_threads() -> dict[str, int]:
    """{library file: threads} of the BLAS and OpenMP libraries loaded in the process that calls it."""
    return {info["filepath"]: info["num_threads"] for info in threadpool_info()}


@pytest.fixture(autouse=True)
def several_threads_by_default() -> None:
    if max(blas_threads().values(), default=1) < 2:
        pytest.skip("BLAS runs on one thread here anyway (one core, or pinned by the environment)")


def test_a_process_pool_worker_runs_its_tasks_on_one_blas_thread() -> None:
    with executor(None, 1) as (ex, _, _):
        threads = ex.submit(blas_threads).result()
    assert threads and set(threads.values()) == {1}, threads


def test_a_dask_worker_runs_its_tasks_on_one_blas_thread() -> None:
    # Dask's nanny pins a LocalCluster's workers through the environment by default; a given cluster's workers
    # need not be started that way, so that is turned off here: only the task's own pinning is left.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {}}), executor("local", 1) as (ex, _, _):
        threads = ex.submit(blas_threads).result()
    assert threads and set(threads.values()) == {1}, threads


#: What ``run_chunk_recording`` saw in the process that ran it (only the sweeping process's calls land here).
SEEN: list[dict[str, int]] = []


def run_chunk_recording(tasks):
    """``run_chunk``, noting the BLAS threads first (module level: the workers unpickle it too)."""
    SEEN.append(blas_threads())
    return run_chunk(tasks)


def test_the_sweeping_process_runs_on_one_blas_thread_during_the_sweep(tmp_path: Path, monkeypatch) -> None:
    """The runs timed in the sweeping process (progress shown) are pinned; its threads are restored after."""
    before = blas_threads()
    SEEN.clear()
    monkeypatch.setattr(sweep_module, "run_chunk", run_chunk_recording)
    path = tmp_path / "e.yaml"
    path.write_text(FEARON_GRID.replace("fixed: 30", "fixed: 2"), encoding="utf-8")
    sweep_module.sweep(load_experiment(path), tmp_path / "out", workers=1, progress=True)
    assert SEEN and all(set(threads.values()) == {1} for threads in SEEN), SEEN
    assert blas_threads() == before


def first_of_two() -> dict[str, int]:
    """Waits until the second task has started too, then reports its BLAS threads and ends first."""
    from distributed import Event

    Event("second_in").wait(30)
    return blas_threads()


def second_of_two() -> dict[str, int]:
    """Starts while the first runs, and reports its BLAS threads once the first has ended."""
    from distributed import Event

    Event("second_in").set()
    Event("first_out").wait(30)
    return blas_threads()


def test_a_task_ending_first_leaves_the_other_task_of_its_worker_pinned() -> None:
    """A worker running two tasks at once (a cluster with several threads per worker): the limit is
    process-wide, so the task ending first must not lift it under the one still running."""
    from distributed import Client, Event, LocalCluster

    from experiments.executors import one_thread

    spawn = {"distributed.nanny.pre-spawn-environ": {}}  # no pinning through the environment: only the tasks'
    with (
        dask.config.set(spawn),
        LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        first = client.submit(one_thread, first_of_two, pure=False)
        second = client.submit(one_thread, second_of_two, pure=False)
        assert set(first.result(60).values()) == {1}
        Event("first_out", client=client).set()
        assert set(second.result(60).values()) == {1}, "the task that ended first lifted the limit"
