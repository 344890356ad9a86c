"""``dipsim explain [CONFIG] [--seed N] [--set PATH=VALUE ...] [--only KIND ...] [--json]``: a run's decisive
moments (each climb up the ladder, each refusal at a venue, each acceptance that made an agreement), each
decision taken apart into its terms, the margin they sum to, and the single change that would have flipped it
(``sim.explain``; docs/ODD.md section 7.18)."""

from __future__ import annotations

import argparse
import json

from sim.cli.commands import load
from sim.cli.exits import EXIT_OK
from sim.explain import KINDS, Moment, decisive_moments

NOTE = (
    "Terms sum to the margin: the signed distance of the decisive quantity from its threshold (a climb: the net "
    "war value against the rung's threshold; an answer: the package's value against what it had to beat; a "
    "package that crosses a red line or leaves out a linked issue is refused whatever its margin). A flip is one "
    "input changed alone, the decision re-made by the model's rule; the smallest change is suggested (for a sum, "
    "every term needs the same change; the first listed that can take it is shown)."
)


def format_moment(m: Moment) -> list[str]:
    """One decisive moment as text: a heading, the terms, the margin and the suggested flip."""
    lines = [m.heading()]
    if m.blocks:
        lines.append(f"    blocked: {'; '.join(m.blocks)} (the margin below is the value margin)")
    width = max([len(t.name) for t in m.terms] + [6])
    lines += [f"    {t.name:<{width}}  {t.value:+.6f}" for t in m.terms]
    lines.append(f"    {'margin':<{width}}  {m.margin:+.6f}")
    lines.append(f"    flip: {m.flip_text()}")
    return lines


def cmd_explain(args: argparse.Namespace) -> int:
    scenario = load(args.config, args.set)
    from sim.model import DiplomacyModel  # a run's imports (Mesa, pandas): not at parse time

    model = DiplomacyModel(config=scenario, rng=args.seed, explain=True)
    result = model.run()
    moments = decisive_moments(model, tuple(args.only) if args.only else KINDS)
    if args.json:
        out = {
            "scenario": result.scenario,
            "config_sha256": result.config_sha256,
            "seed": result.seed,
            "outcome": result.outcome,
            "final_date": result.final_date,
            "moments": [m.to_dict() for m in moments],
        }
        print(json.dumps(out, sort_keys=True, indent=2, ensure_ascii=False))
        return EXIT_OK
    lines = [
        f"{scenario.name} ({scenario.id}), seed {result.seed}: {result.outcome} on {result.final_date}; "
        f"{len(moments)} decisive moment(s)",
        "",
    ]
    for m in moments:
        lines += [*format_moment(m), ""]
    if not moments:
        lines += ["(no climb, refusal or agreement)", ""]
    lines.append(NOTE)
    print("\n".join(lines))
    return EXIT_OK
