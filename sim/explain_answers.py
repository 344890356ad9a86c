"""An answer to a package taken apart (``sim.explain``): its terms and the single changes that would flip it.

The margin is ``m = V + eps - R`` with ``V`` the package's trust-discounted value and ``R`` what it must beat:
away from an ultimatum, what rejecting keeps (the side's continuation with the proposer, its attack option
included, ``Side.keep``; ODD 7.7); at an ultimatum the war option. Its terms: the gain on each included issue,
minus the trust discount, the tolerance ``eps``, and what rejecting keeps against the status quo (or, at an
ultimatum, the war option against the status quo and the cost draw). Red lines and linkage are lexicographic: a
blocked answer is a refusal whatever ``m`` is. Every flip is re-made through ``acceptance.evaluate``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sim.explain_terms import FLIP_EPS, Flip, Term, past, prior_support
from sim.rules.acceptance import (
    ACCEPT_EPS,
    RED_TOL,
    Evaluation,
    Side,
    Sides,
    evaluate,
    weighted_gains,
)
from sim.rules.bargaining import Problem, Proposal
from sim.rules.continuation import table_cutoff, table_reservation


@dataclass(frozen=True)
class AnswerCase:
    """What one answer to a package was computed from: ``evaluate``'s arguments, as they were."""

    side: Side
    outcome: np.ndarray
    include: np.ndarray
    baseline: np.ndarray
    compliance: np.ndarray
    open_issues: np.ndarray
    private_cost: float
    binding: bool
    legal_boost: float
    ultimatum: bool

    @classmethod
    def of(cls, side: Side, proposal: Proposal, problem: Problem, private_cost: float) -> AnswerCase:
        """A copy of the inputs (the model's arrays move on after the answer)."""
        s = replace(side, **{k: getattr(side, k).copy() for k in ("position", "salience", "red_low", "red_high")})
        return cls(
            s,
            proposal.values.copy(),
            proposal.include.copy(),
            problem.baseline.copy(),
            problem.compliance.copy(),
            problem.open_issues.copy(),
            float(private_cost),
            proposal.legal_form == "legally_binding",
            problem.legal_boost,
            problem.ultimatum,
        )

    def answer(self, **change: Any) -> Evaluation:
        """``evaluate`` with some inputs changed: ``side`` fields (``trust``, ``war_value``), ``outcome``,
        ``include``, ``private_cost``."""
        side = replace(self.side, **{k: change[k] for k in ("trust", "war_value") if k in change})
        return evaluate(
            side,
            change.get("outcome", self.outcome),
            change.get("include", self.include),
            self.baseline,
            self.compliance,
            self.open_issues,
            change.get("private_cost", self.private_cost),
            self.binding,
            self.legal_boost,
            self.ultimatum,
        )

    def gains(self, outcome: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Per issue the gain, the trust-discounted gain (``weighted_gains``, as ``evaluate`` sums them) and
        ``u(b)``; and the effective trust."""
        one = Sides([self.side], self.baseline)
        tau = float(one.trust_eff(self.binding, self.legal_boost)[0])
        x = self.outcome if outcome is None else outcome
        args = (x[None], self.include[None], one.pos, one.sal, one.exponent, one.u_base, self.compliance)
        return weighted_gains(*args, 1.0)[0], weighted_gains(*args, tau)[0], one.u_base[0], tau


def answer_margin(ev: Evaluation) -> float:
    """The answer's margin from the values ``evaluate`` compared: ``V + eps - R`` (``acceptance_margin`` where
    the status quo or the war option is ``R``; the tabulated continuation where the side has one)."""
    return ev.value + ACCEPT_EPS - ev.reservation


def keeps(case: AnswerCase) -> bool:
    """Whether the answer compared the package with what rejecting keeps (``Side.keep``, ODD 7.7)."""
    return case.side.keep is not None and not case.ultimatum


def war_binds(ev: Evaluation, ultimatum: bool) -> bool:
    """Whether the answer's reservation is the war option (``R = W - c``) rather than the status quo."""
    return ultimatum or ev.war_option > ev.status_quo_value


def answer_terms(case: AnswerCase, ev: Evaluation, issues: list[str]) -> list[Term]:
    """The summands of ``m = V + eps - R``: gains per included issue, minus the trust discount, the tolerance,
    and where war is the alternative (``R = W - c``) the war option against the status quo and the cost draw."""
    gain, discounted, _, _ = case.gains()
    held = np.flatnonzero(case.include & (case.side.salience > 0))  # an issue the actor cares nothing for gains 0
    terms = [Term(f"gain: {issues[j]}", float(gain[j]), "gain", issues[j]) for j in held]
    terms.append(Term("trust discount", -float((gain - discounted).sum()), "trust"))
    if keeps(case):
        keep = -(ev.reservation - ev.status_quo_value)
        terms.append(Term("what rejecting keeps vs status quo", keep, "continuation"))
    elif war_binds(ev, case.ultimatum):
        terms.append(Term("war option vs status quo", -(case.side.war_value - ev.status_quo_value), "war option"))
        terms.append(Term("cost draw", case.private_cost, "cost"))
    terms.append(Term("tolerance", ACCEPT_EPS, "tolerance"))
    return terms


def answer_flips(case: AnswerCase, ev: Evaluation, issues: list[str]) -> list[Flip]:
    """Single changes to the answer's inputs, each re-made through ``evaluate``: the outcome on one issue,
    the trust in the proposer, the war option, the cost draw; for a blocked answer, its one block removed (the
    outcome moved onto the red line, or the linked issue included at its current value)."""
    if ev.crossed_red_lines or ev.missing_linkage:
        return _unblock(case, ev, issues)
    d = past(answer_margin(ev))
    gain, discounted, u_base, tau = case.gains()
    out: list[Flip] = []
    for j in np.flatnonzero(case.include):
        out += _outcome_flips(case, ev, int(j), issues[j], d, (gain, discounted, u_base, tau))
    out += _trust_flip(case, ev, d, gain, tau)
    return out + (_keep_flips(case, ev) if keeps(case) else _war_flips(case, ev))


def _keep_flips(case: AnswerCase, ev: Evaluation) -> list[Flip]:
    """The cost draw moved across the answer's cut-off ``theta(V)`` (``table_cutoff``): types at or above it
    accept, types below it reject; none where every type or no type answers alike."""
    assert case.side.keep is not None
    theta = float(table_cutoff(*case.side.keep, ev.value + ACCEPT_EPS))
    if not np.isfinite(theta):
        return []
    c, low, high = case.private_cost, *prior_support(case.side.prior)
    step = FLIP_EPS * max(1.0, abs(theta))  # just across: at theta itself rounding can keep the answer
    c2 = theta - step if ev.accepted else theta + step
    change = ev.reservation - float(table_reservation(*case.side.keep, c2))
    flips = case.answer(private_cost=c2).accepted != ev.accepted
    return [Flip("what rejecting keeps vs status quo", "cost draw", c, c2, change, flips, low <= c2 <= high)]


def _unblock(case: AnswerCase, ev: Evaluation, issues: list[str]) -> list[Flip]:
    """A blocked answer flips by one change only if one block stands and the package, unblocked, beats its
    alternative."""
    if len(ev.crossed_red_lines) + len(ev.missing_linkage) != 1:
        return []
    if ev.crossed_red_lines:
        j = ev.crossed_red_lines[0]
        x = case.outcome.copy()
        x[j] = min(max(x[j], case.side.red_low[j]), case.side.red_high[j])
        change = case.gains(x)[0][j] - case.gains()[0][j]
        flips = case.answer(outcome=x).accepted != ev.accepted
        return [Flip(f"gain: {issues[j]}", f"outcome on {issues[j]}", case.outcome[j], x[j], change, flips, True)]
    j = ev.missing_linkage[0]
    include = case.include.copy()
    include[j] = True
    flips = case.answer(include=include).accepted != ev.accepted
    return [Flip(f"gain: {issues[j]}", f"{issues[j]} included (0: no, 1: yes)", 0.0, 1.0, 0.0, flips, True)]


def _outcome_flips(
    case: AnswerCase,
    ev: Evaluation,
    j: int,
    name: str,
    d: float,
    gains: tuple[np.ndarray, np.ndarray, np.ndarray, float],
) -> list[Flip]:
    """The outcome on issue ``j`` moved alone: to where its trust-discounted gain changes the margin by ``d``
    (``u(x) = -s |x - p|^r`` solved for ``x``), or as far as it goes (the actor's ideal point for a refusal, the
    far end of the scale for an acceptance), or, for an acceptance, just across the actor's red line there. The
    moves that flip the answer, nearest first; if none does, the nearest tried."""
    gain, discounted, u_base, tau = gains
    side, x0 = case.side, float(case.outcome[j])
    s, p, r = float(side.salience[j]), float(side.position[j]), float(side.risk)
    targets: list[float] = []
    if s > 0:
        want = discounted[j] + d
        omega = 1.0 - case.compliance[j] * (1.0 - tau)
        g2 = want if want <= 0 else want / omega if omega > 0 else np.inf
        u2 = u_base[j] + g2
        if u2 <= 0:
            dist = (-u2 / s) ** (1.0 / r)
            targets += [x for x in (p - dist, p + dist) if 0.0 <= x <= 1.0]
        targets.append(p if not ev.accepted else 0.0 if p > 0.5 else 1.0)
    if ev.accepted:
        edges = [side.red_low[j] - RED_TOL - FLIP_EPS, side.red_high[j] + RED_TOL + FLIP_EPS]
        targets += [e for e in edges if 0.0 <= e <= 1.0]
    tried = []
    for x2 in sorted(set(targets), key=lambda x: abs(x - x0)):
        x = case.outcome.copy()
        x[j] = x2
        flips = case.answer(outcome=x).accepted != ev.accepted
        change = float(case.gains(x)[0][j] - gain[j])
        tried.append(Flip(f"gain: {name}", f"outcome on {name}", x0, float(x2), change, flips, True))
    return [f for f in tried if f.flips] or tried[:1]


def _trust_flip(case: AnswerCase, ev: Evaluation, d: float, gain: np.ndarray, tau: float) -> list[Flip]:
    """Trust in the proposer changed so that the trust discount moves the margin by ``d``:
    ``dV/dtau_eff = sum_j kappa_j max(g_j, 0)``, and ``tau_eff = tau + binding alpha v (1 - tau)``."""
    slope = float((case.compliance * np.maximum(gain, 0.0)).sum())
    a = case.legal_boost * case.side.values_legal_form if case.binding else 0.0
    if slope <= 0 or a >= 1:
        return []
    t_eff = tau + d / slope
    t2 = (t_eff - a) / (1.0 - a)
    e2 = case.answer(trust=t2)
    return [
        Flip(
            "trust discount",
            "trust in the proposer",
            case.side.trust,
            t2,
            d,
            e2.accepted != ev.accepted,
            0.0 <= t2 <= 1.0,
        )
    ]


def _war_flips(case: AnswerCase, ev: Evaluation) -> list[Flip]:
    """The war option (its gross value, or the cost draw) moved to where it, not the status quo, decides."""
    w, c, v = case.side.war_value, case.private_cost, ev.value
    if not np.isfinite(w):
        return []
    eps = FLIP_EPS * max(1.0, abs(v))
    if ev.accepted:  # war must beat the package: W - c > V + eps
        target = v + ACCEPT_EPS + eps
    elif war_binds(ev, case.ultimatum) and (case.ultimatum or v + ACCEPT_EPS >= ev.status_quo_value):
        target = v + ACCEPT_EPS - eps  # war must no longer beat it
    else:  # the status quo is what the package fails to beat: no war option helps
        return []
    w2, c2 = target + c, w - target
    change = (w - c) - target  # of the margin's war terms (R = W - c once war binds)
    low, high = prior_support(case.side.prior)
    return [
        Flip(
            "war option vs status quo",
            "war value",
            w,
            w2,
            change,
            case.answer(war_value=w2).accepted != ev.accepted,
            True,
        ),
        Flip(
            "cost draw",
            "cost draw",
            c,
            c2,
            change,
            case.answer(private_cost=c2).accepted != ev.accepted,
            low <= c2 <= high,
        ),
    ]
