"""One acceptance rule: the side's own decision, the proposer's belief and move scoring agree.

``evaluate`` (one side, one package, known cost) and the batch of ``Sides`` (many sides, many
packages) against ``reference_evaluate``, the scalar rule as it was written from ODD §7.8 before
it was shared; the proposer's belief ``group_probabilities`` with the side's true cost as a fixed
prior; the belief's status-quo test at a large ``|U(b)|``; and the incremental move scoring of
``best_package`` (``_Moves``) against ``expected_utility``, on random sides and packages with red
lines, linkage, ultimatums and legally binding forms.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.rules.acceptance import (
    ACCEPT_EPS,
    Evaluation,
    Side,
    Sides,
    acceptance,
    answer_cutoff,
    crossings,
    evaluate,
    known_war_option,
)
from sim.rules.bargaining import Group, Problem, _Moves, _Stacked, expected_utility, group_probabilities
from sim.rules.beliefs import posterior_survival
from sim.rules.continuation import keep_table, table_cutoff

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


def reference_package_value(
    side: Side, outcome: np.ndarray, baseline: np.ndarray, compliance: np.ndarray, tau: float
) -> float:
    """ODD §7.1-7.3: ``V(x; tau) = U(b) + sum_j omega_j (u_j(x_j) - u_j(b_j))`` with
    ``u_j(x) = -s_j |x_j - p_j|^r`` and ``omega_j = 1 - kappa_j (1 - tau)`` on gains, 1 on losses."""
    u_base = -side.salience * np.abs(baseline - side.position) ** np.asarray(side.risk, dtype=float)
    gains = -side.salience * np.abs(outcome - side.position) ** np.asarray(side.risk, dtype=float) - u_base
    weight = np.where(gains > 0.0, 1.0 - compliance * (1.0 - tau), 1.0)
    return float(u_base.sum() + (weight * gains).sum(axis=-1))


def reference_evaluate(case: Case, side: Side, k: int, s: int) -> Evaluation:
    """The oracle: ``evaluate`` as it stood before the rule was shared (commit 44c5a67), from ODD §7.8.

    Reject a package that crosses a red line on an included issue, then one that leaves out an open
    linked issue; else accept iff ``V(x; tau_e) + 1e-12 >= R``, ``R = max(U(b), W - c)`` or ``W - c``
    at an ultimatum, with ``tau_e = tau + binding * alpha * v (1 - tau)`` (§7.2)."""
    outcome, include = case.outcome[k], case.include[k]
    outside = (outcome < side.red_low - 1e-9) | (outcome > side.red_high + 1e-9)
    crossed = [int(j) for j in np.flatnonzero(include & outside)]
    missing = [j for j in sorted(side.linkage) if case.open_issues[j] and not include[j]]
    tau_eff = (
        side.trust + case.legal_boost * side.values_legal_form * (1.0 - side.trust) if case.binding else side.trust
    )
    value = reference_package_value(side, outcome, case.baseline, case.compliance, tau_eff)
    undiscounted = reference_package_value(side, outcome, case.baseline, case.compliance, 1.0)
    sq = reference_package_value(side, case.baseline, case.baseline, case.compliance, 1.0)
    war = side.war_value - float(case.costs[s])
    reservation = war if case.ultimatum else max(sq, war)
    if crossed:
        ok, reason = False, "crosses red line"
    elif missing:
        ok, reason = False, "leaves out a linked issue"
    elif value + 1e-12 >= reservation:
        ok, reason = True, "beats the alternative"
    else:
        ok, reason = False, "war is better" if war > sq else "worse than the status quo"
    logged = (value, sq, war, reservation, side.trust, tau_eff, undiscounted - value)
    return Evaluation(side.id, ok, reason, *logged, crossed_red_lines=crossed, missing_linkage=missing)


REFERENCE_FLOATS = [f.name for f in fields(Evaluation) if f.type == "float"]  # value ... trust_discount


@RULE
@given(cases())
def test_the_decision_is_the_reference_rule(case: Case) -> None:
    """``evaluate`` decides as ``reference_evaluate`` (the same answer, reason, red lines crossed and
    linked issues missing) and logs the same numbers up to 1e-12."""
    for k in range(case.values.shape[0]):
        for s, side in enumerate(case.sides):
            ev, ref = case.answer(side, k, s), reference_evaluate(case, side, k, s)
            assert (ev.actor, ev.accepted, ev.reason) == (ref.actor, ref.accepted, ref.reason)
            assert (ev.crossed_red_lines, ev.missing_linkage) == (ref.crossed_red_lines, ref.missing_linkage)
            for name in REFERENCE_FLOATS:
                assert getattr(ev, name) == pytest.approx(getattr(ref, name), rel=0, abs=TOL), name


@RULE
@given(cases())
def test_the_decision_is_the_batch_of_one(case: Case) -> None:
    """``evaluate`` on one side and one package = the rule on the whole batch (K packages x S sides),
    and both give the answer of ``reference_evaluate``."""
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
            ev, ref = case.answer(side, k, s), reference_evaluate(case, side, k, s)
            assert bool(accepted[k, s]) == ref.accepted
            assert value[k, s] == pytest.approx(ref.value, rel=0, abs=TOL)
            assert np.flatnonzero(crossed[k, s]).tolist() == ref.crossed_red_lines
            assert np.flatnonzero(missing[k, s]).tolist() == ref.missing_linkage
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
@given(st.floats(1e3, 1e9), st.floats(-1e-10, 1e-10))
@example(scale=1e4, change=-1.5e-12)  # U(b) + change rounds to within eps of U(b)
@example(scale=1e6, change=-5e-11)  # U(b) + change rounds to U(b)
@example(scale=1e6, change=-1e-12)  # a tie at -eps is accepted
def test_the_belief_compares_the_change_with_eps(scale: float, change: float) -> None:
    """The proposer's status-quo test is ``change >= -eps`` on the change as computed, however large
    ``|U(b)|``: tested as ``U(b) + change + eps >= U(b)``, eps would be lost in rounding once
    ``|U(b)|`` exceeds about 4e3. The side's war option is out of reach, so only that test decides."""
    side = Side(
        id="S",
        position=np.zeros(1),
        salience=np.array([scale]),
        risk=1.0,
        red_low=np.zeros(1),
        red_high=np.ones(1),
        trust=1.0,
        war_value=-1e12,
        prior=("fixed", 0.0, 0.0, 0.0),
    )
    sides = Sides([side], baseline=np.ones(1))
    assert sides.u_base_sum[0] == -scale
    belief = sides.belief(np.array([[change]]), np.zeros((1, 1), dtype=bool), False, True)
    assert belief[0, 0] == float(change >= -1e-12)
    assert sides.belief(np.array([[change]]), np.zeros((1, 1), dtype=bool), True, True)[0, 0] == 1.0


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


# --------------------------------------------------------------------------- the tabulated reservation (ODD 7.7)


def with_tables(case: Case, seed: int) -> list[Side]:
    """The case's sides, each answering by a random reservation table over its prior's support: non-increasing
    values on 2-9 types, flat stretches included (``continuation.keep_table`` of random draws)."""
    rng = np.random.default_rng(seed)
    out = []
    for side in case.sides:
        _, low, _, high = side.prior
        size = int(rng.integers(2, 10))
        types = np.linspace(low, high, size)
        table = keep_table(np.round(rng.uniform(-2.0, 1.0, size), 1))  # rounding makes ties
        out.append(replace(side, keep=(types, table)))
    return out


@RULE
@given(cases(), st.integers(0, 2**32 - 1))
def test_with_a_table_the_answer_is_the_cutoff(case: Case, seed: int) -> None:
    """Away from an ultimatum a side with a reservation table accepts iff it is not blocked and its cost is at
    least ``theta(V + eps)`` (``table_cutoff``), i.e. iff ``V + eps >= R~(c)``; ``answer_cutoff`` is that
    ``theta`` (NaN where every type or no type answers alike), and the logged reservation is ``R~(c)``."""
    sides = with_tables(case, seed)
    for k in range(case.values.shape[0]):
        for s, side in enumerate(sides):
            ev, old = case.answer(side, k, s), case.answer(replace(side, keep=None), k, s)
            assert ev.value == old.value and ev.status_quo_value == old.status_quo_value
            blocked = bool(ev.crossed_red_lines or ev.missing_linkage)
            if case.ultimatum:  # rejection is war: the table plays no part
                assert (ev.accepted, ev.reservation) == (old.accepted, old.reservation)
                continue
            c, (types, table) = float(case.costs[s]), side.keep
            assert ev.reservation == float(np.interp(c, types, table))
            theta = float(table_cutoff(types, table, ev.value + ACCEPT_EPS))
            if abs(c - theta) > 1e-9:
                assert ev.accepted == (not blocked and c >= theta)
            cut = answer_cutoff(side, ev.value, ev.status_quo_value, False)
            assert (np.isnan(cut) and not np.isfinite(theta)) or cut == theta


@RULE
@given(cases(), st.integers(0, 2**32 - 1))
def test_with_tables_the_belief_is_the_survival_at_the_cutoff(case: Case, seed: int) -> None:
    """The proposer's belief that a side with a table accepts is ``S(theta(V + eps))`` under its posterior (0 if
    blocked and red lines are public); with a known cost (a fixed prior at it) it is the side's own answer."""
    if case.ultimatum:
        return
    sides = with_tables(case, seed)
    belief = group_probabilities(case.problem(sides, red_lines_public=True), case.values, case.include, case.binding)
    known = [replace(s, prior=("fixed", c, c, c)) for s, c in zip(sides, case.costs, strict=True)]
    sure = group_probabilities(case.problem(known, red_lines_public=True), case.values, case.include, case.binding)
    for k in range(case.values.shape[0]):
        for s, side in enumerate(sides):
            ev = case.answer(side, k, s)
            if ev.missing_linkage:  # the belief leaves out linkage (documented)
                continue
            theta = table_cutoff(*side.keep, ev.value + ACCEPT_EPS)
            accept = posterior_survival(*side.prior, 0.0, 1.0, theta)
            expected = 0.0 if ev.crossed_red_lines else float(accept)
            assert belief[k, s] == pytest.approx(expected, abs=1e-12)
            if abs(float(case.costs[s]) - theta) > 1e-9:
                assert sure[k, s] == float(ev.accepted)


@RULE
@given(cases(), st.integers(0, 2**32 - 1))
def test_a_bilateral_proposer_weighs_what_a_rejection_would_teach_it(case: Case, seed: int) -> None:
    """With a no-deal table (bilateral talks, ODD 7.7) a candidate's no-deal value is ``N(theta(V_r(x) + eps))``,
    the proposer's continuation on the posterior the recipient's rejection would leave (``N`` at the top of the
    grid where a public red line blocks it: a block reveals nothing); ``expected_utility`` and the incremental
    move scoring (``_Moves``) agree on it."""
    if case.ultimatum:
        return
    rng = np.random.default_rng(seed)
    proposer, side = with_tables(case, seed)[0], with_tables(case, seed + 1)[-1]
    grid = np.sort(rng.uniform(-1.0, 2.0, 5))
    table = (grid, np.sort(rng.uniform(-2.0, 0.0, 5)))  # the more it would learn, the more it keeps
    prob = replace(case.problem([proposer, side], red_lines_public=True), groups=(Group(head=side),))
    prob = replace(prob, no_deal_table=table)
    x, inc = case.outcome, case.include
    eu, p_adopt = expected_utility(prob, case.values, inc, case.binding)
    # The no-deal value enters linearly: against a proposer whose no-deal value is 0, the difference is (1 - P) N.
    eu0, p0 = expected_utility(replace(prob, no_deal=0.0, no_deal_table=None), case.values, inc, case.binding)
    np.testing.assert_array_equal(p_adopt, p0)
    for k in range(x.shape[0]):
        blocked = bool(crossings(x[k], inc[k], side.red_low, side.red_high).any())
        value = case.answer(side, k, len(case.sides) - 1).value
        theta = np.inf if blocked else table_cutoff(*side.keep, value + ACCEPT_EPS)
        no_deal = float(np.interp(theta, *table))
        assert eu[k] - eu0[k] == pytest.approx((1.0 - p_adopt[k]) * no_deal, rel=0, abs=1e-9)
    st_ = _Stacked(prob)
    mv = _Moves(prob, st_, case.binding, broker=False)
    assert mv.value(case.values[0], inc[0]) == pytest.approx(float(eu[0]), rel=0, abs=TOL)
