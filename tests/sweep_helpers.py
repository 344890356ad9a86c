"""Pieces shared by the sweep, backtest and results-store tests (``test_sweep.py``, ``test_backtest.py``,
``test_store_integrity.py``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
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


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_foreground(cmd: list[str], env: dict[str, str] | None = None, stderr: int = subprocess.PIPE):
    """``cmd`` in a session of its own, as a job in the foreground of a terminal: SIGINT handled, even when
    this test run was started in the background of a script (which starts it, and every child, with SIGINT
    ignored)."""
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        start_new_session=True,
        preexec_fn=_default_sigint,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )


def signal_when(proc: subprocess.Popen, ready: Callable[[], bool], sig: int, group: bool = True) -> str:
    """Wait (up to 120 s) until ``ready()``, send ``sig`` to ``proc``'s process group (as Ctrl-C on a terminal
    does) or to ``proc`` alone, and return its stderr once it has ended; it is killed if anything fails."""
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert proc.poll() is None, f"ended early: {proc.returncode}"
            assert time.monotonic() < deadline, "not ready after 120 s"
            time.sleep(0.05)
        (os.killpg if group else os.kill)(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        return err
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
