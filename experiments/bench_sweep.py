"""Sweep throughput and memory: ``dipsim bench --sweep`` (or ``python -m experiments.bench_sweep``).

Prints, in one benchmark run on the 2022 scenario:

* runs per second of ``dipsim sweep`` with 1 and 2 local workers, and of Mesa's own ``batch_run`` with
  ``number_processes`` 1 and 2, on the same model and the same runs (the same seeds);
* the peak resident memory of the sweeping process, and of its largest worker, for sweeps of 1,000 and
  10,000 runs (short runs: ``--memory-horizon`` steps each), each measured in a fresh process.

Aims: 2 workers at least 1.8 times one worker, at least 1.5 times ``batch_run`` with 2 processes, and peak
memory that does not grow with the number of runs. Figures to read, not tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from sim.loading import DEFAULT_SCENARIO
from sim.options import int_in_range


def _experiment(folder: Path, runs: int, horizon: int | None) -> Path:
    path = folder / f"bench_{runs}_{horizon}.yaml"
    data = {
        "id": "bench",
        "scenario": str(DEFAULT_SCENARIO),
        "seed": 1,
        "horizon": horizon,
        "replications": {"fixed": runs},
        "design": {"sampler": "points", "points": [{"name": "baseline", "set": {}}]},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def time_sweep(path: Path, out: Path, workers: int) -> float:
    """Seconds for ``sweep`` of the experiment at ``path`` into a new folder ``out``."""
    from experiments.spec import load_experiment
    from experiments.sweep import sweep

    t0 = time.perf_counter()
    sweep(load_experiment(path), out, workers=workers, progress=False)
    return time.perf_counter() - t0


def time_batch_run(path: Path, processes: int) -> float:
    """Seconds for Mesa's ``batch_run`` on the same runs (same seeds, no data collection)."""
    import mesa

    from experiments.spec import load_experiment
    from sim.model import DiplomacyModel

    exp = load_experiment(path)
    point = exp.points[0]
    seeds = [exp.seed_of(point.point_id, r) for r in range(exp.fixed or 0)]
    t0 = time.perf_counter()
    mesa.batch_run(
        DiplomacyModel,
        parameters={"config": [exp.scenario]},  # the validated scenario, as the sweep's workers cache it
        number_processes=processes,
        rng=seeds,
        max_steps=exp.scenario.calendar.n_steps,
        data_collection_period=-1,
        display_progress=False,
    )
    return time.perf_counter() - t0


_MEMORY = """
import json, resource, sys, threading, time
from pathlib import Path
import psutil
from experiments.sweep import sweep
from experiments.spec import load_experiment
me = psutil.Process()
peak = {"workers": 0}
done = threading.Event()
def watch():  # workers are grandchildren (forkserver): poll every descendant's resident memory
    while not done.is_set():
        for child in me.children(recursive=True):
            try:
                peak["workers"] = max(peak["workers"], child.memory_info().rss)
            except psutil.Error:
                pass
        time.sleep(0.2)
threading.Thread(target=watch, daemon=True).start()
sweep(load_experiment(sys.argv[1]), Path(sys.argv[2]), workers=2, progress=False)
done.set()
me_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"self_kib": me_kib, "worker_kib": peak["workers"] // 1024}))
"""


def peak_memory(path: Path, out: Path) -> dict[str, int]:
    """Peak RSS (KiB) of a fresh process sweeping ``path`` with 2 workers, and of its largest worker."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY, str(path), str(out)], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dipsim bench --sweep", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int_in_range(1), default=200, help="runs for the throughput figures (default 200)")
    ap.add_argument("--memory-horizon", type=int_in_range(1), default=5, help="steps per run in the memory sweeps")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        exp = _experiment(folder, args.runs, None)
        rates = {}
        for workers in (1, 2):
            rates[f"sweep, {workers} worker(s)"] = args.runs / time_sweep(exp, folder / f"out{workers}", workers)
        for processes in (1, 2):
            rates[f"mesa batch_run, {processes} process(es)"] = args.runs / time_batch_run(exp, processes)
        for label, rate in rates.items():
            print(f"{label:32s} {rate:7.1f} runs/s  ({args.runs} runs of the 2022 scenario)", flush=True)
        two, one, mesa2 = (
            rates["sweep, 2 worker(s)"],
            rates["sweep, 1 worker(s)"],
            rates["mesa batch_run, 2 process(es)"],
        )
        print(
            f"2 workers / 1 worker: {two / one:.2f}x (aim >= 1.8); "
            f"2 workers / batch_run(2): {two / mesa2:.2f}x (aim >= 1.5)"
        )
        for runs in (1_000, 10_000):
            mem = peak_memory(_experiment(folder, runs, args.memory_horizon), folder / f"mem{runs}")
            print(
                f"peak memory, {runs:>6,} runs of {args.memory_horizon} steps: sweeping process "
                f"{mem['self_kib'] / 1024:.0f} MiB, largest worker {mem['worker_kib'] / 1024:.0f} MiB",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
