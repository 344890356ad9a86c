"""Costs on one scale (sim/rules/costs.py, design §3.3): the rubric rows against docs/authoring.md §7, the dyad's
row, dyadic private costs and their priors, holding, audience and sanctions costs; hand cases, loop references
and properties."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rules import beliefs
from sim.rules.costs import (
    RUBRIC_ROWS,
    audience_costs,
    cost_quantile,
    dyad_costs,
    dyad_prior,
    dyad_rows,
    holding_costs,
    sanctions_costs,
)

AUTHORING = Path(__file__).resolve().parent.parent / "docs" / "authoring.md"
RULE = settings(max_examples=60, deadline=None, derandomize=True)
SETS = settings(max_examples=40, deadline=None, derandomize=True)  # whole actor sets, checked pair by pair
NAMES = list(RUBRIC_ROWS)
# The protocol's ladder (authoring §3, Rivera et al. 2024): de-escalation, status quo (baseline), posturing,
# non-violent, violent (war), nuclear.
SCORES = np.array([-2.0, 0.0, 4.0, 12.0, 28.0, 60.0])
BASELINE, WAR = 1, 4


# --- the rows ----------------------------------------------------------------------------------------------------


def test_rubric_rows_are_authoring_section_7() -> None:
    """RUBRIC_ROWS holds the (a, b) of authoring §7's table, in its order (the first row that applies wins)."""
    section = AUTHORING.read_text(encoding="utf-8").partition("## 7. Cost of war")[2].partition("\n## ")[0]
    assert section, "docs/authoring.md has no section 7"
    table = [(float(a), float(b)) for a, b in re.findall(r"^\| \(([\d.]+), ([\d.]+)\) \|", section, re.MULTILINE)]
    assert table == list(RUBRIC_ROWS.values())
    assert NAMES == ["nuclear", "own_territory", "comparable", "expeditionary"]


def test_dyad_rows_by_hand() -> None:
    cap = np.array([3.0, 1.0, 1.0, 0.25, 0.0, 0.0])
    nuc = np.array([False, False, True, True, False, False])
    rows = dyad_rows(cap, nuc)
    assert rows[0, 1] == "comparable"  # a ratio of exactly 3 is within 1:3
    assert rows[1, 0] == "own_territory"  # the weaker side
    assert rows[1, 2] == rows[2, 1] == "comparable"  # equal capabilities, one side nuclear
    assert rows[2, 3] == rows[3, 2] == "nuclear"  # both nuclear: whatever the ratio (4:1 here)
    assert rows[1, 3] == "expeditionary" and rows[3, 1] == "own_territory"  # 4:1
    assert rows[0, 4] == "expeditionary" and rows[4, 0] == "own_territory"  # against capability 0
    assert rows[4, 5] == "comparable"  # 0 against 0: equal


def test_ratio_of_three_in_decimals() -> None:
    """Shares are written to 3 decimals: 0.9 : 0.3 is exactly 3 to the author (in floats 0.9 > 3 * 0.3)."""
    rows = dyad_rows(np.array([0.9, 0.3, 0.2999, 0.301]), np.zeros(4, dtype=bool))
    assert 0.9 > 3 * 0.3  # the rounding the slack absorbs
    assert rows[0, 1] == "comparable"
    assert rows[0, 2] == "expeditionary"  # just beyond 3:1
    assert rows[0, 3] == "comparable"


def reference_row(k_i: int, k_t: int, nu_i: bool, nu_t: bool) -> str:
    """Authoring §7's table read row by row, on integer capabilities (thousandths): exact arithmetic."""
    if nu_i and nu_t:
        return "nuclear"
    if k_i < k_t:
        return "own_territory"
    if k_i <= 3 * k_t:
        return "comparable"
    return "expeditionary"


@RULE
@given(st.lists(st.tuples(st.integers(0, 1000), st.booleans()), min_size=1, max_size=8))
def test_dyad_rows_equal_loop_reference(actors: list[tuple[int, bool]]) -> None:
    """Vectorised rows = the table read pair by pair (capability shares in thousandths, as the protocol writes);
    the nuclear row is symmetric and of two unequal non-nuclear sides exactly the weaker fights at home."""
    k = np.array([a[0] for a in actors])
    nu = np.array([a[1] for a in actors])
    rows = dyad_rows(k / 1000.0, nu)
    n = len(actors)
    for i in range(n):
        for t in range(n):
            assert rows[i, t] == reference_row(k[i], k[t], nu[i], nu[t])
            assert (rows[i, t] == "nuclear") == (rows[t, i] == "nuclear")
            if rows[i, t] != "nuclear" and k[i] != k[t]:
                assert (rows[i, t] == "own_territory") != (rows[t, i] == "own_territory")


# --- dyadic private costs ----------------------------------------------------------------------------------------


def test_dyad_costs_by_hand() -> None:
    rows = np.array(
        [
            ["comparable", "comparable", "expeditionary", "comparable"],
            ["own_territory", "comparable", "nuclear", "comparable"],
            ["comparable", "nuclear", "expeditionary", "comparable"],
            ["comparable", "comparable", "comparable", "expeditionary"],
        ]
    )
    cost = np.array([0.7, 0.9, 0.3, 0.0])
    q = np.array([0.25, 0.5, 1.0, 0.5])
    stake = np.array([2.0, 1.0, 1.5, 0.0])
    kind = np.array(["uniform", "uniform", "uniform", "fixed"])
    low, high = np.array([0.4, 0.5, 0.15, 0.0]), np.array([1.2, 1.0, 0.6, 0.0])
    c = dyad_costs(cost, q, stake, ["comparable", "", "expeditionary", "expeditionary"], rows, kind, low, high)
    expected = [
        [0.7, 0.7, 2.0 * (0.1 + 0.25 * 0.3), 0.7],  # own row: c_0; expeditionary at q = 0.25: 2 * 0.175
        [0.9, 0.9, 0.9, 0.9],  # no file row: c_1 everywhere
        [1.5 * 0.6, 1.5 * 2.0, 0.3, 1.5 * 0.6],  # q = 1: the top of each row's prior
        [0.0, 0.0, 0.0, 0.0],  # fixed: no type, its cost everywhere
    ]
    assert np.allclose(c, expected, rtol=0.0, atol=1e-15)


def test_unknown_row_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown rubric rows"):
        dyad_costs(np.ones(1), np.ones(1), np.ones(1), ["territory"], np.array([["comparable"]]), ["uniform"], [0], [1])


@st.composite
def actor_sets(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """n actors with file priors (uniform, triangular or fixed), stakes, file rows (or none) and dyad rows."""
    n = draw(st.integers(1, 6))
    kind, low, mode, high, stake, file_row = [], [], [], [], [], []
    for _ in range(n):
        k = draw(st.sampled_from(["uniform", "triangular", "fixed"]))
        s = draw(st.floats(0.2, 5.0))
        lo = draw(st.floats(0.0, 2.0)) * s
        hi = lo + draw(st.floats(0.05, 2.0)) * s
        kind.append(k)
        stake.append(s)
        low.append(lo)
        mode.append(lo + draw(st.floats(0.0, 1.0)) * (hi - lo) if k == "triangular" else lo)
        high.append(0.0 if k == "fixed" else hi)
        file_row.append(draw(st.sampled_from([None, "", *NAMES])))
    rows = np.array(draw(st.lists(st.sampled_from(NAMES), min_size=n * n, max_size=n * n))).reshape(n, n)
    return {
        "kind": np.array(kind),
        "low": np.array(low),
        "mode": np.array(mode),
        "high": np.array(high),
        "stake": np.array(stake),
        "file_row": np.array(file_row, dtype=object),
        "rows": rows,
    }


def costs_at(a: dict[str, np.ndarray], u: np.ndarray) -> np.ndarray:
    """Dyad costs of the types with quantiles ``u``: c_i = F_i^-1(u_i) and q_i = F_i(c_i), as the model draws."""
    c = beliefs.quantile(a["kind"], a["low"], a["mode"], a["high"], u)
    q = cost_quantile(a["kind"], a["low"], a["mode"], a["high"], c)
    return dyad_costs(c, q, a["stake"], a["file_row"], a["rows"], a["kind"], a["low"], a["high"])


def own_row(a: dict[str, np.ndarray]) -> np.ndarray:
    named = np.array([r or "" for r in a["file_row"]])
    return (named == "")[:, None] | (named[:, None] == a["rows"])


@SETS
@given(actor_sets(), st.data())
def test_own_row_reproduces_the_draw_exactly(a: dict[str, np.ndarray], data: st.DataObject) -> None:
    """Where the file's row applies (or none is named), and for a fixed prior everywhere, c_it is c_i, bit for bit;
    elsewhere it is S_i (a + q_i (b - a)) of the dyad's row."""
    n = a["kind"].size
    u = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    c = beliefs.quantile(a["kind"], a["low"], a["mode"], a["high"], u)
    q = cost_quantile(a["kind"], a["low"], a["mode"], a["high"], c)
    out = dyad_costs(c, q, a["stake"], a["file_row"], a["rows"], a["kind"], a["low"], a["high"])
    keep = own_row(a) | (a["kind"] == "fixed")[:, None]
    for i in range(n):
        for t in range(n):
            lo, hi = RUBRIC_ROWS[a["rows"][i, t]]
            if keep[i, t]:
                assert out[i, t] == c[i]
            else:
                assert np.isclose(out[i, t], a["stake"][i] * (lo + q[i] * (hi - lo)), rtol=1e-14, atol=0.0)


@RULE
@given(st.sampled_from(NAMES), st.sampled_from(NAMES), st.floats(0.1, 6.0), st.floats(0.0, 1.0))
def test_quantile_of_the_same_row_gives_back_the_cost(row: str, file_row: str, stake: float, t: float) -> None:
    """A draw c from a file's prior U[a S, b S] of a row is c again in a dyad of that row, whatever row the file
    names: the row formula S (a + q (b - a)) is the row's prior's quantile function."""
    a, b = RUBRIC_ROWS[row]
    c = a * stake + t * (b - a) * stake
    q = cost_quantile("uniform", a * stake, a * stake, b * stake, np.array([c]))
    args = (np.array([c]), q, np.array([stake]), [file_row], np.array([[row]]), ["uniform"], [a * stake], [b * stake])
    assert abs(dyad_costs(*args)[0, 0] - c) <= 1e-12 * (1.0 + c)


@SETS
@given(actor_sets(), st.data())
def test_costs_are_non_decreasing_in_the_type(a: dict[str, np.ndarray], data: st.DataObject) -> None:
    n = a["kind"].size
    u1 = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    u2 = np.minimum(1.0, u1 + np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))))
    assert np.all(costs_at(a, u1) <= costs_at(a, u2) + 1e-12)


@SETS
@given(actor_sets(), st.data())
def test_dyad_prior_is_the_distribution_of_the_dyad_cost(a: dict[str, np.ndarray], data: st.DataObject) -> None:
    """One type in every dyad: G_it(c_it) = q_i wherever the prior has a type; a fixed prior stays the same atom.
    Also the prior's own kind and bounds where the file's row applies, the row's uniform prior elsewhere."""
    n = a["kind"].size
    u = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    c = beliefs.quantile(a["kind"], a["low"], a["mode"], a["high"], u)
    q = cost_quantile(a["kind"], a["low"], a["mode"], a["high"], c)
    out = dyad_costs(c, q, a["stake"], a["file_row"], a["rows"], a["kind"], a["low"], a["high"])
    g = dyad_prior(a["kind"], a["low"], a["mode"], a["high"], a["stake"], a["file_row"], a["rows"])
    typed = a["kind"] != "fixed"
    assert np.allclose(beliefs.cdf(g.kind, g.low, g.mode, g.high, out)[typed], q[typed][:, None], atol=1e-9)
    keep = own_row(a) | ~typed[:, None]
    for i in range(n):
        for t in range(n):
            prior = (g.kind[i, t], g.low[i, t], g.mode[i, t], g.high[i, t])
            if keep[i, t]:
                assert prior == (a["kind"][i], a["low"][i], a["mode"][i], a["high"][i])
            else:
                lo, hi = RUBRIC_ROWS[a["rows"][i, t]]
                s = a["stake"][i]
                assert prior == ("uniform", lo * s, lo * s, hi * s)
    fixed = ~typed
    assert np.all(g.kind[fixed] == "fixed") and np.all(out[fixed] == c[fixed][:, None])


# --- holding costs -----------------------------------------------------------------------------------------------


def test_holding_costs_by_hand() -> None:
    rung = np.array([[BASELINE, 0], [2, 3]])
    c = np.array([[1.0, 1.0], [0.5, 2.0]])
    h = holding_costs(rung, SCORES, WAR, 0.002, c)
    assert np.allclose(h, [[0.0, 0.0], [0.002 * 4 / 28 * 0.5, 0.002 * 12 / 28 * 2.0]], rtol=0.0, atol=1e-18)


def test_a_ladder_without_positive_war_score_costs_nothing() -> None:
    h = holding_costs(np.array([[0, 1], [1, 0]]), np.array([-5.0, -3.0, -1.0]), 2, 0.1, np.ones((2, 2)))
    assert np.all(h == 0.0)


@st.composite
def ladders(draw: st.DrawFn) -> np.ndarray:
    """Strictly increasing scores whose war rung (index 3) scores above 0, as the protocol's ladders do."""
    steps = draw(st.lists(st.floats(0.5, 20.0), min_size=5, max_size=5))
    start = draw(st.floats(-30.0, -0.5))
    scores = start + np.cumsum([0.0, *steps])
    return scores if scores[3] > 0.0 else scores - scores[3] + 1.0


@RULE
@given(ladders(), st.integers(0, 3), st.integers(0, 3), st.floats(0.0, 1.0), st.floats(0.0, 5.0), st.floats(0.0, 10.0))
def test_holding_cost_is_monotone_in_the_rung_and_proportional_to_the_cost(
    scores: np.ndarray, r1: int, r2: int, mu: float, c: float, k: float
) -> None:
    lo, hi = min(r1, r2), max(r1, r2)
    h = holding_costs(np.array([[lo, hi]]), scores, 3, mu, np.array([[c, c]]))
    assert h[0, 0] <= h[0, 1]
    assert np.all(h >= 0.0)
    assert (h[0, 0] == 0.0) == (scores[lo] <= 0.0 or mu * c == 0.0)  # nothing at or below a score of 0
    scaled = holding_costs(np.array([[lo, hi]]), scores, 3, mu, np.array([[k * c, k * c]]))
    assert np.allclose(scaled, k * h, rtol=1e-12, atol=0.0)


# --- audience and sanctions costs ----------------------------------------------------------------------------------


def test_audience_costs_by_hand() -> None:
    salience = np.array([[1.0, 0.7, 0.4], [0.2, 0.0, 1.0], [0.4, 0.4, 0.4]])
    disputed = np.zeros((3, 3, 3), dtype=bool)
    disputed[0, 1, 0] = True  # 0 against 1 on issue 0
    disputed[1, 0, 2] = True  # 1 against 0 on issue 2: the union for the pair is {0, 2}
    disputed[0, 2, 1] = disputed[2, 0, 1] = True  # both ways on issue 1: counted once
    a = audience_costs(0.25, salience, disputed)
    assert np.allclose(a, [[0.0, 0.25 * 1.4, 0.25 * 0.7], [0.25 * 1.2, 0.0, 0.0], [0.25 * 0.4, 0.0, 0.0]])


@RULE
@given(st.integers(1, 5), st.integers(1, 4), st.floats(0.0, 2.0), st.integers(0, 2**32 - 1))
def test_audience_costs_equal_loop_reference(n: int, m: int, alpha: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    salience, disputed = rng.uniform(0.0, 1.0, (n, m)), rng.uniform(size=(n, n, m)) < 0.4
    a = audience_costs(alpha, salience, disputed)
    for i in range(n):
        for t in range(n):
            issues = {j for j in range(m) if disputed[i, t, j] or disputed[t, i, j]}
            assert abs(a[i, t] - alpha * sum(salience[i, j] for j in issues)) < 1e-12


def test_sanctions_costs_by_hand() -> None:
    """Actor 2 threatens 0 with sanctions protecting 1 and 3 (cost 0.5); actor 3 threatens 0 protecting 1 (0.5);
    actor 1 threatens 2 protecting 3 (cost 1.0). k_it = sum cost * eta_a * S_i."""
    resolve = np.array([0.5, 0.9, 0.2, 0.5])
    stake = np.array([2.0, 1.0, 1.5, 0.8])
    k = sanctions_costs(
        threatener=np.array([2, 2, 3, 1]),
        target=np.array([0, 0, 0, 2]),
        protected=np.array([1, 3, 1, 3]),
        cost=np.array([0.5, 0.5, 0.5, 1.0]),
        resolve=resolve,
        stake=stake,
    )
    expected = np.zeros((4, 4))
    expected[0, 1] = (0.5 * 0.2 + 0.5 * 0.5) * 2.0
    expected[0, 3] = 0.5 * 0.2 * 2.0
    expected[2, 3] = 1.0 * 0.9 * 1.5
    assert np.allclose(k, expected, rtol=0.0, atol=1e-15)
    assert sanctions_costs(np.array([], dtype=int), [], [], [], resolve, stake).tolist() == np.zeros((4, 4)).tolist()
