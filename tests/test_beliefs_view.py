"""The page's beliefs view (issue 11): ``sim.viz.data.beliefs_over_time`` checked against the model's belief
arrays and against the priors' CDFs inverted by bisection, its caption, and ``BeliefsView`` rendered with
``solara.render`` for the 2022 scenario (nothing learnt in its first days), a scenario whose answers teach something
(``tests.test_explain.synthetic``: uniform, triangular and fixed cost priors) and one where an observer has nothing
to learn (every other actor's cost fixed).
"""

from __future__ import annotations

from typing import Any

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara
import yaml

from sim.viz import components, data
from sim.viz.app import VizModel
from tests.test_explain import synthetic
from tests.widgets import all_widgets, texts

VALIDATION = "validation/fearon_p060.yaml"  # A: fixed cost, B: uniform
NOTHING_YET = "has learnt nothing yet"
LEARNT = "has learnt about each actor's cost of war from its answers"


def learnt_anything(model: Any) -> bool:
    """Whether any belief has moved off the prior (the quantile interval [0, 1])."""
    return bool((model.belief_lo > 0).any() or (model.belief_hi < 1).any())


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory) -> VizModel:
    """The synthetic scenario on the page, stepped until an answer has taught something, then two days more: the
    first of seeds 0-9 whose run learns (a run can end in war before any answer teaches)."""
    path = tmp_path_factory.mktemp("beliefs") / "synthetic.yaml"
    path.write_text(yaml.safe_dump(synthetic()), encoding="utf-8")
    for seed in range(10):
        model = VizModel(scenario_path=str(path), seed=str(seed))
        assert not learnt_anything(model)
        while model.running and not learnt_anything(model):
            model.step()
        if learnt_anything(model):
            break
    assert learnt_anything(model), "a synthetic run must learn, else these tests check nothing"
    for _ in range(2):
        model.step()
    return model


def reference_quantile(model: Any, i: int, u: np.ndarray) -> np.ndarray:
    """``F^-1(u)`` of actor ``i``'s cost prior by bisection on its CDF as ODD 7.19 writes it (independent of
    ``sim.rules.beliefs``'s closed-form quantiles): uniform ``(y - L)/(H - L)``; triangular
    ``(y - L)^2/((H - L)(M - L))`` up to M, ``1 - (H - y)^2/((H - L)(H - M))`` above. A triangle's CDF is flat
    at its ends, so there the result is exact only to about sqrt(machine epsilon) (H - L), ~1e-8 here."""
    kind, low, mode, high = model.priors.prior(i)

    def cdf(y: np.ndarray) -> np.ndarray:
        if kind == "uniform":
            return (y - low) / (high - low)
        assert kind == "triangular"
        left = (y - low) ** 2 / ((high - low) * (mode - low))
        return np.where(y <= mode, left, 1 - (high - y) ** 2 / ((high - low) * (high - mode)))

    a, b = np.full_like(u, low), np.full_like(u, high)
    for _ in range(60):  # the bracket halves each time: (H - L) / 2^60 at the end
        mid = (a + b) / 2
        below = cdf(mid) < u
        a, b = np.where(below, mid, a), np.where(below, b, mid)
    return (a + b) / 2


# --------------------------------------------------------------------------- the data


def test_rows_only_for_other_actors_with_a_prior_to_learn(taught):
    df = data.beliefs_over_time(taught)
    assert list(df.columns) == data.BELIEF_COLUMNS
    kinds = dict(zip(taught.actor_ids, taught.priors.kind, strict=True))
    assert {a for a in kinds if kinds[a] != "fixed"} == set(df["actor"]) == {"A", "B"}  # C's cost is fixed
    assert not (df["observer"] == df["actor"]).any()
    # Each observer's pairs: A -> B, B -> A, C -> A, C -> B, at every step from the prior (-1) to the last.
    assert sorted(set(df["step"])) == list(range(-1, taught.day))
    pairs = [("A", "B"), ("B", "A"), ("C", "A"), ("C", "B")]
    for _, rows in df.groupby("step"):
        assert sorted(zip(rows["observer"], rows["actor"], strict=True)) == pairs
    first = df[df["step"] == -1]
    assert (first["q_lo"] == 0).all() and (first["q_hi"] == 1).all()
    assert (first["date"] == data.day_before_start(taught)).all()


def test_bounds_are_the_models_beliefs_at_the_last_step_and_contain_the_mean(taught):
    df = data.beliefs_over_time(taught)
    last = df[df["step"] == taught.day - 1]
    for row in last.itertuples():
        k, i = taught.index_of[row.observer], taught.index_of[row.actor]
        assert (row.q_lo, row.q_hi) == (taught.belief_lo[k, i], taught.belief_hi[k, i])
    assert ((last["q_lo"] > 0) | (last["q_hi"] < 1)).any()  # something was learnt: the check below is not vacuous
    assert (df["cost_lo"] <= df["cost_mean"] + 1e-12).all() and (df["cost_mean"] <= df["cost_hi"] + 1e-12).all()
    assert (df["cost_lo"] < df["cost_hi"]).all()  # answers never pin a cost down here


def test_costs_against_the_inverted_cdf(taught):
    """Bounds are the prior's quantiles at q_lo and q_hi, the mean the average quantile over [q_lo, q_hi)
    (midpoint rule on 20,000 points; the quantile functions are smooth inside (0, 1), and the triangle's square-root
    end adds at most ~1e-8 here)."""
    df = data.beliefs_over_time(taught)
    for row in df.drop_duplicates(["actor", "q_lo", "q_hi"]).itertuples():
        i = taught.index_of[row.actor]
        lo, hi = reference_quantile(taught, i, np.array([row.q_lo, row.q_hi]))
        assert (row.cost_lo, row.cost_hi) == pytest.approx((lo, hi), abs=1e-8)
        u = row.q_lo + (np.arange(20_000) + 0.5) / 20_000 * (row.q_hi - row.q_lo)
        assert row.cost_mean == pytest.approx(reference_quantile(taught, i, u).mean(), abs=1e-7)


def test_one_observers_rows_are_the_whole_frames(taught):
    df = data.beliefs_over_time(taught)
    for observer in taught.actor_ids:
        mine = data.beliefs_over_time(taught, observer).reset_index(drop=True)
        whole = df[df["observer"] == observer].reset_index(drop=True)
        assert mine.equals(whole)


def test_the_prior_before_the_first_step_and_nothing_when_all_is_fixed():
    fresh = data.beliefs_over_time(VizModel())
    # Seven actors have a cost to learn (OSCE's is fixed), each learnt about by the seven others.
    assert set(fresh["step"]) == {-1} and len(fresh) == 7 * 7
    model = VizModel(scenario_file=VALIDATION)
    assert data.beliefs_over_time(model, "B").empty  # A's cost is fixed: B has nothing to learn
    assert list(data.beliefs_over_time(model, "A")["actor"]) == ["B"]


def test_captions(taught):
    assert data.beliefs_caption(taught, "A").startswith(f"What A {LEARNT}")  # A learnt about B's cost
    assert NOTHING_YET in data.beliefs_caption(taught, "B")  # A's answers have taught nothing about A
    assert data.beliefs_caption(VizModel(), "RUS").startswith(f"RUS {NOTHING_YET}")
    fixed = VizModel(scenario_file=VALIDATION)
    assert "fixed in the scenario: B has nothing to learn" in data.beliefs_caption(fixed, "B")


# --------------------------------------------------------------------------- the view


def images(box: Any) -> list[bytes]:
    return [w.value for w in all_widgets(box) if isinstance(w, ipywidgets.Image)]


def choose_observer(rc: Any, observer: str) -> None:
    select = next(w for w in rc.find(v.Select).widgets if w.label == "observer")
    select.v_model = observer


def test_view_for_2022_after_a_few_steps():
    model = VizModel()
    for _ in range(5):
        model.step()
    box, rc = solara.render(components.BeliefsView(model), handle_error=False)
    assert f"RUS {NOTHING_YET}" in texts(box)
    assert [png[:4] for png in images(box)] == [b"\x89PNG"]
    choose_observer(rc, "UKR")
    assert f"UKR {NOTHING_YET}" in texts(box) and "RUS has" not in texts(box)
    rc.close()


def test_view_for_a_scenario_whose_answers_teach(taught):
    box, rc = solara.render(components.BeliefsView(taught), handle_error=False)
    text = texts(box)
    assert f"What A {LEARNT}; the band is the posterior's support" in text
    assert len(images(box)) == 1
    choose_observer(rc, "B")
    assert f"B {NOTHING_YET}" in texts(box) and len(images(box)) == 1
    rc.close()


def test_view_without_anything_to_learn_draws_no_figure():
    model = VizModel(scenario_file=VALIDATION)
    model.step()
    box, rc = solara.render(components.BeliefsView(model), handle_error=False)
    assert data.beliefs_caption(model, "A") in texts(box) and len(images(box)) == 1
    choose_observer(rc, "B")
    assert "B has nothing to learn" in texts(box) and images(box) == []
    rc.close()


def test_figure_keeps_the_actors_learnt_most_about(monkeypatch, taught):
    from sim.viz import figures

    last = data.beliefs_over_time(taught, "C").query(f"step == {taught.day - 1}")
    width = dict(zip(last["actor"], last["q_hi"] - last["q_lo"], strict=True))
    assert len(width) == 2 and width["A"] != width["B"]  # C has two actors to learn about, one learnt more about
    monkeypatch.setattr(figures, "MAX_BELIEF_PANELS", 1)
    fig = figures.beliefs_figure(taught, "C")
    shown = [ax.get_title().split(" ")[0] for ax in fig.axes if ax.get_visible()]
    assert shown == [min(width, key=width.get)]
    assert "1 of 2 actors" in fig.texts[0].get_text()
    fig = figures.beliefs_figure(taught, "A")
    assert "each actor" in fig.texts[0].get_text()
