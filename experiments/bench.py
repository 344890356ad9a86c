"""Performance figures: wall time of a 2022 run, of one step of a large synthetic scenario, and peak memory.

``dipsim bench [--repeat N]`` (or ``python -m experiments.bench``) prints

* the median (min, max) wall time of one full run of the bundled 2022 scenario over N seeds --
  ``DiplomacyModel(scenario, rng=seed).run()``, the scenario loaded once outside the timing, after
  one untimed warm-up run;
* the median time of one ``model.step()`` of a generated scenario with 200 actors and 20 issues,
  separately for steps with no venue (events, bloc pull, rung choice, data collection) and steps
  that hold at least one venue (bargaining on top of that); at least N of each, from as many runs of
  the scenario (seeds 0, 1, ...) as that takes;
* the peak traced memory (tracemalloc) of one 2022 run.

The aims are a 2022 run in at most 10 ms and a 200-actor step in at most 20 ms. These are figures
to read, not tests: nothing here fails when an aim is missed. ``--sweep`` (sweep throughput and memory),
``--threads`` (a 200-actor step in two workers, BLAS threads pinned and not), ``--startup`` (whole
``dipsim`` processes) and ``--backtest`` (the library backtest at 200 seeds, aim 10 minutes on 2 cores) run the
other benchmarks instead: ``experiments/bench_<name>.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from importlib import import_module

from experiments.generate import random_scenario
from sim.loading import load_scenario
from sim.model import DiplomacyModel
from sim.options import int_in_range
from sim.scenario import Scenario

AIM_RUN_MS = 10.0
AIM_STEP_MS = 20.0
MAX_STEP_RUNS = 10  # runs of the synthetic scenario at most, to collect step samples


def time_runs(scenario: Scenario, seeds: Sequence[int]) -> list[float]:
    """Wall time in seconds of one full run per seed (model construction included)."""
    out = []
    for seed in seeds:
        t0 = time.perf_counter()
        DiplomacyModel(scenario, rng=seed).run()
        out.append(time.perf_counter() - t0)
    return out


def time_steps(scenario: Scenario, min_samples: int, max_runs: int = MAX_STEP_RUNS) -> tuple[list[float], list[float]]:
    """Wall time in seconds of each ``model.step()``, as (steps with no venue, steps with a venue).

    Runs the scenario with seeds 0, 1, ... (model construction not timed) until there are at least
    ``min_samples`` of each kind or ``max_runs`` runs have been made. Only steps taken while the
    model is running are timed.
    """
    quiet: list[float] = []
    busy: list[float] = []
    for seed in range(max_runs):
        model = DiplomacyModel(scenario, rng=seed)
        while model.running and model.day < model.n_steps:
            has_venue = bool(model.venues_by_step.get(model.day))
            t0 = time.perf_counter()
            model.step()
            (busy if has_venue else quiet).append(time.perf_counter() - t0)
        if len(quiet) >= min_samples and (len(busy) >= min_samples or not model.venues_by_step):
            break
    return quiet, busy


def peak_memory(scenario: Scenario, seed: int = 0) -> int:
    """Peak traced memory in bytes of one full run (model construction included)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        DiplomacyModel(scenario, rng=seed).run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _spread(samples: list[float]) -> str:
    return f"median {_ms(statistics.median(samples))} (min {_ms(min(samples))}, max {_ms(max(samples))})"


def _aim(samples: list[float], aim_ms: float) -> str:
    met = statistics.median(samples) * 1e3 <= aim_ms
    return f"[aim <= {aim_ms:g} ms: {'met' if met else 'not met'}]"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dipsim bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--repeat", type=int_in_range(1), default=20, help="seeds of the 2022 run; step samples (default 20)"
    )
    p.add_argument("--actors", type=int_in_range(1), default=200, help="actors of the synthetic scenario (default 200)")
    p.add_argument("--issues", type=int_in_range(1), default=20, help="issues of the synthetic scenario (default 20)")
    p.add_argument("--sweep", action="store_true", help="sweep throughput and memory instead (experiments.bench_sweep)")
    p.add_argument(
        "--threads",
        action="store_true",
        help="a 200-actor step in 2 workers, BLAS threads pinned and not (experiments.bench_threads)",
    )
    p.add_argument(
        "--startup", action="store_true", help="whole dipsim processes: --help, validate, run (bench_startup)"
    )
    p.add_argument(
        "--backtest", action="store_true", help="the library backtest's wall time, 200 seeds (bench_backtest)"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for flag in ("--sweep", "--threads", "--startup", "--backtest"):
        if flag in argv:  # another benchmark: every other option (--help, --actors, ...) is its own
            argv.remove(flag)
            return import_module(f"experiments.bench_{flag.removeprefix('--')}").main(argv)
    args = _parser().parse_args(argv)

    print(f"dipsim bench: aims are a 2022 run <= {AIM_RUN_MS:g} ms and a 200-actor step <= {AIM_STEP_MS:g} ms")

    sc2022 = load_scenario()
    time_runs(sc2022, [0])  # warm-up, not reported: first-call costs (imports, caches)
    runs = time_runs(sc2022, range(args.repeat))
    print(
        f"2022 run: {_spread(runs)} over {args.repeat} seed(s)  {_aim(runs, AIM_RUN_MS)}",
        flush=True,
    )

    synth = random_scenario(args.actors, args.issues, seed=0)
    quiet, busy = time_steps(synth, args.repeat)
    label = f"{args.actors}-actor/{args.issues}-issue step"
    aim = AIM_STEP_MS if args.actors == 200 else None
    for kind, samples in (("no venue", quiet), ("with a venue", busy)):
        if samples:
            note = f"  {_aim(samples, aim)}" if aim is not None else ""
            print(f"{label} ({kind}): {_spread(samples)} over {len(samples)} step(s){note}")
        else:
            print(f"{label} ({kind}): no such step was run")
    print(
        f"  (synthetic scenario {synth.id}: {len(synth.venues)} venues over {synth.calendar.n_steps} days; "
        "steps with no venue and steps with a venue are timed separately)",
    )

    peak = peak_memory(sc2022)
    print(f"2022 run peak memory (tracemalloc): {peak / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
