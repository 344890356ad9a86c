"""``dipsim report DIR``: the text report of an output folder of ``dipsim sweep``, and its plots as PNG files.

``report(out, plots=True)`` reads the folder (``experiments.sweep_reader``), computes its statistics
(``experiments.statistics``: the summary table, sensitivity indices, survival curves), formats them as the
text ``dipsim report`` prints, and writes the figures (``experiments.figures``) into ``DIR/plots/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from experiments.statistics import indices_method, sensitivity, summary_table, survival_curves
from experiments.sweep_reader import Sweep, read_sweep, show_value, varied_paths

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# --------------------------------------------------------------------------- text


def format_summary(table: pd.DataFrame, paths: list[str], max_rows: int | None = 40) -> str:
    """The summary as a fixed-width text table (at most ``max_rows`` rows; None or 0 for all)."""
    shown = table if not max_rows or len(table) <= max_rows else table.head(max_rows)
    view = pd.DataFrame({"point": shown["point_id"]})
    if "name" in shown.columns:
        view["name"] = shown["name"].map(show_value)
    for p in paths:
        view[p] = shown[p].map(show_value)
    view["runs"] = shown["runs"]
    view["errors"] = shown["errors"]
    view["escalations"] = shown["escalations"]

    def p_ci(row: pd.Series) -> str:
        if pd.isna(row["p_escalation"]):
            return "-"
        return f"{row['p_escalation']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"

    view["p_escalation [Wilson 95%]"] = shown.apply(p_ci, axis=1) if len(shown) else []
    view["mean_esc_step"] = shown["mean_escalation_step"].map(lambda x: "-" if pd.isna(x) else f"{x:.1f}")
    text = view.to_string(index=False)
    if len(shown) < len(table):
        text += f"\n... showing {len(shown)} of {len(table)} points (--rows 0 shows all; summary_table() has them)"
    return text


def format_indices(df: pd.DataFrame) -> str:
    """The sensitivity indices as a text table under a line saying which they are."""
    method = indices_method(df)
    head = (
        "Sobol indices of P(escalation) (S1 first order, ST total; *_conf: 95% bootstrap half-width)"
        if method == "sobol"
        else "Morris indices of P(escalation) (mu*, sigma; mu_star_conf: 95% bootstrap half-width)"
    )
    return head + "\n" + df.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def headline(table: pd.DataFrame) -> str:
    """Points, runs, errors and escalations of a summary table, in one line."""
    return (
        f"{len(table)} point(s), {int(table['runs'].sum())} run(s), {int(table['errors'].sum())} error(s), "
        f"{int(table['escalations'].sum())} escalation(s)"
    )


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


# Compared by identity: Solara's memos compare their dependencies with ==, which DataFrames do not support.
@dataclass(eq=False)
class ReportResult:
    """What ``report`` computed and wrote; ``text`` is what ``dipsim report`` prints."""

    out: Path
    summary: pd.DataFrame
    indices: pd.DataFrame | None
    survival: pd.DataFrame
    plots: list[Path]
    notes: list[str]
    text: str
    sweep: Sweep


def report(out: Path | str, plots: bool = True, max_rows: int | None = 40) -> ReportResult:
    """Summarise an output folder of ``dipsim sweep`` and (if ``plots``) write PNGs into ``out/plots/``."""
    sw = read_sweep(out)
    table = summary_table(sw)
    indices, note = sensitivity(sw, table)
    notes = list(sw.notes) + ([note] if note else [])
    curves = survival_curves(sw)
    written: list[Path] = []
    if plots:
        # Imported here: matplotlib is needed only to write plots (`dipsim report --no-plots` starts without it).
        from experiments.figures import figures

        written = [_save(fig, sw.out / "plots" / name) for name, fig in figures(sw, table, indices, curves)]

    lines = [f"{sw.out}: {headline(table)}", "", format_summary(table, varied_paths(sw) or sw.paths, max_rows)]
    if indices is not None:
        lines += ["", format_indices(indices)]
    if notes:
        lines += [""] + notes
    if written:
        lines += ["", f"plots written to {sw.out / 'plots'}: " + ", ".join(p.name for p in written)]
    text = "\n".join(lines)
    return ReportResult(
        out=sw.out, summary=table, indices=indices, survival=curves, plots=written, notes=notes, text=text, sweep=sw
    )
