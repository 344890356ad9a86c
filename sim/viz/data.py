"""The simulation page's data: what the page's controls mean and what a running
:class:`~sim.model.DiplomacyModel` shows, shaped into plain values and pandas tables.

- the controls: the bundled scenarios, a typed path or seed read as the model needs them, each parameter's
  slider, the parameters the page set, and the ``dipsim run`` command and scenario file that reproduce a run;
- the model's state over time and now: each actor's policy, positions, highest rungs, the rung matrix, beliefs
  about costs of war, the calendar, the proposal log and why each proposal was accepted or not, the outcome.

No Solara and no matplotlib: the figures (``sim.viz.figures``) and the views (``sim.viz.components``) draw
these, and the tests check them without a browser.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.explain import Moment, decisive_moments
from sim.loading import BUNDLED_CONFIGS, apply_overrides
from sim.messages import MAX_VALUE_CHARS, cut
from sim.params import Parameters, parameter_bounds
from sim.rules.beliefs import posterior_mean, quantile
from sim.venues import DECISION_COLUMNS
from sim.viz.commands import run_command
from sim.yamlio import read_raw

# --------------------------------------------------------------------------- scenario choice and parameters


NOT_SCENARIOS = ("experiments", "outcomes")  # folders of configs/ holding other YAML files


def bundled_scenarios() -> list[str]:
    """The bundled scenario files, relative to ``configs/``: not the experiment files, nor the crisis library's
    outcome records (which only the backtest reads)."""
    return sorted(
        p.relative_to(BUNDLED_CONFIGS).as_posix()
        for p in BUNDLED_CONFIGS.rglob("*.yaml")
        if not set(NOT_SCENARIOS) & set(p.relative_to(BUNDLED_CONFIGS).parts)
    )


def resolve_config(choice: str | None, path: str | None) -> Path:
    """The scenario file a page selection means: a typed path wins over the bundled choice."""
    if path and path.strip():
        return Path(path.strip()).expanduser()
    if not choice:
        raise ValueError("no scenario chosen")
    return BUNDLED_CONFIGS / choice


def parse_seed(text: str | int) -> int:
    """A seed typed on the page as the int Mesa needs, ``0 <= seed < 2**63`` as for ``dipsim run`` (errors cut it)."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise ValueError(f"seed: not an integer: {cut(repr(text), MAX_VALUE_CHARS)}") from None
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed: must be 0 <= seed < 2**63: {cut(str(seed), MAX_VALUE_CHARS)}")
    return seed


def slider_spec(name: str, default: float) -> dict[str, float]:
    """min, max and step of a parameter's slider: a round step (about 1/100 of the range) and only valid
    values on the slider's grid (an exclusive or off-grid bound moves inward to the next step)."""
    low, high, low_open, high_open = parameter_bounds(name)
    step = 10.0 ** math.floor(math.log10((high - low) / 100))
    decimals = max(0, -int(math.floor(math.log10(step))))
    lo = math.ceil(round(low / step, 9)) * step
    if low_open and math.isclose(lo, low):
        lo += step
    hi = math.floor(round(high / step, 9)) * step
    if high_open and math.isclose(hi, high):
        hi -= step
    return {
        "min": round(lo, decimals),
        "max": round(hi, decimals),
        "step": step,
        "value": float(min(max(default, lo), hi)),
    }


def parameter_overrides(model: Any) -> dict[str, float]:
    """The parameters set on the page that differ from the scenario file's own (what ``--set`` must carry).
    A model without the record (not built by the page) reports its parameters against the defaults."""
    got = getattr(model, "overrides", None)
    if got is not None:
        return dict(got)
    base = Parameters()
    return {k: v for k, v in model.params.model_dump().items() if v != getattr(base, k)}


def parameter_table(model: Any) -> pd.DataFrame:
    """Each model parameter of the run shown: its value, whether the page set it, and what it means."""
    set_here = parameter_overrides(model)
    values = model.params.model_dump()
    return pd.DataFrame(
        {
            "parameter": list(Parameters.model_fields),
            "value": [float(values[n]) for n in Parameters.model_fields],
            "set on the page": ["yes" if n in set_here else "" for n in Parameters.model_fields],
            "meaning": [f.description or "" for f in Parameters.model_fields.values()],
        }
    )


def export_command(config: str | Path | None, seed: int, params: dict[str, Any]) -> str:
    """The ``dipsim run`` command that reproduces a run: config, seed and every parameter set on the page."""
    return run_command(config, seed, {f"parameters.{name}": v for name, v in params.items()})


def export_yaml(config: str | Path, params: dict[str, Any]) -> str:
    """The scenario file with the page's parameters written into its ``parameters`` block (comments are lost)."""
    raw = read_raw(config)
    if params:
        raw = apply_overrides(raw, {f"parameters.{k}": v for k, v in params.items()}, str(config))
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=120)


# --------------------------------------------------------------------------- data shaping


def _dates(model: Any) -> list[dt.date]:
    """The date of each collected row (state at the end of that day)."""
    df = model.datacollector.get_model_vars_dataframe()
    if df.empty:
        return []
    return [dt.date.fromisoformat(d) for d in df["date"]]


def day_before_start(model: Any) -> dt.date:
    """The day before the start: where the initial state is drawn (states are drawn at the end of their day)."""
    cal = model.config.calendar
    return cal.start - dt.timedelta(days=cal.step_days)


def _series(model: Any, name: str) -> list[np.ndarray]:
    df = model.datacollector.get_model_vars_dataframe()
    return [] if df.empty else list(df[name])


def positions_over_time(model: Any) -> pd.DataFrame:
    """Each actor's position (ideal point) and demand (what it last tabled, accepted or agreed to; ODD 7.10) on
    each issue it holds one on, long form: step, date, actor, issue, position, demand.

    Step -1 is the initial state, dated the day before the start; step ``s`` the state at the end of day
    ``s`` (the model collects after each step)."""
    held = np.argwhere(model.salience > 0)
    stamps = [(-1, day_before_start(model), model.initial_position, model.initial_position)]
    series = zip(_dates(model), _series(model, "positions"), _series(model, "demand"), strict=True)
    stamps += [(s, d, a, x) for s, (d, a, x) in enumerate(series)]
    rows = [
        (s, d, model.actor_ids[i], model.issue_ids[j], float(a[i, j]), float(x[i, j]))
        for s, d, a, x in stamps
        for i, j in held
    ]
    return pd.DataFrame(rows, columns=["step", "date", "actor", "issue", "position", "demand"])


def highest_rungs(rungs: np.ndarray) -> np.ndarray:
    """Each actor's highest rung toward any other actor."""
    off = ~np.eye(rungs.shape[0], dtype=bool)
    return np.where(off, rungs, np.iinfo(rungs.dtype).min).max(axis=1)


def actor_lines(model: Any) -> list[str]:
    """One line per actor for the trust network's legend: id, name, policy (``actors[].policy``), capability now
    and highest rung now."""
    names = {a.id: a.name for a in model.config.actors}
    highest = highest_rungs(model.rung)
    return [
        f"{a} ({names[a]}; policy {model.policies[i]}): capability {model.capability[i]:g}, "
        f"highest rung {model.ladder_ids[highest[i]]}"
        for i, a in enumerate(model.actor_ids)
    ]


def highest_rungs_over_time(model: Any) -> pd.DataFrame:
    """Each actor's highest rung toward any target, long form: step, date, actor, rung (index), rung_id.

    Step -1 (the initial rungs) is there when the model kept them (``initial_rung``, as the page's model
    does) or has not stepped yet."""
    stamps = []
    initial = getattr(model, "initial_rung", None)
    if initial is None and model.day == 0:
        initial = model.rung
    if initial is not None:
        stamps.append((-1, day_before_start(model), initial))
    stamps += [(s, d, a) for s, (d, a) in enumerate(zip(_dates(model), _series(model, "rungs"), strict=True))]
    rows = []
    for s, d, a in stamps:
        for i, r in enumerate(highest_rungs(np.asarray(a))):
            rows.append((s, d, model.actor_ids[i], int(r), model.ladder_ids[int(r)]))
    return pd.DataFrame(rows, columns=["step", "date", "actor", "rung", "rung_id"])


def rung_matrix(model: Any) -> pd.DataFrame:
    """Current rungs as an actor (rows) x target (columns) table of rung ids; the diagonal is empty."""
    n = len(model.actor_ids)
    data = [["" if i == k else model.ladder_ids[model.rung[i, k]] for k in range(n)] for i in range(n)]
    return pd.DataFrame(data, index=model.actor_ids, columns=model.actor_ids)


BELIEF_COLUMNS = ["step", "date", "observer", "actor", "q_lo", "q_hi", "cost_lo", "cost_hi", "cost_mean"]


def learnable(model: Any) -> np.ndarray:
    """``[k, i]``: whether ``k`` has something to learn about ``i``'s cost of war (a prior that is not fixed, and
    ``i`` another actor)."""
    n = len(model.actor_ids)
    return (model.priors.kind != "fixed")[None, :] & ~np.eye(n, dtype=bool)


def beliefs_over_time(model: Any, observer: str | None = None) -> pd.DataFrame:
    """Each observer's posterior over each other actor's cost of war (ODD 7.19), long form: step, date, observer,
    actor, the quantile interval ``[q_lo, q_hi)`` and in cost units its ends ``F^-1(q_lo)``, ``F^-1(q_hi)`` (the
    posterior's support) and the posterior mean. Only ``observer``'s rows if given; no row for an actor with a
    fixed prior (nothing to learn) nor for an observer about itself.

    Step -1 (the beliefs before any answer) is there when the model kept them (``initial_beliefs``, as the page's
    model does) or has not stepped yet."""
    stamps = []
    initial = getattr(model, "initial_beliefs", None)
    if initial is None and model.day == 0:
        initial = np.stack([model.belief_lo, model.belief_hi])
    if initial is not None:
        stamps.append((-1, day_before_start(model), initial))
    stamps += [(s, d, b) for s, (d, b) in enumerate(zip(_dates(model), _series(model, "beliefs"), strict=True))]
    mask = learnable(model)
    if observer is not None:
        mask &= np.arange(len(model.actor_ids))[:, None] == model.index_of[observer]
    k, i = np.nonzero(mask)
    if not stamps or not len(k):
        return pd.DataFrame({c: [] for c in BELIEF_COLUMNS})
    b = np.stack([s[2] for s in stamps])[:, :, k, i]  # (steps, 2, pairs)
    q_lo, q_hi = b[:, 0].ravel(), b[:, 1].ravel()
    pr = model.priors
    prior = [np.tile(a[i], len(stamps)) for a in (pr.kind, pr.low, pr.mode, pr.high)]
    ids = np.asarray(model.actor_ids, dtype=object)
    return pd.DataFrame(
        {
            "step": np.repeat([s[0] for s in stamps], len(k)),
            "date": np.repeat(np.array([s[1] for s in stamps], dtype=object), len(k)),
            "observer": np.tile(ids[k], len(stamps)),
            "actor": np.tile(ids[i], len(stamps)),
            "q_lo": q_lo,
            "q_hi": q_hi,
            "cost_lo": quantile(*prior, q_lo),
            "cost_hi": quantile(*prior, q_hi),
            "cost_mean": posterior_mean(*prior, q_lo, q_hi),
        }
    )


def beliefs_caption(model: Any, observer: str) -> str:
    """What the beliefs view shows for ``observer``, or why little (nothing to learn, or nothing learnt yet)."""
    k = model.index_of[observer]
    others = learnable(model)[k]
    if not others.any():
        return f"Every other actor's cost of war is fixed in the scenario: {observer} has nothing to learn."
    if not ((model.belief_lo[k, others] > 0) | (model.belief_hi[k, others] < 1)).any():
        return (
            f"{observer} has learnt nothing yet from the answers about any actor's cost of war: "
            "each band is still the prior's whole range."
        )
    return (
        f"What {observer} has learnt about each actor's cost of war from its answers; "
        "the band is the posterior's support, the dashed lines the prior's range."
    )


def _venue_dict(v: Any) -> dict[str, Any]:
    return {
        "id": v.id,
        "name": v.name,
        "place": v.place,
        "date": v.date,
        "format": v.format,
        "participants": list(v.order),
        "chair": v.order[0],
        "agenda": list(v.agenda),
    }


def calendar_info(model: Any) -> dict[str, Any]:
    """Today (the last simulated day; the start date before the first step), today's venues, the venues to come."""
    today_step = model.day - 1
    return {
        "date": model.date,
        "day": model.day,
        "n_steps": model.n_steps,
        "started": model.day > 0,
        "today": [_venue_dict(v) for v in model.venues_by_step.get(today_step, [])],
        "upcoming": [
            _venue_dict(v) for s in sorted(model.venues_by_step) if s >= model.day for v in model.venues_by_step[s]
        ],
    }


def _package_text(package: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.2f}" for k, v in package.items()) or "(empty)"


def proposal_log(model: Any) -> pd.DataFrame:
    """Every proposal tabled so far, in order: who proposed what to whom, where, and whether it was adopted."""
    cols = [
        "n",
        "step",
        "date",
        "venue",
        "venue_name",
        "proposer",
        "recipients",
        "package",
        "legal_form",
        "accepted_by",
        "rejected_by",
        "adopted",
    ]
    rows = []
    for v in model.venue_log:
        for p in v["proposals"]:
            rows.append(
                (
                    len(rows) + 1,
                    v["step"],
                    v["date"],
                    v["id"],
                    v["name"],
                    p["proposer"],
                    ", ".join(p["recipients"]),
                    _package_text(p["package"]),
                    p["legal_form"],
                    ", ".join(p["accepted_by"]),
                    ", ".join(p["rejected_by"]),
                    bool(p["adopted"]),
                )
            )
    return pd.DataFrame(rows, columns=cols)


# The decision log's columns from the recipient on, except the package (shown with the proposal).
REASON_COLUMNS = ["actor", *DECISION_COLUMNS[DECISION_COLUMNS.index("accepted") :]]


def proposal_reasons(model: Any, step: int, venue: str, proposer: str) -> pd.DataFrame:
    """Why each recipient (and each ratifying absent actor) accepted or rejected one proposal, from the model's
    decision log: the trust-discounted value of the package, the status quo, the war option, the reservation
    value it had to beat, trust and the discount it caused, red lines crossed, linked issues left out."""
    df = model.decisions_frame()
    if df.empty:
        return pd.DataFrame(columns=REASON_COLUMNS)
    sel = df[(df["step"] == step) & (df["venue"] == venue) & (df["proposer"] == proposer)]
    out = sel[REASON_COLUMNS].reset_index(drop=True)
    for c in ("crossed_red_lines", "missing_linkage"):
        out[c] = [", ".join(x) for x in out[c]]
    return out


def why_moments(model: Any) -> list[Moment]:
    """The run's decisive moments so far (``sim.explain``), newest first; none if the model records no decisions."""
    return decisive_moments(model)[::-1] if getattr(model, "explainer", None) is not None else []


def why_label(n: int, m: Moment) -> str:
    """A moment's entry in the "why?" view's list (``n`` its place in the run, from 1)."""
    toward = f"{m.actor} → {m.counterpart}" if m.kind == "escalation" else f"{m.actor} on {m.counterpart}'s package"
    return f"#{n} {m.date} {m.kind}: {toward}"


def why_table(m: Moment) -> pd.DataFrame:
    """A moment's terms and the margin they sum to (the last row)."""
    rows = [(t.name, t.value) for t in m.terms] + [("margin", m.margin)]
    return pd.DataFrame(rows, columns=["term", "value"])


def outcome_summary(model: Any) -> tuple[str, str]:
    """(kind, text) for the banner: kind is ``running``, ``agreement``, ``stalemate`` or ``escalation``."""
    name = model.config.name
    if model.outcome is None:
        when = f"{model.date:%d %B %Y}" if model.day else f"starts {model.date:%d %B %Y}"
        return "running", f"{name}: day {model.day} of {model.n_steps} ({when}); no outcome yet."
    date = dt.date.fromisoformat(model.escalation["date"]) if model.escalation else model.date
    if model.outcome == "agreement":
        issues = ", ".join(a["issue"] for a in model.agreements)
        return "agreement", f"Agreement on {date:%d %B %Y}: every agenda issue settled ({issues})."
    if model.outcome == "escalation":
        e = model.escalation
        return "escalation", f"Escalation on {date:%d %B %Y}: {e['actor']} reached {e['rung']} toward {e['target']}."
    return "stalemate", f"Stalemate on {date:%d %B %Y}: the horizon ended with no agreement on every agenda issue."
