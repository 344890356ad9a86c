"""The sweep-results page: choose an output folder of ``dipsim sweep`` and explore what ``dipsim report`` shows.

Every table and figure is computed by the same functions ``dipsim report`` uses (``experiments.statistics``,
``experiments.figures``, through ``sim.viz.sweep_data``), so the page and the PNGs agree. The page adds what a
static report cannot offer:
- choosing the folder: one of those found under the working directory, or any path;
- reloading it while a sweep is still running;
- the parameter on the x axis of the probability plot;
- which points' Kaplan-Meier curves are drawn, and how runs without escalation are censored;
- one point's runs, each with the ``dipsim run`` command that reproduces it on its own.

``$DIPSIM_VIZ_RESULTS`` (set by ``dipsim viz --results DIR``) is the folder shown first.
"""

from __future__ import annotations

import os
from pathlib import Path

import solara

from experiments.figures import (
    heatmap_figure,
    heatmap_paths,
    indices_figure,
    points_figure,
    probability_figure,
    probability_paths,
    survival_choice,
    survival_figure,
)
from experiments.report import ReportResult, format_indices, headline
from experiments.statistics import survival_curves
from experiments.sweep_reader import is_named, point_labels
from sim.options import VIZ_RESULTS_ENV
from sim.viz.sweep_data import (
    SORTS,
    find_sweeps,
    point_runs,
    report_of_folder,
    rerun_command,
    run_details,
    summary_view,
    sweep_roots,
)
from sim.viz.ui import BOX, WRAP, FigureImage, heading, html_table

MAX_CURVES = 20  # survival curves drawn at once: more are unreadable (and slow to draw)
CENSORING = {"horizon": "at the horizon", "steps_run": "at each run's last step"}


@solara.component
def FolderChooser(folder: solara.Reactive[str], reloads: solara.Reactive[int]) -> None:
    """The sweep folders found under the working directory, a path box, and Reload."""
    root = Path.cwd()
    found = solara.use_memo(lambda: find_sweeps(root), [reloads.value])
    shown = Path(folder.value.strip()).expanduser()
    current = next((f for f in found if (root / f).resolve() == (root / shown).resolve()), None)
    with solara.Column(classes=["dipsim-sweep-chooser"]):
        solara.Select(
            label=f"Sweep folders under {root}",
            values=found,
            value=current,
            on_value=lambda v: folder.set(v or ""),
        )
        if not found:
            solara.Text("none found: run `dipsim sweep`, or type a path", style={"font-size": "12px"})
        solara.InputText("Results folder (a path; Enter to open)", value=folder, continuous_update=False)
        solara.Button("Reload", on_click=lambda: reloads.set(reloads.value + 1), outlined=True)


@solara.component
def SweepSummary(result: ReportResult) -> None:
    """Where the runs come from, the headline counts, the report's notes and the summary table."""
    sort = solara.use_reactive("design order")
    m = result.sweep.manifest
    with solara.Column(style=BOX, classes=["dipsim-sweep-summary"]):
        heading("Summary", "recounted from runs/; P(escalation) with its Wilson 95% interval")
        solara.Text(f"{result.out}: {headline(result.summary)}", classes=["dipsim-sweep-headline"])
        facts = [
            f"experiment {m.get('experiment_id', '?')}",
            f"sampler {result.sweep.sampler or '?'}",
            f"seed {m.get('seed', '?')}",
            f"horizon {m.get('horizon') or 'end of calendar'}",
            f"status {m.get('status', '?')}",
        ]
        solara.Text(" · ".join(facts), style={"font-size": "12px", "color": "gray"})
        for note in result.notes:
            solara.Warning(note, dense=True)
        solara.Select(label="Sort by", values=list(SORTS), value=sort)
        with solara.Div(style={"max-height": "420px", "overflow": "auto"}):
            html_table(summary_view(result, sort.value))


@solara.component
def ProbabilityView(result: ReportResult) -> None:
    """P(escalation) against a parameter chosen on the page (the report draws one plot per parameter)."""
    paths = probability_paths(result.sweep, result.summary)
    chosen = solara.use_reactive("")
    path = chosen.value if chosen.value in paths else (paths[0] if paths else "")
    with solara.Column(style=BOX, classes=["dipsim-sweep-probability"]):
        heading("P(escalation) against a parameter")
        if not paths:
            solara.Text("no varied numeric parameter with 3 or more values")
            return
        solara.Select(label="x axis", values=paths, value=path, on_value=chosen.set)
        FigureImage(lambda: probability_figure(result.sweep, result.summary, path), [result, path])


@solara.component
def HeatmapView(result: ReportResult) -> None:
    """P(escalation) over a two-parameter grid."""
    with solara.Column(style=BOX, classes=["dipsim-sweep-heatmap"]):
        heading("Heatmap", "two-parameter grids")
        FigureImage(lambda: heatmap_figure(result.sweep, result.summary), [result])


@solara.component
def PointsView(result: ReportResult) -> None:
    """P(escalation) per named point (counterfactuals)."""
    with solara.Column(style=BOX, classes=["dipsim-sweep-points"]):
        heading("Counterfactuals", "P(escalation) per named point")
        FigureImage(lambda: points_figure(result.sweep, result.summary), [result])


@solara.component
def IndicesView(result: ReportResult) -> None:
    """Sobol or Morris indices, as the report prints them and as a bar chart."""
    with solara.Column(style=BOX, classes=["dipsim-sweep-indices"]):
        heading("Sensitivity indices")
        solara.Preformatted(format_indices(result.indices), style_="font-size: 12px")
        FigureImage(lambda: indices_figure(result.indices), [result])


@solara.component
def SurvivalView(result: ReportResult) -> None:
    """Kaplan-Meier curves of the points chosen on the page (first: the report's choice), either censoring."""
    labels = point_labels(result.sweep)
    ids = [pid for pid in result.summary["point_id"] if pid in labels]
    by_label = {labels[pid]: pid for pid in ids}
    chosen = solara.use_reactive([labels[pid] for pid in survival_choice(result.summary)[0] if pid in labels])
    censoring = solara.use_reactive("horizon")
    curves = solara.use_memo(
        lambda: result.survival if censoring.value == "horizon" else survival_curves(result.sweep, censoring.value),
        [result, censoring.value],
    )
    picked = [by_label[x] for x in chosen.value if x in by_label]
    with solara.Column(style=BOX, classes=["dipsim-sweep-survival"]):
        heading("Time to escalation", "Kaplan-Meier, 95% band")
        solara.SelectMultiple("Points", values=chosen, all_values=list(by_label), dense=True)
        solara.ToggleButtonsSingle(value=censoring, values=list(CENSORING))
        solara.Text(f"runs without escalation are censored {CENSORING[censoring.value]}", style={"font-size": "12px"})
        if curves.empty:
            solara.Text("no run finished without an error: no curve to draw")
        elif not picked:
            solara.Text("choose at least one point")
        else:
            if len(picked) > MAX_CURVES:
                solara.Text(f"showing the first {MAX_CURVES} of the {len(picked)} points chosen")
                picked = picked[:MAX_CURVES]
            FigureImage(
                lambda: survival_figure(curves, result.summary, picked, censoring.value),
                [result, censoring.value, picked],
            )


@solara.component
def PointRunsView(result: ReportResult) -> None:
    """One point's runs, and the command that repeats a chosen run alone."""
    labels = point_labels(result.sweep)
    by_label = {labels.get(pid, pid): pid for pid in result.summary["point_id"]}
    chosen = solara.use_reactive("")
    label = chosen.value if chosen.value in by_label else next(iter(by_label))
    pid = by_label[label]
    details = solara.use_memo(lambda: run_details(result), [result])
    runs = point_runs(details, pid)
    replication = solara.use_reactive(0)
    with solara.Column(style=BOX, classes=["dipsim-sweep-runs"]):
        heading("One point's runs", "each run is reproducible on its own")
        solara.Select(label="Point", values=list(by_label), value=label, on_value=chosen.set)
        if runs.empty:
            solara.Text("no runs yet")
            return
        reps = [int(r) for r in runs["replication"]]
        rep = replication.value if replication.value in reps else reps[0]
        counts = runs["outcome"].fillna("error").value_counts()
        solara.Text(", ".join(f"{k}: {v}" for k, v in counts.items()), classes=["dipsim-sweep-outcomes"])
        solara.Select(label="Replication", values=reps, value=rep, on_value=replication.set)
        run = runs[runs["replication"] == rep].iloc[0]
        solara.Text(f"replication {rep}: {run['outcome'] or 'error'}, {int(run['steps_run'])} steps")
        solara.Preformatted(rerun_command(result, run), class_="dipsim-rerun", style_=WRAP)
        with solara.Div(style={"max-height": "260px", "overflow": "auto"}):
            html_table(runs.drop(columns=["set"]))


@solara.component
def SweepPage() -> None:
    """The page: the folder chooser in the sidebar; the report's tables and figures for the chosen folder."""
    folder = solara.use_reactive(os.environ.get(VIZ_RESULTS_ENV, ""))
    reloads = solara.use_reactive(0)
    roots = solara.use_memo(sweep_roots, [])
    result, error = solara.use_memo(lambda: report_of_folder(folder.value, roots), [folder.value, reloads.value])
    with solara.Sidebar():
        FolderChooser(folder, reloads)
    solara.Title("dipsim: sweep results")
    if error:
        message = f"Could not read the results: {error}"
        solara.Error(message, classes=["dipsim-error"], style={"white-space": "pre-wrap"})
    if result is None:
        solara.Info("Choose an output folder of `dipsim sweep` in the sidebar.", classes=["dipsim-sweep-empty"])
        return
    with solara.Column(classes=["dipsim-sweep"]):
        SweepSummary(result)
        with solara.Columns([1, 1]):
            ProbabilityView(result)
            SurvivalView(result)
        with solara.Columns([1, 1]):
            if heatmap_paths(result.sweep, result.summary) is not None:
                HeatmapView(result)
            if is_named(result.sweep.points):
                PointsView(result)
            if result.indices is not None:
                IndicesView(result)
            PointRunsView(result)
