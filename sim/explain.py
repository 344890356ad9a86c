"""Why did it happen? A run's decisive moments, each decision taken apart into the terms the model combined.

``DiplomacyModel(config, rng=seed, explain=True)`` gives the model an :class:`Explainer`, which records, as
each decision is made, the values it was made from: every climb up the escalation ladder (from
``_choose_rungs``, before trust and rungs move) and every answer to a package at a venue (from
``venues._log_decision``). The run itself is unchanged: recording draws no random number and writes
nothing the model reads. ``decisive_moments(model)`` then lists, in the order they happened,

* each step up the ladder (``escalation``),
* each refusal of a package at a venue or in ratification (``rejection``),
* each acceptance of a package that became an agreement (``acceptance``),

each as a :class:`Moment`: its terms (``sim.explain_terms``) summing to its margin, the single changes that
would have flipped it, re-made through the model's own rule functions, and the suggested one (the smallest).
The command line (``dipsim explain``) and the page's "why?" view show them; docs/ODD.md section 7.18 defines
the margins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sim.explain_answers import AnswerCase, answer_flips, answer_margin, answer_terms
from sim.explain_terms import ClimbCase, Flip, Term, climb_flips, climb_terms, prior_support, suggest
from sim.rules.acceptance import Evaluation, Side
from sim.rules.bargaining import Problem, Proposal
from sim.rules.dynamics import climb_threshold
from sim.rules.values import DyadValues
from sim.world import World

KINDS = ("escalation", "rejection", "acceptance")


@dataclass
class Moment:
    """One decisive decision: who decided what toward whom, its terms, margin and flips."""

    kind: str  # escalation | rejection | acceptance
    step: int
    date: str
    actor: str
    counterpart: str  # the target of a climb; the proposer of a package
    venue: str | None
    decision: str
    reason: str
    margin: float
    terms: list[Term]
    flips: list[Flip]
    blocks: list[str] = field(default_factory=list)
    agreement: list[str] = field(default_factory=list)  # issues agreed through the package accepted
    case: ClimbCase | AnswerCase | None = field(default=None, repr=False)

    @property
    def flip(self) -> Flip | None:
        """The suggested flip: the smallest change that flips the decision (see ``explain_terms.suggest``)."""
        return suggest(self.flips)

    def heading(self) -> str:
        """One line: when, who, what toward whom, and why (the rule's own reason)."""
        if self.kind == "escalation":
            return f"{self.date}  ESCALATION  {self.actor} -> {self.counterpart}: {self.decision} ({self.reason})"
        agreed = f"; agreement on {', '.join(self.agreement)}" if self.agreement else ""
        return (
            f"{self.date}  {self.kind.upper()}  {self.actor} {self.decision} {self.counterpart}'s package at "
            f"{self.venue}: {self.reason}{agreed}"
        )

    def flip_text(self) -> str:
        """The suggested flip in words, or why there is none."""
        f = self.flip
        if f is None:
            if len(self.blocks) > 1:
                return "no single change flips it (more than one block stands)"
            why = "removing its block alone does not" if self.blocks else "no single input can move it far enough"
            return f"no single change flips it ({why})"
        where = "" if f.in_range else " (outside the values it can take)"
        return f"{f.lever} {f.from_value:.4f} -> {f.to_value:.4f}{where}; term {f.term} changes by {f.change:+.4f}"

    def to_dict(self) -> dict[str, Any]:
        """The moment as plain JSON values (its recorded inputs left out)."""
        d = {k: v for k, v in asdict(self).items() if k != "case"}
        d["terms_sum"] = float(sum(t.value for t in self.terms))
        d["flip"] = None if self.flip is None else asdict(self.flip)
        return d


@dataclass
class _Answer:
    step: int
    venue: str
    proposer: str
    ratification: bool
    ev: Evaluation
    case: AnswerCase


class Explainer:
    """Records the inputs of each decision as the model makes it (``DiplomacyModel(explain=True)``)."""

    def __init__(self) -> None:
        self.climbs: list[Moment] = []
        self.answers: list[_Answer] = []
        self._taken_apart: dict[tuple[int, str], Moment] = {}

    # ------------------------------------------------------------------ recording (called by the model)

    def rungs(self, model: Any, t: int, values: DyadValues, noisy: np.ndarray, new: np.ndarray) -> None:
        """Every climb of this step, with the values ``_choose_rungs`` combined: ``W`` (``war_values``' summands
        per issue, ``spoils_by_issue``), the cost draw, and what it was compared with, ``K = F + option``
        (``sim.rules.values``): the expected loss should the target attack, ``U_i(b) - F``, and the talks'
        worth; then the noise."""
        up = np.argwhere(new > model.rung)
        if not up.size:
            return
        prm = model.params
        win_prob = model.win_matrix()
        gain, loss = model.spoils_by_issue()
        for i, k in up:
            rung = int(model.rung[i, k])
            case = ClimbCase(
                base=float(model.u_base_sum[i]),
                win=gain[i, k].copy(),
                lose=loss[i, k].copy(),
                win_prob=float(win_prob[i, k]),
                threat=float(model.threat_cost[i, k]),
                cost=float(model.private_cost[i]),
                cost_range=prior_support(model.priors.prior(int(i))),
                threatened=float(model.u_base_sum[i] - values.fallback[i, k]),
                talks=float(values.option[i, k]),
                noise=float(noisy[i, k] - (model.war[i, k] - model.private_cost[i] - values.calm[i, k])),
                sigma=float(prm.noise),
                rung=rung,
                war_index=int(model.war_index),
                band=float(prm.rung_band),
                threshold=climb_threshold(rung, int(model.war_index), float(prm.rung_band)),
            )
            margin = float(noisy[i, k]) - case.threshold
            terms = climb_terms(case, model.issue_ids)
            self.climbs.append(
                Moment(
                    kind="escalation",
                    step=t,
                    date=model.config.calendar.date_of(t).isoformat(),
                    actor=model.actor_ids[i],
                    counterpart=model.actor_ids[k],
                    venue=None,
                    decision=f"climbs {model.ladder_ids[rung]} -> {model.ladder_ids[new[i, k]]}",
                    reason=f"net war value {float(noisy[i, k]):+.4f} {'>' if rung + 1 >= model.war_index else '>='} "
                    f"threshold {case.threshold:+.4f}",
                    margin=margin,
                    terms=terms,
                    flips=climb_flips(case, terms, margin, float(case.win.sum() - case.lose.sum())),
                    case=case,
                )
            )

    def evaluation(
        self,
        world: World,
        step: int,
        venue: str,
        proposer: int,
        side: Side,
        proposal: Proposal,
        problem: Problem,
        ev: Evaluation,
        ratification: bool,
    ) -> None:
        """An answer to a package, with ``evaluate``'s inputs as they were (taken apart only if it is decisive);
        only the default policy's answers, which are ``evaluate``'s (``DiplomacyModel.explained``)."""
        if not world.explained[world.index_of[side.id]]:
            return
        cost = float(world.private_cost[world.index_of[side.id]])
        case = AnswerCase.of(side, proposal, problem, cost)
        self.answers.append(_Answer(step, venue, world.actor_ids[proposer], ratification, ev, case))

    # ------------------------------------------------------------------ reading

    def answer_moment(self, n: int, world: Any, kind: str, agreement: list[str]) -> Moment:
        """The ``n``-th answer recorded, taken apart (once: a page asks again after every step)."""
        key = (n, f"{kind}:{','.join(agreement)}")
        if key not in self._taken_apart:
            self._taken_apart[key] = self._take_apart(self.answers[n], world, kind, agreement)
        return self._taken_apart[key]

    def _take_apart(self, a: _Answer, world: Any, kind: str, agreement: list[str]) -> Moment:
        ids = world.issue_ids
        ev = a.ev
        blocks = [f"crosses its red line on {ids[j]}" for j in ev.crossed_red_lines]
        blocks += [f"leaves out linked issue {ids[j]}" for j in ev.missing_linkage]
        where = f"{a.venue} (ratification)" if a.ratification else a.venue
        return Moment(
            kind=kind,
            step=a.step,
            date=world.config.calendar.date_of(a.step).isoformat(),
            actor=ev.actor,
            counterpart=a.proposer,
            venue=where,
            decision="accepts" if ev.accepted else "rejects",
            reason=ev.reason,
            margin=answer_margin(ev),
            terms=answer_terms(a.case, ev, ids),
            flips=answer_flips(a.case, ev, ids),
            blocks=blocks,
            agreement=agreement,
            case=a.case,
        )


def _agreed_by_proposal(world: Any) -> dict[tuple[int, str, str], list[str]]:
    """``(step, venue, proposer)`` of each adopted package that made agreements, with the issues agreed."""
    out: dict[tuple[int, str, str], list[str]] = {}
    for a in world.agreements:
        for v in world.venue_log:
            if v["id"] != a["venue"] or v["step"] != a["step"]:
                continue
            for p in v["proposals"]:
                if p["adopted"] and p["package"].get(a["issue"]) == a["value"]:
                    out.setdefault((a["step"], a["venue"], p["proposer"]), []).append(a["issue"])
                    break
    return out


def decisive_moments(world: Any, kinds: tuple[str, ...] = KINDS) -> list[Moment]:
    """The run's decisive moments so far, in the order they were decided (a step's venues before its rungs).

    ``world`` is a model made with ``explain=True``."""
    rec: Explainer | None = getattr(world, "explainer", None)
    if rec is None:
        raise ValueError("the model records no decisions: make it with explain=True")
    agreed = _agreed_by_proposal(world)
    out: list[tuple[int, int, int, Moment]] = []
    for n, a in enumerate(rec.answers):
        issues = agreed.get((a.step, a.venue, a.proposer), [])
        kind = "rejection" if not a.ev.accepted else "acceptance" if issues else None
        if kind in kinds:
            out.append((a.step, 0, n, rec.answer_moment(n, world, kind, issues)))
    if "escalation" in kinds:
        out += [(m.step, 1, n, m) for n, m in enumerate(rec.climbs)]
    return [m for *_, m in sorted(out, key=lambda x: x[:3])]
