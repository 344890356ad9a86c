"""Finding and driving Solara widgets rendered with ``solara.render`` (no browser): texts, buttons, fields."""

from __future__ import annotations

from typing import Any

import ipyvuetify as v
import ipywidgets


def texts(root: Any) -> str:
    """Every text on the rendered widgets (labels, children strings, HTML, values), one per line."""
    out, seen, stack = [], set(), [root]
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if isinstance(w, list | tuple):
            stack.extend(w)
            continue
        if isinstance(w, dict):
            stack.extend(w.values())
            continue
        if not isinstance(w, ipywidgets.Widget):
            continue
        for name in ("label", "unsafe_innerHTML", "v_model", "value", "description"):
            x = getattr(w, name, None)
            if isinstance(x, str) and x:
                out.append(x)
        for name in w.keys:
            x = getattr(w, name, None)
            if isinstance(x, str) and name == "children":
                out.append(x)
            elif isinstance(x, ipywidgets.Widget | list | tuple | dict):
                if name == "children" and isinstance(x, list | tuple):
                    out.extend(c for c in x if isinstance(c, str))
                stack.append(x)
    return "\n".join(out)


def button(rc: Any, label: str) -> Any:
    """The one button whose text is ``label``."""
    return rc.find(v.Btn, children=[label]).widget


def field(rc: Any, label_start: str) -> Any:
    """The one text field whose label starts with ``label_start``."""
    found = [w for w in rc.find(v.TextField).widgets if (w.label or "").startswith(label_start)]
    assert len(found) == 1, label_start
    return found[0]


def type_text(box: Any, text: str) -> None:
    """Type into a text box and press Enter (Mesa's text inputs report on Enter or on leaving the box)."""
    box.v_model = text
    box.fire_event("keyup.enter", None)


def errors(box: Any) -> str:
    """The text of every error alert (class dipsim-error) under ``box``."""
    return texts([w for w in all_widgets(box) if isinstance(w, v.Alert) and "dipsim-error" in (w.class_ or "")])


def all_widgets(root: Any) -> list[Any]:
    out, seen, stack = [], set(), [root]
    while stack:
        w = stack.pop()
        if id(w) in seen or not isinstance(w, ipywidgets.Widget | list | tuple | dict):
            continue
        seen.add(id(w))
        if isinstance(w, list | tuple):
            stack.extend(w)
        elif isinstance(w, dict):
            stack.extend(w.values())
        else:
            out.append(w)
            stack.extend(getattr(w, k, None) for k in w.keys)
    return out
