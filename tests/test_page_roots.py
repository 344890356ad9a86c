"""The pages open only what they were given (issue 8, item 1), without a browser: the simulation page and the
sweep page rendered with ``solara.render`` refuse paths outside their roots (``..``, elsewhere, a link out)
without reading them, show a scenario's unknown fields by name and never their values, and use an uploaded
scenario. The same through the real server and Chromium is in test_browser_security.py."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
import solara

from sim.loading import DEFAULT_SCENARIO
from sim.messages import ScenarioError
from sim.options import ROOTS_ENV, VIZ_CONFIG_ENV, VIZ_RESULTS_ENV
from sim.viz import sweep_page
from sim.viz.app import VizModel, _Session, page_roots, session_model_class
from sim.viz.roots import OutsideRoots
from sim.viz.upload import MAX_UPLOAD_BYTES, accept_upload, safe_name, upload_dir
from tests.widgets import button, errors, field, texts, type_text

SECRET = "SECRETVALUE123"
VALIDATION = DEFAULT_SCENARIO.parent / "validation" / "fearon_p060.yaml"


@solara.component
def SimApp() -> None:
    from sim.viz.app import SimulationPage

    with solara.AppLayout():
        SimulationPage()


@solara.component
def SweepApp() -> None:
    with solara.AppLayout():
        sweep_page.SweepPage()


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A working directory (the server's) and, beside it, a folder outside every root holding a secret."""
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"password: {SECRET}\nline two {SECRET}\n", encoding="utf-8")
    (work / "link.yaml").symlink_to(outside / "secret.yaml")
    (work / "linkdir").symlink_to(outside)
    monkeypatch.chdir(work)
    for name in (VIZ_CONFIG_ENV, ROOTS_ENV, VIZ_RESULTS_ENV):
        monkeypatch.delenv(name, raising=False)
    return {"work": work, "outside": outside}


def with_secret_keys(path: Path) -> Path:
    """The bundled scenario with a credentials-looking key added at the top level."""
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    path.write_text(f"{text}\naws_secret_access_key: {SECRET}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "typed", ["{outside}/secret.yaml", "../outside/secret.yaml", "link.yaml", "linkdir/secret.yaml"]
)
def test_the_simulation_page_refuses_paths_outside_its_roots(places: dict[str, Path], typed: str) -> None:
    typed = typed.format(**places)
    box, rc = solara.render(SimApp(), handle_error=False)
    button(rc, "Step").click()
    type_text(field(rc, "Scenario file path"), typed)
    button(rc, "Reset").click()
    error = errors(box)
    assert f"Could not make the model: {typed} is outside the folders this page may open: " in error
    assert "--root DIR" in error and "upload the file" in error
    assert SECRET not in texts(box)
    assert "day 1 of 57" in texts(box)  # the model shown stays
    rc.close()


def test_unknown_fields_of_a_file_under_a_root_are_named_without_their_values(places: dict[str, Path]) -> None:
    path = with_secret_keys(places["work"] / "scenario.yaml")
    box, rc = solara.render(SimApp(), handle_error=False)
    type_text(field(rc, "Scenario file path"), "scenario.yaml")
    button(rc, "Reset").click()
    assert "aws_secret_access_key" in errors(box) and str(path.name) in errors(box)
    assert SECRET not in texts(box)
    rc.close()


def test_the_scenario_named_on_the_command_line_opens_wherever_it_is(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    named = places["outside"] / "mine.yaml"
    shutil.copy(VALIDATION, named)
    monkeypatch.setenv(VIZ_CONFIG_ENV, str(named))
    box, rc = solara.render(SimApp(), handle_error=False)
    assert not errors(box) and "mine.yaml" in texts(box)
    type_text(field(rc, "Scenario file path"), str(places["outside"] / "secret.yaml"))  # its neighbours stay shut
    button(rc, "Reset").click()
    assert "is outside the folders" in errors(box) and SECRET not in texts(box)
    rc.close()


def test_the_bundled_choice_cannot_climb_out_of_configs(places: dict[str, Path]) -> None:
    cls = session_model_class(_Session(), page_roots())
    with pytest.raises(OutsideRoots):
        cls(scenario_file=f"../../{places['outside'].relative_to('/')}/secret.yaml")
    elsewhere = places["outside"] / "valid.yaml"
    shutil.copy(VALIDATION, elsewhere)
    with pytest.raises(OutsideRoots):
        cls(scenario_path=str(elsewhere))
    assert VizModel(scenario_path=str(elsewhere)).config_path == elsewhere  # Python callers choose their files


def test_an_upload_is_stored_privately_validated_and_used_by_reset(places: dict[str, Path]) -> None:
    data = VALIDATION.read_bytes()
    path = accept_upload("C:\\Users\\me\\my scenario.yaml", len(data), io.BytesIO(data))
    assert path.parent.parent == upload_dir() and path.name == "my_scenario.yaml" and path.read_bytes() == data
    assert upload_dir().stat().st_mode & 0o077 == 0  # private to the server's user
    session = _Session()
    session.upload = solara.reactive(path)
    cls = session_model_class(session, page_roots())
    model = cls(scenario_file="european_security_2022.yaml", scenario_path="", seed="3")
    assert model.config_path == path and model.seed == 3  # the upload wins over the bundled choice


def test_a_bad_upload_names_the_upload_and_its_fields_not_its_values(places: dict[str, Path]) -> None:
    data = with_secret_keys(places["outside"] / "x.yaml").read_bytes()
    with pytest.raises(ScenarioError) as exc:
        accept_upload("creds.yaml", len(data), io.BytesIO(data))
    assert str(exc.value).startswith("uploaded creds.yaml: ") and "aws_secret_access_key" in str(exc.value)
    assert SECRET not in str(exc.value) and str(upload_dir()) not in str(exc.value)
    big = b"x" * (MAX_UPLOAD_BYTES + 1)
    with pytest.raises(ScenarioError, match="larger than"):
        accept_upload("big.yaml", len(big), io.BytesIO(big))
    with pytest.raises(ScenarioError, match="larger than"):  # a browser that announced less than it sent
        accept_upload("big.yaml", 10, io.BytesIO(big))


@pytest.mark.parametrize(
    "name, safe",
    [("../../etc/passwd", "passwd"), ("..", "scenario.yaml"), ("a b$c.yaml", "a_b_c.yaml"), ("", "scenario.yaml")],
)
def test_upload_names_never_leave_their_folder(name: str, safe: str) -> None:
    assert safe_name(name) == safe


def test_the_sweep_page_refuses_folders_outside_its_roots(places: dict[str, Path]) -> None:
    box, rc = solara.render(SweepApp(), handle_error=False)
    for typed in [str(places["outside"]), "../outside", "linkdir", "/etc"]:
        type_text(field(rc, "Results folder"), typed)
        error = errors(box)
        assert f"Could not read the results: {typed} is outside the folders this page may open: " in error
        assert "upload" not in error  # a folder cannot be uploaded: the advice is --root alone
    rc.close()


def test_page_roots_name_the_roots_but_not_the_uploads(places: dict[str, Path], monkeypatch: Any) -> None:
    monkeypatch.setenv(ROOTS_ENV, str(places["outside"]))
    roots = page_roots()
    assert roots.check(places["outside"] / "secret.yaml") == places["outside"] / "secret.yaml"
    assert upload_dir() in roots.private and upload_dir() not in roots.folders
    with pytest.raises(OutsideRoots) as exc:
        roots.check("/etc/passwd")
    assert str(upload_dir()) not in str(exc.value) and str(places["outside"]) in str(exc.value)
