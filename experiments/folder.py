"""What a reader of a sweep folder may trust besides the part checksums (``experiments.store``).

``inside(out, name)``      the file ``out/name``, refused (``OutsideFolder``) when it, or a folder on the way to
                           it, is a symbolic link or resolves outside ``out``: a reader opens only the folder's
                           own files, never what a link points at;
``sweep_holds_lock(out)``  whether a sweep holds ``out/.lock`` now (the sweep's ``flock``);
``status_of(out, m)``      the manifest's status, except that "running" with no sweep holding the lock is
                           "interrupted": the sweep stopped without recording its status (killed with -9, or
                           its disk full so that the manifest could not be written).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

LOCK = ".lock"
UNRECORDED = (
    "manifest.json says running, but no sweep holds the folder's lock: the last sweep stopped without "
    "recording its status (killed, or its disk full); counted as interrupted"
)


class OutsideFolder(ValueError):
    """A file of a sweep folder is a symbolic link, or resolves outside the folder: it is not read."""


def inside(out: str | Path, name: str) -> Path:
    """``out/name`` when it is the folder's own file (it need not exist); OutsideFolder if it, or a folder on
    the way to it, is a symbolic link, or if it resolves outside ``out``."""
    out = Path(out)
    path = out / name
    here = out
    for part in Path(name).parts:
        here = here / part
        if here.is_symlink():
            what = Path(name).as_posix()
            raise OutsideFolder(f"{out}: {what}: a symbolic link; only the folder's own files are read")
    root = out.resolve()
    if not path.resolve().is_relative_to(root):
        raise OutsideFolder(f"{out}: {Path(name).as_posix()}: resolves outside the folder; it is not read")
    return path


def sweep_holds_lock(out: str | Path) -> bool | None:
    """Whether a sweep holds ``out/.lock`` now: True, False, or None where it cannot be known (no ``fcntl``).

    The probe takes a shared lock for an instant and releases it at once; a sweep starting in that instant
    retries (``experiments.sweep_folder.lock``)."""
    try:
        import fcntl
    except ImportError:  # Windows: the sweep takes no lock either
        return None
    try:
        fd = os.open(Path(out) / LOCK, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:  # no .lock: no sweep ever held it (or it is not a plain file)
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def status_of(out: str | Path, manifest: dict[str, Any]) -> tuple[str, str | None]:
    """(status, note): the manifest's status, or "interrupted" with a note when it says "running" and no sweep
    holds the folder's lock."""
    status = manifest.get("status")
    status = status if isinstance(status, str) else "?"
    if status == "running" and sweep_holds_lock(out) is False:
        return "interrupted", UNRECORDED
    return status, None
