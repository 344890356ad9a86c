"""Views of a running :class:`~sim.model.DiplomacyModel` for the Solara page (``sim/app.py``).

Two layers:

- plain functions that shape the model's state into tables, texts and matplotlib figures (no Solara;
  tested on their own): ``positions_over_time``, ``highest_rungs_over_time``, ``rung_matrix``,
  ``calendar_info``, ``proposal_log``, ``proposal_reasons``, ``outcome_summary``, ``export_command``,
  ``export_yaml`` and the ``*_figure`` builders;
- Solara components, each a function of the model that reads Mesa's update counter so that it redraws
  after every step (``TrustNetworkView``, ``PositionsView``, ``EscalationView``, ``CalendarView``,
  ``ProposalLogView``, ``OutcomeBanner``, ``ExportView``).

Figures are matplotlib ``Figure`` objects (no pyplot, so no global state and no GUI backend), shown as
PNG images: nothing on the page needs a CDN (altair/vega would).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import networkx as nx
import numpy as np
import pandas as pd
import solara
import yaml
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from mesa.visualization.utils import update_counter

from sim.messages import MAX_VALUE_CHARS, cut
from sim.model import DECISION_COLUMNS
from sim.params import Parameters
from sim.scenario import BUNDLED_CONFIGS, apply_overrides, read_raw
from sim.ui import BOX, WRAP, FigureImage, display_path, heading, html_table, run_command

DPI = 80
TRUST_CMAP = colormaps["RdYlGn"]

# --------------------------------------------------------------------------- scenario choice and parameters


def bundled_scenarios() -> list[str]:
    """The bundled scenario files, relative to ``configs/`` (experiment files are not scenarios)."""
    return sorted(
        p.relative_to(BUNDLED_CONFIGS).as_posix()
        for p in BUNDLED_CONFIGS.rglob("*.yaml")
        if "experiments" not in p.relative_to(BUNDLED_CONFIGS).parts
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


def parameter_bounds(name: str) -> tuple[float, float, bool, bool]:
    """(low, high, low is exclusive, high is exclusive) of a :class:`Parameters` field."""
    low, high, low_open, high_open = -math.inf, math.inf, False, False
    for m in Parameters.model_fields[name].metadata:
        if getattr(m, "ge", None) is not None:
            low = float(m.ge)
        if getattr(m, "gt", None) is not None:
            low, low_open = float(m.gt), True
        if getattr(m, "le", None) is not None:
            high = float(m.le)
        if getattr(m, "lt", None) is not None:
            high, high_open = float(m.lt), True
    return low, high, low_open, high_open


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


def _eve(model: Any) -> dt.date:
    """The day before the start: where the initial state is drawn (states are drawn at the end of their day)."""
    cal = model.config.calendar
    return cal.start - dt.timedelta(days=cal.step_days)


def _series(model: Any, name: str) -> list[np.ndarray]:
    df = model.datacollector.get_model_vars_dataframe()
    return [] if df.empty else list(df[name])


def positions_over_time(model: Any) -> pd.DataFrame:
    """Each actor's position on each issue it holds one on, long form: step, date, actor, issue, position.

    Step -1 is the initial state, dated the day before the start; step ``s`` the state at the end of day
    ``s`` (the model collects after each step)."""
    held = np.argwhere(model.salience > 0)
    stamps = [(-1, _eve(model), model.initial_position)]
    stamps += [(s, d, a) for s, (d, a) in enumerate(zip(_dates(model), _series(model, "positions"), strict=True))]
    rows = [(s, d, model.actor_ids[i], model.issue_ids[j], float(a[i, j])) for s, d, a in stamps for i, j in held]
    return pd.DataFrame(rows, columns=["step", "date", "actor", "issue", "position"])


def _highest(rungs: np.ndarray) -> np.ndarray:
    """Each actor's highest rung toward any other actor."""
    off = ~np.eye(rungs.shape[0], dtype=bool)
    return np.where(off, rungs, np.iinfo(rungs.dtype).min).max(axis=1)


def highest_rungs_over_time(model: Any) -> pd.DataFrame:
    """Each actor's highest rung toward any target, long form: step, date, actor, rung (index), rung_id.

    Step -1 (the initial rungs) is there when the model kept them (``initial_rung``, as the page's model
    does) or has not stepped yet."""
    stamps = []
    initial = getattr(model, "initial_rung", None)
    if initial is None and model.day == 0:
        initial = model.rung
    if initial is not None:
        stamps.append((-1, _eve(model), initial))
    stamps += [(s, d, a) for s, (d, a) in enumerate(zip(_dates(model), _series(model, "rungs"), strict=True))]
    rows = []
    for s, d, a in stamps:
        for i, r in enumerate(_highest(np.asarray(a))):
            rows.append((s, d, model.actor_ids[i], int(r), model.ladder_ids[int(r)]))
    return pd.DataFrame(rows, columns=["step", "date", "actor", "rung", "rung_id"])


def rung_matrix(model: Any) -> pd.DataFrame:
    """Current rungs as an actor (rows) x target (columns) table of rung ids; the diagonal is empty."""
    n = len(model.actor_ids)
    data = [["" if i == k else model.ladder_ids[model.rung[i, k]] for k in range(n)] for i in range(n)]
    return pd.DataFrame(data, index=model.actor_ids, columns=model.actor_ids)


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


# --------------------------------------------------------------------------- figures


def rung_colours(model: Any) -> ListedColormap:
    """One colour per ladder rung: green below the baseline, through yellow, to red at war and black above."""
    n, war = len(model.ladder_ids), model.war_index
    base = colormaps["RdYlGn_r"]
    cols = [base(0.05 + 0.9 * min(r, war) / max(war, 1)) for r in range(n)]
    for r in range(war + 1, n):
        cols[r] = (0.15, 0.0, 0.0, 1.0)
    return ListedColormap(cols)


def _actor_colour(i: int) -> Any:
    return colormaps["tab10"](i % 10)


def trust_network_figure(model: Any) -> Figure:
    """Actors as nodes (area by capability, colour by highest current rung); edges coloured by trust.

    Trust is directed: each edge is drawn in two halves, the half touching actor ``i`` coloured by ``i``'s
    trust in the actor at the other end (a line collection: much faster to draw than 2 x n(n-1)/2 arrows)."""
    n = len(model.actor_ids)
    g = nx.complete_graph(n)
    pos = nx.circular_layout(g)
    xy = np.array([pos[i] for i in range(n)])
    segments, trust = [], []
    for i, k in g.edges():
        mid = (xy[i] + xy[k]) / 2
        segments += [(xy[i], mid), (mid, xy[k])]
        trust += [model.trust[i, k], model.trust[k, i]]
    cap = model.capability
    sizes = 250 + 1500 * (cap / cap.max() if cap.max() > 0 else np.zeros(n))
    rc = rung_colours(model)
    highest = _highest(model.rung)
    fig = Figure(figsize=(6.2, 4.4), dpi=DPI)
    ax = fig.add_axes((0.0, 0.02, 0.72, 0.9))
    cax = fig.add_axes((0.75, 0.55, 0.03, 0.35))
    ax.add_collection(LineCollection(segments, colors=TRUST_CMAP(np.asarray(trust)), linewidths=2.2, zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=[rc(int(r)) for r in highest], edgecolors="black", zorder=2)
    for i, aid in enumerate(model.actor_ids):
        ax.text(*xy[i], aid, ha="center", va="center", fontsize=9, fontweight="bold", zorder=3)
    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.colorbar(ScalarMappable(Normalize(0, 1), TRUST_CMAP), cax=cax)
    cax.set_title("edge: trust of the\nactor at the near end", fontsize=7, loc="left")
    cax.tick_params(labelsize=7)
    shown = range(0, min(model.war_index + 1, len(model.ladder_ids)))
    ax.legend(
        handles=[Patch(color=rc(r), label=model.ladder_ids[r]) for r in shown],
        title="node: highest rung",
        loc="lower left",
        bbox_to_anchor=(0.73, 0.05),
        bbox_transform=fig.transFigure,
        fontsize=7,
        title_fontsize=7,
        frameon=False,
    )
    ax.set_title(f"Trust and rungs, {model.date:%d %b %Y}", fontsize=10)
    return fig


def _date_axis(ax: Any) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=6))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))


def positions_figure(model: Any, issue: str | None = None) -> Figure:
    """Positions over time on one issue (or all, as small multiples): each actor's line, its red line as a band
    (the acceptable range, drawn only where it is narrower than the whole scale) and agreed values marked."""
    issues = [issue] if issue else list(model.issue_ids)
    df = positions_over_time(model)
    cal = model.config.calendar
    x_max = max(cal.end, _eve(model) + dt.timedelta(days=1))
    if len(issues) == 1:
        fig = Figure(figsize=(6.2, 4.0), dpi=DPI)
        fig.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.16)
        axes = [fig.subplots()]
    else:
        cols = 3
        rows = math.ceil(len(issues) / cols)
        fig = Figure(figsize=(9.0, 2.1 * rows + 0.6), dpi=DPI)
        fig.subplots_adjust(left=0.05, right=0.99, top=0.95, bottom=0.1, hspace=0.35, wspace=0.08)
        axes = list(np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel())
        for ax in axes[len(issues) :]:
            ax.set_visible(False)
    small = len(issues) > 1
    for ax, iid in zip(axes, issues, strict=False):
        j = model.issue_index[iid]
        sub = df[df["issue"] == iid]
        for i, aid in enumerate(model.actor_ids):
            if model.salience[i, j] <= 0:
                continue
            colour = _actor_colour(i)
            lo, hi = model.red_low[i, j], model.red_high[i, j]
            if lo > 0 or hi < 1:
                ax.axhspan(lo, hi, color=colour, alpha=0.10, lw=0)
                ax.axhline(lo if lo > 0 else hi, color=colour, lw=0.8, ls=":", alpha=0.8)
            line = sub[sub["actor"] == aid]
            ax.plot(
                line["date"], line["position"], color=colour, lw=1.6, label=aid, marker="." if len(line) < 3 else ""
            )
        for a in model.agreements:
            if a["issue"] == iid:
                d = dt.date.fromisoformat(a["date"])
                ax.axhline(a["value"], color="black", lw=1.0, ls="--")
                ax.plot([d], [a["value"]], marker="*", ms=12, color="black")
                if not small:
                    ax.annotate(
                        f"agreed {a['value']:.2f} ({a['venue']})",
                        (d, a["value"]),
                        xytext=(4, 4),
                        textcoords="offset points",
                        fontsize=8,
                    )
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(_eve(model), x_max)
        ax.set_title(iid, fontsize=8 if small else 10)
        if not small:
            iss = model.config.issues[j]
            for y, va, text in ((0.0, "bottom", iss.low), (1.0, "top", iss.high)):
                ax.text(
                    0.01,
                    y + (0.01 if y == 0 else -0.01),
                    f"{y:g}: {cut(text, 80)}",
                    fontsize=7,
                    color="dimgray",
                    va=va,
                    transform=ax.get_yaxis_transform(),
                )
        _date_axis(ax)
        ax.tick_params(labelsize=7)
    if not small:
        axes[0].set_ylabel("position")
        axes[0].legend(fontsize=7, ncols=2, loc="best")
        axes[0].text(
            0.0,
            -0.16,
            "bands: each actor's red line (acceptable range); ★ agreed value",
            transform=axes[0].transAxes,
            fontsize=7,
            color="dimgray",
        )
    else:
        handles = [Patch(color=_actor_colour(i), label=a) for i, a in enumerate(model.actor_ids)]
        fig.legend(handles=handles, loc="lower center", ncols=min(len(handles), 8), fontsize=7)
    return fig


def escalation_figure(model: Any) -> Figure:
    """Left: each actor's highest rung over time, the war rung marked. Right: current rungs, actor x target."""
    df = highest_rungs_over_time(model)
    rc = rung_colours(model)
    n_rungs = len(model.ladder_ids)
    fig = Figure(figsize=(9.0, 3.6), dpi=DPI)
    fig.subplots_adjust(left=0.1, right=0.9, top=0.92, bottom=0.17, wspace=0.3)
    ax, mx = fig.subplots(1, 2, width_ratios=[1.35, 1])
    for i, aid in enumerate(model.actor_ids):
        line = df[df["actor"] == aid]
        if model.kind[i] == "organisation" and (line["rung"] == line["rung"].iloc[0]).all():
            continue  # an organisation never fights: a flat line at the baseline says nothing
        offset = (i - len(model.actor_ids) / 2) * 0.03  # keep equal lines apart
        ax.step(line["date"], line["rung"] + offset, where="post", color=_actor_colour(i), lw=1.6, label=aid)
    ax.axhline(model.war_index, color="darkred", lw=1.5, ls="--")
    ax.text(
        0.99,
        model.war_index + 0.08,
        f"war: {model.ladder_ids[model.war_index]}",
        color="darkred",
        fontsize=8,
        ha="right",
        transform=ax.get_yaxis_transform(),
    )
    top = model.war_index  # rungs above war are never reached: the run ends at war
    ax.set_ylim(-0.4, top + 1.4)
    ax.set_yticks(range(top + 1), model.ladder_ids[: top + 1], fontsize=7)
    ax.set_xlim(_eve(model), max(model.config.calendar.end, _eve(model) + dt.timedelta(days=1)))
    _date_axis(ax)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title("Highest rung toward any target", fontsize=9)
    ax.legend(fontsize=7, ncols=4, loc="upper left", frameon=False)
    n = len(model.actor_ids)
    shown = np.ma.masked_where(np.eye(n, dtype=bool), model.rung)
    image = mx.imshow(shown, cmap=rc, norm=BoundaryNorm(np.arange(-0.5, n_rungs + 0.5), rc.N), aspect="auto")
    bar = fig.colorbar(image, ax=mx, ticks=range(n_rungs), fraction=0.08, pad=0.03)
    bar.ax.set_yticklabels(model.ladder_ids, fontsize=7)
    mx.set_xticks(range(n), model.actor_ids, fontsize=7, rotation=90)
    mx.set_yticks(range(n), model.actor_ids, fontsize=7)
    mx.set_xlabel("target", fontsize=8)
    mx.set_ylabel("actor", fontsize=8)
    mx.set_title(f"Rungs (actor toward target), {model.date:%d %b %Y}", fontsize=9)
    return fig


# --------------------------------------------------------------------------- Solara components


def _tick(model: Any) -> tuple[Any, int, int]:
    """What a view depends on: the model object, its day, and Mesa's update counter (read: redraw each step)."""
    return model, model.day, update_counter.get()


@solara.component
def TrustNetworkView(model: Any) -> None:
    """The trust network figure, and each actor named with its capability and highest rung."""
    deps = list(_tick(model))
    names = {a.id: a for a in model.config.actors}
    highest = _highest(model.rung)
    with solara.Column(style=BOX, classes=["dipsim-network"]):
        heading("Trust network")
        FigureImage(lambda: trust_network_figure(model), deps)
        lines = [
            f"{a} ({names[a].name}): capability {model.capability[i]:g}, highest rung {model.ladder_ids[highest[i]]}"
            for i, a in enumerate(model.actor_ids)
        ]
        solara.HTML(tag="div", unsafe_innerHTML="<br>".join(html.escape(x) for x in lines), style="font-size: 11px")


@solara.component
def PositionsView(model: Any) -> None:
    """Positions over time on the issue chosen (or all issues), red lines as bands, agreed values marked."""
    deps = list(_tick(model))
    choice, set_choice = solara.use_state(model.issue_ids[0])
    if choice != "all issues" and choice not in model.issue_index:  # a new scenario after Reset
        choice = model.issue_ids[0]
    issue = None if choice == "all issues" else choice
    with solara.Column(style=BOX, classes=["dipsim-positions"]):
        heading("Positions")
        solara.Select("issue", value=choice, values=[*model.issue_ids, "all issues"], on_value=set_choice)
        FigureImage(lambda: positions_figure(model, issue), [*deps, issue])


@solara.component
def EscalationView(model: Any) -> None:
    """Highest rung per actor over time (war marked) and the current actor x target rungs."""
    deps = list(_tick(model))
    with solara.Column(style=BOX, classes=["dipsim-escalation"]):
        heading("Escalation")
        FigureImage(lambda: escalation_figure(model), deps)


def _venue_line(v: dict[str, Any]) -> str:
    return (
        f"{v['date']:%d %b} · {v['name']} ({v['place']}, {v['format']}): {', '.join(v['participants'])}"
        f" — agenda: {', '.join(v['agenda'])}"
    )


@solara.component
def CalendarView(model: Any) -> None:
    """Today's date, today's venue (participants, agenda), the venues to come."""
    _tick(model)
    info = calendar_info(model)
    with solara.Column(style=BOX, classes=["dipsim-calendar"]):
        heading("Calendar")
        when = "last simulated day" if info["started"] else "start, nothing simulated yet"
        solara.Text(f"Today: {info['date']:%A %d %B %Y} (day {info['day']} of {info['n_steps']}; {when})")
        if info["today"]:
            for v in info["today"]:
                solara.Success(f"Today's venue: {_venue_line(v)}; chair {v['chair']}", dense=True)
        else:
            solara.Text("No venue today.")
        solara.Text(f"Venues to come ({len(info['upcoming'])}):")
        if info["upcoming"]:
            solara.HTML(
                tag="ul",
                unsafe_innerHTML="".join(f"<li>{html.escape(_venue_line(v))}</li>" for v in info["upcoming"]),
                style="font-size: 12px; margin: 0",
            )
        else:
            solara.Text("none")


PROPOSAL_CSS = """
.dipsim-proposal.v-btn { height: auto !important; min-height: 28px; max-width: 100%; padding: 2px 6px !important; }
.dipsim-proposal .v-btn__content { white-space: normal; text-align: left; flex: 1 1 auto; line-height: 1.3; }
"""


@solara.component
def ProposalLogView(model: Any) -> None:
    """Every proposal (who, what, to whom, where, adopted or not); a click on one shows the decision log rows."""
    _tick(model)
    selected, set_selected = solara.use_state(None)
    log = proposal_log(model)
    with solara.Column(style=BOX, classes=["dipsim-proposals"]):
        # Vuetify keeps a button's text on one line; a long entry (a multilateral venue) would be cut at the edge.
        solara.Style(PROPOSAL_CSS)
        heading("Proposal log", "newest first; click an entry to see why it was accepted or not")
        if log.empty:
            solara.Text("No proposal yet.")
        for row in log[::-1].itertuples():  # newest first
            key = (row.step, row.venue, row.proposer)
            verdict = "ADOPTED" if row.adopted else "not adopted"
            label = f"#{row.n} {row.date} {row.venue}: {row.proposer} → {row.recipients} — {verdict}"
            solara.Button(
                label,
                text=True,
                small=True,
                color="success" if row.adopted else "error",
                on_click=lambda key=key: set_selected(None if selected == key else key),
                style={"text-transform": "none", "justify-content": "flex-start"},
                classes=["dipsim-proposal"],
            )
            if selected == key:
                with solara.Card(margin=0, classes=["dipsim-why"]):
                    solara.Text(f"Package ({row.legal_form}): {row.package}")
                    solara.Text(f"accepted by: {row.accepted_by or 'none'}; rejected by: {row.rejected_by or 'none'}")
                    html_table(proposal_reasons(model, *key))
                    solara.Text(
                        "value: the package's trust-discounted utility; reservation: what it had to beat (the status "
                        "quo or the war option); trust_discount: the promised gain lost to distrust.",
                        style={"font-size": "11px", "color": "gray"},
                    )


@solara.component
def OutcomeBanner(model: Any) -> None:
    """Agreement, stalemate or escalation with its date (or the day reached), and the scenario and seed."""
    _tick(model)
    kind, text = outcome_summary(model)
    with solara.Column(gap="0px", classes=["dipsim-outcome"], style={"padding": "0 12px"}):
        if kind == "running":
            solara.Info(text, dense=True)
        elif kind == "agreement":
            solara.Success(text)
        elif kind == "stalemate":
            solara.Warning(text)
        else:
            solara.Error(text)
        path = getattr(model, "config_path", None)
        seed = "" if model.seed is None else f", seed {model.seed}"
        solara.Text(
            f"{model.config.name} ({display_path(path) if path else model.config.id}{seed})",
            style={"font-size": "12px", "color": "gray"},
        )


@solara.component
def ExportView(model: Any) -> None:
    """The `dipsim run` command reproducing the run shown, and the scenario file with its parameters to download."""
    _tick(model)
    path = getattr(model, "config_path", None)
    params = parameter_overrides(model)
    cmd = export_command(path, model.seed if model.seed is not None else 0, params)
    with solara.Column(style=BOX, classes=["dipsim-export"]):
        heading("Export", "this run from the command line")
        solara.Preformatted(cmd, class_="dipsim-command", style_=WRAP)
        if path is not None:
            solara.FileDownload(
                lambda: export_yaml(path, params).encode(),
                filename=f"{model.config.id}_seed{model.seed}.yaml",
                label="Download the scenario with these parameters (YAML)",
            )
        heading("Model parameters", "of this run; the sliders are named by the first column")
        html_table(parameter_table(model), floats=4)
