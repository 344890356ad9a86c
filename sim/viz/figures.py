"""The simulation page's figures of a running :class:`~sim.model.DiplomacyModel`: the trust network, positions
over time, escalation (highest rungs over time and the current rung matrix), one actor's beliefs about the others'
costs of war over time.

Each is a matplotlib ``Figure`` built from ``sim.viz.data``'s tables (no pyplot, so no global state shared between
browser sessions and no GUI backend), shown on the page as a PNG image: nothing on the page needs a CDN (altair
and vega would).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import matplotlib.dates as mdates
import networkx as nx
import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.messages import cut
from sim.viz.data import (
    beliefs_over_time,
    day_before_start,
    highest_rungs,
    highest_rungs_over_time,
    positions_over_time,
)

DPI = 80
TRUST_CMAP = colormaps["RdYlGn"]


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
    highest = highest_rungs(model.rung)
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
    """Demands over time on one issue (or all, as small multiples): each actor's line (its ideal point dashed),
    its red line as a band (the acceptable range, drawn only where it is narrower than the whole scale) and
    agreed values marked."""
    issues = [issue] if issue else list(model.issue_ids)
    df = positions_over_time(model)
    cal = model.config.calendar
    x_max = max(cal.end, day_before_start(model) + dt.timedelta(days=1))
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
            # The demand moves (what the actor tables and accepts); the ideal point only by bloc coordination.
            ax.plot(line["date"], line["position"], color=colour, lw=0.8, ls="--", alpha=0.6)
            ax.plot(line["date"], line["demand"], color=colour, lw=1.6, label=aid, marker="." if len(line) < 3 else "")
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
        ax.set_xlim(day_before_start(model), x_max)
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
    ax.set_xlim(day_before_start(model), max(model.config.calendar.end, day_before_start(model) + dt.timedelta(days=1)))
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


MAX_BELIEF_PANELS = 12  # a large scenario would otherwise draw a panel per actor at every step


def beliefs_figure(model: Any, observer: str) -> Figure:
    """What ``observer`` believes about each other actor's cost of war over time, one panel per actor (priors differ
    in scale): the posterior mean as a line, the posterior's support shaded, the prior's range dashed. Actors with
    a fixed prior are left out (nothing to learn; the view says so when none is left); above
    ``MAX_BELIEF_PANELS`` actors, those learnt most about (the narrowest quantile interval now) are shown."""
    df = beliefs_over_time(model, observer)
    last = df[df["step"] == df["step"].max()]
    width = (last["q_hi"] - last["q_lo"]).to_numpy()
    chosen = np.sort(np.argsort(width, kind="stable")[:MAX_BELIEF_PANELS])  # in actor order
    actors = list(last["actor"].to_numpy()[chosen])
    cols = min(len(actors), 3)
    rows = math.ceil(len(actors) / cols)
    height = 1.9 * rows + 0.7  # inches: the title and the dates below keep their size whatever the rows
    fig = Figure(figsize=(9.0, height), dpi=DPI)
    fig.subplots_adjust(left=0.06, right=0.99, top=1 - 0.45 / height, bottom=0.35 / height, hspace=0.55, wspace=0.2)
    axes = list(fig.subplots(rows, cols, sharex=True, squeeze=False).ravel())
    for ax in axes[len(actors) :]:
        ax.set_visible(False)
    start = day_before_start(model)
    for ax, aid in zip(axes, actors, strict=False):
        i = model.index_of[aid]
        kind, low, _, high = model.priors.prior(i)
        line = df[df["actor"] == aid]
        colour = _actor_colour(i)
        ax.fill_between(line["date"], line["cost_lo"], line["cost_hi"], step="post", color=colour, alpha=0.2, lw=0)
        ax.step(line["date"], line["cost_mean"], where="post", color=colour, lw=1.6)
        for y in (low, high):
            ax.axhline(y, color="dimgray", lw=0.8, ls="--")
        pad = 0.06 * (high - low)
        ax.set_ylim(low - pad, high + pad)
        ax.set_xlim(start, max(model.config.calendar.end, start + dt.timedelta(days=1)))
        ax.set_title(f"{aid} ({kind} prior, {low:g} to {high:g})", fontsize=8)
        _date_axis(ax)
        ax.tick_params(labelsize=7)
    total = len(last)
    about = "each actor" if len(actors) == total else f"{len(actors)} of {total} actors, those learnt most about"
    fig.suptitle(f"{observer}'s belief about the cost of war of {about} (line: mean; band: support)", fontsize=9)
    return fig
