"""``dipsim viz``: check what the page is given, then become its server (``solara run`` or, with a token,
``sim.viz.serve``)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import secrets
import sys
from pathlib import Path

from sim.cli.exits import EXIT_BAD_INPUT, EXIT_OK
from sim.loading import load_scenario
from sim.messages import ScenarioError
from sim.options import ROOTS_ENV, TOKEN_ENV, VIZ_CONFIG_ENV, VIZ_RESULTS_ENV, is_loopback


def viz_command(
    config: str | None,
    host: str,
    port: int,
    results: str | None = None,
    roots: list[str] | None = None,
    token: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the app (``sim.viz.app``: its two pages): ``solara run``, or
    with a ``token``, ``sim.viz.serve`` (the same app behind the token check). ``roots``: the ``--root`` folders."""
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


def cmd_viz(args: argparse.Namespace) -> int:
    # A CONFIG or --results DIR named here may be opened by the page even outside the roots: the person starting
    # the server chose it (sim.viz.roots). The page still refuses every other path outside them.
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
