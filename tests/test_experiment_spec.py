"""Experiment files: validation, design points and seeds (experiments/spec.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from experiments.spec import load_experiment, point_id, run_seed
from sim.cli import main
from sim.loading import DEFAULT_SCENARIO
from sim.messages import ScenarioError

GOOD = {
    "id": "small",
    "scenario": str(DEFAULT_SCENARIO),
    "seed": 3,
    "horizon": 10,
    "replications": {"fixed": 2},
    "design": {"sampler": "grid", "grid": {"parameters.noise": [0.02, 0.08], "trust.RUS.USA": [0.2, 0.6]}},
}


def write(tmp_path: Path, data: dict, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_grid_gives_every_combination(tmp_path: Path) -> None:
    exp = load_experiment(write(tmp_path, GOOD))
    assert len(exp.points) == 4 and exp.paths == ["parameters.noise", "trust.RUS.USA"]
    assert {p.point_id for p in exp.points} == {point_id(p.overrides) for p in exp.points}


def test_point_ids_do_not_depend_on_other_points(tmp_path: Path) -> None:
    small = load_experiment(write(tmp_path, GOOD, "a.yaml"))
    bigger = dict(
        GOOD, design={"sampler": "grid", "grid": {"parameters.noise": [0.02, 0.08, 0.1], "trust.RUS.USA": [0.2, 0.6]}}
    )
    large = load_experiment(write(tmp_path, bigger, "b.yaml"))
    assert {p.point_id for p in small.points} < {p.point_id for p in large.points}


def test_run_seeds_are_stable_distinct_and_in_range() -> None:
    seeds = {run_seed(3, "0123456789abcdef", r) for r in range(1000)}
    assert len(seeds) == 1000 and all(0 <= s < 2**63 for s in seeds)
    assert run_seed(3, "0123456789abcdef", 5) == run_seed(3, "0123456789abcdef", 5)
    assert run_seed(3, "0123456789abcdef", 5) != run_seed(4, "0123456789abcdef", 5)


def test_named_points_and_common_set(tmp_path: Path) -> None:
    data = dict(
        GOOD,
        set={"parameters.noise": 0.05},
        design={
            "sampler": "points",
            "points": [
                {"name": "baseline", "set": {}},
                {"name": "soft_red_line", "set": {"actors.RUS.positions.nato_ukraine.red_line": None}},
            ],
        },
    )
    exp = load_experiment(write(tmp_path, data))
    assert [p.name for p in exp.points] == ["baseline", "soft_red_line"]
    assert all(p.overrides["parameters.noise"] == 0.05 for p in exp.points)


@pytest.mark.parametrize("sampler", ["lhs", "sobol", "morris"])
def test_samplers_stay_in_their_ranges(tmp_path: Path, sampler: str) -> None:
    data = dict(
        GOOD,
        design={
            "sampler": sampler,
            "ranges": {"parameters.noise": [0.01, 0.2], "parameters.trust_gain": [0.05, 0.2]},
            "samples": 4,
        },
    )
    exp = load_experiment(write(tmp_path, data))
    values = np.array([[p.overrides[k] for k in exp.paths] for p in exp.points])
    assert np.all(values[:, 0] >= 0.01) and np.all(values[:, 0] <= 0.2)
    if sampler != "lhs":
        assert exp.salib_X is not None and len(exp.design_point_ids) == len(exp.salib_X)
        assert set(exp.design_point_ids) == {p.point_id for p in exp.points}
    again = load_experiment(write(tmp_path, data, "again.yaml"))
    assert [p.point_id for p in again.points] == [p.point_id for p in exp.points]  # seeded sampler


BAD = [
    ("unknown parameter", {"design": {"sampler": "grid", "grid": {"parameters.no_such_knob": [1, 2]}}}, "no_such_knob"),
    ("unknown path", {"design": {"sampler": "grid", "grid": {"actors.NOBODY.capability": [1]}}}, "NOBODY"),
    ("value the schema rejects", {"design": {"sampler": "grid", "grid": {"parameters.noise": [5.0]}}}, "noise"),
    (
        "empty range",
        {"design": {"sampler": "sobol", "ranges": {"parameters.noise": [0.2, 0.2]}, "samples": 4}},
        "design.ranges.parameters.noise",
    ),
    ("wrong sampler", {"design": {"sampler": "monte_carlo", "grid": {"parameters.noise": [0.1]}}}, "design.sampler"),
    (
        "a field the sampler does not use",
        {"design": {"sampler": "grid", "grid": {"parameters.noise": [0.1]}, "samples": 8}},
        "design.samples",
    ),
    ("negative replications", {"replications": {"fixed": -5}}, "replications.fixed"),
    ("unknown base scenario", {"scenario": "no_such_scenario.yaml"}, "scenario"),
]


@pytest.mark.parametrize(("what", "change", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_experiment_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, change: dict, field: str
) -> None:
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert str(path) in str(info.value) and field in str(info.value)
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and field in err and "Traceback" not in err
    assert not out.exists()  # nothing a later resume could mistake for results


def test_experiment_schema_file_is_up_to_date() -> None:
    from sim.cli.commands import schema_text

    path = Path(__file__).resolve().parent.parent / "configs" / "experiments" / "experiment.schema.json"
    assert path.read_text(encoding="utf-8") == schema_text(experiment=True), (
        "run: dipsim schema --experiment --out configs/experiments/experiment.schema.json"
    )
