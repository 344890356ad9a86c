"""The simulation page without a browser: the data-shaping helpers (``sim.viz.data``) and figures
(``sim.viz.figures``) as plain functions, each Solara view (``sim.viz.components``) rendered with
``solara.render`` for a fresh and a stepped model, and the whole page (``sim.viz.app.SimulationPage``) driven
through its widgets: Step, a click on a proposal, Reset with a changed slider, a bad scenario path and a bad
seed. The real server in a browser is tested elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import ipyvuetify as v
import numpy as np
import pytest
import solara
from matplotlib.figure import Figure

from sim.cli import main
from sim.cli.viz import viz_command
from sim.loading import BUNDLED_CONFIGS, DEFAULT_SCENARIO, load_scenario
from sim.messages import MAX_VALUE_CHARS
from sim.options import ROOTS_ENV, VIZ_CONFIG_ENV, VIZ_RESULTS_ENV
from sim.params import Parameters, parameter_bounds
from sim.viz import components, data, figures
from sim.viz.app import COMPONENTS, VizModel, default_controls, model_params
from sim.viz.ui import png_bytes
from tests.widgets import all_widgets, button, errors, field, texts, type_text

GENEVA = dt.date(2022, 1, 10)
VALIDATION = "validation/fearon_p060.yaml"


def step_to(model: Any, date: dt.date) -> Any:
    while model.date < date and model.running:
        model.step()
    assert model.date == date
    return model


@pytest.fixture(scope="module")
def geneva() -> VizModel:
    """The 2022 scenario stepped to the Geneva talks (10 January 2022). Read only."""
    return step_to(VizModel(), GENEVA)


@pytest.fixture(scope="module")
def ended() -> VizModel:
    model = VizModel(seed="1")
    model.run()
    return model


# --------------------------------------------------------------------------- controls


def test_bundled_scenarios_are_the_scenario_files():
    names = data.bundled_scenarios()
    assert "european_security_2022.yaml" in names and VALIDATION in names
    assert not any(n.startswith(("experiments/", "outcomes/")) for n in names)
    assert "crises/fashoda_1898.yaml" in names  # the crisis library is offered
    for n in names:
        load_scenario(BUNDLED_CONFIGS / n)


def test_resolve_config_a_typed_path_wins():
    assert data.resolve_config("european_security_2022.yaml", "") == DEFAULT_SCENARIO
    assert data.resolve_config("european_security_2022.yaml", "  /x/y.yaml ") == Path("/x/y.yaml")


@pytest.mark.parametrize("text, seed", [("0", 0), (" 42 ", 42), (7, 7), (str(2**63 - 1), 2**63 - 1)])
def test_parse_seed(text, seed):
    assert data.parse_seed(text) == seed
    assert type(data.parse_seed(text)) is int


@pytest.mark.parametrize("text", ["", "abc", "1.5", "-1", str(2**63)])
def test_parse_seed_rejects_with_a_readable_message(text):
    with pytest.raises(ValueError, match="seed"):
        data.parse_seed(text)


@pytest.mark.parametrize("text", ["x" * 100_000, "9" * 4_000, "-" + "9" * 4_000])
def test_parse_seed_cuts_long_text_in_its_message(text):
    with pytest.raises(ValueError, match="seed") as exc:
        data.parse_seed(text)
    message = str(exc.value)
    assert len(message) <= len("seed: must be 0 <= seed < 2**63: ") + MAX_VALUE_CHARS and message.endswith("…")


@pytest.mark.parametrize("name", list(Parameters.model_fields))
def test_slider_ranges_stay_inside_the_parameter_bounds(name):
    default = getattr(Parameters(), name)
    spec = data.slider_spec(name, default)
    low, high, _, _ = parameter_bounds(name)
    assert low <= spec["min"] < spec["max"] <= high
    assert spec["value"] == default
    assert (spec["max"] - spec["min"]) / spec["step"] >= 20  # fine enough to be useful
    Parameters(**{name: spec["min"]})  # both ends are valid values
    Parameters(**{name: spec["max"]})


def test_model_params_offer_scenario_seed_and_every_parameter():
    params = model_params(
        {"scenario_file": "european_security_2022.yaml", "scenario_path": "", "seed": "0"}, Parameters()
    )
    assert params["scenario_file"]["type"] == "Select"
    assert params["scenario_file"]["values"] == data.bundled_scenarios()
    assert params["scenario_path"]["type"] == "InputText"
    assert params["seed"] == {"type": "InputText", "value": "0", "label": "Seed"}
    for name in Parameters.model_fields:
        slider = params[name]
        assert slider.is_float_slider and slider.value == getattr(Parameters(), name)
        assert slider.label == name  # short: a long label leaves the slider no width in the sidebar


def test_parameter_table_lists_every_parameter_with_its_value_and_meaning():
    model = VizModel(seed="1", noise=0.12)
    table = data.parameter_table(model)
    assert list(table["parameter"]) == list(Parameters.model_fields)
    row = table.set_index("parameter").loc["noise"]
    assert row["value"] == 0.12 and row["set on the page"] == "yes"
    assert row["meaning"] == Parameters.model_fields["noise"].description != ""
    assert table.set_index("parameter").loc["bloc_pull", "set on the page"] == ""
    assert (table["value"] == [float(getattr(model.params, n)) for n in Parameters.model_fields]).all()


def test_default_controls_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(VIZ_CONFIG_ENV, raising=False)
    assert default_controls()["scenario_file"] == "european_security_2022.yaml"
    monkeypatch.setenv(VIZ_CONFIG_ENV, str(BUNDLED_CONFIGS / VALIDATION))
    assert default_controls() == {"scenario_file": VALIDATION, "scenario_path": "", "seed": "0"}
    other = tmp_path / "mine.yaml"
    monkeypatch.setenv(VIZ_CONFIG_ENV, str(other))
    assert default_controls()["scenario_path"] == str(other)


def test_viz_model_applies_parameters_as_overrides_of_the_file():
    model = VizModel(scenario_file=VALIDATION, seed="3", noise=0.30000000000000004, bloc_pull=0.2)
    assert model.seed == 3
    assert model.params.noise == 0.3  # slider noise rounded away
    assert model.overrides == {"noise": 0.3}  # bloc_pull is the file's own value
    assert model.config.parameters.noise == 0.3  # in the scenario itself, as `--set` does
    assert model.config_path == BUNDLED_CONFIGS / VALIDATION


# --------------------------------------------------------------------------- data shaping


def test_positions_over_time_starts_with_the_initial_state(geneva):
    fresh = data.positions_over_time(VizModel())
    assert set(fresh["step"]) == {-1}
    df = data.positions_over_time(geneva)
    assert sorted(set(df["step"])) == list(range(-1, geneva.day))
    assert df[df["step"] == -1]["date"].iloc[0] == dt.date(2022, 1, 2)
    collected = geneva.positions_frame()
    mine = df[df["step"] >= 0].reset_index(drop=True)
    assert np.allclose(mine["position"], collected["position"])
    assert list(mine["actor"]) == list(collected["actor"])


def test_highest_rungs_over_time(geneva):
    df = data.highest_rungs_over_time(geneva)
    assert sorted(set(df["step"])) == list(range(-1, geneva.day))
    last = df[df["step"] == geneva.day - 1].set_index("actor")["rung"]
    for i, a in enumerate(geneva.actor_ids):
        assert last[a] == max(geneva.rung[i, k] for k in range(len(geneva.actor_ids)) if k != i)
    assert set(df["rung_id"]) <= set(geneva.ladder_ids)


def test_rung_matrix(geneva):
    m = data.rung_matrix(geneva)
    assert list(m.index) == list(m.columns) == geneva.actor_ids
    assert m.loc["RUS", "RUS"] == ""
    assert m.loc["RUS", "UKR"] == geneva.ladder_ids[geneva.rung[geneva.index_of["RUS"], geneva.index_of["UKR"]]]


def test_calendar_on_the_day_of_geneva(geneva):
    info = data.calendar_info(geneva)
    assert info["date"] == GENEVA and info["started"]
    assert [v["id"] for v in info["today"]] == ["geneva_ssd"]
    assert info["today"][0]["participants"] == ["USA", "RUS"]
    upcoming = [v["id"] for v in info["upcoming"]]
    assert "geneva_ssd" not in upcoming and upcoming[0] == "nato_russia_council"
    fresh = data.calendar_info(VizModel())
    assert not fresh["started"] and fresh["today"] == [] and len(fresh["upcoming"]) == 10


def test_proposal_log_and_reasons_at_geneva(geneva):
    log = data.proposal_log(geneva)
    at_geneva = log[log["venue"] == "geneva_ssd"]
    assert list(at_geneva["proposer"]) == ["USA", "RUS"]
    assert list(log["n"]) == list(range(1, len(log) + 1))
    row = at_geneva.iloc[0]
    why = data.proposal_reasons(geneva, int(row["step"]), "geneva_ssd", "USA")
    assert list(why.columns) == data.REASON_COLUMNS
    assert "RUS" in set(why["actor"])
    rus = why[why["actor"] == "RUS"].iloc[0]
    assert bool(rus["accepted"]) == ("RUS" in row["accepted_by"])
    assert data.proposal_log(VizModel()).empty


def test_outcome_summary(geneva, ended):
    kind, text = data.outcome_summary(geneva)
    assert kind == "running" and "10 January 2022" in text
    kind, text = data.outcome_summary(ended)
    assert kind == ended.outcome
    assert f"{dt.date.fromisoformat(ended.result().final_date):%d %B %Y}" in text


def _run_cli(argv: list[str], capsys) -> dict[str, Any]:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "controls",
    [
        {"seed": "5"},
        {"seed": "11", "noise": 0.12, "bloc_pull": 0.5, "breach_cost": 2.0},
    ],
)
def test_export_command_reproduces_the_run(controls, capsys):
    model = VizModel(**controls)
    model.run()
    cmd = data.export_command(model.config_path, model.seed, data.parameter_overrides(model))
    argv = shlex.split(cmd)
    assert argv[:2] == ["dipsim", "run"]
    got = _run_cli([*argv[1:], "--json"], capsys)
    assert got == json.loads(model.result().to_json())  # config hash included


def test_export_command_and_yaml_from_a_file_elsewhere(tmp_path, capsys):
    path = tmp_path / "my scenario.yaml"  # a space: the command must quote it
    shutil.copy(BUNDLED_CONFIGS / VALIDATION, path)
    model = VizModel(scenario_path=str(path), seed="2", noise=0.25)
    model.run()
    cmd = data.export_command(path, model.seed, data.parameter_overrides(model))
    assert "'" in cmd and "--set parameters.noise=0.25" in cmd
    assert _run_cli([*shlex.split(cmd)[1:], "--json"], capsys) == json.loads(model.result().to_json())
    exported = tmp_path / "exported.yaml"
    exported.write_text(data.export_yaml(path, data.parameter_overrides(model)), encoding="utf-8")
    again = VizModel(scenario_path=str(exported), seed="2")
    assert again.config_sha256 == model.config_sha256
    assert again.run().to_json() == model.result().to_json()


# --------------------------------------------------------------------------- figures


@pytest.mark.parametrize("build", ["trust_network_figure", "escalation_figure", "positions_figure"])
def test_figures_for_fresh_stepped_and_ended_models(build, geneva, ended):
    for model in (VizModel(), geneva, ended, VizModel(scenario_file=VALIDATION)):
        fig = getattr(figures, build)(model)
        assert isinstance(fig, Figure)
        assert png_bytes(fig)[:4] == b"\x89PNG"
    assert isinstance(figures.positions_figure(geneva, "nato_ukraine"), Figure)


# --------------------------------------------------------------------------- Solara components


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.f.__name__ if hasattr(c, "f") else str(c))
def test_each_view_renders_fresh_and_stepped(component, geneva):
    for model in (VizModel(), geneva):
        box, rc = solara.render(component(model), handle_error=False)
        assert texts(box)
        rc.close()


def test_views_show_the_state_at_geneva(geneva):
    box, rc = solara.render(components.CalendarView(geneva), handle_error=False)
    text = texts(box)
    assert "Monday 10 January 2022" in text and "Today's venue: 10 Jan · US-Russia talks in Geneva" in text
    rc.close()
    box, rc = solara.render(components.ProposalLogView(geneva), handle_error=False)
    entries = rc.find(v.Btn, class_="dipsim-proposal").widgets
    geneva_entries = [b for b in entries if "geneva_ssd" in b.children[0]]
    assert [b.children[0].split(": ")[1].split(" →")[0] for b in geneva_entries] == ["RUS", "USA"]  # newest first
    assert "trust_discount" not in texts(box)
    geneva_entries[1].click()  # an entry (USA's proposal to RUS) opens why it was accepted or not
    text = texts(box)
    assert "trust_discount" in text and "reservation" in text and "<td>RUS</td>" in text
    geneva_entries[1].click()  # and closes again
    assert "trust_discount" not in texts(box)
    rc.close()
    box, rc = solara.render(components.ExportView(geneva), handle_error=False)
    text = texts(box)
    assert "dipsim run configs/european_security_2022.yaml --seed 0" in text
    assert "<td>bloc_pull</td>" in text and Parameters.model_fields["bloc_pull"].description in text
    rc.close()


@solara.component
def _App():
    from sim.viz.app import SimulationPage

    with solara.AppLayout():  # as the server shows the page: the controls are in the sidebar
        SimulationPage()


def test_page_steps_to_geneva_and_explains_a_proposal(monkeypatch):
    monkeypatch.delenv(VIZ_CONFIG_ENV, raising=False)
    box, rc = solara.render(_App(), handle_error=False)
    text = texts(box)
    views = ("outcome", "calendar", "network", "proposals", "positions", "escalation", "explain", "beliefs", "export")
    for cls in views:
        assert any(f"dipsim-{cls}" in (w.class_ or "") for w in all_widgets(box) if hasattr(w, "class_")), cls
    for actor in ("RUS (Russia", "USA (United States", "UKR (Ukraine"):
        assert actor in text
    assert "No proposal yet." in text and "day 0 of 57" in text
    for _ in range(8):  # 3 -> 10 January
        button(rc, "Step").click()
    text = texts(box)
    assert "day 8 of 57 (10 January 2022)" in text
    assert "Today's venue: 10 Jan · US-Russia talks in Geneva" in text
    entries = [b for b in rc.find(v.Btn, class_="dipsim-proposal").widgets if "geneva_ssd" in b.children[0]]
    assert len(entries) == 2
    entries[1].click()
    assert "trust_discount" in texts(box)
    assert not errors(box)
    rc.close()


def test_page_reset_uses_the_slider_and_seed(monkeypatch):
    monkeypatch.delenv(VIZ_CONFIG_ENV, raising=False)
    box, rc = solara.render(_App(), handle_error=False)
    button(rc, "Step").click()
    slider = next(w for w in rc.find(v.Slider).widgets if w.label == "noise")
    slider.v_model = 0.2
    type_text(field(rc, "Seed"), "9")
    button(rc, "Reset").click()
    text = texts(box)
    assert "day 0 of 57" in text
    assert "dipsim run configs/european_security_2022.yaml --seed 9 --set parameters.noise=0.2" in text
    assert not errors(box)
    rc.close()


def test_page_bad_path_or_seed_shows_the_error_and_keeps_the_model(monkeypatch, tmp_path):
    monkeypatch.delenv(VIZ_CONFIG_ENV, raising=False)
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))  # the page opens files under its roots only (issue 8)
    box, rc = solara.render(_App(), handle_error=False)
    for _ in range(3):
        button(rc, "Step").click()
    missing = tmp_path / "missing.yaml"
    type_text(field(rc, "Scenario file path"), str(missing))
    button(rc, "Reset").click()
    assert f"Could not make the model: {missing}: file not found" in errors(box)
    assert "day 3 of 57" in texts(box)  # the model shown stays, steps and all
    button(rc, "Step").click()  # and the app keeps working
    assert "day 4 of 57" in texts(box)

    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nactors: 3\n", encoding="utf-8")
    type_text(field(rc, "Scenario file path"), str(bad))
    button(rc, "Reset").click()
    assert f"{bad}: " in errors(box) and "actors" in errors(box)  # the loader's field-level message

    type_text(field(rc, "Scenario file path"), "")
    type_text(field(rc, "Seed"), "seven")
    button(rc, "Reset").click()
    assert "seed: not an integer: 'seven'" in errors(box)
    assert "day 4 of 57" in texts(box)

    type_text(field(rc, "Seed"), "7")
    button(rc, "Reset").click()  # a good model clears the error
    assert not errors(box)
    assert "day 0 of 57" in texts(box) and "--seed 7" in texts(box)
    rc.close()


def test_page_reports_a_bad_default_scenario(monkeypatch, tmp_path):
    monkeypatch.setenv(VIZ_CONFIG_ENV, str(tmp_path / "gone.yaml"))
    box, rc = solara.render(_App(), handle_error=False)
    assert "gone.yaml: file not found" in errors(box)
    assert "showing the bundled scenario instead" in errors(box)
    assert "European security talks, January 2022" in texts(box)
    rc.close()


# --------------------------------------------------------------------------- dipsim viz


def test_viz_command_serves_the_page_on_loopback(monkeypatch):
    monkeypatch.setenv(VIZ_CONFIG_ENV, "stale")
    argv, env = viz_command(None, "127.0.0.1", 8123)
    assert argv[1:5] == ["-m", "solara", "run", "sim.viz.app"]
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("--port") + 1] == "8123"
    assert "--production" in argv and "--no-open" in argv
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert VIZ_CONFIG_ENV not in env  # the bundled default, not a leftover
    _, env = viz_command(f"configs/{VALIDATION}", "127.0.0.1", 8123)
    assert Path(env[VIZ_CONFIG_ENV]).is_absolute() and env[VIZ_CONFIG_ENV].endswith(VALIDATION)


def test_viz_command_passes_the_results_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(VIZ_RESULTS_ENV, "stale")
    _, env = viz_command(None, "127.0.0.1", 8123)
    assert VIZ_RESULTS_ENV not in env
    _, env = viz_command(None, "127.0.0.1", 8123, results=str(tmp_path / "runs" / "grid"))
    assert env[VIZ_RESULTS_ENV] == str(tmp_path / "runs" / "grid") and Path(env[VIZ_RESULTS_ENV]).is_absolute()


def test_viz_rejects_a_folder_that_is_not_a_sweep_before_starting(tmp_path, capsys):
    assert main(["viz", "--results", str(tmp_path / "nowhere"), "--port", "0"]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err
    assert main(["viz", "--results", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: manifest.json: missing: not the output folder of `dipsim sweep`" in err
    assert "Traceback" not in err


def test_viz_rejects_a_bad_config_before_starting(tmp_path, capsys):
    assert main(["viz", str(tmp_path / "nope.yaml"), "--port", "0"]) == 2
    assert "nope.yaml: file not found" in capsys.readouterr().err


def test_cli_does_not_import_solara():
    code = "import sys, sim.cli; sys.exit('solara' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
