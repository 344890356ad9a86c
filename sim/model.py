"""DiplomacyModel: states and blocs negotiating at scheduled venues on an escalation ladder.

One step is one calendar step (a day by default), in this order: exogenous events; the day's
venues (proposals, evaluations, agreements, position and trust updates); members' pull toward
their blocs; each actor's choice of rung toward every other actor; the end-of-run check; data
collection. The rules are pure functions in ``sim.rules`` and the venue protocol is
``sim.venues``; this module keeps the state in numpy arrays, with agents as views on them, and
steps it. Agents and venues see the model only as a ``sim.world.World``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd
from pydantic import ValidationError

from agents.agents import AGENT_CLASSES, DiplomaticActor
from sim.dyads import Dyads
from sim.explain import Explainer
from sim.loading import config_sha256, load_scenario
from sim.messages import ScenarioError
from sim.params import Parameters
from sim.result import RunResult
from sim.rules.acceptance import Side
from sim.rules.coalitions import reliability
from sim.rules.dynamics import pull_toward_bloc, update_trust
from sim.rules.war import CostPriors
from sim.scenario import Scenario
from sim.scenario_parts import Venue
from sim.venues import DECISION_COLUMNS, hold


class DiplomacyModel(Dyads, mesa.Model):
    """Agent-based model of crisis diplomacy.

    ``DiplomacyModel(config=<path or Scenario>, rng=<int>, **params)``: ``config`` defaults to the
    bundled 2022 scenario; keyword parameters override the scenario's ``parameters`` block.
    ``explain=True`` records the terms of every decision (``sim.explain``; off by default: sweeps
    pay nothing for it), and changes nothing in the run.
    """

    def __init__(
        self,
        config: str | Path | Scenario | None = None,
        rng: int | None = None,
        *,
        explain: bool = False,
        **params: Any,
    ):
        super().__init__(rng=rng)
        sc = config if isinstance(config, Scenario) else load_scenario(config)
        try:
            self.params = Parameters(**{**sc.parameters.model_dump(), **params})
        except ValidationError as exc:
            raise ScenarioError(
                "parameters", [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
            ) from None
        self.config = sc
        self.seed = rng if isinstance(rng, int) else None  # a Generator or None is not a reproducible seed
        self.config_sha256 = config_sha256(sc)
        self._build_arrays(sc)
        self.actor_agents: list[DiplomaticActor] = [AGENT_CLASSES[a.kind](self, a, i) for i, a in enumerate(sc.actors)]
        self.policies = [a.policy.name for a in self.actor_agents]
        self.explained = np.array([name == "bayesian" for name in self.policies])  # whose choices sim.explain reads
        self.learners = np.array([bool(a.policy.classifier["updates_beliefs"]) for a in self.actor_agents])
        self.revealing = np.array([bool(a.policy.classifier["reveals_type"]) for a in self.actor_agents])
        self.private_cost = self.priors.sample(self.rng)
        n = len(self.actor_ids)
        # belief_lo[k, i], belief_hi[k, i]: k's posterior over i's cost is the prior truncated to these quantiles.
        self.belief_lo, self.belief_hi = np.zeros((n, n)), np.ones((n, n))
        self.initial_position = self.position.copy()
        self.demand = self.position.copy()  # until an actor tables or accepts something, its ideal point
        self.day = 0  # index of the next calendar step to simulate
        self.outcome: str | None = None
        self.escalation: dict[str, Any] | None = None
        self.agreements: list[dict[str, Any]] = []
        self.venue_log: list[dict[str, Any]] = []
        self.escalation_log: list[dict[str, Any]] = []
        self.max_rung_index = int(self.rung.max())
        self.explainer = Explainer() if explain else None
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "date": lambda m: m.date.isoformat(),
                "positions": lambda m: m.position.copy(),
                "demand": lambda m: m.demand.copy(),
                "trust": lambda m: m.trust.copy(),
                "rungs": lambda m: m.rung.copy(),
                "agreed": lambda m: m.agreed.copy(),
                "beliefs": lambda m: np.stack([m.belief_lo, m.belief_hi]),
            },
            tables={
                "decisions": DECISION_COLUMNS,
            },
        )
        self.running = True
        self._war_key: bytes | None = None  # the inputs of the last war refresh (see refresh_war)
        self._memos: dict[str, tuple[bytes, np.ndarray]] = {}
        self.refresh_war()  # war values and spoils exist from the start, as ``World`` promises (no random draw)

    # ------------------------------------------------------------------ state

    def _build_arrays(self, sc: Scenario) -> None:
        self.actor_ids = sc.actor_ids
        self.issue_ids = sc.issue_ids
        self.index_of = {a: i for i, a in enumerate(self.actor_ids)}
        self.issue_index = {j: k for k, j in enumerate(self.issue_ids)}
        n, m = len(self.actor_ids), len(self.issue_ids)
        self.kind = np.array([a.kind for a in sc.actors])
        self.capability = np.array([a.capability for a in sc.actors], dtype=float)
        self.position = np.zeros((n, m))
        self.salience = np.zeros((n, m))
        self.red_low = np.zeros((n, m))
        self.red_high = np.ones((n, m))
        for i, a in enumerate(sc.actors):
            for iid, pos in a.positions.items():
                j = self.issue_index[iid]
                self.position[i, j] = pos.ideal
                self.salience[i, j] = pos.salience
                if pos.red_line is not None:
                    self.red_low[i, j], self.red_high[i, j] = pos.red_line
        self.risk = np.array([a.traits.risk_attitude for a in sc.actors])
        self.linked = np.zeros((n, m), dtype=bool)  # the open issues an actor refuses to see left out
        for i, a in enumerate(sc.actors):
            self.linked[i, [self.issue_index[j] for j in a.traits.linkage]] = True
        self.compliance = np.array([iss.compliance for iss in sc.issues])
        self.allowed = [iss.values for iss in sc.issues]
        self.status_quo = np.array([iss.status_quo for iss in sc.issues])
        self.baseline = self.status_quo.copy()
        self.agreed = np.zeros(m, dtype=bool)
        self.party = np.zeros((n, m))  # 1 where the actor is bound by an agreement on the issue
        self.competence = np.zeros((n, m), dtype=bool)
        for j, iss in enumerate(sc.issues):
            if iss.competence:
                self.competence[[self.index_of[a] for a in iss.competence], j] = True
            else:
                self.competence[:, j] = self.salience[:, j] > 0
        self.trust = np.full((n, n), sc.trust.default)
        for frm, row in (sc.trust.__pydantic_extra__ or {}).items():
            for to, v in row.items():
                self.trust[self.index_of[frm], self.index_of[to]] = v
        np.fill_diagonal(self.trust, 1.0)
        self.ladder_ids = [r.id for r in sc.ladder.rungs]
        self.ladder_scores = np.array([r.score for r in sc.ladder.rungs])
        self.war_index = sc.ladder.index(sc.ladder.war)
        self.baseline_rung = sc.ladder.index(sc.ladder.baseline)
        self.rung = np.full((n, n), self.baseline_rung, dtype=int)
        for i, a in enumerate(sc.actors):
            if a.initial_rung.default is not None:
                self.rung[i, :] = sc.ladder.index(a.initial_rung.default)
            for tgt, r in a.initial_rung.toward.items():
                self.rung[i, self.index_of[tgt]] = sc.ladder.index(r)
        np.fill_diagonal(self.rung, sc.ladder.index(sc.ladder.baseline))
        fighter = self.kind != "organisation"
        self.can_fight = fighter[:, None] & fighter[None, :] & ~np.eye(n, dtype=bool)
        self.members = {i: [self.index_of[x] for x in a.members] for i, a in enumerate(sc.actors) if a.members}
        # Sides: actors linked by bloc membership form one side; agreements are made between sides.
        self.side_of = np.arange(n)
        for b, ms in self.members.items():
            for x in ms:
                old, new = self.side_of[x], self.side_of[b]
                self.side_of[self.side_of == old] = new
        # Defence commitments (ODD 7.4): a bloc and its members, and co-members, defend one another; a public
        # deterrence threat commits its author to the actors it protects. Sanctions threats stay costs (7.5).
        treaties = {(b, x) for b, ms in self.members.items() for x in ms}
        treaties |= {(x, y) for ms in self.members.values() for x in ms for y in ms if x < y}
        deterrence: list[tuple[int, int, float, float]] = []
        self.threat_cost = np.zeros((n, n))
        for i, a in enumerate(sc.actors):
            for t in a.threats:
                for victim in t.protects:
                    if t.kind == "sanctions":
                        self.threat_cost[self.index_of[t.target], self.index_of[victim]] += t.cost * a.traits.resolve
                    else:
                        deterrence.append((i, self.index_of[victim], a.traits.resolve, t.cost))
        # Only actors that can fight can join a war: organisations commit no one.
        self.reliability = reliability(
            n,
            [(d, t) for d, t in treaties if fighter[d] and fighter[t]],
            [x for x in deterrence if fighter[x[0]]],
            self.params.alliance_reliability,
        )
        self.perception = np.ones((n, n))
        for mp in sc.beliefs.misperception:
            self.perception[self.index_of[mp.observer], self.index_of[mp.target]] = mp.capability_factor
        priors = [a.conflict_cost for a in sc.actors]
        self.priors = CostPriors(
            [p.distribution for p in priors],
            [p.low for p in priors],
            [p.mode if p.mode is not None else p.low for p in priors],
            [p.high for p in priors],
        )
        self.venues_by_step: dict[int, list[Venue]] = {}
        for v in sorted(sc.venues, key=lambda v: v.date):
            self.venues_by_step.setdefault(sc.calendar.step_of(v.date), []).append(v)
        self.events_by_step: dict[int, list[Any]] = {}
        for e in sc.events:
            self.events_by_step.setdefault(sc.calendar.step_of(e.date), []).append(e)
        # The calendar as arrays, venues in the order they are held (``sim.rules.meetings`` reads them).
        held = [(s, v) for s in sorted(self.venues_by_step) for v in self.venues_by_step[s]]
        self.venue_steps = np.array([s for s, _ in held], dtype=int)
        self.venue_parts = np.zeros((len(held), n), dtype=bool)
        self.venue_agenda = np.zeros((max(len(held), 1), m), dtype=bool)  # one empty row if there is no venue
        self.venue_proposers = [[self.index_of[a] for a in v.order] for _, v in held]
        self.venue_ultimatum = np.array([v.format == "ultimatum" for _, v in held], dtype=bool)
        self.venue_ids = [v.id for _, v in held]
        for x, (_, v) in enumerate(held):
            self.venue_parts[x, [self.index_of[a] for a in v.participants]] = True
            self.venue_agenda[x, [self.issue_index[j] for j in v.agenda]] = True
        on_agenda = {iid for v in sc.venues for iid in v.agenda}
        self.agenda_issues = np.array([iid in on_agenda for iid in self.issue_ids])

    @property
    def date(self) -> dt.date:
        """Date of the last simulated step (the start date before the first)."""
        return self.config.calendar.date_of(max(self.day - 1, 0))

    @property
    def n_steps(self) -> int:
        return self.config.calendar.n_steps

    def side_facing(self, i: int, proposer: int, ultimatum: bool) -> Side:
        """Actor ``i`` as a recipient of ``proposer``'s package: at an ultimatum it weighs the war ``proposer``
        starts (ODD 7.8); elsewhere what rejecting keeps, its continuation with ``proposer`` (ODD 7.7)."""
        war = self.war_def[i, proposer] if ultimatum else np.where(self.attackable, self.war, -np.inf)[i, proposer]
        belief = (float(self.belief_lo[proposer, i]), float(self.belief_hi[proposer, i]))
        side = self.actor_agents[i].side(self.trust[i, proposer], war, belief)
        return side if ultimatum else replace(side, keep=self.reservation(self.day, i, proposer))

    # ------------------------------------------------------------------ step

    def step(self) -> None:
        """Advance one calendar step; does nothing once the run has ended."""
        if not self.running:
            return
        t = self.day
        self._apply_events(t)
        venues = self.venues_by_step.get(t, [])
        if venues:
            self.refresh_war()
        for venue in venues:
            if self.outcome is None:
                hold(self, venue, t)
        if self.outcome is None:
            self._bloc_pull()
            self.refresh_war()
            self._choose_rungs(t)
        self.day += 1
        if self.outcome is None:
            if self.agenda_issues.any() and self.agreed[self.agenda_issues].all():
                self.outcome = "agreement"
            elif self.day >= self.n_steps:
                self.outcome = "stalemate"
        self.datacollector.collect(self)
        if self.outcome is not None:
            self.running = False

    def run(self, max_steps: int | None = None) -> RunResult:
        """Step to the end of the run (or at most ``max_steps`` more steps) and return the result."""
        limit = self.n_steps if max_steps is None else min(self.day + max_steps, self.n_steps)
        while self.running and self.day < limit:
            self.step()
        return self.result()

    def _apply_events(self, t: int) -> None:
        for e in self.events_by_step.get(t, []):
            i = self.index_of[e.actor]
            if e.kind == "capability":
                self.capability[i] = max(0.0, self.capability[i] + e.delta)
            elif e.kind == "trust":
                k = self.index_of[e.target]
                self.trust[i, k] = float(np.clip(self.trust[i, k] + e.delta, 0.0, 1.0))
            else:
                j = self.issue_index[e.issue]
                self.salience[i, j] = float(np.clip(self.salience[i, j] + e.delta, 0.0, 1.0))

    # ------------------------------------------------------------------ blocs and escalation

    def _bloc_pull(self) -> None:
        for b, ms in self.members.items():
            for i in ms:
                shared = (self.salience[i] > 0) & (self.salience[b] > 0) & ~self.agreed
                self.position[i] = pull_toward_bloc(
                    self.position[i], self.position[b], shared, self.red_low[i], self.red_high[i], self.params.bloc_pull
                )

    def _choose_rungs(self, t: int) -> None:
        """Each actor picks its rung toward every other by its policy, all from the same state (synchronous): one
        kernel for the step, then Mesa's AgentSet calls every agent in creation order (row ``i`` is actor ``i``)."""
        p = self.params
        kernel = self.ladder_kernel(t)
        calm, net, noisy = kernel.values.calm, kernel.net, kernel.noisy
        chosen = np.stack(self.agents.map("choose_rungs", kernel))
        new = np.where(self.can_fight, chosen, self.rung)
        if self.explainer is not None:  # before trust and rungs move: the state the choice was made in
            # sim.explain takes apart the default policy's climbs only (its terms are the band ladder's).
            self.explainer.rungs(self, t, kernel.values, noisy, np.where(self.explained[:, None], new, self.rung))
        # Escalation toward an actor costs its trust, de-escalation earns a little (reciprocity).
        war_score = self.ladder_scores[self.war_index]
        d_score = (self.ladder_scores[new] - self.ladder_scores[self.rung]) / (war_score if war_score > 0 else 1.0)
        # d_score[i, k] is i's move toward k, so k's trust in i changes: transpose.
        self.trust = update_trust(
            self.trust, np.maximum(-d_score, 0).T, np.maximum(d_score, 0).T, p.trust_gain, p.loss_aversion
        )
        np.fill_diagonal(self.trust, 1.0)
        for i, k in np.argwhere(new > self.rung):  # escalations are logged with what was compared
            self.escalation_log.append(
                {
                    "step": t,
                    "date": self.config.calendar.date_of(t).isoformat(),
                    "actor": self.actor_ids[i],
                    "target": self.actor_ids[k],
                    "from": self.ladder_ids[self.rung[i, k]],
                    "to": self.ladder_ids[new[i, k]],
                    "war_value": float(self.war[i, k] - self.private_cost[i]),
                    "peace_value": float(calm[i, k]),
                    "noise": float(noisy[i, k] - net[i, k]),
                }
            )
        self.rung = new
        self.max_rung_index = max(self.max_rung_index, int(new.max()))
        at_war = np.argwhere(new == self.war_index)
        if len(at_war):
            i, k = max(at_war, key=lambda ik: (noisy[ik[0], ik[1]], -ik[0], -ik[1]))
            self.record_war(int(i), int(k), t)

    def record_war(self, i: int, k: int, t: int) -> None:
        self.rung[i, k] = self.war_index
        self.max_rung_index = max(self.max_rung_index, self.war_index)
        self.outcome = "escalation"
        defenders = [d for d in np.flatnonzero(self.reliability[:, k] > 0) if d != i]
        self.escalation = {
            "actor": self.actor_ids[i],
            "target": self.actor_ids[k],
            "step": t,
            "date": self.config.calendar.date_of(t).isoformat(),
            "rung": self.ladder_ids[self.war_index],
            "spoils": round(float(self.gain[i, k]), 6),
            "defenders": {self.actor_ids[d]: round(float(self.reliability[d, k]), 6) for d in defenders},
        }

    # ------------------------------------------------------------------ records

    def result(self) -> RunResult:
        """The run's result: one object for the CLI's JSON, batch rows and the UI banner."""

        def by_actor(a: np.ndarray) -> dict[str, dict[str, float]]:
            return {
                self.actor_ids[i]: {
                    self.issue_ids[j]: round(float(a[i, j]), 6) for j in range(a.shape[1]) if self.salience[i, j] > 0
                }
                for i in range(a.shape[0])
            }

        n = len(self.actor_ids)
        return RunResult(
            scenario=self.config.id,
            config_sha256=self.config_sha256,
            seed=self.seed,
            params=self.params.model_dump(),
            steps_run=self.day,
            outcome=self.outcome or "truncated",
            escalation=self.escalation,
            max_rung={
                "id": self.ladder_ids[self.max_rung_index],
                "score": float(self.ladder_scores[self.max_rung_index]),
            },
            agreements=list(self.agreements),
            initial_positions=by_actor(self.initial_position),
            final_positions=by_actor(self.position),
            trust={
                self.actor_ids[i]: {self.actor_ids[k]: round(float(self.trust[i, k]), 6) for k in range(n) if k != i}
                for i in range(n)
            },
            venues=list(self.venue_log),
            final_date=self.date.isoformat(),
            policies=dict(zip(self.actor_ids, self.policies, strict=True)),
        )

    def positions_frame(self) -> pd.DataFrame:
        """Per-step positions (ideal points) and demands, long form: step, date, actor, issue, position, demand."""
        df = self.datacollector.get_model_vars_dataframe()
        rows = [
            (s, d, self.actor_ids[i], self.issue_ids[j], float(a[i, j]), float(x[i, j]))
            for s, (d, a, x) in enumerate(zip(df["date"], df["positions"], df["demand"], strict=True))
            for i, j in zip(*np.nonzero(self.salience > 0), strict=True)
        ]
        return pd.DataFrame(rows, columns=["step", "date", "actor", "issue", "position", "demand"])

    def dyads_frame(self, name: str) -> pd.DataFrame:
        """Per-step dyadic values (``trust`` or ``rungs``), long form: step, date, actor, target, value."""
        df = self.datacollector.get_model_vars_dataframe()
        n = len(self.actor_ids)
        rows = [
            (s, d, self.actor_ids[i], self.actor_ids[k], a[i, k])
            for s, (d, a) in enumerate(zip(df["date"], df[name], strict=True))
            for i in range(n)
            for k in range(n)
            if i != k
        ]
        df = pd.DataFrame(rows, columns=["step", "date", "actor", "target", name])
        if name == "rungs":
            df["rung"] = [self.ladder_ids[r] for r in df["rungs"]]
        return df

    def decisions_frame(self) -> pd.DataFrame:
        """Every evaluation of a package, with the values compared (why it was accepted or not)."""
        return self.datacollector.get_table_dataframe("decisions")
