"""What the command line, the browser page and the benchmarks share: environment variable names, whether a
host is loopback (``dipsim viz`` asks a token beyond it) and argument types.

The command line is a leaf that nothing imports (docs/architecture.md); whatever another room needs
from it lives here. This module imports only the standard library, so ``dipsim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Callable

# Set by `dipsim viz` for the server it starts; read by the page (sim.viz).
VIZ_CONFIG_ENV = "DIPSIM_VIZ_CONFIG"  # the simulation page's default scenario
VIZ_RESULTS_ENV = "DIPSIM_VIZ_RESULTS"  # the sweep page's first folder
ROOTS_ENV = "DIPSIM_VIZ_ROOTS"  # os.pathsep-separated folders, from `dipsim viz --root DIR ...`
TOKEN_ENV = "DIPSIM_VIZ_TOKEN"  # the token of a guarded server: given by the user, or made by dipsim viz

# `dipsim backtest`'s runs per crisis unless --seeds says otherwise (issue 10: "at least 200 seeds per crisis").
BACKTEST_SEEDS = 200


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as given to ``--host``) only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost: it may resolve to any interface
        return False


def int_in_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer ``low <= n`` (and ``n < high`` if given)."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if n < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}: {n}")
        if high is not None and n >= high:
            raise argparse.ArgumentTypeError(f"must be < {high}: {n}")
        return n

    return parse
