"""Start-up figures: the wall time of whole ``dipsim`` processes, as a user meets them.

``dipsim bench --startup [--starts N]`` starts each command N times (after one untimed start, which fills the
file cache) and prints the median (min, max): ``dipsim --help``, ``dipsim validate`` of the bundled scenario
and ``dipsim run`` of it. The aims (issue 9) are --help under 0.3 s and validate under 0.8 s; nothing fails
when they are missed. Each command imports what it needs when it runs (sim/cli/main.py), so these figures
measure the rooms' imports as much as the work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim.loading import DEFAULT_SCENARIO
from sim.options import int_in_range

AIMS_S = {"--help": 0.3, "validate": 0.8}


def dipsim_command() -> list[str]:
    """The ``dipsim`` console script beside this interpreter, else ``python -m sim.cli``."""
    script = Path(sys.executable).parent / "dipsim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sim.cli"]


def time_process(argv: list[str], repeat: int) -> list[float]:
    """Wall time in seconds of ``repeat`` whole runs of ``argv`` (after one untimed run); each must exit 0."""
    samples = []
    for n in range(repeat + 1):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ)
        if n:
            samples.append(time.perf_counter() - t0)
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dipsim bench --startup", description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int_in_range(1), default=7, help="timed starts of each command (default 7)")
    args = ap.parse_args(argv)
    dipsim = dipsim_command()
    commands = {
        "--help": [*dipsim, "--help"],
        "validate": [*dipsim, "validate", str(DEFAULT_SCENARIO)],
        "run": [*dipsim, "run", "--seed", "0"],
    }
    print(f"dipsim bench --startup: whole processes ({' '.join(dipsim)}), {args.starts} start(s) each")
    for name, command in commands.items():
        samples = time_process(command, args.starts)
        aim = AIMS_S.get(name)
        note = ""
        if aim is not None:
            note = f"  [aim < {aim:g} s: {'met' if statistics.median(samples) < aim else 'not met'}]"
        print(
            f"dipsim {name:8s} median {statistics.median(samples):.3f} s "
            f"(min {min(samples):.3f}, max {max(samples):.3f}){note}",
            flush=True,
        )
    return 0
