"""Damaged copies of the bundled files never end in a traceback (issue 8, item 4).

Hypothesis mutates the scalars and the structure of the bundled scenario, validation and experiment
files (a scalar replaced by another type, an odd value or a raw YAML snippet such as a bad tag, an
alias or a number in hex, binary, octal or base 60, huge or not; a key deleted; a list item
duplicated; a junk key inserted; a mapping replaced by a list or the reverse) and loads the result as
the command line does. The only acceptable ends are success or exit 2
with every line of the message naming the file.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.spec import load_experiment
from sim.cli import main
from sim.loading import DEFAULT_SCENARIO
from sim.messages import ScenarioError

CONFIGS = DEFAULT_SCENARIO.parent
SCENARIOS = [DEFAULT_SCENARIO, *sorted((CONFIGS / "validation").glob("*.yaml"))]
EXPERIMENTS = sorted((CONFIGS / "experiments").glob("*.yaml"))

# Bounded runtime on two shared cores: a scenario validates in milliseconds; an experiment validates every
# point (the Morris design is cut to two trajectories below), so its examples are few.
# derandomize: the same examples on every run, so a CI failure is reproducible and a pass means the same.
SCENARIO_RUNS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXPERIMENT_RUNS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**70,
    1e308,
    math.nan,
    math.inf,
    "",
    "x" * 300,
    "2000-13-45",
    "2022-01-10",
    "RUS",
    [],
    {},
    [None],
    {"id": 1},
]
RAW_SNIPPETS = [
    "!!int abc",
    "!!float x",
    "!!bool maybe",
    "!!timestamp 2000-13-45",
    "!!binary aGVsbG8=",
    "!!set {a: null}",
    "!!python/object/apply:os.system [true]",
    "!local x",
    "*nowhere",
    "&loop [*loop]",
    "[&a [1], *a]",
    "9" * 5000,
    "[" * 60 + "]" * 60,
    # Numbers in YAML 1.1's other forms: huge ones crashed the message (repr of more than 4,300 digits).
    "0x" + "f" * 4000,
    "-0x" + "f" * 17,
    "0b" + "1" * 5000,
    "0" + "7" * 5000,
    "1" + ":00" * 3000,
    "-1" + ":59" * 3000 + ".5",
    "!!int 1:30",
    "!!int 0x" + "f" * 4000,
    "!!int ''",
    "!!float ''",
    str(2**64),
    "&anchor 1",
]
JUNK_KEYS: list[Any] = ["zzz", "x" * 200, "id", 7, None, "2022-01-10", "a.b"]
PLACEHOLDER = "raw-yaml-snippet-placeholder"


def pick_node(data: st.DataObject, tree: Any) -> tuple[Any, Any, Any]:
    """Walk down to a random depth: (parent container or None, key in it, node)."""
    parent, key, node = None, None, tree
    for _ in range(data.draw(st.integers(0, 7), label="depth")):
        if not isinstance(node, dict | list) or not node:
            break
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        k = data.draw(st.sampled_from(keys), label="key")
        parent, key, node = node, k, node[k]
    return parent, key, node


def mutate(data: st.DataObject, tree: Any) -> tuple[Any, str | None]:
    """One structural or scalar change in place; returns the (possibly new) root and a raw snippet, if one
    was placed (as ``PLACEHOLDER``) for the text to receive."""
    parent, key, node = pick_node(data, tree)
    op = data.draw(
        st.sampled_from(["odd", "raw", "delete", "duplicate", "junk", "to_list", "to_mapping", "wrap"]), label="op"
    )
    snippet = None
    if op == "odd":
        new: Any = data.draw(st.sampled_from(ODD_VALUES), label="value")
    elif op == "raw":
        new, snippet = PLACEHOLDER, data.draw(st.sampled_from(RAW_SNIPPETS), label="snippet")
    elif op == "delete" and parent is not None:
        del parent[key]
        return tree, None
    elif op == "duplicate" and isinstance(node, list) and node:
        node.append(copy.deepcopy(node[data.draw(st.integers(0, len(node) - 1), label="item")]))
        return tree, None
    elif op == "junk" and isinstance(node, dict):
        node[data.draw(st.sampled_from(JUNK_KEYS), label="junk key")] = data.draw(st.sampled_from(ODD_VALUES))
        return tree, None
    elif op == "to_list" and isinstance(node, dict):
        new = list(node.values())
    elif op == "to_mapping" and isinstance(node, list):
        new = {str(i): v for i, v in enumerate(node)}
    else:
        new = [node]
    if parent is None:
        return new, snippet
    parent[key] = new
    return tree, snippet


def damaged_text(data: st.DataObject, source: Path, prepare: Any = None) -> str:
    tree = yaml.safe_load(source.read_text(encoding="utf-8"))
    if prepare is not None:
        prepare(tree)
    snippets = []
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if snippets:  # one raw snippet per document: the placeholder must stay unique
            tree, _ = mutate(data, tree)
            continue
        tree, snippet = mutate(data, tree)
        if snippet is not None:
            snippets.append(snippet)
    text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)
    for snippet in snippets:
        text = text.replace(PLACEHOLDER, snippet, 1)
    return text


def assert_clean(code: int, err: str, path: Path) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert lines and all(line.startswith(f"{path}: ") for line in lines), err


@SCENARIO_RUNS
@given(data=st.data(), source=st.sampled_from(SCENARIOS))
def test_damaged_scenarios_never_raise(
    data: st.DataObject, source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "damaged.yaml"
    path.write_text(damaged_text(data, source), encoding="utf-8")
    code = main(["validate", str(path)])
    assert_clean(code, capsys.readouterr().err, path)


def small_design(tree: Any) -> None:
    """Absolute base scenario (the copy lives elsewhere) and a Morris design of two trajectories."""
    if not isinstance(tree, dict):
        return
    tree["scenario"] = str((CONFIGS / "experiments" / str(tree.get("scenario", ""))).resolve())
    design = tree.get("design")
    if isinstance(design, dict) and design.get("sampler") == "morris":
        design["samples"] = 2


@EXPERIMENT_RUNS
@given(data=st.data(), source=st.sampled_from(EXPERIMENTS))
def test_damaged_experiments_never_raise(data: st.DataObject, source: Path, tmp_path: Path) -> None:
    """``dipsim sweep`` loads an experiment with ``load_experiment`` and prints a ScenarioError as it is
    (exit 2) before anything runs; anything else raised would be a traceback."""
    path = tmp_path / "damaged.yaml"
    path.write_text(damaged_text(data, source, small_design), encoding="utf-8")
    try:
        load_experiment(path)
    except ScenarioError as exc:
        assert_clean(2, str(exc), path)
