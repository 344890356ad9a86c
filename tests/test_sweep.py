"""``dipsim sweep``: identical rows whatever the backend, resuming after kill -9, workers exiting with the
sweep, the output folder locked and checked, run errors recorded, adaptive stopping (sweeps and the plan
alone), summary against a recount, single-run reruns, and the Wilson interval.

The experiments are small: the Fearon validation case (about 2 ms a run) and a few full runs of the bundled
2022 scenario (about 0.1 s a run) where a sweep must last long enough to be interrupted.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from scipy.stats import binomtest
from statsmodels.stats.proportion import proportion_confint

from experiments import sweep_folder
from experiments.plan import ERROR, ESCALATION, NO_ESCALATION, Plan
from experiments.results import load_manifest, load_points, load_runs, load_summary, part_files, wilson
from experiments.spec import load_experiment, run_seed
from experiments.store import verified_parts
from experiments.sweep import sweep
from sim.cli import main
from tests.sweep_helpers import FEARON, FEARON_GRID, REPO, kill_all, signal_when, start_foreground, wait_gone

SCENARIO_2022 = REPO / "configs" / "european_security_2022.yaml"
KEY = ["point_id", "replication"]

# Full 2022 runs: long enough (about 4 s on 2 workers) to be interrupted part-way.
SLOW_2022 = f"""
id: slow_2022
scenario: {SCENARIO_2022}
seed: 5
replications: {{fixed: 40}}
design:
  sampler: grid
  grid:
    trust.RUS.USA: [0.1, 0.6]
"""

ADAPTIVE = f"""
id: fearon_adaptive
scenario: {FEARON}
seed: 3
replications:
  adaptive: {{half_width: 0.1, min: 20, batch: 10, max: 60}}
design:
  sampler: points
  points:
    - name: base
      set: {{}}
    - name: cheap_war_rare
      set: {{actors.B.conflict_cost.high: 0.12}}
    - name: never
      set: {{actors.B.conflict_cost.low: 0.5, actors.B.conflict_cost.high: 0.8}}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(out: Path) -> pd.DataFrame:
    return load_runs(out).drop(columns="wall_time")


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=300,
    )


def expected_keys(exp) -> set[tuple[str, int]]:
    return {(p.point_id, r) for p in exp.points for r in range(exp.fixed)}


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> tuple[Path, Path]:
    """The Fearon grid swept once on 2 local worker processes: (experiment file, output folder)."""
    folder = tmp_path_factory.mktemp("grid")
    path = write(folder, "fearon_grid.yaml", FEARON_GRID)
    out = folder / "out"
    sweep(load_experiment(path), out, workers=2, progress=False)
    return path, out


# --------------------------------------------------------------------------- backends


def test_rows_identical_for_one_worker_two_workers_and_dask(grid, tmp_path):
    path, out2 = grid
    exp = load_experiment(path)
    sweep(exp, tmp_path / "w1", workers=1, progress=False)
    sweep(exp, tmp_path / "dask", workers=2, scheduler="local", progress=False)
    two = rows(out2)
    assert set(zip(two.point_id, two.replication, strict=True)) == expected_keys(exp)
    assert not two.duplicated(KEY).any()
    assert two["escalated"].any() and not two["escalated"].all()  # the comparison is not trivial
    assert two["error"].isna().all()
    pd.testing.assert_frame_equal(rows(tmp_path / "w1"), two)
    pd.testing.assert_frame_equal(rows(tmp_path / "dask"), two)
    for p in exp.points:  # seeds as the contract derives them
        got = two[two.point_id == p.point_id].set_index("replication")["seed"]
        assert all(got[r] == run_seed(exp.seed, p.point_id, r) for r in range(exp.fixed))


def test_output_folder_layout(grid):
    path, out = grid
    exp = load_experiment(path)
    assert (out / "experiment.yaml").read_bytes() == path.read_bytes()
    m = load_manifest(out)
    assert m["experiment_sha256"] == exp.sha256 and m["status"] == "complete"
    assert m["start_time"] and m["end_time"] and m["command"]
    assert {"dipsim", "mesa", "python"} <= set(m["versions"])
    points = load_points(out)
    assert list(points.point_id) == [p.point_id for p in exp.points]
    assert list(points.columns) == ["point_id", "name", "set", *exp.paths]
    assert part_files(out) and not list((out / "runs").glob(".*.tmp"))


# --------------------------------------------------------------------------- summary and reruns


def test_summary_matches_a_recount_from_the_runs(grid):
    _, out = grid
    runs = load_runs(out)
    summary = load_summary(out).set_index("point_id")
    csv = pd.read_csv(out / "summary.csv").set_index("point_id")
    assert len(summary) == runs.point_id.nunique() == 4
    for pid, g in runs.groupby("point_id"):
        s = summary.loc[pid]
        ok = g[g.error.isna()]
        k = int(ok.escalated.sum())
        assert (s.runs, s.errors, s.escalations) == (len(g), len(g) - len(ok), k)
        assert s.p_escalation == pytest.approx(k / len(ok))
        ci = binomtest(k, len(ok)).proportion_ci(confidence_level=0.95, method="wilson")
        assert (s.ci_low, s.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-9)
        steps = ok[ok.escalated].escalation_step
        assert (
            s.mean_escalation_step == pytest.approx(steps.mean()) if len(steps) else math.isnan(s.mean_escalation_step)
        )
        agreed = ok.agreed_issues.str.split(",").apply(lambda xs: "x" in xs).mean()
        assert s["agreed__x"] == pytest.approx(agreed)
        assert csv.loc[pid, "p_escalation"] == pytest.approx(s.p_escalation)
        assert csv.loc[pid, "ci_high"] == pytest.approx(s.ci_high)


def test_random_rows_rerun_alone_give_the_same_outcome(grid):
    path, out = grid
    exp = load_experiment(path)
    runs = load_runs(out)
    for i in random.Random(20260101).sample(range(len(runs)), 3):
        row = runs.iloc[i]
        sets = [f"--set={k}={json.dumps(v)}" for k, v in json.loads(row["set"]).items()]
        args = ["run", str(exp.scenario_path), *sets, "--seed", str(row["seed"]), "--steps", str(exp.horizon)]
        done = cli(*args, "--json")
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["seed"] == row["seed"]
        assert result["outcome"] == row["outcome"]
        assert result["escalated"] == row["escalated"]
        assert result["steps_run"] == row["steps_run"]
        assert result["max_rung"]["id"] == row["max_rung"]
        assert ",".join(sorted({a["issue"] for a in result["agreements"]})) == row["agreed_issues"]


# --------------------------------------------------------------------------- resume


def _wait_for_part(proc: subprocess.Popen, out: Path, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while not part_files(out):
        assert proc.poll() is None, f"the sweep ended before writing a part: {proc.communicate()}"
        assert time.monotonic() - t0 < timeout, "no part file written"
        time.sleep(0.05)


def test_sweep_killed_with_sigkill_resumes_to_exactly_the_expected_runs(tmp_path):
    path = write(tmp_path, "slow.yaml", SLOW_2022)
    exp = load_experiment(path)
    out = tmp_path / "killed"
    env = {"DIPSIM_SWEEP_FLUSH_SECONDS": "0.2"}
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        cmd, start_new_session=True, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_part(proc, out)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole tree: the sweep, the fork server and the workers
    finally:
        proc.wait()
    partial = load_runs(out)
    assert 0 < len(partial) < len(expected_keys(exp)), "the kill should land part-way"
    assert load_manifest(out)["status"] == "running"  # killed: nobody updated it

    done = cli("sweep", str(path), "--out", str(out), "--workers", "2", env=env)
    assert done.returncode == 0, done.stderr
    resumed = rows(out)
    assert set(zip(resumed.point_id, resumed.replication, strict=True)) == expected_keys(exp)
    assert not resumed.duplicated(KEY).any()
    assert len(resumed) == len(expected_keys(exp))
    m = load_manifest(out)
    assert m["status"] == "complete" and len(m["sessions"]) == 2 and m["sessions"][1]["runs"] < len(resumed)

    sweep(exp, tmp_path / "whole", workers=2, progress=False)
    pd.testing.assert_frame_equal(resumed, rows(tmp_path / "whole"))

    # Once more: nothing left to run, nothing written twice.
    parts = part_files(out)
    again = cli("sweep", str(path), "--out", str(out), "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert part_files(out) == parts
    pd.testing.assert_frame_equal(rows(out), resumed)


def _start_slow_sweep(tmp_path: Path, out: Path, stderr: int) -> subprocess.Popen[str]:
    """``dipsim sweep`` of the slow 2022 experiment on 2 workers, as a foreground job, flushing parts often."""
    path = write(tmp_path, "slow.yaml", SLOW_2022)
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--workers", "2"]
    return start_foreground(cmd, env={"DIPSIM_SWEEP_FLUSH_SECONDS": "0.2"}, stderr=stderr)


def test_workers_exit_when_only_the_sweep_process_is_killed(tmp_path):
    """kill -9 of the sweeping process alone: its workers, fork server and resource tracker go too."""
    out = tmp_path / "orphans"
    proc = _start_slow_sweep(tmp_path, out, stderr=subprocess.DEVNULL)
    children: list[psutil.Process] = []
    try:
        _wait_for_part(proc, out)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3, children  # at least the fork server and the two workers
        os.kill(proc.pid, signal.SIGKILL)  # the sweep alone, not its process group
        proc.wait()
        assert wait_gone(children) == [], "processes of the killed sweep are still running"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        kill_all(children)  # never leave them behind, whatever failed


def test_ctrl_c_exits_130_keeps_finished_runs_and_says_how_to_resume(tmp_path):
    out = tmp_path / "interrupted"
    proc = _start_slow_sweep(tmp_path, out, stderr=subprocess.PIPE)
    err = signal_when(proc, lambda: bool(part_files(out)), signal.SIGINT)
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    assert load_manifest(out)["status"] == "interrupted"
    runs = load_runs(out)
    assert len(runs) > 0 and not runs.duplicated(KEY).any()


@pytest.mark.parametrize("target", ["process", "group"])
def test_sigterm_stops_in_order_and_the_manifest_says_interrupted(tmp_path, target):
    """``kill PID`` (the sweep alone) or SIGTERM to its process group (a service manager, `timeout`): the
    finished runs are kept, every part is sound, the manifest says interrupted, and no process is left."""
    out = tmp_path / "terminated"
    proc = _start_slow_sweep(tmp_path, out, stderr=subprocess.PIPE)
    children: list[psutil.Process] = []
    try:
        _wait_for_part(proc, out)
        children = psutil.Process(proc.pid).children(recursive=True)
        if target == "process":
            os.kill(proc.pid, signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 143, err
    assert "SIGTERM" in err and "resume" in err and "Traceback" not in err
    manifest = load_manifest(out)
    assert manifest["status"] == "interrupted"
    assert manifest["sessions"][-1]["stopped_by"] == "SIGTERM"
    good, damaged = verified_parts(out)
    assert good and damaged == []
    runs = load_runs(out)
    assert 0 < len(runs) < 80 and not runs.duplicated(KEY).any()
    assert sum(manifest["parts"][f.name]["rows"] for f in good) == len(runs)
    assert wait_gone(children) == [], "processes of the stopped sweep are still running"


def test_a_folder_of_another_experiment_is_refused(grid, tmp_path):
    path, out = grid
    other = write(tmp_path, "other.yaml", FEARON_GRID.replace("seed: 11", "seed: 12"))
    before = sorted(p.name for p in out.rglob("*"))
    done = cli("sweep", str(other), "--out", str(out))
    assert done.returncode == 2
    assert "manifest.json" in done.stderr and "another experiment" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in out.rglob("*")) == before


def test_a_bad_experiment_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = write(tmp_path, "bad.yaml", FEARON_GRID.replace("actors.A.capability", "actors.A.no_such_field"))
    out = tmp_path / "out"
    assert main(["sweep", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "no_such_field" in err
    assert not out.exists()


def test_a_folder_that_is_not_a_sweep_is_refused(tmp_path, capsys):
    path = write(tmp_path, "e.yaml", FEARON_GRID)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_folder_left_by_a_sweep_killed_while_starting_is_taken(tmp_path):
    """Only a lock file and an empty runs/ (with a stale temporary part): taken as a new folder."""
    path = write(tmp_path, "e.yaml", FEARON_GRID.replace("fixed: 30", "fixed: 2"))
    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)
    (out / ".lock").touch()
    (out / "runs" / ".part-000001.parquet.tmp").write_bytes(b"half")
    stats = sweep(load_experiment(path), out, workers=1, progress=False)
    assert stats.done_now == 8 and len(load_runs(out)) == 8
    assert not list((out / "runs").glob(".*.tmp"))
    (out / "runs" / "part-000001.parquet").rename(tmp_path / "moved.parquet")
    (out / "manifest.json").unlink()  # runs/ was emptied, but there is experiment.yaml now: not a sweep folder
    with pytest.raises(sweep_folder.OutputFolderError, match="not a sweep folder"):
        sweep(load_experiment(path), out, workers=1, progress=False)


def test_the_manifest_is_read_under_the_lock(tmp_path, monkeypatch):
    """Another sweep finishing just before this one takes the lock: its manifest update is kept."""
    path = write(tmp_path, "e.yaml", FEARON_GRID.replace("fixed: 30", "fixed: 2"))
    out = tmp_path / "out"
    sweep(load_experiment(path), out, workers=1, progress=False)
    real_lock = sweep_folder.lock

    def lock_after_another_sweep_finished(folder: Path):
        m = load_manifest(folder)
        m["sessions"].append({"command": "the other sweep", "status": "complete"})
        (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
        return real_lock(folder)

    monkeypatch.setattr(sweep_folder, "lock", lock_after_another_sweep_finished)
    sweep(load_experiment(path), out, workers=1, progress=False)
    sessions = load_manifest(out)["sessions"]
    assert [s.get("command") for s in sessions][1] == "the other sweep" and len(sessions) == 3


def test_a_locked_folder_is_refused_and_left_alone(grid):
    import fcntl

    path, out = grid
    before = (out / "manifest.json").read_bytes()
    with open(out / ".lock", "a+") as fh:  # as another sweep holds it
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(sweep_folder.OutputFolderError, match="another sweep is writing"):
            sweep(load_experiment(path), out, workers=1, progress=False)
    assert (out / "manifest.json").read_bytes() == before


def test_sim_does_not_import_experiments():
    code = "import sys, sim.cli, sim.model; print(sorted(m for m in sys.modules if m.startswith('experiments')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_default_output_folder_is_runs_slash_id(tmp_path):
    path = write(tmp_path, "e.yaml", FEARON_GRID.replace("fixed: 30", "fixed: 2"))
    done = cli("sweep", str(path), "--workers", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(load_runs(tmp_path / "runs" / "fearon_grid")) == 8


# --------------------------------------------------------------------------- run errors


INJECT = """
import os

_seed = os.environ.get("DIPSIM_TEST_FAIL_SEED")
if _seed:
    import sim.model

    _run = sim.model.DiplomacyModel.run

    def run(self, max_steps=None):
        if self.seed == int(_seed):
            raise RuntimeError("injected failure")
        return _run(self, max_steps)

    sim.model.DiplomacyModel.run = run
"""


def test_a_run_that_raises_is_recorded_and_the_sweep_completes(tmp_path):
    path = write(tmp_path, "e.yaml", FEARON_GRID.replace("fixed: 30", "fixed: 10"))
    exp = load_experiment(path)
    victim = exp.points[2]
    seed = run_seed(exp.seed, victim.point_id, 4)
    hook = tmp_path / "hook"
    hook.mkdir()
    write(hook, "sitecustomize.py", INJECT)  # patches the model in every process the sweep starts
    env = {"PYTHONPATH": os.pathsep.join([str(hook), str(REPO)]), "DIPSIM_TEST_FAIL_SEED": str(seed)}
    out = tmp_path / "out"
    done = cli("sweep", str(path), "--out", str(out), "--workers", "2", env=env)
    assert done.returncode == 0, done.stderr
    assert "1 run(s) raised" in done.stderr
    runs = load_runs(out)
    assert set(zip(runs.point_id, runs.replication, strict=True)) == expected_keys(exp)
    bad = runs[runs.error.notna()]
    assert len(bad) == 1
    row = bad.iloc[0]
    assert (row.point_id, row.replication, row.seed) == (victim.point_id, 4, seed)
    assert row.error == "RuntimeError: injected failure"
    assert pd.isna(row.outcome) and pd.isna(row.escalated)
    good = runs[runs.error.isna()]
    assert good.outcome.notna().all() and len(good) == len(runs) - 1
    s = load_summary(out).set_index("point_id").loc[victim.point_id]
    assert (s.runs, s.errors) == (10, 1)
    ok = runs[(runs.point_id == victim.point_id) & runs.error.isna()]
    assert s.p_escalation == pytest.approx(ok.escalated.mean())


# --------------------------------------------------------------------------- adaptive replications


def test_adaptive_sweep_stops_when_the_interval_is_narrow_enough(tmp_path):
    path = write(tmp_path, "adaptive.yaml", ADAPTIVE)
    exp = load_experiment(path)
    ad = exp.adaptive
    sweep(exp, tmp_path / "a1", workers=1, progress=False)
    sweep(exp, tmp_path / "a2", workers=2, progress=False)
    runs = rows(tmp_path / "a2")
    pd.testing.assert_frame_equal(rows(tmp_path / "a1"), runs)  # decided in replication order

    def half_width(esc: pd.Series) -> float:
        ci = binomtest(int(esc.sum()), len(esc)).proportion_ci(confidence_level=0.95, method="wilson")
        return (ci.high - ci.low) / 2

    ns = {}
    for p in exp.points:
        esc = runs[runs.point_id == p.point_id].set_index("replication").escalated.astype(bool)
        n = len(esc)
        assert list(esc.index) == list(range(n))  # a complete prefix, nothing beyond it
        # Recompute the rule in replication order: go on while wide and below max.
        expect = ad.min
        while expect < ad.max and half_width(esc.loc[: expect - 1]) > ad.half_width:
            expect = min(expect + ad.batch, ad.max)
        assert n == expect
        ns[p.name] = n
    assert ns["never"] == ad.min  # no escalation: narrow at once
    assert ns["base"] == ad.max  # p near 0.3: still too wide at the cap
    assert ad.min < ns["cheap_war_rare"] <= ad.max
    m = load_summary(tmp_path / "a2").set_index("name")
    assert m.loc["never", "runs"] == ad.min and m.loc["never", "ci_high"] - m.loc["never", "ci_low"] <= 0.2


def _wilson_rule(codes: list[int], ad) -> int:
    """The adaptive rule of docs/experiments.md on the finished runs ``codes`` (None: not finished), computed
    with scipy: from ``min``, go on by ``batch`` while the prefix is complete and its interval too wide."""
    n = ad.min
    while n < ad.max and None not in codes[:n]:
        ok = [c for c in codes[:n] if c != ERROR]
        if not ok:
            break
        ci = binomtest(ok.count(ESCALATION), len(ok)).proportion_ci(confidence_level=0.95, method="wilson")
        if (ci.high - ci.low) / 2 <= ad.half_width:
            break
        n = min(n + ad.batch, ad.max)
    return n


# Replication outcomes of one point: half-width 0.14 at 20 runs, 0.114 at 30, 0.088 at 40 -> 40 runs.
PLAN_OUTCOMES = [ESCALATION if r in (2, 11, 25) else ERROR if r == 7 else NO_ESCALATION for r in range(60)]


def test_adaptive_plan_waits_for_the_complete_prefix(tmp_path):
    exp = load_experiment(write(tmp_path, "adaptive.yaml", ADAPTIVE))
    ad = exp.adaptive
    assert _wilson_rule(PLAN_OUTCOMES, ad) == 40 and ad.min < 40 < ad.max  # the sequence is not trivial

    # As read back from a folder: replications 59 down to 30 finish before 5, and 5 last of all.
    plan = Plan(exp)
    plan.decide(0)
    assert plan.target[0] == ad.min
    order = [*range(59, 5, -1), *range(5)]
    assert order.index(30) < order.index(4)
    for r in order:
        assert plan.record(0, r, PLAN_OUTCOMES[r])
        plan.decide(0)
        assert plan.target[0] == ad.min, f"moved before replication 5 finished (after {r})"
    assert plan.done == ad.min - 1
    assert plan.take(100) == [(0, 5)]  # the only key missing below the target
    assert plan.record(0, 5, PLAN_OUTCOMES[5])
    plan.decide(0)
    assert plan.target[0] == 40 == _wilson_rule(PLAN_OUTCOMES, ad)
    assert plan.done == 40 and plan.in_flight == 0 and plan.take(100) == []
    assert not plan.record(0, 30, PLAN_OUTCOMES[30])  # already finished: ignored

    # As in a sweep: keys taken in chunks, finishing in a random order.
    rng = random.Random(7)
    plan = Plan(exp)
    plan.decide(0)
    finished: list[int | None] = [None] * ad.max
    running: list[tuple[int, int]] = []
    while True:
        running += plan.take(rng.randint(1, 8))
        if not running:
            break
        i, r = running.pop(rng.randrange(len(running)))
        before = plan.target[0]
        plan.record(i, r, PLAN_OUTCOMES[r])
        finished[r] = PLAN_OUTCOMES[r]
        plan.decide(0)
        if plan.target[0] != before:
            assert None not in finished[:before], "the target moved on an incomplete prefix"
        assert plan.target[0] == _wilson_rule(finished, ad)
    assert plan.target[0] == 40 and finished[:40] == PLAN_OUTCOMES[:40] and finished[40:] == [None] * 20
    assert plan.done == 40 and plan.in_flight == 0


# --------------------------------------------------------------------------- Wilson interval

# Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score, no continuity correction).
NEWCOMBE = [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE)
def test_wilson_interval_on_known_counts(k, n, low, high):
    got = wilson(k, n)
    assert got == pytest.approx((low, high), abs=6e-5)
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert got == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert got == pytest.approx(proportion_confint(k, n, alpha=0.05, method="wilson"), abs=1e-15)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (5, 10), (10, 10), (3, 400), (200, 400), (999, 1000)])
def test_wilson_interval_matches_scipy_and_the_formula(k, n):
    got = wilson(k, n)
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert got == pytest.approx((ci.low, ci.high), abs=1e-12)
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert got == pytest.approx((centre - half, centre + half), abs=1e-12)


def test_wilson_interval_of_no_runs_is_undefined():
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_a_paired_experiment_gives_every_point_the_same_seeds(tmp_path):
    """``paired: true``: replication r of every point runs with one seed (common random numbers), and a folder
    of unpaired runs refuses the paired experiment (its runs would be other runs)."""
    unpaired = load_experiment(write(tmp_path, "grid.yaml", FEARON_GRID))
    paired = load_experiment(write(tmp_path, "paired.yaml", FEARON_GRID + "paired: true\n"))
    out = tmp_path / "paired"
    sweep(paired, out, workers=1, progress=False)
    runs = load_runs(out)
    assert runs["point_id"].nunique() == 4
    by_rep = runs.groupby("replication")["seed"].nunique()
    assert (by_rep == 1).all()  # one seed per replication across the four points
    assert list(runs.groupby("replication")["seed"].first()) == [run_seed(11, "0" * 16, r) for r in range(30)]
    sweep(unpaired, tmp_path / "unpaired", workers=1, progress=False)
    assert load_runs(tmp_path / "unpaired").groupby("replication")["seed"].nunique().eq(4).all()
    with pytest.raises(sweep_folder.OutputFolderError, match="another experiment"):
        sweep(paired, tmp_path / "unpaired", workers=1, progress=False)
