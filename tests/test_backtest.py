"""``dipsim backtest`` (issue 10, item 4): the library run on the sweep machinery, read against history, scored
beside two baselines.

What is checked here is the instrument, never what the model does on a crisis: each figure of the tables is
recomputed from the rows written (Wilson intervals by statsmodels, scores by scikit-learn), the runs resume
after Ctrl-C without a run lost or done twice, and bad input exits 2 naming the file and the field.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from statsmodels.stats.proportion import proportion_confint

from experiments.backtest import experiment_yaml
from experiments.backtest_report import BacktestReport, Forecast, reliability_figure
from experiments.baselines import base_rate, load_covariates, logistic
from experiments.crisis_runs import EARLY_DAYS, allied_pairs, crisis_row
from experiments.library import load_library
from experiments.results import load_runs
from experiments.scores import CLASSES
from experiments.spec import point_id, run_seed
from experiments.store import RUN_FIELDS_AFTER, RUN_FIELDS_BEFORE, check_part
from sim.cli.main import main
from tests.sweep_helpers import signal_when, start_foreground

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "configs" / "crises"
SMALL = ("fashoda_1898", "sino_indian_1962", "taiwan_1995")  # two, two and three actors: quick runs
COVARIATES = """crisis,side_a,side_b,nuclear_a,nuclear_b,source
fashoda_1898,FRA,GBR,false,false,test row
sino_indian_1962,CHN,IND,false,false,test row
taiwan_1995,USA,CHN,true,true,test row
"""


def small_library(root: Path, covariates: bool = True) -> Path:
    """Three crises of the bundled library, with their outcome records, in ``root/crises`` and
    ``root/outcomes``."""
    crises, outcomes = root / "crises", root / "outcomes"
    crises.mkdir(parents=True)
    outcomes.mkdir()
    for c in SMALL:
        shutil.copy(LIBRARY / f"{c}.yaml", crises)
        shutil.copy(REPO / "configs" / "outcomes" / f"{c}.yaml", outcomes)
    if covariates:
        (crises / "covariates.csv").write_text(COVARIATES, encoding="utf-8")
    return crises


def inproc(*args: str) -> subprocess.CompletedProcess[str]:
    """``dipsim ARGS`` in this process (no interpreter start-up: for commands refused before any run)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["dipsim", *args], code, out.getvalue(), err.getvalue())


def cli(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=600, **kw
    )


# --------------------------------------------------------------------------- the whole command


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("backtest")
    folder = small_library(root)
    out = root / "out"
    res = cli("backtest", str(folder), "--seeds", "6", "--workers", "2", "--out", str(out))
    return folder, out, res


def test_backtest_runs_every_crisis_and_prints_both_baselines(done) -> None:
    folder, out, res = done
    assert res.returncode == 0, res.stderr
    for name in ("dipsim", "base rate (leave-one-out)", "logistic: capability ratio + nuclear dyad"):
        assert name in res.stdout
    for c in SMALL:
        assert c in res.stdout
        runs = load_runs(out / c)
        assert len(runs) == 6 and runs["error"].isna().all()
        # each run's seed is the sweep's: the backtest seed (0), the point and the replication
        pid = point_id({})
        assert list(runs["seed"]) == [run_seed(0, pid, r) for r in range(6)]
    for f in ("crises.csv", "scores.csv", "forecasts.csv", "backtest.txt", "reliability.png"):
        assert (out / f).is_file(), f
    assert (out / "backtest.txt").read_text(encoding="utf-8").strip() in res.stdout


def test_the_crisis_table_is_the_runs_read_against_history(done) -> None:
    folder, out, _ = done
    table = pd.read_csv(out / "crises.csv")
    crises = {c.scenario.id: c for c in load_library(folder)}
    for row in table.itertuples():
        runs = load_runs(out / row.crisis)
        n = len(runs)
        k = int((runs["outcome"] == "escalation").sum())
        assert row.runs == n and row.p_war == pytest.approx(k / n)
        low, high = proportion_confint(k, n, method="wilson")
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
        assert row.p_agreement == pytest.approx((runs["outcome"] == "agreement").mean())
        assert row.share_war + row.share_agreement + row.share_no_agreement_no_war == pytest.approx(1.0)
        assert row.history == crises[row.crisis].history


def test_the_scores_are_scikit_learns_on_the_forecasts_written(done) -> None:
    folder, out, _ = done
    forecasts = pd.read_csv(out / "forecasts.csv")
    scores = pd.read_csv(out / "scores.csv").set_index("forecaster")
    for name, f in forecasts.groupby("forecaster", sort=False):
        war = (f["history"] == "war").to_numpy(dtype=int)
        assert scores.loc[name, "brier_war"] == pytest.approx(brier_score_loss(war, f["p_war"]))
        probs = f[[f"p3_{c}" for c in CLASSES]].to_numpy()
        onehot = np.eye(3)[[CLASSES.index(h) for h in f["history"]]]
        assert scores.loc[name, "brier_3"] == pytest.approx(((probs - onehot) ** 2).sum(axis=1).mean())
        if war.min() != war.max():
            assert scores.loc[name, "roc_auc"] == pytest.approx(roc_auc_score(war, f["p_war"]))
    dipsim = forecasts[forecasts["forecaster"] == "dipsim"]
    table = pd.read_csv(out / "crises.csv")
    assert list(dipsim["p_war"]) == pytest.approx(list(table["p_war"]))


def test_more_seeds_extend_the_folders_and_keep_the_runs_done(done, tmp_path: Path) -> None:
    folder, out, _ = done
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    before = {c: load_runs(copy / c) for c in SMALL}
    res = cli("backtest", str(folder), "--seeds", "8", "--workers", "1", "--out", str(copy))
    assert res.returncode == 0, res.stderr
    for c in SMALL:
        after = load_runs(copy / c)
        assert len(after) == 8
        cols = ["replication", "seed", "outcome", "escalation_date", "escalation_actor"]
        pd.testing.assert_frame_equal(after[cols].head(6), before[c][cols])


def test_another_seed_in_the_same_folder_is_refused_before_anything_is_written(done, tmp_path: Path) -> None:
    folder, out, _ = done
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    res = inproc("backtest", str(folder), "--seeds", "6", "--seed", "1", "--out", str(copy))
    _refused(res, f"{SMALL[0]}/manifest.json", "holds runs of seed 0", "not of seed 1")
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before


def test_fewer_seeds_score_the_first_replications_only(done, tmp_path: Path) -> None:
    folder, out, _ = done
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    res = cli("backtest", str(folder), "--seeds", "4", "--workers", "1", "--out", str(copy))
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(copy / "crises.csv")
    assert list(table["runs"]) == [4] * len(SMALL)
    for row in table.itertuples():
        runs = load_runs(copy / row.crisis)
        assert len(runs) == 6  # the runs done are kept
        assert row.p_war == pytest.approx((runs["outcome"].head(4) == "escalation").mean())


def test_small_libraries_and_failed_crises_say_what_was_not_scored(done, monkeypatch) -> None:
    from experiments import backtest_report
    from experiments.backtest_report import score_library

    folder, out, _ = done
    crises = load_library(folder)
    covariates = load_covariates(folder, crises)
    two = score_library(crises[:2], out, covariates)
    assert [f.name for f in two.forecasts] == ["dipsim", "base rate (leave-one-out)"]
    assert any("at least three crises" in n for n in two.notes)
    one = score_library(crises[:1], out, covariates)
    assert [f.name for f in one.forecasts] == ["dipsim"] and any("at least two crises" in n for n in one.notes)

    real = backtest_report.load_runs

    def failed_first(path: Path, columns: list[str]) -> pd.DataFrame:
        runs = real(path, columns=columns)
        if path.name == SMALL[0]:
            runs = runs.assign(outcome=None, error="RuntimeError: boom")
        return runs

    monkeypatch.setattr(backtest_report, "load_runs", failed_first)
    report = score_library(crises, out, covariates)
    assert any(f"no run of {SMALL[0]} completed" in n for n in report.notes)
    assert "brier_war" not in report.scores.columns
    assert "0 runs completed" not in report.text and "6 raised" in report.text


def test_ctrl_c_exits_130_and_the_same_command_resumes(tmp_path: Path) -> None:
    folder = small_library(tmp_path)
    out = tmp_path / "out"
    args = ["backtest", str(folder), "--seeds", "30", "--workers", "2", "--out", str(out)]
    proc = start_foreground([sys.executable, "-m", "sim.cli", *args], env={"DIPSIM_SWEEP_FLUSH_SECONDS": "0.2"})
    err = signal_when(proc, lambda: bool(list((out / SMALL[0] / "runs").glob("part-*.parquet"))), signal.SIGINT)
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    assert not (out / "scores.csv").exists()  # interrupted before the last crisis: nothing scored
    res = cli(*args)
    assert res.returncode == 0, res.stderr
    for c in SMALL:
        runs = load_runs(out / c)
        assert len(runs) == 30 and not runs.duplicated(["point_id", "replication"]).any()
    assert "brier_war" in (out / "scores.csv").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- bad input


def _refused(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in res.stderr, (w, res.stderr)


def test_a_folder_without_scenarios_exits_2(tmp_path: Path) -> None:
    _refused(inproc("backtest", str(tmp_path), "--out", str(tmp_path / "out")), str(tmp_path), "no scenario files")


def test_a_crisis_without_an_outcome_record_exits_2_naming_it(tmp_path: Path) -> None:
    folder = small_library(tmp_path)
    (tmp_path / "outcomes" / "taiwan_1995.yaml").unlink()
    res = inproc("backtest", str(folder), "--out", str(tmp_path / "out"))
    _refused(res, "taiwan_1995.yaml", "id", "no outcome record")
    assert not (tmp_path / "out").exists()  # refused before any run


def test_an_outcome_with_an_unknown_code_exits_2_naming_the_field(tmp_path: Path) -> None:
    folder = small_library(tmp_path)
    record = tmp_path / "outcomes" / "fashoda_1898.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("violence: none", "violence: skirmish", 1))
    _refused(inproc("backtest", str(folder), "--out", str(tmp_path / "out")), "fashoda_1898.yaml", "violence")


def test_covariates_that_miss_a_crisis_or_name_a_stranger_exit_2(tmp_path: Path) -> None:
    folder = small_library(tmp_path)
    lines = COVARIATES.splitlines()
    (folder / "covariates.csv").write_text("\n".join(lines[:-1] + ["taiwan_1995,USA,XXX,true,maybe,"]) + "\n")
    res = inproc("backtest", str(folder), "--out", str(tmp_path / "out"))
    _refused(res, "covariates.csv", "row 4.side_b", "'XXX' is not an actor", "row 4.nuclear_b", "row 4.source")
    (folder / "covariates.csv").write_text("\n".join(lines[:-1]) + "\n")
    res = inproc("backtest", str(folder), "--out", str(tmp_path / "out"))
    _refused(res, "covariates.csv", "no row for crisis 'taiwan_1995'")
    (folder / "covariates.csv").write_text("\n".join([*lines, "taiwan_1995,USA"]) + "\n")  # short, and twice
    res = inproc("backtest", str(folder), "--out", str(tmp_path / "out"))
    _refused(res, "covariates.csv", "row 5.crisis", "'taiwan_1995' again (row 4 has it)")
    (folder / "covariates.csv").write_text("\n".join([*lines[:-1], "taiwan_1995,USA"]) + "\n")
    res = inproc("backtest", str(folder), "--out", str(tmp_path / "out"))
    _refused(res, "row 4.side_b", "'' is not an actor", "row 4.nuclear_a", "row 4.source")


def test_two_files_with_one_crisis_id_are_refused_before_any_run(tmp_path: Path) -> None:
    folder = small_library(tmp_path)
    shutil.copy(folder / "taiwan_1995.yaml", folder / "taiwan_copy.yaml")
    res = inproc("backtest", str(folder), "--out", str(tmp_path / "out"))
    _refused(res, "taiwan_copy.yaml", "id", "'taiwan_1995' is also the id of")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the parts, by hand


def _war(start: dt.date, day: int, actor: str | None = "RUS", target: str | None = "UKR") -> dict:
    date = (start + dt.timedelta(days=day)).isoformat()
    return {"replication": 0, "outcome": "escalation", "escalated": True, "escalation_date": date,
            "escalation_actor": actor, "escalation_target": target, "error": None}  # fmt: skip


CALM = {"replication": 0, "outcome": "stalemate", "escalated": False, "escalation_date": None,
        "escalation_actor": None, "escalation_target": None, "error": None}  # fmt: skip


def _crisis(crisis_id: str):
    return next(c for c in load_library(LIBRARY) if c.scenario.id == crisis_id)


def test_a_crisis_row_counts_hollow_runs_by_hand() -> None:
    crisis = _crisis("european_security_2022")
    start = crisis.scenario.calendar.start
    allies = allied_pairs(crisis.scenario)
    assert frozenset(("NATO", "USA")) in allies and frozenset(("NATO", "FRA")) in allies
    assert frozenset(("EU", "FRA")) in allies and frozenset(("RUS", "USA")) not in allies
    rows = [_war(start, 0), _war(start, EARLY_DAYS), _war(start, 10, "USA", "NATO"), _war(start, 40)]
    rows += [CALM] * 4 + [{**CALM, "outcome": None, "error": "ValueError: x"}]
    row = crisis_row(crisis, pd.DataFrame(rows))
    assert row["runs"] == 8 and row["errors"] == 1 and row["p_war"] == 0.5
    assert row["model_dyad"] == "RUS-UKR" and row["model_dyad_share"] == 0.75
    # the median of the war days: 0, 3, 10 (the allies' war counts too) and 40 -> 6.5, rounded half to even: 6
    assert row["model_date"] == (start + dt.timedelta(days=6)).isoformat()
    assert row["hollow_allies"] == 1 / 8  # USA-NATO
    # history's war came months after the start: the wars on days 0 and 3 are early
    assert crisis.history == "war" and (crisis.outcome.first_serious_violence - start).days > EARLY_DAYS
    assert row["hollow_early"] == 2 / 8
    assert row["history_dyad_share"] == 0.75  # the record's dyad, RUS-UKR, in either order


def test_early_war_is_hollow_unless_history_had_war_as_early() -> None:
    crisis = _crisis("fashoda_1898")
    assert crisis.history != "war"
    start = crisis.scenario.calendar.start
    days = (0, EARLY_DAYS - 1, EARLY_DAYS, EARLY_DAYS + 1, 100)
    runs = pd.DataFrame([_war(start, d, "FRA", "GBR") for d in days])
    row = crisis_row(crisis, runs)
    assert row["hollow_early"] == 3 / 5 and row["hollow_allies"] == 0.0
    at_war = dict(violence="full_scale_war", war_dyad=("FRA", "GBR"), war_dyad_source="test")
    early = replace(crisis, outcome=crisis.outcome.model_copy(update={**at_war, "first_serious_violence": start}))
    assert early.history == "war" and crisis_row(early, runs)["hollow_early"] == 0.0
    late = start + dt.timedelta(days=EARLY_DAYS + 1)
    later = replace(crisis, outcome=crisis.outcome.model_copy(update={**at_war, "first_serious_violence": late}))
    assert crisis_row(later, runs)["hollow_early"] == 3 / 5


def test_war_rows_without_a_dyad_are_left_out_of_the_dyads() -> None:
    crisis = _crisis("european_security_2022")
    start = crisis.scenario.calendar.start
    runs = pd.DataFrame([_war(start, 50), _war(start, 50, None, None), _war(start, 50, "USA", "NATO"), CALM])
    row = crisis_row(crisis, runs)
    assert row["p_war"] == 0.75 and row["model_dyad_share"] == 0.5 and row["hollow_allies"] == 1 / 4
    row = crisis_row(crisis, pd.DataFrame([_war(start, 50, None, None), CALM]))
    assert row["p_war"] == 0.5 and row["model_dyad"] is None and row["hollow_allies"] == 0.0


def test_the_base_rate_leaves_each_crisis_out() -> None:
    outcome = np.array([2, 2, 1, 0, 1])
    rates = base_rate(outcome)
    # crisis 0 (war) is forecast from the other four: one war, two neither, one agreement
    assert rates[0] == pytest.approx([1 / 4, 2 / 4, 1 / 4])
    assert rates[3] == pytest.approx([0.0, 2 / 4, 2 / 4])
    assert np.allclose(rates.sum(axis=1), 1.0)


def test_the_logistic_baseline_is_fitted_without_the_crisis_it_forecasts() -> None:
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.normal(size=12), rng.integers(0, 2, 12)]).astype(float)
    outcome = np.array([2, 1, 0, 2, 2, 1, 1, 0, 2, 1, 0, 2])
    p_war, probs = logistic(x, outcome)
    for i in (0, 5, 11):
        keep = np.arange(12) != i
        binary = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[keep], outcome[keep] == 2)
        assert p_war[i] == pytest.approx(binary.predict_proba(x[i : i + 1])[0, 1])
        multi = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[keep], outcome[keep])
        assert probs[i] == pytest.approx(multi.predict_proba(x[i : i + 1])[0])
    # changing the forecast crisis's own outcome never changes its forecast
    flipped = outcome.copy()
    flipped[0] = 0
    assert logistic(x, flipped)[0][0] == pytest.approx(p_war[0])


def test_a_fold_with_one_outcome_forecasts_that_outcome() -> None:
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
    p_war, probs = logistic(x, np.array([2, 2, 0]))
    assert p_war[2] == 1.0 and list(probs[2]) == [0.0, 0.0, 1.0]


def test_covariates_are_read_from_the_scenarios_capabilities(tmp_path: Path) -> None:
    folder = small_library(tmp_path)
    crises = load_library(folder)
    cov = load_covariates(folder, crises)
    assert cov is not None
    taiwan = next(c for c in crises if c.scenario.id == "taiwan_1995").scenario
    cap = {a.id: a.capability for a in taiwan.actors}
    assert cov["taiwan_1995"].log_capability_ratio == pytest.approx(abs(np.log(cap["USA"] / cap["CHN"])))
    assert cov["taiwan_1995"].nuclear_dyad and not cov["fashoda_1898"].nuclear_dyad
    (folder / "covariates.csv").unlink()
    assert load_covariates(folder, crises) is None


def test_the_reliability_diagram_plots_calibration_curves_points() -> None:
    crises = pd.DataFrame({"history": ["war", "neither", "war", "neither", "war"]})
    p = np.array([0.9, 0.1, 0.2, 0.4, 1.0])
    report = BacktestReport(crises, [Forecast("dipsim", p, np.zeros((5, 3)))], pd.DataFrame())
    fig = reliability_figure(report)
    line = fig.axes[0].lines[1]
    observed, predicted = calibration_curve(np.array([1, 0, 1, 0, 1]), p, n_bins=5)
    assert list(line.get_xdata()) == pytest.approx(list(predicted))
    assert list(line.get_ydata()) == pytest.approx(list(observed))
    # 0.1 and 0.2 share the first fifth (calibration_curve puts an edge value in the bin below)
    assert [t.get_text() for t in fig.axes[0].texts] == ["2", "1", "2"]


def test_the_experiment_file_runs_the_crisis_as_authored(tmp_path: Path) -> None:
    from experiments.spec import load_experiment

    crisis = load_library(small_library(tmp_path))[0]
    path = tmp_path / "e.yaml"
    path.write_text(experiment_yaml(crisis, 7, 5), encoding="utf-8")
    exp = load_experiment(path)
    assert exp.scenario_path == crisis.path.resolve() and exp.seed == 5 and exp.fixed == 7
    assert [p.overrides for p in exp.points] == [{}]


def test_a_part_written_before_the_dyad_columns_is_sound_and_reads_them_as_null(tmp_path: Path) -> None:
    added = {"escalation_actor", "escalation_target"}
    fields = [f for f in (*RUN_FIELDS_BEFORE, *RUN_FIELDS_AFTER) if f[0] not in added]
    row = {"point_id": "p", "replication": 0, "seed": 1, "set": "{}", "outcome": "stalemate", "escalated": False,
           "escalation_step": float("nan"), "steps_run": 3, "wall_time": 0.1}  # fmt: skip
    runs = tmp_path / "runs"
    runs.mkdir()
    pq.write_table(pa.Table.from_pylist([row], schema=pa.schema(fields)), runs / "part-000001.parquet")
    assert check_part(runs / "part-000001.parquet", None) is None
    new = {**row, "replication": 1, "escalation_actor": "A", "escalation_target": "B"}
    pq.write_table(
        pa.Table.from_pylist([new], schema=pa.schema([*RUN_FIELDS_BEFORE, *RUN_FIELDS_AFTER])),
        runs / "part-000002.parquet",
    )
    parts = sorted(runs.glob("part-*.parquet"))
    df = load_runs(tmp_path, columns=["escalation_actor"], parts=parts)
    assert df["escalation_actor"].isna().tolist() == [True, False]
