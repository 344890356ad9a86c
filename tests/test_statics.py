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

import experiments.statics
from experiments.baselines import load_covariates
from experiments.library import Crisis, load_library
from experiments.spec import PAIRED_KEY, load_experiment, point_id, run_seed
from experiments.statics import (
    COST_FACTOR,
    DEFENCE_SOURCE,
    INTERVENTIONS,
    TRUST_STEP,
    Sides,
    costs_up,
    crisis_rows,
    defence,
    defender,
    disputed,
    experiment_yaml,
    mcnemar_wrong_way,
    no_venues,
    statics,
    trust_up,
    war,
    war_on_target,
)
from sim.loading import load_scenario
from sim.model import DiplomacyModel
from sim.scenario_parts import Threat

REPO = Path(__file__).resolve().parent.parent
CRISES = REPO / "configs" / "crises"


@pytest.fixture(scope="module")
def library() -> list[tuple[Crisis, Sides]]:
    """Every crisis of the library with its principal dyad from covariates.csv."""
    crises = load_library(CRISES)
    cov = load_covariates(CRISES, crises)
    assert cov is not None
    return [(c, (cov[c.scenario.id].side_a, cov[c.scenario.id].side_b)) for c in crises]


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


def test_the_experiment_is_paired_and_leaves_out_empty_interventions(
    tmp_path: Path, library: list[tuple[Crisis, Sides]]
) -> None:
    crisis, sides = next((c, s) for c, s in library if c.scenario.id == "sino_indian_1962")
    # nothing to remove, and no third actor to defend India: no point for either
    assert not crisis.scenario.venues and len(crisis.scenario.actors) == 2
    path = tmp_path / "e.yaml"
    path.write_text(experiment_yaml(crisis, 5, 3, sides), encoding="utf-8")
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
    shutil.copy(CRISES / "covariates.csv", crises)  # its rows of other crises are passed over
    out = tmp_path / "out"
    table = statics(crises, out, seeds=6, workers=1)
    # Fashoda has no venue and no third actor; Taiwan (USA against China) has Taiwan itself as China's defender
    assert list(table["crisis"]) == ["fashoda_1898"] * 3 + ["taiwan_1995"] * 4
    assert list(table["intervention"])[-1] == "defence"
    from experiments.results import load_runs

    for row in table.itertuples():
        runs = load_runs(out / row.crisis)
        names = pd.read_parquet(out / row.crisis / "points.parquet").set_index("point_id")["name"]
        hit = runs["outcome"] == "escalation"
        if row.intervention == "defence":
            hit &= runs["escalation_target"] == "CHN"
        war = runs.assign(name=runs["point_id"].map(names), war=hit)
        wide = war.pivot(index="replication", columns="name", values="war")
        assert row.p_war == pytest.approx(wide["as_authored"].mean())
        assert row.p_war_after == pytest.approx(wide[row.intervention].mean())
        assert row.war_only_before == int((wide["as_authored"] & ~wide[row.intervention]).sum())
        assert row.failed == (row.p_wrong_way < 0.05)
        assert 0.0 <= row.no_dispute_wars <= row.p_war
        # paired: every point's replication r ran with the same seed
        assert (runs.groupby("replication")["seed"].nunique() == 1).all()
    assert np.isfinite(table["p_wrong_way"]).all()


def test_the_defence_point_is_a_valid_commitment_in_every_crisis_with_a_defender(
    tmp_path: Path, library: list[tuple[Crisis, Sides]]
) -> None:
    with_defender = 0
    for crisis, sides in library:
        sc = crisis.scenario
        over = defence(sc, sides)
        fighters = [a.id for a in sc.actors if a.kind != "organisation" and a.id not in sides]
        assert bool(over) == bool(fighters), sc.id  # no third actor that can fight: no point
        if not over:
            continue
        with_defender += 1
        who = defender(sc, sides)
        after = load_scenario(crisis.path, over)  # validates
        before_actor = next(a for a in sc.actors if a.id == who)
        actor = next(a for a in after.actors if a.id == who)
        new = Threat(target=sides[0], protects=[sides[1]], cost=1.0, kind="deterrence", source=DEFENCE_SOURCE)
        assert actor.threats == [*before_actor.threats, new], sc.id
        assert actor.traits.resolve == 1.0
        # nothing else changes: the defender's other fields and every other actor
        assert actor.model_copy(update={"threats": before_actor.threats, "traits": before_actor.traits}) == before_actor
        assert [a for a in after.actors if a.id != who] == [a for a in sc.actors if a.id != who]
        # the experiment file keeps the point as computed: crisis_rows finds its runs by this id
        path = tmp_path / f"{sc.id}.yaml"
        path.write_text(experiment_yaml(crisis, 2, 0, sides), encoding="utf-8")
        assert point_id(over) in {p.point_id for p in load_experiment(path).points}
    assert with_defender == 15  # the library's two-actor crises, Fashoda and Sino-Indian, have none


def test_the_model_reads_the_commitment_at_full_reliability() -> None:
    # Gulf 1990: the USA's own threat protects Kuwait at resolve 0.9; with resolve 1 and cost 1 the model's
    # reliability is r0 * 1 * min(1, 1) = r0 (sim.rules.coalitions.reliability).
    sc = load_scenario(CRISES / "gulf_1990.yaml", defence(load_scenario(CRISES / "gulf_1990.yaml"), ("IRQ", "KUW")))
    model = DiplomacyModel(sc, rng=0)
    usa, kuw = model.index_of["USA"], model.index_of["KUW"]
    assert model.reliability[usa, kuw] == pytest.approx(model.params.alliance_reliability)


def test_the_defender_is_the_most_capable_fighter_other_than_the_two_sides() -> None:
    path, sides = CRISES / "gulf_1990.yaml", ("IRQ", "KUW")
    # The UN (an organisation) and the two sides made the most capable: none of them can be the defender.
    big = {"actors.UN.capability": 5.0, "actors.IRQ.capability": 4.0, "actors.KUW.capability": 4.0}
    assert defender(load_scenario(path, big), sides) == "USA"  # 0.399, the Soviet Union 0.366
    assert defender(load_scenario(path, {**big, "actors.URS.capability": 0.5}), sides) == "URS"
    assert defender(load_scenario(path, {**big, "actors.URS.capability": 0.399}), sides) == "USA"  # tie: first
    # Falklands: Britain, Argentina, the USA and the UN. With the USA an organisation no one is left.
    alone = load_scenario(CRISES / "falklands_1982.yaml", {"actors.USA.kind": "organisation"})
    assert defender(alone, ("ARG", "GBR")) is None and defence(alone, ("ARG", "GBR")) == {}
    assert defence(load_scenario(path), None) == {}  # no covariates file, no sides


def test_the_defence_statistic_counts_only_attacks_on_the_target(
    monkeypatch: pytest.MonkeyPatch, library: list[tuple[Crisis, Sides]]
) -> None:
    crisis, sides = next((c, s) for c, s in library if c.scenario.id == "taiwan_1995")
    assert sides == ("USA", "CHN")
    base = [("USA", "CHN"), ("CHN", "USA"), ("TAW", "CHN"), None, None, ("USA", "CHN")]
    after = [None, ("CHN", "USA"), ("USA", "CHN"), ("CHN", "TAW"), ("USA", "CHN"), ("USA", "CHN")]
    # attacks on China: replications {0, 2, 5} as authored, {2, 4, 5} with the commitment; any war: 4 and 5 of 6

    def frame(pid: str, wars: list[tuple[str, str] | None]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "point_id": pid,
                "replication": range(len(wars)),
                "outcome": ["escalation" if w else "agreement" if k == 3 else "stalemate" for k, w in enumerate(wars)],
                "escalation_actor": [w[0] if w else None for w in wars],
                "escalation_target": [w[1] if w else None for w in wars],
            }
        )

    ids = {name: point_id(iv.make(crisis.scenario, sides)) for name, iv in INTERVENTIONS.items()}
    runs = pd.concat(
        [frame(point_id({}), base)] + [frame(pid, after if name == "defence" else base) for name, pid in ids.items()],
        ignore_index=True,
    )
    assert list(war_on_target(runs, sides)[:6]) == [True, False, True, False, False, True]
    assert list(war(runs, sides)[:6]) == [True, True, True, False, False, True]
    assert not war_on_target(runs, None).any()
    monkeypatch.setattr(experiments.statics, "load_runs", lambda out, columns: runs[columns])
    rows = {r["intervention"]: r for r in crisis_rows(crisis, Path("unused"), 6, sides)}
    row = rows["defence"]
    assert (row["statistic"], row["must_not"]) == ("war on side_b", "rise")
    assert row["p_war"] == pytest.approx(3 / 6) and row["p_war_after"] == pytest.approx(3 / 6)
    assert (row["war_only_before"], row["war_only_after"]) == (1, 1)  # replication 0, replication 4
    assert row["p_wrong_way"] == pytest.approx(binomtest(1, 2, 0.5, alternative="greater").pvalue)
    # the other interventions count every war, on the same as-authored runs
    assert rows["trust_up"]["statistic"] == "war" and rows["trust_up"]["p_war"] == pytest.approx(4 / 6)
