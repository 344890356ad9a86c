"""The baseline's covariates (``configs/crises/covariates.csv``, docs/authoring.md section 11).

One row per scenario of the crisis library, in the order of the scenarios' file names; the principal dyad's two
sides are distinct state or bloc actors of the scenario; each side's nuclear flag follows the protocol's table
of first nuclear tests on the scenario's start date; every row names its trigger. The scenarios are read as
raw YAML: nothing here opens an outcome record or runs the model.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_sources import reserved_hits

REPO = Path(__file__).resolve().parent.parent
CRISES_DIR = REPO / "configs" / "crises"
CRISES = sorted(CRISES_DIR.glob("*.yaml"))
COVARIATES = CRISES_DIR / "covariates.csv"
AUTHORING = REPO / "docs" / "authoring.md"
HEADER = ["crisis", "side_a", "side_b", "nuclear_a", "nuclear_b", "source"]

# docs/authoring.md section 11: the date from which each state counts as nuclear-armed (its first nuclear test;
# Israel, which has not tested, from 1 January 1967 after Cohen 1998), by every actor id the library uses for it.
FIRST_TEST = {
    "United States": dt.date(1945, 7, 16),
    "Soviet Union / Russia": dt.date(1949, 8, 29),
    "United Kingdom": dt.date(1952, 10, 3),
    "France": dt.date(1960, 2, 13),
    "China": dt.date(1964, 10, 16),
    "India": dt.date(1974, 5, 18),
    "Pakistan": dt.date(1998, 5, 28),
    "North Korea": dt.date(2006, 10, 9),
    "Israel": dt.date(1967, 1, 1),
}
ACTOR_IDS = {
    "USA": "United States",
    "USSR": "Soviet Union / Russia",
    "URS": "Soviet Union / Russia",
    "RUS": "Soviet Union / Russia",
    "GBR": "United Kingdom",
    "FRA": "France",
    "CHN": "China",
    "IND": "India",
    "PAK": "Pakistan",
    "PRK": "North Korea",
    "ISR": "Israel",
}


def read_rows() -> list[dict[str, str]]:
    with COVARIATES.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER, f"{COVARIATES.name}: header {reader.fieldnames}, expected {HEADER}"
        return list(reader)


def scenario(crisis: str) -> dict[str, Any]:
    return yaml.safe_load((CRISES_DIR / f"{crisis}.yaml").read_text(encoding="utf-8"))


def nuclear_on(actor_id: str, actors: dict[str, dict[str, Any]], start: dt.date) -> bool:
    """Whether the protocol counts ``actor_id`` nuclear-armed on ``start``: a state by the table (a state the
    table does not list never is), a bloc if any member it lists in ``members`` is. A bloc's members that are
    not actors of their own are named only in its capability comment; a bloc whose only nuclear members were
    such would be judged non-nuclear here and needs this check extended (none in the library's dyads is)."""
    actor = actors[actor_id]
    if actor["kind"] == "bloc":
        return any(nuclear_on(m, actors, start) for m in actor.get("members") or [])
    state = ACTOR_IDS.get(actor_id)
    return state is not None and FIRST_TEST[state] < start


ROWS = read_rows()
BY_CRISIS = {row["crisis"]: row for row in ROWS}


def test_one_row_per_scenario_in_file_name_order() -> None:
    assert [row["crisis"] for row in ROWS] == [p.stem for p in CRISES]


def test_the_table_is_the_documented_one() -> None:
    text = AUTHORING.read_text(encoding="utf-8")
    section = text.partition("## 11. Covariates for the baseline")[2]
    assert section, "docs/authoring.md has no section 11"
    for state, date in FIRST_TEST.items():
        assert date.isoformat() in section, f"{state}: {date} is not in section 11's table"
    for actor_id in ACTOR_IDS:
        assert f"`{actor_id}`" in section, f"{actor_id} is not named in section 11's table"


def test_the_nuclear_rule_on_known_dates() -> None:
    actors = {
        "USA": {"kind": "state"},
        "USSR": {"kind": "state"},
        "EGY": {"kind": "state"},
        "ALLIES": {"kind": "bloc", "members": ["EGY", "USA"]},
        "OTHERS": {"kind": "bloc", "members": []},
    }
    assert nuclear_on("USA", actors, dt.date(1945, 7, 17))
    assert not nuclear_on("USA", actors, dt.date(1945, 7, 16))  # on the day of the test: not before it
    assert not nuclear_on("USSR", actors, dt.date(1948, 6, 24))
    assert not nuclear_on("EGY", actors, dt.date(2020, 1, 1))
    assert nuclear_on("ALLIES", actors, dt.date(1950, 1, 1))
    assert not nuclear_on("OTHERS", actors, dt.date(1950, 1, 1))


@pytest.mark.parametrize("path", CRISES, ids=lambda p: p.stem)
def test_the_dyad_and_its_nuclear_flags(path: Path) -> None:
    crisis = path.stem
    row = BY_CRISIS.get(crisis)
    assert row is not None, f"{COVARIATES.name}: no row for {crisis}"
    raw = scenario(crisis)
    actors = {a["id"]: a for a in raw["actors"]}
    start = raw["calendar"]["start"]
    assert isinstance(start, dt.date)
    a, b = row["side_a"], row["side_b"]
    assert a != b, f"{crisis}: side_a and side_b are both {a}"
    for side in ("a", "b"):
        actor_id = row[f"side_{side}"]
        assert actor_id in actors, f"{crisis}: side_{side} {actor_id!r} is not an actor of the scenario"
        kind = actors[actor_id]["kind"]
        assert kind in ("state", "bloc"), f"{crisis}: side_{side} {actor_id} is a {kind}, not a state or bloc"
        flag = row[f"nuclear_{side}"]
        assert flag in ("true", "false"), f"{crisis}: nuclear_{side} {flag!r} is neither true nor false"
        expected = nuclear_on(actor_id, actors, start)
        assert (flag == "true") == expected, (
            f"{crisis}: nuclear_{side} of {actor_id} on {start} is {flag}; the table of section 11 gives {expected}"
        )


def test_every_row_names_its_trigger() -> None:
    for row in ROWS:
        source = row["source"].strip()
        assert source, f"{row['crisis']}: empty source"
        assert re.match(r"trigger: \S", source), f"{row['crisis']}: source does not begin with 'trigger: '"


def test_no_reserved_crisis_is_named() -> None:
    text = COVARIATES.read_text(encoding="utf-8")
    assert not reserved_hits(text), f"{COVARIATES.name} names a reserved crisis: {reserved_hits(text)}"
