"""Uploading a scenario file through the simulation page (issue 8, item 1).

The page opens typed paths only under its roots (``sim.viz.roots``); a scenario kept anywhere else on the
visitor's machine is uploaded instead. Its bytes are written to a private folder of this server process
(``upload_dir``, mode 0700, removed at exit), which the page counts among its roots, and validated there by the
same loader as every other scenario file, so an upload then behaves exactly as a typed path: Reset runs it, the
sliders override its parameters, and the export view's command and YAML download work from it.

What a visitor can leave on the server's disk is bounded: an upload that fails validation (or is above the
size limits, ``sim.viz.page_size``) is deleted at once; a session keeps at most the upload it chose and the one its
shown model came from (choosing another, or "Stop using the upload", deletes the one no longer needed, and the
session's end deletes both); and all sessions' uploads together are capped at ``MAX_STORED_BYTES``, above which
an upload is refused with a message saying so.

Vuetify's file field (ipyvuetify's ``FileInput``, the widget Solara's ``FileDrop`` is built on, with the same
chunked transfer) is used rather than ``FileDrop`` itself: ``FileDrop`` only takes a file dragged onto it, with no
way to choose one by click or keyboard, and no file input a browser test could fill.
"""

from __future__ import annotations

import atexit
import errno
import functools
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import solara
from ipyvuetify.extra import FileInput

from sim.loading import load_scenario
from sim.messages import ScenarioError
from sim.viz.page_size import TooBig, check_size

MAX_UPLOAD_BYTES = 1_000_000  # the bundled 2022 scenario is 30 kB; a scenario 30 times larger is not a scenario
MAX_STORED_BYTES = 50 * MAX_UPLOAD_BYTES  # every session's uploads together (a session keeps at most two)
_storing = threading.Lock()  # the check of the total and the write it allows are one step


@functools.cache
def upload_dir() -> Path:
    """This process's folder of uploaded scenarios (private to the server's user: mkdtemp makes it 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="dipsim-uploads-")).resolve()
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def safe_name(name: str) -> str:
    """A file name for an upload: the browser's name without folders or unusual characters (never ``..``)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")[:80]
    return name or "scenario.yaml"


def stored_bytes() -> int:
    """The bytes of every upload kept now, all sessions together."""
    return sum(p.stat().st_size for p in upload_dir().rglob("*") if p.is_file())


def discard(path: Path | None) -> None:
    """Delete an upload (its file and its folder). A path that is not an upload is never touched."""
    if path is not None and Path(path).parent.parent == upload_dir():
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def os_reason(exc: BaseException) -> str:
    """An OSError as a reader sees it (``No space left on device``), without the file's path; else its kind."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def accept_upload(name: str, size: int, file: BinaryIO) -> Path:
    """Store an uploaded scenario and validate it; its path, or a :class:`ScenarioError` naming the upload
    (not the private folder), whose values are never shown. A refused upload leaves nothing on disk."""
    shown = f"uploaded {safe_name(name)}"
    if size > MAX_UPLOAD_BYTES:
        raise ScenarioError(shown, [("", f"{size:,} bytes: larger than the {MAX_UPLOAD_BYTES:,} a scenario may be")])
    data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:  # the size the browser announced was not the size it sent
        raise ScenarioError(shown, [("", f"larger than the {MAX_UPLOAD_BYTES:,} bytes a scenario may be")])
    path = None
    try:
        with _storing:
            if stored_bytes() + len(data) > MAX_STORED_BYTES:
                raise OSError(errno.ENOSPC, f"the server keeps at most {MAX_STORED_BYTES:,} bytes of uploads")
            # A folder per upload: two sessions uploading files of the same name never touch each other's.
            path = Path(tempfile.mkdtemp(dir=upload_dir())) / safe_name(name)
            path.write_bytes(data)
        check_size(load_scenario(path, show_values=False), shown)
    except ScenarioError as exc:
        discard(path)
        raise ScenarioError(shown, exc.errors) from None
    except TooBig as exc:
        discard(path)
        raise ScenarioError(shown, [("", str(exc).removeprefix(f"{shown}: "))]) from None
    except OSError as exc:
        discard(path)
        problem = f"could not be stored: {os_reason(exc)}; try again later, or ask whoever runs the server"
        raise ScenarioError(shown, [("", problem)]) from None
    except BaseException:
        discard(path)
        raise
    return path


@solara.component
def FileField(on_file: Any, label: str, on_error: Callable[[str], None]) -> solara.Element:
    """A file field; ``on_file(name, size, file)`` is called in a thread with the file the visitor chose
    (``file`` reads it from the browser in chunks). The wiring is that of Solara's ``FileDrop``. An exception
    while receiving the file is passed to ``on_error`` as a sentence: raised, it would replace the page with a
    traceback."""
    info, set_info = solara.use_state(None)
    files, set_files = solara.use_state(None)
    field = FileInput.element(multiple=False, accept=".yaml,.yml", label=label, on_file_info=set_info)

    def wire() -> None:
        if not info:
            return
        widget = solara.get_widget(field)
        # As FileDrop does: the widget's own observer that counts versions is lost when the element renders.
        widget.version += 1
        widget.reset_stats()
        set_files(widget.get_files())

    solara.use_effect(wire, [info])

    def read(cancel: threading.Event) -> None:
        if files:  # reading waits for the browser's chunks, so not on the thread that receives them
            try:
                on_file(files[0]["name"], files[0]["size"], files[0]["file_obj"])
            except Exception as exc:
                on_error(f"Could not receive the file: {os_reason(exc)}")

    solara.use_thread(read, [files])
    return field


@solara.component
def UploadPanel(upload: solara.Reactive[Path | None], release: Callable[[Path | None], None] = discard) -> None:
    """Upload a scenario file; while one is in use, Reset runs it (the bundled choice and the path are ignored).
    ``release(path)`` is called with an upload no longer chosen: it deletes it unless the page still needs it."""
    error = solara.use_reactive(None)

    def choose(path: Path | None) -> None:
        before = upload.value
        upload.set(path)
        if before != path:
            release(before)

    def on_file(name: str, size: int, file: BinaryIO) -> None:
        try:
            path = accept_upload(name, size, file)
        except ScenarioError as exc:
            error.set(str(exc))
            return
        error.set(None)
        choose(path)

    with solara.Column(classes=["dipsim-upload"], gap="4px"):
        FileField(on_file, "Upload a scenario file (then Reset)", error.set)
        if error.value:
            solara.Error(error.value, classes=["dipsim-error"], style={"white-space": "pre-wrap"})
        if upload.value is not None:
            solara.Info(
                f"Reset runs the uploaded {upload.value.name}; the scenario choice and path are ignored.",
                dense=True,
                classes=["dipsim-upload-used"],
            )
            solara.Button("Stop using the upload", on_click=lambda: choose(None), outlined=True, small=True)
