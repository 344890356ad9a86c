"""Agents as policies (``agents/policies.py``, docs/design/bargaining.md §3.8, step 9 of §6).

Every policy declares every classifier key and behaves as it declares (a hard-liner's offers never move, a
policy that does not reveal its type teaches observers nothing, one that does not update beliefs keeps its
prior, a non-stochastic policy repeats itself for a seed); the default policy named explicitly is the model
with no policy named; each policy on one actor of the 2022 scenario gives a valid run; the hard-liner attacks
iff ``W^a - c > U(b)`` and the reciprocator matches the rung it faces, on hand-built cases; the scenario field,
the command line and the page's actor list name the policies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from agents.policies import CLASSIFIER_KEYS, POLICIES, BayesianBargainer, HardLiner, Reciprocator
from sim.cli import main
from sim.loading import DEFAULT_SCENARIO, load_scenario, validate_raw
from sim.model import DiplomacyModel
from sim.rules.bargaining import Proposal
from sim.rules.ladder import ActorRow, guard, hard_line_rungs, reciprocal_rungs
from sim.rules.offers import feasible, ideal_offer, reciprocal_offer, worse_than_ideal
from sim.scenario_parts import PolicyName
from sim.viz.data import actor_lines
from sim.yamlio import read_raw
from tests.test_model_cases import actor, config, issue, venue

REPO = Path(__file__).resolve().parent.parent
SEED = 3
OUTCOMES = {"agreement", "stalemate", "escalation", "truncated"}
# The 2022 ladder of the hand-built cases (tests.test_model_cases.LADDER): baseline 1, public threat 3, war 4.
BASE, THREAT, WAR = 1, 3, 4


def run_2022(overrides: dict[str, Any] | None = None, seed: int = SEED, **kwargs: Any) -> DiplomacyModel:
    model = DiplomacyModel(load_scenario(DEFAULT_SCENARIO, overrides), rng=seed, **kwargs)
    model.run()
    return model


def as_policy(actor_id: str, name: str) -> dict[str, Any]:
    return {f"actors.{actor_id}.policy": name}


@pytest.fixture(scope="module")
def default_run() -> DiplomacyModel:
    return run_2022()


@pytest.fixture(scope="module")
def hardline_rus() -> DiplomacyModel:
    return run_2022(as_policy("RUS", "hardliner"))


# --------------------------------------------------------------------------- declarations


def test_every_policy_declares_every_classifier_key() -> None:
    for name, cls in POLICIES.items():
        assert cls.name == name
        assert set(cls.classifier) == set(CLASSIFIER_KEYS), name
        c = cls.classifier
        for key in ("uses_beliefs", "updates_beliefs", "reveals_type", "stochastic", "concedes", "initiates_war"):
            assert isinstance(c[key], bool), (name, key)
        assert c["memory_depth"] >= 0 and c["lookahead"] >= 0 and isinstance(c["source"], str) and c["source"]
        assert cls.__doc__ and any(year in cls.__doc__ for year in ("1984", "1993", "1995")), name


def test_the_registry_and_the_scenario_field_name_the_same_policies() -> None:
    assert set(POLICIES) == set(typing.get_args(PolicyName))
    assert POLICIES["bayesian"] is BayesianBargainer and load_scenario().actors[0].policy == "bayesian"


def test_agents_are_called_in_creation_order_and_hold_their_policy(hardline_rus: DiplomacyModel) -> None:
    m = hardline_rus
    assert [a.index for a in m.agents] == list(range(len(m.actor_ids)))
    assert [type(a.policy) for a in m.actor_agents] == [
        HardLiner if a == "RUS" else BayesianBargainer for a in m.actor_ids
    ]


# --------------------------------------------------------------------------- the default is today's model


def test_naming_the_default_policy_changes_nothing(default_run: DiplomacyModel) -> None:
    every = {f"actors.{a}.policy": "bayesian" for a in default_run.actor_ids}
    named = run_2022(every)
    assert named.config_sha256 == default_run.config_sha256
    assert named.result().to_json() == default_run.result().to_json()
    assert named.escalation_log == default_run.escalation_log
    assert np.array_equal(named.belief_lo, default_run.belief_lo)
    assert named.decisions_frame().equals(default_run.decisions_frame())


def test_a_policy_other_than_the_default_changes_the_config_hash(
    default_run: DiplomacyModel, hardline_rus: DiplomacyModel
) -> None:
    assert hardline_rus.config_sha256 != default_run.config_sha256
    assert hardline_rus.result().policies["RUS"] == "hardliner"
    assert set(default_run.result().policies.values()) == {"bayesian"}


# --------------------------------------------------------------------------- each policy on the 2022 scenario


@pytest.mark.parametrize("name", ["hardliner", "reciprocator"])
@pytest.mark.parametrize("who", ["RUS", "NATO", "OSCE"])  # a state, a bloc, an organisation
def test_each_policy_on_one_actor_of_2022_gives_a_valid_run(name: str, who: str) -> None:
    m = run_2022(as_policy(who, name))
    r = m.result()
    assert r.outcome in OUTCOMES and r.steps_run == m.day and r.policies[who] == name
    assert m.rung.min() >= 0 and m.rung.max() <= m.war_index and ((m.trust >= 0) & (m.trust <= 1)).all()
    assert (m.belief_lo <= m.belief_hi).all()
    organisation = m.index_of["OSCE"]
    assert (m.rung[organisation] == m.baseline_rung).all(), "an organisation never climbs, whatever its policy"


# --------------------------------------------------------------------------- behaviour matches the classifier


def test_a_hardliners_offers_never_move(hardline_rus: DiplomacyModel) -> None:
    m, i = hardline_rus, hardline_rus.index_of["RUS"]
    offers = [p["package"] for v in m.venue_log for p in v["proposals"] if p["proposer"] == "RUS"]
    assert len(offers) >= 2, "too few offers for the test to mean anything"
    for package in offers:  # RUS is in no bloc: its ideal point never moves, nor its offers
        for iid, x in package.items():
            assert x == pytest.approx(m.initial_position[i, m.issue_index[iid]], abs=1e-6), iid
    accepted = m.decisions_frame().query("actor == 'RUS' and accepted")
    for package in accepted["package"]:  # it accepts nothing but its ideal
        assert all(x == pytest.approx(m.initial_position[i, m.issue_index[j]], abs=1e-6) for j, x in package.items())


def talks(policy: str) -> DiplomacyModel:
    """C (ideal 0.3), which alone decides ``x`` (status quo 0.5), tables to A and D (ideal 0, capability 3, cost
    uniform on [0, 1]), who could instead take ``x`` from C by war: a default answer is then a cut-off in the cost
    (accept iff the package beats attacking C, ODD 7.7), and observers learn from it. A has ``policy``. One day."""
    uniform = {"distribution": "uniform", "low": 0.0, "high": 1.0, "source": "assumption: test case"}
    actors = [
        actor("A", {"x": (0.0, 1.0)}, capability=3.0) | {"policy": policy, "conflict_cost": uniform},
        actor("B", {"x": (1.0, 1.0)}),
        actor("C", {"x": (0.3, 1.0)}),
        actor("D", {"x": (0.0, 1.0)}, capability=3.0) | {"conflict_cost": uniform},
    ]
    issues = [issue("x", status_quo=0.5, competence=["C"])]
    d = config(actors, issues, venues=[venue("talks", "2000-01-01", ["C", "A", "D"], ["x"])])
    m = DiplomacyModel(validate_raw(d, "talks"), rng=0)
    m.step()
    return m


def learnt(m: DiplomacyModel) -> np.ndarray:
    return (m.belief_lo > 0) | (m.belief_hi < 1)


def test_under_the_default_everyone_learns_from_answers() -> None:
    """The case below can fail: the default policy's answers teach, and its holder learns."""
    m = talks("bayesian")
    assert learnt(m)[:, 0].all() and learnt(m)[0].any()


@pytest.mark.parametrize("name", ["hardliner", "reciprocator"])
def test_observers_learn_nothing_from_a_policy_that_does_not_reveal_its_type(name: str) -> None:
    assert not POLICIES[name].classifier["reveals_type"] and not POLICIES[name].classifier["updates_beliefs"]
    m = talks(name)
    assert not learnt(m)[:, 0].any(), "no one learns about A from its answers"
    assert not learnt(m)[0].any(), "A's beliefs stay its prior"
    assert learnt(m)[1:, 3].all(), "the others still learn about D, whose policy is the default"


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_non_stochastic_policy_repeats_its_run_for_a_seed(name: str) -> None:
    assert not POLICIES[name].classifier["stochastic"]
    scenario = load_scenario(DEFAULT_SCENARIO, as_policy("RUS", name) | as_policy("USA", name))
    first, second = DiplomacyModel(scenario, rng=SEED), DiplomacyModel(scenario, rng=SEED)
    assert first.run().to_json() == second.run().to_json()
    assert first.escalation_log == second.escalation_log


def test_a_hardliner_run_is_the_same_in_another_process(hardline_rus: DiplomacyModel) -> None:
    cmd = [
        sys.executable,
        "-m",
        "sim.cli",
        "run",
        "--json",
        "--seed",
        str(SEED),
        "--set",
        "actors.RUS.policy=hardliner",
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(proc.stdout) == json.loads(hardline_rus.result().to_json())


def test_only_the_default_policys_climbs_are_explained() -> None:
    m = run_2022(as_policy("RUS", "hardliner"), explain=True)
    assert any(e["actor"] == "RUS" for e in m.escalation_log), "the hard-liner climbs"
    assert all(c.actor != "RUS" for c in m.explainer.climbs)
    assert all(a.ev.actor != "RUS" for a in m.explainer.answers)


# --------------------------------------------------------------------------- hand-built cases


def duel(policy_a: str, cost_a: float, policy_b: str = "bayesian", threat: bool = False) -> dict[str, Any]:
    """A and B dispute one issue (status quo 0.5, A's ideal 0, B's 1): each has something to gain from the other;
    A, three times as strong, wins with probability 3/4, so ``W^a - U(b) = 3/4 * 1/2 - 1/4 * 1/2 = 1/4``.
    B's cost of 5 makes war worthless to it; ``threat``: A starts at the public threat toward B."""
    a = actor("A", {"x": (0.0, 1.0)}, capability=3.0, cost=cost_a) | {"policy": policy_a}
    b = actor("B", {"x": (1.0, 1.0)}) | {"policy": policy_b}
    if threat:
        a["initial_rung"] = {"toward": {"B": "nonviolent"}, "source": "assumption: test case"}
    return config([a, b], [issue("x", status_quo=0.5)])


def attack_margin() -> float:
    """``W^a - U(b)`` of A against B in ``duel``: A's cost at which attacking and not attacking tie."""
    m = DiplomacyModel(validate_raw(duel("hardliner", 5.0), "duel"), rng=0)
    assert m.attackable[0, 1] and m.attackable[1, 0]
    assert m.war[0, 1] - m.u_base_sum[0] == pytest.approx(0.25, abs=1e-12)  # the closed form of ``duel``
    return 0.25


@pytest.mark.parametrize("delta", [-0.01, 0.01])
def test_a_hardliner_climbs_a_rung_a_day_and_attacks_iff_war_beats_the_baseline(delta: float) -> None:
    margin = attack_margin()
    m = DiplomacyModel(validate_raw(duel("hardliner", margin + delta), "duel"), rng=0)
    m.run()
    if delta < 0:  # W^a - c = U(b) + 0.01 > U(b): climbs baseline -> 2 -> 3 (the threat) and attacks on day 2
        assert m.outcome == "escalation" and m.escalation["actor"] == "A" and m.escalation["step"] == 2
    else:  # W^a - c < U(b): holds the public threat to the end, never attacks
        assert m.outcome != "escalation" and m.rung[0, 1] == THREAT
    assert [e["to"] for e in m.escalation_log if e["actor"] == "A"][:2] == ["posturing", "nonviolent"]


@pytest.mark.parametrize("delta", [-0.01, 0.01])
def test_a_reciprocator_matches_the_rung_it_faces_and_attacks_only_from_a_mutual_threat(delta: float) -> None:
    """B, a hard-liner that never attacks (cost 5), climbs 1 -> 2 -> 3 on days 0, 1; A follows a day behind
    (2 on day 1, 3 on day 2) and, facing the threat from the threat, attacks on day 3 iff ``W^a - c > U(b)``."""
    margin = attack_margin()
    m = DiplomacyModel(validate_raw(duel("reciprocator", margin + delta, "hardliner"), "duel"), rng=0)
    m.run(max_steps=3)
    assert m.rung[1, 0] == THREAT and m.rung[0, 1] == THREAT and m.outcome is None
    climbs = [(e["step"], e["to"]) for e in m.escalation_log if e["actor"] == "A"]
    assert climbs == [(1, "posturing"), (2, "nonviolent")]
    m.run()
    if delta < 0:
        assert m.outcome == "escalation" and m.escalation["actor"] == "A" and m.escalation["step"] == 3
    else:
        assert m.outcome != "escalation" and m.rung[0, 1] == THREAT


def test_a_reciprocator_does_not_strike_first_from_its_own_threat() -> None:
    """A starts at the threat toward B with war worth it, but B holds only the baseline: A steps down to match."""
    m = DiplomacyModel(validate_raw(duel("reciprocator", attack_margin() - 0.01, threat=True), "duel"), rng=0)
    m.step()
    assert m.outcome is None and m.rung[0, 1] == THREAT - 1


def test_a_hardliner_accepts_only_its_ideal() -> None:
    m = DiplomacyModel(validate_raw(duel("hardliner", 5.0), "duel"), rng=0)
    a, side, include = m.actor_agents[0], m.side_facing(0, 1, False), np.array([True])
    # Only what the answer reads of the problem (acceptance.evaluate's inputs).
    problem: Any = SimpleNamespace(
        baseline=m.baseline,
        compliance=m.compliance,
        open_issues=include,
        legal_boost=0.5,
        ultimatum=False,
        allowed=m.allowed,
    )

    def offer(x: float) -> Proposal:
        return Proposal(np.array([x]), include, "political", 0.0, 1.0)

    assert a.respond(side, offer(0.0), problem).accepted
    # 0.2 is better than the status quo 0.5 for A: the cut-off rule accepts it, the hard-liner does not.
    assert BayesianBargainer().respond(a, side, offer(0.2), problem).accepted
    refused = a.respond(side, offer(0.2), problem)
    assert not refused.accepted and refused.reason == "worse than its ideal"


# --------------------------------------------------------------------------- the pure rules


def test_the_hard_line_and_reciprocal_ladders_by_hand() -> None:
    # Row of one actor toward four others: t0 attackable, t1 attacks only us, t2 neither, t3 attackable.
    rung = np.array([3, 2, 2, 1])
    attackable = np.array([True, False, False, True])
    attacked = np.array([False, True, False, False])
    war = np.array([1.0, 1.0, 1.0, 0.4])
    faced = np.array([3, 0, 3, 3])
    row = ActorRow(rung, faced, attackable, attacked, war, cost=0.2, u_base=0.5, war_index=WAR, baseline_rung=BASE)
    hard = hard_line_rungs(row)
    # t0: from the threat, 1 - 0.2 > 0.5: war; t1: holds; t2: steps down to the baseline; t3: climbs toward 3.
    assert hard.tolist() == [4, 2, 1, 2]
    rec = reciprocal_rungs(row)
    # t0: mutual threat and war pays: war; t1: steps down toward 0; t2: capped at the baseline by the guard;
    # t3: climbs toward the threat it faces (0.4 - 0.2 < 0.5: no strike would follow).
    assert rec.tolist() == [4, 1, 1, 2]
    assert guard(np.array([4, 4, 4]), np.array([1, 0, 0], bool), np.array([0, 1, 0], bool), WAR, BASE).tolist() == [
        4,
        3,
        1,
    ]


def test_the_offers_by_hand() -> None:
    allowed: list[list[float] | None] = [None, [0.0, 0.5, 1.0], None]
    lo, hi = np.array([0.0, 0.0, 0.3]), np.array([1.0, 0.6, 1.0])
    assert feasible(np.array([0.2, 0.9, 0.1]), lo, hi, allowed).tolist() == [0.2, 0.5, 0.3]
    position, salience = np.array([0.2, 0.9, 0.4]), np.array([1.0, 1.0, 0.0])
    open_issues, baseline = np.array([True, True, True]), np.array([0.5, 0.0, 0.5])
    values, include = ideal_offer(position, salience, lo, hi, open_issues, baseline, allowed)
    assert include.tolist() == [True, True, False] and values.tolist() == [0.2, 0.5, 0.5]
    own, theirs = np.array([0.2, 0.5, 0.5]), np.array([0.6, 1.0, 0.5])
    both = np.array([True, True, False])
    moved = reciprocal_offer(own, both, theirs, both, True, 0.25, values, include, lo, hi, allowed)
    assert moved.tolist() == pytest.approx([0.3, 0.5, 0.5])  # 0.2 + 0.25 * 0.4; 0.625 snaps back to 0.5
    kept = reciprocal_offer(own, both, theirs, both, False, 0.25, values, include, lo, hi, allowed)
    assert kept.tolist() == own.tolist()
    assert worse_than_ideal(np.array([0.2, 0.0, 0.9]), both, values, salience).tolist() == [1]


# --------------------------------------------------------------------------- scenario, command line, page


def test_an_unknown_policy_is_a_clear_error_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--set", "actors.RUS.policy=dove"])
    err = capsys.readouterr().err
    assert code == 2
    assert "actors.RUS.policy" in err and "'bayesian', 'hardliner' or 'reciprocator'" in err
    assert str(DEFAULT_SCENARIO.name) in err


def test_the_policy_field_is_read_from_a_file(tmp_path: Path) -> None:
    raw = read_raw(DEFAULT_SCENARIO)
    raw["actors"][0]["policy"] = "reciprocator"
    assert validate_raw(raw, "f").actors[0].policy == "reciprocator"


def test_the_page_lists_each_actors_policy(hardline_rus: DiplomacyModel) -> None:
    lines = actor_lines(hardline_rus)
    assert len(lines) == len(hardline_rus.actor_ids)
    assert lines[hardline_rus.index_of["RUS"]].startswith("RUS (Russia; policy hardliner): capability")
    assert "policy bayesian" in lines[hardline_rus.index_of["USA"]]
    assert Reciprocator.name == "reciprocator"
