"""The small Solara pieces both browser pages are built from (the simulation page, ``sim.viz.components``; the
sweep page, ``sim.viz.sweep_page``): a view's heading, an HTML table, a matplotlib figure as a PNG image, the box a
view scrolls in. Kept in one place so the two pages look alike. Nothing here imports Mesa.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import solara
from matplotlib.figure import Figure


def html_table(df: pd.DataFrame, *, floats: int = 3) -> solara.Element:
    """A small HTML table (escaped), cheaper than a data-grid widget and needing no extra assets."""
    text = df.to_html(index=False, escape=True, border=0, na_rep="-", float_format=lambda x: f"{x:.{floats}f}")
    return solara.HTML(tag="div", unsafe_innerHTML=text, style="font-size: 12px; overflow-x: auto")


def heading(title: str, note: str = "") -> None:
    """A view's title (plain text: solara.Markdown would fetch KaTeX from a CDN that is not there offline)."""
    with solara.Row(gap="6px", style={"align-items": "baseline"}):
        solara.Text(title, style={"font-weight": "bold", "font-size": "15px"})
        if note:
            solara.Text(note, style={"font-size": "12px", "color": "gray"})


@solara.component
def FigureImage(make: Any, deps: list[Any]) -> solara.Element:
    """The matplotlib figure ``make()`` as a PNG image, redrawn only when ``deps`` change."""
    png = solara.use_memo(lambda: png_bytes(make()), deps)
    return solara.Image(png, format="png", width="100%")


def png_bytes(fig: Figure) -> bytes:
    """PNG bytes of a figure (a plain Figure: no pyplot state shared between browser sessions)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


BOX = {"height": "100%", "overflow": "auto", "padding": "4px 8px"}  # a view scrolls inside its grid cell
# For a <pre> (solara.Preformatted hands ``style_`` and ``class_`` to ipyvue's Html): a long command wraps
# inside its view instead of running past the edge.
WRAP = "white-space: pre-wrap; word-break: break-all; font-size: 12px"
