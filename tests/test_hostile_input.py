"""Hostile and damaged input (issue 8, items 2 and 4): YAML read safely, messages that never echo files.

Every bad input must end in exit code 2 and lines "FILE: field: problem", never a traceback; a message
shows a value only when the file is the user's own on the command line, and then cut; nothing from a
file reached any other way (the browser page, an experiment's ``scenario:``) is ever shown.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from experiments.spec import load_experiment
from sim import yamlio
from sim.cli import main
from sim.loading import DEFAULT_SCENARIO, load_scenario, parse_set
from sim.messages import MAX_LISTED_ERRORS, MAX_VALUE_CHARS, ScenarioError
from sim.yamlio import MAX_DEPTH, MAX_INT_BITS, MAX_NODES, YAMLInputError, load_yaml

REPO = Path(__file__).resolve().parent.parent
SECRET = "AKIAIOSFODNN7EXAMPLE" + "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"  # longer than any value shown
PASSWD = textwrap.dedent(
    """\
    root:x:0:0:root:/root:/bin/bash
    daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
    www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
    alice:x:1000:1000:Alice Example,,,:/home/alice:/bin/bash
    """
)
SHADOW = "root: $6$Zq8dCxg1$Vb0rIKc8xQ2d9Kf0u0m6ylm0aS3F1nYbT2cX7Y\ndaemon: '*:19000:0:99999:7:::'\n"
CREDENTIALS = f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\n"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``dipsim ARGS`` in-process; return (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def bundled() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))


def write(tmp_path: Path, text: str, name: str = "input.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bundled_text() -> str:
    return DEFAULT_SCENARIO.read_text(encoding="utf-8")


def assert_clean_exit(code: int, err: str, file: Path | str) -> None:
    """Exit 2, no traceback, and every line of the message names the file."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and all(line.startswith(f"{file}: ") for line in lines), err


# --------------------------------------------------------------------------- constructor errors (item 4)


def test_impossible_date_names_its_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The issue's case: `start: 2000-13-45` ended in `ValueError: month must be in 1..12` (exit 1)."""
    text = bundled_text()
    start = yaml.safe_load(text)["calendar"]["start"].isoformat()
    path = write(tmp_path, text.replace(f"start: {start}", "start: 2000-13-45", 1))
    for command in ("validate", "run"):
        code, out, err = cli(capsys, command, str(path))
        assert_clean_exit(code, err, path)
        assert "calendar.start" in err and out == ""


def test_dates_are_still_read(capsys: pytest.CaptureFixture[str]) -> None:
    """Dates are left as strings by the YAML reader and parsed by the schema: the bundled file still loads,
    with real dates, and a date given by --set moves the venue."""
    scenario = load_scenario()
    assert scenario.calendar.start < scenario.calendar.end
    venue = scenario.venues[0]
    moved = load_scenario(None, parse_set([f"venues.{venue.id}.date={scenario.calendar.start.isoformat()}"]))
    assert isinstance(moved.venues[0].date, dt.date) and moved.venues[0].date == scenario.calendar.start


BAD_SCALARS = {
    "an explicit timestamp that is no date": "!!timestamp 2000-13-45",
    "a tagged integer that is none": "!!int abc",
    "a tagged float that is none": "!!float abc",
    "a tagged boolean that is none": "!!bool maybe",
    "an integer of 5,000 digits": "9" * 5000,
    "a hex integer of 4,000 digits": "0x" + "f" * 4000,
    "a binary integer of 5,000 digits": "0b" + "1" * 5000,
    "an octal integer of 5,000 digits": "0" + "7" * 5000,
    "a base-60 integer of 3,000 groups": "1" + ":00" * 3000,
    "a base-60 float of 3,000 groups": "1" + ":00" * 3000 + ".5",
    "an explicit base-60 integer": "!!int 1:30",
    "an empty tagged integer": "!!int ''",
    "an empty tagged float": "!!float ''",
    "a set": "!!set {a: null}",
    "binary data": "!!binary aGVsbG8=",
    "a Python object": "!!python/object/apply:os.system [echo hi]",
    "a local tag": "!secret value",
    "an undefined alias": "*nowhere",
    "a recursive alias": "&loop [*loop]",
}


@pytest.mark.parametrize("snippet", BAD_SCALARS.values(), ids=BAD_SCALARS.keys())
def test_bad_scalars_in_a_scenario(capsys: pytest.CaptureFixture[str], tmp_path: Path, snippet: str) -> None:
    text, replaced = re.subn(r"(?m)^  start: .*$", lambda _: f"  start: {snippet}", bundled_text(), count=1)
    assert replaced == 1
    path = write(tmp_path, text)
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)


@pytest.mark.parametrize("snippet", BAD_SCALARS.values(), ids=BAD_SCALARS.keys())
def test_bad_scalars_in_a_set_value(capsys: pytest.CaptureFixture[str], snippet: str) -> None:
    code, _, err = cli(capsys, "validate", str(DEFAULT_SCENARIO), "--set", f"parameters.noise={snippet}")
    assert_clean_exit(code, err, DEFAULT_SCENARIO)
    assert "--set" in err or "parameters.noise" in err


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(ValueError, match="nested more than"):
        load_yaml("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_a_device_is_not_read(capsys: pytest.CaptureFixture[str]) -> None:
    """/dev/zero would be read until memory ran out."""
    code, _, err = cli(capsys, "validate", "/dev/zero")
    assert_clean_exit(code, err, "/dev/zero")


def test_integers_are_bounded_to_64_bits() -> None:
    """An integer's magnitude must fit in MAX_INT_BITS (64) bits in every base; one more bit is refused at its
    line and column, before Python ever has to print it (more than 4,300 digits cannot be)."""
    assert MAX_INT_BITS == 64
    top = 2**64 - 1
    for text in (str(top), f"-{top}", "0x" + "f" * 16, "0b" + "1" * 64, "0" + oct(top)[2:], "0x" + "0" * 500 + "1"):
        assert abs(load_yaml(f"a: {text}")["a"]) in (top, 1), text
    for text in (str(top + 1), f"-{top + 1}", "0x1" + "0" * 16, "0b1" + "0" * 64, "0" + oct(top + 1)[2:]):
        with pytest.raises(YAMLInputError, match=r"^line 2, column 4: an integer of more than 64 bits"):
            load_yaml(f"b: 1\na: {text}")


def test_base_60_is_not_a_number(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """YAML 1.1 read `1:30` as 90; here it is a string (as in YAML 1.2). No bundled file writes one."""
    assert load_yaml("a: 1:30\nb: -1:30.5") == {"a": "1:30", "b": "-1:30.5"}
    with pytest.raises(YAMLInputError, match="base-60"):
        load_yaml("a: !!int 1:30")
    for path in sorted((REPO / "configs").rglob("*.yaml")):
        assert not re.search(r"(?m)^[^#'\"]*:\s+[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?\s*$", path.read_text()), (
            path
        )
    # The reviewer's case: `schema_version: 1:00:…` ended in a traceback (exit 1).
    path = write(tmp_path, re.sub(r"(?m)^schema_version: .*$", "schema_version: 1" + ":00" * 3000, bundled_text()))
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)


@pytest.mark.parametrize("tag", ["", "!!int ", "!!float "])
def test_a_long_base_60_scalar_is_read_within_a_second(tag: str) -> None:
    """900 KB of `1:00:00:…` (under the page's 1 MB upload cap): YAML 1.1 read it as a number digit by digit,
    in quadratic CPU time (300k groups took 9.8 s holding the GIL). The issue's bound: within a second."""
    text = f"a: {tag}1" + ":00" * 300_000 + ("" if tag != "!!float " else ".5")
    assert len(text) > 900_000
    start = time.process_time()
    try:
        value = load_yaml(text)["a"]
    except YAMLInputError as exc:
        assert tag and "base-60" in str(exc)
    else:
        assert not tag and isinstance(value, str)
    assert time.process_time() - start < 1.0


def test_values_are_counted_while_composing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document of more than MAX_NODES values is refused with the count; exactly MAX_NODES is read."""
    monkeypatch.setattr(yamlio, "MAX_NODES", 1_000)
    at_cap = "a: [" + ",".join(["[]"] * (1_000 - 3)) + "]"  # the mapping, its key, the list and its items
    assert len(load_yaml(at_cap)["a"]) == 997
    with pytest.raises(YAMLInputError, match=r"more than 1,000 values"):
        load_yaml(at_cap.replace("[", "[[],", 1))


def count_values(value: Any) -> int:
    """The YAML nodes of a plain-data value: itself, and every key, value and item below it."""
    if isinstance(value, dict):
        return 1 + sum(count_values(k) + count_values(v) for k, v in value.items())
    if isinstance(value, list):
        return 1 + sum(count_values(v) for v in value)
    return 1


def test_a_10000_actor_scenario_is_under_the_value_cap() -> None:
    """The issue's 10,000 actors by 20 issues must still load, so that the size warning can speak: its
    values grow linearly with the actors (each actor's positions, one per issue it holds), so ten times
    a 1,000-actor scenario's count must be under the cap, with a margin for the generator's randomness.
    (Measured: the 10,000-actor file, 18.7 MB, has 1.55 million values and `dipsim validate` reads it.)"""
    from experiments.generate import random_scenario_dict

    assert 10 * count_values(random_scenario_dict(1_000, 20, seed=0)) < MAX_NODES / 1.2


def test_anchors_are_refused_where_they_are_written() -> None:
    with pytest.raises(YAMLInputError, match=r"^line 1, column 4: this value has an anchor.*aliases are not allowed"):
        load_yaml("a: &x 1\nb: 2")


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    """Opening a pipe with no writer blocked for ever; it must be refused at once, as /dev/zero is. In a
    child process, so that a regression fails on the timeout instead of hanging the test run."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from sim.cli import main; sys.exit(main(sys.argv[1:]))",
            "validate",
            str(fifo),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"{fifo}: not a regular file"


# --------------------------------------------------------------------------- aliases (item 4)


def alias_bomb(levels: int = 9) -> list[str]:
    """Lines of a "billion laughs": level k lists level k-1 nine times, so the last stands for 9**levels."""
    lines = ["a0: &a0 [x,x,x,x,x,x,x,x,x]"]
    lines += [f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, levels)]
    return lines


def bomb_experiment(tmp_path: Path) -> Path:
    """The issue's case: an experiment file of about 500 bytes with the bomb inside a point's `set`."""
    head = ["id: bomb", "scenario: european_security_2022.yaml", "seed: 1", "replications: {fixed: 1}"]
    head += ["design:", "  sampler: points", "  points:", "    - name: p", "      set:"]
    text = "\n".join(head + ["        " + line.replace("a0:", "parameters.noise:") for line in alias_bomb()]) + "\n"
    return write(tmp_path, text, "bomb.yaml")


# Peak RSS from VmHWM, which belongs to the process image: ru_maxrss would include the RSS of the test
# process the child was forked from (Linux keeps it across exec).
MEASURE = """
import pathlib, resource, sys, time
import experiments.sweep, experiments.spec, sim.cli  # the command's imports, before the clock starts
wall, cpu = time.perf_counter(), time.process_time()
code = sim.cli.main(sys.argv[1:])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
status = pathlib.Path("/proc/self/status")
lines = status.read_text().splitlines() if status.exists() else []
hwm = [line.split()[1] for line in lines if line.startswith("VmHWM:")]
peak = int(hwm[0]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(code, wall, cpu, peak, file=sys.stderr)
"""


def test_alias_bomb_experiment_is_refused_fast_and_small(tmp_path: Path) -> None:
    """Exit 2 within a second and under 200 MB (the issue's acceptance; it took 61 s and 2.8 GB). Measured
    in a fresh process: the command's CPU time after its imports (wall time, longer on a machine other
    processes keep busy, is in the message), and the peak RSS of the whole process, imports included."""
    path = bomb_experiment(tmp_path)
    assert len(path.read_bytes()) < 700
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, "sweep", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    *message, figures = proc.stderr.strip().splitlines()
    code, wall, cpu, peak = figures.split()
    assert int(code) == 2 and "Traceback" not in proc.stderr
    assert all(line.startswith(f"{path}: ") for line in message) and "alias" in message[0]
    assert float(cpu) < 1.0, f"{cpu} s of CPU, {wall} s wall"
    assert int(peak) < 200 * 2**20, f"peak RSS {int(peak) / 2**20:.0f} MiB"
    assert not (tmp_path / "out").exists()


def test_aliases_are_refused_in_scenarios_and_set_values(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, bundled_text() + "\n".join(alias_bomb(3)) + "\n")
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)
    assert "aliases are not allowed" in err and "line " in err
    code, _, err = cli(capsys, "validate", str(DEFAULT_SCENARIO), "--set", "parameters.noise=[&a [1], *a]")
    assert_clean_exit(code, err, DEFAULT_SCENARIO)
    assert "aliases are not allowed" in err


def test_no_bundled_file_uses_anchors() -> None:
    """Refusing aliases outright costs nothing: every bundled YAML file still loads."""
    for path in sorted((REPO / "configs").rglob("*.yaml")):
        assert isinstance(load_yaml(path.read_text(encoding="utf-8")), dict), path


# --------------------------------------------------------------------------- no echo of contents (item 2)


def with_secrets(raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["aws_secret_access_key"] = SECRET
    raw["actors"][0]["password"] = SECRET
    return raw


def test_secret_extra_keys_show_names_not_values(tmp_path: Path, bundled: dict[str, Any]) -> None:
    path = write(tmp_path, yaml.safe_dump(with_secrets(bundled), sort_keys=False))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, show_values=False)
    message = str(info.value)
    assert "aws_secret_access_key" in message and "password" in message
    assert SECRET[:12] not in message


def test_unknown_key_values_are_not_shown_on_the_command_line_either(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]
) -> None:
    path = write(tmp_path, yaml.safe_dump(with_secrets(bundled), sort_keys=False))
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)
    assert "aws_secret_access_key" in err and SECRET[:12] not in err


def test_values_are_shown_cut_on_the_command_line_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]
) -> None:
    raw = copy.deepcopy(bundled)
    raw["name"] = 12345  # a wrong type: the value is shown to the user whose file it is
    raw["id"] = "not an id " + SECRET  # a long one is cut
    path = write(tmp_path, yaml.safe_dump(raw, sort_keys=False))
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)
    assert f"{path}: name: " in err and "(got 12345)" in err
    assert f"(got {repr(raw['id'])[: MAX_VALUE_CHARS - 1]}…)" in err and SECRET not in err
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, show_values=False)
    assert "(got" not in str(info.value) and "12345" not in str(info.value)
    assert "name" in str(info.value)


# Each file, and what must never appear: its lines and its secrets (field names such as `root` may).
SYSTEM_FILES = {
    "passwd": (PASSWD, ["/bin/bash", "/usr/sbin/nologin", "Alice Example", "x:0:0"]),
    "shadow": (SHADOW, ["$6$", "Zq8dCxg1", "19000"]),
    "credentials": (CREDENTIALS, ["AKIAIOSFODNN7", SECRET[20:32]]),
}


@pytest.mark.parametrize(("content", "secrets"), SYSTEM_FILES.values(), ids=SYSTEM_FILES.keys())
def test_system_files_are_not_echoed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, secrets: list[str]
) -> None:
    path = write(tmp_path, content, "victim")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, show_values=False)
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)
    for message in (str(info.value), err):
        assert not any(line in message for line in content.splitlines()), message
        assert not any(secret in message for secret in secrets), message


def test_unknown_tags_are_named_only_when_values_are_shown(tmp_path: Path) -> None:
    """Any text can be written as a tag, so a refused tag is content: named to the file's owner only."""
    path = write(tmp_path, f"a: !{SECRET[:20]} x\n")
    with pytest.raises(ScenarioError) as shown:
        load_scenario(path)
    with pytest.raises(ScenarioError) as hidden:
        load_scenario(path, show_values=False)
    assert SECRET[:20] in str(shown.value) and "line 1, column 4" in str(shown.value)
    assert SECRET[:20] not in str(hidden.value) and "line 1, column 4" in str(hidden.value)


def test_top_level_says_what_it_got(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, f"- {SECRET}\n")
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)
    assert "must be a mapping, not a list" in err and SECRET[:12] not in err


@pytest.mark.parametrize(("content", "secrets"), SYSTEM_FILES.values(), ids=SYSTEM_FILES.keys())
def test_experiment_base_scenario_is_never_echoed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, secrets: list[str]
) -> None:
    """The issue's case: an experiment file whose `scenario:` names a system file printed every line."""
    victim = write(tmp_path, content, "victim")
    exp = {"id": "peek", "scenario": str(victim), "seed": 1, "replications": {"fixed": 1}}
    exp["design"] = {"sampler": "grid", "grid": {"parameters.noise": [0.1]}}
    path = write(tmp_path, yaml.safe_dump(exp), "exp.yaml")
    code, _, err = cli(capsys, "sweep", str(path), "--out", str(tmp_path / "out"))
    assert_clean_exit(code, err, path)
    assert str(victim) in err
    assert not any(line in err for line in content.splitlines()), err
    assert not any(secret in err for secret in secrets), err


def test_experiment_base_scenario_with_secret_keys(tmp_path: Path, bundled: dict[str, Any]) -> None:
    victim = write(tmp_path, yaml.safe_dump(with_secrets(bundled), sort_keys=False), "base.yaml")
    exp = {"id": "peek", "scenario": str(victim), "seed": 1, "replications": {"fixed": 1}}
    exp["design"] = {"sampler": "grid", "grid": {"parameters.noise": [0.1]}}
    with pytest.raises(ScenarioError) as info:
        load_experiment(write(tmp_path, yaml.safe_dump(exp), "exp.yaml"))
    assert "aws_secret_access_key" in str(info.value) and SECRET[:12] not in str(info.value)


def test_a_huge_id_is_not_echoed(capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]) -> None:
    """The issue's case: a 100,000-character id was echoed four times in one message."""
    raw = copy.deepcopy(bundled)
    huge = "A" * 100_000
    raw["actors"][0]["id"] = huge
    raw["trust"][huge] = {raw["actors"][1]["id"]: 0.5}
    path = write(tmp_path, yaml.safe_dump(raw, sort_keys=False, width=10**6))
    for show_values in (True, False):
        with pytest.raises(ScenarioError) as info:
            load_scenario(path, show_values=show_values)
        assert "A" * 100 not in str(info.value) and len(str(info.value)) < 2_000
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)
    assert "A" * 100 not in err and len(err) < 2_000


def test_many_errors_are_counted_not_listed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundled: dict[str, Any]
) -> None:
    raw = copy.deepcopy(bundled)
    raw["trust"].update({f"GHOST{k}": {"RUS": 0.5} for k in range(3 * MAX_LISTED_ERRORS)})
    path = write(tmp_path, yaml.safe_dump(raw, sort_keys=False))
    code, _, err = cli(capsys, "validate", str(path))
    assert_clean_exit(code, err, path)
    lines = err.strip().splitlines()
    assert len(lines) == MAX_LISTED_ERRORS + 1
    assert lines[-1] == f"{path}: and {2 * MAX_LISTED_ERRORS} more problem(s)"
