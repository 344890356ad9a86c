"""The figures of a sweep (matplotlib only): P(escalation) against each varied parameter, the heatmap of a
two-parameter grid, P(escalation) per named point, the sensitivity indices and the Kaplan-Meier curves.

One function per plot, drawn from the statistics (``experiments.statistics``), so that ``dipsim report`` (which
saves them as PNGs, ``figures``) and the browser's sweep page (which draws them with the choices a file cannot
offer) show the same plots. Plain ``Figure`` objects, no pyplot: no global state, the Agg canvas for PNG.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from experiments.statistics import indices_method, pooled
from experiments.sweep_reader import Sweep, is_named, show_value, varied_paths

MAX_SURVIVAL_CURVES = 8


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.notna().all()


def _sorted_values(s: pd.Series) -> list[Any]:
    vals = list(pd.unique(s))
    return sorted(vals) if _numeric(s) else sorted(vals, key=lambda v: str(v))


def _grid_paths(sw: Sweep, table: pd.DataFrame) -> list[str] | None:
    """The varied paths if the points are exactly their full Cartesian product (each combination once)."""
    if sw.sampler not in (None, "grid") or is_named(sw.points):
        return None
    varied = varied_paths(sw)
    if not varied or table[varied].isna().any().any():
        return None
    combos = table[varied].astype(str).drop_duplicates()
    size = math.prod(table[p].nunique() for p in varied)
    return varied if len(combos) == len(table) == size else None


def _figure(width: float = 7.0, height: float = 4.5) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def probability_paths(sw: Sweep, table: pd.DataFrame) -> list[str]:
    """The varied paths that get a P(escalation) line plot: numeric, with at least 3 values."""
    return [p for p in varied_paths(sw) if _numeric(table[p]) and table[p].nunique() >= 3]


def probability_figure(sw: Sweep, table: pd.DataFrame, path: str) -> Figure:
    """P(escalation) against ``path``, with its 95% band.

    A two-parameter grid gets one line per value of the other parameter; a larger grid pools the runs of the
    points sharing a value of ``path``; any other design shows each point with its Wilson interval.
    """
    grid = _grid_paths(sw, table)
    fig = _figure()
    ax = fig.add_subplot()
    if grid is not None and path in grid:
        others = [p for p in grid if p != path]
        if len(others) == 1:
            other = others[0]
            values = _sorted_values(table[other])
            cmap = colormaps["viridis"]
            for i, v in enumerate(values):
                sub = pooled(table[table[other] == v], [path])
                color = cmap(i / max(1, len(values) - 1) * 0.9)
                ax.plot(sub[path], sub["p"], marker="o", color=color, label=f"{show_value(v)}")
                ax.fill_between(sub[path], sub["low"], sub["high"], color=color, alpha=0.18, linewidth=0)
            ax.legend(title=other, fontsize="small", title_fontsize="small")
            title = f"P(escalation) against {path}, one line per {other}"
        else:
            sub = pooled(table, [path])
            ax.plot(sub[path], sub["p"], marker="o", color="C0", label="P(escalation)")
            ax.fill_between(sub[path], sub["low"], sub["high"], color="C0", alpha=0.2, linewidth=0, label="95%")
            what = "pooled over the other parameters" if others else "Wilson 95% band"
            title = f"P(escalation) against {path} ({what})"
    else:
        ok = table["p_escalation"].notna()
        x, p = table.loc[ok, path], table.loc[ok, "p_escalation"]
        # Wilson bounds can sit a rounding error inside p at 0 or 1: clip so the bars are never negative.
        err = np.clip(np.vstack([p - table.loc[ok, "ci_low"], table.loc[ok, "ci_high"] - p]), 0.0, None)
        ax.errorbar(x, p, yerr=err, fmt="o", markersize=3, alpha=0.6, elinewidth=0.8, color="C0")
        title = f"P(escalation) at each point against {path} (bars: Wilson 95%)"
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel(path)
    ax.set_ylabel("P(escalation)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    return fig


def heatmap_paths(sw: Sweep, table: pd.DataFrame) -> tuple[str, str] | None:
    """The two paths of a two-parameter grid (the heatmap's x and y), else None."""
    grid = _grid_paths(sw, table)
    return (grid[0], grid[1]) if grid is not None and len(grid) == 2 else None


def heatmap_figure(sw: Sweep, table: pd.DataFrame) -> Figure | None:
    """A heatmap of P(escalation) when the design is a two-parameter grid (else None)."""
    grid = heatmap_paths(sw, table)
    if grid is None:
        return None
    xp, yp = grid
    xs, ys = _sorted_values(table[xp]), _sorted_values(table[yp])
    z = np.full((len(ys), len(xs)), np.nan)
    lo, hi = z.copy(), z.copy()
    for _, row in table.iterrows():
        i, j = ys.index(row[yp]), xs.index(row[xp])
        z[i, j], lo[i, j], hi[i, j] = row["p_escalation"], row["ci_low"], row["ci_high"]
    fig = _figure(max(5.0, 1.0 + 0.9 * len(xs)), max(3.5, 1.2 + 0.6 * len(ys)))
    ax = fig.add_subplot()
    im = ax.imshow(z, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(xs)), [show_value(v) for v in xs])
    ax.set_yticks(range(len(ys)), [show_value(v) for v in ys])
    ax.set_xlabel(xp)
    ax.set_ylabel(yp)
    fig.colorbar(im, ax=ax, label="P(escalation)")
    if len(xs) * len(ys) <= 150:
        for i in range(len(ys)):
            for j in range(len(xs)):
                if np.isnan(z[i, j]):
                    continue
                text = f"{z[i, j]:.2f}"
                if len(xs) <= 8 and len(ys) <= 10:
                    text += f"\n[{lo[i, j]:.2f}, {hi[i, j]:.2f}]"
                color = "white" if z[i, j] < 0.6 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize="x-small", color=color)
    ax.set_title("P(escalation) [Wilson 95%]", fontsize="medium")
    return fig


def points_figure(sw: Sweep, table: pd.DataFrame) -> Figure | None:
    """P(escalation) per named point (counterfactuals) as horizontal bars with their interval (else None)."""
    if not is_named(sw.points):
        return None
    t = table.iloc[::-1]
    labels = [n if isinstance(n, str) else pid for n, pid in zip(t["name"], t["point_id"], strict=True)]
    p = t["p_escalation"].to_numpy(dtype=float)
    err = np.vstack([p - t["ci_low"].to_numpy(dtype=float), t["ci_high"].to_numpy(dtype=float) - p])
    fig = _figure(7.0, max(2.5, 0.8 + 0.45 * len(t)))
    ax = fig.add_subplot()
    ax.barh(range(len(t)), np.nan_to_num(p), xerr=np.nan_to_num(err), color="C0", alpha=0.8, capsize=3)
    ax.set_yticks(range(len(t)), labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(escalation) (bars: Wilson 95%)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("P(escalation) per counterfactual", fontsize="medium")
    return fig


def indices_figure(df: pd.DataFrame | None) -> Figure | None:
    """Sobol S1/ST or Morris mu*/sigma as grouped bars, confidence as error bars (None without indices)."""
    if df is None or df.empty:
        return None
    method = indices_method(df)
    x = np.arange(len(df))
    width = 0.38
    fig = _figure(max(5.0, 1.5 + 0.8 * len(df)), 4.5)
    ax = fig.add_subplot()
    if method == "sobol":
        ax.bar(x - width / 2, df["S1"], width, yerr=df["S1_conf"], capsize=3, label="S1 (first order)")
        ax.bar(x + width / 2, df["ST"], width, yerr=df["ST_conf"], capsize=3, label="ST (total)")
        ax.set_ylabel("Sobol index of P(escalation)")
        ax.axhline(0, color="black", linewidth=0.6)
    else:
        ax.bar(x - width / 2, df["mu_star"], width, yerr=df["mu_star_conf"], capsize=3, label="mu* (95% conf)")
        ax.bar(x + width / 2, df["sigma"], width, label="sigma")
        ax.set_ylabel("Morris elementary effects on P(escalation)")
    ax.set_xticks(x, df["parameter"], rotation=30 if len(df) > 3 else 0, ha="right" if len(df) > 3 else "center")
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(f"{method.capitalize()} sensitivity indices (error bars: 95% confidence)", fontsize="medium")
    return fig


def survival_choice(table: pd.DataFrame) -> tuple[list[str], str | None]:
    """The points whose curves the report draws, among those with a run that did not raise: all if at most
    MAX_SURVIVAL_CURVES (in design order), else the MAX_SURVIVAL_CURVES with the highest P(escalation); and the
    legend title saying so (or None)."""
    ranked = table.dropna(subset=["p_escalation"]).sort_values("p_escalation", ascending=False, kind="stable")
    chosen = list(ranked["point_id"])
    if len(chosen) > MAX_SURVIVAL_CURVES:
        return chosen[:MAX_SURVIVAL_CURVES], f"{MAX_SURVIVAL_CURVES} of {len(chosen)} points, highest P(escalation)"
    return [p for p in table["point_id"] if p in set(chosen)], None


def survival_figure(
    curves: pd.DataFrame, table: pd.DataFrame, chosen: list[str] | None = None, censoring: str = "horizon"
) -> Figure | None:
    """Kaplan-Meier curves of the points ``chosen`` (default: ``survival_choice``); None without curves.
    ``censoring`` names how ``curves`` were censored (see ``survival_curves``), for the title."""
    if curves.empty:
        return None
    legend_title = None
    if chosen is None:
        chosen, legend_title = survival_choice(table)
    fig = _figure(7.5, 4.8)
    ax = fig.add_subplot()
    alpha = 0.15 if len(chosen) <= 3 else 0.06
    for k, pid in enumerate(chosen):
        c = curves[curves["point_id"] == pid]
        if c.empty:
            continue
        color = f"C{k % 10}"
        ax.step(c["step"], c["survival"], where="post", color=color, label=str(c["label"].iloc[0]))
        ax.fill_between(c["step"], c["ci_low"], c["ci_high"], step="post", color=color, alpha=alpha, linewidth=0)
    ax.set_xlabel("steps run")
    ax.set_ylabel("P(no escalation yet)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title, fontsize="x-small", title_fontsize="x-small", loc="best")
    where = "at horizon" if censoring == "horizon" else "at its last step"
    ax.set_title(f"Time to escalation (Kaplan-Meier, 95% band; no escalation = censored {where})", fontsize="small")
    return fig


def figures(
    sw: Sweep, table: pd.DataFrame, indices: pd.DataFrame | None, curves: pd.DataFrame
) -> Iterator[tuple[str, Figure]]:
    """Every plot of the report with its PNG file name, one at a time (each can be saved and dropped before the
    next is drawn). The browser's sweep page draws the same figures with the same functions."""
    for path in probability_paths(sw, table):
        yield f"p_escalation_vs_{_slug(path)}.png", probability_figure(sw, table, path)
    if (fig := heatmap_figure(sw, table)) is not None:
        yield "heatmap.png", fig
    if (fig := points_figure(sw, table)) is not None:
        yield "p_escalation_by_point.png", fig
    if (fig := indices_figure(indices)) is not None:
        yield f"sensitivity_{indices_method(indices)}.png", fig
    if (fig := survival_figure(curves, table)) is not None:
        yield "survival.png", fig
