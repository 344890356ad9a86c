"""The one account of what an actor compares war with (sim/rules/values.py, ODD 7.14, design §3.1 and §3.6),
through the model: Fearon's (1995) expected utility of an offer as the value of a meeting ahead, nothing from
talks that cannot settle anything, and the talks' worth never negative off an ultimatum, on every crisis of
the library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.loading import load_scenario
from sim.messages import ScenarioError
from sim.model import DiplomacyModel
from sim.scenario import Scenario
from sim.yamlio import load_yaml

REPO = Path(__file__).resolve().parent.parent
FEARON = REPO / "configs" / "validation" / "fearon_p060.yaml"
P, H, C_A = 0.6, 0.3, 0.1  # the file's p, B's cost prior U[0, H] and A's known cost
TOL = 1e-9


def fearon_meeting(fmt: str, **red_lines: tuple[float, float]) -> Scenario:
    """fearon_p060.yaml with its one venue moved to day 1 (so that on day 0 it lies ahead) in format ``fmt``."""
    raw: dict[str, Any] = load_yaml(FEARON.read_text())
    raw["venues"][0].update(date="2000-01-02", format=fmt)
    for a in raw["actors"]:
        if a["id"] in red_lines:
            a["positions"]["x"]["red_line"] = list(red_lines[a["id"]])
    return Scenario.model_validate(raw)


def fearon_utility(y: float) -> float:
    """A's expected utility of the offer B's types ``c >= y`` accept (Fearon 1995; A's utility is ``x - 1``):
    ``S(y)(p + y - 1) + (1 - S(y))(p - 1 - c_A)`` with ``S(y) = 1 - y/H``."""
    S = 1.0 - y / H
    return S * (P + y - 1.0) + (1.0 - S) * (P - 1.0 - C_A)


@pytest.mark.parametrize("fmt", ["bilateral", "ultimatum"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_meeting_ahead_is_worth_fearons_expected_utility(fmt: str, seed: int) -> None:
    """A proposes at the meeting tomorrow: its value of not attacking today is its expected utility of the
    optimal offer, x* = p + (H - c_A)/2, i.e. the cut-off y* = (H - c_A)/2 (Fearon 1995; design §4a). B, whose
    belief on A's cost is a point, gets max(what the offer gives it, its fallback): -p - y* against -p - c_B."""
    model = DiplomacyModel(fearon_meeting(fmt), rng=seed)
    v = model.dyad_values(0)
    y = (H - C_A) / 2.0
    assert v.calm[0, 1] == pytest.approx(fearon_utility(y), abs=TOL)
    assert fearon_utility(y) == pytest.approx(-0.3 - 0.2 / 3.0, abs=TOL)  # -0.36667: the closed form by hand
    assert v.fallback[0, 1] == pytest.approx(-1.0, abs=TOL)  # B never attacks (it has nothing to gain): U_A(b)
    assert v.talks[0, 1]
    c_B = model.private_cost[1]
    assert v.fallback[1, 0] == pytest.approx(-P - c_B, abs=TOL)  # A attacks if talks fail (c_A < p): W^d - c_B
    assert v.calm[1, 0] == pytest.approx(max(-P - y, -P - c_B), abs=TOL)
    assert v.talks[1, 0] == (c_B > y + TOL)


def test_no_meeting_ahead_leaves_the_fallback() -> None:
    """With the venue on day 0 nothing lies ahead of day 0's ladder: K = F and the talks are worth 0; A then
    compares its war, p - 1 - c_A, with the status quo, -1, and attacks (Fearon's no-bargaining case)."""
    model = DiplomacyModel(FEARON, rng=0)
    v = model.dyad_values(0)
    np.testing.assert_array_equal(v.calm, v.fallback)
    assert not v.talks.any() and not v.option.any()
    assert v.calm[0, 1] == pytest.approx(-1.0, abs=TOL)
    assert model.war[0, 1] - model.private_cost[0] - v.calm[0, 1] == pytest.approx(P - C_A, abs=TOL)


def test_talks_whose_red_lines_never_meet_are_worth_nothing() -> None:
    """Item 6 of the issue: A will take no less than 0.8 of x, B will give no more than 0.1: the meeting ahead
    can settle nothing, so both compare war with the fallback alone."""
    model = DiplomacyModel(fearon_meeting("bilateral", A=(0.8, 1.0), B=(0.0, 0.1)), rng=0)
    v = model.dyad_values(0)
    assert model.attackable[0, 1]  # there is still something to fight over
    np.testing.assert_array_equal(v.calm, v.fallback)
    assert not v.talks.any()
    # The same file with red lines that meet: the talks are worth something to A again.
    assert DiplomacyModel(fearon_meeting("bilateral", A=(0.5, 1.0), B=(0.0, 0.9)), rng=0).dyad_values(0).talks[0, 1]


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "crises").glob("*.yaml")), ids=lambda p: p.stem)
def test_talks_never_lower_the_value_of_waiting_off_an_ultimatum(path: Path) -> None:
    """On the first day of every crisis of the library, for every pair: the talks' worth is 0 without a meeting
    ahead that can settle something; off an ultimatum it is >= 0 and, where the actor could attack, waiting for
    the meeting is worth at least attacking now (design §3.6: C >= max(W^a - c, F) there)."""
    model = DiplomacyModel(path, rng=0)
    v = model.dyad_values(0)
    meeting = model.next_meeting(0)
    assert not v.talks[~meeting.exists].any()
    assert (v.option[~v.talks] == 0.0).all()
    off = ~meeting.ultimatum
    assert (v.option[off] >= -TOL).all()
    attack_now = model.war - model.private_cost[:, None]
    ok = v.talks & off & model.attackable
    assert (v.calm[ok] >= attack_now[ok] - TOL).all()


@pytest.mark.parametrize("name", ["talks_value", "patience_days"])
def test_a_removed_parameter_is_an_error_that_names_its_replacement(tmp_path: Path, name: str) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(FEARON.read_text().replace("parameters:\n  noise: 0", f"parameters:\n  noise: 0\n  {name}: 1.0"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert str(path) in text and "parameters" in text and name in text
    assert "removed" in text and "next meeting" in text


def test_the_tables_at_the_table_are_the_two_period_game() -> None:
    """What B keeps by rejecting A's package today, and what A keeps if B does, with A's offer tomorrow (ODD 7.7,
    7.8; design §4b's day 0 with no holding cost). A rejection tells A that c_B < c, so tomorrow A offers
    y*(c) = max(0, (c - c_A)/2) on U[0, c) and B keeps R_B(c) = max(-p - y*(c), -p - c) (A attacks if talks fail);
    A keeps N_A(theta) = E_2(theta) - 1 = p - 1 - c_A + (theta + c_A)^2 / (4 theta) for theta > c_A, else p - 1
    (Fearon's offer on the truncated prior). Swapping the pair's indices would give other numbers."""
    model = DiplomacyModel(fearon_meeting("bilateral"), rng=0)
    types, keep = model.reservation(0, 1, 0)  # B answers A
    assert types[0] == 0.0 and types[-1] == pytest.approx(H)
    y = np.maximum(0.0, (types - C_A) / 2.0)
    np.testing.assert_allclose(keep, np.maximum(-P - y, -P - types), rtol=0, atol=TOL)
    grid, no_deal = model.no_deal_table(0, 0, 1)  # A proposes to B
    np.testing.assert_array_equal(grid, types)
    theta = np.maximum(grid, C_A)
    np.testing.assert_allclose(no_deal, P - 1.0 - C_A + (theta + C_A) ** 2 / (4.0 * theta), rtol=0, atol=TOL)


def test_a_rejection_that_teaches_nothing_leaves_the_tables_on_the_current_posterior() -> None:
    """The same game with B a hard-liner, whose answers observers do not learn from (ODD 7.8, 7.20): A's offer
    tomorrow is then made on the prior U[0, H] whatever B does today, y* = (H - c_A)/2, so B keeps
    max(-p - y*, -p - c) and A keeps E_2(H) - 1 = p - 1 - c_A + (H + c_A)^2 / (4 H) at every cut-off."""
    raw: dict[str, Any] = load_yaml(FEARON.read_text())
    raw["venues"][0].update(date="2000-01-02", format="bilateral")
    raw["actors"][1]["policy"] = "hardliner"
    model = DiplomacyModel(Scenario.model_validate(raw), rng=0)
    assert not model.teaches(1, 0) and DiplomacyModel(fearon_meeting("bilateral"), rng=0).teaches(1, 0)
    types, keep = model.reservation(0, 1, 0)
    np.testing.assert_allclose(keep, np.maximum(-P - (H - C_A) / 2.0, -P - types), rtol=0, atol=TOL)
    _, no_deal = model.no_deal_table(0, 0, 1)
    np.testing.assert_allclose(no_deal, P - 1.0 - C_A + (H + C_A) ** 2 / (4.0 * H), rtol=0, atol=TOL)
