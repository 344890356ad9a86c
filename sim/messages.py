"""Error messages about input files that never echo the files' contents.

A message names the file, the field and the problem. Whoever loads a file decides whether its values
may appear in messages (``show_values``): the command line shows short values of the files the user
named, the browser page and files reached through another file (an experiment's ``scenario:``) never
do, because the file may be one the user has no business reading (a password or credentials file
typed into the page's path box). Field names and ids are shown in both cases, cut to a bounded
length, and a whole message is bounded too: an id of 100,000 characters must not fill the screen.
Nothing here imports Mesa or pydantic.
"""

from __future__ import annotations

import re
from typing import Any

MAX_VALUE_CHARS = 40  # a value shown in a message (repr included), cut beyond
MAX_NAME_CHARS = 64  # a key or id in a field path: the longest valid identifier of a scenario
MAX_PATH_CHARS = 200  # a whole field path
MAX_PROBLEM_CHARS = 400  # the problem part of one line
MAX_LISTED_ERRORS = 50  # lines of one message; the rest are counted
ELIDED = "…"

# A key or id that is a plain name; with values hidden, anything else in a path could be file content.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def cut(text: str, limit: int) -> str:
    """``text``, or its first ``limit - 1`` characters and an ellipsis when longer than ``limit``."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELIDED


def value_text(value: Any) -> str:
    """A value as a message shows it: its repr, cut to ``MAX_VALUE_CHARS``. An integer too long to show is
    described by its size (Python refuses to print more than 4,300 digits, and printing is quadratic)."""
    if isinstance(value, int) and value.bit_length() > 4 * MAX_VALUE_CHARS:
        return f"an integer of {value.bit_length():,} bits"
    return cut(repr(value), MAX_VALUE_CHARS)


def name_text(name: Any, show_values: bool = True) -> str:
    """A mapping key or list-item id as a path part: cut to ``MAX_NAME_CHARS``; with values hidden, a
    name that is not a plain identifier is elided, since it may be a line of the file."""
    text = str(name)
    if show_values or _PLAIN_NAME.fullmatch(text):
        return cut(text, MAX_NAME_CHARS)
    return ELIDED


def type_name(value: Any) -> str:
    """What kind of YAML value ``value`` is, in words (never its content)."""
    if value is None:
        return "null (an empty document)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def path_str(loc: tuple[Any, ...], raw: Any, show_values: bool = True) -> str:
    """A pydantic error location as a dotted path, with list items named by their id.

    ``raw`` is the document the location points into; an item whose ``id`` is not usable as a name
    (see :func:`name_text`) is named by its index instead.
    """
    parts: list[str] = []
    node: Any = raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            item = node[part]
            ident = item.get("id") if isinstance(item, dict) else None
            named = ident is not None and isinstance(ident, str | int) and not isinstance(ident, bool)
            text = name_text(ident, show_values) if named else str(part)
            parts.append(str(part) if text == ELIDED else text)
            node = item
        else:
            parts.append(name_text(part, show_values))
            node = node.get(part) if isinstance(node, dict) else None
    return cut(".".join(parts), MAX_PATH_CHARS)


def error_lines(file: str, errors: list[tuple[str, str]]) -> list[str]:
    """One line per (field path, problem), each bounded, at most ``MAX_LISTED_ERRORS`` and a count."""
    lines = []
    for path, problem in errors[:MAX_LISTED_ERRORS]:
        problem = cut(problem, MAX_PROBLEM_CHARS)
        lines.append(f"{file}: {cut(path, MAX_PATH_CHARS)}: {problem}" if path else f"{file}: {problem}")
    if len(errors) > MAX_LISTED_ERRORS:
        lines.append(f"{file}: and {len(errors) - MAX_LISTED_ERRORS} more problem(s)")
    return lines


class ScenarioError(Exception):
    """A config that cannot be read or is invalid. ``errors`` holds (field path, problem), complete;
    the message lists them bounded (see :func:`error_lines`)."""

    def __init__(self, file: str, errors: list[tuple[str, str]]):
        self.file = file
        self.errors = errors
        super().__init__("\n".join(error_lines(file, errors)))
