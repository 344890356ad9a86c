"""The sweep's buffer in front of ``experiments.store.write_part``: rows are written as parts of at most
``part_rows`` rows, at the latest ``flush_seconds`` after the first of them came in.

Apart from the store because it belongs to the writing side: each write is a critical section
(``experiments.interrupt``), and readers of a sweep folder need neither.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from experiments.interrupt import critical
from experiments.store import part_files, write_json, write_part


class PartWriter:
    """Buffers rows; writes ``runs/part-N.parquet`` (N after the highest existing) atomically, each listed with
    its checksum in ``manifest`` (``write_part``)."""

    def __init__(self, out: Path, schema: pa.Schema, part_rows: int, flush_seconds: float, manifest: dict[str, Any]):
        self.runs = out / "runs"
        self.manifest = manifest
        self.manifest_path = out / "manifest.json"
        self.schema = schema
        self.part_rows = max(1, part_rows)
        self.flush_seconds = flush_seconds
        existing = part_files(out)
        self.next = int(existing[-1].name.split("-")[1].split(".")[0]) + 1 if existing else 1
        self.buffer: list[dict[str, Any]] = []
        self.since: float | None = None
        self.rows_written = 0

    def add(self, rows: list[dict[str, Any]]) -> None:
        with critical():
            if rows and self.since is None:
                self.since = time.monotonic()
            self.buffer.extend(rows)
            while len(self.buffer) >= self.part_rows:
                self._write(self.part_rows)
            if not self.buffer:
                self.since = None

    def tick(self) -> None:
        if self.since is not None and time.monotonic() - self.since >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        with critical():
            if self.buffer:
                self._write(len(self.buffer))
            self.since = None

    def _write(self, n: int) -> None:
        """Write the first ``n`` buffered rows as the next part and drop them from the buffer (a critical
        section: a signal never leaves rows both written and buffered, which would write them twice)."""
        rows = self.buffer[:n]
        table = pa.Table.from_pylist(rows, schema=self.schema)
        path = self.runs / f"part-{self.next:06d}.parquet"
        write_part(path, table, self.manifest, lambda: write_json(self.manifest, self.manifest_path))
        self.next += 1
        self.rows_written += len(rows)
        del self.buffer[:n]
