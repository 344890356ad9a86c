"""The replication plan of a sweep: which (point, replication) keys are done, queued or still to decide.

``Plan`` holds one state code per possible run (one byte each) and the queue of work. Adaptive replications
are decided per point, in replication order, on complete prefixes only (``Plan.decide``), so the runs done
do not depend on the workers or on the order in which runs finish. Kept apart from the scheduling loop
(``experiments.sweep``) and from the folder (``experiments.sweep_folder``) because it does no I/O: it is the
rule of docs/experiments.md alone, and tested as such.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from experiments.results import wilson

if TYPE_CHECKING:
    from experiments.spec import LoadedExperiment


# Per (point, replication) state in the scheduler.
MISSING, NO_ESCALATION, ESCALATION, ERROR, QUEUED = 0, 1, 2, 3, 4


class Plan:
    """Which (point, replication) keys are done, queued or still to decide, and the queue of work.

    ``codes[i][r]`` is MISSING, QUEUED, or the finished run's NO_ESCALATION / ESCALATION / ERROR;
    ``target[i]`` is the number of replications point ``i`` is planned to have (fixed, or decided so far).
    Memory: one byte per possible replication.
    """

    def __init__(self, exp: LoadedExperiment):
        self.adaptive = exp.adaptive
        n = len(exp.points)
        if exp.fixed is not None:
            cap, first = exp.fixed, exp.fixed
        else:
            assert exp.adaptive is not None
            cap, first = exp.adaptive.max, min(exp.adaptive.min, exp.adaptive.max)
        self.codes = [bytearray(cap) for _ in range(n)]
        self.target = [first] * n
        self.queued_upto = [0] * n
        self.queue: deque[list[int]] = deque()  # [point index, next replication, stop]
        self.done = 0  # finished keys below their point's target
        self.in_flight = 0

    @property
    def planned(self) -> int:
        return sum(self.target)

    def has_work(self) -> bool:
        """Whether runs are queued below some point's target (else there is nothing to start workers for)."""
        return bool(self.queue) and any(MISSING in c[: self.target[i]] for i, c in enumerate(self.codes))

    def record(self, i: int, r: int, code: int) -> bool:
        """A finished run; False if the key is unknown or already finished (then it is ignored)."""
        c = self.codes[i]
        if r >= len(c) or c[r] in (NO_ESCALATION, ESCALATION, ERROR):
            return False
        if c[r] == QUEUED:
            self.in_flight -= 1
        c[r] = code
        if r < self.target[i]:
            self.done += 1
        return True

    def decide(self, i: int) -> None:
        """Move point ``i``'s target over its complete prefixes, then queue what is missing below it.

        Adaptive rule (docs/experiments.md): with replications ``0..n-1`` all finished, go on to
        ``min(n + batch, max)`` while the Wilson 95% half-width over the runs without error is above
        ``half_width`` and ``n < max``. A prefix in which every run raised stops the point.
        """
        c = self.codes[i]
        ad = self.adaptive
        if ad is not None:
            n = self.target[i]
            while n < ad.max:
                prefix = c[:n]
                if MISSING in prefix or QUEUED in prefix:
                    break
                ok = n - prefix.count(ERROR)
                if ok == 0:
                    break
                low, high = wilson(prefix.count(ESCALATION), ok)
                if (high - low) / 2 <= ad.half_width:
                    break
                new = min(n + ad.batch, ad.max)
                self.done += sum(1 for x in c[n:new] if x in (NO_ESCALATION, ESCALATION, ERROR))
                n = new
            self.target[i] = n
        n = self.target[i]
        if n > self.queued_upto[i]:
            self.queue.append([i, self.queued_upto[i], n])
            self.queued_upto[i] = n

    def take(self, size: int) -> list[tuple[int, int]]:
        """Up to ``size`` keys to run next, marked QUEUED, in queue (and replication) order."""
        out: list[tuple[int, int]] = []
        while self.queue and len(out) < size:
            item = self.queue[0]
            i, r, stop = item
            c = self.codes[i]
            while r < stop and len(out) < size:
                if c[r] == MISSING:
                    c[r] = QUEUED
                    out.append((i, r))
                r += 1
            if r >= stop:
                self.queue.popleft()
            else:
                item[1] = r
        self.in_flight += len(out)
        return out

    def left(self) -> tuple[int, int]:
        """(fewest, most) runs still to do: those below each point's target, and (adaptive) up to ``max`` for a
        point whose target may still grow (runs below its target are still to come)."""
        low = high = 0
        for i, c in enumerate(self.codes):
            below = c[: self.target[i]]
            todo = below.count(MISSING) + below.count(QUEUED)
            low += todo
            high += c.count(MISSING) + c.count(QUEUED) if todo else 0
        return low, high

    def release(self, keys: list[tuple[int, int]]) -> None:
        """Keys of a chunk that will not finish (cancelled): back to MISSING."""
        for i, r in keys:
            if self.codes[i][r] == QUEUED:
                self.codes[i][r] = MISSING
                self.in_flight -= 1
