"""Before a sweep starts: how long its runs will take, from a few of them timed on this machine.

The sweep (``experiments.sweep``) runs its first few runs in its own process (they are kept, like any other
run) and gives their wall times here. The first run of a point also loads and validates the point's scenario,
which a worker does once per point it sees (a worker caches the scenarios it loaded), so the load is counted
apart:

    seconds = (runs x seconds a run + min(runs, points x slots) x seconds to load a point) / slots

where ``slots`` is the number of runs that can go on at once (local workers: at most the cores). The runs are
timed while the workers are not yet busy: on a machine that other work keeps busy too, the sweep takes longer.

It leaves out the start of the worker processes and the overhead of handing runs to them (small next to runs
of a tenth of a second, the bundled scenario's; for runs of milliseconds the estimate is low).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds a run takes (the scenario already loaded), and seconds to load a point's scenario."""

    run: float
    load: float

    @classmethod
    def from_walls(cls, walls: list[float]) -> Timing:
        """From the wall times of consecutive runs of one point, the first of which loaded its scenario."""
        if not walls:
            raise ValueError("no run was timed")
        run = sum(walls[1:]) / len(walls[1:]) if len(walls) > 1 else walls[0]
        return cls(run=run, load=max(0.0, walls[0] - run))

    def seconds(self, runs: int, points: int, slots: int) -> float:
        """Estimated wall time of ``runs`` runs over ``points`` points on ``slots`` parallel workers."""
        slots = max(1, slots)
        return (runs * self.run + min(runs, points * slots) * self.load) / slots


def duration(seconds: float) -> str:
    """A rounded, readable duration: "20 s", "3 min", "2.5 h", "4 days"."""
    if not math.isfinite(seconds):
        return "?"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        hours = seconds / 3600
        return f"{hours:.1f} h" if hours < 10 else f"{round(hours)} h"
    return f"{round(seconds / 86400)} days"


def plan_line(
    experiment: str, points: int, runs: tuple[int, int], done: int, timing: Timing | None, slots: int, where: str
) -> str:
    """The line a sweep prints before its runs start, e.g.
    ``sweep: cf: 4 points, 200–1,600 runs to do (0 done before), about 15 s–2 min on 2 local worker process(es)``.
    ``runs``: (fewest, most) runs still to do (adaptive replications decide as they go)."""
    low, high = runs
    count = f"{low:,}" if low == high else f"{low:,}–{high:,}"
    text = f"sweep: {experiment}: {points:,} point(s), {count} run(s) to do ({done:,} done before)"
    if timing is None:
        return f"{text}; {where}"
    first, last = duration(timing.seconds(low, points, slots)), duration(timing.seconds(high, points, slots))
    about = first if first == last else f"{first}–{last}"
    return f"{text}, about {about} on {where} (timed: {timing.run:.3g} s a run, {timing.load:.3g} s to load a point)"
