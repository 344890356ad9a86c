"""Synthetic scenarios (experiments.generate) and the benchmark commands (experiments.bench, bench_startup).

Benchmarks print figures; nothing here asserts a time.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from experiments import bench
from experiments.generate import random_scenario, random_scenario_dict
from sim.cli import main
from sim.loading import config_sha256
from sim.model import DiplomacyModel
from sim.scenario import Scenario


@pytest.mark.parametrize(("n_actors", "n_issues"), [(2, 1), (3, 2), (6, 3), (30, 6), (200, 20)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_scenario_validates(n_actors: int, n_issues: int, seed: int) -> None:
    sc = random_scenario(n_actors, n_issues, seed)
    assert isinstance(sc, Scenario)
    assert len(sc.actors) == n_actors
    assert len(sc.issues) == n_issues
    assert sc.venues
    # It validates again from its own dump (what a YAML file of it would hold).
    assert Scenario.model_validate(sc.model_dump(mode="json")) == sc


def test_generated_scenario_has_the_promised_shape() -> None:
    sc = random_scenario(60, 10, seed=3)
    kinds = [a.kind for a in sc.actors]
    assert kinds.count("organisation") == 1
    assert 1 <= kinds.count("bloc") <= 5
    assert kinds.count("state") > len(kinds) / 2
    assert all(a.members for a in sc.actors if a.kind == "bloc")
    assert any(i.values is not None for i in sc.issues)
    assert any(p.red_line is not None for a in sc.actors for p in a.positions.values())
    assert any(a.threats for a in sc.actors)
    assert sc.trust.__pydantic_extra__
    assert [r.id for r in sc.ladder.rungs] == [
        "deescalation",
        "status_quo",
        "posturing",
        "nonviolent",
        "violent",
        "nuclear",
    ]
    assert (sc.ladder.war, sc.ladder.baseline) == ("violent", "status_quo")
    formats = {v.format for v in sc.venues}
    assert formats <= {"bilateral", "council", "multilateral"}
    assert all(2 <= len(v.participants) <= 8 and 2 <= len(v.agenda) <= 6 for v in sc.venues)
    assert (sc.calendar.end - sc.calendar.start).days + 1 == 60


def test_n_venues_is_honoured() -> None:
    assert len(random_scenario(30, 6, seed=0, n_venues=12).venues) == 12


def test_generated_scenario_is_deterministic_for_a_seed() -> None:
    a, b = random_scenario(40, 8, seed=7), random_scenario(40, 8, seed=7)
    assert a == b
    assert config_sha256(a) == config_sha256(b)
    assert random_scenario_dict(40, 8, seed=7) == random_scenario_dict(40, 8, seed=7)
    assert config_sha256(random_scenario(40, 8, seed=8)) != config_sha256(a)


def test_too_small_is_refused() -> None:
    with pytest.raises(ValueError):
        random_scenario(1, 3, seed=0)
    with pytest.raises(ValueError):
        random_scenario(5, 0, seed=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_scenario_runs_and_stays_in_bounds(seed: int) -> None:
    # 20 venues over 60 days, so that the first 10 days hold some bargaining.
    model = DiplomacyModel(random_scenario(30, 6, seed, n_venues=20), rng=seed)
    n = len(model.actor_ids)
    for _ in range(10):
        model.step()
        assert np.all((model.position >= 0.0) & (model.position <= 1.0))
        assert np.all((model.trust >= 0.0) & (model.trust <= 1.0))
        assert np.all(np.diag(model.trust) == 1.0)
        assert np.all((model.rung >= 0) & (model.rung < len(model.ladder_ids)))
        assert model.trust.shape == (n, n)
    assert model.day == 10 or model.outcome == "escalation"
    assert model.venue_log and any(v["proposals"] for v in model.venue_log)
    model.result()  # the result builds


def test_bench_functions_on_tiny_sizes() -> None:
    sc = random_scenario(8, 3, seed=0)
    runs = bench.time_runs(sc, [0, 1])
    assert len(runs) == 2 and all(t > 0 for t in runs)
    quiet, busy = bench.time_steps(sc, min_samples=2, max_runs=2)
    assert quiet and all(t > 0 for t in quiet + busy)
    assert bench.peak_memory(sc) > 0


def test_bench_command(capsys: pytest.CaptureFixture[str]) -> None:
    """``dipsim bench --repeat 1`` runs end to end (about 10 s: one full 200-actor run)."""
    assert main(["bench", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "2022 run: median" in out
    assert "200-actor/20-issue step (no venue): median" in out
    assert "200-actor/20-issue step (with a venue): median" in out
    assert "peak memory" in out
    assert "<= 10 ms" in out and "<= 20 ms" in out


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_bench_rejects_a_bad_repeat(value: str) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "--repeat", value])


def test_bench_startup_prints_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    """``dipsim bench --startup --starts 1`` times whole processes of --help, validate and run, with the aims."""
    assert main(["bench", "--startup", "--starts", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("dipsim --help   median") and "[aim < 0.3 s:" in line for line in lines)
    assert any(line.startswith("dipsim validate median") and "[aim < 0.8 s:" in line for line in lines)
    assert any(line.startswith("dipsim run      median") for line in lines)


def test_bench_backtest_times_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    """``dipsim bench --backtest --seeds 1`` runs the whole library once (17 crises, 17 runs) and prints the time;
    the aim is stated only at the aim's 200 seeds."""
    assert main(["bench", "--backtest", "--seeds", "1", "--workers", "1"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"backtest: 17 crises x 1 seeds = 17 runs on 1 worker\(s\): [0-9.]+ s \([0-9.]+ runs/s\)", line)
