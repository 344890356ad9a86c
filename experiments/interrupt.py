"""Stopping a sweep on SIGTERM or Ctrl-C without tearing its bookkeeping.

Python runs a signal handler in the main thread between two bytecodes, wherever it is. A handler that raised
there could stop the part writer after it wrote a part but before it dropped those rows from its buffer, and
the final flush would then write them again as the next part. So, while ``interrupts()`` is active (in the
main thread):

* SIGTERM raises ``SweepInterrupted`` (once: a second one while the sweep stops is ignored, so the manifest
  is still written) and SIGINT raises ``KeyboardInterrupt``, as before, at once: a run in progress in this
  process, or a wait for the workers, stops there;
* but inside ``critical()`` (writing a part and the bookkeeping around it) the signal is held, and raised as
  the section is left (not if the section itself raised: then that error stops the sweep).

A SIGINT that was ignored when the sweep started (a job started in the background) stays ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any


class SweepInterrupted(KeyboardInterrupt):
    """SIGTERM asked the sweep to stop. A KeyboardInterrupt, so it stops the sweep as Ctrl-C does."""


class _State:
    depth = 0  # nesting of critical sections
    held: BaseException | None = None  # the interrupt to raise when the outermost section is left
    terminated = False  # SIGTERM already raised (or held)


_state = _State()


def _handler(signum: int, frame: Any) -> None:
    if signum == signal.SIGTERM:
        if _state.terminated:
            return
        _state.terminated = True
        exc: BaseException = SweepInterrupted("SIGTERM")
    else:
        exc = KeyboardInterrupt()
    if _state.depth > 0:
        if _state.held is None:
            _state.held = exc
        return
    raise exc


class critical:  # noqa: N801 - used as a context manager, like contextlib's
    """A section an interrupt may not stop in the middle of: a signal received inside is raised on leaving it."""

    def __enter__(self) -> None:
        _state.depth += 1

    def __exit__(self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        _state.depth -= 1
        if _state.depth == 0 and _state.held is not None:
            held, _state.held = _state.held, None
            if typ is None:
                raise held


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """SIGTERM and SIGINT handled as the module doc says while the block runs (the main thread only: Python
    delivers signals to it alone); the previous handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signals.append(signal.SIGINT)
    before = {s: signal.signal(s, _handler) for s in signals}
    _state.depth, _state.held, _state.terminated = 0, None, False
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        _state.depth, _state.held, _state.terminated = 0, None, False
