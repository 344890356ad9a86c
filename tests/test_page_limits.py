"""What a visitor can make the server hold (issue 8, items 1 and 5), without a browser: uploads that are refused
leave nothing on disk, a session keeps at most two uploads (the one chosen, the one its model came from), all
uploads together are capped, a write error or an error receiving a file is a readable message, and a scenario
above ``sim.size``'s limits is refused with its estimate before its model is made (typed path, upload, or the
``dipsim viz`` scenario). The page is rendered with ``solara.render``; the file field is fed as the browser would
(its ``file_info``, then the file's bytes)."""

from __future__ import annotations

import datetime as dt
import errno
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import solara
import yaml
from ipyvuetify.extra import FileInput

import sim.viz.app
import sim.viz.upload
from experiments.generate import random_scenario_dict
from sim.loading import DEFAULT_SCENARIO
from sim.messages import ScenarioError
from sim.model import DiplomacyModel
from sim.options import ROOTS_ENV, VIZ_CONFIG_ENV
from sim.viz.upload import UploadPanel, accept_upload
from tests.widgets import button, errors, field, texts, type_text

VALIDATION = DEFAULT_SCENARIO.parent / "validation" / "fearon_p060.yaml"
TOO_BIG = "200 actors × 5 issues: about 11.9 GiB for a run of 9,863 steps"


def long_scenario(path: Path) -> Path:
    """200 actors run for 27 years of daily steps: a 170 kB file whose run would keep about 12 GiB (the data
    collector's copies), above the 2 GiB limit; it loads in a fraction of a second."""
    raw = random_scenario_dict(200, 5, seed=0)
    raw["calendar"]["end"] = dt.date(2057, 1, 1)
    path.write_text(yaml.dump(raw, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)), encoding="utf-8")
    return path


@pytest.fixture
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private upload folder for this test (the page's and the upload module's), a working directory, and no
    scenario or roots from the environment."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setattr(sim.viz.upload, "upload_dir", lambda: folder)
    monkeypatch.setattr(sim.viz.app, "upload_dir", lambda: folder)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in (VIZ_CONFIG_ENV, ROOTS_ENV):
        monkeypatch.delenv(name, raising=False)
    return folder


def stored(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` (the upload is read in a thread) until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def chosen(box: Any, name: str) -> bool:
    """Whether the page says Reset runs the upload ``name`` (the upload's thread then releases the one before)."""
    return f"Reset runs the uploaded {name};" in texts(box)


def send_file(rc: Any, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes) -> None:
    """Choose a file in the one file field, as the browser does: its name and size, then its bytes."""
    widget = rc.find(FileInput).widget
    monkeypatch.setattr(
        FileInput,
        "get_files",
        lambda self, timeout=30: [{"name": name, "size": len(data), "file_obj": io.BytesIO(data)}],
    )
    widget.file_info = [{"name": name, "size": len(data)}]


@solara.component
def SimApp() -> None:
    with solara.AppLayout():
        sim.viz.app.SimulationPage()


# --------------------------------------------------------------------------- uploads on disk


def test_a_refused_upload_leaves_nothing_on_disk(uploads: Path, tmp_path: Path) -> None:
    bad = b"id: x\nactors: 3\n"
    with pytest.raises(ScenarioError, match="uploaded bad.yaml: "):
        accept_upload("bad.yaml", len(bad), io.BytesIO(bad))
    big = long_scenario(tmp_path / "long.yaml").read_bytes()
    with pytest.raises(ScenarioError) as exc:
        accept_upload("long.yaml", len(big), io.BytesIO(big))
    assert str(exc.value).startswith(f"uploaded long.yaml: {TOO_BIG}") and "does not run" in str(exc.value)
    assert list(uploads.iterdir()) == []  # neither file nor folder is left


def test_a_write_error_is_a_readable_refusal_and_leaves_nothing(uploads: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    data = VALIDATION.read_bytes()
    with pytest.raises(ScenarioError) as exc:
        accept_upload("mine.yaml", len(data), io.BytesIO(data))
    assert str(exc.value).startswith("uploaded mine.yaml: could not be stored: No space left on device")
    assert str(uploads) not in str(exc.value)
    assert list(uploads.iterdir()) == []


def test_all_uploads_together_are_capped(uploads: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = VALIDATION.read_bytes()
    monkeypatch.setattr(sim.viz.upload, "MAX_STORED_BYTES", 2 * len(data))
    first = accept_upload("a.yaml", len(data), io.BytesIO(data))
    accept_upload("b.yaml", len(data), io.BytesIO(data))
    with pytest.raises(ScenarioError) as exc:
        accept_upload("c.yaml", len(data), io.BytesIO(data))
    assert f"could not be stored: the server keeps at most {2 * len(data):,} bytes of uploads" in str(exc.value)
    assert stored(uploads) == ["a.yaml", "b.yaml"]
    sim.viz.upload.discard(first)  # room again once an upload is released
    accept_upload("c.yaml", len(data), io.BytesIO(data))
    assert stored(uploads) == ["b.yaml", "c.yaml"]


def test_discard_touches_only_uploads(uploads: Path, tmp_path: Path) -> None:
    mine = tmp_path / "work" / "keep.yaml"
    mine.write_text("x", encoding="utf-8")
    sim.viz.upload.discard(mine)
    sim.viz.upload.discard(None)
    assert mine.exists()


def test_a_session_keeps_at_most_its_chosen_upload_and_its_models(
    uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = VALIDATION.read_bytes()
    box, rc = solara.render(SimApp(), handle_error=False)
    for name in ("a.yaml", "b.yaml"):  # choosing another upload deletes the one no longer used
        send_file(rc, monkeypatch, name, data)
        wait_for(lambda name=name: chosen(box, name) and stored(uploads) == [name], f"{name} chosen, alone kept")
    button(rc, "Reset").click()
    # Waited for, as below: the upload's thread may still be redrawing the page when Reset is clicked.
    wait_for(lambda: "fearon" in texts(box).lower() and not errors(box), "the uploaded model shown, no error")
    send_file(rc, monkeypatch, "c.yaml", data)  # b.yaml stays: the model shown came from it (its download)
    wait_for(lambda: chosen(box, "c.yaml") and stored(uploads) == ["b.yaml", "c.yaml"], "c.yaml chosen, b.yaml kept")
    button(rc, "Stop using the upload").click()
    wait_for(lambda: stored(uploads) == ["b.yaml"], "c.yaml dropped, b.yaml kept")
    button(rc, "Reset").click()  # the bundled scenario again: b.yaml is needed no more
    # Waited for, not read at once: the upload's thread may still be redrawing its field when Reset is clicked.
    wait_for(lambda: stored(uploads) == [] and "day 0 of 57" in texts(box), "the bundled model, no upload kept")
    send_file(rc, monkeypatch, "d.yaml", data)
    wait_for(lambda: chosen(box, "d.yaml") and stored(uploads) == ["d.yaml"], "d.yaml chosen, alone kept")
    rc.close()  # the session ends: its uploads go
    assert stored(uploads) == []


def test_a_refused_upload_on_the_page_shows_why_and_keeps_nothing(
    uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, rc = solara.render(SimApp(), handle_error=False)
    send_file(rc, monkeypatch, "long.yaml", long_scenario(tmp_path / "long.yaml").read_bytes())
    wait_for(lambda: "uploaded long.yaml" in errors(box), "the refusal shown")
    assert TOO_BIG in errors(box) and "Reset runs the uploaded" not in texts(box)
    assert list(uploads.iterdir()) == []
    rc.close()


def test_an_error_receiving_a_file_is_shown_not_raised(uploads: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(name: str, size: int, file: Any) -> None:
        raise OSError(errno.EIO, "Input/output error", "/private/path")

    monkeypatch.setattr(sim.viz.upload, "accept_upload", failing)
    upload = solara.reactive(None)
    box, rc = solara.render(UploadPanel(upload), handle_error=False)
    send_file(rc, monkeypatch, "x.yaml", b"id: x\n")
    wait_for(lambda: "Could not receive the file" in errors(box), "the error shown")
    assert "Could not receive the file: Input/output error" in errors(box)
    assert "/private/path" not in texts(box) and upload.value is None
    rc.close()


# --------------------------------------------------------------------------- the size guard


def test_a_typed_scenario_above_the_limits_is_refused_before_its_model_is_made(
    uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_scenario(tmp_path / "work" / "long.yaml")
    box, rc = solara.render(SimApp(), handle_error=False)
    button(rc, "Step").click()
    made: list[int] = []
    init = DiplomacyModel.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(len(kwargs["config"].actors))
        init(self, *args, **kwargs)

    monkeypatch.setattr(DiplomacyModel, "__init__", counting)
    type_text(field(rc, "Scenario file path"), "long.yaml")
    button(rc, "Reset").click()
    assert f"Could not make the model: long.yaml: {TOO_BIG}" in errors(box)
    assert "above the page's limit of 2 GiB per model and 1 s per step" in errors(box)
    assert made == []  # refused from the estimate: no 200 x 200 model was made
    assert "day 1 of 57" in texts(box)  # the model shown stays
    type_text(field(rc, "Scenario file path"), "")
    button(rc, "Reset").click()
    assert len(made) == 1  # a scenario within the limits is made as before
    assert not errors(box)
    rc.close()


def test_the_limits_are_read_when_the_page_checks(uploads: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lowered limits refuse the bundled scenario itself: the guard follows ``sim.size``'s stated limits."""
    box, rc = solara.render(SimApp(), handle_error=False)
    monkeypatch.setattr("sim.size.MAX_STEP_SECONDS", 1e-9)
    button(rc, "Reset").click()
    assert "above the page's limit of 2 GiB per model and 1e-09 s per step" in errors(box)
    rc.close()


def test_a_dipsim_viz_scenario_above_the_limits_shows_the_bundled_one(
    uploads: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VIZ_CONFIG_ENV, str(long_scenario(tmp_path / "long.yaml")))
    box, rc = solara.render(SimApp(), handle_error=False)
    assert TOO_BIG in errors(box) and "showing the bundled scenario instead" in errors(box)
    assert "day 0 of 57" in texts(box)
    rc.close()
