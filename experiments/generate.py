"""Synthetic scenarios of any size, for benchmarks and scaling tests.

``random_scenario(n_actors, n_issues, seed)`` builds a valid :class:`~sim.scenario.Scenario` in
memory: mostly states, a few blocs with member states, one organisation; random capabilities,
positions, cost priors, threats and trust; some indivisible issues; venues of every non-ultimatum
format spread over about 60 days; and the six-rung ladder of the bundled 2022 scenario. The
numbers mean nothing: every source is "assumption: synthetic benchmark scenario". The same
arguments always give the same scenario (``numpy.random.default_rng(seed)``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from sim.scenario import Scenario

SOURCE = "assumption: synthetic benchmark scenario"
START = dt.date(2030, 1, 1)
HORIZON_DAYS = 60

# The ladder of configs/european_security_2022.yaml (Rivera et al. 2024 escalation scores).
LADDER: dict[str, Any] = {
    "rungs": [
        {"id": "deescalation", "label": "de-escalation", "score": -2},
        {"id": "status_quo", "label": "status quo", "score": 0},
        {"id": "posturing", "label": "posturing (deployments, exercises, alerts)", "score": 4},
        {"id": "nonviolent", "label": "non-violent escalation (sanctions, cyber)", "score": 12},
        {"id": "violent", "label": "violent escalation (war)", "score": 28},
        {"id": "nuclear", "label": "nuclear use", "score": 60},
    ],
    "war": "violent",
    "baseline": "status_quo",
    "source": SOURCE,
}


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def _pick(rng: np.random.Generator, items: list[Any], k: int) -> list[Any]:
    """``k`` distinct items in random order (all of them if there are fewer)."""
    k = min(k, len(items))
    return [items[i] for i in rng.choice(len(items), size=k, replace=False)]


def random_scenario_dict(n_actors: int, n_issues: int, seed: int, n_venues: int | None = None) -> dict[str, Any]:
    """The raw config dict of :func:`random_scenario` (before validation)."""
    if n_actors < 2:
        raise ValueError("n_actors must be at least 2")
    if n_issues < 1:
        raise ValueError("n_issues must be at least 1")
    rng = np.random.default_rng(seed)

    # ------------------------------------------------------------------ actors: who is what
    n_org = 1 if n_actors >= 3 else 0
    n_blocs = 0 if n_actors < 6 else int(np.clip(n_actors // 25, 1, 5))
    n_states = n_actors - n_org - n_blocs
    states = [f"S{i:03d}" for i in range(n_states)]
    blocs = [f"B{i:02d}" for i in range(n_blocs)]
    orgs = ["ORG"] * n_org
    members: dict[str, list[str]] = {
        b: sorted(_pick(rng, states, int(rng.integers(2, min(6, n_states) + 1)))) for b in blocs
    }
    fighters = states + blocs  # actors that hold positions and may fight

    # ------------------------------------------------------------------ issues
    issue_ids = [f"I{j:02d}" for j in range(n_issues)]
    indivisible = set(_pick(rng, issue_ids, max(1, n_issues // 5))) if n_issues >= 2 else set()
    holders: dict[str, list[str]] = {j: [] for j in issue_ids}
    positions: dict[str, dict[str, Any]] = {a: {} for a in fighters}
    for a in fighters:
        share = rng.uniform(0.3, 0.8)
        held = [j for j in issue_ids if rng.random() < share] or [issue_ids[int(rng.integers(n_issues))]]
        for j in held:
            ideal = float(rng.integers(2)) if j in indivisible else _r(rng.random(), 2)
            red_line = None
            if rng.random() < 0.15:
                w = rng.uniform(0.0, 0.4)
                red_line = [_r(max(0.0, ideal - w)), _r(min(1.0, ideal + w))]
            positions[a][j] = {
                "ideal": ideal,
                "salience": _r(rng.uniform(0.1, 1.0), 2),
                "red_line": red_line,
                "source": SOURCE,
            }
            holders[j].append(a)
    issues = []
    for j in issue_ids:
        if len(holders[j]) < 2:  # every issue is disputed by at least two actors
            extra = _pick(rng, [a for a in fighters if a not in holders[j]], 2 - len(holders[j]))
            for a in extra:
                ideal = float(rng.integers(2)) if j in indivisible else _r(rng.random(), 2)
                positions[a][j] = {"ideal": ideal, "salience": _r(rng.uniform(0.1, 1.0), 2), "source": SOURCE}
                holders[j].append(a)
        issue: dict[str, Any] = {
            "id": j,
            "label": f"Synthetic issue {j}",
            "low": "one end of the scale",
            "high": "the other end of the scale",
            "status_quo": float(rng.integers(2)) if j in indivisible else _r(rng.random(), 2),
            "competence": sorted(_pick(rng, holders[j], int(rng.integers(2, 5)))),
            "compliance": _r(rng.uniform(0.3, 1.0), 2),
            "source": SOURCE,
        }
        if j in indivisible:
            issue["values"] = [0.0, 1.0]
        issues.append(issue)

    # ------------------------------------------------------------------ actor records
    n_threats = max(1, n_actors // 10) if len(fighters) >= 3 else 0
    threats: dict[str, list[dict[str, Any]]] = {a: [] for a in fighters}
    for _ in range(n_threats):
        who, target = _pick(rng, fighters, 2)
        others = [a for a in fighters if a != target]
        threats[who].append(
            {
                "kind": "deterrence" if rng.random() < 0.5 else "sanctions",
                "target": target,
                "protects": sorted(_pick(rng, others, int(rng.integers(1, 4)))),
                "cost": _r(rng.uniform(0.05, 1.0), 2),
                "source": SOURCE,
            }
        )
    actors = []
    for a in fighters:
        kind = "bloc" if a in members else "state"
        # War is costly relative to what is at stake, so that runs last a while (as in the 2022 scenario,
        # where the West's costs exceed its stakes in Ukraine).
        stake = sum(pos["salience"] for pos in positions[a].values())
        low = _r(min(9.0, stake * rng.uniform(0.5, 1.5)), 2)
        rec: dict[str, Any] = {
            "id": a,
            "name": f"Synthetic {kind} {a}",
            "kind": kind,
            "capability": _r(min(1000.0, rng.lognormal(-1.0, 1.0))),
            "traits": {
                "flexibility": _r(rng.random(), 2),
                "resolve": _r(rng.random(), 2),
                "risk_attitude": _r(rng.uniform(0.5, 2.0), 2),
                "values_legal_form": _r(rng.random() * (rng.random() < 0.3), 2),
                "binding_cost": _r(rng.uniform(0.0, 0.2) * (rng.random() < 0.3), 2),
            },
            "conflict_cost": {
                "distribution": "uniform",
                "low": low,
                "high": _r(min(10.0, low + stake * rng.uniform(0.2, 1.0) + 0.01), 2),
                "source": SOURCE,
            },
            "threats": threats[a],
            "positions": positions[a],
            "source": SOURCE,
        }
        if kind == "bloc":
            rec["members"] = members[a]
            rec["internal_rule"] = "unanimity" if rng.random() < 0.7 else "majority"
        if rng.random() < 0.1 and len(fighters) > 1:
            rec["initial_rung"] = {
                "toward": {t: "posturing" for t in _pick(rng, [x for x in fighters if x != a], 2)},
                "source": SOURCE,
            }
        actors.append(rec)
    for o in orgs:
        actors.append(
            {
                "id": o,
                "name": "Synthetic organisation",
                "kind": "organisation",
                "capability": 0.0,
                "conflict_cost": {"distribution": "fixed", "low": 0.0, "source": SOURCE},
                "source": SOURCE,
            }
        )
    order = rng.permutation(len(actors))
    actors = [actors[i] for i in order]
    actor_ids = [a["id"] for a in actors]

    # ------------------------------------------------------------------ trust
    trust: dict[str, Any] = {"default": 0.5, "source": SOURCE}

    def set_trust(frm: str, to: str, value: float) -> None:
        if frm != to:
            trust.setdefault(frm, {})[to] = _r(value, 2)

    for b, ms in members.items():  # allies trust each other
        for m in ms:
            set_trust(b, m, rng.uniform(0.6, 0.9))
            set_trust(m, b, rng.uniform(0.6, 0.9))
    for _ in range(max(1, n_actors // 2)):  # some rivalries and friendships
        frm, to = _pick(rng, actor_ids, 2)
        set_trust(frm, to, rng.uniform(0.05, 0.3) if rng.random() < 0.6 else rng.uniform(0.6, 0.9))

    # ------------------------------------------------------------------ venues
    if n_venues is None:
        n_venues = int(np.clip(round(n_actors / 10), 3, 30))
    formats = ["bilateral", "council", "multilateral"] if n_actors >= 3 else ["bilateral"]
    venues = []
    days = np.sort(rng.integers(0, HORIZON_DAYS, size=n_venues))
    for v, day in enumerate(days):
        fmt = formats[int(rng.integers(len(formats)))]
        agenda = sorted(_pick(rng, issue_ids, int(rng.integers(2, 7))))
        # Participants are drawn mostly from actors with a stake in the agenda.
        stake = sorted({a for j in agenda for a in holders[j]})
        if fmt == "bilateral":
            parts = _pick(rng, stake if len(stake) >= 2 else fighters, 2)
            chair = parts[0]
        else:
            size = int(rng.integers(3, min(8, n_actors) + 1))
            if fmt == "council" and blocs:
                chair = blocs[int(rng.integers(len(blocs)))]
                parts = [chair, *_pick(rng, members[chair], size - 1)]
            else:
                chair = orgs[0] if orgs else stake[0]
                parts = [chair]
            pool = [a for a in (stake if len(stake) >= size else actor_ids) if a not in parts]
            parts += _pick(rng, pool, size - len(parts))
            if len(parts) < 3:
                parts += _pick(rng, [a for a in actor_ids if a not in parts], 3 - len(parts))
        venues.append(
            {
                "id": f"V{v:03d}",
                "name": f"Synthetic {fmt} meeting {v}",
                "place": "nowhere",
                "date": START + dt.timedelta(days=int(day)),
                "format": fmt,
                "participants": parts,
                "chair": chair,
                "agenda": agenda,
                "decision_rule": "majority" if fmt == "multilateral" and rng.random() < 0.5 else "unanimity",
                "source": SOURCE,
            }
        )

    return {
        "schema_version": 1,
        "id": f"synthetic_a{n_actors}_i{n_issues}_s{seed}",
        "name": f"Synthetic scenario ({n_actors} actors, {n_issues} issues, seed {seed})",
        "description": "A random scenario for benchmarks; its numbers describe no real crisis.",
        "calendar": {"start": START, "end": START + dt.timedelta(days=HORIZON_DAYS - 1), "step_days": 1},
        "ladder": LADDER,
        "issues": issues,
        "actors": actors,
        "beliefs": {"red_lines": "public"},
        "trust": trust,
        "venues": venues,
    }


def random_scenario(n_actors: int, n_issues: int, seed: int, n_venues: int | None = None) -> Scenario:
    """A valid random scenario with ``n_actors`` actors and ``n_issues`` issues, deterministic in ``seed``.

    ``n_venues`` defaults to one venue per ten actors (at least 3, at most 30).
    """
    return Scenario.model_validate(random_scenario_dict(n_actors, n_issues, seed, n_venues))
