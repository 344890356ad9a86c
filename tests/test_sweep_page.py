"""The sweep-results page without a browser: its helpers as plain functions, and the page rendered with
``solara.render`` on a real ``dipsim sweep`` folder (and on synthetic ones for the named-point and Sobol views),
driven through its widgets. The page in a real browser is tested in test_browser.py.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import ipyvuetify as v
import ipywidgets
import pandas as pd
import pytest
import solara

from experiments.figures import heatmap_figure, probability_figure, survival_figure
from experiments.report import report
from sim.cli import main
from sim.options import ROOTS_ENV, VIZ_RESULTS_ENV
from sim.viz import sweep_data, sweep_page
from sim.viz.app import Layout, routes
from sim.viz.ui import png_bytes
from tests.synthetic_sweeps import RESOLVE, SCENARIO_2022, TRUST, grid_experiment, grid_p, grid_values, write_sweep
from tests.widgets import all_widgets, button, errors, field, texts, type_text


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real sweep: a 3 x 2 grid on the 2022 scenario, 4 runs per point (24 runs)."""
    root = tmp_path_factory.mktemp("sweeps")
    exp = grid_experiment(root / "tiny_grid.yaml", [0.3, 1.0])
    out = root / "results" / "tiny"
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def tiny(sweep_dir: Path) -> Any:
    result, error = sweep_data.load_report(str(sweep_dir))
    assert error is None
    return result


def classes(box: Any) -> set[str]:
    return {c for w in all_widgets(box) for c in (getattr(w, "class_", None) or "").split()}


def images(box: Any, cls: str) -> list[bytes]:
    """The PNG bytes of every image inside the widgets with class ``cls``."""
    out = []
    for w in all_widgets(box):
        if cls in (getattr(w, "class_", None) or "").split():  # solara.Image is an ipywidgets.Image
            out += [i.value for i in all_widgets(w) if isinstance(i, ipywidgets.Image)]
    return out


def select(rc: Any, label: str) -> Any:
    return rc.find(v.Select, label=label).widget


@solara.component
def App() -> None:
    with solara.AppLayout():  # as the server shows the page: the folder chooser is in the sidebar
        sweep_page.SweepPage()


# --------------------------------------------------------------------------- helpers


def test_find_sweeps_lists_sweep_folders_below_the_root(tmp_path: Path) -> None:
    for rel in ("a", "b/c", "b/c/d/e/f", ".hidden/x", "not_a_sweep"):
        (tmp_path / rel / "runs").mkdir(parents=True)
    for rel in ("a", "b/c", "b/c/d/e/f", ".hidden/x"):
        (tmp_path / rel / "manifest.json").write_text("{}")
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "runs").mkdir()
    # the root itself, and folders at most 3 levels down; hidden folders and runs/ are not searched
    assert sweep_data.find_sweeps(tmp_path) == [".", "a", "b/c"]
    assert sweep_data.find_sweeps(tmp_path, max_depth=5) == [".", "a", "b/c", "b/c/d/e/f"]


def test_load_report_names_the_folder_and_the_problem(tmp_path: Path) -> None:
    assert sweep_data.load_report("  ") == (None, None)
    result, error = sweep_data.load_report(str(tmp_path / "nowhere"))
    assert result is None and error is not None
    assert "nowhere" in error and "no such folder" in error
    result, error = sweep_data.load_report(str(tmp_path))
    assert result is None and "manifest.json" in error and "not the output folder of `dipsim sweep`" in error


def test_summary_view_is_the_report_table_sorted_on_request(tiny: Any, sweep_dir: Path) -> None:
    printed = report(sweep_dir, plots=False).summary
    shown = sweep_data.summary_view(tiny)
    assert list(shown["id"]) == list(printed["point_id"])
    assert (shown["p_escalation"].to_numpy() == printed["p_escalation"].to_numpy()).all()
    assert list(shown.columns[2:4]) == [TRUST, RESOLVE]
    high = sweep_data.summary_view(tiny, "P(escalation), highest first")["p_escalation"]
    assert high.is_monotonic_decreasing and sorted(high) == sorted(shown["p_escalation"])
    assert sweep_data.summary_view(tiny, "P(escalation), lowest first")["p_escalation"].is_monotonic_increasing


def test_rerun_commands_reproduce_the_rows(tiny: Any, capsys: pytest.CaptureFixture[str]) -> None:
    for pid in list(tiny.summary["point_id"])[::5]:  # the first and the last point
        runs = sweep_data.point_runs(sweep_data.run_details(tiny), pid)
        assert list(runs["replication"]) == [0, 1, 2, 3]
        row = runs.iloc[-1]
        argv = shlex.split(sweep_data.rerun_command(tiny, row))
        assert argv[:2] == ["dipsim", "run"] and Path(argv[2]).resolve() == SCENARIO_2022 and "--set" in argv
        capsys.readouterr()
        assert main([*argv[1:], "--json"]) == 0
        got = json.loads(capsys.readouterr().out)
        assert (got["seed"], got["outcome"], got["steps_run"]) == (row["seed"], row["outcome"], row["steps_run"])


# --------------------------------------------------------------------------- each view alone


@pytest.mark.parametrize(
    ("component", "cls", "figures"),
    [
        ("SweepSummary", "summary", 0),
        ("ProbabilityView", "probability", 1),
        ("HeatmapView", "heatmap", 1),
        ("SurvivalView", "survival", 1),
        ("PointRunsView", "runs", 0),
    ],
)
def test_each_view_renders_on_a_real_sweep(tiny: Any, component: str, cls: str, figures: int) -> None:
    box, rc = solara.render(getattr(sweep_page, component)(tiny), handle_error=False)
    assert f"dipsim-sweep-{cls}" in classes(box)
    assert len(images(box, f"dipsim-sweep-{cls}")) == figures
    assert texts(box).strip()
    rc.close()


def test_points_and_indices_views_render_alone(tmp_path: Path) -> None:
    names = [f"case {k}" for k in range(len(grid_values()))]
    named, _ = sweep_data.load_report(str(write_sweep(tmp_path / "named", grid_values(), grid_p, names=names)))
    box, rc = solara.render(sweep_page.PointsView(named), handle_error=False)
    assert len(images(box, "dipsim-sweep-points")) == 1
    rc.close()
    problem = {"num_vars": 2, "names": [TRUST, RESOLVE], "bounds": [[0.0, 1.0], [0.2, 1.0]]}
    from SALib.sample import morris as morris_sample

    X = morris_sample.sample(problem, 6, num_levels=4, seed=2)
    values = [{TRUST: float(a), RESOLVE: float(b)} for a, b in X]
    salib = {"sampler": "morris", "problem": problem, "num_levels": 4}
    out = write_sweep(tmp_path / "morris", values, grid_p, salib=salib, design_rows=list(range(len(X))))
    result, _ = sweep_data.load_report(str(out))
    box, rc = solara.render(sweep_page.IndicesView(result), handle_error=False)
    assert "Morris indices of P(escalation)" in texts(box)
    assert len(images(box, "dipsim-sweep-indices")) == 1
    rc.close()


# --------------------------------------------------------------------------- the page


def test_page_without_a_folder_asks_for_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(VIZ_RESULTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    box, rc = solara.render(App(), handle_error=False)
    assert "Choose an output folder of `dipsim sweep`" in texts(box)
    assert "none found" in texts(box)
    assert not errors(box)
    rc.close()


def test_page_shows_the_report_of_a_real_sweep(monkeypatch: pytest.MonkeyPatch, sweep_dir: Path, tiny: Any) -> None:
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(sweep_dir))
    monkeypatch.chdir(sweep_dir.parent.parent)
    box, rc = solara.render(App(), handle_error=False)
    text = texts(box)
    assert f"{sweep_dir}: 6 point(s), 24 run(s), 0 error(s)" in text
    assert "experiment tiny_grid · sampler grid · seed 5" in text
    got = classes(box)
    for cls in ("summary", "probability", "survival", "heatmap", "runs"):
        assert f"dipsim-sweep-{cls}" in got, cls
    assert "dipsim-sweep-points" not in got and "dipsim-sweep-indices" not in got  # a grid has neither
    # the same figures as `dipsim report` writes, drawn by the same functions
    written = {p.name for p in report(sweep_dir).plots}
    assert written == {"p_escalation_vs_trust.RUS.USA.png", "heatmap.png", "survival.png"}
    sw, table = tiny.sweep, tiny.summary
    expected = {
        "probability": probability_figure(sw, table, TRUST),
        "heatmap": heatmap_figure(sw, table),
        "survival": survival_figure(tiny.survival, table),
    }
    for cls, fig in expected.items():
        assert images(box, f"dipsim-sweep-{cls}") == [png_bytes(fig)], cls
    assert select(rc, "Sweep folders under " + str(sweep_dir.parent.parent)).v_model == "results/tiny"
    assert not errors(box)
    rc.close()


def test_page_controls_redraw_the_figures(monkeypatch: pytest.MonkeyPatch, sweep_dir: Path, tiny: Any) -> None:
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(sweep_dir))
    box, rc = solara.render(App(), handle_error=False)
    # the survival plot: another censoring, then fewer points
    before = images(box, "dipsim-sweep-survival")
    rc.find(v.BtnToggle).widget.v_model = 1  # "steps_run"
    assert "censored at each run's last step" in texts(box)
    after = images(box, "dipsim-sweep-survival")
    assert after != before
    points = rc.find(v.Select, label="Points").widget
    points.v_model = points.v_model[:1]
    assert images(box, "dipsim-sweep-survival") not in (before, after)
    points.v_model = []
    assert "choose at least one point" in texts(box)
    # one point's runs: another point, another replication, another command
    runs = sweep_data.point_runs(sweep_data.run_details(tiny), tiny.summary["point_id"].iloc[-1])
    labels = list(select(rc, "Point").items)
    select(rc, "Point").v_model = labels[-1]
    select(rc, "Replication").v_model = 2
    text = texts(box)
    assert f"--seed {runs['seed'].iloc[2]}" in text
    assert f"replication 2: {runs['outcome'].iloc[2]}" in text
    assert not errors(box)
    rc.close()


def test_page_sorts_the_summary_by_p_escalation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On a sweep whose P(escalation) differs between points by construction (``grid_p``; a real sweep's can be
    the same everywhere), each sort shows the table in ``summary_view``'s order, and the two orders differ."""
    out = write_sweep(tmp_path / "sorted", grid_values(), grid_p)
    result, error = sweep_data.load_report(str(out))
    assert error is None and result.summary["p_escalation"].nunique() > 1
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(out))
    box, rc = solara.render(App(), handle_error=False)
    orders = []
    for sort in ("P(escalation), lowest first", "P(escalation), highest first"):
        select(rc, "Sort by").v_model = sort
        tables = [getattr(w, "unsafe_innerHTML", None) or "" for w in all_widgets(box)]
        html = next(t for t in tables if "<th>p_escalation</th>" in t)
        ids = list(sweep_data.summary_view(result, sort)["id"])
        assert [html.index(f"<td>{pid}</td>") for pid in ids] == sorted(html.index(f"<td>{pid}</td>") for pid in ids)
        orders.append(ids)
    assert orders[0] != orders[1]
    assert not errors(box)
    rc.close()


def test_page_reports_a_bad_folder_and_recovers(
    monkeypatch: pytest.MonkeyPatch, sweep_dir: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(sweep_dir))
    monkeypatch.setenv(ROOTS_ENV, str(tmp_path))  # the page opens folders under its roots only (issue 8)
    box, rc = solara.render(App(), handle_error=False)
    type_text(field(rc, "Results folder"), str(tmp_path))  # a folder, but not a sweep's
    error = errors(box)
    assert "Could not read the results" in error and str(tmp_path) in error and "manifest.json" in error
    assert "Traceback" not in error
    assert "dipsim-sweep-summary" not in classes(box)
    type_text(field(rc, "Results folder"), str(sweep_dir))
    assert not errors(box)
    assert "24 run(s)" in texts(box)
    rc.close()


def test_reload_picks_up_runs_written_since(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = write_sweep(tmp_path / "grow", grid_values(), grid_p, reps=10)
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(out))
    box, rc = solara.render(App(), handle_error=False)
    assert "80 run(s)" in texts(box)
    part = next((out / "runs").glob("part-00000.parquet"))
    extra = pd.read_parquet(part).head(5).assign(replication=lambda d: d["replication"] + 100)
    extra.to_parquet(out / "runs" / "part-00050.parquet", index=False)
    assert "80 run(s)" in texts(box)  # read once, until asked
    assert "<td>100</td>" not in texts(box)  # and so are the point's runs listed (replication 100 is new)
    button(rc, "Reload").click()
    assert "85 run(s)" in texts(box)
    assert "<td>100</td>" in texts(box)
    rc.close()


def test_page_with_errors_only_and_unlisted_points(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every run raised: counts, no curve and no traceback; then points in runs/ but not in points.parquet
    (added to the experiment later) each get a label of their own and can be chosen."""
    out = write_sweep(tmp_path / "failed", grid_values(), grid_p, reps=3, error_every=1)
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(out))
    box, rc = solara.render(App(), handle_error=False)
    text = texts(box)
    assert "8 point(s), 24 run(s), 24 error(s), 0 escalation(s)" in text
    assert "no run finished without an error" in text
    rc.find(v.Select, label="Points").widget.v_model = list(rc.find(v.Select, label="Points").widget.items)[:2]
    assert "no run finished without an error" in texts(box)
    assert "error: 3" in texts(box)  # the point's outcomes
    assert not errors(box)
    rc.close()

    out = write_sweep(tmp_path / "grown", grid_values(), grid_p, reps=5)
    points = pd.read_parquet(out / "points.parquet")
    points.head(2).to_parquet(out / "points.parquet", index=False)  # 6 of the 8 points are not listed
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(out))
    box, rc = solara.render(App(), handle_error=False)
    labels = list(select(rc, "Point").items)
    assert len(labels) == len(set(labels)) == 8
    for label in labels[2:]:
        select(rc, "Point").v_model = label
        assert "replication 0:" in texts(box)
    assert "points.parquet" in texts(box)  # the report's note
    rc.close()


def test_named_points_and_sobol_designs_get_their_views(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    names = [f"case {k}" for k in range(len(grid_values()))]
    named = write_sweep(tmp_path / "named", grid_values(), grid_p, reps=20, names=names)
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(named))
    box, rc = solara.render(App(), handle_error=False)
    assert "dipsim-sweep-points" in classes(box) and len(images(box, "dipsim-sweep-points")) == 1
    assert "case 7" in list(select(rc, "Point").items)
    rc.close()

    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 2, "names": [TRUST, RESOLVE], "bounds": [[0.0, 1.0], [0.2, 1.0]]}
    X = sobol_sample.sample(problem, 16, calc_second_order=False, seed=3)
    values = [{TRUST: float(a), RESOLVE: float(b)} for a, b in X]
    salib = {"sampler": "sobol", "problem": problem, "calc_second_order": False}
    out = write_sweep(tmp_path / "sobol", values, grid_p, reps=20, salib=salib, design_rows=list(range(len(X))))
    monkeypatch.setenv(VIZ_RESULTS_ENV, str(out))
    box, rc = solara.render(App(), handle_error=False)
    text = texts(box)
    assert "dipsim-sweep-indices" in classes(box) and "Sobol indices of P(escalation)" in text
    assert len(images(box, "dipsim-sweep-indices")) == 1
    assert not errors(box)
    rc.close()


def test_app_has_a_labelled_tab_per_page() -> None:
    assert [(r.path, r.label) for r in routes] == [("/", "Simulation"), ("sweep", "Sweep results")]

    @solara.component
    def Root() -> None:
        solara.RoutingProvider(routes=routes, pathname="/sweep", children=[Layout(children=[solara.Text("x")])])

    box, rc = solara.render(Root(), handle_error=False)
    tabs = rc.find(v.Tabs).widget
    assert [t.children for t in rc.find(v.Tab, class_="dipsim-tab").widgets] == [["Simulation"], ["Sweep results"]]
    assert tabs.v_model == 1  # on /sweep, its tab is the active one
    rc.close()
