"""Reading YAML input safely: scenario files, experiment files and ``--set`` values.

Every YAML input goes through :func:`load_yaml`, which differs from ``yaml.safe_load`` in these ways,
all checked while the document is composed into nodes, before any value is built from it:

* **No aliases.** An alias (``*name``) makes one node appear in many places, so a few hundred bytes
  can stand for billions of values ("billion laughs"), and an alias inside its own anchor makes a
  cycle; both would be expanded later by validation, copying or hashing. No bundled config uses
  anchors, so aliases are refused outright, at the first one met.
* **Bounded nesting** (``MAX_DEPTH`` levels; the bundled files use at most 6), so nothing later
  recurses out of its stack.
* **Bounded size.** A file is read only if it is a regular file (a pipe or a device could block or
  never end) of at most ``MAX_FILE_BYTES``, and a document of more than ``MAX_NODES`` values is
  refused while it is composed: each node costs a few hundred bytes, so memory stays bounded (see the
  constants for the figures).
* **Dates stay strings.** YAML 1.1 reads ``2000-13-45`` as a timestamp and the constructor then
  fails with a bare ``ValueError`` that knows no field. Left a string, it reaches pydantic, which
  parses ``datetime.date`` fields itself and names the field (``calendar.start``) in its error.
* **No base-60 numbers.** YAML 1.1 reads ``1:30`` as the integer 90; ``1:00:00:...`` grows a
  number digit by digit in quadratic time and without bound. Such a scalar is a string here (as in
  YAML 1.2); an explicit ``!!int 1:30`` is refused.
* **Bounded integers.** An integer whose magnitude needs more than ``MAX_INT_BITS`` bits
  (``0x`` and 4,000 hex digits, 5,000 decimal digits) is refused at its line: Python cannot even
  print some of them (more than 4,300 decimal digits), and no field needs one.
* **Only plain data.** The tags of JSON's types (null, bool, int, float, str, seq, map) are read;
  any other (``!!set``, ``!!binary``, ``!!python/...``, local tags) is refused, and a scalar its tag
  cannot read (``!!int abc``, ``!!float ''``) is an error at its line.

Every problem is a :class:`YAMLInputError` with the line and column, never an exception from deep
inside PyYAML. libyaml's parser is used when PyYAML was built with it (several times faster on a
large scenario); the pure-Python one otherwise, with the same behaviour. Nodes are composed in Python
from the parser's events either way, so that the checks above happen as each node is made.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import Mark
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import Node

from sim.messages import ELIDED, ScenarioError, cut, type_name

MAX_DEPTH = 32  # levels of nested mappings and lists
# Values (mapping keys and values, list items, scalars) in one document, counted as it is composed. A node
# and the value built from it cost up to ~640 bytes (an empty list or mapping: node, start mark, the list
# itself), about 100 times the file's bytes: a 2 MB flat list once took 400 MB. Measured peak RSS of
# read_raw on a file at the cap (Python 3.12, PyYAML 6.0.4 with libyaml): 2.5 million empty lists (7.5 MB)
# 1,524 MiB, 2.5 million integers 638 MiB, below sim.size's 2 GiB model limit; one value more is refused
# at 667 MiB, before anything is built. A generated 10,000-actor, 20-issue scenario (18.7 MB) has 1.55
# million values and loads (798 MiB), so that the size warning can speak.
MAX_NODES = 2_500_000
MAX_FILE_BYTES = 32 * 2**20  # 1.7 times that 10,000-actor scenario; with MAX_NODES, under 2 GiB to read
MAX_INT_BITS = 64  # an integer's magnitude below 2**64: seeds, counts and steps need far less
TAG = "tag:yaml.org,2002:"

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YAMLInputError(ValueError):
    """YAML text that cannot be read as plain data; the message gives the line and column."""


def _at(mark: Mark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def _tag_text(tag: str) -> str:
    return cut("!!" + tag.removeprefix(TAG) if tag.startswith(TAG) else tag, 40)


def _refuse(problem: str, node: Node) -> ConstructorError:
    return ConstructorError(None, None, problem, node.start_mark)


# The most significant digits (leading zeros aside) a number of MAX_INT_BITS bits can have in each base:
# more is refused before converting, so that no long text is ever turned into a number.
_MAX_DIGITS = {2: MAX_INT_BITS, 8: -(-MAX_INT_BITS // 3), 10: 20, 16: MAX_INT_BITS // 4}


def _construct_int(loader: Any, node: Any) -> int:
    """YAML 1.1 integers (``0b``, ``0x``, a leading ``0`` for octal, ``_`` separators) without base 60,
    of at most ``MAX_INT_BITS`` bits."""
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.removeprefix("-") if sign < 0 else text.removeprefix("+")
    if ":" in text:
        raise _refuse("base-60 numbers (1:30) are not read; quote the value if it is text", node)
    base, digits = 10, text
    if text[:2] in ("0b", "0x"):
        base, digits = (2 if text[1] == "b" else 16), text[2:]
    elif len(text) > 1 and text[0] == "0":
        base = 8
    value = int(digits, base) if len(digits.lstrip("0")) <= _MAX_DIGITS[base] else None
    if value is None or value.bit_length() > MAX_INT_BITS:
        raise _refuse(f"an integer of more than {MAX_INT_BITS} bits is not read", node)
    return sign * value


def _construct_float(loader: Any, node: Any) -> float:
    """YAML 1.1 floats without base 60 (``1:30.5``)."""
    if ":" in loader.construct_scalar(node):
        raise _refuse("base-60 numbers (1:30.5) are not read; quote the value if it is text", node)
    return SafeConstructor.construct_yaml_float(loader, node)


def _checked(construct: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A scalar constructor whose Python errors (``int('abc')``, ``!!int ''``) become YAML errors."""

    def wrapper(loader: Any, node: Any) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, TypeError, OverflowError, IndexError):
            raise _refuse(f"this value cannot be read as {_tag_text(node.tag)}", node) from None

    return wrapper


def _refuse_tag(loader: Any, node: Any) -> Any:
    # Quoted: any tag may be written here, so with values hidden load_yaml elides it like other content.
    raise _refuse(f"the YAML tag '{_tag_text(node.tag)}' is not allowed", node)


# PyYAML's YAML 1.1 patterns for plain integers and floats, without their base-60 alternatives
# (``190:20:30``, ``1:30.5``), which are therefore read as strings.
_PATTERNS = {
    TAG + "int": re.compile(
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    TAG + "float": re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
}


class _Loader(Composer, _BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that reads plain data only (see the module doc). Its nodes are composed by PyYAML's
    Python composer from the parser's events (libyaml's or PyYAML's), with the checks added per node."""

    yaml_constructors: dict[Any, Any] = {
        TAG + "null": _checked(SafeConstructor.construct_yaml_null),
        TAG + "bool": _checked(SafeConstructor.construct_yaml_bool),
        TAG + "int": _checked(_construct_int),
        TAG + "float": _checked(_construct_float),
        TAG + "str": _checked(SafeConstructor.construct_yaml_str),
        TAG + "seq": SafeConstructor.construct_yaml_seq,
        TAG + "map": SafeConstructor.construct_yaml_map,
        TAG + "timestamp": SafeConstructor.construct_yaml_str,  # an explicit !!timestamp: pydantic parses it
        None: _refuse_tag,
    }
    yaml_implicit_resolvers = {
        first: [(tag, _PATTERNS.get(tag, rx)) for tag, rx in resolvers if tag != TAG + "timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, text: str) -> None:
        _BaseLoader.__init__(self, text)
        Composer.__init__(self)  # libyaml's loader does not call it
        self.nodes = 0
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or event.anchor is not None:  # an anchor is only there for aliases
            what = (
                "is used again through an alias (*name)" if isinstance(event, AliasEvent) else "has an anchor (&name)"
            )
            raise ComposerError(
                None, None, f"this value {what}: YAML anchors and aliases are not allowed", event.start_mark
            )
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ComposerError(
                None,
                None,
                f"more than {MAX_NODES:,} values (keys, list items, scalars): too large to read",
                event.start_mark,
            )
        if isinstance(event, MappingStartEvent | SequenceStartEvent):
            if self.depth >= MAX_DEPTH:
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            self.depth += 1
            node: Node = super().compose_node(parent, index)
            self.depth -= 1
        else:
            node = super().compose_node(parent, index)
        node.end_mark = None  # unused (messages give where a value starts); a third less memory per node
        return node


# A quoted fragment of the document in a PyYAML problem ("found unknown escape character 'q'"); token
# names such as '<scalar>' are not content.
_QUOTED = re.compile(r"'(?!<)[^']*'|\"[^\"]*\"")


def load_yaml(text: str, *, show_values: bool = True) -> Any:
    """Read one YAML document as plain data (see the module doc); :class:`YAMLInputError` on any problem.

    ``show_values=False`` leaves out of the message every fragment of the document that PyYAML quotes.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = str(getattr(exc, "problem", None) or getattr(exc, "context", None) or "cannot be read")
        if not show_values:
            problem = _QUOTED.sub(ELIDED, problem)
        raise YAMLInputError(f"{_at(mark)}{problem}") from None
    finally:
        loader.dispose()


def read_raw(path: str | Path, *, show_values: bool = True) -> dict[str, Any]:
    """Read a YAML file into a dict, with errors that name the file.

    ``show_values``: whether a message may quote the file's content (see ``sim.messages``); pass
    False for a file the user did not name on the command line.
    """
    file = str(path)
    try:
        # Non-blocking, so that opening a pipe with no writer returns at once instead of waiting; a pipe
        # or a device (/dev/zero) would be read forever, so only a regular file is read. A huge file
        # would fill memory, so at most MAX_FILE_BYTES are.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ScenarioError(file, [("", "not a regular file")])
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(file, [("", "file not found")]) from None
    except OSError as exc:
        raise ScenarioError(file, [("", f"cannot read: {exc.strerror or type(exc).__name__}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(file, [("", f"larger than {MAX_FILE_BYTES // 2**20} MiB")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(file, [("", "not a UTF-8 text file")]) from None
    try:
        raw = load_yaml(text, show_values=show_values)
    except YAMLInputError as exc:
        raise ScenarioError(file, [("", f"malformed YAML: {exc}")]) from None
    if not isinstance(raw, dict):
        raise ScenarioError(file, [("", f"the top level must be a mapping, not {type_name(raw)}")])
    return raw
