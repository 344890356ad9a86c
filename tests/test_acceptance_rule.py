"""One acceptance rule: the side's own decision, the proposer's belief and move scoring agree.

``evaluate`` (one side, one package, known cost), the batch of ``Sides`` (many sides, many
packages), the proposer's belief ``group_probabilities`` with the side's true cost as a fixed
prior, and the incremental move scoring of ``best_package`` (``_Moves``) against
``expected_utility``, on random sides and packages with red lines, linkage, ultimatums and
legally binding forms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.rules.acceptance import Evaluation, Side, Sides, acceptance, crossings, evaluate, known_war_option
from sim.rules.bargaining import Group, Problem, _Moves, _Stacked, expected_utility, group_probabilities

TOL = 1e-12
# derandomize: the same examples on every run, so a failure is reproducible and a pass means the same.
RULE = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

unit = st.floats(0.0, 1.0)


@dataclass(frozen=True)
class Case:
    """Sides facing a batch of packages (K, m), and what the venue says about them."""

    sides: list[Side]
    costs: np.ndarray  # (S,) each side's private cost of war
    baseline: np.ndarray
    compliance: np.ndarray
    open_issues: np.ndarray
    values: np.ndarray  # (K, m)
    include: np.ndarray  # (K, m)
    binding: bool
    ultimatum: bool
    legal_boost: float

    @property
    def outcome(self) -> np.ndarray:
        return np.where(self.include, self.values, self.baseline)

    def answer(self, side: Side, k: int, s: int) -> Evaluation:
        """Side ``side`` (the ``s``-th, for its cost) answers package ``k``."""
        return evaluate(
            side,
            self.outcome[k],
            self.include[k],
            self.baseline,
            self.compliance,
            self.open_issues,
            private_cost=float(self.costs[s]),
            binding=self.binding,
            legal_boost=self.legal_boost,
            ultimatum=self.ultimatum,
        )

    def problem(self, sides: list[Side], members: int = 0, **kw: object) -> Problem:
        """Sides as groups (the first ``members`` + 1 as one bloc), proposed to by the first side."""
        head, rest = sides[: members + 1], sides[members + 1 :]
        groups = (Group(head=head[0], members=tuple(head[1:]), rule="majority"), *(Group(head=s) for s in rest))
        return Problem(
            proposer=sides[0],
            groups=groups,
            baseline=self.baseline,
            open_issues=self.open_issues,
            compliance=self.compliance,
            allowed=[None] * self.baseline.size,
            no_deal=-0.5,
            ultimatum=self.ultimatum,
            legal_boost=self.legal_boost,
            **kw,  # type: ignore[arg-type]
        )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    m, n_sides, k = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4))

    def vec(size: int, elements: st.SearchStrategy[float] = unit) -> np.ndarray:
        return np.array(draw(st.lists(elements, min_size=size, max_size=size)), dtype=float)

    def flags(size: int) -> np.ndarray:
        return np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool)

    sides = []
    for s in range(n_sides):
        ends = np.sort(np.stack([vec(m), vec(m)]), axis=0)
        red = flags(m)  # where the side has a red line; elsewhere [0, 1]
        low = draw(st.floats(0.0, 1.0))
        sides.append(
            Side(
                id=f"S{s}",
                position=vec(m),
                salience=vec(m),
                risk=draw(st.sampled_from([1.0, 1.0, 0.5, 1.5, 2.0])),
                red_low=np.where(red, ends[0], 0.0),
                red_high=np.where(red, ends[1], 1.0),
                trust=draw(unit),
                war_value=draw(st.floats(-3.0, 0.5)),
                prior=draw(
                    st.sampled_from([("uniform", low, low, low + 0.5), ("triangular", low, low + 0.2, low + 0.6)])
                ),
                values_legal_form=draw(unit),
                binding_cost=draw(st.floats(0.0, 0.3)),
                linkage=frozenset(draw(st.sets(st.integers(0, m - 1), max_size=2))),
            )
        )
    return Case(
        sides=sides,
        costs=vec(n_sides, st.floats(0.0, 2.0)),
        baseline=vec(m),
        compliance=vec(m),
        open_issues=flags(m),
        values=np.stack([vec(m) for _ in range(k)]),
        include=np.stack([flags(m) for _ in range(k)]),
        binding=draw(st.booleans()),
        ultimatum=draw(st.booleans()),
        legal_boost=draw(unit),
    )


@RULE
@given(cases())
def test_the_decision_is_the_batch_of_one(case: Case) -> None:
    """``evaluate`` on one side and one package = the rule on the whole batch (K packages x S sides)."""
    sides = Sides(case.sides, case.baseline)
    x, inc = case.outcome, case.include
    value = sides.u_base_sum + sides.changes(x, inc, case.compliance, sides.trust_eff(case.binding, case.legal_boost))
    crossed = crossings(x[:, None, :], inc[:, None, :], sides.lo, sides.hi)
    missing = sides.linked & case.open_issues & ~inc[:, None, :]
    blocked = crossed.any(axis=-1) | missing.any(axis=-1)
    war = sides.war - case.costs
    accepted = acceptance(value, sides.u_base_sum, known_war_option(war), blocked, case.ultimatum)
    for k in range(x.shape[0]):
        for s, side in enumerate(case.sides):
            ev = case.answer(side, k, s)
            assert ev.value == pytest.approx(value[k, s], rel=0, abs=TOL)
            assert ev.status_quo_value == pytest.approx(sides.u_base_sum[s], rel=0, abs=TOL)
            assert ev.war_option == war[s]
            assert ev.accepted == bool(accepted[k, s])
            assert ev.crossed_red_lines == np.flatnonzero(crossed[k, s]).tolist()
            assert ev.missing_linkage == np.flatnonzero(missing[k, s]).tolist()
            assert ev.trust_discount >= -TOL  # distrust never adds value


@RULE
@given(cases())
def test_the_belief_with_a_known_cost_is_the_decision(case: Case) -> None:
    """A proposer who knew each side's cost (a fixed prior at it) would predict exactly its answer.

    Two documented gaps: the belief leaves out the sides' linkage, and the side itself accepts a
    package worth its war option up to rounding (1e-12) -- so linkage and near-ties are skipped."""
    known = [replace(s, prior=("fixed", c, c, c)) for s, c in zip(case.sides, case.costs, strict=True)]
    prob = case.problem(known, red_lines_public=True)
    belief = group_probabilities(prob, case.values, case.include, case.binding)
    for k in range(case.values.shape[0]):
        for s, side in enumerate(known):
            ev = case.answer(side, k, s)
            if ev.missing_linkage or abs(ev.value - ev.war_option) < 1e-9:
                continue
            assert belief[k, s] == float(ev.accepted)


@RULE
@given(cases(), st.sampled_from(["unanimity", "majority"]), st.booleans(), st.integers(0, 2**32 - 1))
def test_move_scoring_is_expected_utility(case: Case, rule: str, public: bool, seed: int) -> None:
    """``_Moves`` (incremental sums over issues) gives ``expected_utility``'s numbers, for the
    package and for every single-coordinate move from it (bloc members and venue rules included)."""
    members = min(2, len(case.sides) - 1)
    prob = case.problem(case.sides, members, venue_rule=rule, red_lines_public=public)
    st_ = _Stacked(prob)
    mv = _Moves(prob, st_, case.binding, broker=False)
    x, inc = case.values[0], case.include[0]
    eu = expected_utility(prob, x[None], inc[None], case.binding, st_)[0][0]
    assert mv.value(x, inc) == pytest.approx(eu, rel=0, abs=TOL)
    rng = np.random.default_rng(seed)
    n = 8
    j, v, v_in = rng.integers(0, x.size, n), rng.random(n), rng.random(n) < 0.7
    xs, incs = np.repeat(x[None], n, axis=0), np.repeat(inc[None], n, axis=0)
    xs[np.arange(n), j], incs[np.arange(n), j] = v, v_in
    expected = expected_utility(prob, xs, incs, case.binding, st_)[0]
    np.testing.assert_allclose(mv.evaluate(x, inc, mv.table(j, v, v_in)), expected, rtol=0, atol=TOL)
