"""One run of a sweep and a chunk of runs, as the workers execute them, and the columns of their rows.

``run_one`` runs one seeded replication of a point and returns its row, ``run_chunk`` several in one worker
task; ``path_columns`` and ``run_schema`` give the point columns added to each row and the Arrow schema of
every part file (docs/experiments.md). Kept apart from the orchestration (``experiments.sweep``) because it
is the whole of what a worker process imports to do its work: the fork server preloads this module.
"""

from __future__ import annotations

import functools
import json
import math
import time
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from experiments.spec import canonical
from experiments.store import RUN_FIELDS_AFTER, RUN_FIELDS_BEFORE
from sim.loading import load_scenario
from sim.model import DiplomacyModel
from sim.scenario import Scenario

if TYPE_CHECKING:
    from experiments.spec import LoadedExperiment


@functools.lru_cache(maxsize=64)
def _scenario(path: str, overrides_key: str) -> Scenario:
    """The base scenario at ``path`` with the overrides applied and validated, cached per worker process.

    ``overrides_key`` is the canonical JSON of the overrides (their order does not matter to
    ``apply_overrides``)."""
    return load_scenario(path, json.loads(overrides_key))


def run_one(scenario_path: str, overrides: dict[str, Any], seed: int, horizon: int | None) -> dict[str, Any]:
    """Run one seeded replication and return its row (the run's own columns of docs/experiments.md).

    Returns ``seed``, ``outcome``, ``escalated``, ``escalation_step``, ``escalation_date``, ``escalation_actor``,
    ``escalation_target``, ``max_rung``, ``max_rung_score``, ``agreed_issues``, ``steps_run``, ``wall_time`` and
    ``error``; the sweep adds
    ``point_id``, ``replication``, ``set`` and the path columns. Any exception (loading the overridden
    scenario, building or running the model) gives a row with ``error = "Type: message"`` instead of raising.
    """
    t0 = time.perf_counter()
    model: DiplomacyModel | None = None
    try:
        scenario = _scenario(str(scenario_path), canonical(overrides))
        model = DiplomacyModel(scenario, rng=int(seed))
        res = model.run(horizon)
        esc = res.escalation
        row: dict[str, Any] = {
            "seed": int(seed),
            "outcome": res.outcome,
            "escalated": bool(res.escalated),
            "escalation_step": float(esc["step"]) if esc else math.nan,
            "escalation_date": str(esc["date"]) if esc else None,
            "escalation_actor": str(esc["actor"]) if esc else None,
            "escalation_target": str(esc["target"]) if esc else None,
            "max_rung": str(res.max_rung["id"]),
            "max_rung_score": float(res.max_rung["score"]),
            "agreed_issues": ",".join(sorted({str(a["issue"]) for a in res.agreements})),
            "steps_run": int(res.steps_run),
            "error": None,
        }
    except Exception as exc:  # noqa: BLE001 - one failing run must never stop the sweep
        row = {
            "seed": int(seed),
            "outcome": None,
            "escalated": None,
            "escalation_step": math.nan,
            "escalation_date": None,
            "escalation_actor": None,
            "escalation_target": None,
            "max_rung": None,
            "max_rung_score": math.nan,
            "agreed_issues": None,
            "steps_run": int(getattr(model, "day", 0) or 0),
            "error": f"{type(exc).__name__}: {exc}",
        }
    row["wall_time"] = time.perf_counter() - t0
    return row


def run_chunk(tasks: list[tuple[str, int, str, dict[str, Any], int, int | None]]) -> list[dict[str, Any]]:
    """Run several runs in one worker task: ``(point_id, replication, scenario_path, overrides, seed, horizon)``."""
    return [
        {"point_id": pid, "replication": int(rep), **run_one(path, overrides, seed, horizon)}
        for pid, rep, path, overrides, seed, horizon in tasks
    ]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


_ABSENT = object()


def path_columns(exp: LoadedExperiment) -> tuple[dict[str, pa.DataType], list[dict[str, Any]]]:
    """The type of each path column (float if every value is a number, else JSON text) and each point's values.

    A point that does not set a path (the ``points`` sampler) has null there; a value of null (e.g. a venue
    removed) is the JSON text ``null``.
    """
    types: dict[str, pa.DataType] = {}
    for path in exp.paths:
        values = [p.overrides.get(path, _ABSENT) for p in exp.points]
        present = [v for v in values if v is not _ABSENT]
        types[path] = pa.float64() if present and all(_is_number(v) for v in present) else pa.string()
    statics = []
    for p in exp.points:
        static: dict[str, Any] = {"set": canonical(p.overrides)}
        for path, typ in types.items():
            v = p.overrides.get(path, _ABSENT)
            if v is _ABSENT:
                static[path] = None
            elif typ == pa.float64():
                static[path] = float(v)
            else:
                static[path] = json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)
        statics.append(static)
    return types, statics


def run_schema(path_types: dict[str, pa.DataType]) -> pa.Schema:
    """The Arrow schema of the per-run rows (every part file has exactly this schema)."""
    return pa.schema([*RUN_FIELDS_BEFORE, *path_types.items(), *RUN_FIELDS_AFTER])
