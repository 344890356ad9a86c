"""``dipsim explain`` and ``sim.explain`` (issue 10, item 5): each decisive moment's terms sum to its margin, the
suggested flip, applied through the model's own rule functions, flips the decision, recording changes nothing in
the run, and the command line's output and exit codes.

Two scenarios: the bundled 2022 scenario, and a small synthetic one built here (three actors, cost priors that are
drawn, a threat, an issue only two actors decide, a bilateral, a multilateral and an ultimatum venue, noise), whose
runs have climbs, refusals and agreements on every seed tested.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import solara
import yaml

from sim.explain import KINDS, Moment, decisive_moments
from sim.explain_answers import AnswerCase, answer_margin
from sim.explain_terms import ClimbCase, Flip
from sim.loading import DEFAULT_SCENARIO
from sim.model import DiplomacyModel
from sim.rules.acceptance import Side, evaluate
from sim.rules.coalitions import war_values
from sim.rules.continuation import keep_table
from sim.rules.dynamics import climb_threshold, desired_rung, next_rung
from sim.rules.utility import issue_utilities
from sim.scenario import Scenario
from tests.test_cli import cli
from tests.test_model_cases import actor, config, issue, venue

SEEDS = range(5)
TOL = 1e-9
SRC = "assumption: test case"


def synthetic() -> dict[str, Any]:
    a = actor("A", {"x": (1.0, 1.0, (0.6, 1.0)), "y": (0.8, 0.4), "z": (0.7, 0.5)}, capability=3.0)
    a["conflict_cost"] = {"distribution": "uniform", "low": 0.05, "high": 0.35, "source": SRC}
    b = actor("B", {"x": (0.0, 1.0, (0.0, 0.7)), "y": (0.2, 0.6)}, capability=2.0)
    b["conflict_cost"] = {"distribution": "triangular", "low": 0.1, "mode": 0.2, "high": 0.5, "source": SRC}
    c = actor("C", {"z": (0.6, 0.8), "y": (0.3, 0.3)}, capability=1.5, cost=0.6)
    c["threats"] = [{"target": "A", "protects": ["B"], "cost": 0.2, "source": SRC}]
    raw = config(
        [a, b, c],
        [issue("x", 0.5), issue("y", 0.5, compliance=0.5), issue("z", 0.2, competence=["A", "C"])],
        [
            venue("talks", "2000-01-03", ["A", "B"], ["x", "y"], fmt="bilateral"),
            venue("side", "2000-01-05", ["A", "C"], ["z", "y"], fmt="bilateral"),
            venue("round2", "2000-01-09", ["B", "A", "C"], ["x", "y", "z"]),
            venue("last", "2000-01-14", ["A", "B"], ["x"], fmt="ultimatum"),
        ],
        end="2000-01-25",
    )
    raw["parameters"] = {"noise": 0.05}
    return raw


SCENARIOS = {"2022": None, "synthetic": Scenario.model_validate(synthetic())}


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, int], DiplomacyModel]:
    out = {}
    for name, sc in SCENARIOS.items():
        for seed in SEEDS:
            model = DiplomacyModel(config=sc, rng=seed, explain=True)
            model.run()
            out[name, seed] = model
    return out


def all_moments(runs: dict[tuple[str, int], DiplomacyModel]) -> list[tuple[str, int, Moment]]:
    return [(name, seed, m) for (name, seed), model in runs.items() for m in decisive_moments(model)]


# --------------------------------------------------------------------------- the decisions re-made, independently


def climbs(case: ClimbCase, **ch: float) -> bool:
    """The rung choice re-made from the recorded inputs with the rules (war_values, desired_rung, next_rung)."""
    p, k = ch.get("win_prob", case.win_prob), ch.get("threat", case.threat)
    gain, loss = np.array([[case.win.sum(), 0.0], [0.0, 0.0]]), np.array([[case.lose.sum(), 0.0], [0.0, 0.0]])
    w = war_values(np.array([case.base, 0.0]), gain, loss, np.array([[p, 0.5], [0.5, 0.5]]), np.diag([k, 0.0]))[0][0, 0]
    w += ch.get("war_offset", 0.0)
    calm = case.base - ch.get("threatened", case.threatened) + ch.get("talks", case.talks)
    delta = w - ch.get("cost", case.cost) - calm + ch.get("noise", case.noise)
    return bool(
        next_rung(np.array([case.rung]), desired_rung(np.array([delta]), case.war_index, case.band))[0] > case.rung
    )


def apply_climb_flip(m: Moment, f: Flip) -> bool:
    """Whether the rung is still climbed with the flip's input changed (through the rules, not ClimbCase)."""
    case = m.case
    assert isinstance(case, ClimbCase)
    group = {t.name: t.group for t in m.terms}.get(f.term)
    if f.lever == "win probability":
        return climbs(case, win_prob=f.to_value)
    if f.lever == "cost draw":
        return climbs(case, cost=f.to_value)
    if f.lever == "threats against it":
        return climbs(case, threat=f.to_value)
    if f.lever == "talks to come":
        return climbs(case, talks=f.to_value)
    if f.lever == "noise (standard deviations)":
        return climbs(case, noise=f.to_value * case.sigma)
    if group == "noise":
        return climbs(case, noise=f.to_value)
    if group == "war":
        return climbs(case, war_offset=f.to_value - f.from_value)
    assert group == "peace" and f.lever == "expected loss if the target attacks", f
    return climbs(case, threatened=f.to_value)


def answer(case: AnswerCase, **ch: Any) -> bool:
    """The answer re-made with ``acceptance.evaluate`` from the recorded inputs."""
    side = replace(case.side, **{k: ch[k] for k in ("trust", "war_value") if k in ch})
    ev = evaluate(
        side,
        ch.get("outcome", case.outcome),
        ch.get("include", case.include),
        case.baseline,
        case.compliance,
        case.open_issues,
        ch.get("private_cost", case.private_cost),
        case.binding,
        case.legal_boost,
        case.ultimatum,
    )
    return ev.accepted


def apply_answer_flip(m: Moment, f: Flip, issues: list[str]) -> bool:
    case = m.case
    assert isinstance(case, AnswerCase)
    if f.lever.startswith("outcome on "):
        x = case.outcome.copy()
        x[issues.index(f.lever.removeprefix("outcome on "))] = f.to_value
        return answer(case, outcome=x)
    if f.lever.endswith(" included (0: no, 1: yes)"):
        inc = case.include.copy()
        inc[issues.index(f.lever.split(" ")[0])] = True
        return answer(case, include=inc)
    key = {"trust in the proposer": "trust", "war value": "war_value", "cost draw": "private_cost"}[f.lever]
    return answer(case, **{key: f.to_value})


# --------------------------------------------------------------------------- the acceptance criteria


def test_every_kind_of_moment_is_seen(runs):
    kinds = {(name, m.kind) for name, _, m in all_moments(runs)}
    assert {("2022", "escalation"), ("2022", "rejection")} <= kinds
    assert {("synthetic", k) for k in KINDS} <= kinds


def test_terms_sum_to_the_margin_in_every_moment(runs):
    moments = all_moments(runs)
    assert len(moments) > 200
    worst = max(abs(sum(t.value for t in m.terms) - m.margin) for _, _, m in moments)
    assert worst <= TOL


def test_the_margin_is_measured_from_the_model_own_values(runs):
    """A climb's margin is the model's noisy net war value minus the rung's threshold; an answer's is the
    evaluation's value against its reservation: the recorded decision is reproduced by the rules."""
    for name, seed, m in all_moments(runs):
        if m.kind == "escalation":
            assert climbs(m.case), (name, seed, m.heading())
            assert m.margin >= 0  # the threshold was reached
        else:
            accepted = answer(m.case)
            assert accepted == (m.decision == "accepts")
            if not m.blocks:
                assert (m.margin >= 0) == accepted, (name, seed, m.heading())
            else:
                assert not accepted


def test_the_suggested_flip_flips_the_decision(runs):
    flipped = {k: 0 for k in KINDS}
    for (name, seed), model in runs.items():
        for m in decisive_moments(model):
            f = m.flip
            if f is None:
                continue
            if m.kind == "escalation":
                assert not apply_climb_flip(m, f), (name, seed, m.heading(), f)
            else:
                took = m.decision == "accepts"
                assert apply_answer_flip(m, f, model.issue_ids) != took, (name, seed, m.heading(), f)
            flipped[m.kind] += 1
    assert all(flipped[k] > 0 for k in KINDS), flipped


def test_every_flip_marked_as_flipping_does_and_the_others_do_not(runs):
    for (_, seed), model in list(runs.items())[::3]:
        for m in decisive_moments(model):
            for f in m.flips:
                if m.kind == "escalation":
                    assert apply_climb_flip(m, f) != f.flips, (seed, m.heading(), f)
                else:
                    assert (apply_answer_flip(m, f, model.issue_ids) != (m.decision == "accepts")) == f.flips


def test_a_climb_flip_is_the_margin_and_a_little_more(runs):
    """For a sum every term needs the same change: -margin, past the threshold by a hair."""
    for _, _, m in all_moments(runs):
        if m.kind == "escalation" and m.flip is not None:
            assert m.flip.change == pytest.approx(-m.margin, abs=1e-8)
            assert m.flip.change < -m.margin


def test_the_suggested_flip_is_the_smallest_change_in_range(runs):
    for _, _, m in all_moments(runs):
        if m.flip is not None and m.flip.in_range:
            assert abs(m.flip.change) == min(abs(f.change) for f in m.flips if f.flips and f.in_range)


def test_a_refusal_with_two_blocks_has_no_single_flip(runs):
    seen = 0
    for _, _, m in all_moments(runs):
        if len(m.blocks) > 1:
            assert m.flip is None and "more than one block" in m.flip_text()
            seen += 1
    assert seen


# --------------------------------------------------------------------------- the run is unchanged


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_recording_changes_nothing_in_the_run(runs, name):
    for seed in SEEDS:
        plain = DiplomacyModel(config=SCENARIOS[name], rng=seed).run()
        assert runs[name, seed].result().to_json() == plain.to_json()


def test_war_values_are_the_sum_of_their_stakes_per_issue():
    """The model's war values and ``spoils_by_issue`` share their pieces: the per-issue spoils, weighted by the
    win probability, recompute ``W`` exactly (to rounding) for every pair, as ``dipsim explain`` shows them."""
    model = DiplomacyModel(rng=0)
    for _ in range(10):
        model.step()
    p = model.win_matrix()
    gain, loss = model.spoils_by_issue()
    n = len(model.actor_ids)
    u = lambda i, x: issue_utilities(x, model.position[i], model.salience[i], model.risk[i])  # noqa: E731
    for i in range(n):
        for t in range(n):
            if i == t:
                continue
            again = u(i, model.baseline).sum() + p[i, t] * gain[i, t].sum() + (1 - p[i, t]) * loss[i, t].sum()
            assert again - model.threat_cost[i, t] == pytest.approx(model.war[i, t], abs=1e-12)


def test_climb_threshold_is_where_next_rung_climbs():
    rng = np.random.default_rng(1)
    band, war = 0.1, 4
    for _ in range(2000):
        rung = int(rng.integers(0, war))
        delta = float(rng.normal(-0.2, 0.3))
        theta = climb_threshold(rung, war, band)
        up = next_rung(np.array([rung]), desired_rung(np.array([delta]), war, band))[0] > rung
        if abs(delta - theta) > 1e-12:
            assert up == (delta >= theta)


def test_answer_margin_is_the_rule():
    # The margin explain reports, V + eps - R, is >= 0 exactly when evaluate accepts an unblocked package, with
    # R the status quo or the war option (no table) or the tabulated reservation (ODD 7.7).
    rng = np.random.default_rng(2)
    types = np.linspace(0.0, 1.0, 5)
    for _ in range(2000):
        pos, base, war, cost = rng.uniform(size=4)
        table = keep_table(np.sort(rng.normal(-0.3, 0.3, 5))[::-1])
        side = Side("A", np.array([pos]), np.array([1.0]), 1.0, np.zeros(1), np.ones(1), 1.0, war, ("uniform", 0, 0, 1))
        side = side if rng.integers(2) else replace(side, keep=(types, table))
        x, ult = rng.uniform(size=1), bool(rng.integers(2))
        ev = evaluate(side, x, np.ones(1, bool), np.array([base]), np.ones(1), np.ones(1, bool), cost, False, 0.5, ult)
        assert ev.accepted == (answer_margin(ev) >= 0)


# --------------------------------------------------------------------------- the command line


MOMENT_KEYS = {
    "kind", "step", "date", "actor", "counterpart", "venue", "decision", "reason", "margin", "terms",
    "terms_sum", "flips", "flip", "blocks", "agreement",
}  # fmt: skip
FLIP_KEYS = {"term", "lever", "from_value", "to_value", "change", "flips", "in_range"}


def test_json_shape(capsys):
    code, out, err = cli(capsys, "explain", "--seed", "1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"scenario", "config_sha256", "seed", "outcome", "final_date", "moments"}
    assert doc["seed"] == 1 and doc["scenario"] == "european_security_2022"
    assert doc["moments"]
    for m in doc["moments"]:
        assert set(m) == MOMENT_KEYS
        assert m["kind"] in KINDS
        assert abs(m["terms_sum"] - m["margin"]) <= TOL
        assert abs(sum(t["value"] for t in m["terms"]) - m["margin"]) <= TOL
        assert all(set(t) == {"name", "value", "group", "issue"} for t in m["terms"])
        assert all(set(f) == FLIP_KEYS for f in m["flips"])
        assert m["flip"] is None or (set(m["flip"]) == FLIP_KEYS and m["flip"]["flips"])
    code, again, _ = cli(capsys, "explain", "--seed", "1", "--json")
    assert again == out  # reproducible


def test_text_lists_each_moment_with_terms_margin_and_flip(capsys, tmp_path: Path):
    path = tmp_path / "synthetic.yaml"  # its actors climb (the 2022 scenario's may not, under today's rules)
    path.write_text(yaml.safe_dump(synthetic()), encoding="utf-8")
    code, out, err = cli(capsys, "explain", str(path), "--only", "escalation")
    assert code == 0, err
    assert "ESCALATION" in out and "REJECTION" not in out
    blocks = [b for b in out.split("\n\n") if "ESCALATION" in b]
    assert blocks and all("margin" in b and "flip: " in b and "cost draw" in b for b in blocks)


def test_only_filters_kinds(capsys):
    code, out, _ = cli(capsys, "explain", "--only", "rejection", "--json")
    assert code == 0
    assert {m["kind"] for m in json.loads(out)["moments"]} == {"rejection"}


def test_missing_file_exits_2_naming_it(capsys, tmp_path: Path):
    path = tmp_path / "nope.yaml"
    code, _, err = cli(capsys, "explain", str(path))
    assert code == 2 and str(path) in err and "not found" in err and "Traceback" not in err


def test_invalid_yaml_exits_2_naming_file_and_line(capsys, tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\ncalendar: [1, 2\n  start: {\n", encoding="utf-8")
    code, _, err = cli(capsys, "explain", str(path))
    assert code == 2 and str(path) in err and "line 3" in err


def test_invalid_scenario_exits_2_naming_the_field(capsys, tmp_path: Path):
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8").replace("step_days: 1", "step_days: -1", 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = cli(capsys, "explain", str(path))
    assert code == 2 and str(path) in err and "step_days" in err


@pytest.mark.parametrize("seed", ["-1", "x", str(2**63)])
def test_bad_seed_exits_2(capsys, seed):
    code, _, err = cli(capsys, "explain", "--seed", seed)
    assert code == 2 and "--seed" in err


def test_bad_set_exits_2(capsys):
    code, _, err = cli(capsys, "explain", "--set", "parameters.noise=-3")
    assert code == 2 and "parameters.noise" in err


# --------------------------------------------------------------------------- the page's "why?" view


def test_why_view_renders_the_moment_chosen():
    from sim.viz import components, data
    from sim.viz.app import VizModel
    from tests.widgets import texts

    fresh = VizModel()
    box, rc = solara.render(components.WhyView(fresh), handle_error=False)
    assert "No decisive moment yet" in texts(box)
    rc.close()
    model = VizModel(seed="0")
    model.run()
    moments = data.why_moments(model)
    assert moments == decisive_moments(model)[::-1]
    box, rc = solara.render(components.WhyView(model), handle_error=False)
    text = texts(box)
    newest = moments[0]
    assert newest.heading() in text and "<td>margin</td>" in text and f"flip: {newest.flip_text()}" in text
    for t in newest.terms:
        assert f"<td>{t.name}</td>" in text
    rc.close()
    table = data.why_table(newest)
    assert list(table["term"])[-1] == "margin"
    assert table["value"].iloc[:-1].sum() == pytest.approx(table["value"].iloc[-1], abs=TOL)
