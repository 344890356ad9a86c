"""Step time of a large scenario with worker processes stepping at once: default BLAS threads vs one thread.

``dipsim bench --threads`` (or ``python -m experiments.bench_threads``) starts ``--workers`` processes (2 by
default, as a sweep does on 2 cores) the way the sweep starts its workers (``experiments.executors``), each
timing ``--steps`` steps of the same synthetic scenario (200 actors, 20 issues) at the same time, once with
the BLAS libraries' default threads (one per core in each process) and once pinned to one thread as the
sweep's executors pin every task (``experiments.executors.one_thread``). It prints the median time of a step
with its spread (10th and 90th percentiles) for both, and the ratio of the medians: why the sweep pins.

These are figures to read, not tests: nothing here fails on a speed.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info

from experiments.executors import mp_context, one_thread
from experiments.generate import random_scenario
from sim.model import DiplomacyModel
from sim.options import int_in_range


def _step_times(actors: int, issues: int, steps: int, barrier: Any, results: Any) -> None:
    """In a worker: build the model, wait for the other workers, time ``steps`` steps and put
    (the most threads of a BLAS library here, the step times) on ``results``.

    A run that ends early is followed by one with the next seed (construction not timed), as
    ``experiments.bench.time_steps`` does."""
    scenario = random_scenario(actors, issues, seed=0)
    seed = 0
    model = DiplomacyModel(scenario, rng=seed)
    threads = max((info["num_threads"] for info in threadpool_info()), default=1)
    times: list[float] = []
    barrier.wait()  # the workers step at the same time, as a sweep's do
    while len(times) < steps:
        if not model.running or model.day >= model.n_steps:
            seed += 1
            model = DiplomacyModel(scenario, rng=seed)
            continue
        t0 = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t0)
    results.put((threads, times))


def _worker(pinned: bool, *args: Any) -> None:
    if pinned:
        one_thread(_step_times, *args)
    else:
        _step_times(*args)


def time_concurrent_steps(actors: int, issues: int, steps: int, workers: int, pinned: bool) -> tuple[int, list[float]]:
    """(BLAS threads per worker, the step times of all workers) with ``workers`` processes stepping at once."""
    ctx = mp_context()
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(pinned, actors, issues, steps, barrier, results), daemon=True)
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    threads, times = 0, []
    received = 0
    try:
        while received < workers:
            try:
                n, got = results.get(timeout=1.0)  # read before joining: a worker exits once its result is sent
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError("a worker process of the benchmark failed") from None
                continue
            received += 1
            threads, times = max(threads, n), times + got
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    return threads, times


def _figures(times: list[float]) -> str:
    p10, p90 = np.percentile(times, [10, 90]) * 1e3
    return f"median {statistics.median(times) * 1e3:.1f} ms (p10 {p10:.1f}, p90 {p90:.1f} ms) over {len(times)} step(s)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dipsim bench --threads", description=__doc__.splitlines()[0])
    p.add_argument("--actors", type=int_in_range(2), default=200, help="actors of the synthetic scenario (default 200)")
    p.add_argument("--issues", type=int_in_range(1), default=20, help="issues of the synthetic scenario (default 20)")
    p.add_argument("--steps", type=int_in_range(1), default=20, help="steps timed in each worker (default 20)")
    p.add_argument("--workers", type=int_in_range(1), default=2, help="processes stepping at once (default 2)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    print(
        f"dipsim bench --threads: {args.workers} worker process(es) stepping at once, each timing {args.steps} "
        f"step(s) of a {args.actors}-actor/{args.issues}-issue synthetic scenario",
        flush=True,
    )
    medians = {}
    for pinned in (False, True):
        threads, times = time_concurrent_steps(args.actors, args.issues, args.steps, args.workers, pinned)
        label = f"{'one BLAS thread' if pinned else 'default BLAS threads'} ({threads} per process)"
        print(f"{label + ':':40} {_figures(times)}", flush=True)
        medians[pinned] = statistics.median(times)
    print(f"{'ratio (default / one thread, medians):':40} {medians[False] / medians[True]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
