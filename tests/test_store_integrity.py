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
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from experiments import part_writer, results, store
from experiments.results import DamagedPartsWarning, load_manifest, load_runs, part_files
from experiments.spec import load_experiment
from experiments.sweep import sweep
from sim.cli import main
from sim.viz import sweep_data
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
    result, error = sweep_data.load_report(str(out))
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
    result, error = sweep_data.load_report(str(out))
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
    result, error = sweep_data.load_report(str(out))
    assert result is None and error is not None and "no sound part left" in error


def test_the_page_loader_gives_a_message_for_a_folder_no_check_foresaw(reference, tmp_path, monkeypatch):
    _, ref = reference

    def broken(*args, **kwargs):
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr(sweep_data, "report", broken)
    result, error = sweep_data.load_report(str(ref))
    assert result is None and error == f"{ref}: cannot be read (RuntimeError: something unforeseen)"


def test_a_full_disk_stops_the_sweep_interrupted_and_the_resume_completes(reference, tmp_path, monkeypatch, capsys):
    path, ref = reference
    out = tmp_path / "full_disk"
    written = []
    real = store._write_bytes

    def fill_up(target: Path, data: bytes) -> None:
        if not target.name.startswith(".part-"):  # only parts fail here; every write fails in the test below
            real(target, data)
            return
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


def test_a_real_full_disk_leaves_running_which_reads_as_interrupted(reference, tmp_path, monkeypatch, capsys):
    """Every write under the folder fails once the disk is full (parts, manifest, summary alike): the manifest
    cannot say "interrupted", so it still says "running"; the command says why and how to resume, and with no
    sweep holding the lock, the report, the page and the resume count the folder as interrupted."""
    path, ref = reference
    out = tmp_path / "really_full"
    real = store._write_bytes
    parts = []

    def full(target: Path, data: bytes) -> None:
        if len(parts) == 2:  # after two parts, nothing more fits
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        parts.extend([target] if target.name.startswith(".part-") else [])
        real(target, data)

    monkeypatch.setattr(store, "_write_bytes", full)
    monkeypatch.setenv("DIPSIM_SWEEP_FLUSH_SECONDS", "0")
    code = main(["sweep", str(path), "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "sweep failed: cannot write to" in err and "No space left on device" in err
    assert "run the same command again to resume" in err and "Traceback" not in err
    assert "could not record the status 'interrupted' in manifest.json" in err
    assert "no sweep holds" not in err  # a new folder's own "running" is not a lost sweep's
    assert load_manifest(out)["status"] == "running"  # what the disk holds
    assert len(part_files(out)) == 2 and store.verified_parts(out)[1] == []
    monkeypatch.setattr(store, "_write_bytes", real)

    code, text = report_text(out, capsys)
    assert code == 0 and "status: interrupted (manifest.json says running, but no sweep holds" in text
    result, error = sweep_data.load_report(str(out))
    assert error is None and result is not None and result.sweep.manifest["status"] == "interrupted"

    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert "counted as interrupted" in capsys.readouterr().err
    pd.testing.assert_frame_equal(rows(out), rows(ref))
    manifest = load_manifest(out)
    assert manifest["status"] == "complete"
    assert [s.get("status") for s in manifest["sessions"]] == ["interrupted", "complete"]


def test_a_running_folder_whose_lock_is_held_still_reads_as_running(reference, tmp_path):
    """The other side of the check above: while a sweep holds the lock, "running" is believed."""
    import fcntl

    _, ref = reference
    out = tmp_path / "busy"
    shutil.copytree(ref, out)
    manifest = load_manifest(out)
    (out / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}), encoding="utf-8")
    with open(out / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        result, error = sweep_data.load_report(str(out))
        assert error is None and result is not None and result.sweep.manifest["status"] == "running"
        assert not any("interrupted" in note for note in result.notes)
    result, error = sweep_data.load_report(str(out))
    assert error is None and result.sweep.manifest["status"] == "interrupted"


def raw_keys(out: Path) -> pd.DataFrame:
    """The (point_id, replication) of every row of every part as written, duplicates included."""
    tables = [pq.read_table(f, columns=["point_id", "replication"]).to_pandas() for f in part_files(out)]
    return pd.concat(tables, ignore_index=True)


def test_sigterm_between_writing_a_part_and_dropping_its_rows_writes_them_once(reference, tmp_path, monkeypatch):
    """SIGTERM arriving just after the writer wrote a part, before it dropped those rows from its buffer (sent
    from the writer's own ``len`` call there): it is held until the bookkeeping is done, so the final flush
    does not write the same rows again as the next part."""
    from experiments.interrupt import SweepInterrupted

    path, ref = reference
    out = tmp_path / "terminated"
    sent = []

    def len_then_sigterm(obj):
        if not sent and sys._getframe(1).f_code.co_name == "_write":
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        return len(obj)

    monkeypatch.setattr(part_writer, "len", len_then_sigterm, raising=False)
    with pytest.raises(SweepInterrupted):
        sweep(load_experiment(path), out, workers=1, progress=False, part_rows=PART_ROWS, flush_seconds=math.inf)
    assert sent
    keys = raw_keys(out)
    assert len(keys) > 0 and not keys.duplicated().any()
    manifest = load_manifest(out)
    assert manifest["status"] == "interrupted" and manifest["sessions"][-1]["stopped_by"] == "SIGTERM"
    assert manifest["runs"] == len(keys)
    monkeypatch.undo()
    sweep(load_experiment(path), out, workers=1, progress=False, part_rows=PART_ROWS, flush_seconds=math.inf)
    pd.testing.assert_frame_equal(rows(out), rows(ref))
    assert not raw_keys(out).duplicated().any()


def test_a_part_written_twice_is_counted_once(reference, tmp_path, capsys):
    """A copy of a part under the next part name, listed in the manifest (what a part written twice looks
    like): the readers, the report and the resume count each key once and say so."""
    path, ref = reference
    out = tmp_path / "twice"
    shutil.copytree(ref, out)
    first, last = part_files(out)[0], part_files(out)[-1]
    copy = out / "runs" / f"part-{int(last.name[5:11]) + 1:06d}.parquet"
    shutil.copyfile(first, copy)
    manifest = load_manifest(out)
    manifest[store.PARTS][copy.name] = manifest[store.PARTS][first.name]
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert store.verified_parts(out)[1] == []  # a sound part: only its keys are repeated
    copied = manifest[store.PARTS][first.name]["rows"]
    assert len(raw_keys(out)) == RUNS + copied

    with pytest.warns(results.DuplicateRowsWarning, match=f"{copied} run row"):
        pd.testing.assert_frame_equal(rows(out), rows(ref))
    with pytest.warns(results.DuplicateRowsWarning):
        assert int(results.summarise(out)["runs"].sum()) == RUNS
    code, text = report_text(out, capsys)
    assert code == 0 and f"{RUNS} run(s)" in text and f"{copied} run row(s) repeat" in text
    result, error = sweep_data.load_report(str(out))
    assert error is None and int(result.summary["runs"].sum()) == RUNS

    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert (
        f"{copied} row(s) repeat the key of an earlier row (runs/{copy.name}): counted once" in capsys.readouterr().err
    )
    assert load_manifest(out)["runs"] == RUNS
    assert int(pd.read_csv(out / "summary.csv")["runs"].sum()) == RUNS


SECRET = "top-secret-value-0451"


def test_links_out_of_a_sweep_folder_are_not_followed(reference, tmp_path, capsys):
    """A manifest, points file or runs folder that is a symbolic link (or leads out of the folder) is refused
    with a plain message and nothing of its target is shown; a part that is a link is left out as damaged."""
    _, ref = reference
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    secret = elsewhere / "secret.json"
    secret.write_text(json.dumps({"status": SECRET, "paths": [SECRET]}), encoding="utf-8")

    def linked(name: str, target: Path | None) -> Path:
        """A copy of the reference sweep whose ``name`` is a link to ``target``, or (None) to itself moved out."""
        out = tmp_path / f"linked_{name.replace('/', '_')}"
        shutil.copytree(ref, out)
        victim = out / name
        if target is None:
            target = elsewhere / f"{out.name}_{victim.name}"
            shutil.move(victim, target)
        else:
            victim.unlink()
        victim.symlink_to(target)
        return out

    for name, target in (("manifest.json", secret), ("points.parquet", None), ("runs", None)):
        out = linked(name, target)
        code, text = report_text(out, capsys)
        assert code == 2 and f"{name}: a symbolic link; only the folder's own files are read" in text, text
        assert SECRET not in text
        result, error = sweep_data.load_report(str(out))
        assert result is None and "a symbolic link" in error and SECRET not in error
    with pytest.raises(ValueError, match="manifest.json: a symbolic link"):
        load_manifest(tmp_path / "linked_manifest.json")

    out = linked(f"runs/{VICTIM}", None)
    victim_rows = load_manifest(ref)[store.PARTS][VICTIM]["rows"]
    good, damaged = store.verified_parts(out)
    assert [(d.path.name, d.reason) for d in damaged] == [(VICTIM, "a symbolic link or outside the folder: not read")]
    code, text = report_text(out, capsys)
    assert code == 0 and f"runs/{VICTIM}: a symbolic link" in text and f"{RUNS - victim_rows} run(s)" in text


@pytest.mark.parametrize(
    ("where", "error"),
    [("Plan", MemoryError()), ("read_done", OSError(errno.EMFILE, "Too many open files"))],
)
def test_an_error_that_is_not_a_write_error_records_failed(reference, tmp_path, monkeypatch, where, error):
    """An exception between "running" and the runs (the plan, reading the runs done) records "failed"; an
    OSError that is not the store's own write error is not labelled one, and is raised as it is."""
    from experiments import sweep as sweep_module

    path, _ = reference
    out = tmp_path / "failed"

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(sweep_module, where, broken)
    with pytest.raises(type(error)):
        sweep(load_experiment(path), out, workers=1, progress=False, part_rows=PART_ROWS)
    manifest = load_manifest(out)
    assert manifest["status"] == "failed"
    assert "stopped_by" not in manifest["sessions"][-1]
