"""``dipsim sweep``, ``report``, ``backtest`` and ``bench``: the batch runner's commands.

The experiment file is checked before the sweep's modules (pandas, pyarrow, Dask) are imported, so that a bad
file is refused at once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED
from sim.size import scenario_estimate


def cmd_sweep(args: argparse.Namespace) -> int:
    from experiments.spec import MAX_POINTS, MAX_RUNS, load_experiment

    exp = load_experiment(args.experiment, max_points=args.max_points or MAX_POINTS, max_runs=args.max_runs or MAX_RUNS)
    if (warning := scenario_estimate(exp.scenario, exp.horizon).warning(str(exp.scenario_path))) is not None:
        print(warning, file=sys.stderr, flush=True)
    from experiments.interrupt import SweepInterrupted
    from experiments.sweep import SweepFailed, sweep

    try:
        out = Path(args.out) if args.out else Path("runs") / exp.id
        stats = sweep(exp, out, workers=args.workers, scheduler=args.scheduler, progress=None)
    except SweepInterrupted:
        print("\nsweep stopped by SIGTERM: the finished runs are kept; run the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("\nsweep interrupted: the finished runs are kept; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepFailed as exc:
        print(f"sweep failed: {exc}\nthe finished runs are kept; run the same command again to resume", file=sys.stderr)
        return EXIT_FAILED
    print(f"{stats.out}: {stats.planned} run(s) of {stats.points} point(s); summary in {stats.out / 'summary.csv'}")
    if stats.errors:
        print(f"{stats.errors} run(s) raised: see the error column of the runs", file=sys.stderr)
    return EXIT_OK


def cmd_backtest(args: argparse.Namespace) -> int:
    from experiments.backtest import DEFAULT_OUT, backtest
    from experiments.interrupt import SweepInterrupted
    from experiments.library import LIBRARY
    from experiments.sweep import SweepFailed

    resume = "the finished runs are kept; run the same command again to resume"
    out = Path(args.out) if args.out else DEFAULT_OUT
    try:
        result = backtest(
            Path(args.dir) if args.dir else LIBRARY,
            out,
            seeds=args.seeds,
            workers=args.workers,
            seed=args.seed,
            progress=None,
        )
    except SweepInterrupted:
        print(f"\nbacktest stopped by SIGTERM: {resume}", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print(f"\nbacktest interrupted: {resume}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepFailed as exc:
        print(f"backtest failed: {exc}\n{resume}", file=sys.stderr)
        return EXIT_FAILED
    print(result.report.text)
    seconds = sum(s.seconds for s in result.sweeps)
    print(f"\n{out}: crises.csv, scores.csv, forecasts.csv, backtest.txt, reliability.png ({seconds:.0f} s of runs)")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from experiments import bench

    return bench.main(args.options)  # its own options, parsed by experiments.bench


def cmd_report(args: argparse.Namespace) -> int:
    from experiments.report import report

    result = report(Path(args.dir), plots=not args.no_plots, max_rows=args.rows or None)
    print(result.text)
    return EXIT_OK
