"""Experiment files: their schema, validation, design points and per-run seeds.

An experiment names a base scenario, the config values to vary (by the same paths as
``dipsim run --set``), how to sample them (grid, named points, Latin hypercube, Sobol or Morris
through SALib), how many replications to run and an experiment seed. ``load_experiment`` validates
all of it, including every point's overrides against the scenario schema, before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.loading import BUNDLED_CONFIGS, apply_overrides, validate_raw
from sim.messages import MAX_VALUE_CHARS, ScenarioError, cut, path_str, value_text
from sim.scenario import Scenario
from sim.yamlio import read_raw

Ident = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AdaptiveSpec(_Strict):
    """Replicate in batches until the Wilson 95% interval's half-width is at most ``half_width``."""

    half_width: Annotated[float, Field(gt=0.0, le=0.5)]
    min: Annotated[int, Field(ge=1, le=1_000_000)] = 50
    batch: Annotated[int, Field(ge=1, le=1_000_000)] = 25
    max: Annotated[int, Field(ge=1, le=1_000_000)] = 1000

    @model_validator(mode="after")
    def _order(self) -> AdaptiveSpec:
        if self.max < self.min:
            raise ValueError("max must be at least min")
        return self


class Replications(_Strict):
    fixed: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    adaptive: AdaptiveSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> Replications:
        if (self.fixed is None) == (self.adaptive is None):
            raise ValueError("give exactly one of fixed or adaptive")
        return self


class NamedPoint(_Strict):
    name: Ident
    set: dict[str, Any] = Field(default_factory=dict)


class Design(_Strict):
    sampler: Literal["grid", "points", "lhs", "sobol", "morris"]
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] | None = None
    points: Annotated[list[NamedPoint], Field(min_length=1)] | None = None
    ranges: dict[str, tuple[float, float]] | None = None
    samples: Annotated[int, Field(ge=1, le=100_000)] | None = None
    levels: Annotated[int, Field(ge=2, le=100)] = 4
    calc_second_order: bool = False

    def errors(self) -> list[tuple[str, str]]:
        """Every problem with the fields the sampler needs or does not use, as (field path, problem)."""
        need = {"grid": ["grid"], "points": ["points"]}.get(self.sampler, ["ranges", "samples"])
        out = [(f"design.{f}", f"sampler {self.sampler!r} needs it") for f in need if getattr(self, f) is None]
        unused = {"grid", "points", "ranges", "samples"} - set(need)
        out += [(f"design.{f}", f"not used by sampler {self.sampler!r}") for f in sorted(unused) if getattr(self, f)]
        for path, (lo, hi) in (self.ranges or {}).items():
            if not lo < hi:
                out.append((f"design.ranges.{path}", f"empty range [{lo}, {hi}]"))
        if self.ranges == {} or self.grid == {}:
            out.append((f"design.{need[0]}", "names no path"))
        if self.points is not None:
            names = [p.name for p in self.points]
            out += [(f"design.points.{n}", "name used twice") for n in sorted({n for n in names if names.count(n) > 1})]
        if self.sampler == "sobol" and self.samples and self.samples & (self.samples - 1):
            out.append(("design.samples", f"{self.samples}: Sobol sampling needs a power of 2"))
        return out


class ExperimentSpec(_Strict):
    id: Ident
    description: str = ""
    scenario: str = Field(description="Base scenario file, relative to the experiment file or to configs/.")
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    horizon: Annotated[int, Field(ge=1, le=100_000)] | None = None
    replications: Replications
    design: Design
    set: dict[str, Any] = Field(default_factory=dict, description="Overrides applied to every point.")
    paired: bool = Field(
        default=False,
        description="Every point runs the same seeds (replication r of each point gets one seed: common random "
        "numbers), so that points compare run by run (McNemar).",
    )


# --------------------------------------------------------------------------- points and seeds


def canonical(overrides: dict[str, Any]) -> str:
    """Canonical JSON of an overrides dict: keys sorted, compact."""
    return json.dumps(overrides, sort_keys=True, separators=(",", ":"), default=str)


def point_id(overrides: dict[str, Any]) -> str:
    """A point's id: the first 16 hex digits of the SHA-256 of its canonical overrides."""
    return hashlib.sha256(canonical(overrides).encode()).hexdigest()[:16]


#: The point key of every run's seed in a paired experiment (``paired: true``): one stream for all points.
PAIRED_KEY = "0" * 16


def run_seed(experiment_seed: int, pid: str, replication: int) -> int:
    """The seed of one run, from the experiment seed, the point and the replication (SeedSequence)."""
    state = np.random.SeedSequence(entropy=experiment_seed, spawn_key=(int(pid, 16), replication)).generate_state(
        2, np.uint32
    )
    return int(state[0]) | (int(state[1]) & 0x7FFFFFFF) << 32


@dataclass(frozen=True)
class Point:
    point_id: str
    name: str | None
    overrides: dict[str, Any]  # the experiment's `set` updated with the point's own values


@dataclass(frozen=True)
class Adaptive:
    half_width: float
    min: int
    batch: int
    max: int


@dataclass
class LoadedExperiment:
    """A validated experiment, ready to run."""

    path: Path
    sha256: str
    id: str
    seed: int
    horizon: int | None
    scenario_path: Path
    scenario: Scenario
    points: list[Point]
    paths: list[str]
    fixed: int | None
    adaptive: Adaptive | None
    sampler: str
    salib_problem: dict[str, Any] | None
    salib_X: np.ndarray | None
    calc_second_order: bool
    design_point_ids: list[str] | None  # for sobol/morris: the point of each row of salib_X (rows may repeat)
    paired: bool = False

    def seed_of(self, pid: str, replication: int) -> int:
        """The seed of a run: from the point and the replication, or (paired) from the replication alone."""
        return run_seed(self.seed, PAIRED_KEY if self.paired else pid, replication)


#: Points an experiment may define unless the caller raises the limit (``dipsim sweep --max-points N``): every
#: point is validated against the scenario schema before anything runs (milliseconds each), so a design far
#: larger would check silently for minutes before its first run.
MAX_POINTS = 10_000
#: Runs an experiment may plan (points x fixed replications, or x the adaptive maximum) unless the caller raises
#: the limit (``dipsim sweep --max-runs N``): the sweep's plan (``experiments.plan``) keeps one byte per possible
#: run (10 MB at the limit, where 10,000 points x 10^6 replications would need 10 GB), and the report reads every
#: run's row (about 100 bytes each in memory: 1 GB at the limit).
MAX_RUNS = 10_000_000


def design_size(design: Design) -> int:
    """The number of design rows (points, before duplicates are dropped) ``design`` expands to, without
    expanding it: the product of the grid's lengths, the named points, or SALib's sample count (lhs: N; sobol:
    N(2D + 2) with second-order indices, else N(D + 2); morris: N(D + 1) trajectories' rows)."""
    if design.sampler == "grid":
        return math.prod(len(v) for v in (design.grid or {}).values())
    if design.sampler == "points":
        return len(design.points or [])
    n, d = design.samples or 0, len(design.ranges or {})
    if design.sampler == "lhs":
        return n
    if design.sampler == "sobol":
        return n * (2 * d + 2 if design.calc_second_order else d + 2)
    return n * (d + 1)


def _size_error(design: Design, max_points: int | None) -> tuple[str, str] | None:
    """(field, problem) when the design has more points than ``max_points`` (None: no limit)."""
    size = design_size(design)
    if max_points is None or size <= max_points:
        return None
    field = {"grid": "design.grid", "points": "design.points"}.get(design.sampler, "design.samples")
    return field, f"{size:,} points exceeds the limit of {max_points:,}; pass --max-points {size} to run it anyway"


def _design_values(design: Design, seed: int) -> tuple[list[str], list[dict[str, Any]], list[str | None], Any, Any]:
    """The varied paths, each point's values, names, and the SALib problem and sample matrix."""
    if design.sampler == "grid":
        assert design.grid is not None
        paths = list(design.grid)
        combos = itertools.product(*(design.grid[p] for p in paths))
        return paths, [dict(zip(paths, c, strict=True)) for c in combos], [], None, None
    if design.sampler == "points":
        assert design.points is not None
        paths = sorted({k for p in design.points for k in p.set})
        return paths, [dict(p.set) for p in design.points], [p.name for p in design.points], None, None
    assert design.ranges is not None and design.samples is not None
    paths = list(design.ranges)
    problem = {"num_vars": len(paths), "names": paths, "bounds": [list(design.ranges[p]) for p in paths]}
    if design.sampler == "lhs":
        from SALib.sample import latin

        X = latin.sample(problem, design.samples, seed=seed % 2**32)
    elif design.sampler == "sobol":
        from SALib.sample import sobol

        X = sobol.sample(problem, design.samples, calc_second_order=design.calc_second_order, seed=seed % 2**32)
    else:
        from SALib.sample import morris

        X = morris.sample(problem, design.samples, num_levels=design.levels, seed=seed % 2**32)
    values = [{p: float(v) for p, v in zip(paths, row, strict=True)} for row in X]
    keep = design.sampler != "lhs"
    return paths, values, [], problem if keep else None, X if keep else None


def _runs_error(spec: ExperimentSpec, max_runs: int | None) -> tuple[str, str] | None:
    """(field, problem) when the design's points times the replications (fixed, or the adaptive maximum) is
    more than ``max_runs`` (None: no limit)."""
    rep = spec.replications
    per_point = rep.fixed if rep.fixed is not None else rep.adaptive.max if rep.adaptive is not None else 0
    points = design_size(spec.design)
    runs = points * per_point
    if max_runs is None or runs <= max_runs:
        return None
    return "replications", (
        f"{runs:,} runs ({points:,} point(s) x {per_point:,} replication(s)) exceeds the limit of {max_runs:,}; "
        f"pass --max-runs {runs} to run it anyway"
    )


def load_experiment(
    path: str | Path, max_points: int | None = MAX_POINTS, max_runs: int | None = MAX_RUNS
) -> LoadedExperiment:
    """Read and validate an experiment file and every point it defines; ScenarioError on any problem.

    A design of more than ``max_points`` points, or of more than ``max_runs`` runs (points x replications),
    is refused before it is expanded (None: no limit)."""
    path = Path(path)
    raw = read_raw(path)
    file = str(path)
    try:
        spec = ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            loc = tuple(x for x in e["loc"] if not str(x).startswith(("function-", "tagged")))
            errors.append((path_str(loc, raw), e["msg"].removeprefix("Value error, ")))
        raise ScenarioError(file, errors) from None
    if spec.design.errors():
        raise ScenarioError(file, spec.design.errors())
    if (too_big := _size_error(spec.design, max_points) or _runs_error(spec, max_runs)) is not None:
        raise ScenarioError(file, [too_big])  # before a single point is expanded
    scenario_path = (path.parent / spec.scenario).resolve()
    if not scenario_path.exists() and (BUNDLED_CONFIGS / spec.scenario).exists():
        scenario_path = (BUNDLED_CONFIGS / spec.scenario).resolve()
    if not scenario_path.exists():
        raise ScenarioError(file, [("scenario", f"base scenario {value_text(spec.scenario)} not found")])
    try:
        # The base file is named inside the experiment file, not by the user: its values never appear
        # in messages (it may be any file the user can read, not a scenario).
        base_raw = read_raw(scenario_path, show_values=False)
        base = validate_raw(base_raw, str(scenario_path), show_values=False)
    except ScenarioError as exc:
        lines = [f"{exc.file}: {p}: {m}" if p else f"{exc.file}: {m}" for p, m in exc.errors]
        raise ScenarioError(file, [("scenario", line) for line in lines]) from None

    paths, values, names, problem, X = _design_values(spec.design, spec.seed)
    points: list[Point] = []
    errors: list[tuple[str, str]] = []
    seen: set[str] = set()
    row_ids: list[str] = []
    container = {"grid": "grid", "points": "points"}.get(spec.design.sampler, "ranges")

    def field_of(p: str, k: int) -> str:
        if names:
            return f"design.points.{names[k]}.set.{p}" if p in values[k] else f"design.points.{names[k]}"
        if p in paths:
            return f"design.{container}.{p}"
        return f"set.{p}" if p in spec.set else p

    for k, v in enumerate(values):
        overrides = {**spec.set, **v}
        pid = point_id(overrides)
        try:
            # Values hidden: a point's own values are in its label, any other would be the base file's.
            validate_raw(apply_overrides(base_raw, overrides, file), file, show_values=False)
        except ScenarioError as exc:
            label = ", ".join(f"{p}={cut(str(v[p]), MAX_VALUE_CHARS)}" for p in v) or "no overrides"
            for p, m in exc.errors:
                err = (field_of(p, k), f"{m} (point {label})")
                if all(e[0] != err[0] or e[1].split(" (point")[0] != m for e in errors):
                    errors.append(err)
            continue
        row_ids.append(pid)
        if pid in seen:
            if spec.design.sampler in ("grid", "points"):
                errors.append((field_of(paths[0] if paths else "", k), "the same overrides as an earlier point"))
            continue  # a sampler may repeat a design row: the point is run once
        seen.add(pid)
        points.append(Point(point_id=pid, name=names[k] if names else None, overrides=overrides))
    if errors:
        raise ScenarioError(file, errors)
    rep = spec.replications
    return LoadedExperiment(
        path=path.resolve(),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        id=spec.id,
        seed=spec.seed,
        horizon=spec.horizon,
        scenario_path=scenario_path,
        scenario=base,
        points=points,
        paths=paths,
        fixed=rep.fixed,
        adaptive=Adaptive(**rep.adaptive.model_dump()) if rep.adaptive else None,
        sampler=spec.design.sampler,
        salib_problem=problem,
        salib_X=X,
        calc_second_order=spec.design.calc_second_order,
        design_point_ids=row_ids if X is not None else None,
        paired=spec.paired,
    )
