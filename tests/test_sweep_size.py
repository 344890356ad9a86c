"""Size guards of ``dipsim sweep`` (issue 8, item 5): the number of points is known from the design before it is
expanded, a design above the limit is refused at once with the count and the flag that raises the limit, and
a sweep that starts prints its point and run counts and an estimated time."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments import spec
from experiments.estimate import Timing, duration
from experiments.plan import Plan
from experiments.spec import MAX_POINTS, MAX_RUNS, ExperimentSpec, _design_values, design_size, load_experiment
from sim.cli import main
from sim.cli.main import build_parser

REPO = Path(__file__).resolve().parent.parent
FEARON = REPO / "configs" / "validation" / "fearon_p060.yaml"


def experiment(design: str, replications: str = "{fixed: 2}") -> str:
    return f"""
id: size
scenario: {FEARON}
seed: 1
horizon: 3
replications: {replications}
design:
{design}
"""


def write(folder: Path, text: str, name: str = "exp.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def grid_of(n: int, m: int) -> str:
    """A grid of n x m points (distinct values of two paths)."""
    a = [round(0.1 + 0.8 * i / n, 9) for i in range(n)]
    b = [round(0.1 + 0.8 * j / m, 9) for j in range(m)]
    return f"  sampler: grid\n  grid:\n    actors.A.capability: {a}\n    actors.B.conflict_cost.high: {b}\n"


RANGES = (
    "  ranges: {actors.A.capability: [0.2, 0.8], actors.B.conflict_cost.high: [0.1, 0.4], "
    "parameters.noise: [0.01, 0.2]}"
)
DESIGNS = {
    "grid": grid_of(3, 4),
    "points": "  sampler: points\n  points: [{name: a, set: {}}, {name: b, set: {parameters.noise: 0.1}}]",
    "lhs": f"  sampler: lhs\n  samples: 7\n{RANGES}",
    "sobol": f"  sampler: sobol\n  samples: 8\n{RANGES}",
    "sobol_second_order": f"  sampler: sobol\n  samples: 8\n  calc_second_order: true\n{RANGES}",
    "morris": f"  sampler: morris\n  samples: 5\n  levels: 4\n{RANGES}",
}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_the_size_is_the_number_of_design_rows_the_sampler_makes(name, tmp_path):
    path = write(tmp_path, experiment(DESIGNS[name]))
    parsed = ExperimentSpec.model_validate(spec.read_raw(path))
    _, values, *_ = _design_values(parsed.design, 1)
    assert design_size(parsed.design) == len(values)
    # and by the samplers' formulas, N rows of D = 3 variables:
    expected = {"grid": 12, "points": 2, "lhs": 7, "sobol": 8 * 5, "sobol_second_order": 8 * 8, "morris": 5 * 4}
    assert design_size(parsed.design) == expected[name]


def test_a_million_point_grid_is_refused_before_a_point_is_made(tmp_path, monkeypatch, capsys):
    def never(*args, **kwargs):
        raise AssertionError("the design was expanded or a point validated")

    monkeypatch.setattr(spec, "_design_values", never)
    monkeypatch.setattr(spec, "apply_overrides", never)
    path = write(tmp_path, experiment(grid_of(1000, 1000)))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"{path}: design.grid: 1,000,000 points exceeds the limit of 10,000; pass --max-points 1000000 to run it anyway"
    )
    assert not out.exists()


def test_a_million_point_grid_is_refused_quickly_by_the_command(tmp_path):
    """Before the guard, this design checked silently for tens of minutes; the bound is generous (the command
    itself starts in about a second), the refusal is a count and a comparison."""
    path = write(tmp_path, experiment(grid_of(1000, 1000)))
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - t0 < 30
    assert done.returncode == 2
    assert "1,000,000 points exceeds the limit of 10,000; pass --max-points 1000000" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("name", "field", "count"),
    [("sobol_second_order", "design.samples", 64), ("morris", "design.samples", 20), ("points", "design.points", 2)],
)
def test_every_sampler_is_counted_against_the_limit(name, field, count, tmp_path):
    path = write(tmp_path, experiment(DESIGNS[name]))
    with pytest.raises(spec.ScenarioError) as err:
        load_experiment(path, max_points=count - 1)
    assert err.value.errors == [
        (field, f"{count:,} points exceeds the limit of {count - 1:,}; pass --max-points {count} to run it anyway")
    ]
    assert len(load_experiment(path, max_points=count).points) == count


def test_max_points_raises_the_limit(tmp_path, capsys):
    path = write(tmp_path, experiment(grid_of(3, 4)))
    assert main(["sweep", str(path), "--out", str(tmp_path / "a"), "--max-points", "11", "--workers", "1"]) == 2
    assert "12 points exceeds the limit of 11; pass --max-points 12" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(tmp_path / "b"), "--max-points", "12", "--workers", "1"]) == 0
    assert len(load_experiment(path, max_points=None).points) == 12


def test_the_default_limit_is_the_one_the_help_states():
    sweep_parser = build_parser()._subparsers._group_actions[0].choices["sweep"]
    flag = next(a for a in sweep_parser._actions if a.dest == "max_points")
    assert f"default limit: {MAX_POINTS:,};" in flag.help
    assert load_experiment.__defaults__ == (MAX_POINTS, MAX_RUNS)
    runs_flag = next(a for a in sweep_parser._actions if a.dest == "max_runs")
    assert f"default limit: {MAX_RUNS:,};" in runs_flag.help


# --------------------------------------------------------------------------- the estimate


def test_a_sweep_prints_its_counts_and_an_estimate_before_it_starts(tmp_path, capsys):
    path = write(tmp_path, experiment(grid_of(2, 2), "{fixed: 30}"))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2"]) == 0
    lines = capsys.readouterr().err.splitlines()
    plan = next(line for line in lines if "to do" in line)
    assert plan.startswith("sweep: size: 4 point(s), 120 run(s) to do (0 done before), about ")
    assert " on 2 local worker process(es) (timed: " in plan


def test_adaptive_replications_give_the_range_of_runs(tmp_path, capsys):
    adaptive = "{adaptive: {half_width: 0.01, min: 20, batch: 10, max: 60}}"
    path = write(tmp_path, experiment(grid_of(1, 3), adaptive))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    plan = next(line for line in capsys.readouterr().err.splitlines() if "to do" in line)
    assert "3 point(s), 60–180 run(s) to do (0 done before)" in plan


def test_runs_left_count_what_adaptive_points_may_still_need(tmp_path):
    adaptive = "{adaptive: {half_width: 0.1, min: 20, batch: 10, max: 60}}"
    exp = load_experiment(write(tmp_path, experiment(grid_of(1, 2), adaptive)))
    plan = Plan(exp)
    for i in range(2):
        plan.decide(i)
    assert plan.left() == (40, 120)
    for r in range(20):  # point 0: 20 runs, none escalated: the interval is narrow enough, the point is settled
        plan.record(0, r, 1)
    plan.decide(0)
    assert plan.left() == (20, 60)


def test_timing_counts_the_scenario_load_once_per_point_and_worker():
    timing = Timing.from_walls([0.5, 0.1, 0.1, 0.1])
    assert timing.run == pytest.approx(0.1) and timing.load == pytest.approx(0.4)
    # 100 runs of 3 points on 2 workers: 100 x 0.1 s of runs and at most 3 x 2 loads of 0.4 s, shared by 2
    assert timing.seconds(100, 3, 2) == pytest.approx((100 * 0.1 + 6 * 0.4) / 2)
    assert timing.seconds(4, 3, 2) == pytest.approx((4 * 0.1 + 4 * 0.4) / 2)  # never more loads than runs


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.2, "1 s"), (20.4, "20 s"), (200, "3 min"), (3 * 3600, "3.0 h"), (46 * 3600, "46 h")]
)
def test_durations_read_easily(seconds, text):
    assert duration(seconds) == text


def test_a_sweep_warns_about_a_scenario_above_the_size_limits(tmp_path, monkeypatch, capsys):
    """`dipsim sweep` prints the scenario size warning `dipsim run` prints (limit lowered under the Fearon case's
    estimate, as in test_scenario_size.py: a scenario above the real limits would take minutes), then runs."""
    from sim import size as size_module

    monkeypatch.setattr(size_module, "MAX_MODEL_BYTES", 1)
    path = write(tmp_path, experiment(grid_of(1, 2)))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {FEARON}: 2 actors × ") and "will run" in err


def test_points_times_replications_above_the_run_limit_is_refused_before_the_plan(tmp_path, monkeypatch, capsys):
    """10,000 points x 10^6 fixed replications would make the plan allocate 10 GB (a byte per run): refused
    before a point is expanded, with the count and the flag; the flag lets a design above the limit through."""
    from experiments import sweep as sweep_module

    def no_plan(*args, **kwargs):
        raise AssertionError("the plan was allocated")

    monkeypatch.setattr(sweep_module, "Plan", no_plan)
    monkeypatch.setattr(spec, "_design_values", no_plan)
    path = write(tmp_path, experiment(grid_of(100, 100), "{fixed: 1000000}"))
    t0 = time.perf_counter()
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    assert time.perf_counter() - t0 < 5
    err = capsys.readouterr().err
    assert (
        "replications: 10,000,000,000 runs (10,000 point(s) x 1,000,000 replication(s)) exceeds the limit of "
        "10,000,000; pass --max-runs 10000000000 to run it anyway"
    ) in err
    assert not (tmp_path / "out").exists()
    adaptive = write(tmp_path, experiment(grid_of(2, 2), "{adaptive: {half_width: 0.1, max: 1000}}"), "a.yaml")
    with pytest.raises(spec.ScenarioError, match="4,000 runs .* exceeds the limit of 3,999"):
        load_experiment(adaptive, max_runs=3999)  # adaptive: counted at its maximum
    monkeypatch.undo()
    small = write(tmp_path, experiment(grid_of(2, 2), "{fixed: 3}"), "small.yaml")
    assert main(["sweep", str(small), "--out", str(tmp_path / "small"), "--workers", "1", "--max-runs", "11"]) == 2
    assert "pass --max-runs 12" in capsys.readouterr().err
    assert main(["sweep", str(small), "--out", str(tmp_path / "small"), "--workers", "1", "--max-runs", "12"]) == 0
