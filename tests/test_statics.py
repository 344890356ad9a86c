"""The comparative-statics instrument (``experiments.statics``): its interventions, its pairing and its test.

These tests check the instrument only. Whether today's model passes the statics is what the instrument
measures (README); the tests that require it to pass belong with the model that does (issue 11).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from experiments.library import load_library
from experiments.spec import PAIRED_KEY, load_experiment, run_seed
from experiments.statics import (
    COST_FACTOR,
    TRUST_STEP,
    costs_up,
    disputed,
    experiment_yaml,
    mcnemar_wrong_way,
    no_venues,
    statics,
    trust_up,
)
from sim.loading import load_scenario

REPO = Path(__file__).resolve().parent.parent
CRISES = REPO / "configs" / "crises"


def test_trust_up_raises_every_trust_value_and_caps_it_at_one() -> None:
    sc = load_scenario(CRISES / "taiwan_1995.yaml")
    over = trust_up(sc)
    assert over["trust.default"] == pytest.approx(sc.trust.default + TRUST_STEP)
    assert over["trust.TAW.USA"] == pytest.approx(0.6 + TRUST_STEP) and over["trust.CHN.TAW"] == pytest.approx(0.3)
    raised = load_scenario(CRISES / "taiwan_1995.yaml", {**over, "trust.USA.TAW": 0.95})
    assert trust_up(raised)["trust.USA.TAW"] == 1.0


def test_costs_up_scales_every_prior_and_keeps_it_valid() -> None:
    sc = load_scenario(CRISES / "gulf_1990.yaml")
    over = costs_up(sc)
    scaled = load_scenario(CRISES / "gulf_1990.yaml", over)  # validates
    for a, b in zip(sc.actors, scaled.actors, strict=True):
        if a.conflict_cost.distribution != "fixed":
            assert b.conflict_cost.high == pytest.approx(min(10.0, a.conflict_cost.high * COST_FACTOR))
        assert b.conflict_cost.low == pytest.approx(min(10.0, a.conflict_cost.low * COST_FACTOR))


def test_no_venues_removes_every_venue() -> None:
    sc = load_scenario(CRISES / "berlin_1961.yaml")
    assert sc.venues and load_scenario(CRISES / "berlin_1961.yaml", no_venues(sc)).venues == []


def test_a_dispute_needs_two_positions_that_differ() -> None:
    sc = load_scenario(CRISES / "taiwan_1995.yaml")
    pairs = disputed(sc)
    # China and Taiwan hold opposite ideals on the visit; the USA and Taiwan both want it, but differ on
    # Taiwan's space (USA 0.5, Taiwan 1).
    assert frozenset(("CHN", "TAW")) in pairs and frozenset(("TAW", "USA")) in pairs
    same = load_scenario(CRISES / "taiwan_1995.yaml", {"actors.USA.positions.taiwan_space.ideal": 1})
    assert frozenset(("TAW", "USA")) not in disputed(same)


def test_the_wrong_way_test_is_a_one_sided_exact_mcnemar_test() -> None:
    base = pd.Series([True, True, False, False, False, True, False, False])
    other = pd.Series([True, False, True, True, True, True, False, True])
    # base-only war: 1 pair; other-only war: 4 pairs
    assert mcnemar_wrong_way(base, other, +1) == (
        1,
        4,
        pytest.approx(binomtest(4, 5, 0.5, alternative="greater").pvalue),
    )
    assert mcnemar_wrong_way(base, other, -1)[2] == pytest.approx(binomtest(1, 5, 0.5, alternative="greater").pvalue)
    assert mcnemar_wrong_way(base, base, +1) == (0, 0, 1.0)


def test_the_experiment_is_paired_and_leaves_out_empty_interventions(tmp_path: Path) -> None:
    crisis = next(c for c in load_library(CRISES) if c.scenario.id == "sino_indian_1962")
    assert not crisis.scenario.venues  # nothing to remove: no point for it
    path = tmp_path / "e.yaml"
    path.write_text(experiment_yaml(crisis, 5, 3), encoding="utf-8")
    exp = load_experiment(path)
    assert exp.paired and [p.name for p in exp.points] == ["as_authored", "trust_up", "costs_up"]
    assert {exp.seed_of(p.point_id, 2) for p in exp.points} == {run_seed(3, PAIRED_KEY, 2)}


def test_statics_reads_each_pair_of_runs(tmp_path: Path) -> None:
    crises, outcomes = tmp_path / "crises", tmp_path / "outcomes"
    crises.mkdir()
    outcomes.mkdir()
    for c in ("fashoda_1898", "taiwan_1995"):
        shutil.copy(CRISES / f"{c}.yaml", crises)
        shutil.copy(REPO / "configs" / "outcomes" / f"{c}.yaml", outcomes)
    out = tmp_path / "out"
    table = statics(crises, out, seeds=6, workers=1)
    assert list(table["crisis"]) == ["fashoda_1898"] * 3 + ["taiwan_1995"] * 3
    from experiments.results import load_runs

    for row in table.itertuples():
        runs = load_runs(out / row.crisis)
        names = pd.read_parquet(out / row.crisis / "points.parquet").set_index("point_id")["name"]
        war = runs.assign(name=runs["point_id"].map(names), war=runs["outcome"] == "escalation")
        wide = war.pivot(index="replication", columns="name", values="war")
        assert row.p_war == pytest.approx(wide["as_authored"].mean())
        assert row.p_war_after == pytest.approx(wide[row.intervention].mean())
        assert row.war_only_before == int((wide["as_authored"] & ~wide[row.intervention]).sum())
        assert row.failed == (row.p_wrong_way < 0.05)
        assert 0.0 <= row.no_dispute_wars <= row.p_war
        # paired: every point's replication r ran with the same seed
        assert (runs.groupby("replication")["seed"].nunique() == 1).all()
    assert np.isfinite(table["p_wrong_way"]).all()
