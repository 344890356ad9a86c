"""The ``dipsim`` command line: reproducible JSON, overrides, validation and clean errors on bad input.

Outcomes are not asserted: the model's rules may change; these tests pin the interface only.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import main
from sim.loading import DEFAULT_SCENARIO, json_schema

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "configs" / "scenario.schema.json"
STALE_SCHEMA = "configs/scenario.schema.json is stale: run `dipsim schema --out configs/scenario.schema.json`"
RESULT_KEYS = {
    "schema_version",
    "scenario",
    "config_sha256",
    "seed",
    "params",
    "steps_run",
    "outcome",
    "escalated",
    "escalation",
    "max_rung",
    "agreements",
    "initial_positions",
    "final_positions",
    "trust",
    "venues",
}
OUTCOMES = {"agreement", "stalemate", "escalation", "truncated"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``dipsim ARGS`` in-process; return (exit code, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = cli(capsys, "run", "--json", *args)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def bundled() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))


def write_config(tmp_path: Path, raw: dict[str, Any], name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def first_position(raw: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(actor id, issue id, position) of the first actor that has a position."""
    actor = next(a for a in raw["actors"] if a.get("positions"))
    issue = next(iter(actor["positions"]))
    return actor["id"], issue, actor["positions"][issue]


def assert_bad_input(code: int, err: str, file: Path | str, *fragments: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert str(file) in err
    for fragment in fragments:
        assert fragment in err


# --------------------------------------------------------------------------- run


def test_json_is_byte_identical_for_the_same_seed() -> None:
    cmd = [sys.executable, "-m", "sim.cli", "run", "--json", "--seed", "7"]
    first = subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
    second = subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
    assert first.stdout == second.stdout
    result = json.loads(first.stdout)  # exactly one JSON object
    assert isinstance(result, dict)
    assert result["seed"] == 7


def test_json_has_all_keys(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys)
    assert result.keys() >= RESULT_KEYS
    assert result["seed"] == 0  # the default seed
    assert result["outcome"] in OUTCOMES
    assert result["escalated"] == (result["outcome"] == "escalation")


def test_json_keys_are_sorted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", "--json", "--steps", "1")
    assert code == 0
    keys = list(json.loads(out))
    assert keys == sorted(keys)


def test_steps_truncates_unless_the_run_ended(capsys: pytest.CaptureFixture[str]) -> None:
    full = run_json(capsys, "--seed", "0")
    short = run_json(capsys, "--seed", "0", "--steps", "2")
    assert short["steps_run"] <= 2
    if full["steps_run"] > 2:
        assert short["outcome"] == "truncated"
    else:
        assert short["outcome"] == full["outcome"] != "truncated"


def test_set_parameter_shows_in_params(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, "--steps", "1", "--set", "parameters.noise=0.2")
    assert result["params"]["noise"] == pytest.approx(0.2)


def test_set_trust_changes_config_hash(capsys: pytest.CaptureFixture[str], bundled: dict[str, Any]) -> None:
    assert (bundled["trust"].get("RUS") or {}).get("USA") != 0.8, "pick another value: the bundled one is 0.8"
    base = run_json(capsys, "--steps", "1")
    changed = run_json(capsys, "--steps", "1", "--set", "trust.RUS.USA=0.8")
    assert changed["config_sha256"] != base["config_sha256"]
    assert changed["trust"]["RUS"]["USA"] == pytest.approx(0.8, abs=0.2)  # may move in the one step


def test_human_output_ends_with_the_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", "--steps", "10")
    assert code == 0, err
    last = out.strip().splitlines()[-1]
    assert last.startswith("OUTCOME: ")
    assert "max rung" in last


def test_runs_from_another_directory(tmp_path: Path) -> None:
    """The bundled scenario is found relative to the package, not the working directory."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "sim.cli", "run", "--steps", "3"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "OUTCOME: " in proc.stdout


# --------------------------------------------------------------------------- validate and schema


def test_validate_bundled_config(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = cli(capsys, "validate", "configs/european_security_2022.yaml")
    assert code == 0, err
    assert out.strip() == "ok"


def test_schema_file_is_up_to_date() -> None:
    current = json.loads(json.dumps(json_schema()))
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == current, STALE_SCHEMA


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "schema")
    assert code == 0
    assert json.loads(out) == json.loads(json.dumps(json_schema()))
    assert out == SCHEMA_FILE.read_text(encoding="utf-8"), STALE_SCHEMA


# --------------------------------------------------------------------------- bad input


def test_malformed_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\ncalendar: [1, 2\n  start: {\n", encoding="utf-8")
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, "malformed YAML", "line 3")


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    code, _, err = cli(capsys, "run", str(path))
    assert_bad_input(code, err, path, "not found")


def test_missing_required_field(capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]) -> None:
    raw = copy.deepcopy(bundled)
    del raw["calendar"]
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, "calendar", "required")


def test_wrong_type(capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]) -> None:
    raw = copy.deepcopy(bundled)
    actor, issue, pos = first_position(raw)
    pos["salience"] = "high"
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, f"actors.{actor}.positions.{issue}.salience", "number")


def test_out_of_range(capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]) -> None:
    raw = copy.deepcopy(bundled)
    actor, issue, pos = first_position(raw)
    pos["salience"] = 1.5
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "run", str(path))
    assert_bad_input(code, err, path, f"actors.{actor}.positions.{issue}.salience", "less than or equal to 1")


def test_venue_with_unknown_participant(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]
) -> None:
    raw = copy.deepcopy(bundled)
    venue = raw["venues"][0]
    # Replace a participant other than the chair, so the venue's own shape stays valid.
    k = next(i for i, p in enumerate(venue["participants"]) if p != venue.get("chair"))
    venue["participants"][k] = "NOBODY"
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, f"venues.{venue['id']}.participants", "NOBODY")


def test_agenda_with_unknown_issue(capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]) -> None:
    raw = copy.deepcopy(bundled)
    venue = raw["venues"][0]
    venue["agenda"].append("no_such_issue")
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, f"venues.{venue['id']}.agenda", "no_such_issue")


def test_red_line_outside_the_scale(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]
) -> None:
    raw = copy.deepcopy(bundled)
    actor, issue, pos = first_position(raw)
    pos["red_line"] = [0, 1.5]
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, f"actors.{actor}.positions.{issue}.red_line", "1.5")


def test_red_line_not_containing_the_ideal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]
) -> None:
    raw = copy.deepcopy(bundled)
    actor, issue, pos = first_position(raw)
    pos["ideal"], pos["red_line"] = 0.9, [0.0, 0.5]
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, f"actors.{actor}.positions.{issue}", "red line")


def test_bloc_member_that_is_not_an_actor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]
) -> None:
    raw = copy.deepcopy(bundled)
    bloc = next(a for a in raw["actors"] if a["kind"] == "bloc")
    bloc.setdefault("members", []).append("GHOST")
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, f"actors.{bloc['id']}.members", "GHOST")


def test_every_error_is_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]) -> None:
    raw = copy.deepcopy(bundled)
    raw["venues"][0]["agenda"].append("no_such_issue")
    bloc = next(a for a in raw["actors"] if a["kind"] == "bloc")
    bloc.setdefault("members", []).append("GHOST")
    path = write_config(tmp_path, raw)
    code, _, err = cli(capsys, "validate", str(path))
    assert_bad_input(code, err, path, "no_such_issue", "GHOST")
    assert all(line.startswith(f"{path}: ") for line in err.strip().splitlines())


@pytest.mark.parametrize(
    "setting", ["parameters.no_such_knob=1", "no_such_block.x=1", "venues.no_such_venue.date=2022-01-05"]
)
def test_unknown_set_path(capsys: pytest.CaptureFixture[str], setting: str) -> None:
    code, _, err = cli(capsys, "run", "--set", setting)
    assert_bad_input(code, err, DEFAULT_SCENARIO, setting.partition("=")[0], "unknown --set path")


def test_malformed_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "run", "--set", "parameters.noise")
    assert_bad_input(code, err, DEFAULT_SCENARIO, "--set", "PATH=VALUE")


@pytest.mark.parametrize("value", ["5", "abc"])
def test_bad_parameter_value(capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, _, err = cli(capsys, "run", "--set", f"parameters.noise={value}")
    assert_bad_input(code, err, DEFAULT_SCENARIO, "parameters.noise")


def test_bad_input_from_the_real_command(tmp_path: Path) -> None:
    """Through a real process: exit code 2 and no traceback."""
    path = tmp_path / "nope.yaml"
    cmd = [sys.executable, "-m", "sim.cli", "validate", str(path)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert_bad_input(proc.returncode, proc.stderr, path, "not found")


def test_every_subcommand_has_its_handler() -> None:
    """Handlers are found by name when a subcommand runs (sim/cli/main.py): each parser entry must resolve."""
    from sim.cli.main import HANDLERS, build_parser, handler

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert commands == set(HANDLERS)
    assert all(callable(handler(c)) for c in commands)
