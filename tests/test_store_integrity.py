"""A results store that checks itself (issue 8, item 6): each part's sha256 and row count in the manifest; a
damaged, altered, unlisted or absent part is set aside (kept in damaged/) by the next sweep of the folder,
which runs its keys again and ends with the rows of an undamaged sweep; ``dipsim report`` and the sweep page's
loader name the damaged parts and summarise the sound ones, never with a traceback; a write error (a full disk)
leaves the manifest "interrupted".

Each case damages a copy of one real sweep of the Fearon validation grid (4 points x 30 runs, 3 steps a run,
written 25 rows a part, so 5 parts) and compares against that undamaged sweep.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from experiments import store, views
from experiments.results import DamagedPartsWarning, load_manifest, load_runs, part_files
from experiments.runner import sweep
from experiments.spec import load_experiment
from sim.cli import main
from tests.sweep_helpers import FEARON_GRID

PART_ROWS = 25
RUNS = 4 * 30
VICTIM = "part-000002.parquet"  # the part each case damages


def rows(out: Path) -> pd.DataFrame:
    """The run rows without the one column that differs between sweeps (wall time), sorted by key."""
    return load_runs(out).drop(columns="wall_time")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(experiment file, output folder of its undamaged sweep)."""
    folder = tmp_path_factory.mktemp("store")
    path = folder / "fearon_grid.yaml"
    path.write_text(FEARON_GRID, encoding="utf-8")
    out = folder / "reference"
    # No timed flush (a loaded machine would otherwise write more, smaller parts): parts of PART_ROWS rows.
    sweep(load_experiment(path), out, workers=1, progress=False, part_rows=PART_ROWS, flush_seconds=math.inf)
    assert len(part_files(out)) == RUNS // PART_ROWS + 1  # the cases below damage one of several parts
    return path, out


def _rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def truncate(part: Path, manifest: dict) -> None:
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])


def garbage_column(part: Path, manifest: dict) -> None:
    """A valid Parquet file whose ``escalated`` column holds garbage text instead of booleans."""

    def change(t: pa.Table) -> pa.Table:
        garbage = pa.array(["\x00\x13garbage\x7f"] * t.num_rows, pa.string())
        return t.set_column(t.schema.get_field_index("escalated"), "escalated", garbage)

    _rewrite(part, change)


def altered_values(part: Path, manifest: dict) -> None:
    """Every ``escalated`` flipped, same schema and rows; the manifest keeps the old checksum."""

    def change(t: pa.Table) -> pa.Table:
        flipped = pa.array([not v for v in t.column("escalated").to_pylist()], pa.bool_())
        return t.set_column(t.schema.get_field_index("escalated"), "escalated", flipped)

    _rewrite(part, change)


def unlisted(part: Path, manifest: dict) -> None:
    del manifest[store.PARTS][part.name]


CASES = {
    "truncated": (truncate, "unreadable Parquet file"),
    "damaged_column": (garbage_column, "column 'escalated' is string, not bool"),
    "altered_values": (altered_values, "its sha256 is not the one manifest.json records"),
    "unlisted": (unlisted, "not listed in manifest.json"),
}


def damaged_copy(reference: tuple[Path, Path], tmp_path: Path, damage: Callable[[Path, dict], None]) -> Path:
    _, ref = reference
    out = tmp_path / "damaged_sweep"
    shutil.copytree(ref, out)
    manifest = load_manifest(out)
    damage(out / "runs" / VICTIM, manifest)
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


def report_text(out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["report", str(out), "--no-plots", "--rows", "0"])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    return code, text


def test_the_manifest_lists_every_part_with_its_checksum_and_rows(reference):
    _, out = reference
    index = load_manifest(out)[store.PARTS]
    files = part_files(out)
    assert sorted(index) == [f.name for f in files]
    for f in files:
        assert index[f.name] == {
            "sha256": hashlib.sha256(f.read_bytes()).hexdigest(),
            "rows": pq.read_metadata(f).num_rows,
        }
    assert sum(e["rows"] for e in index.values()) == RUNS
    assert store.verified_parts(out) == (files, [])


@pytest.mark.parametrize("case", list(CASES))
def test_damage_is_reported_set_aside_and_rerun_to_the_undamaged_rows(case, reference, tmp_path, capsys):
    damage, reason = CASES[case]
    path, ref = reference
    out = damaged_copy(reference, tmp_path, damage)
    damaged_bytes = (out / "runs" / VICTIM).read_bytes()
    victim_rows = load_manifest(ref)[store.PARTS][VICTIM]["rows"]

    # Read before the resume: the damaged part named with its reason, the sound ones summarised.
    code, text = report_text(out, capsys)
    assert code == 0
    assert f"runs/{VICTIM}: {reason}" in text
    assert f"{RUNS - victim_rows} run(s)" in text  # the headline counts the sound parts only
    result, error = views.load_report(str(out))
    assert error is None and result is not None
    assert any(VICTIM in note and reason in note for note in result.notes)
    with pytest.warns(DamagedPartsWarning, match=VICTIM):
        assert len(load_runs(out)) == RUNS - victim_rows

    # The resume sets it aside (kept, byte for byte), says so, and runs its keys again.
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert f"set aside runs/{VICTIM} as damaged/{VICTIM}: {reason}" in err
    assert (out / "damaged" / VICTIM).read_bytes() == damaged_bytes
    pd.testing.assert_frame_equal(rows(out), rows(ref))
    manifest = load_manifest(out)
    assert manifest["status"] == "complete"
    assert [(e["part"], e["moved_to"]) for e in manifest[store.SET_ASIDE]] == [(f"runs/{VICTIM}", f"damaged/{VICTIM}")]
    assert reason in manifest[store.SET_ASIDE][0]["reason"]
    assert store.verified_parts(out)[1] == []

    # Read after the resume: nothing left out.
    code, text = report_text(out, capsys)
    assert code == 0 and "left out" not in text and f"{RUNS} run(s)" in text
    result, error = views.load_report(str(out))
    assert error is None and result is not None and int(result.summary["runs"].sum()) == RUNS


def test_a_listed_part_that_is_absent_is_run_again(reference, tmp_path, capsys):
    path, ref = reference
    out = damaged_copy(reference, tmp_path, lambda part, manifest: part.unlink())
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert f"runs/{VICTIM} is listed in manifest.json but absent" in capsys.readouterr().err
    pd.testing.assert_frame_equal(rows(out), rows(ref))
    assert not (out / "damaged").exists()


def test_a_folder_without_checksums_is_checked_by_reading_and_listed(reference, tmp_path, capsys):
    """A folder written before checksums were recorded: a part that cannot be read whole is set aside, the
    others are read, listed with their checksums, and kept."""

    def old_folder(part: Path, manifest: dict) -> None:
        del manifest[store.PARTS]
        truncate(part, manifest)

    path, ref = reference
    out = damaged_copy(reference, tmp_path, old_folder)
    kept = {f.name: f.read_bytes() for f in part_files(out) if f.name != VICTIM}
    code, text = report_text(out, capsys)
    assert code == 0 and f"runs/{VICTIM}: unreadable Parquet file" in text
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert f"set aside runs/{VICTIM}" in capsys.readouterr().err
    assert all((out / "runs" / name).read_bytes() == data for name, data in kept.items())
    assert set(kept) < set(load_manifest(out)[store.PARTS])
    pd.testing.assert_frame_equal(rows(out), rows(ref))


def test_report_and_page_when_every_part_is_damaged(reference, tmp_path, capsys):
    def every_part(part: Path, manifest: dict) -> None:
        for f in part_files(part.parent.parent):
            truncate(f, manifest)

    out = damaged_copy(reference, tmp_path, every_part)
    code, text = report_text(out, capsys)
    assert code == 2
    assert f"runs/{VICTIM}: unreadable Parquet file" in text and "no sound part left" in text
    result, error = views.load_report(str(out))
    assert result is None and error is not None and "no sound part left" in error


def test_the_page_loader_gives_a_message_for_a_folder_no_check_foresaw(reference, tmp_path, monkeypatch):
    _, ref = reference

    def broken(*args, **kwargs):
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr(views, "report", broken)
    result, error = views.load_report(str(ref))
    assert result is None and error == f"{ref}: cannot be read (RuntimeError: something unforeseen)"


def test_a_full_disk_stops_the_sweep_interrupted_and_the_resume_completes(reference, tmp_path, monkeypatch, capsys):
    path, ref = reference
    out = tmp_path / "full_disk"
    written = []
    real = store._write_bytes

    def fill_up(target: Path, data: bytes) -> None:
        if len(written) == 2:  # the third part finds the disk full
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        written.append(target)
        real(target, data)

    monkeypatch.setattr(store, "_write_bytes", fill_up)
    monkeypatch.setenv("DIPSIM_SWEEP_FLUSH_SECONDS", "0")
    code = main(["sweep", str(path), "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "No space left on device" in err and "resume" in err and "Traceback" not in err
    manifest = load_manifest(out)
    assert manifest["status"] == "interrupted"
    assert manifest["sessions"][-1]["stopped_by"].startswith("write error")
    assert len(part_files(out)) == 2 and store.verified_parts(out)[1] == []
    assert manifest["runs"] == len(load_runs(out)) > 0  # the runs on disk, not those lost with the disk full
    assert not list((out / "runs").glob(".*.tmp"))

    monkeypatch.setattr(store, "_write_bytes", real)
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    pd.testing.assert_frame_equal(rows(out), rows(ref))
    assert load_manifest(out)["status"] == "complete"
