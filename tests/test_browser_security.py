"""Browser tests of what the page refuses (issue 8, items 1 and 3), against real ``dipsim viz`` servers driven by
Debian's Chromium, as in test_browser.py (skipped, or failed under ``DIPSIM_REQUIRE_BROWSER=1``, without it):

- on loopback: paths outside the roots (elsewhere, ``..``, a link out) are refused and nothing of the target
  reaches the page; a file under a root with a secret-looking key shows the key, not its value; a scenario
  uploaded through the page runs;
- bound to 0.0.0.0: without the token the server answers 401 and refuses websockets; with it the page renders
  and steps. Tests only ever contact 127.0.0.1, whatever the server listens on.
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.loading import DEFAULT_SCENARIO, load_scenario
from sim.options import TOKEN_ENV
from tests.browser_helpers import app_page, banner, chromium, expect, free_port, load_sync_api, reset, step, viz_server

SECRET = "SECRETVALUE123"
VALIDATION = DEFAULT_SCENARIO.parent / "validation" / "fearon_p060.yaml"
TOKEN_RE = re.compile(r"http://0\.0\.0\.0:\d+/\?token=([A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The servers' working directory, and beside it a folder outside every root holding a secret."""
    base = tmp_path_factory.mktemp("security")
    work, outside = base / "work", base / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"password: {SECRET}\nkey: {SECRET}-2\n", encoding="utf-8")
    (work / "link.yaml").symlink_to(outside / "secret.yaml")
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    (work / "with_secret.yaml").write_text(f"{text}\naws_secret_access_key: {SECRET}\n", encoding="utf-8")
    shutil.copy(VALIDATION, outside / "my_upload.yaml")
    return {"work": work, "outside": outside}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(load_sync_api()) as b:
        yield b


@pytest.fixture(scope="module")
def server(browser: Any, places: dict[str, Path]) -> Iterator[str]:
    with viz_server([], places["work"], free_port()) as (url, _):
        yield url


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    with app_page(browser, server) as pg:
        yield pg


def try_path(pg: Any, typed: str) -> Any:
    """Type a scenario path, Enter, Reset; the error banner's locator."""
    box = pg.get_by_label(re.compile(r"^Scenario file path"))
    box.fill(typed)
    box.press("Enter")
    reset(pg)
    return pg.locator(".dipsim-error")


# --------------------------------------------------------------------------- roots (item 1)


def test_paths_outside_the_roots_are_refused_and_show_nothing_of_the_target(page: Any, places: dict[str, Path]) -> None:
    step(page)
    for typed in [str(places["outside"] / "secret.yaml"), "../outside/secret.yaml", "link.yaml"]:
        error = try_path(page, typed)
        expect(error).to_contain_text(f"{typed} is outside the folders this page may open")
        expect(error).to_contain_text("start dipsim viz with --root DIR to allow it, or upload the file")
        assert SECRET not in page.content()
    assert "day 1 of 57" in banner(page)  # the model shown stays
    step(page)


def test_sweep_folders_outside_the_roots_are_refused(page: Any, places: dict[str, Path]) -> None:
    page.locator(".dipsim-tab", has_text="Sweep results").click()
    box = page.get_by_label(re.compile(r"^Results folder"))
    for typed in [str(places["outside"]), "../outside", "/etc"]:
        box.fill(typed)
        box.press("Enter")
        expect(page.locator(".dipsim-error")).to_contain_text(f"{typed} is outside the folders this page may open")
    assert SECRET not in page.content()


def test_unknown_keys_of_a_file_under_a_root_are_named_without_their_values(page: Any) -> None:
    error = try_path(page, "with_secret.yaml")
    expect(error).to_contain_text("aws_secret_access_key")
    expect(error).to_contain_text("with_secret.yaml")
    assert SECRET not in page.content()


def test_a_scenario_uploaded_through_the_page_runs(page: Any, places: dict[str, Path]) -> None:
    page.locator(".dipsim-upload input[type=file]").set_input_files(str(places["outside"] / "my_upload.yaml"))
    expect(page.locator(".dipsim-upload-used")).to_contain_text("Reset runs the uploaded my_upload.yaml")
    reset(page)
    outcome = page.locator(".dipsim-outcome")
    expect(outcome).to_contain_text(load_scenario(VALIDATION).name)
    expect(outcome).to_contain_text("my_upload.yaml")
    page.get_by_role("button", name="Step", exact=True).click()  # Fearon's ultimatum: settled on its first day
    expect(outcome).to_contain_text("Agreement on 01 January 2000")
    page.get_by_role("button", name="Stop using the upload").click()
    reset(page)
    expect(outcome).to_contain_text(load_scenario(DEFAULT_SCENARIO).name)


def test_a_bad_upload_names_its_fields_not_their_values(page: Any, places: dict[str, Path]) -> None:
    bad = places["outside"] / "creds.yaml"
    shutil.copy(places["work"] / "with_secret.yaml", bad)
    page.locator(".dipsim-upload input[type=file]").set_input_files(str(bad))
    error = page.locator(".dipsim-upload .dipsim-error")
    expect(error).to_contain_text("uploaded creds.yaml")
    expect(error).to_contain_text("aws_secret_access_key")
    assert SECRET not in page.content()
    assert page.locator(".dipsim-upload-used").count() == 0


# --------------------------------------------------------------------------- the token (item 3)


def printed_token(log: str) -> str:
    """The token in the address the server printed (ValueError until it has)."""
    m = TOKEN_RE.search(log)
    if not m:
        raise ValueError("no token printed yet")
    return m.group(1)


@pytest.fixture(scope="module")
def guarded(browser: Any, places: dict[str, Path]) -> Iterator[tuple[str, str, str]]:
    """A server bound to 0.0.0.0 with the token it made itself: its URL on 127.0.0.1, the token and its log."""
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}  # no token given: the server makes one

    def query(log: str) -> str:  # the server prints its token once it has chosen it: read at each poll
        return f"?token={printed_token(log)}"

    with viz_server(["--host", "0.0.0.0"], places["work"], free_port(), env=env, query=query) as (url, log_path):
        log = log_path.read_text(errors="replace")
        yield url, printed_token(log), log


def status(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, list[str]]:
    """An HTTP GET: status, body and the cookies set."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status, r.read().decode(errors="replace"), r.headers.get_all("Set-Cookie") or []
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace"), exc.headers.get_all("Set-Cookie") or []


def test_beyond_loopback_the_server_warns_and_answers_401_without_its_token(guarded: tuple[str, str, str]) -> None:
    url, token, log = guarded
    assert "warning: listening on 0.0.0.0" in log and "token" in log
    assert len(token) >= 32
    for path in ["", "sweep", f"?token={token[:-1]}", "?token=", "jupyter/api/kernels/x"]:
        code, body, _ = status(url + path)
        assert code == 401, path
        assert "token" in body and token not in body
    code, _, _ = status(url, {"Authorization": "token wrong"})
    assert code == 401
    code, body, cookies = status(f"{url}?token={token}")
    assert code == 200 and "<html" in body.lower()
    assert any(c.startswith(f"dipsim-viz-token-{url.rsplit(':', 1)[1].strip('/')}={token};") for c in cookies)
    code, _, _ = status(url, {"Authorization": f"token {token}"})
    assert code == 200


def test_beyond_loopback_a_websocket_without_the_token_is_refused(guarded: tuple[str, str, str]) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url, token, _ = guarded
    ws = url.replace("http://", "ws://") + "jupyter/api/kernels/k1/channels?session_id=s1"
    for headers in [{}, {"Cookie": f"dipsim-viz-token-{url.rsplit(':', 1)[1].strip('/')}=wrong"}]:
        with pytest.raises(InvalidStatus) as exc:
            connect(ws, additional_headers=headers, open_timeout=30).close()
        assert exc.value.response.status_code == 403  # the 1008 close before accept, as uvicorn answers it


def test_beyond_loopback_the_page_renders_and_steps_with_the_token(browser: Any, guarded: tuple[str, str, str]) -> None:
    url, token, _ = guarded
    context = browser.new_context()
    try:
        response = context.new_page().goto(url)
        assert response.status == 401  # a browser without the token gets nothing but the refusal
    finally:
        context.close()
    with app_page(browser, f"{url}?token={token}") as pg:  # later requests and the websocket: by the cookie
        expect(pg.locator(".dipsim-outcome")).to_contain_text("day 0 of 57")
        step(pg)
        step(pg)
        assert "day 2 of 57" in banner(pg)
        pg.locator(".dipsim-tab", has_text="Sweep results").click()
        pg.locator(".dipsim-sweep-chooser").wait_for(state="visible")
