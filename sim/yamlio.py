"""Reading YAML input safely: scenario files, experiment files and ``--set`` values.

Every YAML input goes through :func:`load_yaml`, which differs from ``yaml.safe_load`` in four ways:

* **No aliases.** An alias (``*name``) makes one node appear in many places, so a few hundred bytes
  can stand for billions of values ("billion laughs"), and an alias inside its own anchor makes a
  cycle; both would be expanded later by validation, copying or hashing. No bundled config uses
  anchors, so aliases are refused outright, before anything is built from the document.
* **Bounded nesting** (``MAX_DEPTH`` levels; the bundled files use at most 6), so nothing later
  recurses out of its stack.
* **Dates stay strings.** YAML 1.1 reads ``2000-13-45`` as a timestamp and the constructor then
  fails with a bare ``ValueError`` that knows no field. Left a string, it reaches pydantic, which
  parses ``datetime.date`` fields itself and names the field (``calendar.start``) in its error.
* **Only plain data.** The tags of JSON's types (null, bool, int, float, str, seq, map) are read;
  any other (``!!set``, ``!!binary``, ``!!python/...``, local tags) is refused, and a scalar its tag
  cannot read (``!!int abc``, an integer of more than 4,300 digits) is an error at its line.

Every problem is a :class:`YAMLInputError` with the line and column, never an exception from deep
inside PyYAML. libyaml's parser is used when PyYAML was built with it (several times faster on a
large scenario); the pure-Python one otherwise, with the same behaviour.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, SequenceNode

from sim.messages import ELIDED, ScenarioError, cut, type_name

MAX_DEPTH = 32  # levels of nested mappings and lists
MAX_FILE_BYTES = 64 * 2**20  # a 10,000-actor scenario is about 18 MB
TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = ("null", "bool", "int", "float", "str")

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YAMLInputError(ValueError):
    """YAML text that cannot be read as plain data; the message gives the line and column."""


def _at(mark: Mark | None) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def _tag_text(tag: str) -> str:
    return cut("!!" + tag.removeprefix(TAG) if tag.startswith(TAG) else tag, 40)


def _checked(construct: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A scalar constructor whose Python errors (``int('abc')``, too many digits) become YAML errors."""

    def wrapper(loader: Any, node: Any) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, TypeError, OverflowError):
            raise ConstructorError(
                None, None, f"this value cannot be read as {_tag_text(node.tag)}", node.start_mark
            ) from None

    return wrapper


def _refuse_tag(loader: Any, node: Any) -> Any:
    # Quoted: any tag may be written here, so with values hidden load_yaml elides it like other content.
    raise ConstructorError(None, None, f"the YAML tag '{_tag_text(node.tag)}' is not allowed", node.start_mark)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that reads plain data only, with dates left as strings (see the module doc)."""

    yaml_constructors: dict[Any, Any] = {
        **{TAG + name: _checked(SafeConstructor.yaml_constructors[TAG + name]) for name in _SCALAR_TAGS},
        TAG + "seq": SafeConstructor.construct_yaml_seq,
        TAG + "map": SafeConstructor.construct_yaml_map,
        TAG + "timestamp": SafeConstructor.construct_yaml_str,  # an explicit !!timestamp: pydantic parses it
        None: _refuse_tag,
    }
    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != TAG + "timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


def _check_tree(root: Node) -> None:
    """Refuse aliases (a node reached twice) and nesting deeper than ``MAX_DEPTH``, before building."""
    seen: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise YAMLInputError(
                f"{_at(node.start_mark)}this value is used again through an alias (*name): "
                "YAML anchors and aliases are not allowed"
            )
        seen.add(id(node))
        if isinstance(node, MappingNode | SequenceNode) and depth > MAX_DEPTH:
            raise YAMLInputError(f"{_at(node.start_mark)}nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, MappingNode):
            stack.extend((child, depth + 1) for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


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
        _check_tree(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = str(getattr(exc, "problem", None) or getattr(exc, "context", None) or "cannot be read")
        if not show_values:
            problem = _QUOTED.sub(ELIDED, problem)
        raise YAMLInputError(f"{_at(mark)}{problem}") from None
    except RecursionError:  # the pure-Python composer recurses once per level
        raise YAMLInputError(f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()


def read_raw(path: str | Path, *, show_values: bool = True) -> dict[str, Any]:
    """Read a YAML file into a dict, with errors that name the file.

    ``show_values``: whether a message may quote the file's content (see ``sim.messages``); pass
    False for a file the user did not name on the command line.
    """
    p = Path(path)
    file = str(path)
    try:
        with p.open("rb") as f:
            # A device (/dev/zero) or a pipe would be read forever; a huge file would fill memory.
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
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
