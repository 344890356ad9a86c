"""A sweep's progress on stderr: a tqdm bar on a terminal, otherwise a plain line now and then.

Kept apart from the scheduling loop (``experiments.sweep``) because how progress looks is not how the
work is scheduled; lines (not a bar) are what a log file or a CI job can read.
"""

from __future__ import annotations

import os
import sys
import time

PROGRESS_SECONDS = 5.0  # a progress line at least this often when stderr is not a terminal


class Progress:
    """A tqdm bar on a terminal; otherwise a line every PROGRESS_SECONDS or every 10%."""

    def __init__(self, mode: str | None, done: int, total: int):
        self.mode = mode
        self.start = time.monotonic()
        self.done0 = done
        self.last_time = self.start
        self.last_decile = self._decile(done, total)
        self.last_done = done
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm

            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns
            except (OSError, ValueError):
                width = 0
            size = {"dynamic_ncols": True} if width > 0 else {"ncols": 80}  # a pty may report 0 columns
            self.bar = tqdm(total=total, initial=done, unit="run", file=sys.stderr, **size)

    @staticmethod
    def _decile(done: int, total: int) -> int:
        return (10 * done) // total if total else 10

    def update(self, done: int, total: int, force: bool = False) -> None:
        if self.bar is not None:
            if self.bar.total != total:
                self.bar.total = total
            self.bar.update(done - self.bar.n)
            return
        if self.mode != "lines":
            return
        now = time.monotonic()
        decile = self._decile(done, total)
        due = now - self.last_time >= PROGRESS_SECONDS or decile > self.last_decile
        if (force and done != self.last_done) or (due and done != self.last_done):
            self.last_time, self.last_decile, self.last_done = now, decile, done
            rate = (done - self.done0) / max(now - self.start, 1e-9)
            eta = f"{(total - done) / rate:.0f} s" if rate > 0 else "?"
            print(f"sweep: {done}/{total} runs, {rate:.1f} runs/s, ETA {eta}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_mode(progress: bool | None) -> str | None:
    """None for silence (``progress=False``), ``"bar"`` on a terminal, else ``"lines"``."""
    if progress is False:
        return None
    return "bar" if sys.stderr.isatty() else "lines"
