"""``dipsim run``, ``validate`` and ``schema``: one scenario file in, a run, a verdict or a schema out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.cli.exits import EXIT_OK
from sim.loading import DEFAULT_SCENARIO, json_schema, load_scenario, parse_set
from sim.messages import ScenarioError
from sim.scenario import Scenario
from sim.size import scenario_estimate


def load(config: str | None, sets: list[str], max_steps: int | None = None) -> Scenario:
    """Read, override and validate a scenario, as ``load_scenario`` does (the file is the user's own:
    short values appear in messages). Warn on stderr when a run of at most ``max_steps`` steps would
    need more memory or time per step than ``sim.size`` states as the limits."""
    path = Path(config) if config is not None else DEFAULT_SCENARIO
    try:
        overrides = parse_set(sets)
    except ValueError as exc:
        raise ScenarioError(str(path), [("--set", str(exc).removeprefix("--set "))]) from None
    scenario = load_scenario(path, overrides)
    if (warning := scenario_estimate(scenario, max_steps).warning(str(path))) is not None:
        print(warning, file=sys.stderr, flush=True)
    return scenario


def cmd_run(args: argparse.Namespace) -> int:
    scenario = load(args.config, args.set, args.steps)
    from sim.cli.timeline import format_timeline  # a run's imports (Mesa, pandas): not validate's
    from sim.model import DiplomacyModel

    model = DiplomacyModel(config=scenario, rng=args.seed)
    result = model.run(args.steps)
    if args.json:
        print(result.to_json())
    else:
        print(format_timeline(model, result))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    load(args.config, args.set)
    print("ok")
    return EXIT_OK


def schema_text(experiment: bool = False) -> str:
    """The JSON Schema of scenario files (``configs/scenario.schema.json``) or of experiment files
    (``configs/experiments/experiment.schema.json``)."""
    if experiment:
        from experiments.spec import ExperimentSpec

        schema = ExperimentSpec.model_json_schema()
    else:
        schema = json_schema()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def cmd_schema(args: argparse.Namespace) -> int:
    text = schema_text(args.experiment)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK
