"""The terms of one decision and the single changes that would have flipped it (``sim.explain`` records them).

Two kinds of decision are taken apart (docs/ODD.md, section 7.18):

* **a climb up the ladder** (``DiplomacyModel._choose_rungs``): the actor climbs iff its net war value
  ``Delta = W - c - K + noise`` reaches ``theta = climb_threshold(rung)``, with ``K = F + option`` (ODD 7.14,
  ``sim.rules.values``): the fallback ``F``, the status quo less the expected loss should the target attack,
  and what the talks ahead add to it. The margin ``Delta - theta`` is a sum, and its terms are the war value's
  stakes issue by issue (if won, weighted by the win probability; if lost, by its complement), the threats
  against the actor, its cost draw, the expected loss if the target attacks, the talks to come, the noise and
  the threshold.
* **an answer to a package** (``acceptance.evaluate``): the margin is ``m = V + eps - R``
  (``acceptance_margin``), and its terms are the gains issue by issue, the trust discount, and, when war
  is the alternative to beat, the war option against the status quo and the cost draw. Red lines and
  linkage are lexicographic: a blocked answer is a refusal whatever ``m`` is.

A flip is one input changed alone -- a term, or the quantity behind it (the win probability, the cost
draw, the trust in the proposer, the outcome on an issue) -- with the decision re-made by the model's own
rule functions (``war_values``, ``desired_rung``, ``next_rung``; ``evaluate``). For a sum every term needs
the same change, ``-margin`` and a little more; the terms differ in whether they can take it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.rules.coalitions import war_values
from sim.rules.dynamics import desired_rung, next_rung

FLIP_EPS = 1e-9  # how far past the threshold a flip goes: far above rounding, far below anything shown


@dataclass(frozen=True)
class Term:
    """One summand of a decision's margin."""

    name: str
    value: float
    # war | threats | cost | peace | talks | noise | threshold | gain | trust | war option | continuation | tolerance
    group: str
    issue: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value) + 0.0)  # a plain float, never -0.0


@dataclass(frozen=True)
class Flip:
    """One input changed alone, and whether the decision, re-made by the model's rule, then goes the other way.

    ``lever`` is the input (``from_value`` -> ``to_value`` in its own unit); ``change`` is the change of the
    term it acts through, in the margin's unit (utility), which ranks the flips; ``in_range`` says whether the
    new value is one the input can take (a probability in [0, 1], a cost inside its prior, ...)."""

    term: str
    lever: str
    from_value: float
    to_value: float
    change: float
    flips: bool
    in_range: bool

    def __post_init__(self) -> None:
        for name in ("from_value", "to_value", "change"):
            object.__setattr__(self, name, float(getattr(self, name)) + 0.0)
        object.__setattr__(self, "flips", bool(self.flips))
        object.__setattr__(self, "in_range", bool(self.in_range))


def suggest(flips: list[Flip]) -> Flip | None:
    """The flip with the smallest absolute change among those that flip and stay in range (else among those that
    flip); ties go to the first listed."""
    for pool in ([f for f in flips if f.flips and f.in_range], [f for f in flips if f.flips]):
        if pool:
            return min(pool, key=lambda f: abs(f.change))  # min keeps the first of equals
    return None


def prior_support(prior: tuple[str, float, float, float]) -> tuple[float, float]:
    """The values a cost drawn from ``prior`` (kind, low, mode, high) can take: ``[low, high]``, ``low`` if fixed."""
    kind, low, _, high = prior
    return (low, low) if kind == "fixed" else (low, high)


def past(margin: float) -> float:
    """The change of the margin that takes it just across its threshold (``m >= 0`` is the decision taken)."""
    return -margin - FLIP_EPS * max(1.0, abs(margin)) if margin >= 0 else -margin + FLIP_EPS * max(1.0, abs(margin))


# --------------------------------------------------------------------------- climbing a rung


@dataclass(frozen=True)
class ClimbCase:
    """What an actor's choice of rung toward one target was made of: ``war_values`` on the pair, the rest as
    the model combined them."""

    base: float  # U_i(b)
    win: np.ndarray  # (m,) what defeating the target gains, issue by issue (spoils_by_issue)
    lose: np.ndarray  # (m,) what a defeat by the target costs, issue by issue
    win_prob: float
    threat: float
    cost: float
    cost_range: tuple[float, float]  # support of the actor's cost prior
    threatened: float  # U_i(b) - F_it: the expected loss should the target attack (ODD 7.14)
    talks: float  # K_it - F_it: what the talks ahead are worth to it (0 without a meeting that can settle anything)
    noise: float
    sigma: float
    rung: int
    war_index: int
    band: float
    threshold: float

    def war(self, win_prob: float | None = None, threat: float | None = None) -> float:
        """``W_it`` by ``war_values`` on the pair."""
        p = self.win_prob if win_prob is None else win_prob
        k = self.threat if threat is None else threat
        one = np.ones((1, 1))
        attack, _ = war_values(np.array([self.base]), self.win.sum() * one, self.lose.sum() * one, p * one, k * one)
        return float(attack[0, 0])

    def climbs(self, **change: float) -> bool:
        """Re-make the choice with some inputs changed (``win_prob``, ``threat``, ``cost``, ``threatened``,
        ``talks``, ``noise``, or ``war_offset`` added to ``W``): ``next_rung(rho, desired_rung(Delta)) > rho``."""
        w = self.war(change.get("win_prob"), change.get("threat")) + change.get("war_offset", 0.0)
        calm = self.base - change.get("threatened", self.threatened) + change.get("talks", self.talks)
        delta = w - change.get("cost", self.cost) - calm + change.get("noise", self.noise)
        desired = desired_rung(np.array([delta]), self.war_index, self.band)
        return bool(next_rung(np.array([self.rung]), desired)[0] > self.rung)


def climb_terms(case: ClimbCase, issues: list[str]) -> list[Term]:
    """The summands of ``Delta - theta``; the case's ``win``, ``lose`` per issue (``spoils_by_issue``; the shared
    ``U_i(b)`` of war and of the fallback cancels). Zero terms are left out."""
    p = case.win_prob
    terms = [Term(f"war if won: {j}", p * w, "war", j) for j, w in zip(issues, case.win, strict=True) if w]
    terms += [Term(f"war if lost: {j}", (1.0 - p) * x, "war", j) for j, x in zip(issues, case.lose, strict=True) if x]
    terms += [Term("threats against it", -case.threat, "threats"), Term("cost draw", -case.cost, "cost")]
    terms += [Term("expected loss if the target attacks", case.threatened, "peace")]
    terms += [Term("talks to come", -case.talks, "talks")]
    terms += [Term("noise", case.noise, "noise"), Term("rung threshold", -case.threshold, "threshold")]
    return [t for t in terms if t.value or t.issue is None]  # an issue's zero term is left out


# The order in which a climb's flips are listed, and so which of equal changes is suggested: the quantities with
# a unit of their own first (the win probability before them), the issue-by-issue terms last.
CLIMB_FLIP_ORDER = ("cost", "threats", "talks", "peace", "noise", "war")


def climb_flips(case: ClimbCase, terms: list[Term], margin: float, slope: float) -> list[Flip]:
    """The win probability changed (``slope`` is ``dW/dp``), then each term changed alone by ``-margin`` and a
    little more, each re-made through ``ClimbCase.climbs``. Ranges: a probability in [0, 1], a cost inside its
    prior's support, threats and the expected loss if attacked not negative, the talks not below zero or their
    value (at an ultimatum they can be worth less than nothing), noise anything (given in standard deviations)
    if the model has noise; the terms of single issues are not bounded here."""
    d = past(margin)
    out: list[Flip] = []
    if slope:
        p2 = case.win_prob + d / slope
        flips = not case.climbs(win_prob=p2)
        out.append(Flip("war (every issue)", "win probability", case.win_prob, p2, d, flips, 0 <= p2 <= 1))
    low, high = case.cost_range
    for t in sorted(terms, key=lambda t: CLIMB_FLIP_ORDER.index(t.group) if t.group in CLIMB_FLIP_ORDER else 99):
        lever, before, after, ok = t.name, t.value, t.value + d, True
        if t.group == "threshold":
            continue
        if t.group == "cost":
            lever, before, after, kw = "cost draw", case.cost, case.cost - d, {"cost": case.cost - d}
            ok = low <= after <= high
        elif t.group == "threats":
            lever, before, after, kw = "threats against it", case.threat, case.threat - d, {"threat": case.threat - d}
            ok = after >= 0
        elif t.group == "talks":
            lever, before, after, kw = "talks to come", case.talks, case.talks - d, {"talks": case.talks - d}
            ok = after >= min(0.0, case.talks)
        elif t.group == "peace":
            lever, before, kw = "expected loss if the target attacks", case.threatened, {"threatened": after}
            ok = after >= 0
        elif t.group == "noise":
            kw, ok = {"noise": case.noise + d}, case.sigma > 0
            if ok:
                lever, before, after = "noise (standard deviations)", case.noise / case.sigma, after / case.sigma
        else:  # the war's stakes on one issue
            kw = {"war_offset": d}
        out.append(Flip(t.name, lever, before, after, d, not case.climbs(**kw), ok))
    return out
