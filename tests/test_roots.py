"""What the browser app may open (``sim.viz.roots``): paths under a root after following links, and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.loading import BUNDLED_CONFIGS, DEFAULT_SCENARIO
from sim.options import ROOTS_ENV
from sim.viz.roots import MAX_SHOWN, OutsideRoots, Roots, server_roots


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """A root holding a file, a link to a file outside it and a link to a folder outside it."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "inside.yaml").write_text("id: x\n", encoding="utf-8")
    (outside / "secret.yaml").write_text("password: hunter2\n", encoding="utf-8")
    (root / "link.yaml").symlink_to(outside / "secret.yaml")
    (root / "linkdir").symlink_to(outside)
    return {"root": root, "outside": outside}


def test_a_path_under_a_root_is_allowed_and_comes_back_resolved(tree: dict[str, Path]) -> None:
    roots = Roots((tree["root"],))
    assert roots.check(tree["root"] / "inside.yaml") == tree["root"] / "inside.yaml"
    assert roots.check(tree["root"] / "sub" / ".." / "inside.yaml") == tree["root"] / "inside.yaml"
    assert roots.check(tree["root"]) == tree["root"]  # the root itself (a sweep folder may be one)
    assert roots.check(tree["root"] / "not yet there.yaml") == tree["root"] / "not yet there.yaml"


@pytest.mark.parametrize(
    "path",
    [
        "{root}/../outside/secret.yaml",  # .. out of the root
        "{outside}/secret.yaml",  # an absolute path elsewhere
        "{root}/link.yaml",  # a link under the root to a file outside
        "{root}/linkdir/secret.yaml",  # a link under the root to a folder outside
        "{root}/linkdir",
        "{root}x/inside.yaml",  # a sibling whose name starts with the root's (not under it)
        "/etc/passwd",
        "{root}/\0.yaml",  # not a usable path at all
    ],
)
def test_paths_leading_out_are_refused_with_a_plain_message(tree: dict[str, Path], path: str) -> None:
    typed = path.format(**tree)
    with pytest.raises(OutsideRoots) as exc:
        Roots((tree["root"],)).check(typed, hint=", or upload the file")
    msg = str(exc.value)
    assert msg.startswith(f"{typed} is outside the folders this page may open: {tree['root']}; ")
    assert msg.endswith("start dipsim viz with --root DIR to allow it, or upload the file")
    assert "hunter2" not in msg and "secret.yaml" not in msg.replace(typed, "")  # never the target


def test_a_link_loop_is_refused_not_raised(tree: dict[str, Path]) -> None:
    (tree["root"] / "loop").symlink_to(tree["root"] / "loop")
    with pytest.raises(OutsideRoots):
        Roots((tree["outside"],)).check(tree["root"] / "loop")


def test_a_long_path_is_cut_in_the_message(tree: dict[str, Path]) -> None:
    typed = "/x" * 5_000  # 10,000 characters, 80 times what a message shows
    with pytest.raises(OutsideRoots) as exc:
        Roots((tree["root"],)).check(typed)
    assert len(str(exc.value)) < MAX_SHOWN + 200 + len(str(tree["root"]))


def test_named_files_are_allowed_alone(tree: dict[str, Path]) -> None:
    roots = Roots((tree["root"],)).with_files([tree["outside"] / "secret.yaml"])
    assert roots.check(tree["outside"] / "secret.yaml") == tree["outside"] / "secret.yaml"
    assert roots.check(tree["root"] / "link.yaml") == tree["outside"] / "secret.yaml"  # it, by any name
    (tree["outside"] / "other.yaml").write_text("x: 1\n", encoding="utf-8")
    with pytest.raises(OutsideRoots):
        roots.check(tree["outside"] / "other.yaml")  # not its neighbours


def test_server_roots_are_configs_the_working_directory_and_the_environment(
    tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree["root"])
    roots = server_roots({})
    assert roots.folders == (BUNDLED_CONFIGS, tree["root"])
    assert roots.check(DEFAULT_SCENARIO) == DEFAULT_SCENARIO
    assert roots.check("inside.yaml") == tree["root"] / "inside.yaml"  # relative to the working directory
    with pytest.raises(OutsideRoots):
        roots.check(tree["outside"] / "secret.yaml")
    extra = server_roots({ROOTS_ENV: f"{tree['outside']}{os.pathsep}{tree['root']}"})
    assert extra.folders == (BUNDLED_CONFIGS, tree["root"], tree["outside"])
    assert extra.check(tree["outside"] / "secret.yaml") == tree["outside"] / "secret.yaml"


def test_a_working_directory_at_the_filesystem_root_opens_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    assert server_roots({}).folders == (BUNDLED_CONFIGS,)
    with pytest.raises(OutsideRoots):
        server_roots({}).check("etc/passwd")
    assert server_roots({ROOTS_ENV: "/"}).check("/etc/passwd") == Path("/etc/passwd")  # asked for: allowed
