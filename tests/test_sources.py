"""Provenance of the bundled scenario, and the crises reserved for out-of-sample validation.

Every ``source:`` of configs/european_security_2022.yaml is either "assumption: <reason>" or a
word-for-word quote from the seed record. The seed lives outside the repository: in
``$DIPSIM_SEED_DIR`` if set, else ``../shared/seed`` beside the clone (as on CI), else
``/work/shared/seed``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"
SCENARIO = CONFIGS / "european_security_2022.yaml"
SEED_NAME = "000_7a2a24a5152f4126.txt"

# The five crises held back for validation; no config may be about any of them.
RESERVED = {
    "July crisis 1914": r"1914|july[\s_-]*crisis|sarajevo",
    "Munich 1938": r"munich|1938|sudeten",
    "Cuban missile crisis 1962": r"cuba|missile[\s_-]*crisis|caribbean[\s_-]*crisis",  # not 1962: Sino-Indian
    "Rambouillet / Kosovo 1999": r"rambouillet|kosovo",
    "Iran nuclear deal (JCPOA)": r"(?<![a-z])iran(?![a-z])|jcpoa",
}


def seed_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("DIPSIM_SEED_DIR"):
        dirs.append(Path(os.environ["DIPSIM_SEED_DIR"]))
    dirs += [REPO.parent / "shared" / "seed", Path("/work/shared/seed")]
    return dirs


def seed_text() -> str:
    for d in seed_dirs():
        if (d / SEED_NAME).is_file():
            return (d / SEED_NAME).read_text(encoding="utf-8")
    pytest.skip(f"seed record {SEED_NAME} not found in any of: {', '.join(map(str, seed_dirs()))}")


def normalise(text: str) -> str:
    return " ".join(text.split())


def sources(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``source`` and ``*_source`` value in a raw config, with its dotted path (list items by id)."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key) == "source" or str(key).endswith("_source"):
                yield here, value
            else:
                yield from sources(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            name = item.get("id", i) if isinstance(item, dict) else i
            yield from sources(item, f"{path}.{name}")


def is_assumption(source: str) -> bool:
    return source.strip().lower().startswith("assumption:")


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))


def test_every_quoted_source_is_in_the_seed(raw: dict[str, Any]) -> None:
    seed = normalise(seed_text())
    quotes = [(p, s) for p, s in sources(raw) if not is_assumption(s)]
    assert quotes, "no quoted sources found: the walker is broken"
    missing = [f"{p}: {s!r}" for p, s in quotes if normalise(s) not in seed]
    assert not missing, "sources not found word for word in the seed record:\n" + "\n".join(missing)


def test_every_source_is_a_quote_or_an_assumption(raw: dict[str, Any]) -> None:
    found = list(sources(raw))
    assert len(found) > 20
    for p, s in found:
        assert s.strip(), f"{p}: empty source"
        if is_assumption(s):
            assert s.strip().partition(":")[2].strip(), f"{p}: an assumption needs a reason"


def test_source_walker_finds_nested_sources() -> None:
    raw = {"a": {"source": "x"}, "b": [{"id": "k", "source": "y", "c": {"source": "z"}}]}
    assert list(sources(raw)) == [("a.source", "x"), ("b.k.source", "y"), ("b.k.c.source", "z")]


# --------------------------------------------------------------------------- reserved crises


def config_files() -> list[Path]:
    return sorted(p for p in CONFIGS.rglob("*") if p.is_file())


def reserved_hits(text: str) -> list[str]:
    return [crisis for crisis, pattern in RESERVED.items() if re.search(pattern, text, re.IGNORECASE)]


def test_reserved_patterns_catch_the_crises() -> None:
    for text in (
        "july_crisis_1914",
        "Munich 1938",
        "cuban_missiles",
        "missile crisis",
        "Kosovo/Rambouillet",
        "iran_nuclear",
        "JCPOA",
    ):
        assert reserved_hits(text), text
    for text in ("european_security_2022", "Tirana talks", "fearon_p030", "sino_indian_1962"):
        assert not reserved_hits(text), text


@pytest.mark.parametrize("path", config_files(), ids=lambda p: str(p.relative_to(CONFIGS)))
def test_no_config_is_about_a_reserved_crisis(path: Path) -> None:
    rel = str(path.relative_to(CONFIGS))
    assert not reserved_hits(rel), f"configs/{rel}: the file name names a reserved crisis {reserved_hits(rel)}"
    if path.suffix not in (".yaml", ".yml"):
        return
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        return
    for field in ("id", "name"):
        value = str(raw.get(field, ""))
        assert not reserved_hits(value), f"configs/{rel}: {field} {value!r} names a reserved crisis"
