"""The backtest's tables and figure: each crisis against its history, and the library's scores beside the two
baselines'.

``score_library(crises, out, covariates)`` reads each crisis's sweep folder ``out/<crisis id>/`` and returns a
``BacktestReport``: the crisis table (``experiments.crisis_runs.crisis_row``), the forecasts of dipsim and of
the baselines (``experiments.baselines``), and the score table (``experiments.scores``): Brier score of P(war),
three-class Brier score and log loss over ``CLASSES``, ROC AUC of P(war), and the share of crises on the right
side of 1/2. ``BacktestReport.write(out)`` writes ``crises.csv``, ``scores.csv``, ``forecasts.csv``,
``backtest.txt`` (what the command prints) and ``reliability.png``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.baselines import Covariates, base_rate, logistic
from experiments.crisis_runs import RUN_COLUMNS, crisis_row
from experiments.results import load_runs
from experiments.scores import CLASSES, brier, brier_multi, log_score, right_side, roc_auc

if TYPE_CHECKING:
    from experiments.library import Crisis

MODEL = "dipsim"
BASE_RATE = "base rate (leave-one-out)"
LOGISTIC = "logistic: capability ratio + nuclear dyad (leave-one-out)"
RELIABILITY_BINS = 5  # forecasts binned by fifths of [0, 1]: with a library of ~20 crises, about 4 per bin


@dataclass(frozen=True)
class Forecast:
    """One forecaster's probabilities for every crisis: P(war), and the three classes in ``CLASSES`` order."""

    name: str
    p_war: np.ndarray
    probs: np.ndarray


@dataclass(eq=False)
class BacktestReport:
    """The crisis table, every forecaster's forecasts and scores, and notes on what could not be scored."""

    crises: pd.DataFrame
    forecasts: list[Forecast]
    scores: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return format_report(self)

    def write(self, out: Path) -> list[Path]:
        """The tables, the printed text and the reliability diagram, into ``out``."""
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / "crises.csv", out / "scores.csv", out / "forecasts.csv", out / "backtest.txt"]
        self.crises.to_csv(paths[0], index=False)
        self.scores.to_csv(paths[1], index=False)
        forecasts_table(self).to_csv(paths[2], index=False)
        paths[3].write_text(self.text + "\n", encoding="utf-8")
        fig = reliability_figure(self)
        paths.append(out / "reliability.png")
        fig.savefig(paths[-1], dpi=120)
        return paths


def score(forecast: Forecast, outcome: np.ndarray) -> dict[str, float | str]:
    """One row of the score table: ``outcome`` holds each crisis's class index in ``CLASSES``."""
    war = outcome == CLASSES.index("war")
    return {
        "forecaster": forecast.name,
        "brier_war": brier(forecast.p_war, war),
        "brier_3": brier_multi(forecast.probs, outcome),
        "log_loss_3": log_score(forecast.probs, outcome),
        "roc_auc": roc_auc(forecast.p_war, war),
        "right_side": right_side(forecast.p_war, war),
    }


def score_library(
    crises: list[Crisis], out: Path, covariates: dict[str, Covariates] | None, seeds: int | None = None
) -> BacktestReport:
    """Read every crisis's runs from ``out/<crisis id>/`` (the first ``seeds`` replications; None: all) and score
    them with the baselines'."""
    rows = []
    for c in crises:
        runs = load_runs(out / c.scenario.id, columns=RUN_COLUMNS)
        rows.append(crisis_row(c, runs if seeds is None else runs[runs["replication"] < seeds]))
    table = pd.DataFrame(rows)
    outcome = np.array([CLASSES.index(c.history) for c in crises])
    shares = table[[f"share_{c}" for c in CLASSES]].to_numpy(dtype=float)
    forecasts = [Forecast(MODEL, table["p_war"].to_numpy(dtype=float), shares)]
    notes = []
    if len(crises) >= 2:
        rate = base_rate(outcome)
        forecasts.append(Forecast(BASE_RATE, rate[:, CLASSES.index("war")], rate))
    else:
        notes.append("baselines: a leave-one-out forecast needs at least two crises")
    if covariates is None:
        notes.append("logistic baseline: no covariates.csv beside the scenarios (docs/authoring.md, section 11)")
    elif len(crises) < 3:
        notes.append("logistic baseline: a leave-one-out fit needs at least three crises")
    else:
        x = np.array(
            [[covariates[c.scenario.id].log_capability_ratio, covariates[c.scenario.id].nuclear_dyad] for c in crises],
            dtype=float,
        )
        p_war, probs = logistic(x, outcome)
        forecasts.append(Forecast(LOGISTIC, p_war, probs))
    if np.isnan(forecasts[0].p_war).any():
        missing = ", ".join(table.loc[table["runs"] == 0, "crisis"])
        notes.append(f"scores: not computed; no run of {missing} completed (see the error column of its runs)")
        scores = pd.DataFrame([{"forecaster": f.name} for f in forecasts])
    else:
        scores = pd.DataFrame([score(f, outcome) for f in forecasts])
    return BacktestReport(table, forecasts, scores, notes)


def forecasts_table(report: BacktestReport) -> pd.DataFrame:
    """Every forecaster's P(war) and its three-class probabilities (``p3_<class>``), one row per (crisis,
    forecaster)."""
    frames = []
    for f in report.forecasts:
        df = pd.DataFrame(f.probs, columns=[f"p3_{c}" for c in CLASSES])
        df.insert(0, "p_war", f.p_war)
        df.insert(0, "forecaster", f.name)
        df.insert(0, "history", report.crises["history"].to_numpy())
        df.insert(0, "crisis", report.crises["crisis"].to_numpy())
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _pct(x: float) -> str:
    return "-" if pd.isna(x) else f"{100 * x:.0f}%"


def _text(x: object) -> str:
    """A table cell: "-" for a missing value (None, or the NaN pandas puts in its place)."""
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x)


def format_report(report: BacktestReport) -> str:
    """The crisis table and the score table, as ``dipsim backtest`` prints them."""
    t = report.crises
    crisis_lines = pd.DataFrame(
        {
            "crisis": t["crisis"],
            "history": t["history"].str.replace("no_agreement_no_war", "neither"),
            "runs": t["runs"],
            "P(war) [95%]": [
                f"{_pct(p)} [{_pct(lo)}, {_pct(hi)}]"
                for p, lo, hi in zip(t["p_war"], t["ci_low"], t["ci_high"], strict=True)
            ],
            "P(agr)": t["p_agreement"].map(_pct),
            "neither": t["share_no_agreement_no_war"].map(_pct),
            "war dyad: runs (share) | history": [
                f"{_text(d)} ({_pct(s)}) | {_text(h)}" if _text(d) != "-" else f"- | {_text(h)}"
                for d, s, h in zip(t["model_dyad"], t["model_dyad_share"], t["history_dyad"], strict=True)
            ],
            "war date: median | history": [
                f"{_text(d)} | {_text(h)}" for d, h in zip(t["model_date"], t["history_date"], strict=True)
            ],
            "hollow early": t["hollow_early"].map(_pct),
            "hollow allies": t["hollow_allies"].map(_pct),
        }
    )
    lines = [
        f"Backtest: {len(t)} crises, {int(t['runs'].sum())} runs completed, {int(t['errors'].sum())} raised",
        "",
        crisis_lines.to_string(index=False),
        "",
        "Scores (lower is better for Brier and log loss; ROC AUC and right side: higher is better)",
        report.scores.to_string(index=False, float_format=lambda x: f"{x:.3f}"),
    ]
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)


def reliability_figure(report: BacktestReport) -> Figure:
    """Reliability diagram of P(war): for each fifth of [0, 1], the mean forecast against the observed share of
    wars among the crises forecast in it (``sklearn.calibration.calibration_curve``), one line per forecaster,
    each point labelled with its number of crises."""
    from sklearn.calibration import calibration_curve

    war = (report.crises["history"] == "war").to_numpy(dtype=int)
    fig = Figure(figsize=(6.0, 6.0), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="perfectly reliable")
    edges = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)
    for f in report.forecasts:
        if np.isnan(f.p_war).any() or war.min() == war.max():
            continue
        observed, predicted = calibration_curve(war, f.p_war, n_bins=RELIABILITY_BINS, strategy="uniform")
        # binned as calibration_curve bins (searchsorted on the inner edges), so the counts match its points
        counts = np.bincount(np.searchsorted(edges[1:-1], f.p_war), minlength=RELIABILITY_BINS)
        counts = counts[counts > 0]
        (line,) = ax.plot(predicted, observed, marker="o", label=f.name)
        for x, y, n in zip(predicted, observed, counts, strict=True):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8, color=line.get_color())
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("forecast P(war) (mean in bin)")
    ax.set_ylabel("share of crises that ended in war")
    ax.set_title(f"Reliability of P(war), {len(war)} crises (numbers: crises per bin)")
    fig.legend(loc="outside lower center", fontsize=8)  # outside: a point may sit in any corner
    return fig
