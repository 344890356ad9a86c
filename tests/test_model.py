"""The Mesa layer: driving the model, its records, agents and reproducibility."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from agents.agents import BlocAgent, OrganisationAgent, StateAgent
from sim import DiplomacyModel, load_scenario
from sim.rules.beliefs import cdf
from sim.world import Negotiator, Tables, World


@pytest.fixture(scope="module")
def scenario():
    return load_scenario()


def test_step_does_nothing_once_the_run_has_ended(scenario) -> None:
    model = DiplomacyModel(scenario, rng=3)
    result = model.run()
    assert not model.running
    day, trust, position = model.day, model.trust.copy(), model.position.copy()
    model.step()
    assert (model.day, result.outcome) == (day, model.result().outcome)
    assert np.array_equal(trust, model.trust) and np.array_equal(position, model.position)


def test_mesa_step_advances_one_calendar_day(scenario) -> None:
    model = DiplomacyModel(scenario, rng=0)
    model.step()
    model.step()
    assert model.day == 2 and model.steps == 2
    assert model.date.isoformat() == "2022-01-04"


def test_agents_are_typed_views_on_the_arrays(scenario) -> None:
    model = DiplomacyModel(scenario, rng=0)
    by_id = {a.actor_id: a for a in model.agents}
    assert isinstance(by_id["RUS"], StateAgent)
    assert isinstance(by_id["NATO"], BlocAgent) and by_id["NATO"].members == ["USA", "FRA"]
    assert isinstance(by_id["OSCE"], OrganisationAgent)
    model.trust[model.index_of["RUS"], model.index_of["USA"]] = 0.42
    assert by_id["RUS"].trust_in("USA") == pytest.approx(0.42)
    assert by_id["RUS"].position["nato_ukraine"] == 0.0


def protocol_members(protocol: type) -> set[str]:
    """What a Protocol declares: its annotated attributes, methods and properties (Python 3.12 has
    no ``typing.get_protocol_members``)."""
    methods = {k for k, v in vars(protocol).items() if callable(v) or isinstance(v, property)}
    declared = {k for k in methods if not k.startswith("_")}
    return declared | set(protocol.__annotations__)


def test_a_fresh_model_is_a_world_of_negotiators() -> None:
    """Everything ``World`` promises exists before the first step (``war`` and ``best_war`` too),
    the data collector has what ``Tables`` promises and every actor what ``Negotiator`` promises."""
    world, negotiator = protocol_members(World), protocol_members(Negotiator)
    assert {"war", "best_war", "datacollector", "actor_agents", "side_facing", "record_war"} <= world
    assert negotiator == {"side", "propose", "respond", "as_group"}
    model = DiplomacyModel()
    assert [name for name in sorted(world) if not hasattr(model, name)] == []
    assert all(callable(getattr(model, name)) for name in ("side_facing", "record_war"))
    assert all(callable(getattr(model.datacollector, name)) for name in protocol_members(Tables))
    n = len(model.actor_ids)
    assert model.war.shape == (n, n) and model.best_war.shape == (n,)
    assert len(model.actor_agents) == n
    for agent in model.actor_agents:
        assert all(callable(getattr(agent, name, None)) for name in negotiator), agent.actor_id


def test_datacollector_frames(scenario) -> None:
    model = DiplomacyModel(scenario, rng=0)
    model.run(max_steps=12)
    positions = model.positions_frame()
    assert set(positions.columns) == {"step", "date", "actor", "issue", "position", "demand"}
    assert positions["step"].nunique() == 12 and positions["position"].between(0, 1).all()
    trust = model.dyads_frame("trust")
    assert trust["trust"].between(0, 1).all() and len(trust) == 12 * 8 * 7
    rungs = model.dyads_frame("rungs")
    assert set(rungs["rung"]) <= {r.id for r in scenario.ladder.rungs}
    decisions = model.decisions_frame()
    # Every evaluation says what was compared: the Geneva talks (10 January) are in the log.
    assert {"value", "reservation", "war_option", "trust_discount", "reason"} <= set(decisions.columns)
    geneva = decisions[decisions["venue"] == "geneva_ssd"]
    assert not geneva.empty and set(geneva["actor"]) == {"RUS", "USA"}


def test_rejections_are_explained(scenario) -> None:
    model = DiplomacyModel(scenario, rng=1)
    model.run()
    decisions = model.decisions_frame()
    rejected = decisions[~decisions["accepted"]]
    assert not rejected.empty
    for _, row in rejected.iterrows():
        if row["reason"] == "crosses red line":
            assert row["crossed_red_lines"]
        elif row["reason"] == "leaves out a linked issue":
            assert row["missing_linkage"]
        else:
            assert row["value"] < row["reservation"]


def test_same_seed_same_json_in_another_process(scenario) -> None:
    here = DiplomacyModel(scenario, rng=11).run().to_json()
    code = "from sim import DiplomacyModel; print(DiplomacyModel(rng=11).run().to_json())"
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert here + "\n" == there


def test_keyword_parameters_override_the_scenario(scenario) -> None:
    model = DiplomacyModel(scenario, rng=0, noise=0.2, bloc_pull=0.5)
    assert model.params.noise == 0.2 and model.params.bloc_pull == 0.5
    assert model.result().params["noise"] == 0.2


def test_removing_a_venue_by_set(scenario) -> None:
    sc = load_scenario(None, {"venues.geneva_ssd": None})
    result = DiplomacyModel(sc, rng=0).run()
    assert "geneva_ssd" not in {v["id"] for v in result.venues}


def test_beliefs_are_common_and_always_contain_the_truth() -> None:
    """Every actor observes every answer and updates by Bayes' rule (ODD 7.19): with a common prior the
    observers' posteriors coincide, and each actor's true type (its cost's quantile under its prior) stays in
    the interval its own answers imply, since a threshold answer is the event that actually happened."""
    from tests.test_explain import SCENARIOS

    learnt = 0
    for name, seed in itertools.product(SCENARIOS, range(5)):
        model = DiplomacyModel(SCENARIOS[name], rng=seed)
        model.run()
        lo, hi = model.belief_lo, model.belief_hi
        assert (lo == lo[:1]).all() and (hi == hi[:1]).all()
        for i in range(len(model.actor_ids)):
            kind, low, mode, high = model.priors.prior(i)
            if kind == "fixed":
                continue
            q = float(cdf(kind, low, mode, high, model.private_cost[i]))
            assert lo[0, i] <= q < hi[0, i] or hi[0, i] == 1.0 == q, (model.actor_ids[i], lo[0, i], q, hi[0, i])
            learnt += (lo[0, i], hi[0, i]) != (0.0, 1.0)
    assert learnt > 0  # the answers taught something somewhere, or the test would be empty
