"""The ``dipsim run`` command line that reproduces a run, as both pages show it (the simulation page's export
view, the sweep page's rerun command). Plain text from values: no Solara, no matplotlib, so the pages' data
modules can build it and be tested without a browser.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml


def display_path(path: str | Path) -> str:
    """A config path as a command line shows it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(p.resolve()) if not p.is_absolute() else str(p)


def _yaml_value(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)  # shortest text that reads back to the same float
    return yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()


def run_command(config: str | Path | None, seed: int, overrides: dict[str, Any], steps: int | None = None) -> str:
    """The ``dipsim run`` command that reproduces a run: config, seed, horizon and each ``--set PATH=VALUE``."""
    argv = ["dipsim", "run"]
    if config is not None:
        argv.append(display_path(config))
    argv += ["--seed", str(seed)]
    if steps is not None:
        argv += ["--steps", str(steps)]
    for path in sorted(overrides):
        argv += ["--set", f"{path}={_yaml_value(overrides[path])}"]
    return shlex.join(argv)
