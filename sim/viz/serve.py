"""``python -m sim.viz.serve --host HOST --port PORT``: the browser app behind its token (``$DIPSIM_VIZ_TOKEN``).

``dipsim viz`` starts this instead of ``solara run`` when the server is guarded (``--host`` beyond loopback,
or a token given). ``solara run`` hands uvicorn Solara's app by import string, leaving no place for a
middleware; Solara documents serving ``solara.server.starlette:app`` with uvicorn directly (its self-hosted
deployment), so this does that, with the settings ``solara run --production`` would give: the app module in
``$SOLARA_APP``, production mode, and the same defaults for everything else (the page's JavaScript and CSS
still come from solara-assets through Solara's own routes, so the page renders offline as before).

Uvicorn's access log is off: it would write every request's URL, token included, to the terminal.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from sim.options import TOKEN_ENV
from sim.viz.token_guard import TokenGuard

APP_MODULE = "sim.viz.app"


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.viz.serve", description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True, help="0: any free port")
    args = p.parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"sim.viz.serve: ${TOKEN_ENV} is empty: a guarded server needs a token", file=sys.stderr)
        return 2
    port = args.port or _free_port(args.host)
    # Read by Solara when its server modules are imported, so set before importing them.
    os.environ["SOLARA_APP"] = APP_MODULE
    os.environ["SOLARA_MODE"] = "production"
    os.environ["SERVER_NAME"] = args.host
    os.environ["SERVER_PORT"] = str(port)
    import uvicorn
    from solara.server.starlette import app

    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"dipsim viz: http://{host}:{port}/?token={token}", flush=True)
    uvicorn.run(TokenGuard(app, token), host=args.host, port=port, access_log=False, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
