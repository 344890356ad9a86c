"""``dipsim bench --threads`` (experiments.bench_threads): a fast smoke test of its output; no speed is asserted."""

from __future__ import annotations

import re

import pytest

from experiments import bench_threads
from sim.cli import main

FIGURES = r"median [\d.]+ ms \(p10 [\d.]+, p90 [\d.]+ ms\) over 4 step\(s\)"


def test_prints_both_step_times_and_their_ratio(capsys) -> None:
    assert bench_threads.main(["--actors", "6", "--issues", "2", "--steps", "2", "--workers", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("dipsim bench --threads: 2 worker process(es) stepping at once")
    assert re.fullmatch(rf"default BLAS threads \(\d+ per process\): +{FIGURES}", lines[1]), lines[1]
    assert re.fullmatch(rf"one BLAS thread \(1 per process\): +{FIGURES}", lines[2]), lines[2]  # pinned: 1
    assert re.fullmatch(r"ratio \(default / one thread, medians\): +[\d.]+x", lines[3]), lines[3]


def test_option_values_are_checked(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_threads.main(["--steps", "0"])
    assert exc.value.code == 2 and "must be >= 1" in capsys.readouterr().err


def test_dipsim_bench_threads_passes_every_option_on(capsys) -> None:
    """``dipsim bench --threads --actors 6 ...``: the options reach bench_threads, not bench's own of that name."""
    assert main(["bench", "--threads", "--actors", "6", "--issues", "2", "--steps", "2", "--workers", "2"]) == 0
    assert "of a 6-actor/2-issue synthetic scenario" in capsys.readouterr().out


def test_dipsim_bench_threads_help_is_its_own(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--threads", "--help"])
    assert exc.value.code == 0 and "dipsim bench --threads" in capsys.readouterr().out
