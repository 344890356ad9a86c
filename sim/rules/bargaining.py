"""Proposals and the decision rules of venues.

A proposer chooses the package that maximises its expected utility given its beliefs about who
will accept (the take-it-or-leave-it logic of Fearon 1995 and Romer-Rosenthal agenda setting,
extended to several issues so that logrolling emerges: the proposer holds where its salience is
high and concedes where the recipients' is, as in Stokman's exchange model). Whether a recipient
accepts is the rule of ``sim.rules.acceptance``; the proposer's belief is that rule over the
recipients' cost priors.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim.rules.acceptance import RED_TOL, Side, Sides, crossings, weighted_gains
from sim.rules.utility import Array, effective_trust, issue_utilities

Rule = Literal["unanimity", "majority"]
LEGAL_FORMS = ("political", "legally_binding")


@dataclass(frozen=True)
class Group:
    """A participant as a decision unit: a state, or a bloc and its members (internal rule)."""

    head: Side
    members: tuple[Side, ...] = ()
    rule: Rule = "unanimity"


@dataclass(frozen=True)
class Problem:
    """What a proposer knows when it chooses a package at a venue."""

    proposer: Side
    groups: tuple[Group, ...]
    baseline: Array  # current outcome: status quo or agreed values
    open_issues: Array  # bool (m,): on the agenda and not yet agreed
    compliance: Array  # (m,)
    allowed: Sequence[list[float] | None]  # allowed values of indivisible issues
    no_deal: float  # proposer's value if the package is not adopted
    # Bilateral talks: the proposer's value if the package is rejected, by the cut-off the rejection reveals
    # (cut-offs increasing, values): it anticipates what it would learn (ODD 7.7). None: ``no_deal`` throughout.
    no_deal_table: tuple[Array, Array] | None = None
    venue_rule: Rule = "unanimity"
    ultimatum: bool = False
    legal_boost: float = 0.5
    red_lines_public: bool = True
    grid: int = 21


@dataclass(frozen=True)
class Proposal:
    values: Array  # (m,) proposed values (baseline where not included)
    include: Array  # bool (m,)
    legal_form: str
    expected_utility: float
    p_adopt: float


def rule_met(accepts: Sequence[bool], rule: Rule, extra_yes: int = 0) -> bool:
    """Unanimity: everyone accepts. Majority: more than half, counting ``extra_yes`` sure votes.

    With no voters at all the rule is met (a bloc whose members are all at the table in their own
    right decides by its own answer)."""
    if not accepts:
        return True
    yes = sum(bool(a) for a in accepts)
    if rule == "unanimity":
        return yes == len(accepts)
    return 2 * (yes + extra_yes) > len(accepts) + extra_yes


def rule_probability(p: Array, rule: Rule, extra_yes: int = 0) -> Array:
    """Probability that ``rule`` is met when voter ``k`` accepts independently with ``p[..., k]``.

    Unanimity is the product; majority is the upper tail of the Poisson-binomial distribution,
    computed by the usual dynamic programme over voters.
    """
    p = np.asarray(p, dtype=float)
    n = p.shape[-1]
    if n == 0:
        return np.ones(p.shape[:-1])
    if rule == "unanimity":
        return p.prod(axis=-1)
    dist = np.zeros(p.shape[:-1] + (n + 1,))
    dist[..., 0] = 1.0
    for k in range(n):
        pk = p[..., k : k + 1]
        dist[..., 1:] = dist[..., 1:] * (1 - pk) + dist[..., :-1] * pk
        dist[..., 0] = dist[..., 0] * (1 - pk[..., 0])
    need = (n + extra_yes) // 2 + 1 - extra_yes
    return dist[..., max(need, 0) :].sum(axis=-1)


class _Stacked(Sides):
    """Every side of a problem stacked into arrays (S, m), with the groups they decide in."""

    def __init__(self, prob: Problem):
        super().__init__([s for g in prob.groups for s in (g.head, *g.members)], prob.baseline)
        self.groups: list[tuple[int, list[int], Rule]] = []
        k = 0
        for g in prob.groups:
            self.groups.append((k, list(range(k + 1, k + 1 + len(g.members))), g.rule))
            k += 1 + len(g.members)

    def judged(self, prob: Problem, outcome: Array, include: Array, binding: bool) -> tuple[Array, Array]:
        """Each side's trust-discounted change and whether the candidate crosses its red lines: (K, m) -> (K, S)."""
        change = self.changes(outcome, include, prob.compliance, self.trust_eff(binding, prob.legal_boost))
        crossed = crossings(outcome[:, None, :], include[:, None, :], self.lo, self.hi).any(axis=-1)
        return change, crossed

    def accept(self, prob: Problem, outcome: Array, include: Array, binding: bool) -> Array:
        """The proposer's belief that each side accepts each candidate: (K, m) -> (K, S)."""
        return self.belief(*self.judged(prob, outcome, include, binding), prob.ultimatum, prob.red_lines_public)

    def no_deal(self, prob: Problem, change: Array, crossed: Array) -> Array | float:
        """The proposer's value if each candidate is not adopted: ``prob.no_deal``, or in bilateral talks with a
        table ``N(theta(V_r(x)))`` at the cut-off the recipient's rejection would reveal; a blocked package
        reveals nothing (``N`` at the top of the grid, the current posterior). ``change`` and ``crossed`` (K, S)."""
        if prob.no_deal_table is None:
            return prob.no_deal
        grid, values = prob.no_deal_table
        blocked = crossed[..., 0] if prob.red_lines_public else np.zeros(crossed.shape[:-1], dtype=bool)
        theta = np.where(blocked, np.inf, self.cutoffs(change)[..., 0])
        return np.interp(theta, grid, values)

    def of_groups(self, p: Array) -> Array:
        """Each group's acceptance from its sides' (K, S) -> (K, G): head and internal rule."""
        cols = []
        for head, members, rule in self.groups:
            q = p[:, head]
            if members:
                q = q * rule_probability(p[:, members], rule)
            cols.append(q)
        return np.stack(cols, axis=-1)

    def group_probabilities(self, prob: Problem, outcome: Array, include: Array, binding: bool) -> Array:
        return self.of_groups(self.accept(prob, outcome, include, binding))


def group_probabilities(prob: Problem, values: Array, include: Array, binding: bool) -> Array:
    """The proposer's belief that each participant group accepts each candidate: (K, m) -> (K, G)."""
    outcome = np.where(include, values, prob.baseline)
    return _Stacked(prob).group_probabilities(prob, outcome, include, binding)


def expected_utility(
    prob: Problem, values: Array, include: Array, binding: bool, stacked: _Stacked | None = None
) -> tuple[Array, Array]:
    """Proposer's expected utility and adoption probability for candidate packages (K, m).

    ``EU(x) = P(adopt | x) * V_i(x) + (1 - P(adopt | x)) * V_i(no deal)``, where ``V_i``
    discounts the proposer's own promised gains by its trust in the recipients (``weighted_gains``,
    as in the move scoring) and charges its cost of a legally binding form.
    """
    stacked = stacked or _Stacked(prob)
    outcome = np.where(include, values, prob.baseline)
    me = prob.proposer
    u_base = issue_utilities(prob.baseline, me.position, me.salience, me.risk)
    tau = effective_trust(me.trust, me.values_legal_form, binding, prob.legal_boost)
    mine = weighted_gains(outcome, include, me.position, me.salience, me.risk, u_base, prob.compliance, tau)
    v_deal = u_base.sum() + mine.sum(axis=-1) - binding * me.binding_cost
    change, crossed = stacked.judged(prob, outcome, include, binding)
    p = stacked.belief(change, crossed, prob.ultimatum, prob.red_lines_public)
    p_adopt = rule_probability(stacked.of_groups(p), prob.venue_rule, extra_yes=1)
    return p_adopt * v_deal + (1.0 - p_adopt) * stacked.no_deal(prob, change, crossed), p_adopt


def _candidates(prob: Problem, j: int) -> Array:
    lo, hi = prob.proposer.red_low[j], prob.proposer.red_high[j]
    allowed = prob.allowed[j]
    if allowed is not None:
        vals = np.asarray([v for v in allowed if lo - RED_TOL <= v <= hi + RED_TOL], dtype=float)
        return vals if vals.size else np.asarray([prob.baseline[j]])
    return np.linspace(lo, hi, prob.grid) if hi > lo else np.asarray([lo])


class _Moves:
    """Scores packages that differ from a current one in a single coordinate, incrementally.

    Utilities, trust weights and red-line checks are all sums or unions over issues, so a
    candidate's totals are the current totals with one issue's term swapped: O(S) per candidate
    instead of O(S m). The terms are ``weighted_gains`` and ``crossings`` and the totals are judged
    by ``Sides.belief``, as in ``expected_utility``; only the order of summation differs.
    """

    def __init__(self, prob: Problem, st: _Stacked, binding: bool, broker: bool):
        self.prob, self.st, self.binding, self.broker = prob, st, binding, broker
        me = prob.proposer
        self.tau = st.trust_eff(binding, prob.legal_boost)[:, None]
        self.tau_me = float(effective_trust(me.trust, me.values_legal_form, binding, prob.legal_boost))
        self.me_base = issue_utilities(prob.baseline, me.position, me.salience, me.risk)
        self.me_const = self.me_base.sum() - binding * me.binding_cost

    def terms(self, j: Array, v: Array, inc: Array) -> tuple[Array, Array, Array]:
        """Trust-weighted gains of each side (S, K) and of the proposer (K,), and red-line crossings (S, K)."""
        st, comp, me = self.st, self.prob.compliance[j], self.prob.proposer
        side = weighted_gains(
            v[None, :], inc[None, :], st.pos[:, j], st.sal[:, j], st.exponent, st.u_base[:, j], comp[None, :], self.tau
        )
        mine = weighted_gains(v, inc, me.position[j], me.salience[j], me.risk, self.me_base[j], comp, self.tau_me)
        crossed = crossings(v[None, :], inc[None, :], st.lo[:, j], st.hi[:, j])
        return side, mine, crossed

    def score(self, side: Array, mine: Array, crossed: Array) -> Array:
        """Objective of candidates from their totals: side (S, K), mine (K,), crossed (S, K) counts."""
        st, prob = self.st, self.prob
        p = st.belief(side.T, crossed.T > 0, prob.ultimatum, prob.red_lines_public)
        p_adopt = rule_probability(st.of_groups(p), prob.venue_rule, extra_yes=1)
        if self.broker:
            return p_adopt
        return p_adopt * (self.me_const + mine) + (1.0 - p_adopt) * st.no_deal(prob, side.T, crossed.T > 0)

    def table(self, j: Array, v: Array, v_in: Array) -> tuple[Array, Array, Array, Array]:
        """The terms of moves (j_k, v_k, in_k), computed once and reused while the package changes."""
        return (j, *self.terms(j, v, v_in))

    def evaluate(self, x: Array, inc: Array, table: tuple[Array, Array, Array, Array]) -> Array:
        """Objective of each move of ``table`` applied to the package (x, inc)."""
        j, side_k, mine_k, cross_k = table
        side0, mine0, cross0 = self.terms(np.arange(x.size), x, inc)
        side = side0.sum(axis=1)[:, None] - side0[:, j] + side_k
        mine = mine0.sum() - mine0[j] + mine_k
        crossed = cross0.sum(axis=1)[:, None] - cross0[:, j] + cross_k
        return self.score(side, mine, crossed)

    def value(self, x: Array, inc: Array) -> float:
        side, mine, crossed = self.terms(np.arange(x.size), x, inc)
        return float(self.score(side.sum(axis=1)[:, None], mine.sum(keepdims=True), crossed.sum(axis=1)[:, None])[0])


def best_package(prob: Problem, anchor: Array | None = None) -> Proposal:
    """The package that maximises the proposer's expected utility, found numerically.

    Coordinate ascent over the open issues, every single-coordinate move scored in one batch per
    round: for each issue, leave it out (unless the proposer has linked it), or any value on a
    grid within the proposer's own red line, or any allowed value of an indivisible issue. Each
    round takes every coordinate's best move at once if that improves, else the single best
    move. Starts: the proposer's own position within the recipients' known red lines, and
    ``anchor`` (e.g. the compromise) likewise, leaving out issues on which the red lines do not
    meet (both clipped into the proposer's own red line); its own demands on every open issue are
    kept as a candidate. The search is in the political form, then, if any recipient values legal
    form, in the legally binding one from the best political package. Continuous coordinates are
    then refined on a grid 100 times finer around the optimum (step 5e-4 of the red line's
    width), unless no one is expected to accept the package. A proposer with no stake in the
    open issues (a chairing organisation) acts as an honest broker
    and maximises the chance of adoption instead (mediation; Touval and Zartman 1985).
    """
    st = _Stacked(prob)
    me = prob.proposer
    lo, hi = me.red_low, me.red_high
    open_idx = np.flatnonzero(prob.open_issues)
    linked = np.zeros(prob.baseline.size, dtype=bool)
    linked[list(me.linkage)] = True
    linked &= prob.open_issues
    broker = not (me.salience[prob.open_issues] > 0).any()
    cands = {int(j): _candidates(prob, int(j)) for j in open_idx}

    def snap(x: Array) -> Array:
        x = np.where(prob.open_issues, x, prob.baseline)
        for j in open_idx:
            if prob.allowed[j] is not None:
                c = cands[int(j)]
                x[j] = c[np.abs(c - x[j]).argmin()]
        return x

    # Moves: (issue, value, included) for every coordinate; one batch scores them all.
    move_j = np.concatenate([np.full(cands[int(j)].size + (0 if linked[j] else 1), j) for j in open_idx]).astype(int)
    move_v = np.concatenate([np.append(cands[int(j)], [] if linked[j] else [prob.baseline[j]]) for j in open_idx])
    move_in = np.concatenate(
        [np.append(np.ones(cands[int(j)].size, bool), [] if linked[j] else [False]) for j in open_idx]
    ).astype(bool)
    cell = (hi - lo) / (prob.grid - 1)

    def climb(mv: _Moves, x: Array, inc: Array, mj: Array, mvv: Array, mi: Array, rounds: int) -> tuple[Array, Array]:
        """Apply the best single-coordinate moves (mj, mvv, mi) until none improves."""
        cur = mv.value(x, inc)
        table = mv.table(mj, mvv, mi)
        per_issue = [(j, np.flatnonzero(mj == j)) for j in np.unique(mj)]
        for _ in range(rounds):
            vals = mv.evaluate(x, inc, table)
            k = int(vals.argmax())
            if vals[k] <= cur + 1e-12:
                break
            # Every coordinate's best move at once, if that is better still; else the best one.
            jx, ji = x.copy(), inc.copy()
            for j, sel in per_issue:
                b = sel[vals[sel].argmax()]
                if vals[b] > cur + 1e-12:
                    jx[j], ji[j] = mvv[b], mi[b]
            joint = mv.value(jx, ji)
            if joint >= vals[k]:
                x, inc, cur = jx, ji, joint
            else:
                x, inc, cur = x.copy(), inc.copy(), float(vals[k])
                x[mj[k]], inc[mj[k]] = mvv[k], mi[k]
        return x, inc

    def zoom(mv: _Moves, x: Array, inc: Array) -> Array:
        """A fine grid (step 1/100 of a coarse cell) around each included continuous coordinate.

        Skipped for a package no one is expected to accept: the coarse search found no opening
        near it, and fine-tuning a hopeless offer changes nothing the proposer values."""
        fine = [j for j in open_idx if inc[j] and prob.allowed[j] is None and hi[j] > lo[j]]
        if not fine or expected_utility(prob, x[None], inc[None], mv.binding, st)[1][0] == 0.0:
            return x
        grids = [np.linspace(max(lo[j], x[j] - cell[j]), min(hi[j], x[j] + cell[j]), 201) for j in fine]
        mj = np.concatenate([np.full(g.size, j) for j, g in zip(fine, grids, strict=True)])
        return climb(mv, x, inc, mj, np.concatenate(grids), np.ones(mj.size, bool), 2 * len(fine))[0]

    feas_lo, feas_hi = lo.copy(), hi.copy()
    if prob.red_lines_public:
        feas_lo = np.maximum(feas_lo, st.lo.max(axis=0))
        feas_hi = np.minimum(feas_hi, st.hi.min(axis=0))
    feasible = feas_lo <= feas_hi + RED_TOL
    top = np.maximum(feas_lo, feas_hi)
    own = me.position
    # Inside every known red line where they meet, and always inside the proposer's own.
    starts = [snap(np.clip(np.clip(own, feas_lo, top), lo, hi))]
    if anchor is not None:
        starts.append(snap(np.clip(np.clip(np.where(np.isnan(anchor), own, anchor), feas_lo, top), lo, hi)))
    rounds = 4 * max(len(open_idx), 1)
    mv = _Moves(prob, st, False, broker)
    tries = [(snap(np.clip(own, lo, hi)), prob.open_issues.copy())]  # its own demands, as a fallback
    tries += [climb(mv, x0, (prob.open_issues & feasible) | linked, move_j, move_v, move_in, rounds) for x0 in starts]
    scored = [(mv.value(x, inc), k) for k, (x, inc) in enumerate(tries)]
    val, k = max(scored, key=lambda vk: (vk[0], -vk[1]))  # ties: the earliest
    x, inc = tries[k]
    if (st.legal > 0).any():  # a legally binding form, searched from the best political package
        mb = _Moves(prob, st, True, broker)
        xb, ib = climb(mb, x, inc, move_j, move_v, move_in, rounds)
        if mb.value(xb, ib) > val + 1e-12:
            x, inc, mv = xb, ib, mb
    x = zoom(mv, x, inc)
    eu, p = expected_utility(prob, x[None], inc[None], mv.binding, st)
    return Proposal(
        values=np.where(inc, x, prob.baseline),
        include=inc,
        legal_form=LEGAL_FORMS[int(mv.binding)],
        expected_utility=float(eu[0]),
        p_adopt=float(p[0]),
    )
