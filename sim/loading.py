"""Loading a scenario: read a YAML file safely, apply ``--set`` overrides by path, validate, and report every
problem at once with the file, the field and the problem (``sim.messages.ScenarioError``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.messages import MAX_PATH_CHARS, ScenarioError, cut, name_text, path_str, value_text
from sim.params import Parameters
from sim.scenario import References, Scenario
from sim.yamlio import YAMLInputError, load_yaml, read_raw

BUNDLED_CONFIGS = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_SCENARIO = BUNDLED_CONFIGS / "european_security_2022.yaml"


def validate_raw(raw: dict[str, Any], file: str, *, show_values: bool = True) -> Scenario:
    """Validate a raw config dict; collect every problem into one ScenarioError.

    ``show_values``: whether a message may quote a value of ``raw`` (cut to 40 characters; see
    ``sim.messages``). True for the command line, where the file is the user's own; pass False for a
    file reached any other way (the browser page, an experiment's base scenario). Field names and ids
    are shown either way; the value of an unknown key never is.
    """
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(file, validation_problems(exc, raw, show_values)) from None


def validation_problems(exc: ValidationError, raw: Any, show_values: bool = True) -> list[tuple[str, str]]:
    """(field path, problem) for every error pydantic found in ``raw``, a scenario's cross-references one by
    one; a short scalar value is quoted when ``show_values`` (never an unknown key's)."""
    errors: list[tuple[str, str]] = []
    for e in exc.errors():
        ctx_err = (e.get("ctx") or {}).get("error")
        if isinstance(ctx_err, References):
            errors.extend((path_str(_split(p), raw, show_values), m) for p, m in ctx_err.errors)
            continue
        msg = e["msg"].removeprefix("Value error, ")
        got = e.get("input")
        shown = show_values and e["type"] not in ("missing", "extra_forbidden")
        if shown and (got is None or isinstance(got, str | int | float | bool)):
            msg += f" (got {value_text(got)})"
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith(("function-", "tagged"))))
        errors.append((path_str(loc, raw, show_values), msg))
    return errors


def _split(path: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def load_scenario(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, *, show_values: bool = True
) -> Scenario:
    """Load, override and validate a scenario file (default: the bundled 2022 scenario).

    ``show_values``: whether error messages may quote the file's values (short ones, cut to 40
    characters). Keep the default True only for a file the user named on the command line; the
    browser page and any file named inside another file pass False, so that pointing the loader at a
    file that is not a scenario (a password or credentials file) never shows its content.
    """
    path = DEFAULT_SCENARIO if path is None else Path(path)
    raw = read_raw(path, show_values=show_values)
    if overrides:
        raw = apply_overrides(raw, overrides, str(path))
    return validate_raw(raw, str(path), show_values=show_values)


def config_sha256(scenario: Scenario) -> str:
    """Hash of the validated scenario (after overrides), canonical JSON."""
    blob = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def parse_set(items: list[str]) -> dict[str, Any]:
    """Parse ``PATH=VALUE`` strings; the value is read as YAML (numbers, null, lists), safely
    (``sim.yamlio.load_yaml``: no aliases, dates left as strings)."""
    out: dict[str, Any] = {}
    for item in items:
        path, sep, value = item.partition("=")
        shown = value_text(item)
        if not sep or not path:
            raise ValueError(f"--set {shown}: expected PATH=VALUE")
        try:
            out[path.strip()] = load_yaml(value) if value.strip() else None
        except YAMLInputError as exc:
            raise ValueError(f"--set {shown}: the value is not valid YAML ({exc})") from None
    return out


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any], file: str) -> dict[str, Any]:
    """Return a copy of ``raw`` with each ``path: value`` set.

    A path is dotted: mapping keys, and list items by their ``id`` (``venues.geneva.date``)
    or index. Setting a list item to null removes it (``venues.geneva=null``). A path must
    exist, with three exceptions whose keys are known: ``parameters.NAME`` for any model
    parameter, ``trust.FROM.TO`` for two actors and ``actors.ID.policy``. Ids and indices refer to the file as
    written and removals happen last, so the result does not depend on the order of the paths.
    """
    raw = copy.deepcopy(raw)
    errors: list[tuple[str, str]] = []
    actor_ids = {a.get("id") for a in raw.get("actors", []) if isinstance(a, dict)}
    removals: list[tuple[list[Any], Any]] = []
    for path in sorted(overrides):
        try:
            _set_path(raw, path.split("."), overrides[path], actor_ids, removals)
        except KeyError as exc:
            errors.append((path, f"unknown --set path: {exc.args[0]}"))
    if errors:
        raise ScenarioError(file, errors)
    for container, item in removals:
        if any(x is item for x in container):
            container[:] = [x for x in container if x is not item]
    return raw


def _set_path(
    raw: dict[str, Any], parts: list[str], value: Any, actor_ids: set[Any], removals: list[tuple[list[Any], Any]]
) -> None:
    node: Any = raw
    for depth, key in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            idx = next((i for i, x in enumerate(node) if isinstance(x, dict) and x.get("id") == key), None)
            if idx is None and key.isdigit() and int(key) < len(node):
                idx = int(key)
            if idx is None:
                raise KeyError(f"no item {name_text(key)!r} at {cut(here, MAX_PATH_CHARS)}")
            if last:
                if value is None:
                    removals.append((node, node[idx]))
                else:
                    node[idx] = value
                return
            node = node[idx]
        elif isinstance(node, dict):
            creatable = (
                (depth == 0 and key == "parameters" and len(parts) == 2)
                or (parts[0] == "parameters" and depth == 1 and key in Parameters.model_fields)
                or (parts[0] == "trust" and 1 <= depth <= 2 and key in actor_ids and len(parts) == 3)
                or (parts[0] == "actors" and depth == 2 and key == "policy" and len(parts) == 3)
            )
            if key not in node and not creatable:
                raise KeyError(f"no key {name_text(key)!r} at {cut(here, MAX_PATH_CHARS)}")
            if last:
                node[key] = value
                return
            if key not in node:
                node[key] = {}
            node = node[key]
        else:
            raise KeyError(f"{'.'.join(parts[:depth])} is a value, not a mapping or list")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, for editors."""
    return Scenario.model_json_schema()
