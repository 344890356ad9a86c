"""``dipsim report`` and its Python API on synthetic sweep folders written to the contract of docs/experiments.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from experiments.report import report
from experiments.statistics import sensitivity_indices, summary_table, survival_curves
from sim.cli import main
from tests.synthetic_sweeps import HORIZON, RESOLVE, TRUST, canonical, grid_p, grid_values, point_id, write_sweep

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> None:
    assert path.is_file(), path
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC), path


# --------------------------------------------------------------------------- summary


def test_summary_agrees_with_a_recount_of_the_runs(tmp_path: Path) -> None:
    out = write_sweep(tmp_path / "sweep", grid_values(), grid_p, reps=50, error_every=17)
    table = summary_table(out)
    assert len(table) == 8 and {TRUST, RESOLVE} <= set(table.columns)

    runs = pd.concat(pd.read_parquet(p) for p in sorted((out / "runs").glob("part-*.parquet")))
    for _, row in table.iterrows():
        mine = runs[runs["point_id"] == row["point_id"]]
        good = mine[mine["error"].isna()]
        k, n = int(good["escalated"].sum()), len(good)
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (row["runs"], row["errors"], row["escalations"]) == (len(mine), len(mine) - n, k)
        assert row["p_escalation"] == pytest.approx(k / n)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))
        steps = good.loc[good["escalated"].astype(bool), "escalation_step"]
        assert row["mean_escalation_step"] == pytest.approx(steps.mean(), nan_ok=True)
        assert row["agreed__nato"] == pytest.approx((good["agreed_issues"] == "arms,nato").mean())
    assert table["errors"].sum() > 0

    written = pd.read_parquet(out / "summary.parquet").set_index("point_id").loc[table["point_id"]]
    for col in ("runs", "errors", "escalations", "p_escalation", "ci_low", "ci_high"):
        assert table[col].to_numpy() == pytest.approx(written[col].to_numpy())


def test_points_missing_from_points_parquet_still_get_a_row(tmp_path: Path) -> None:
    """The runner writes points.parquet once: points added to the experiment later are only in runs/."""
    out = write_sweep(tmp_path / "sweep", grid_values(), grid_p, reps=20, error_every=7)
    full = summary_table(out)
    pts = pd.read_parquet(out / "points.parquet")
    pts.iloc[:-2].to_parquet(out / "points.parquet", index=False)
    res = report(out, plots=False)
    assert list(res.summary["point_id"]) == list(full["point_id"])
    assert res.summary[[TRUST, RESOLVE]].iloc[-2:].isna().all().all()
    stats = ["runs", "errors", "escalations", "p_escalation", "ci_low", "ci_high", "mean_escalation_step"]
    agreed = [c for c in full.columns if c.startswith("agreed__")]
    pd.testing.assert_frame_equal(res.summary[stats + agreed], full[stats + agreed])
    assert any("2 point id(s) in runs/ are not in points.parquet" in n for n in res.notes)
    assert set(res.survival["point_id"]) == set(full["point_id"])


# --------------------------------------------------------------------------- plots


def test_two_parameter_grid_writes_heatmap_line_plot_and_survival(tmp_path: Path) -> None:
    out = write_sweep(tmp_path / "sweep", grid_values(), grid_p, reps=30)
    res = report(out)
    names = {p.name for p in res.plots}
    assert names == {"heatmap.png", f"p_escalation_vs_{TRUST}.png", "survival.png"}  # resolve has 2 values only
    for p in res.plots:
        assert p.parent == out / "plots"
        assert_png(p)
    assert "p_escalation [Wilson 95%]" in res.text and TRUST in res.text
    assert res.indices is None


def test_one_parameter_sweep_and_no_plots(tmp_path: Path) -> None:
    values = [{TRUST: t} for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    out = write_sweep(tmp_path / "sweep", values, lambda v: 1 - v[TRUST], reps=20)
    assert report(out, plots=False).plots == [] and not (out / "plots").exists()
    names = {p.name for p in report(out).plots}
    assert names == {f"p_escalation_vs_{TRUST}.png", "survival.png"}


def test_counterfactual_points_bar_chart_and_survival_of_the_top_eight(tmp_path: Path) -> None:
    values = [{}] + [{TRUST: 0.1 * k} for k in range(1, 10)] + [{RESOLVE: 0.9}]
    names = ["baseline"] + [f"trust_{k}" for k in range(1, 10)] + ["resolute"]
    out = write_sweep(tmp_path / "sweep", values, lambda v: 0.5 if v[TRUST] is None else v[TRUST], names=names, reps=20)
    res = report(out)
    assert {"p_escalation_by_point.png", "survival.png"} <= {p.name for p in res.plots}
    assert list(res.summary["name"]) == names
    assert set(res.survival["name"]) == set(names)
    for p in res.plots:
        assert_png(p)


# --------------------------------------------------------------------------- sensitivity


def test_sobol_indices_rank_the_parameter_that_matters(tmp_path: Path) -> None:
    from SALib.sample import sobol

    problem = {"num_vars": 2, "names": [TRUST, RESOLVE], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    X = sobol.sample(problem, 64, calc_second_order=False, seed=11)
    values = [{TRUST: float(a), RESOLVE: float(b)} for a, b in X]
    salib = {"sampler": "sobol", "problem": problem, "calc_second_order": False}
    out = write_sweep(
        tmp_path / "sweep",
        values,
        lambda v: 0.05 + 0.9 * v[TRUST],
        reps=30,
        salib=salib,
        design_rows=list(range(len(X))),
        shuffle_points=True,  # the design order comes from the design rows, not the order of points.parquet
    )
    idx = sensitivity_indices(out).set_index("parameter")
    assert list(idx.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert idx.loc[TRUST, "S1"] > 0.7 and idx.loc[TRUST, "ST"] > 0.7
    assert idx.loc[RESOLVE, "ST"] < 0.15 and abs(idx.loc[RESOLVE, "S1"]) < 0.15
    assert (idx[["S1_conf", "ST_conf"]] > 0).all().all()
    # Exactly SALib on each design row's probability, in design order (bootstrap seed 1).
    from SALib.analyze import sobol as sobol_analyze

    y = summary_table(out).set_index("point_id")["p_escalation"].loc[[point_id(v) for v in values]].to_numpy()
    direct = sobol_analyze.analyze(dict(problem), y, calc_second_order=False, seed=1)
    for col in idx.columns:
        assert idx[col].to_numpy() == pytest.approx(np.asarray(direct[col])), col

    res = report(out)
    assert "sensitivity_sobol.png" in {p.name for p in res.plots}
    assert "S1_conf" in res.text and "ST_conf" in res.text
    assert_png(out / "plots" / "sensitivity_sobol.png")


def test_morris_indices_with_repeated_design_rows(tmp_path: Path) -> None:
    from SALib.sample import morris

    problem = {"num_vars": 2, "names": [TRUST, RESOLVE], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    X = morris.sample(problem, 10, num_levels=6, seed=5)
    values = [{TRUST: float(a), RESOLVE: float(b)} for a, b in X]
    assert len({canonical(v) for v in values}) < len(values)  # trajectories share points: run once, rows repeat
    salib = {"sampler": "morris", "problem": problem, "num_levels": 6}  # levels in experiment.yaml
    out = write_sweep(
        tmp_path / "sweep",
        values,
        lambda v: 0.1 + 0.8 * v[TRUST],
        reps=40,
        salib=salib,
        design_rows=list(range(30)),
    )
    idx = sensitivity_indices(out).set_index("parameter")
    assert list(idx.columns) == ["mu", "mu_star", "sigma", "mu_star_conf"]
    assert idx.loc[TRUST, "mu_star"] > 3 * idx.loc[RESOLVE, "mu_star"]
    from SALib.analyze import morris as morris_analyze

    y = summary_table(out).set_index("point_id")["p_escalation"].loc[[point_id(v) for v in values]].to_numpy()
    direct = morris_analyze.analyze(dict(problem), X, y, num_levels=6, seed=1)
    for col in idx.columns:
        assert idx[col].to_numpy() == pytest.approx(np.asarray(direct[col])), col
    report(out)
    assert_png(out / "plots" / "sensitivity_morris.png")


def test_incomplete_sobol_design_reports_without_indices(tmp_path: Path) -> None:
    from SALib.sample import sobol

    problem = {"num_vars": 2, "names": [TRUST, RESOLVE], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    X = sobol.sample(problem, 8, calc_second_order=False, seed=11)
    values = [{TRUST: float(a), RESOLVE: float(b)} for a, b in X]
    salib = {"sampler": "sobol", "problem": problem, "calc_second_order": False}
    out = write_sweep(tmp_path / "s", values, lambda v: v[TRUST], reps=5, salib=salib, design_rows=list(range(len(X))))
    pts = pd.read_parquet(out / "points.parquet")
    first = pd.read_parquet(out / "runs" / "part-00000.parquet")
    (out / "runs" / "part-00000.parquet").unlink()
    first[first["point_id"] != pts["point_id"][0]].to_parquet(out / "runs" / "part-00000.parquet")
    res = report(out, plots=False)
    assert res.indices is None and any("no successful run yet" in n for n in res.notes)


# --------------------------------------------------------------------------- survival


def test_km_curves_start_at_one_do_not_increase_and_end_at_one_minus_p(tmp_path: Path) -> None:
    out = write_sweep(tmp_path / "sweep", grid_values(), grid_p, reps=40, error_every=23)
    curves = survival_curves(out)
    table = summary_table(out).set_index("point_id")
    assert set(curves["point_id"]) == set(table.index)
    for pid, c in curves.groupby("point_id"):
        s = c["survival"].to_numpy()
        assert c["step"].iloc[0] == 0 and s[0] == 1.0
        assert (np.diff(c["step"].to_numpy()) > 0).all() and (np.diff(s) <= 1e-12).all()
        ok = c["survival"] > 0
        assert (c.loc[ok, "ci_low"] <= c.loc[ok, "survival"] + 1e-12).all()
        assert (c.loc[ok, "ci_high"] >= c.loc[ok, "survival"] - 1e-12).all()
        assert c["step"].iloc[-1] == HORIZON
        assert 1 - s[-1] == pytest.approx(table.loc[pid, "p_escalation"])  # censoring at the horizon


def test_km_horizon_comes_from_the_manifest_when_every_run_ends_early(tmp_path: Path) -> None:
    out = write_sweep(tmp_path / "sweep", grid_values(), grid_p, reps=30, horizon=HORIZON + 20, end_early=True)
    assert (
        pd.concat(pd.read_parquet(p) for p in (out / "runs").glob("part-*.parquet"))["steps_run"].max() < HORIZON + 20
    )
    curves = survival_curves(out)
    table = summary_table(out).set_index("point_id")
    for pid, c in curves.groupby("point_id"):
        assert c["step"].iloc[-1] == HORIZON + 20
        assert 1 - c["survival"].iloc[-1] == pytest.approx(table.loc[pid, "p_escalation"])


def test_km_without_escalations_stays_at_one(tmp_path: Path) -> None:
    out = write_sweep(tmp_path / "sweep", grid_values(), lambda v: 0.0, reps=10)
    curves = survival_curves(out)
    assert (curves["survival"] == 1.0).all() and (curves[["ci_low", "ci_high"]] == 1.0).all().all()
    res = report(out)
    assert_png(out / "plots" / "survival.png")
    assert (res.summary["p_escalation"] == 0).all() and (res.summary["ci_low"] == 0).all()


# --------------------------------------------------------------------------- command line


def test_cli_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = write_sweep(tmp_path / "sweep", grid_values(), grid_p, reps=10)
    assert main(["report", str(out), "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert "p_escalation [Wilson 95%]" in text and RESOLVE in text
    assert not (out / "plots").exists()


def _bad_folders(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    no_runs = tmp_path / "no_runs"
    no_runs.mkdir()
    (no_runs / "manifest.json").write_text("{}")
    empty_runs = tmp_path / "empty_runs"
    (empty_runs / "runs").mkdir(parents=True)
    (empty_runs / "manifest.json").write_text("{}")
    bad_json = tmp_path / "bad_json"
    (bad_json / "runs").mkdir(parents=True)
    (bad_json / "manifest.json").write_text("{not json")
    damaged = write_sweep(tmp_path / "damaged", grid_values(), grid_p, reps=3)
    (damaged / "runs" / "part-00000.parquet").write_bytes(b"PAR1 not really")
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x")
    return {
        "missing": tmp_path / "nowhere",
        "empty": empty,
        "no_runs": no_runs,
        "empty_runs": empty_runs,
        "bad_json": bad_json,
        "damaged": damaged,
        "file": a_file,
    }


def test_bad_folders_exit_2_naming_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for label, path in _bad_folders(tmp_path).items():
        assert main(["report", str(path)]) == 2, label
        err = capsys.readouterr().err
        assert err.startswith(str(path)) and "Traceback" not in err, (label, err)


def test_point_labels_are_unique(tmp_path: Path) -> None:
    from experiments.sweep_reader import point_labels, read_sweep

    # values that print alike (.4g) and points missing from points.parquet: each label names one point
    values = [{TRUST: 0.123461, RESOLVE: 0.5}, {TRUST: 0.123459, RESOLVE: 0.5}, {TRUST: 0.9, RESOLVE: 0.8}]
    values += [{TRUST: 0.2 + k / 10, RESOLVE: 0.4} for k in range(3)]
    out = write_sweep(tmp_path / "s", values, grid_p, reps=2)
    pd.read_parquet(out / "points.parquet").head(3).to_parquet(out / "points.parquet", index=False)
    labels = point_labels(read_sweep(out))
    assert len(labels) == 6 and len(set(labels.values())) == 6
    first, second = (labels[point_id(v)] for v in values[:2])
    assert first.startswith(f"{TRUST}=0.1235, {RESOLVE}=0.5 [") and first.endswith(f"[{point_id(values[0])}]")
    assert second.endswith(f"[{point_id(values[1])}]")
    assert labels[point_id(values[2])] == f"{TRUST}=0.9, {RESOLVE}=0.8"
    assert all(labels[point_id(v)] == f"point {point_id(v)}" for v in values[3:])
