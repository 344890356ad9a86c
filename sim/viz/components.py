"""The simulation page's views: Solara components, each a function of the model that reads Mesa's update counter
so that it redraws after every step (``TrustNetworkView``, ``PositionsView``, ``EscalationView``, ``WhyView``,
``BeliefsView``, ``CalendarView``, ``ProposalLogView``, ``OutcomeBanner``, ``ExportView``). What they show comes
from ``sim.viz.data`` and ``sim.viz.figures``; here is only the layout and the page's interaction (an issue, a
proposal, a moment, an observer chosen).
"""

from __future__ import annotations

import html
from typing import Any

import solara
from mesa.visualization.utils import update_counter

from sim.viz.commands import display_path
from sim.viz.data import (
    actor_lines,
    beliefs_caption,
    calendar_info,
    export_command,
    export_yaml,
    learnable,
    outcome_summary,
    parameter_overrides,
    parameter_table,
    proposal_log,
    proposal_reasons,
    why_label,
    why_moments,
    why_table,
)
from sim.viz.figures import beliefs_figure, escalation_figure, positions_figure, trust_network_figure
from sim.viz.ui import BOX, WRAP, FigureImage, heading, html_table


def _tick(model: Any) -> tuple[Any, int, int]:
    """What a view depends on: the model object, its day, and Mesa's update counter (read: redraw each step)."""
    return model, model.day, update_counter.get()


@solara.component
def TrustNetworkView(model: Any) -> None:
    """The trust network figure, and each actor named with its policy, capability and highest rung."""
    deps = list(_tick(model))
    with solara.Column(style=BOX, classes=["dipsim-network"]):
        heading("Trust network")
        FigureImage(lambda: trust_network_figure(model), deps)
        lines = actor_lines(model)
        solara.HTML(tag="div", unsafe_innerHTML="<br>".join(html.escape(x) for x in lines), style="font-size: 11px")


@solara.component
def PositionsView(model: Any) -> None:
    """Demands over time on the issue chosen (or all issues), ideal points dashed, red lines as bands, agreed
    values marked."""
    deps = list(_tick(model))
    choice, set_choice = solara.use_state(model.issue_ids[0])
    if choice != "all issues" and choice not in model.issue_index:  # a new scenario after Reset
        choice = model.issue_ids[0]
    issue = None if choice == "all issues" else choice
    with solara.Column(style=BOX, classes=["dipsim-positions"]):
        heading("Positions", "solid: what each actor last tabled or accepted; dashed: its ideal point")
        solara.Select("issue", value=choice, values=[*model.issue_ids, "all issues"], on_value=set_choice)
        FigureImage(lambda: positions_figure(model, issue), [*deps, issue])


@solara.component
def EscalationView(model: Any) -> None:
    """Highest rung per actor over time (war marked) and the current actor x target rungs."""
    deps = list(_tick(model))
    with solara.Column(style=BOX, classes=["dipsim-escalation"]):
        heading("Escalation")
        FigureImage(lambda: escalation_figure(model), deps)


@solara.component
def WhyView(model: Any) -> None:
    """Why? The decisive moments so far (climbs, refusals, agreements; ``sim.explain``), the newest shown unless
    another is chosen: its terms, the margin they sum to and the single change that would have flipped it."""
    _tick(model)
    chosen, set_chosen = solara.use_state(None)
    moments = why_moments(model)  # newest first
    labels = [why_label(len(moments) - n, m) for n, m in enumerate(moments)]
    with solara.Column(style=BOX, classes=["dipsim-explain"]):
        heading("Why?", "each decisive moment's terms, summing to its margin, and the change that would flip it")
        if not moments:
            solara.Text("No decisive moment yet: no climb up the ladder, refusal or agreement.")
            return
        label = chosen if chosen in labels else labels[0]
        solara.Select("moment (newest first)", value=label, values=labels, on_value=set_chosen)
        m = moments[labels.index(label)]
        small = {"font-size": "12px"}
        solara.Text(m.heading(), style=small)
        if m.blocks:
            solara.Text(f"blocked: {'; '.join(m.blocks)} (the margin is the value margin)", style=small)
        solara.Text(f"margin {m.margin:+.4f}; flip: {m.flip_text()}", classes=["dipsim-flip"], style=small)
        html_table(why_table(m), floats=4)  # the terms, and the margin they sum to


@solara.component
def BeliefsView(model: Any) -> None:
    """What the actor chosen (the first by default) has learnt about each other actor's cost of war from its
    answers: the posterior's mean and support over time against the prior's range (ODD 7.19)."""
    deps = list(_tick(model))
    choice, set_choice = solara.use_state(model.actor_ids[0])
    if choice not in model.index_of:  # a new scenario after Reset
        choice = model.actor_ids[0]
    with solara.Column(style=BOX, classes=["dipsim-beliefs"]):
        heading("Beliefs", "about each actor's private cost of war")
        solara.Select("observer", value=choice, values=list(model.actor_ids), on_value=set_choice)
        solara.Text(beliefs_caption(model, choice), classes=["dipsim-beliefs-caption"], style={"font-size": "12px"})
        if learnable(model)[model.index_of[choice]].any():
            FigureImage(lambda: beliefs_figure(model, choice), [*deps, choice])


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
