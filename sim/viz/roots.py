"""The folders the browser app may open files from (issue 8, item 1).

A visitor types paths into the page (a scenario file, a sweep folder); the server opens them as its own user.
So a path is opened only if, after following every symbolic link (``Path.resolve``), it lies under one of the
roots the server was started with: the bundled ``configs/``, the server's working directory, and each
``dipsim viz --root DIR`` (passed to the server in ``$DIPSIM_VIZ_ROOTS``). A file or folder named on the
``dipsim viz`` command line (``CONFIG``, ``--results DIR``) is allowed too: the person starting the server chose it.

The refusal names the path as typed (cut if long) and the roots; it never says whether the target exists or
what it holds, so the page cannot be used to probe the rest of the machine. Nothing here imports Solara.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sim.loading import BUNDLED_CONFIGS
from sim.messages import cut
from sim.options import ROOTS_ENV

MAX_SHOWN = 120  # characters of a refused path repeated in the message (a typed path can be any length)


class OutsideRoots(ValueError):
    """A path the page may not open. A ValueError, so the page reports it as it does a bad seed."""


def _resolved(path: str | Path) -> Path | None:
    """``path`` made absolute with every link followed, or None if it is not a usable path (a NUL byte, a loop)."""
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):  # RuntimeError: a symlink loop on Python 3.12
        return None


@dataclass(frozen=True)
class Roots:
    """Resolved folders whose contents may be opened, single files named by the server's starter, and
    folders of the server's own making (uploads) that may be opened but are not worth naming to a visitor."""

    folders: tuple[Path, ...]
    files: tuple[Path, ...] = ()
    private: tuple[Path, ...] = ()

    def allows(self, path: Path) -> bool:
        """Whether a resolved path is one of ``files`` or lies under (or is) a folder."""
        return path in self.files or any(path.is_relative_to(root) for root in self.folders + self.private)

    def check(self, path: str | Path, hint: str = "") -> Path:
        """The resolved path, if the page may open it; else :class:`OutsideRoots`. ``hint`` follows the
        message's advice (e.g. ", or upload the file")."""
        resolved = _resolved(path)
        if resolved is None or not self.allows(resolved):
            where = ", ".join(str(f) for f in self.folders)
            raise OutsideRoots(
                f"{cut(str(path), MAX_SHOWN)} is outside the folders this page may open: {where}; "
                f"start dipsim viz with --root DIR to allow it{hint}"
            )
        return resolved

    def with_folders(self, folders: Iterable[str | Path]) -> Roots:
        return Roots(_added(self.folders, folders), self.files, self.private)

    def with_files(self, files: Iterable[str | Path]) -> Roots:
        return Roots(self.folders, _added(self.files, files), self.private)

    def with_private(self, folders: Iterable[str | Path]) -> Roots:
        return Roots(self.folders, self.files, _added(self.private, folders))


def _added(have: tuple[Path, ...], more: Iterable[str | Path]) -> tuple[Path, ...]:
    """``have`` and then each resolvable path of ``more`` not yet in it, in order."""
    out = list(have)
    for p in map(_resolved, more):
        if p is not None and p not in out:
            out.append(p)
    return tuple(out)


def server_roots(environ: Mapping[str, str] | None = None) -> Roots:
    """The roots of this server process: ``configs/``, the working directory and ``$DIPSIM_VIZ_ROOTS``.

    A working directory that is the filesystem's root is left out (a server started from ``/``, as a
    service may be, would otherwise open every file); a ``--root /`` given on purpose is kept."""
    env = os.environ if environ is None else environ
    cwd = Path.cwd().resolve()
    implicit = [BUNDLED_CONFIGS] + ([cwd] if cwd != cwd.parent else [])
    named = [p for p in env.get(ROOTS_ENV, "").split(os.pathsep) if p.strip()]
    return Roots(()).with_folders([*implicit, *named])
