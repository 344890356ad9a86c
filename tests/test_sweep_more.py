"""More of ``dipsim sweep`` and ``dipsim report``: real sweep folders reported, the bundled experiment
files, adding points to a finished sweep, fixed seeds, order-free overrides, an unreachable scheduler."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from experiments.results import load_runs, load_summary
from experiments.spec import load_experiment, run_seed
from experiments.sweep import sweep
from sim.cli import main
from sim.loading import DEFAULT_SCENARIO, apply_overrides
from sim.yamlio import read_raw

REPO = Path(__file__).resolve().parent.parent
FEARON = REPO / "configs" / "validation" / "fearon_p060.yaml"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def grid(values: str, seed: int = 4) -> str:
    return f"""
id: more
scenario: {FEARON}
seed: {seed}
horizon: 3
replications: {{fixed: 12}}
design:
  sampler: grid
  grid:
    actors.A.capability: {values}
"""


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "experiments").glob("*.yaml")), ids=lambda p: p.stem)
def test_bundled_experiment_files_load(path: Path) -> None:
    exp = load_experiment(path)
    assert exp.points and exp.scenario.id == "european_security_2022"


def test_report_on_a_real_sweep_of_a_grid_and_of_a_morris_design(tmp_path: Path, capsys) -> None:
    out = tmp_path / "grid"
    sweep(load_experiment(write(tmp_path, "g.yaml", grid("[0.2, 0.4, 0.6, 0.8]"))), out, workers=1, progress=False)
    assert main(["report", str(out)]) == 0
    assert "p_escalation" in capsys.readouterr().out
    assert {"survival.png", "p_escalation_vs_actors.A.capability.png"} <= {p.name for p in (out / "plots").iterdir()}
    morris = f"""
id: morris
scenario: {FEARON}
seed: 9
horizon: 3
replications: {{fixed: 10}}
design:
  sampler: morris
  samples: 4
  levels: 4
  ranges: {{actors.A.capability: [0.2, 0.8], actors.B.conflict_cost.high: [0.1, 0.4]}}
"""
    out2 = tmp_path / "morris"
    sweep(load_experiment(write(tmp_path, "m.yaml", morris)), out2, workers=1, progress=False)
    assert main(["report", str(out2)]) == 0
    text = capsys.readouterr().out
    assert "mu_star" in text and (out2 / "plots" / "sensitivity_morris.png").stat().st_size > 0


def test_adding_points_keeps_the_runs_already_done(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write(tmp_path, "e.yaml", grid("[0.3, 0.7]"))
    sweep(load_experiment(first), out, workers=1, progress=False)
    before = load_runs(out).drop(columns="wall_time")
    write(tmp_path, "e.yaml", grid("[0.3, 0.5, 0.7]"))
    stats = sweep(load_experiment(first), out, workers=1, progress=False)
    after = load_runs(out).drop(columns="wall_time")
    assert stats.done_before == len(before) == 24 and stats.done_now == 12 and len(after) == 36
    kept = after[after["point_id"].isin(before["point_id"])].reset_index(drop=True)
    assert kept.equals(before.reset_index(drop=True))
    summary = load_summary(out)  # the points and summary describe the experiment as it is now
    assert len(summary) == 3 and (summary["runs"] == 12).all()


def test_another_seed_is_refused_in_the_same_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    sweep(load_experiment(write(tmp_path, "e.yaml", grid("[0.3]"))), out, workers=1, progress=False)
    path = write(tmp_path, "e.yaml", grid("[0.3]", seed=5))
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert "another experiment" in capsys.readouterr().err


def test_run_seeds_are_fixed_numbers() -> None:
    """Resuming, and rerunning a row alone, rely on these never changing (numpy's SeedSequence)."""
    assert run_seed(1, "0123456789abcdef", 3) == 6786079973349964484
    assert run_seed(20220110, "44136fa355b3678a", 0) == 6904100001035994187
    assert run_seed(20220110, "44136fa355b3678a", 1) == 3317048770136842472


def test_overrides_do_not_depend_on_their_order() -> None:
    raw = read_raw(DEFAULT_SCENARIO)
    a = apply_overrides(raw, {"venues.1": None, "venues.0": None, "trust.RUS.USA": 0.4}, "x")
    b = apply_overrides(raw, {"trust.RUS.USA": 0.4, "venues.0": None, "venues.1": None}, "x")
    assert a == b
    assert [v["id"] for v in a["venues"]] == [v["id"] for v in raw["venues"][2:]]


def test_unreachable_scheduler_fails_fast_and_writes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    t0 = time.perf_counter()
    code = main(
        ["sweep", str(write(tmp_path, "e.yaml", grid("[0.3]"))), "--out", str(out), "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert code == 2 and time.perf_counter() - t0 < 8
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err and not out.exists()


def test_report_when_every_run_escalates(tmp_path: Path) -> None:
    """Probabilities of exactly 1, whose Wilson upper bound is a rounding error below 1, still plot."""
    # The deterrence benchmark without the defender's commitment (its resolve is 0, so the reliability swept
    # changes nothing), with A's cost of war always below its chance of prevailing (2/3): A attacks B in every run
    # (tests/test_deterrence.py).
    always = f"""
id: always
scenario: {DEFAULT_SCENARIO.parent / "validation" / "deterrence_r000.yaml"}
seed: 2
replications: {{fixed: 20}}
set: {{actors.A.conflict_cost.high: 0.5}}
design:
  sampler: lhs
  samples: 3
  ranges: {{parameters.alliance_reliability: [0.5, 1.0]}}
"""
    out = tmp_path / "always"
    sweep(load_experiment(write(tmp_path, "a.yaml", always)), out, workers=1, progress=False)
    assert load_runs(out)["escalated"].all()
    assert main(["report", str(out)]) == 0
    assert (out / "plots" / "p_escalation_vs_parameters.alliance_reliability.png").stat().st_size > 0
