"""The ``dipsim`` command line's entry point: the argument parser and the dispatch to each subcommand.

``dipsim run [CONFIG] [--seed N] [--steps N] [--set PATH=VALUE ...] [--json]``
``dipsim explain [CONFIG] [--seed N] [--set PATH=VALUE ...] [--only KIND ...] [--json]``
``dipsim validate CONFIG [--set PATH=VALUE ...]``
``dipsim schema [--experiment] [--out FILE]``
``dipsim bench [--repeat N] [--sweep | --threads | --startup | --backtest]``
``dipsim sweep EXPERIMENT [--out DIR] [--workers N] [--scheduler ADDRESS|local] [--max-points N] [--max-runs N]``
``dipsim report DIR [--no-plots] [--rows N]``
``dipsim backtest [DIR] [--seeds N] [--workers N] [--out DIR] [--seed N]``
``dipsim viz [CONFIG] [--results DIR] [--host 127.0.0.1] [--port N] [--root DIR ...] [--token TOKEN]``

Bad input (a missing or malformed file, an invalid value, a bad ``--set``) ends with a short
message on stderr naming the file, the field path and the problem, and exit code 2.

This module imports only the standard library and ``sim.options``: a subcommand's own imports (pydantic for
a scenario, Mesa for a run, pandas and Dask for a sweep, Solara for the page) happen when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import import_module

from sim.cli.exits import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from sim.messages import ScenarioError  # the standard library only: cheap
from sim.options import BACKTEST_SEEDS, TOKEN_ENV, int_in_range

# The module holding each subcommand's ``cmd_<name>``, imported only when that subcommand runs.
HANDLERS = {
    "run": "sim.cli.commands",
    "explain": "sim.cli.explain",
    "validate": "sim.cli.commands",
    "schema": "sim.cli.commands",
    "sweep": "sim.cli.batch",
    "report": "sim.cli.batch",
    "backtest": "sim.cli.batch",
    "bench": "sim.cli.batch",
    "viz": "sim.cli.viz",
}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand; each names its handler (``cmd_<name>`` in ``HANDLERS``)."""
    p = argparse.ArgumentParser(prog="dipsim", description="Agent-based simulator of crisis diplomacy.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    set_help = (
        "override a config value by dotted path, e.g. parameters.noise=0.1, trust.RUS.USA=0.8, "
        "venues.geneva_ssd.date=2022-01-11 (repeatable; the value is read as YAML)"
    )

    run = sub.add_parser("run", help="run a scenario and print its timeline and outcome")
    run.add_argument("config", nargs="?", metavar="CONFIG", help="scenario YAML (default: the bundled scenario)")
    run.add_argument("--seed", type=int_in_range(0, 2**63), default=0, help="random seed, 0 <= N < 2**63 (default: 0)")
    run.add_argument("--steps", type=int_in_range(0), default=None, help="stop after N steps (outcome: truncated)")
    run.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help=set_help)
    run.add_argument("--json", action="store_true", help="print the run result as one JSON object")

    exp = sub.add_parser("explain", help="a run's decisive moments: each decision's terms, margin and flip")
    exp.add_argument("config", nargs="?", metavar="CONFIG", help="scenario YAML (default: the bundled scenario)")
    exp.add_argument("--seed", type=int_in_range(0, 2**63), default=0, help="random seed, 0 <= N < 2**63 (default: 0)")
    exp.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help=set_help)
    exp.add_argument(
        "--only", action="append", choices=["escalation", "rejection", "acceptance"], help="these kinds only"
    )
    exp.add_argument("--json", action="store_true", help="print the moments as one JSON object")

    val = sub.add_parser("validate", help="check a scenario file; print ok or every error found")
    val.add_argument("config", metavar="CONFIG", help="scenario YAML")
    val.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help=set_help)

    sch = sub.add_parser("schema", help="print the JSON Schema of scenario (or experiment) files")
    sch.add_argument("--out", metavar="FILE", help="write the schema to FILE instead of stdout")
    sch.add_argument("--experiment", action="store_true", help="the schema of experiment files instead")

    rep = sub.add_parser("report", help="print the summary of a sweep's output folder and write its plots")
    rep.add_argument("dir", metavar="DIR", help="output folder of `dipsim sweep`")
    rep.add_argument("--no-plots", action="store_true", help="print the tables only; write no PNG")
    rep.add_argument(
        "--rows", type=int_in_range(0), default=40, help="print at most N points of the summary (0: all; default 40)"
    )

    swp = sub.add_parser(
        "sweep", help="run an experiment file's runs (resumable): per-run rows, summary and manifest in a folder"
    )
    swp.add_argument("experiment", metavar="EXPERIMENT", help="experiment YAML (see docs/experiments.md)")
    swp.add_argument("--out", metavar="DIR", help="output folder (default: runs/<experiment id>)")
    swp.add_argument(
        "--workers", type=int_in_range(1), default=None, help="parallel worker processes (default: every core)"
    )
    swp.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' for a LocalCluster",
    )
    for flag, allowed in (
        ("--max-points", "a design of up to N points (default limit: 10,000; every point is checked before any run)"),
        ("--max-runs", "up to N runs, points x replications (default limit: 10,000,000; the plan keeps 1 byte a run)"),
    ):
        swp.add_argument(flag, type=int_in_range(1), default=None, metavar="N", help=f"allow {allowed}")

    bt = sub.add_parser(
        "backtest",
        help="run every crisis of a library many times (resumable) and score P(war) against history and baselines",
    )
    bt.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="folder of crisis scenarios with outcome records beside it (default: the bundled library, configs/crises)",
    )
    bt.add_argument(
        "--seeds",
        type=int_in_range(1, 1_000_000),
        default=BACKTEST_SEEDS,
        help=f"runs per crisis (default: {BACKTEST_SEEDS})",
    )
    bt.add_argument(
        "--workers", type=int_in_range(1), default=None, help="parallel worker processes (default: every core)"
    )
    bt.add_argument("--out", metavar="DIR", help="output folder (default: runs/backtest)")
    bt.add_argument(
        "--seed", type=int_in_range(0, 2**63), default=0, help="the backtest's seed, 0 <= N < 2**63 (default: 0)"
    )

    viz = sub.add_parser("viz", help="watch a scenario in the browser (a Solara page; needs the viz extra)")
    viz.add_argument(
        "config",
        nargs="?",
        metavar="CONFIG",
        help="scenario YAML (default: the bundled scenario); the page may open this file wherever it is",
    )
    viz.add_argument(
        "--results", metavar="DIR", help="output folder of `dipsim sweep` shown first on the sweep page (/sweep)"
    )
    viz.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; any other needs a token, see --token)",
    )
    viz.add_argument("--port", type=int_in_range(0, 65536), default=8765, help="port (default: 8765; 0: any free port)")
    viz.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder whose scenario files and sweep folders the page may open, besides configs/ and the "
        "working directory (repeatable)",
    )
    viz.add_argument(
        "--token",
        default=None,
        help=f"the token visitors must give (?token=...); default: ${TOKEN_ENV}, else one made at start when "
        "--host is not a loopback address (on loopback, no token unless given)",
    )

    sub.add_parser(
        "bench",
        add_help=False,
        help="print timing and memory figures (2022 run, 200-actor step; --sweep, --threads, --startup, --backtest); "
        "--help for options",
    )
    return p


def handler(command: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs ``command``, imported now (see ``HANDLERS``)."""
    return getattr(import_module(HANDLERS[command]), f"cmd_{command}")


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; bad input ends with a message naming file, field and problem, and exit 2."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        args.options = extra  # its own options, parsed by experiments.bench
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return handler(args.command)(args)
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
    except OSError as exc:  # e.g. `schema --out` into a folder that does not exist
        where = getattr(args, "out", None) or getattr(args, "config", None) or getattr(args, "dir", None) or "dipsim"
        print(f"{where}: {exc.strerror or exc}", file=sys.stderr)
    except KeyboardInterrupt:  # Ctrl-C while a file is still being read or checked: nothing was written yet
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
