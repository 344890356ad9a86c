"""``dipsim viz --root`` and ``--token``: what the command passes to the server it becomes, and what it refuses
before starting (issue 8, items 1 and 3). The servers themselves are tested in test_browser_security.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.cli import main
from sim.cli.viz import viz_command, viz_token
from sim.options import ROOTS_ENV, TOKEN_ENV
from sim.viz.serve import main as serve_main

GOOD_TOKEN = "a-token-of-20-chars_"


def test_loopback_is_served_by_solara_run_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "")  # set but empty: no token
    assert viz_token(None, "127.0.0.1") is None and viz_token(None, "localhost") is None
    argv, env = viz_command(None, "127.0.0.1", 8123, token=None)
    assert argv[1:5] == ["-m", "solara", "run", "sim.viz.app"] and TOKEN_ENV not in env


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "my-laptop.local"])
def test_beyond_loopback_a_token_is_made(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    first, second = viz_token(None, host), viz_token(None, host)
    assert first and second and first != second and len(first) >= 32


def test_a_given_token_wins_from_the_flag_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment-0123")
    assert viz_token(None, "0.0.0.0") == "from-the-environment-0123"
    assert viz_token(None, "127.0.0.1") == "from-the-environment-0123"  # given on loopback: checked there too
    assert viz_token(GOOD_TOKEN, "0.0.0.0") == GOOD_TOKEN


def test_a_guarded_server_is_sim_serve_with_the_token_in_its_environment_only() -> None:
    argv, env = viz_command(None, "0.0.0.0", 8123, token=GOOD_TOKEN)
    assert argv[1:] == ["-m", "sim.viz.serve", "--host", "0.0.0.0", "--port", "8123"]
    assert env[TOKEN_ENV] == GOOD_TOKEN and GOOD_TOKEN not in " ".join(argv)  # `ps` shows argv, not env


def test_roots_are_passed_resolved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ROOTS_ENV, "stale")
    _, env = viz_command(None, "127.0.0.1", 8123)
    assert ROOTS_ENV not in env
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path)
    _, env = viz_command(None, "127.0.0.1", 8123, roots=["a", str(tmp_path / "a" / ".." / "b")])
    assert env[ROOTS_ENV].split(os.pathsep) == [str(tmp_path / "a"), str(tmp_path / "b")]


@pytest.mark.parametrize("token", ["short", "has space in it 0123456", "semi;colon;0123456789", "é" * 20])
def test_a_token_that_cannot_travel_in_a_url_or_cookie_is_refused(token: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["viz", "--host", "0.0.0.0", "--token", token, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--token" in err and "at least 16" in err and "Traceback" not in err


def test_a_missing_root_is_refused_before_starting(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["viz", "--root", str(tmp_path / "nowhere"), "--port", "0"]) == 2
    assert f"{tmp_path / 'nowhere'}: --root: no such folder" in capsys.readouterr().err


def test_sim_serve_refuses_to_start_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert serve_main(["--host", "0.0.0.0", "--port", "0"]) == 2
    assert TOKEN_ENV in capsys.readouterr().err
