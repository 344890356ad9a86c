"""What every actor can get toward every other, as the model computes it from its state each step.

``Dyads`` is a mixin of ``DiplomacyModel``: the spoils and war values of every ordered pair (ODD 7.4, 7.5),
each actor's belief that another would attack it (7.14, 7.19), and the one account of what an actor compares
war with (``sim.rules.values``; 7.14), recomputed only when something they read has changed, and the kernel the
actors choose their rungs from (``sim.rules.ladder``). The rules are in
``sim.rules``; this module gathers their inputs from the model's arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from sim.rules import values as dyad
from sim.rules.beliefs import cdf, observe, posterior_survival, quantile
from sim.rules.coalitions import coalition_win_probability, war_values
from sim.rules.continuation import TYPE_POINTS
from sim.rules.frontier import Frontier, frontier
from sim.rules.ladder import LadderKernel, band_rungs
from sim.rules.meetings import NextMeeting, next_meetings
from sim.rules.spoils import consent_intervals, disputes, spoils_by_issue, war_outcomes
from sim.rules.utility import issue_utilities

T = TypeVar("T")


class Dyads:
    """War values, attack beliefs and the value of not attacking, for ``DiplomacyModel``."""

    # State this mixin reads (set by the model's ``_build_arrays`` and ``__init__``).
    position: np.ndarray
    salience: np.ndarray
    risk: np.ndarray
    red_low: np.ndarray
    red_high: np.ndarray
    baseline: np.ndarray
    party: np.ndarray
    capability: np.ndarray
    competence: np.ndarray
    compliance: np.ndarray
    allowed: list[Any]
    agreed: np.ndarray
    trust: np.ndarray
    linked: np.ndarray
    reliability: np.ndarray
    perception: np.ndarray
    threat_cost: np.ndarray
    can_fight: np.ndarray
    private_cost: np.ndarray
    belief_lo: np.ndarray
    belief_hi: np.ndarray
    priors: Any
    params: Any
    config: Any
    venue_steps: np.ndarray
    venue_parts: np.ndarray
    venue_agenda: np.ndarray
    venue_proposers: list[list[int]]
    venue_ultimatum: np.ndarray
    rung: np.ndarray
    war_index: int
    baseline_rung: int
    rng: np.random.Generator
    learners: np.ndarray
    revealing: np.ndarray
    _war_key: bytes | None
    _memos: dict[str, tuple[bytes, Any]]

    def u_base(self) -> np.ndarray:
        """``U_i(b)``, each actor's value of the current baseline, ``(n,)``."""
        return issue_utilities(self.baseline[None, :], self.position, self.salience, self.risk).sum(axis=1)

    def win_matrix(self) -> np.ndarray:
        """``P[i, t]``: the chance ``i`` believes it has of prevailing when it attacks ``t``, ``t``'s committed
        defenders joining with their reliability (ODD 7.4; misperception included)."""
        local = np.repeat(self.capability[:, None], len(self.capability), axis=1)
        return coalition_win_probability(local, self.reliability, self.perception)

    def _consent(self) -> tuple[np.ndarray, np.ndarray]:
        return consent_intervals(
            self.position, self.salience, self.red_low, self.red_high, self.baseline, self.competence, self.allowed
        )

    def _disputes(self, lo: np.ndarray, hi: np.ndarray) -> tuple[Any, np.ndarray]:
        won = war_outcomes(self.position, self.salience, lo, hi, self.baseline, self.competence, self.allowed)
        return won, disputes(won.x_win, won.z, self.position, self.salience, self.risk, self.competence)

    def spoils_by_issue(self) -> tuple[np.ndarray, np.ndarray]:
        """Per issue, what ``i`` would gain by defeating ``t`` and lose if ``t`` defeated it, ``(n, n, m)``: only
        the issues in dispute change, and the victor takes only the loser's consent (ODD 7.5)."""
        won, disputed = self._disputes(*self._consent())
        bound = self.party * self.params.breach_cost
        return spoils_by_issue(won.x_win, disputed, self.position, self.salience, self.risk, self.baseline, bound)

    def refresh_war(self) -> None:
        """Spoils, war values of attacker and target, and each actor's best war (ODD 7.4, 7.5), from the current
        positions, baseline and parties: called before the venues, before every package tabled (an agreement
        earlier in the step moves the baseline every value is measured from) and before the rungs."""
        # Everything they depend on that can change during a run; unchanged since the last refresh, nothing to do.
        key = b"".join(a.tobytes() for a in (self.position, self.salience, self.baseline, self.party, self.capability))
        if key == self._war_key:
            return
        self._war_key = key
        self.consent_lo, self.consent_hi = self._consent()
        won, self.disputed = self._disputes(self.consent_lo, self.consent_hi)
        bound = self.party * self.params.breach_cost
        gain, loss = spoils_by_issue(
            won.x_win, self.disputed, self.position, self.salience, self.risk, self.baseline, bound
        )
        self.gain, self.loss = gain.sum(axis=2), loss.sum(axis=2)
        self.u_base_sum = self.u_base()
        self.war, self.war_def = war_values(self.u_base_sum, self.gain, self.loss, self.win_matrix(), self.threat_cost)
        # War is fought only over what divides the two sides: nothing to gain, no attack.
        self.attackable = self.can_fight & (self.gain > 0.0)
        masked = np.where(self.attackable, self.war, -np.inf)
        self.best_war = np.where(self.attackable.any(axis=1), masked.max(axis=1), -np.inf)

    def _memo(self, name: str, key: bytes, compute: Callable[[], T]) -> T:
        """``compute()``, or its last value if ``key`` (the bytes of everything it reads) is unchanged: most days
        of a long crisis change nothing the values depend on."""
        last = self._memos.get(name)
        if last is None or last[0] != key:
            last = self._memos[name] = (key, compute())
        return last[1]

    def learn(self, i: int, threshold: float, accepted: bool) -> None:
        """Every other actor observes ``i``'s answer, the event ``c_i >= threshold`` (accepted) or below it, and
        updates its belief by Bayes' rule (ODD 7.19) if its policy updates beliefs (``learners``); an answer that
        did not depend on the cost teaches nothing."""
        if np.isnan(threshold):
            return
        q = float(cdf(*self.priors.prior(i), threshold))
        lo, hi = observe(self.belief_lo[:, i], self.belief_hi[:, i], q, below=not accepted)
        self.belief_lo[:, i] = np.where(self.learners, lo, self.belief_lo[:, i])
        self.belief_hi[:, i] = np.where(self.learners, hi, self.belief_hi[:, i])

    def attack_beliefs(self) -> np.ndarray:
        """``pi[i, t]``: ``i``'s belief that ``t`` would attack it if talks fail, ``P_i(c_t < W[t, i] - U_t(b))``
        under ``i``'s posterior (ODD 7.14, 7.19); 0 where ``t`` has nothing to gain by it."""
        pr = self.priors
        holds = posterior_survival(
            pr.kind, pr.low, pr.mode, pr.high, self.belief_lo, self.belief_hi, self.war.T - self.u_base_sum
        )
        return np.where(self.attackable.T, 1.0 - holds, 0.0)

    def next_meeting(self, t: int) -> NextMeeting:
        """Every pair's next meeting after the venues of step ``t`` (``meetings.next_meetings``)."""
        return next_meetings(
            self.venue_steps,
            self.venue_parts,
            self.venue_proposers,
            self.venue_ultimatum,
            t,
            self.config.calendar.step_days,
        )

    def dyad_values(self, t: int) -> dyad.DyadValues:
        """What each actor compares war on every other with after the venues of step ``t`` (ODD 7.14), with the
        fallback and the talks' worth (``sim.rules.values``); recomputed only when an input changed."""
        g, key = self._game(t)
        return self._memo("values", key, lambda: dyad.values(self.private_cost, g))

    def reservation(self, t: int, s: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(types, R~)``: what each type of ``s`` keeps by rejecting ``k``'s package at a venue of step ``t``
        (``values.reservation``, ODD 7.7), on ``TYPE_POINTS`` types spanning ``s``'s cost prior."""
        g, _ = self._game(t)
        types = self._types(s)
        return types, dyad.reservation(g, s, k, types, self.teaches(s, k))

    def no_deal_table(self, t: int, k: int, r: int) -> tuple[np.ndarray, np.ndarray]:
        """``(cut-offs, N)``: what proposer ``k`` keeps if ``r`` rejects its package at a venue of step ``t``,
        by the cut-off the rejection reveals (``values.no_deal``), on ``r``'s grid of types."""
        g, _ = self._game(t)
        types = self._types(r)
        return types, dyad.no_deal(g, k, r, float(self.private_cost[k]), types, self.teaches(r, k))

    def teaches(self, s: int, k: int) -> bool:
        """Whether ``s``'s rejection of ``k``'s package teaches ``k`` anything (ODD 7.19, 7.20): red lines public
        (else a refusal cannot be told from a block), ``s``'s policy reveals its type and ``k``'s learns."""
        public = self.config.beliefs.red_lines == "public"
        return bool(public and self.revealing[s] and self.learners[k])

    def _types(self, s: int) -> np.ndarray:
        """``TYPE_POINTS`` equally spaced types spanning ``s``'s cost prior (one point for a fixed cost)."""
        kind, low, mode, high = self.priors.prior(s)
        return np.linspace(quantile(kind, low, mode, high, 0.0), quantile(kind, low, mode, high, 1.0), TYPE_POINTS)

    def _game(self, t: int) -> tuple[dyad.Game, bytes]:
        """Every pair's game at its next meeting after step ``t`` (``values.game``) and the key of its inputs."""
        meeting = self.next_meeting(t)
        # Not the days to the meeting: nothing reads them until rungs cost something to hold (``values.Game``).
        state = (self.belief_lo, self.belief_hi, self.trust, self.agreed, meeting.proposer, meeting.venue)
        key = (self._war_key or b"") + b"".join(a.tobytes() for a in state)
        return self._memo("game", key, lambda: self._dyad_game(meeting)), key

    def _dyad_game(self, meeting: NextMeeting) -> dyad.Game:
        # The frontier does not change as the meeting draws nearer: memoized apart (most days move only the days).
        key = (self._war_key or b"") + b"".join(a.tobytes() for a in (self.trust, self.agreed, meeting.venue))
        fr = self._memo("frontier", key, lambda: self._frontier(meeting))
        pr = self.priors
        return dyad.game(
            self.war,
            self.war_def,
            self.u_base_sum,
            self.attackable,
            self.attack_beliefs(),
            dyad.Priors(pr.kind, pr.low, pr.mode, pr.high),
            self.belief_lo,
            self.belief_hi,
            fr,
            meeting,
        )

    def _frontier(self, meeting: NextMeeting) -> Frontier:
        # The issues each pair's next meeting can settle: its agenda, less what is agreed.
        open_issues = self.venue_agenda[np.maximum(meeting.venue, 0)] & ~self.agreed
        return frontier(
            self.position,
            self.salience,
            self.risk,
            self.red_low,
            self.red_high,
            self.baseline,
            self.allowed,
            self.consent_lo,
            self.consent_hi,
            self.disputed,
            self.gain,
            self.loss,
            self.linked,
            open_issues,
            self.compliance,
            self.trust,
        )

    def ladder_kernel(self, t: int) -> LadderKernel:
        """What every actor chooses its rungs from after the venues of step ``t``: the net value of war
        ``W - c - K`` for every dyad, with the model's noise (drawn for all dyads whatever the policies, so that
        the random stream does not depend on them), and the default policy's next rungs (``ladder.band_rungs``)."""
        p = self.params
        values = self.dyad_values(t)
        net = self.war - self.private_cost[:, None] - values.calm
        noisy = net + p.noise * self.rng.standard_normal(net.shape)
        return LadderKernel(
            values=values,
            net=net,
            noisy=noisy,
            chosen=band_rungs(noisy, self.rung, self.attackable, self.war_index, self.baseline_rung, p.rung_band),
            rung=self.rung,
            war=self.war,
            private_cost=self.private_cost,
            u_base=self.u_base_sum,
            attackable=self.attackable,
            war_index=self.war_index,
            baseline_rung=self.baseline_rung,
        )
