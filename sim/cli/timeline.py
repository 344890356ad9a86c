"""A run's records as a readable timeline: venues, agreements and rung changes in date order, then the outcome."""

from __future__ import annotations

from typing import Any

from sim.model import DiplomacyModel
from sim.result import RunResult


def _num(x: Any) -> str:
    return f"{x:.2f}" if isinstance(x, int | float) and not isinstance(x, bool) else str(x)


def _names(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def format_timeline(model: DiplomacyModel, result: RunResult) -> str:
    """A readable timeline of a run: venues, agreements and rung changes in date order, then the outcome."""
    sc = model.config
    lines = [
        f"{sc.name} ({sc.id})",
        f"seed {result.seed}, {result.steps_run} step(s) run, {sc.calendar.start} .. {result.final_date}",
        "",
    ]
    # (date, order within a date, text): venues and their agreements first, then rung changes.
    entries: list[tuple[str, int, int, list[str]]] = []
    for n, v in enumerate(model.venue_log):
        block = [f"{v['date']}  VENUE {v['name']} [{v['id']}]: {_names(v['participants'])}"]
        if not v["proposals"]:
            block.append("    (nothing left to propose)")
        for p in v["proposals"]:
            package = ", ".join(f"{k}={_num(x)}" for k, x in p["package"].items()) or "(empty)"
            verdict = "ADOPTED" if p["adopted"] else "not adopted"
            block.append(
                f"    {p['proposer']} proposes {package} ({p['legal_form']}); "
                f"accepted: {_names(p['accepted_by'])}; rejected: {_names(p['rejected_by'])}; {verdict}"
            )
        entries.append((v["date"], 0, n, block))
    for n, a in enumerate(model.agreements):
        text = f"{a['date']}  AGREEMENT on {a['issue']} = {_num(a['value'])} at {a['venue']} ({_names(a['parties'])})"
        entries.append((a["date"], 1, n, [text]))
    # Rung changes on one date by one actor between the same two rungs share a line.
    moves: dict[tuple[str, str, str, str], list[str]] = {}
    for e in model.escalation_log:
        moves.setdefault((e["date"], e["actor"], e["from"], e["to"]), []).append(e["target"])
    for n, ((date, actor, frm, to), targets) in enumerate(moves.items()):
        entries.append((date, 2, n, [f"{date}  RUNG {actor} -> {', '.join(targets)}: {frm} -> {to}"]))
    entries.sort(key=lambda x: x[:3])
    for *_, block in entries:
        lines.extend(block)
    if not entries:
        lines.append("(no venues, agreements or rung changes)")
    lines.append("")
    esc = result.escalation
    esc_text = f"{esc['actor']}->{esc['target']} ({esc['rung']}, {esc['date']})" if esc else "none"
    lines.append(
        f"OUTCOME: {result.outcome} on {result.final_date}; escalation: {esc_text}; "
        f"max rung: {result.max_rung['id']} ({_num(result.max_rung['score'])})"
    )
    return "\n".join(lines)
