"""Proposals, their evaluation and the decision rules of venues.

A proposer chooses the package that maximises its expected utility given its beliefs about who
will accept (the take-it-or-leave-it logic of Fearon 1995 and Romer-Rosenthal agenda setting,
extended to several issues so that logrolling emerges: the proposer holds where its salience is
high and concedes where the recipients' is, as in Stokman's exchange model). A recipient
accepts when the package, with promised gains discounted by trust, beats its alternative.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sim.rules.utility import Array, discounted_change, effective_trust, issue_utilities

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
    survival: Callable[[Array], Array]  # P(own private cost >= x) under the shared prior
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
    grid: int = 41


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


def _accept_probability(side: Side, outcome: Array, include: Array, prob: Problem, binding: bool) -> Array:
    """The proposer's belief that ``side`` accepts each candidate (K, m) -> (K,)."""
    tau_eff = effective_trust(side.trust, side.values_legal_form, binding, prob.legal_boost)
    u_base = issue_utilities(prob.baseline, side.position, side.salience, side.risk)
    gains = issue_utilities(outcome, side.position, side.salience, side.risk) - u_base
    change = discounted_change(gains, prob.compliance, tau_eff)
    p = side.survival(side.war_value - (u_base.sum() + change))
    if not prob.ultimatum:
        p = np.where(change >= -_EPS, p, 0.0)
    if prob.red_lines_public:
        crossed = (include & ((outcome < side.red_low - 1e-9) | (outcome > side.red_high + 1e-9))).any(axis=-1)
        p = np.where(crossed, 0.0, p)
    return p


def group_probabilities(prob: Problem, values: Array, include: Array, binding: bool) -> Array:
    """The proposer's belief that each participant group accepts each candidate: (K, m) -> (K, G)."""
    outcome = np.where(include, values, prob.baseline)
    out = []
    for g in prob.groups:
        head = _accept_probability(g.head, outcome, include, prob, binding)
        if g.members:
            members = np.stack([_accept_probability(s, outcome, include, prob, binding) for s in g.members], axis=-1)
            head = head * rule_probability(members, g.rule)
        out.append(head)
    return np.stack(out, axis=-1)


def expected_utility(prob: Problem, values: Array, include: Array, binding: bool) -> tuple[Array, Array]:
    """Proposer's expected utility and adoption probability for candidate packages (K, m).

    ``EU(x) = P(adopt | x) * V_i(x) + (1 - P(adopt | x)) * V_i(no deal)``, where ``V_i`` counts
    only issues that can be agreed at this venue, discounts the proposer's own promised gains by
    its trust in the recipients and charges its cost of a legally binding form.
    """
    outcome = np.where(include, values, prob.baseline)
    me = prob.proposer
    u_base = issue_utilities(prob.baseline, me.position, me.salience, me.risk)
    gains = (issue_utilities(outcome, me.position, me.salience, me.risk) - u_base) * prob.agreeable
    tau = effective_trust(me.trust, me.values_legal_form, binding, prob.legal_boost)
    v_deal = u_base.sum() + discounted_change(gains, prob.compliance, tau) - binding * me.binding_cost
    p_adopt = rule_probability(group_probabilities(prob, values, include, binding), prob.venue_rule, extra_yes=1)
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

    Cyclic coordinate ascent over the open issues (each issue: leave it out -- unless the proposer
    has linked it --, or any value on a grid within the proposer's own red line, or any allowed
    value of an indivisible issue),
    started from the proposer's own position and from ``anchor`` (e.g. the compromise), then
    each continuous coordinate refined by two rounds of local grid zooming (resolution ~1e-5).
    Done for a political and, if any recipient values it, a legally binding form. A proposer
    with no stake in the open issues (a chairing organisation) acts as an honest broker and
    maximises the chance of adoption instead (mediation; Touval and Zartman 1985).
    """
    forms = [False]
    sides = [s for g in prob.groups for s in (g.head, *g.members)]
    if any(s.values_legal_form > 0 for s in sides):
        forms.append(True)
    best: Proposal | None = None
    open_idx = np.flatnonzero(prob.open_issues)
    lo, hi = prob.proposer.red_low, prob.proposer.red_high
    # Start where every recipient's known red line is respected, leaving out issues on which
    # the red lines do not meet: ascent one coordinate at a time cannot leave a plateau of
    # packages that some red line rules out.
    feas_lo, feas_hi = lo.copy(), hi.copy()
    if prob.red_lines_public:
        for s in sides:
            feas_lo, feas_hi = np.maximum(feas_lo, s.red_low), np.minimum(feas_hi, s.red_high)
    feasible = feas_lo <= feas_hi + 1e-9
    own = prob.proposer.position
    starts = [(np.clip(own, lo, hi), prob.open_issues)]
    if anchor is not None:
        centre = np.where(np.isnan(anchor), own, anchor)
        starts.append((np.clip(centre, feas_lo, np.maximum(feas_lo, feas_hi)), prob.open_issues & feasible))
    starts.append((np.clip(own, feas_lo, np.maximum(feas_lo, feas_hi)), prob.open_issues & feasible))
    broker = not (prob.proposer.salience[prob.open_issues] > 0).any()
    for binding in forms:
        def objective(xs: Array, incs: Array) -> Array:
            eu, p = expected_utility(prob, xs, incs, binding)
            return p if broker else eu

        for start, start_inc in starts:
            x = np.where(prob.open_issues, start, prob.baseline)
            for j in open_idx:  # snap indivisible issues to an allowed value
                cands = _candidates(prob, j)
                x[j] = cands[np.abs(cands - x[j]).argmin()]
            inc = start_inc | np.isin(np.arange(x.size), list(prob.proposer.linkage)) & prob.open_issues
            eu = float(objective(x[None], inc[None])[0])
            for _ in range(6):
                changed = False
                for j in open_idx:
                    cands = _candidates(prob, j)
                    linked = j in prob.proposer.linkage  # it never leaves out what it has linked
                    k_opts = cands.size + (0 if linked else 1)
                    xs = np.repeat(x[None], k_opts, axis=0)
                    incs = np.repeat(inc[None], k_opts, axis=0)
                    xs[: cands.size, j] = cands
                    incs[: cands.size, j] = True
                    if not linked:
                        incs[-1, j] = False
                        xs[-1, j] = prob.baseline[j]
                    vals = objective(xs, incs)
                    k = int(vals.argmax())
                    if vals[k] > eu + 1e-12:
                        x, inc, eu, changed = xs[k].copy(), incs[k].copy(), float(vals[k]), True
                if not changed:
                    break
            for j in open_idx:
                if not inc[j] or prob.allowed[j] is not None or hi[j] <= lo[j]:
                    continue
                width = (hi[j] - lo[j]) / (prob.grid - 1)
                for _ in range(2):
                    cands = np.linspace(max(lo[j], x[j] - width), min(hi[j], x[j] + width), prob.grid)
                    xs = np.repeat(x[None], cands.size, axis=0)
                    xs[:, j] = cands
                    vals = objective(xs, np.repeat(inc[None], cands.size, axis=0))
                    k = int(vals.argmax())
                    if vals[k] > eu + 1e-12:
                        x, eu = xs[k].copy(), float(vals[k])
                    width = 2 * width / (prob.grid - 1)
            eu_final, p = expected_utility(prob, x[None], inc[None], binding)
            cand = Proposal(
                values=np.where(inc, x, prob.baseline),
                include=inc,
                legal_form=LEGAL_FORMS[int(binding)],
                expected_utility=float(eu if broker else eu_final[0]),
                p_adopt=float(p[0]),
            )
            if best is None or cand.expected_utility > best.expected_utility + 1e-12:
                best = cand
    assert best is not None
    return best
