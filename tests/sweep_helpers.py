"""Pieces shared by the sweep and results-store tests (``test_sweep.py``, ``test_store_integrity.py``)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
FEARON = REPO / "configs" / "validation" / "fearon_p060.yaml"

#: The Fearon validation case on a 2 x 2 grid, 30 fixed replications of 3 steps (about 2 ms a run).
FEARON_GRID = f"""
id: fearon_grid
scenario: {FEARON}
seed: 11
horizon: 3
replications: {{fixed: 30}}
design:
  sampler: grid
  grid:
    actors.A.capability: [0.3, 0.9]
    actors.B.conflict_cost.high: [0.12, 0.3]
"""


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(processes: list[psutil.Process], seconds: float = 10.0) -> list[int]:
    """Wait up to ``seconds`` for ``processes`` to end; the pids of those still running are returned, after
    they are killed (a test never leaves them behind, whatever it then asserts)."""
    deadline = time.monotonic() + seconds
    while (left := [p for p in processes if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    kill_all(left)
    return [p.pid for p in left]


def kill_all(processes: list[psutil.Process]) -> None:
    """SIGKILL each of ``processes`` that is still there (no error for those already gone)."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
