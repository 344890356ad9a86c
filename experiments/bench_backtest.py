"""The library backtest's wall time (issue 11's aim: 200 seeds a crisis in at most 10 minutes on 2 cores).

``dipsim bench --backtest [--seeds N] [--workers W] [--library DIR]`` runs ``experiments.backtest.backtest`` on the
library (default ``configs/crises``, 200 seeds, 2 workers) into a temporary folder, which it deletes afterwards,
and prints the wall time, the runs and the runs a second beside the aim. A figure to read, not a test: nothing
fails when the aim is missed. The scores themselves are ``dipsim backtest``'s to print.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from experiments.backtest import backtest
from experiments.library import LIBRARY
from sim.options import int_in_range

AIM_S = 600.0  # 10 minutes at 200 seeds (issue 11)
AIM_SEEDS = 200


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dipsim bench --backtest", description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int_in_range(1), default=AIM_SEEDS, help="runs per crisis (default 200)")
    p.add_argument("--workers", type=int_in_range(1), default=2, help="worker processes (default 2)")
    p.add_argument("--library", default=str(LIBRARY), help="the crisis library folder (default configs/crises)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    with tempfile.TemporaryDirectory(prefix="dipsim-bench-backtest-") as tmp:
        t0 = time.perf_counter()
        result = backtest(Path(args.library), Path(tmp) / "backtest", args.seeds, args.workers, progress=False)
        elapsed = time.perf_counter() - t0
    runs = sum(s.done_now for s in result.sweeps)
    aim = ""
    if args.seeds == AIM_SEEDS:
        aim = f"  [aim <= {AIM_S / 60:g} min: {'met' if elapsed <= AIM_S else 'not met'}]"
    print(
        f"backtest: {len(result.crises)} crises x {args.seeds} seeds = {runs} runs on {args.workers} worker(s): "
        f"{elapsed:.1f} s ({runs / elapsed:.1f} runs/s){aim}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
