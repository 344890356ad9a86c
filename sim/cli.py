"""The ``dipsim`` command line: run a scenario, validate a config, print the config schema, benchmark.

``dipsim run [CONFIG] [--seed N] [--steps N] [--set PATH=VALUE ...] [--json]``
``dipsim validate CONFIG [--set PATH=VALUE ...]``
``dipsim schema [--experiment] [--out FILE]``
``dipsim bench [--repeat N]``
``dipsim sweep EXPERIMENT [--out DIR] [--workers N] [--scheduler ADDRESS|local] [--max-points N] [--max-runs N]``
``dipsim report DIR [--no-plots] [--rows N]``
``dipsim viz [CONFIG] [--results DIR] [--host 127.0.0.1] [--port N] [--root DIR ...] [--token TOKEN]``

Bad input (a missing or malformed file, an invalid value, a bad ``--set``) ends with a short
message on stderr naming the file, the field path and the problem, and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.options import ROOTS_ENV, TOKEN_ENV, VIZ_CONFIG_ENV, VIZ_RESULTS_ENV, int_in_range, is_loopback
from sim.scenario import (
    DEFAULT_SCENARIO,
    Scenario,
    ScenarioError,
    json_schema,
    load_scenario,
    parse_set,
)
from sim.size import scenario_estimate

if TYPE_CHECKING:  # the model (Mesa, pandas) is imported only by the commands that run one
    from sim.model import DiplomacyModel
    from sim.result import RunResult

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process that SIGTERM ended


def _parser() -> argparse.ArgumentParser:
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
    run.set_defaults(func=_cmd_run)

    val = sub.add_parser("validate", help="check a scenario file; print ok or every error found")
    val.add_argument("config", metavar="CONFIG", help="scenario YAML")
    val.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help=set_help)
    val.set_defaults(func=_cmd_validate)

    sch = sub.add_parser("schema", help="print the JSON Schema of scenario (or experiment) files")
    sch.add_argument("--out", metavar="FILE", help="write the schema to FILE instead of stdout")
    sch.add_argument("--experiment", action="store_true", help="the schema of experiment files instead")
    sch.set_defaults(func=_cmd_schema)

    rep = sub.add_parser("report", help="print the summary of a sweep's output folder and write its plots")
    rep.add_argument("dir", metavar="DIR", help="output folder of `dipsim sweep`")
    rep.add_argument("--no-plots", action="store_true", help="print the tables only; write no PNG")
    rep.add_argument(
        "--rows", type=int_in_range(0), default=40, help="print at most N points of the summary (0: all; default 40)"
    )
    rep.set_defaults(func=_cmd_report)

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
    swp.add_argument(
        "--max-points",
        type=int_in_range(1),
        default=None,
        metavar="N",
        help="allow a design of up to N points (default limit: 10,000; every point is checked before any run)",
    )
    swp.add_argument(
        "--max-runs",
        type=int_in_range(1),
        default=None,
        metavar="N",
        help="allow up to N runs, points x replications (default limit: 10,000,000; the plan keeps a byte per run)",
    )
    swp.set_defaults(func=_cmd_sweep)

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
    viz.set_defaults(func=_cmd_viz)

    ben = sub.add_parser(
        "bench", add_help=False, help="print timing and memory figures (2022 run, 200-actor step); --help for options"
    )
    ben.set_defaults(func=_cmd_bench)
    return p


def _load(config: str | None, sets: list[str], max_steps: int | None = None) -> Scenario:
    """Read, override and validate a scenario, as ``load_scenario`` does (the file is the user's own:
    short values appear in messages). Warn on stderr when a run of at most ``max_steps`` steps would
    need more memory or time per step than ``sim.size`` states as the limits."""
    path = Path(config) if config is not None else DEFAULT_SCENARIO
    try:
        overrides = parse_set(sets)
    except ValueError as exc:
        raise ScenarioError(str(path), [("--set", str(exc).removeprefix("--set "))]) from None
    scenario = load_scenario(path, overrides)
    if (warning := scenario_estimate(scenario, max_steps).warning(str(path))) is not None:
        print(warning, file=sys.stderr, flush=True)
    return scenario


# --------------------------------------------------------------------------- commands


def _cmd_run(args: argparse.Namespace) -> int:
    scenario = _load(args.config, args.set, args.steps)
    from sim.model import DiplomacyModel

    model = DiplomacyModel(config=scenario, rng=args.seed)
    result = model.run(args.steps)
    if args.json:
        print(result.to_json())
    else:
        print(format_timeline(model, result))
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    _load(args.config, args.set)
    print("ok")
    return EXIT_OK


def schema_text(experiment: bool = False) -> str:
    """The JSON Schema of scenario files (``configs/scenario.schema.json``) or of experiment files
    (``configs/experiments/experiment.schema.json``)."""
    if experiment:
        from experiments.spec import ExperimentSpec  # lazily: sim never imports experiments at module level

        schema = ExperimentSpec.model_json_schema()
    else:
        schema = json_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _cmd_schema(args: argparse.Namespace) -> int:
    text = schema_text(args.experiment)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_sweep(args: argparse.Namespace) -> int:
    # lazily: sim never imports experiments at module level. The file is checked before the runner (pandas,
    # pyarrow, Dask) is imported, so that a bad experiment is refused at once.
    from experiments.spec import MAX_POINTS, MAX_RUNS, load_experiment

    exp = load_experiment(args.experiment, max_points=args.max_points or MAX_POINTS, max_runs=args.max_runs or MAX_RUNS)
    if (warning := scenario_estimate(exp.scenario, exp.horizon).warning(str(exp.scenario_path))) is not None:
        print(warning, file=sys.stderr, flush=True)
    from experiments.runner import SweepFailed, SweepInterrupted, sweep

    try:
        out = Path(args.out) if args.out else Path("runs") / exp.id
        stats = sweep(exp, out, workers=args.workers, scheduler=args.scheduler, progress=None)
    except SweepInterrupted:
        print("\nsweep stopped by SIGTERM: the finished runs are kept; run the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("\nsweep interrupted: the finished runs are kept; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepFailed as exc:
        print(f"sweep failed: {exc}\nthe finished runs are kept; run the same command again to resume", file=sys.stderr)
        return 1
    print(f"{stats.out}: {stats.planned} run(s) of {stats.points} point(s); summary in {stats.out / 'summary.csv'}")
    if stats.errors:
        print(f"{stats.errors} run(s) raised: see the error column of the runs", file=sys.stderr)
    return EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from experiments import bench  # lazily: sim never imports experiments at module level

    return bench.main(args.options)  # its own options, parsed by experiments.bench


def _cmd_report(args: argparse.Namespace) -> int:
    from experiments.report import report  # lazily: sim never imports experiments at module level

    result = report(Path(args.dir), plots=not args.no_plots, max_rows=args.rows or None)
    print(result.text)
    return EXIT_OK


def viz_command(
    config: str | None,
    host: str,
    port: int,
    results: str | None = None,
    roots: list[str] | None = None,
    token: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the app (``sim.app``: its two pages): ``solara run``, or
    with a ``token``, ``sim.serve`` (the same app behind the token check). ``roots``: the ``--root`` folders."""
    if token is None:
        argv = [
            sys.executable,
            "-m",
            "solara",
            "run",
            "sim.viz.app",
            "--host",
            host,
            "--port",
            str(port),
            "--production",
            "--no-open",  # on a machine without a desktop, webbrowser may start a text browser in the terminal
            "--no-check-version",  # it asks PyPI, which an offline machine cannot reach
        ]
    else:
        argv = [sys.executable, "-m", "sim.viz.serve", "--host", host, "--port", str(port)]
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    for name in (VIZ_CONFIG_ENV, VIZ_RESULTS_ENV, ROOTS_ENV, TOKEN_ENV):
        env.pop(name, None)  # only what this command line says, never a leftover
    if config is not None:
        env[VIZ_CONFIG_ENV] = str(Path(config).resolve())
    if results is not None:
        env[VIZ_RESULTS_ENV] = str(Path(results).resolve())
    if roots:
        env[ROOTS_ENV] = os.pathsep.join(str(Path(r).expanduser().resolve()) for r in roots)
    if token is not None:
        env[TOKEN_ENV] = token  # in the environment, not on the command line, where `ps` would show it
    return argv, env


def viz_token(given: str | None, host: str) -> str | None:
    """The server's token: the one given (``--token``, else ``$DIPSIM_VIZ_TOKEN``), else a new one when
    ``host`` is not a loopback address; None (no token check) on loopback when none is given."""
    if given is None:
        given = os.environ.get(TOKEN_ENV) or None
    if given is not None:
        if not re.fullmatch(r"[A-Za-z0-9._~-]{16,}", given):
            raise ScenarioError("--token", [("", "use at least 16 of A-Z a-z 0-9 . _ ~ - (or omit it: one is made)")])
        return given
    return None if is_loopback(host) else secrets.token_urlsafe(24)


def _cmd_viz(args: argparse.Namespace) -> int:
    # A CONFIG or --results DIR named here may be opened by the page even outside the roots: the person starting
    # the server chose it (sim.roots). The page still refuses every other path outside them.
    if args.config is not None:
        load_scenario(args.config)  # a bad file fails here, with the usual message, not on the page
    if args.results is not None:
        from experiments.sweep_reader import check_folder

        check_folder(args.results)  # likewise a folder that is not a sweep's (one still starting is fine)
    for root in args.root:
        if not Path(root).expanduser().is_dir():
            raise ScenarioError(root, [("--root", "no such folder")])
    token = viz_token(args.token, args.host)
    if importlib.util.find_spec("solara") is None:  # solara itself is imported only by the server it starts
        print("dipsim viz needs the viz extra: pip install 'dipsim[viz]'", file=sys.stderr)
        return EXIT_BAD_INPUT
    argv, env = viz_command(args.config, args.host, args.port, args.results, args.root, token)
    if not is_loopback(args.host):
        print(
            f"dipsim viz: warning: listening on {args.host}, beyond this machine: whoever can reach port "
            f"{args.port or '(any free port)'} and has the token can run simulations here and open the scenario "
            "files and sweep folders under configs/, the working directory and each --root. Share the address "
            "printed below only with them (plain HTTP: use it on a network you trust).",
            file=sys.stderr,
        )
    if args.results is not None:
        query = f"?token={token}" if token else ""
        where = f"http://{args.host}:{args.port}/sweep{query}" if args.port else "/sweep on the port printed below"
        print(f"sweep results page: {where}", flush=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Become the server (one process: Ctrl-C and kill reach it directly, nothing is left behind).
    os.execve(argv[0], argv, env)
    return EXIT_OK  # not reached


# --------------------------------------------------------------------------- human output


def _num(x: Any) -> str:
    return f"{x:.2f}" if isinstance(x, int | float) and not isinstance(x, bool) else str(x)


def _names(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def format_timeline(model: DiplomacyModel, result: RunResult) -> str:
    """A readable timeline of a run: venues, agreements and rung changes in date order, then the outcome."""
    sc = model.config
    lines = [
        f"{sc.name} ({sc.id})",
        f"seed {result.seed}, {result.steps_run} step(s) run, {sc.calendar.start} .. {result.final_date}",
        "",
    ]
    # (date, order within a date, text): venues and their agreements first, then rung changes.
    entries: list[tuple[str, int, int, list[str]]] = []
    for n, v in enumerate(model.venue_log):
        block = [f"{v['date']}  VENUE {v['name']} [{v['id']}]: {_names(v['participants'])}"]
        if not v["proposals"]:
            block.append("    (nothing left to propose)")
        for p in v["proposals"]:
            package = ", ".join(f"{k}={_num(x)}" for k, x in p["package"].items()) or "(empty)"
            verdict = "ADOPTED" if p["adopted"] else "not adopted"
            block.append(
                f"    {p['proposer']} proposes {package} ({p['legal_form']}); "
                f"accepted: {_names(p['accepted_by'])}; rejected: {_names(p['rejected_by'])}; {verdict}"
            )
        entries.append((v["date"], 0, n, block))
    for n, a in enumerate(model.agreements):
        text = f"{a['date']}  AGREEMENT on {a['issue']} = {_num(a['value'])} at {a['venue']} ({_names(a['parties'])})"
        entries.append((a["date"], 1, n, [text]))
    # Rung changes on one date by one actor between the same two rungs share a line.
    moves: dict[tuple[str, str, str, str], list[str]] = {}
    for e in model.escalation_log:
        moves.setdefault((e["date"], e["actor"], e["from"], e["to"]), []).append(e["target"])
    for n, ((date, actor, frm, to), targets) in enumerate(moves.items()):
        entries.append((date, 2, n, [f"{date}  RUNG {actor} -> {', '.join(targets)}: {frm} -> {to}"]))
    entries.sort(key=lambda x: x[:3])
    for *_, block in entries:
        lines.extend(block)
    if not entries:
        lines.append("(no venues, agreements or rung changes)")
    lines.append("")
    esc = result.escalation
    esc_text = f"{esc['actor']}->{esc['target']} ({esc['rung']}, {esc['date']})" if esc else "none"
    lines.append(
        f"OUTCOME: {result.outcome} on {result.final_date}; escalation: {esc_text}; "
        f"max rung: {result.max_rung['id']} ({_num(result.max_rung['score'])})"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.func is _cmd_bench:
        args.options = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
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
