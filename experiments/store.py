"""The integrity of a sweep's part files: each part's sha256 and row count in the manifest, checked on reading.

A part (``runs/part-N.parquet``) is written by ``write_part``: the table is serialised in memory, its sha256 and
row count are recorded in ``manifest["parts"]["part-N.parquet"]`` and the manifest is written (atomically),
then the part is written under a temporary name, flushed to disk and renamed into place. The entry comes
before the rename so that every part a reader can see is already listed: a reader lists the parts first and
reads the manifest after (``verified_parts``). A crash between the two leaves an entry without a file, which
only means that part's runs are still to do.

``experiments.part_writer.PartWriter`` is the sweep's buffer in front of ``write_part``.

``verified_parts(out)`` sorts the parts into sound and damaged without changing anything (the report, the
sweep page and ``experiments.results.load_runs`` read only the sound ones). A part is damaged when it is not
listed, when its bytes' sha256 differs from the listed one (truncated, a column damaged, values altered), or,
in a folder written before checksums were recorded (no ``parts`` in its manifest), when it cannot be read
whole or a run column has the wrong type. ``set_aside`` is the sweep's (it holds the folder's lock): damaged
parts are renamed into ``OUT/damaged/`` (kept, never deleted), their entries moved to ``manifest["set_aside"]``
with the reason, and their runs are then missing, so the sweep runs them again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from experiments.folder import OutsideFolder, inside
from sim.messages import cut

PART_RE = re.compile(r"^part-(\d+)\.parquet$")
PARTS = "parts"  # manifest key: {part file name: {"sha256": hex digest, "rows": int}}
SET_ASIDE = "set_aside"  # manifest key: [{"part", "moved_to", "reason", "time"}]
DAMAGED_DIR = "damaged"

#: The type of every run column but the varied paths' (float64, or JSON text); docs/experiments.md.
RUN_FIELDS_BEFORE: list[tuple[str, pa.DataType]] = [
    ("point_id", pa.string()),
    ("replication", pa.int64()),
    ("seed", pa.int64()),
    ("set", pa.string()),
]
#: Run columns added after the first folders were written: a part without them is still sound (they read as
#: null), so that a folder written before them is neither set aside nor run again.
ADDED_LATER = frozenset({"escalation_actor", "escalation_target"})
RUN_FIELDS_AFTER: list[tuple[str, pa.DataType]] = [
    ("outcome", pa.string()),
    ("escalated", pa.bool_()),
    ("escalation_step", pa.float64()),
    ("escalation_date", pa.string()),
    ("escalation_actor", pa.string()),
    ("escalation_target", pa.string()),
    ("max_rung", pa.string()),
    ("max_rung_score", pa.float64()),
    ("agreed_issues", pa.string()),
    ("steps_run", pa.int64()),
    ("wall_time", pa.float64()),
    ("error", pa.string()),
]


@dataclass(frozen=True)
class Damage:
    """A part that cannot be trusted, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"runs/{self.path.name}: {self.reason}"


def part_files(out: str | Path) -> list[Path]:
    """The complete part files of a sweep folder, by part number (temporary files are ignored)."""
    runs = Path(out) / "runs"
    if not runs.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in runs.iterdir() if (m := PART_RE.match(p.name))]
    return [p for _, p in sorted(found)]


def _entry(data: bytes, rows: int) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "rows": rows}


class StoreWriteError(OSError):
    """A file of a sweep folder could not be written (a full disk, a folder made read-only). Raised by this
    module's writers only, so that the sweep stops as interrupted on a write error and on no other OSError."""


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and flush it to disk (a full disk raises OSError here). Every file of a sweep
    folder is written through this function (``write_file``, ``write_part``)."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _wrapped(exc: OSError, path: Path) -> StoreWriteError:
    return StoreWriteError(exc.errno, exc.strerror or str(exc), str(exc.filename or path))


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` as ``path`` atomically: under a temporary name in the same folder, then renamed into place.
    StoreWriteError if it cannot be written (the temporary file is removed)."""
    tmp = path.with_name("." + path.name + ".tmp")
    try:
        _write_bytes(tmp, data)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise _wrapped(exc, path) from exc


def write_json(data: dict[str, Any], path: Path) -> None:
    """``data`` as indented JSON, written atomically by ``write_file`` (StoreWriteError if it cannot be)."""
    write_file(path, (json.dumps(data, indent=2, default=str) + "\n").encode("utf-8"))


def write_part(path: Path, table: pa.Table, manifest: dict[str, Any], save_manifest: Callable[[], None]) -> None:
    """Write ``table`` as the part ``path``: listed in ``manifest`` (saved), then written and renamed into place.

    If writing fails (a full disk), the entry is taken out of ``manifest`` again and the error re-raised; the
    manifest on disk may still list the part, which then counts as absent (its runs are still to do)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    data = sink.getvalue().to_pybytes()
    index = manifest.setdefault(PARTS, {})
    index[path.name] = _entry(data, table.num_rows)
    tmp = path.with_name("." + path.name + ".tmp")
    try:
        save_manifest()
        _write_bytes(tmp, data)
        tmp.replace(path)  # if this fails, the part may be listed but absent: its runs count as still to do
    except BaseException as exc:
        index.pop(path.name, None)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, StoreWriteError):
            raise _wrapped(exc, path) from exc
        raise


def _kind(typ: pa.DataType) -> str:
    """The kind of an Arrow type as a run column needs it: text, integer, float, bool, null or other."""
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return "text"
    for kind, test in (("integer", pa.types.is_integer), ("float", pa.types.is_floating)):
        if test(typ):
            return kind
    return "bool" if pa.types.is_boolean(typ) else "null" if pa.types.is_null(typ) else "other"


def _type_problem(schema: pa.Schema) -> str | None:
    """Why a part's schema is not a run table's (a missing run column, or one of another kind), or None.

    Kinds, not exact types: other writers (pandas) store text as large_string, and a column of nulls only
    (``error`` in a part where no run raised) as Arrow's null type; both read the same."""
    for name, typ in (*RUN_FIELDS_BEFORE, *RUN_FIELDS_AFTER):
        if name not in schema.names:
            if name in ADDED_LATER:
                continue
            return f"no column {name!r}"
        got = schema.field(name).type
        if _kind(got) not in (_kind(typ), "null"):
            return f"column {name!r} is {got}, not {typ}"
    return None


def _diagnose(data: bytes, listed: dict[str, Any] | None) -> str | None:
    """What is wrong with a part's bytes (``listed``: its manifest entry, None in a folder without entries)."""
    try:
        table = pq.read_table(pa.BufferReader(data))
        table.validate(full=True)  # e.g. text columns that are not UTF-8
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        return f"unreadable Parquet file ({type(exc).__name__}: {_short(exc)})"
    if (problem := _type_problem(table.schema)) is not None:
        return problem
    if listed is None:
        return None
    if table.num_rows != listed.get("rows"):
        return f"{table.num_rows} rows where manifest.json records {listed.get('rows')}"
    return "its sha256 is not the one manifest.json records: its contents changed after it was written"


def _short(exc: Exception, limit: int = 200) -> str:
    """The exception's text on one line, cut (an Arrow error can span many lines)."""
    return cut(" ".join(str(exc).split()), limit)


def check_part(path: Path, index: dict[str, Any] | None) -> str | None:
    """Why the part ``path`` cannot be trusted, or None. ``index``: the manifest's ``parts`` (None in a folder
    written before checksums were recorded: then the part is read whole and its column types checked)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if index is None:
        return _diagnose(data, None)
    listed = index.get(path.name)
    if not isinstance(listed, dict):
        return "not listed in manifest.json's parts (written by no sweep of this folder)"
    if hashlib.sha256(data).hexdigest() == listed.get("sha256"):
        return None
    return _diagnose(data, listed)


def read_index(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest's ``parts`` (None when it has none: a folder written before checksums were recorded)."""
    index = manifest.get(PARTS)
    return index if isinstance(index, dict) else None


def verified_parts(out: str | Path, manifest: dict[str, Any] | None = None) -> tuple[list[Path], list[Damage]]:
    """(sound parts, damaged parts) of a sweep folder; nothing is moved or written.

    The parts are listed before the manifest is read (unless given), so a part a running sweep renames into
    place meanwhile is either not seen or already listed. A folder without a readable manifest has no index."""
    files = part_files(out)
    if manifest is None:
        try:
            manifest = json.loads(inside(out, "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):  # OutsideFolder is a ValueError
            manifest = {}
    index = read_index(manifest) if isinstance(manifest, dict) else None
    good: list[Path] = []
    damaged: list[Damage] = []
    for f in files:
        try:
            inside(out, f"runs/{f.name}")
        except OutsideFolder:
            damaged.append(Damage(f, "a symbolic link or outside the folder: not read"))
            continue
        reason = check_part(f, index)
        if reason is None:
            good.append(f)
        else:
            damaged.append(Damage(f, reason))
    return good, damaged


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/name.2``, ``.3``... if taken: a part set aside never replaces another."""
    dest = folder / name
    k = 2
    while dest.exists():
        dest = folder / f"{name}.{k}"
        k += 1
    return dest


def set_aside(out: Path, manifest: dict[str, Any], save_manifest: Callable[[], None]) -> list[str]:
    """Verify every part of ``out`` and move the damaged ones into ``out/damaged/``; for the sweep, which holds
    the folder's lock. Returns one message per part set aside (and per listed part that is absent).

    In a folder written before checksums were recorded, the sound parts are listed now. The manifest is saved
    once everything is moved, so it never lists a part that was moved."""
    good, damaged = verified_parts(out, manifest)
    index = read_index(manifest)
    adopted = index is None
    if index is None:
        index = manifest[PARTS] = {f.name: _entry(f.read_bytes(), pq.read_metadata(f).num_rows) for f in good}
    messages: list[str] = []
    present = {f.name for f in good} | {d.path.name for d in damaged}
    for name in sorted(set(index) - present):  # listed, never renamed into place (or removed by hand)
        del index[name]
        messages.append(f"runs/{name} is listed in manifest.json but absent: its runs will be run again")
    if damaged:
        folder = out / DAMAGED_DIR
        folder.mkdir(exist_ok=True)
        now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        for d in damaged:
            dest = _free_name(folder, d.path.name)
            d.path.replace(dest)
            index.pop(d.path.name, None)
            moved = dest.relative_to(out).as_posix()
            manifest.setdefault(SET_ASIDE, []).append(
                {"part": f"runs/{d.path.name}", "moved_to": moved, "reason": d.reason, "time": now}
            )
            messages.append(f"set aside runs/{d.path.name} as {moved}: {d.reason}; its runs will be run again")
    if messages or adopted:
        save_manifest()
    return messages
