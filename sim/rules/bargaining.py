"""Proposals, their evaluation and the decision rules of venues.

A proposer chooses the package that maximises its expected utility given its beliefs about who
will accept (the take-it-or-leave-it logic of Fearon 1995 and Romer-Rosenthal agenda setting,
extended to several issues so that logrolling emerges: the proposer holds where its salience is
high and concedes where the recipients' is, as in Stokman's exchange model). A recipient
accepts when the package, with promised gains discounted by trust, beats its alternative.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sim.rules.utility import Array, discounted_change, effective_trust, issue_utilities
from sim.rules.war import survival

Rule = Literal["unanimity", "majority"]
LEGAL_FORMS = ("political", "legally_binding")
_EPS = 1e-12


@dataclass(frozen=True)
class Side:
    """One actor as it enters a negotiation (arrays over all ``m`` issues)."""

    id: str
    position: Array
    salience: Array
    risk: float
    red_low: Array
    red_high: Array
    trust: float  # recipient: trust in the proposer; proposer: mean trust in the recipients
    war_value: float  # gross value of its best war option (before its private cost)
    prior: tuple[str, float, float, float]  # shared prior over its private cost: (kind, low, mode, high)
    values_legal_form: float = 0.0
    binding_cost: float = 0.0
    linkage: frozenset[int] = frozenset()  # issue indices it will not see left out


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
    agreeable: Array  # bool (m,): some participant with competence is present
    compliance: Array  # (m,)
    allowed: Sequence[list[float] | None]  # allowed values of indivisible issues
    no_deal: float  # proposer's value if the package is not adopted
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


@dataclass
class Evaluation:
    """A recipient's decision on a package, with everything it compared (the decision log)."""

    actor: str
    accepted: bool
    reason: str
    value: float  # utility of the package, gains discounted by trust
    status_quo_value: float
    war_option: float  # best war value minus own private cost
    reservation: float
    trust: float
    trust_effective: float
    trust_discount: float  # utility lost to distrust
    crossed_red_lines: list[int] = field(default_factory=list)
    missing_linkage: list[int] = field(default_factory=list)


def package_value(side: Side, outcome: Array, baseline: Array, compliance: Array, trust_eff: Array | float) -> Array:
    """A side's utility of ``outcome`` (..., m) with gains over ``baseline`` discounted by trust."""
    u_base = issue_utilities(baseline, side.position, side.salience, side.risk)
    gains = issue_utilities(outcome, side.position, side.salience, side.risk) - u_base
    return u_base.sum() + discounted_change(gains, compliance, trust_eff)


def evaluate(
    side: Side,
    outcome: Array,
    include: Array,
    baseline: Array,
    compliance: Array,
    open_issues: Array,
    private_cost: float,
    binding: bool,
    legal_boost: float,
    ultimatum: bool,
) -> Evaluation:
    """Accept or reject a package: red lines first, then linkage, then value against the alternative.

    A package that crosses a red line is rejected whatever its value (red lines as lexicographic
    constraints; Tetlock's taboo trade-offs). A package that leaves out an issue the actor has
    linked is rejected (issue linkage; Sebenius 1983). Otherwise the actor accepts iff
    ``V(x) >= R`` with ``R = max(U(status quo), W - c)``; at an ultimatum no deal means war, so
    ``R = W - c`` (Fearon 1995). ``V`` discounts promised gains by trust (the commitment problem).
    """
    crossed = [int(j) for j in np.flatnonzero(include & ((outcome < side.red_low - 1e-9) | (outcome > side.red_high + 1e-9)))]
    missing = [j for j in sorted(side.linkage) if open_issues[j] and not include[j]]
    tau_eff = float(effective_trust(side.trust, side.values_legal_form, binding, legal_boost))
    value = float(package_value(side, outcome, baseline, compliance, tau_eff))
    undiscounted = float(package_value(side, outcome, baseline, compliance, 1.0))
    sq = float(issue_utilities(baseline, side.position, side.salience, side.risk).sum())
    war = side.war_value - private_cost
    reservation = war if ultimatum else max(sq, war)
    if crossed:
        ok, reason = False, "crosses red line"
    elif missing:
        ok, reason = False, "leaves out a linked issue"
    elif value + _EPS >= reservation:
        ok, reason = True, "beats the alternative"
    else:
        ok, reason = False, "war is better" if war > sq else "worse than the status quo"
    return Evaluation(
        actor=side.id,
        accepted=ok,
        reason=reason,
        value=value,
        status_quo_value=sq,
        war_option=war,
        reservation=reservation,
        trust=side.trust,
        trust_effective=tau_eff,
        trust_discount=undiscounted - value,
        crossed_red_lines=crossed,
        missing_linkage=missing,
    )


def rule_met(accepts: Sequence[bool], rule: Rule, extra_yes: int = 0) -> bool:
    """Unanimity: everyone accepts. Majority: more than half, counting ``extra_yes`` sure votes."""
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


class _Stacked:
    """Every side of a problem stacked into arrays (S, m), so candidates are scored at once."""

    def __init__(self, prob: Problem):
        sides = [s for g in prob.groups for s in (g.head, *g.members)]
        self.sides = sides
        self.pos = np.stack([s.position for s in sides])
        self.sal = np.stack([s.salience for s in sides])
        self.risk = np.array([s.risk for s in sides])[:, None]
        self.linear = bool(np.all(self.risk == 1.0))
        self.lo = np.stack([s.red_low for s in sides])
        self.hi = np.stack([s.red_high for s in sides])
        self.trust = np.array([s.trust for s in sides])
        self.legal = np.array([s.values_legal_form for s in sides])
        self.war = np.array([s.war_value for s in sides])
        self.prior_kind = np.array([s.prior[0] for s in sides])
        self.prior = np.array([s.prior[1:] for s in sides]).T  # low, mode, high rows
        self.kinds = frozenset(self.prior_kind.tolist())
        self.u_base = self._u(prob.baseline[None, None, :])[0]
        self.u_base_sum = self.u_base.sum(axis=-1)
        self.groups: list[tuple[int, list[int], Rule]] = []
        k = 0
        for g in prob.groups:
            self.groups.append((k, list(range(k + 1, k + 1 + len(g.members))), g.rule))
            k += 1 + len(g.members)

    def _u(self, outcome: Array) -> Array:
        d = np.abs(outcome - self.pos)
        return -self.sal * (d if self.linear else d**self.risk)

    def accept(self, prob: Problem, outcome: Array, include: Array, binding: bool) -> Array:
        """The proposer's belief that each side accepts each candidate: (K, m) -> (K, S)."""
        tau = effective_trust(self.trust, self.legal, binding, prob.legal_boost)[None, :, None]
        gains = self._u(outcome[:, None, :]) - self.u_base[None]
        weight = np.where(gains > 0.0, 1.0 - prob.compliance * (1.0 - tau), 1.0)
        change = (weight * gains).sum(axis=-1)
        p = survival(self.prior_kind, *self.prior, self.war - (self.u_base_sum + change), self.kinds)
        if not prob.ultimatum:
            p = np.where(change >= -_EPS, p, 0.0)
        if prob.red_lines_public:
            o = outcome[:, None, :]
            crossed = (include[:, None, :] & ((o < self.lo - 1e-9) | (o > self.hi + 1e-9))).any(axis=-1)
            p = np.where(crossed, 0.0, p)
        return p

    def group_probabilities(self, prob: Problem, outcome: Array, include: Array, binding: bool) -> Array:
        p = self.accept(prob, outcome, include, binding)
        cols = []
        for head, members, rule in self.groups:
            q = p[:, head]
            if members:
                q = q * rule_probability(p[:, members], rule)
            cols.append(q)
        return np.stack(cols, axis=-1)


def group_probabilities(prob: Problem, values: Array, include: Array, binding: bool) -> Array:
    """The proposer's belief that each participant group accepts each candidate: (K, m) -> (K, G)."""
    outcome = np.where(include, values, prob.baseline)
    return _Stacked(prob).group_probabilities(prob, outcome, include, binding)


def expected_utility(
    prob: Problem, values: Array, include: Array, binding: bool, stacked: _Stacked | None = None
) -> tuple[Array, Array]:
    """Proposer's expected utility and adoption probability for candidate packages (K, m).

    ``EU(x) = P(adopt | x) * V_i(x) + (1 - P(adopt | x)) * V_i(no deal)``, where ``V_i`` counts
    only issues that can be agreed at this venue, discounts the proposer's own promised gains by
    its trust in the recipients and charges its cost of a legally binding form.
    """
    stacked = stacked or _Stacked(prob)
    outcome = np.where(include, values, prob.baseline)
    me = prob.proposer
    u_base = issue_utilities(prob.baseline, me.position, me.salience, me.risk)
    gains = (issue_utilities(outcome, me.position, me.salience, me.risk) - u_base) * prob.agreeable
    tau = effective_trust(me.trust, me.values_legal_form, binding, prob.legal_boost)
    v_deal = u_base.sum() + discounted_change(gains, prob.compliance, tau) - binding * me.binding_cost
    groups = stacked.group_probabilities(prob, outcome, include, binding)
    p_adopt = rule_probability(groups, prob.venue_rule, extra_yes=1)
    return p_adopt * v_deal + (1.0 - p_adopt) * prob.no_deal, p_adopt


def _candidates(prob: Problem, j: int) -> Array:
    lo, hi = prob.proposer.red_low[j], prob.proposer.red_high[j]
    allowed = prob.allowed[j]
    if allowed is not None:
        vals = np.asarray([v for v in allowed if lo - 1e-9 <= v <= hi + 1e-9], dtype=float)
        return vals if vals.size else np.asarray([prob.baseline[j]])
    return np.linspace(lo, hi, prob.grid) if hi > lo else np.asarray([lo])


def best_package(prob: Problem, anchor: Array | None = None) -> Proposal:
    """The package that maximises the proposer's expected utility, found numerically.

    Coordinate ascent over the open issues, all coordinates scored in one batch per round: for
    each issue, leave it out (unless the proposer has linked it), or any value on a grid within
    the proposer's own red line, or any allowed value of an indivisible issue. Each round takes
    every coordinate's best move at once if that improves, else the single best move. Starts:
    the proposer's own position within the recipients' known red lines, and ``anchor`` (e.g. the
    compromise) likewise, leaving out issues on which the red lines do not meet; the proposer's
    unconstrained position is kept as a candidate. Continuous coordinates are then refined by
    two rounds of local grid zooming (resolution ~1e-4). Done for a political form and, if any
    recipient values it, a legally binding one. A proposer with no stake in the open issues
    (a chairing organisation) acts as an honest broker and maximises the chance of adoption
    instead (mediation; Touval and Zartman 1985).
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

    def score(xs: Array, incs: Array, binding: bool) -> Array:
        eu, p = expected_utility(prob, xs, incs, binding, st)
        return p if broker else eu

    def snap(x: Array) -> Array:
        x = np.where(prob.open_issues, x, prob.baseline)
        for j in open_idx:
            if prob.allowed[j] is not None:
                c = cands[int(j)]
                x[j] = c[np.abs(c - x[j]).argmin()]
        return x

    # Moves: (issue, value, included) for every coordinate; one batch scores them all.
    move_j = np.concatenate([np.full(cands[int(j)].size + (0 if linked[j] else 1), j) for j in open_idx]).astype(int)
    move_v = np.concatenate(
        [np.append(cands[int(j)], [] if linked[j] else [prob.baseline[j]]) for j in open_idx]
    )
    move_in = np.concatenate([np.append(np.ones(cands[int(j)].size, bool), [] if linked[j] else [False]) for j in open_idx])

    def ascend(x: Array, inc: Array, binding: bool) -> tuple[Array, Array, float]:
        cur = float(score(x[None], inc[None], binding)[0])
        for _ in range(4 * max(len(open_idx), 1)):
            xs = np.repeat(x[None], move_j.size, axis=0)
            incs = np.repeat(inc[None], move_j.size, axis=0)
            rows = np.arange(move_j.size)
            xs[rows, move_j] = move_v
            incs[rows, move_j] = move_in
            vals = score(xs, incs, binding)
            if vals.max() <= cur + 1e-12:
                break
            # Every coordinate's best move at once, if that is better still; else the best one.
            jx, ji = x.copy(), inc.copy()
            for j in open_idx:
                sel = np.flatnonzero(move_j == j)
                k = sel[vals[sel].argmax()]
                if vals[k] > cur + 1e-12:
                    jx[j], ji[j] = move_v[k], move_in[k]
            joint = float(score(jx[None], ji[None], binding)[0])
            k = int(vals.argmax())
            if joint >= vals[k]:
                x, inc, cur = jx, ji, joint
            else:
                x, inc, cur = xs[k], incs[k], float(vals[k])
        return x, inc, cur

    def zoom(x: Array, inc: Array, binding: bool) -> Array:
        """Two finer grids around the optimum of each continuous coordinate."""
        cur = float(score(x[None], inc[None], binding)[0])
        for j in open_idx:
            if not inc[j] or prob.allowed[j] is not None or hi[j] <= lo[j]:
                continue
            w = (hi[j] - lo[j]) / (prob.grid - 1)
            for _ in range(2):
                grid = np.linspace(max(lo[j], x[j] - w), min(hi[j], x[j] + w), prob.grid)
                xs = np.repeat(x[None], grid.size, axis=0)
                xs[:, j] = grid
                vals = score(xs, np.repeat(inc[None], grid.size, axis=0), binding)
                k = int(vals.argmax())
                if vals[k] > cur + 1e-12:
                    x, cur = xs[k].copy(), float(vals[k])
                w = 2 * w / (prob.grid - 1)
        return x

    feas_lo, feas_hi = lo.copy(), hi.copy()
    if prob.red_lines_public:
        feas_lo = np.maximum(feas_lo, st.lo.max(axis=0))
        feas_hi = np.minimum(feas_hi, st.hi.min(axis=0))
    feasible = feas_lo <= feas_hi + 1e-9
    top = np.maximum(feas_lo, feas_hi)
    own = me.position
    starts = [snap(np.clip(own, feas_lo, top))]
    if anchor is not None:
        starts.append(snap(np.clip(np.where(np.isnan(anchor), own, anchor), feas_lo, top)))
    forms = [False, True] if (st.legal > 0).any() else [False]
    best: tuple[float, Array, Array, bool] | None = None
    for binding in forms:
        tries = [(snap(np.clip(own, lo, hi)), prob.open_issues.copy())]  # its own demands, as a fallback
        for x0 in starts:
            tries.append(ascend(x0, (prob.open_issues & feasible) | linked, binding)[:2])
        for x, inc in tries:
            val = float(score(x[None], inc[None], binding)[0])
            if best is None or val > best[0] + 1e-12:
                best = (val, x, inc, binding)
    assert best is not None
    _, x, inc, binding = best
    x = zoom(x, inc, binding)
    eu, p = expected_utility(prob, x[None], inc[None], binding, st)
    return Proposal(
        values=np.where(inc, x, prob.baseline),
        include=inc,
        legal_form=LEGAL_FORMS[int(binding)],
        expected_utility=float(eu[0]),
        p_adopt=float(p[0]),
    )
