"""The acceptance rule: does a side accept a package? One implementation for three uses.

The side's own decision (``evaluate``), the proposer's belief about it (``Sides.belief``, for
``group_probabilities`` and ``expected_utility``) and the scoring of moves in ``best_package``
all compute a package's value with ``weighted_gains`` and ``crossings`` and compare it with
``acceptance``. The decision is the batch of one side and one package with a known cost of war.

Pure numpy functions; no Mesa.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.rules.beliefs import posterior_survival
from sim.rules.continuation import table_cutoff, table_reservation
from sim.rules.utility import Array, discounted_gains, effective_trust
from sim.rules.war import survival

_EPS = 1e-12  # a package worth its reservation up to rounding is accepted
ACCEPT_EPS = _EPS
RED_TOL = 1e-9  # an outcome this close to a red line does not cross it


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
    war_value: float  # gross value of its war option (best target; at an ultimatum, the proposer), before its cost
    prior: tuple[str, float, float, float]  # shared prior over its private cost: (kind, low, mode, high)
    belief: tuple[float, float] = (0.0, 1.0)  # the proposer's posterior: the prior truncated to these quantiles
    # What rejecting keeps, by own type (``continuation.keep_table``): (types, R~), increasing types. None: the
    # status quo or the war option decides (at an ultimatum, and for a side whose continuation is not modelled).
    keep: tuple[Array, Array] | None = None
    values_legal_form: float = 0.0
    binding_cost: float = 0.0
    linkage: frozenset[int] = frozenset()  # issue indices it will not see left out


@dataclass
class Evaluation:
    """A recipient's decision on a package, with everything it compared (the decision log)."""

    actor: str
    accepted: bool
    reason: str
    value: float  # utility of the package, gains discounted by trust
    status_quo_value: float
    war_option: float  # its war option (see Side.war_value) minus its own private cost
    reservation: float
    trust: float
    trust_effective: float
    trust_discount: float  # utility lost to distrust
    crossed_red_lines: list[int] = field(default_factory=list)
    missing_linkage: list[int] = field(default_factory=list)


def weighted_gains(
    outcome: Array,
    include: Array,
    position: Array,
    salience: Array,
    risk: Array | float | None,
    u_base: Array,
    compliance: Array,
    trust_eff: Array | float,
) -> Array:
    """Per issue, the trust-weighted change of utility from the baseline (0 on issues left out).

    ``omega_j(tau) * (u_j(x) - u_j(b))`` with ``u_j(x) = -s_j |x_j - p_j|^r`` (``risk=None``:
    ``r = 1``) and ``omega_j = 1 - kappa_j (1 - tau)`` on gains, 1 on losses: promises are worth
    the trust in their keeping (the commitment problem; Fearon 1995). Elementwise, so full
    packages (K, S, m) and single-issue moves (S, K) share it.
    """
    u = _utility(outcome, position, salience, risk)
    return discounted_gains(np.where(include, u - u_base, 0.0), compliance, trust_eff)


def _utility(outcome: Array, position: Array, salience: Array, risk: Array | float | None) -> Array:
    """``issue_utilities``, with ``risk=None`` for ``r = 1`` so that the power is skipped."""
    d = np.abs(outcome - position)
    return -salience * (d if risk is None else d**risk)


def crossings(outcome: Array, include: Array, low: Array, high: Array) -> Array:
    """Per issue, whether an included outcome lies outside the red line ``[low, high]``.

    Red lines are lexicographic constraints: no value elsewhere buys them (taboo trade-offs;
    Tetlock et al. 2000)."""
    return include & ((outcome < low - RED_TOL) | (outcome > high + RED_TOL))


def acceptance(
    value: Array, status_quo: Array | float, war_cdf: Callable[[Array], Array], blocked: Array, ultimatum: bool
) -> Array:
    """Probability that a side accepts a package; 0 or 1 for the side itself, which knows its cost.

    The side accepts iff it is not ``blocked`` (red line crossed, linked issue left out) and
    ``V >= R`` with ``R = max(U(b), W - c)``, or ``R = W - c`` at an ultimatum, where no deal means
    war (Fearon 1995), both up to rounding (``eps``): ``P = 1[not blocked] * 1[ultimatum or
    V + eps >= U(b)] * P(W - c <= V)``. ``war_cdf(V)`` is ``P(W - c <= V)``: ``known_war_option``
    for the side itself, the survival ``S(W - V)`` of its cost prior for a proposer (``Sides``).
    ``value`` and ``status_quo`` share an origin: utilities ``(V, U(b))`` for the side itself,
    changes ``(V - U(b), 0)`` for the proposer's belief, so that ``eps`` is compared with the
    change as computed even where it is below the rounding step of ``U(b)``.
    """
    p = war_cdf(value)
    if not ultimatum:
        p = np.where(value + _EPS >= status_quo, p, 0.0)
    return np.where(blocked, 0.0, p)


def cost_threshold(value: float, status_quo: float, war_value: float, ultimatum: bool) -> float:
    """The least private cost at which a side that is not blocked accepts: it accepts iff ``c >= theta``.

    From ``acceptance`` with the side's own cost: ``V + eps >= W - c`` iff ``c >= theta = W - V - eps``, where
    the status quo does not decide first; NaN where the answer does not depend on the cost (``V + eps < U(b)``
    away from an ultimatum: a refusal whatever ``c``). An answer is thus the event ``c >= theta`` or
    ``c < theta``, from which observers learn (``beliefs.observe``; Fearon 1995's screening)."""
    if not ultimatum and value + _EPS < status_quo:
        return float("nan")
    return war_value - value - _EPS


def answer_cutoff(side: Side, value: float, status_quo: float, ultimatum: bool) -> float:
    """The least cost at which ``side`` accepts a package worth ``value``, or NaN where the answer does not
    depend on the cost: ``cost_threshold``, or with a tabulated reservation (``Side.keep``, away from an
    ultimatum) ``theta(V + eps)`` of ``continuation.table_cutoff`` (NaN where every type or no type accepts).
    What observers learn from the answer (``beliefs.observe``)."""
    if side.keep is None or ultimatum:
        return cost_threshold(value, status_quo, side.war_value, ultimatum)
    theta = float(table_cutoff(*side.keep, value + _EPS))
    return theta if np.isfinite(theta) else float("nan")


def known_war_option(war_option: float) -> Callable[[Array], Array]:
    """``P(W - c <= V)`` for a side that knows its war option ``W - c``: ``1[W - c <= V + eps]``."""
    return lambda value: np.asarray(war_option <= value + _EPS, dtype=float)


class Sides:
    """Sides stacked into arrays (S, m), so that a batch of packages (K, m) is judged at once."""

    def __init__(self, sides: Sequence[Side], baseline: Array):
        self.pos = np.stack([s.position for s in sides])
        self.sal = np.stack([s.salience for s in sides])
        self.risk = np.array([s.risk for s in sides])[:, None]
        self.exponent = None if np.all(self.risk == 1.0) else self.risk  # None: linear, skips the power
        self.lo = np.stack([s.red_low for s in sides])
        self.hi = np.stack([s.red_high for s in sides])
        self.trust = np.array([s.trust for s in sides])
        self.legal = np.array([s.values_legal_form for s in sides])
        self.war = np.array([s.war_value for s in sides])
        self.prior_kind = np.array([s.prior[0] for s in sides])
        self.prior = np.array([s.prior[1:] for s in sides]).T  # low, mode, high rows
        self.kinds = frozenset(self.prior_kind.tolist())
        self.posterior = np.array([s.belief for s in sides]).T  # q_lo, q_hi rows
        self.learnt = bool((self.posterior != np.array([[0.0], [1.0]])).any())
        self.keep = None if any(s.keep is None for s in sides) else [s.keep for s in sides]
        self.linked = np.zeros(self.pos.shape, dtype=bool)
        for k, s in enumerate(sides):
            self.linked[k, sorted(s.linkage)] = True
        self.u_base = _utility(baseline, self.pos, self.sal, self.exponent)
        self.u_base_sum = self.u_base.sum(axis=-1)

    def trust_eff(self, binding: bool, legal_boost: float) -> Array:
        """Each side's trust in the proposer, raised by a legally binding form (``effective_trust``)."""
        return effective_trust(self.trust, self.legal, binding, legal_boost)

    def changes(self, outcome: Array, include: Array, compliance: Array, trust_eff: Array) -> Array:
        """Trust-discounted change of each side's utility, (K, m) packages -> (K, S)."""
        gains = weighted_gains(
            outcome[:, None, :],
            include[:, None, :],
            self.pos,
            self.sal,
            self.exponent,
            self.u_base,
            compliance,
            trust_eff[None, :, None],
        )
        return gains.sum(axis=-1)

    def war_cdf(self, value: Array) -> Array:
        """``P(W - c <= V) = S(W - V)`` under the proposer's posterior over each side's cost (sides on the last
        axis): the prior itself until an answer has taught the proposer something (``beliefs``, ODD 7.19)."""
        if not self.learnt:
            return survival(self.prior_kind, *self.prior, self.war - value, self.kinds)
        return posterior_survival(self.prior_kind, *self.prior, *self.posterior, self.war - value)

    def cutoffs(self, change: Array) -> Array:
        """``theta_s(V_s + eps)`` of each side's reservation table (``continuation.table_cutoff``), (K, S), for
        packages whose values are ``U_s(b) + change``."""
        assert self.keep is not None
        value = self.u_base_sum + change + _EPS
        return np.stack([table_cutoff(*k, value[..., s]) for s, k in enumerate(self.keep)], axis=-1)

    def belief(self, change: Array, crossed: Array, ultimatum: bool, red_lines_public: bool) -> Array:
        """The proposer's belief that each side accepts: ``acceptance`` over the cost prior, (K, S).

        Values are measured from the status quo: the status-quo test is ``change + eps >= 0``
        (``change >= -eps``), the war test ``S(W - (U(b) + change))``. ``crossed`` (K, S) blocks
        only if red lines are public; the sides' linkage is not part of the belief."""
        blocked = crossed if red_lines_public else np.zeros(crossed.shape, dtype=bool)
        if self.keep is not None and not ultimatum:  # P(c >= theta(V)) by each side's tabulated reservation
            accept = posterior_survival(self.prior_kind, *self.prior, *self.posterior, self.cutoffs(change))
            return np.where(blocked, 0.0, accept)
        return acceptance(change, 0.0, lambda c: self.war_cdf(self.u_base_sum + c), blocked, ultimatum)


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
    """Accept or reject a package (``acceptance`` for one side that knows its cost), with the log.

    Red lines first, then linkage (issue linkage; Sebenius 1983), then value against the
    alternative: accept iff ``V(x) + eps >= R`` with ``R = max(U(status quo), W - c)``, at an
    ultimatum ``R = W - c`` (Fearon 1995). ``V`` discounts promised gains by trust (the commitment
    problem); the logged trust discount is ``V(x; 1) - V(x; tau_eff)``.
    """
    one = Sides([side], baseline)
    tau = one.trust_eff(binding, legal_boost)
    x, inc = outcome[None], include[None]
    crossed = np.flatnonzero(crossings(outcome, include, side.red_low, side.red_high))
    missing = np.flatnonzero(one.linked[0] & open_issues & ~include)
    sq = float(one.u_base_sum[0])
    value = float(sq + one.changes(x, inc, compliance, tau)[0, 0])
    undiscounted = float(sq + one.changes(x, inc, compliance, np.ones(1))[0, 0])
    war = side.war_value - private_cost
    blocked = crossed.size + missing.size > 0
    if side.keep is not None and not ultimatum:  # the one account: what rejecting keeps (ODD 7.7)
        reservation = float(table_reservation(*side.keep, private_cost))
        ok = not blocked and value + _EPS >= reservation
        worse = (
            "worse than the status quo"
            if reservation <= sq + _EPS
            else "war is better"
            if war >= reservation
            else "continuing is better"
        )
    else:
        reservation = war if ultimatum else max(sq, war)
        ok = bool(acceptance(np.array(value), sq, known_war_option(war), blocked, ultimatum))
        worse = "war is better" if war > sq else "worse than the status quo"
    if crossed.size:
        reason = "crosses red line"
    elif missing.size:
        reason = "leaves out a linked issue"
    else:
        reason = "beats the alternative" if ok else worse
    return Evaluation(
        actor=side.id,
        accepted=ok,
        reason=reason,
        value=value,
        status_quo_value=sq,
        war_option=war,
        reservation=reservation,
        trust=side.trust,
        trust_effective=float(tau[0]),
        trust_discount=undiscounted - value,
        crossed_red_lines=crossed.tolist(),
        missing_linkage=missing.tolist(),
    )
